"""Lower a core-ATen ExportedProgram onto the edgespec vocabulary (a GraphBuilder).

Each ATen node is handled by a rule of the table the caller passes in (capture/torch/rules.py). Rules that cannot map a node record
it as unsupported and the walk goes on, so every unsupported op is reported at once.
"""
from __future__ import annotations

import operator
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.export.graph_signature import InputKind

from ...errors import DataDependentControlFlowError, ModelInputError, UnsupportedOp, UnsupportedOpsError
from ..graph_builder import DTYPE_NAMES, GraphBuilder
from ..provenance import module_path, source_line


@dataclass
class WeightRef:
    """A weight placeholder, added to the graph only when a kept node reads it."""

    name: str
    array: np.ndarray
    module: str


@dataclass
class TransposedWeight:
    """permute(weight, [1, 0]); linear absorbs it, any other reader gets a transpose node."""

    weight: WeightRef
    permute_node: Any


@dataclass
class Broadcast:
    """expand() over leading dimensions; matmul broadcasts those itself, nothing else can read it."""

    value: Any
    expand_node: Any


class Unrepresentable(Exception):
    """A value was read in a way the vocabulary cannot express; `node` is the op to blame."""

    def __init__(self, node, reason: str):
        super().__init__(reason)
        self.node = node
        self.reason = reason


@dataclass
class Lowered:
    builder: GraphBuilder
    output_tensors: List[str]


def torch_dtype_name(dtype: torch.dtype) -> Optional[str]:
    name = str(dtype).replace("torch.", "")
    return name if name in DTYPE_NAMES else None


