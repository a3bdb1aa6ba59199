"""Lower an ONNX graph (shapes inferred, all static) onto the edgespec vocabulary.

ONNX computes in NCHW like PyTorch, so 4-D tensors are declared NCHW and conv weights
stay OIHW. Initializers and Constant nodes are constants: a rule reads them as attribute
values (axes, shapes, pads) or stores them as weights under their ONNX names. The rules
(capture/onnx/rules.py) are a table the caller passes in; every op that cannot be mapped is listed at once.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..lowering_base import Unmappable, UnsupportedCollector
from ...errors import ModelInputError
from ..graph_builder import DTYPE_NAMES, GraphBuilder
from ..provenance import short_path, stack_frames

FRAMEWORK_PREFIX = "onnx."
UNMAPPED = "<unmapped>"
_TORCH_FRAME = re.compile(r"[/\\]site-packages[/\\]torch[/\\]")



@dataclass
class LoweredOnnx:
    builder: GraphBuilder
    op_inventory: Dict[str, int]
    input_names: List[str]
    output_names: List[str]


def node_module(node) -> str:
    """The PyTorch module a node came from (torch.onnx.export records it), else its name's scope."""
    props = {p.key: p.value for p in node.metadata_props}
    scopes = props.get("pkg.torch.onnx.name_scopes")
    if scopes:
        try:
            names = ast.literal_eval(scopes)
            return str(names[-2]) if len(names) >= 2 else ""
        except (ValueError, SyntaxError):
            pass
    parts = [p for p in node.name.split("/") if p]
    return ".".join(parts[:-1])


def node_source(node) -> Optional[str]:
    props = {p.key: p.value for p in node.metadata_props}
    frames = stack_frames(props.get("pkg.torch.onnx.stack_trace"))
    for path, line, _ in reversed(frames):
        if not _TORCH_FRAME.search(path):
            return f"{short_path(path)}:{line}"
    return None


INTEGER_DTYPES = ("int32", "int64")
INPUT_DTYPES = ("float32",) + INTEGER_DTYPES


