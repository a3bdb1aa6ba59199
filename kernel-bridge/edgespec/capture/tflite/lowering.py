"""Lower a TFLite model (read by capture/tflite/flatbuffer.py) onto the edgespec vocabulary.

Activations stay NHWC (the layout TFLite computes in) and every 4-D tensor is declared
NHWC; weights keep TFLite's names and layouts (conv OHWI, depthwise 1HWO, fully
connected [O, I]). The rules (capture/tflite/rules.py) are a table the caller passes in; an op without a rule, or one a
rule cannot map, is recorded and the walk goes on, so all of them are reported at once.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from .hybrid import round_hybrid_input
from .flatbuffer import ACTIVATIONS, FbModel, FbOperator, FbTensor
from .index_wrap import find_index_wraps, skipped_ops
from ..lowering_base import Unmappable, UnsupportedCollector
from .variables import Variables, add_state
from .fold import fold_constant_op
from .uint8_weights import split_asymmetric_weights
from .atrous import find_atrous
from .int8 import dequantized, is_int8_model, quantization_record, uint8_as_int8
from ...errors import ModelInputError, UnsupportedOpsError
from ..graph_builder import GraphBuilder

FRAMEWORK_PREFIX = "tflite."
# framework_ops of the quantize / dequantize nodes that turn an int8 model input or output into float32
INT8_INPUT, INT8_OUTPUT = FRAMEWORK_PREFIX + "int8-input", FRAMEWORK_PREFIX + "int8-output"

# vocabulary ops that take TFLite's fused relu / relu6 as their `activation` attribute (ops.json)
TAKES_ACTIVATION = {"conv2d", "linear", "add", "sub", "mul", "div", "max_pool2d", "avg_pool2d"}


UNMAPPED = "<unmapped>"

# The TF op names (last name-scope segment, trailing numbers dropped) each TFLite builtin is converted from.
TF_OP_NAMES = {
    "CONV_2D": ("convolution", "Conv2D", "conv2d"), "DEPTHWISE_CONV_2D": ("depthwise", "DepthwiseConv2dNative"),
    "FULLY_CONNECTED": ("MatMul", "BiasAdd", "Tensordot", "matmul"), "BATCH_MATMUL": ("MatMul", "BatchMatMulV2"),
    "ADD": ("add", "Add", "AddV2", "BiasAdd"), "SUB": ("sub", "Sub"), "MUL": ("mul", "Mul"),
    "DIV": ("truediv", "RealDiv", "div"), "MAX_POOL_2D": ("MaxPool2d", "MaxPool"), "AVERAGE_POOL_2D": ("AvgPool",),
    "MEAN": ("Mean", "mean"), "SOFTMAX": ("Softmax",), "RESHAPE": ("Reshape",), "CONCATENATION": ("concat", "ConcatV2"),
    "PAD": ("Pad",), "PADV2": ("PadV", "Pad"), "RELU": ("Relu",), "RELU6": ("Relu",), "LOGISTIC": ("Sigmoid",),
    "TANH": ("Tanh",), "TRANSPOSE": ("transpose", "Transpose"), "SPLIT": ("split", "Split"),
    "SPLIT_V": ("split", "SplitV"), "GELU": ("Gelu", "gelu"), "HARD_SWISH": ("hard_swish",),
}
_TRAILING_NUMBER = re.compile(r"_?\d+$")

# integer tensors the image keeps (indices, argmax results)
INTEGER_DTYPES = ("int32", "int64")


@dataclass
class LoweredTflite:
    builder: GraphBuilder
    op_inventory: Dict[str, int]
    input_tensors: List[int]  # TFLite tensor indices, in graph input order
    output_tensors: List[int]
    int8: bool = False  # the model keeps its own int8 quantization
    hybrid: bool = False  # a float model with int8 weights (dynamic range): its reference comes from TFLite's hybrid kernels
    input_shapes: Dict[int, List[int]] = field(default_factory=dict)  # inputs resized before the interpreter allocates


def io_name(tensor_name: str) -> str:
    """serving_default_input_0:0 -> input_0 (the signature's own name for it)."""
    name = tensor_name
    if name.startswith("serving_default_"):
        name = name[len("serving_default_"):]
    return name.rsplit(":", 1)[0] if ":" in name else name


def scope_module(tensor_name: str) -> str:
    """functional_1/dense_1/MatMul;functional_1/dense_1/Relu -> functional_1.dense_1 (the op's name scope)."""
    primary = tensor_name.split(";")[-1]
    parts = primary.split("/")
    return ".".join(parts[:-1])


class TfliteLowering:
    def __init__(self, model: FbModel, rules: Mapping[str, Callable[..., None]],
                 module_namer: Callable[[str], str] = scope_module):
        self.model = model
        self.rules = rules
        self.module_namer = module_namer
        uint8 = uint8_as_int8(model)  # before the constants are taken: a legacy uint8 model's weights are uint8 too
        split = split_asymmetric_weights(model) if uint8 else 0  # its asymmetric weights, exact for int8 kernels
        self.builder = GraphBuilder("NHWC")
        self.unsupported = UnsupportedCollector()
        self.inventory: Counter = Counter()
        self.names: Dict[int, str] = {}  # TFLite tensor index -> graph tensor name
        self.constants: Dict[int, np.ndarray] = {t.index: t.constant for t in model.tensors if t.constant is not None}
        self._weights: Dict[int, str] = {}
        self.variables = Variables()  # a streaming model's resource variables (variables.py)
        self.atrous = find_atrous(model)  # SPACE_TO_BATCH_ND + conv + BATCH_TO_SPACE_ND: a dilated conv (atrous.py)
        self.index_wraps = find_index_wraps(model)  # negative-index wraps before a GATHER (index_wrap.py)
        self._wrap_ops = skipped_ops(model, self.index_wraps)
        self.op: Optional[FbOperator] = None
        self.module = ""
        self.int8 = is_int8_model(model)  # keep the model's own quantization (int8.py)
        self.hybrid = False
        self.hybrid_weights: set = set()  # TFLite indices of int8 weights read with float activations
        self.rounded_inputs = 0  # inputs rounded at run time as TFLite's hybrid kernels do (hybrid.py)
        if not self.int8:
            self._dequantize_hybrid_weights()
        if uint8:
            self.builder.notes.append(f"a uint8 model: its {uint8} uint8 tensors run as int8 with the same real values "
                                      "(codes and zero points minus 128), as TensorFlow Lite Micro runs them")
        if split:
            self.builder.notes.append(f"{split} layer{'s' if split != 1 else ''} with asymmetric uint8 weights (zero point "
                                      "not 128) read their input repeated (along channels; along the width for a "
                                      "depthwise convolution) against the weights' codes split into symmetric int8 "
                                      "parts: the same integer sums, more multiply-adds")

    # ----- the walk -----
    def run(self) -> LoweredTflite:
        if not self.int8:
            self._refuse_quantized_model()
        for index in self.model.inputs:
            tensor = self.tensor(index)
            integer = tensor.type_name in INTEGER_DTYPES  # indices, kept as the model takes them
            name = self.builder.add_tensor(tensor.name, tensor.shape, tensor.type_name if integer else "float32", "input")
            name = self.builder.add_input(self.model.signature_names.get(index) or io_name(tensor.name), name)
            self.names[index] = name
            if tensor.type_name == "int8":
                quantized = self.declare(index, ".int8")
                self._edge_node("quantize", name, quantized, INT8_INPUT)
                self.names[index] = quantized
            elif tensor.type_name != "float32" and not integer:
                raise ModelInputError(f"the TFLite model's input '{tensor.name}' is {tensor.type_name}",
                                      hint="edgespec takes float32 and int8 model inputs (and int32 or int64 indices)")
        for op in self.model.operators:
            framework_op = FRAMEWORK_PREFIX + op.op
            self.inventory[framework_op] += 1
            self.op, self.module = op, self._module_of(op)
            if fold_constant_op(self, op):  # shape arithmetic known before the model runs (fold.py)
                continue
            if op.index in self.atrous.skipped:  # the dilated convolution's own conv2d computes it (atrous.py)
                continue
            if op.index in self._wrap_ops:  # the take counts negative indices itself
                if op.outputs[0] in self.index_wraps and self.index_wraps[op.outputs[0]].indices in self.names:
                    self.names[op.outputs[0]] = self.names[self.index_wraps[op.outputs[0]].indices]
                continue
            rule = self.rules.get(op.op)
            try:
                if rule is None:
                    raise Unmappable("no edgespec op for this TFLite op")
                restore = round_hybrid_input(self, op)
                try:
                    rule(self, op)
                finally:
                    if restore is not None:
                        self.names[restore[0]] = restore[1]
            except Unmappable as e:
                self.unsupported.add(framework_op, self.module, reason=str(e))
                for index in op.outputs:  # consumers are still checked, so every problem is listed at once
                    self.names.setdefault(index, UNMAPPED)
        if self.hybrid:
            self._hybrid_note()
        try:
            self.unsupported.raise_if_any()
        except UnsupportedOpsError as e:
            e.op_inventory = dict(self.inventory)  # the trace summary still shows every op
            raise
        for index in self.model.outputs:
            if index not in self.names:
                raise ModelInputError(f"the model's output '{self.tensor(index).name}' is a constant, not computed",
                                      hint="export a model whose outputs depend on its inputs")
            result = self.names[index]
            if self.builder.tensors[result]["dtype"] == "int8":
                real = self.builder.add_tensor(self.tensor(index).name + ".real", self.tensor(index).shape, "float32",
                                               "activation")
                self._edge_node("dequantize", result, real, INT8_OUTPUT)
                result = real
            self.builder.add_output(self.model.signature_names.get(index) or io_name(self.tensor(index).name), result)
        add_state(self)
        self.builder.drop_unread_tensors()
        return LoweredTflite(self.builder, dict(self.inventory), list(self.model.inputs), list(self.model.outputs),
                             self.int8, hybrid=self.hybrid)

    def _dequantize_hybrid_weights(self) -> None:
        """A float model with int8 weights (a "hybrid" or dynamic-range model, what Optimize.DEFAULT makes
        without a representative dataset): each quantized weight becomes its real values in float32. TFLite
        computes such a model by quantizing activations on the fly; the image computes it in float32."""
        hybrid = [t for t in self.model.tensors if t.index in self.constants and t.quantized
                  and self.constants[t.index].dtype == np.int8]
        for tensor in hybrid:
            self.constants[tensor.index] = dequantized(self.constants[tensor.index], tensor).astype(np.float32)
        self.hybrid = bool(hybrid)
        self.hybrid_weights = {t.index for t in hybrid}

    def _hybrid_note(self) -> None:
        count, rounded = len(self.hybrid_weights), self.rounded_inputs
        said = (f"a dynamic-range (hybrid) model: its {count} int8 weight{'s' if count != 1 else ''} became float32 "
                f"(scale x integer), and the inputs of the {rounded} op{'s' if rounded != 1 else ''} that read them are "
                "rounded at run time as TFLite's hybrid kernels round them (quantize_dynamic): the same sums up to float "
                "rounding")
        if rounded < count:
            said += ("; ops TFLite runs hybrid that edgespec computes in float32 without that rounding (an LSTM, a "
                     "BATCH_MATMUL with adj_x, ...) differ from TFLite by about it")
        self.builder.notes.append(said)

    def _refuse_quantized_model(self) -> None:
        for index in self.model.inputs + self.model.outputs:
            tensor = self.tensor(index)
            if tensor.type_name != "float32" and tensor.type_name not in INTEGER_DTYPES:
                raise ModelInputError(
                    f"the TFLite model's {'input' if index in self.model.inputs else 'output'} '{tensor.name}' is "
                    f"{tensor.type_name}; edgespec imports float32 TFLite models",
                    hint="convert the model without quantization (TFLiteConverter with default optimizations off)")

    def _module_of(self, op: FbOperator) -> str:
        """The name scope of the TF op this TFLite op came from.

        The converter names a fused tensor after every TF op folded into it, e.g.
        `.../Conv1_relu_1/Relu6;.../bn_Conv1_1/batchnorm/add_1;.../Conv1_1/convolution`:
        the part whose TF op matches the TFLite op (`convolution` for CONV_2D) names the
        layer; otherwise the first part that names anything.
        """
        parts = [part for index in list(op.outputs) + [i for i in op.inputs if i >= 0 and i in self.constants]
                 for part in self.tensor(index).name.split(";") if part]
        hints = TF_OP_NAMES.get(op.op, ())
        preferred = [part for part in parts if _TRAILING_NUMBER.sub("", part.rsplit("/", 1)[-1]) in hints]
        for part in preferred + parts:
            module = self.module_namer(part)
            if module:
                return module
        return ""

    # ----- tensors -----
    def tensor(self, index: int) -> FbTensor:
        return self.model.tensors[index]

    def shape(self, index: int) -> List[int]:
        return list(self.tensor(index).shape)

    def is_constant(self, index: int) -> bool:
        return index >= 0 and index in self.constants

    def constant(self, index: int, what: str) -> np.ndarray:
        if not self.is_constant(index):
            raise Unmappable(f"its {what} is computed at run time; edgespec needs it constant")
        return self.constants[index]

    def value(self, index: int) -> str:
        """The graph tensor for an activation input; a constant input becomes a weight."""
        if index in self.names:
            return self.names[index]
        if self.is_constant(index):
            return self.weight(index)
        raise Unmappable(f"its input '{self.tensor(index).name}' is produced by an op edgespec could not map")

    def weight(self, index: int) -> str:
        if index not in self._weights:
            tensor, array = self.tensor(index), self.constants[index]
            quantized = self.int8 and tensor.quantized and array.dtype in (np.int8, np.int32)
            if array.dtype != np.float32 and not quantized:
                raise Unmappable(f"its constant '{tensor.name}' is {array.dtype}; "
                                 "edgespec imports float32 and int8 models")
            name = self.builder.add_weight(tensor.name, array, self.module)
            if quantized:
                self.builder.tensors[name]["quantization"] = quantization_record(tensor)
            self._weights[index] = name
        return self._weights[index]

    def real_constant(self, index: int, what: str) -> np.ndarray:
        """A constant's real values: dequantized when the model stores it quantized."""
        array = self.constant(index, what)
        tensor = self.tensor(index)
        return dequantized(array, tensor) if tensor.quantized and array.dtype in (np.int8, np.int32) else array

    def declare(self, index: int, suffix: str = "", holds_value: bool = True, integers: bool = False) -> str:
        """The activation that holds TFLite tensor `index`; `holds_value=False` for one that only shares its
        dtype and shape (e.g. a fused op's result before its fused activation). `integers`: the op may
        compute an int32 / int64 tensor (argmax; the build says which ops take them)."""
        tensor = self.tensor(index)
        if integers and tensor.type_name in INTEGER_DTYPES:
            name = self.builder.add_tensor(tensor.name + suffix, tensor.shape, tensor.type_name, "activation")
        else:
            name = self.declare_like(index, tensor.name + suffix, tensor.shape)
        if holds_value:
            self.builder.set_origin(name, index)
        return name

    def declare_like(self, index: int, wanted: str, shape: Sequence[int]) -> str:
        """A new activation with the dtype and quantization of TFLite tensor `index` (another shape allowed)."""
        tensor = self.tensor(index)
        if tensor.type_name == "int8" and self.int8:
            name = self.builder.add_tensor(wanted, shape, "int8", "activation")
            self.builder.tensors[name]["quantization"] = quantization_record(tensor)
            return name
        if tensor.type_name != "float32":
            raise Unmappable(f"it computes a {tensor.type_name} tensor '{tensor.name}'; "
                             "edgespec imports float32 and int8 models")
        return self.builder.add_tensor(wanted, shape, "float32", "activation")

    # ----- nodes -----
    def emit(self, vocab_op: str, inputs: Sequence[str], attrs: Dict[str, Any],
             fused: int = 0, output: Optional[int] = None, integers: bool = False) -> None:
        """One node for the current op; a fused activation becomes `activation` or a node after it."""
        op = self.op
        output = op.outputs[0] if output is None else output
        activation = ACTIVATIONS.get(fused, f"activation {fused}")
        if activation == "sign_bit" or activation.startswith("activation "):
            raise Unmappable(f"its fused activation {activation.upper()} has no edgespec op")
        if activation == "none" or (vocab_op in TAKES_ACTIVATION and activation in ("relu", "relu6")):
            if activation != "none":
                attrs = {**attrs, "activation": activation}
            result = self.declare(output, integers=integers)
            self.add_node(vocab_op, inputs, [result], attrs)
            self.names[output] = result
            return
        before = self.declare(output, ".pre_activation", holds_value=False)
        self.add_node(vocab_op, inputs, [before], attrs)
        after = self.declare(output)
        activation_op, activation_attrs = {"relu": ("relu", {}), "relu6": ("clamp", {"min": 0.0, "max": 6.0}),
                                           "relu_n1_to_1": ("clamp", {"min": -1.0, "max": 1.0}),
                                           "tanh": ("tanh", {})}[activation]
        self.add_node(activation_op, [before], [after], activation_attrs)
        self.names[output] = after

    def _edge_node(self, vocab_op: str, source: str, result: str, framework_op: str) -> None:
        """The quantize / dequantize that makes an int8 model input or output float32 in the bundle."""
        self.builder.add_node(f"{result}.{vocab_op}", vocab_op, [source], [result], {}, [framework_op], "", None)

    def alias(self, output: int, existing: str) -> None:
        """The op computes nothing (identity): its output is the existing tensor."""
        self.names[output] = existing

    def add_node(self, vocab_op: str, inputs: Sequence[str], outputs: Sequence[str], attrs: Dict[str, Any]) -> None:
        wanted = f"{self.module}.{vocab_op}" if self.module else vocab_op
        self.builder.add_node(wanted, vocab_op, inputs, outputs, attrs, [FRAMEWORK_PREFIX + self.op.op],
                              self.module, None)