class AtenLowering:
    def __init__(self, program, rules: Mapping[str, Callable[..., None]]):
        self.program = program
        self.rules = rules
        self.builder = GraphBuilder("NCHW")
        self.env: Dict[Any, Any] = {}
        self.unsupported: "OrderedDict[Tuple[str, str, Optional[str], Optional[str]], int]" = OrderedDict()
        self._materialized: Dict[int, str] = {}

    # ----- the walk -----
    def run(self) -> Lowered:
        self._refuse_dynamic_shapes()
        specs = {spec.arg.name: spec for spec in self.program.graph_signature.input_specs}
        output_nodes: Sequence[Any] = ()
        for node in self.program.graph.nodes:
            if node.op == "placeholder":
                self._placeholder(node, specs[node.name])
            elif node.op == "call_function":
                if node.target is operator.getitem:
                    source, index = node.args
                    self.env[node] = self.env[source][index]
                    continue
                if self._fold(node):
                    continue
                rule = self.rules.get(self.op_name(node))
                if rule is None:
                    self.refuse(node)
                    continue
                try:
                    rule(self, node, self.args_of(node))
                except Unrepresentable as e:
                    self.refuse(e.node, e.reason)
                    self.refuse(node, counted=False)
            elif node.op == "output":
                output_nodes = node.args[0]
        if self.unsupported:
            raise UnsupportedOpsError([UnsupportedOp(op, module, source, reason, count)
                                       for (op, module, source, reason), count in self.unsupported.items()])
        outputs = self._outputs(output_nodes)
        self.builder.drop_unread_tensors()
        return Lowered(self.builder, outputs)

    def _placeholder(self, node, spec) -> None:
        if spec.kind == InputKind.USER_INPUT:
            dtype = self._dtype(node, node.meta["val"].dtype)
            name = self.builder.add_tensor(node.name, self.shape_of(node), dtype, "input")
            name = self.builder.add_input(node.name, name)
            self.env[node] = name
            return
        if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
            if node.users:
                self.env[node] = self._weight(node, spec)
            return
        raise ModelInputError(f"the model takes an input of kind {spec.kind.name} ({node.name}), which edgespec cannot store",
                              hint="keep custom objects and tokens out of the captured module")

    def _weight(self, node, spec) -> WeightRef:
        target = spec.target
        if target in self.program.state_dict:
            tensor = self.program.state_dict[target]
        else:  # non-persistent buffers, tensor attributes, and tensors created in forward
            tensor = self.program.constants[target]
        if target.startswith(("lifted_tensor", "_tensor_constant")):
            module = module_path(next(iter(node.users)))
            target = f"{module}.constant.{target}" if module else f"constant.{target}"
        else:
            module = target.rsplit(".", 1)[0] if "." in target else ""
        if isinstance(tensor, torch.nn.Parameter):
            tensor = tensor.data
        dtype = torch_dtype_name(tensor.dtype)
        if dtype is None:
            raise ModelInputError(
                f"weight '{target}' is {str(tensor.dtype).replace('torch.', '')}; edgespec stores float32 weights",
                hint="convert the model with model.float() before capture")
        array = tensor.detach().to("cpu").contiguous().numpy().copy()
        return WeightRef(target, array, module)

    def _outputs(self, output_nodes) -> List[str]:
        names = []
        for index, out in enumerate(output_nodes):
            value = self.env.get(out) if isinstance(out, torch.fx.Node) else None
            if isinstance(value, TransposedWeight):
                value = self.tensor(out)
            if not isinstance(value, str) or self.builder.tensors[value]["kind"] != "activation":
                raise ModelInputError(
                    f"output {index} of the model is not computed by the model (it is an input, a weight or a constant)",
                    hint="capture a module whose outputs are computed from its inputs")
            names.append(self.builder.add_output(f"output.{index}", value))
        return names

    def _refuse_dynamic_shapes(self) -> None:
        for node in self.program.graph.nodes:
            vals = node.meta.get("val")
            for val in vals if isinstance(vals, (list, tuple)) else [vals]:
                if isinstance(val, torch.Tensor) and not all(isinstance(d, int) for d in val.shape):
                    where = source_line(node)
                    raise DataDependentControlFlowError(
                        f"the shape of the result of {self.op_name(node)}{' at ' + where if where else ''} "
                        "depends on the values in a tensor; edgespec captures graphs with fixed shapes",
                        hint="avoid boolean-mask indexing, nonzero and similar ops inside the captured module",
                        details={"source": where, "framework_op": self.op_name(node)})

    # ----- helpers for rules -----
    @staticmethod
    def op_name(node) -> str:
        return str(node.target)

    def _fold(self, node) -> bool:
        """A node computed from constants alone becomes a constant (fold_constants.py)."""
        from .fold_constants import evaluate

        value = evaluate(node, self.env, WeightRef, TransposedWeight, self.op_name(node))
        if value is None:
            return False
        if isinstance(value, list):
            self.env[node] = [WeightRef(f"{node.name}.{i}", v.detach().numpy().copy(), module_path(node)) for i, v in enumerate(value)]
        else:
            self.env[node] = WeightRef(node.name, value.detach().numpy().copy(), module_path(node))
        return True

    @staticmethod
    def args_of(node) -> Dict[str, Any]:
        """Arguments by schema name, with defaults filled in."""
        schema = getattr(node.target, "_schema", None)
        if schema is None:
            return {str(i): a for i, a in enumerate(node.args)}
        bound: Dict[str, Any] = {}
        for i, argument in enumerate(schema.arguments):
            if i < len(node.args):
                bound[argument.name] = node.args[i]
            elif argument.name in node.kwargs:
                bound[argument.name] = node.kwargs[argument.name]
            elif argument.has_default_value():
                bound[argument.name] = argument.default_value
            else:
                bound[argument.name] = None
        return bound

    def is_tensor(self, arg) -> bool:
        return isinstance(arg, torch.fx.Node)

    def shape_of(self, arg) -> List[int]:
        return [int(d) for d in arg.meta["val"].shape]

    def value(self, arg) -> Any:
        return self.env[arg]

    def tensor(self, arg) -> str:
        """The graph tensor holding `arg`, adding weights and transposes as they are first read."""
        return self.materialize(self.env[arg])

    def materialize(self, value) -> str:
        if isinstance(value, Broadcast):  # read by something other than a matmul: an expand node
            key = id(value)
            if key not in self._materialized:
                node = value.expand_node
                self._materialized[key] = self.emit(node, "expand", [self.materialize(value.value)],
                                                    {"shape": self.shape_of(node)})[0]
            return self._materialized[key]
        if isinstance(value, WeightRef):
            return self._weight_tensor(value)
        if isinstance(value, TransposedWeight):
            key = id(value)
            if key not in self._materialized:
                weight = self._weight_tensor(value.weight)
                out = self.declare(value.permute_node)
                self.builder.add_node(value.permute_node.name, "transpose", [weight], [out], {"perm": [1, 0]},
                                      ["aten.permute.default"], module_path(value.permute_node), source_line(value.permute_node))
                self._materialized[key] = out
            return self._materialized[key]
        if not isinstance(value, str):
            raise TypeError(f"{value!r} is not a tensor")
        return value

    def _weight_tensor(self, ref: WeightRef) -> str:
        if ref.name not in self.builder.weights:
            name = self.builder.add_weight(ref.name, ref.array, ref.module)
            ref.name = name
        return ref.name

    def constant(self, node, suffix: str, array: np.ndarray) -> str:
        return self.builder.add_weight(f"{node.name}.{suffix}", array, module_path(node))

    def _dtype(self, node, dtype: torch.dtype) -> str:
        name = torch_dtype_name(dtype)
        if name is None:
            raise ModelInputError(f"tensor '{node.name}' is {str(dtype).replace('torch.', '')}; edgespec handles "
                                  "float32, int8, uint8, int32, int64 and bool",
                                  hint="convert the inputs and the model to float32 (x.float(), model.float())")
        return name

    def declare(self, node, index: Optional[int] = None, wanted: Optional[str] = None) -> str:
        """Declare the activation tensor for a node's output (or output `index` of a multi-output node)."""
        val = node.meta["val"] if index is None else node.meta["val"][index]
        name = wanted or (node.name if index is None else f"{node.name}.{index}")
        tensor = self.builder.add_tensor(name, [int(d) for d in val.shape], self._dtype(node, val.dtype), "activation")
        self.builder.set_origin(tensor, (node.name, index))
        return tensor

    def getitem_users(self, node) -> Dict[int, Any]:
        return {user.args[1]: user for user in node.users if user.target is operator.getitem}

    def emit(self, node, op: str, inputs: Sequence[str], attrs: Dict[str, Any],
             framework_ops: Optional[Sequence[str]] = None, outputs: Optional[Sequence[str]] = None,
             name: Optional[str] = None) -> List[str]:
        if outputs is None:
            outputs = [self.declare(node)]
            self.env[node] = outputs[0]
        self.builder.add_node(name or node.name, op, inputs, outputs, attrs,
                              framework_ops or [self.op_name(node)], module_path(node), source_line(node))
        return list(outputs)

    def intermediate(self, node, suffix: str, op: str, inputs: Sequence[str], attrs: Dict[str, Any]) -> str:
        """An extra node that a rule needs before the node's own (e.g. the negation in scalar - x)."""
        val = node.meta["val"]
        out = self.builder.add_tensor(f"{node.name}.{suffix}", [int(d) for d in val.shape], self._dtype(node, val.dtype), "activation")
        self.emit(node, op, inputs, attrs, outputs=[out], name=f"{node.name}.{suffix}")
        return out

    def alias(self, node, arg) -> None:
        self.env[node] = self.env[arg]

    def refuse(self, node, reason: Optional[str] = None, counted: bool = True) -> None:
        if counted:
            key = (self.op_name(node), module_path(node), source_line(node), reason)
            self.unsupported[key] = self.unsupported.get(key, 0) + 1
        # keep walking: give the node's outputs placeholder values so later nodes can be checked too
        vals = node.meta.get("val")
        if isinstance(vals, (list, tuple)):
            self.env[node] = tuple(f"{node.name}.{i}" for i in range(len(vals)))
        else:
            self.env[node] = node.name


def lower_exported_program(program, rules: Mapping[str, Callable[..., None]]) -> Lowered:
    """rules: op name -> rule, the table of capture/torch/rules.py (passed in: the rules import this module)."""
    return AtenLowering(program, rules).run()