class OnnxLowering:
    def __init__(self, model, shapes: Dict[str, List[int]], dtypes: Dict[str, str], constants: Dict[str, np.ndarray],
                 rules: Mapping[str, Callable[..., None]]):
        self.model = model
        self.rules = rules
        self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.shapes = shapes
        self.dtypes = dtypes
        self.constants = dict(constants)
        self.builder = GraphBuilder("NCHW")
        self.unsupported = UnsupportedCollector()
        self.inventory: Counter = Counter()
        self.names: Dict[str, str] = {}
        self._weights: Dict[str, str] = {}
        self.node = None
        self.module = ""
        self.source: Optional[str] = None
        self.pool_windows: Dict[str, Any] = {}  # a MaxPool's Indices output -> (its input, kernel) (composite_rules.py)

    def run(self) -> LoweredOnnx:
        inputs = [i.name for i in self.graph.input if i.name not in self.constants]
        for name in inputs:
            if self.dtypes.get(name) not in INPUT_DTYPES:
                raise ModelInputError(f"the ONNX model's input '{name}' is {self.dtypes.get(name)}; "
                                      "edgespec imports float32 models (and int32 or int64 indices)",
                                      hint="export the model with float32 inputs")
            tensor = self.builder.add_tensor(name, self.shapes[name], self.dtypes[name], "input")
            tensor = self.builder.add_input(name, tensor)
            self.names[name] = tensor
        for node in self.graph.node:
            framework_op = FRAMEWORK_PREFIX + node.op_type
            if node.domain not in ("", "ai.onnx"):
                framework_op = f"{FRAMEWORK_PREFIX}{node.domain}.{node.op_type}"
            self.inventory[framework_op] += 1
            self.node, self.module, self.source = node, node_module(node), node_source(node)
            try:
                rule = self.rules.get(node.op_type) if node.domain in ("", "ai.onnx") else None
                if rule is None:
                    raise Unmappable("no edgespec op for this ONNX operator")
                rule(self, node)
            except Unmappable as e:
                self.unsupported.add(framework_op, self.module, reason=str(e), source=self.source)
                for name in node.output:
                    self.names.setdefault(name, UNMAPPED)
        self.unsupported.raise_if_any()
        outputs = [o.name for o in self.graph.output]
        for name in outputs:
            if name not in self.names:
                raise ModelInputError(f"the ONNX model's output '{name}' is a constant, not computed",
                                      hint="export a model whose outputs depend on its inputs")
            if self.names[name] in [io["tensor"] for io in self.builder.inputs]:
                raise ModelInputError(f"the ONNX model's output '{name}' is its input unchanged",
                                      hint="export a model that computes its output")
            self.builder.add_output(name, self.names[name])
        self.builder.drop_unread_tensors()
        return LoweredOnnx(self.builder, dict(self.inventory), inputs, outputs)

    # ----- attributes and tensors -----
    def attr(self, node, name: str, default: Any = None) -> Any:
        import onnx

        for attribute in node.attribute:
            if attribute.name == name:
                value = onnx.helper.get_attribute_value(attribute)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def has_input(self, node, position: int) -> bool:
        return position < len(node.input) and node.input[position] != ""

    def shape(self, name: str) -> List[int]:
        if name in self.constants:
            return list(self.constants[name].shape)
        if name not in self.shapes:
            raise Unmappable(f"the shape of '{name}' is not known statically")
        return list(self.shapes[name])

    def is_constant(self, name: str) -> bool:
        return name in self.constants

    def constant(self, name: str, what: str) -> np.ndarray:
        if name not in self.constants:
            raise Unmappable(f"its {what} '{name}' is computed at run time; edgespec needs it constant")
        return self.constants[name]

    def value(self, name: str, integers: bool = False) -> str:
        """`integers`: a constant may be an int32 / int64 weight (an operand of integer arithmetic)."""
        if name in self.names:
            return self.names[name]
        if name in self.constants:
            return self.weight(name, integers=integers)
        raise Unmappable(f"its input '{name}' comes from an op edgespec could not map")

    def weight(self, name: str, array: Optional[np.ndarray] = None, stored_name: Optional[str] = None,
               integers: bool = False) -> str:
        key = stored_name or name
        if key not in self._weights:
            data = self.constants[name] if array is None else array
            if data.dtype != np.float32 and not (integers and str(data.dtype) in INTEGER_DTYPES):
                raise Unmappable(f"its constant '{name}' is {data.dtype}; edgespec stores float32 weights")
            self._weights[key] = self.builder.add_weight(key, np.ascontiguousarray(data), self.module)
        return self._weights[key]

    def declare(self, name: str, integers: bool = False) -> str:
        """`integers`: the op may compute an int32 / int64 tensor (indices, argmax results; the build
        says which ops take them)."""
        dtype = self.dtypes.get(name, "float32")
        if dtype != "float32" and not (integers and dtype in INTEGER_DTYPES):
            raise Unmappable(f"it computes a {dtype} tensor '{name}'; edgespec handles float32 activations")
        tensor = self.builder.add_tensor(name, self.shape(name), dtype, "activation")
        self.builder.set_origin(tensor, name)
        return tensor

    # ----- nodes -----
    def emit(self, vocab_op: str, inputs: Sequence[str], attrs: Dict[str, Any], output: Optional[str] = None,
             integers: bool = False) -> None:
        output = self.node.output[0] if output is None else output
        result = self.declare(output, integers)
        self.add_node(vocab_op, inputs, [result], attrs)
        self.names[output] = result

    def alias(self, output: str, existing: str) -> None:
        self.names[output] = existing

    def add_node(self, vocab_op: str, inputs: Sequence[str], outputs: Sequence[str], attrs: Dict[str, Any]) -> None:
        wanted = f"{self.module}.{vocab_op}" if self.module else vocab_op
        self.builder.add_node(wanted, vocab_op, inputs, outputs, attrs, [FRAMEWORK_PREFIX + self.node.op_type],
                              self.module, self.source)


def onnx_dtype_name(elem_type: int) -> str:
    import onnx

    try:
        name = str(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)))
    except Exception:
        return f"onnx type {elem_type}"
    return name if name in DTYPE_NAMES else name
