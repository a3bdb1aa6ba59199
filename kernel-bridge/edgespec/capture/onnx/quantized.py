"""Quantized ONNX models (onnxruntime.quantization's output) rewritten as float graphs plus the
model's own int8 quantization, which the int8 build uses as given (as for an int8 .tflite).

- QOperator nodes (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...) become their QDQ form:
  DequantizeLinear of each quantized input, the float op, QuantizeLinear of the result; an op that
  moves quantized values (MaxPool, Reshape, Transpose, ...) gets the same around it.
- In QDQ form, a QuantizeLinear -> DequantizeLinear pair on a computed value is removed and the value
  keeps its scale and zero point (uint8 runs as int8 with the zero point moved down by 128, as
  TensorFlow Lite Micro runs uint8 models); a DequantizeLinear of a constant becomes the constant's
  real values, its integers kept for the build (int8 weights with zero point 0, int32 biases).
- Dynamic ("hybrid") quantization: DynamicQuantizeLinear + MatMulInteger / ConvInteger + Cast + Mul
  becomes DynamicQuantizeLinear -> DequantizeLinear (the input's run-time rounding, which the lowering
  turns into one quantize_dynamic op) -> MatMul / Conv with the weights dequantized: the image then
  computes onnxruntime's integer sums up to float rounding. DynamicQuantizeLSTM becomes an LSTM with float
  weights, marked (doc_string) so that the lowering rounds its whole input and its state before each
  step as onnxruntime does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...errors import ModelInputError

QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}
DYNAMIC_LSTM = "edgespec: a DynamicQuantizeLSTM, its input and state quantized at run time"
DYNAMIC_OPS = {"DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "DynamicQuantizeLSTM"}
# QOperator op -> (float op, positions of (value, scale, zero point) inputs, output (scale, zero point) positions)
QOPERATOR = {
    "QLinearConv": ("Conv", [(0, 1, 2)], (6, 7)),
    "QLinearMatMul": ("MatMul", [(0, 1, 2), (3, 4, 5)], (6, 7)),
    "QLinearAdd": ("Add", [(0, 1, 2), (3, 4, 5)], (6, 7)),
    "QLinearMul": ("Mul", [(0, 1, 2), (3, 4, 5)], (6, 7)),
    "QLinearSigmoid": ("Sigmoid", [(0, 1, 2)], (3, 4)),
    "QLinearLeakyRelu": ("LeakyRelu", [(0, 1, 2)], (3, 4)),
    "QLinearSoftmax": ("Softmax", [(0, 1, 2)], (3, 4)),
    "QLinearGlobalAveragePool": ("GlobalAveragePool", [(0, 1, 2)], (3, 4)),
    "QLinearAveragePool": ("AveragePool", [(0, 1, 2)], (3, 4)),
    "QLinearReduceMean": ("ReduceMean", [(0, 1, 2)], (3, 4)),
    "QGemm": ("Gemm", [(0, 1, 2)], (7, 8)),
}
# ops that move quantized values without arithmetic: their result keeps the input's scale and zero point
PASS_THROUGH = {"MaxPool", "GlobalMaxPool", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Resize",
                "Gather", "Slice", "Split", "Identity", "DepthToSpace", "SpaceToDepth", "Pad", "Expand", "Tile"}
# attributes of a QOperator op its float op does not take
_DROPPED_ATTRS = {"channels_last", "opset"}


@dataclass
class GivenWeight:
    values: np.ndarray  # int8 or int32, as the model stores them (uint8 moved down by 128)
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int


@dataclass
class Quantization:
    """What the rewrite kept: ONNX value -> (scale, int8 zero point) of each quantized activation, the
    DequantizeLinear output each was read through (onnxruntime's rounded value), constant -> integers."""
    activations: Dict[str, Tuple[float, int]] = field(default_factory=dict)
    rounded_names: Dict[str, str] = field(default_factory=dict)
    weights: Dict[str, GivenWeight] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    uint8: int = 0  # how many activations the model quantizes to uint8
    dynamic: int = 0  # how many dynamically quantized nodes became float ops
    dynamic_lstms: int = 0  # of which DynamicQuantizeLSTM

    @property
    def any(self) -> bool:
        return bool(self.activations or self.weights)


def is_quantized(model) -> bool:
    ops = {n.op_type for n in model.graph.node}
    return bool(ops & (QDQ_OPS | DYNAMIC_OPS | set(QOPERATOR) | {"QLinearConcat"}))


class _Rewrite:
    def __init__(self, model):
        from onnx import numpy_helper

        self.model = model
        self.graph = model.graph
        self.constants: Dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        for node in self.graph.node:
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                from onnx import helper

                for a in node.attribute:
                    if a.name == "value":
                        self.constants[node.output[0]] = numpy_helper.to_array(helper.get_attribute_value(a))
        self.taken = {o for n in self.graph.node for o in n.output} | set(self.constants) | {i.name for i in self.graph.input}
        self.new_initializers: Dict[str, np.ndarray] = {}

    def fresh(self, wanted: str) -> str:
        name, k = wanted, 1
        while name in self.taken:
            k += 1
            name = f"{wanted}.{k}"
        self.taken.add(name)
        return name

    def constant_value(self, name: str, what: str, node) -> np.ndarray:
        if name not in self.constants:
            raise ModelInputError(f"the {node.op_type} node '{node.name}' takes a computed {what} '{name}'; edgespec "
                                  "imports quantized models whose scales and zero points are constants",
                                  hint="quantize the model with onnxruntime.quantization.quantize_static")
        return self.constants[name]

    def add_constant(self, wanted: str, value: np.ndarray) -> str:
        name = self.fresh(wanted)
        self.constants[name] = value
        self.new_initializers[name] = value
        return name

    def finish(self, nodes: list) -> None:
        from onnx import numpy_helper

        del self.graph.node[:]
        self.graph.node.extend(nodes)
        for name, value in self.new_initializers.items():
            self.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
        self.new_initializers = {}
        drop_dead_nodes(self.model)


def _attrs(node) -> Dict[str, object]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _input(node, position: int) -> str:
    return node.input[position] if position < len(node.input) else ""


# ----- QOperator -> QDQ -----

class _ToQdq:
    """QOperator nodes rewritten into DequantizeLinear -> float op -> QuantizeLinear."""

    def __init__(self, model):
        self.rw = _Rewrite(model)
        self.quantized: Dict[str, Tuple[str, str]] = {}  # quantized value -> its (scale, zero point) names
        self.dequantized: Dict[str, str] = {}
        self.nodes: list = []
        self.count = 0

    def dq(self, value: str, scale: str, zero: str, axis: Optional[int] = None) -> str:
        from onnx import helper

        if value not in self.dequantized:
            out = self.rw.fresh(f"{value}.real")
            extra = {} if axis is None else {"axis": axis}
            self.nodes.append(helper.make_node("DequantizeLinear", [value, scale, zero] if zero else [value, scale],
                                               [out], name=f"{out}.dequantize", **extra))
            self.dequantized[value] = out
        return self.dequantized[value]

    def q(self, real: str, scale: str, zero: str, out: str) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node("QuantizeLinear", [real, scale, zero] if zero else [real, scale], [out],
                                           name=f"{out}.quantize"))
        self.quantized[out] = (scale, zero)

    def run(self) -> int:
        for node in self.rw.graph.node:
            if node.op_type == "QuantizeLinear":
                self.quantized[node.output[0]] = (node.input[1], _input(node, 2))
            if node.op_type in QOPERATOR or node.op_type == "QLinearConcat":
                self.qoperator(node)
            elif node.op_type in PASS_THROUGH and node.input and node.input[0] in self.quantized:
                self.pass_through(node)
            else:
                self.nodes.append(node)
        self.rw.finish(self.nodes)
        return self.count

    def qoperator(self, node) -> None:
        from onnx import helper

        self.count += 1
        attrs = {k: v for k, v in _attrs(node).items() if k not in _DROPPED_ATTRS}
        if node.op_type == "QLinearConcat":
            ins = [self.dq(node.input[i], node.input[i + 1], node.input[i + 2]) for i in range(2, len(node.input), 3)]
            float_op, out_scale, out_zero = "Concat", node.input[0], node.input[1]
        else:
            float_op, operands, (s, z) = QOPERATOR[node.op_type]
            ins = [self.dq(node.input[v], node.input[sc], _input(node, zp)) for v, sc, zp in operands]
            out_scale, out_zero = _input(node, s), _input(node, z)
            if node.op_type in ("QLinearConv", "QGemm"):
                ins += self.weight_and_bias(node)
        real = self.rw.fresh(f"{node.output[0]}.real")
        self.nodes.append(helper.make_node(float_op, ins, [real], name=node.name or real, **attrs))
        if out_scale:
            self.q(real, out_scale, out_zero, node.output[0])
        else:  # QGemm without an output scale computes float32
            self.nodes.append(helper.make_node("Identity", [real], [node.output[0]]))

    def weight_and_bias(self, node) -> List[str]:
        """QLinearConv's (w, w_scale, w_zero, ..., bias) / QGemm's (b, b_scale, b_zero, c) as DequantizeLinear
        outputs; the int32 bias has scale input_scale * weight_scale and zero point 0."""
        from onnx import helper

        w, ws, wz = node.input[3], node.input[4], node.input[5]
        w_scale = np.asarray(self.rw.constant_value(ws, "weight scale", node), dtype=np.float32)
        per_channel = w_scale.size > 1
        axis = 0 if node.op_type == "QLinearConv" or int(_attrs(node).get("transB", 0)) else 1
        weight = self.dq(w, ws, wz, axis if per_channel else None)
        bias = _input(node, 8 if node.op_type == "QLinearConv" else 6)
        if not bias:
            return [weight]
        x_scale = np.asarray(self.rw.constant_value(node.input[1], "input scale", node), dtype=np.float32)
        scale = self.rw.add_constant(f"{bias}.scale", (x_scale * w_scale).astype(np.float32).reshape(-1 if per_channel else ()))
        out = self.rw.fresh(f"{bias}.real")
        self.nodes.append(helper.make_node("DequantizeLinear", [bias, scale], [out], name=f"{out}.dequantize",
                                           **({"axis": 0} if per_channel else {})))
        return [weight, out]

    def pass_through(self, node) -> None:
        from onnx import helper

        self.count += 1
        scale, zero = self.quantized[node.input[0]]
        ins = [self.dq(i, *self.quantized[i]) if i in self.quantized else i for i in node.input]
        real = self.rw.fresh(f"{node.output[0]}.real")
        self.nodes.append(helper.make_node(node.op_type, ins, [real] + list(node.output[1:]), name=node.name or real,
                                           domain=node.domain, **_attrs(node)))
        self.q(real, scale, zero, node.output[0])


def qoperator_to_qdq(model) -> int:
    """Rewrites every QOperator node into its QDQ form; returns how many nodes it rewrote."""
    if not any(n.op_type in QOPERATOR or n.op_type == "QLinearConcat" for n in model.graph.node):
        return 0
    return _ToQdq(model).run()


def drop_dead_nodes(model) -> None:
    """Nodes none of whose outputs is read (by a node or as a graph output), repeatedly."""
    graph = model.graph
    while True:
        read = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        for n in graph.node:
            for a in n.attribute:
                if a.g is not None:
                    read.update(i for sub in a.g.node for i in sub.input)
        keep = [n for n in graph.node if any(o in read for o in n.output if o)]
        if len(keep) == len(graph.node):
            return
        del graph.node[:]
        graph.node.extend(keep)


# ----- dynamic quantization -> float -----

def _real(q: np.ndarray, scale: np.ndarray, zero: Optional[np.ndarray], axis: int) -> np.ndarray:
    """scale * (q - zero_point) in float32 as onnxruntime's DequantizeLinear computes it, along `axis`."""
    scale = np.asarray(scale, dtype=np.float32)
    zero = np.zeros_like(scale, dtype=np.int64) if zero is None else np.asarray(zero).astype(np.int64)
    if scale.size > 1:
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((q.astype(np.int64) - zero).astype(np.float32) * scale).astype(np.float32)


def dynamic_to_float(model) -> int:
    """DynamicQuantizeLinear(x) -> MatMulInteger / ConvInteger(x_q, w_q, x_zero, w_zero) -> Cast -> Mul(scale x
    w_scale) becomes MatMul / Conv(x, real w); DynamicQuantizeLSTM becomes LSTM. Returns how many."""
    from onnx import helper

    rw = _Rewrite(model)
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    readers: Dict[str, list] = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    replaced: Dict[int, object] = {}
    dropped: set = set()
    rounded: Dict[str, str] = {}  # DynamicQuantizeLinear output -> its DequantizeLinear (the rounded real values)
    before: Dict[int, list] = {}
    count = 0
    for node in nodes:
        if node.op_type == "DynamicQuantizeLSTM":
            replaced[id(node)] = _lstm(rw, node)
            count += 1
            continue
        if node.op_type not in ("MatMulInteger", "ConvInteger"):
            continue
        source = producer.get(node.input[0])
        cast = readers.get(node.output[0], [])
        if source is None or source.op_type != "DynamicQuantizeLinear" or len(cast) != 1 or cast[0].op_type != "Cast":
            raise ModelInputError(f"the {node.op_type} node '{node.name}' does not follow onnxruntime's dynamic "
                                  "quantization pattern (DynamicQuantizeLinear -> it -> Cast -> Mul)",
                                  hint="quantize the model with onnxruntime.quantization.quantize_dynamic")
        scaled = readers.get(cast[0].output[0], [])
        if len(scaled) != 1 or scaled[0].op_type != "Mul":
            raise ModelInputError(f"the {node.op_type} node '{node.name}' is not followed by a Cast and a Mul by its scale",
                                  hint="quantize the model with onnxruntime.quantization.quantize_dynamic")
        weight = rw.constant_value(node.input[1], "weight", node)
        w_zero = rw.constants.get(_input(node, 3)) if _input(node, 3) else None
        scale_mul = producer.get(next(i for i in scaled[0].input if i != cast[0].output[0]))
        w_scale_name = next((i for i in (scale_mul.input if scale_mul is not None else []) if i in rw.constants), None)
        if scale_mul is None or scale_mul.op_type != "Mul" or w_scale_name is None:
            raise ModelInputError(f"the scale of the {node.op_type} node '{node.name}' is not input scale x weight scale",
                                  hint="quantize the model with onnxruntime.quantization.quantize_dynamic")
        w_scale = rw.constants[w_scale_name]
        axis = 0 if node.op_type == "ConvInteger" else weight.ndim - 1
        real = rw.add_constant(f"{node.input[1]}.real", _real(weight, w_scale.reshape(-1) if w_scale.size > 1 else w_scale,
                                                             None if w_zero is None else (w_zero.reshape(-1) if w_zero.size > 1 else w_zero), axis))
        float_op = "Conv" if node.op_type == "ConvInteger" else "MatMul"
        if source.output[0] not in rounded:
            rounded[source.output[0]] = rw.fresh(f"{source.input[0]}.rounded")
            before.setdefault(id(node), []).append(helper.make_node(
                "DequantizeLinear", list(source.output[:3]), [rounded[source.output[0]]], name=rounded[source.output[0]]))
        replaced[id(node)] = helper.make_node(float_op, [rounded[source.output[0]], real], [scaled[0].output[0]],
                                              name=node.name or real, **_attrs(node))
        dropped.update({id(cast[0]), id(scaled[0])})
        count += 1
    if count:
        rw.finish([m for n in nodes if id(n) not in dropped for m in before.get(id(n), []) + [replaced.get(id(n), n)]])
    return count


def _lstm(rw: _Rewrite, node):
    """com.microsoft DynamicQuantizeLSTM(X, W, R, B, seq_lens, initial_h, initial_c, P, W_scale, W_zero_point,
    R_scale, R_zero_point): W [D, input, 4H] and R [D, H, 4H] quantized per direction (or per column)
    -> ONNX LSTM with W [D, 4H, input], R [D, 4H, H] in float32."""
    from onnx import helper

    def real(position: int, scale_at: int, zero_at: int) -> str:
        q = rw.constant_value(node.input[position], "weight", node)
        scale = np.asarray(rw.constant_value(node.input[scale_at], "weight scale", node), dtype=np.float32)
        zero = np.asarray(rw.constants[node.input[zero_at]]).astype(np.int64) if _input(node, zero_at) else np.zeros_like(scale, dtype=np.int64)
        shape = [q.shape[0], 1, -1] if scale.size > q.shape[0] else [q.shape[0], 1, 1]
        value = ((q.astype(np.int64) - zero.reshape(shape)).astype(np.float32) * scale.reshape(shape)).astype(np.float32)
        return rw.add_constant(f"{node.input[position]}.real", np.ascontiguousarray(value.transpose(0, 2, 1)))

    ins = [node.input[0], real(1, 8, 9), real(2, 10, 11)] + [_input(node, i) for i in range(3, 8)]
    while ins and not ins[-1]:
        ins.pop()
    lstm = helper.make_node("LSTM", ins, list(node.output), name=node.name or node.output[0], **_attrs(node))
    lstm.doc_string = DYNAMIC_LSTM  # the lowering rounds its input and state as onnxruntime does
    return lstm


# ----- QDQ -> float + the model's quantization -----

def _int8_zero(zero: np.ndarray) -> np.ndarray:
    """A uint8 zero point as int8 (uint8 codes run as int8: the same real values, codes moved down by 128)."""
    return zero.astype(np.int64) - 128 if zero.dtype == np.uint8 else zero.astype(np.int64)


def qdq_to_float(model) -> Quantization:
    """Removes every QuantizeLinear -> DequantizeLinear pair (the value keeps its parameters) and turns every
    DequantizeLinear of a constant into a constant (its integers kept when the int8 kernels can take them)."""
    from onnx import helper

    rw = _Rewrite(model)
    found = Quantization()
    nodes = list(model.graph.node)
    readers: Dict[str, list] = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    outputs = {o.name for o in model.graph.output}
    inputs = {i.name for i in model.graph.input if i.name not in rw.constants}
    rename: Dict[str, str] = {}
    kept: list = []
    quantize_outputs = {n.output[0] for n in nodes if n.op_type == "QuantizeLinear"}
    for node in nodes:
        if node.op_type == "DequantizeLinear" and node.input[0] in rw.constants:
            _constant_dequantize(rw, node, found)
            continue
        if node.op_type == "DequantizeLinear":
            if node.input[0] in inputs:
                raise ModelInputError(f"the ONNX model's input '{node.input[0]}' is quantized "
                                      f"({rw_dtype(model, node.input[0])}); edgespec takes float32 model inputs",
                                      hint="quantize the model keeping float inputs (onnxruntime.quantization does)")
            if node.input[0] in quantize_outputs:
                continue  # the pair's DequantizeLinear: handled with its QuantizeLinear
            kept.append(node)  # integers computed by an op edgespec has no rule for: the lowering names it
            continue
        if node.op_type != "QuantizeLinear":
            kept.append(node)
            continue
        source = node.input[0]
        scale = np.asarray(rw.constant_value(node.input[1], "scale", node), dtype=np.float32)
        zero = rw.constants.get(_input(node, 2), np.zeros((), np.uint8))
        if scale.size != 1:
            raise ModelInputError(f"the QuantizeLinear node '{node.name}' quantizes a computed value per channel; "
                                  "edgespec's int8 kernels take one scale per activation",
                                  hint="quantize activations per tensor (onnxruntime's default)")
        if np.asarray(zero).dtype not in (np.uint8, np.int8):
            raise ModelInputError(f"the QuantizeLinear node '{node.name}' quantizes to {np.asarray(zero).dtype}; "
                                  "edgespec's int8 kernels take int8 and uint8", hint="quantize activations to uint8 or int8")
        pair = readers.get(node.output[0], [])
        if node.output[0] in outputs or any(r.op_type != "DequantizeLinear" for r in pair):
            raise ModelInputError(f"the quantized value '{node.output[0]}' is read as integers "
                                  f"({', '.join(sorted({r.op_type for r in pair} | ({'a graph output'} if node.output[0] in outputs else set())))}); "
                                  "edgespec imports quantized models with float inputs and outputs whose quantized values "
                                  "are read through DequantizeLinear", hint="quantize the model with onnxruntime.quantization")
        params = (float(scale.reshape(-1)[0]), int(_int8_zero(np.asarray(zero)).reshape(-1)[0]))
        found.uint8 += int(np.asarray(zero).dtype == np.uint8)
        if source in rw.constants:  # a constant quantized at run time: its rounded value is a constant
            real = _real(np.clip(np.round(rw.constants[source] / params[0]) + params[1], -128, 127).astype(np.int64),
                         np.float32(params[0]), np.int64(params[1]), 0)
            for dq in pair:
                rw.constants[dq.output[0]] = real
                rw.new_initializers[dq.output[0]] = real
            continue
        for dq in pair:
            rename[dq.output[0]] = source
        earlier = found.activations.get(source)
        if earlier is not None and earlier != params:
            found.notes.append(f"'{source}' is quantized twice ({earlier} and {params}); the image keeps the first")
        else:
            found.activations[source] = params
            found.rounded_names[source] = pair[0].output[0] if pair else source
    # a DequantizeLinear output that is a graph output: its value is renamed into the graph output's name
    for read_name, source in list(rename.items()):
        if read_name in outputs:
            for other, target in rename.items():
                if target == source:
                    rename[other] = read_name
            kept = [_renamed_outputs(n, source, read_name) for n in kept]
            if source in found.activations:
                found.activations[read_name] = found.activations.pop(source)
                found.rounded_names[read_name] = found.rounded_names.pop(source)
            rename[read_name] = read_name
    kept = [_renamed_inputs(n, rename) for n in kept]
    rw.finish(kept)
    return found


def rw_dtype(model, name: str) -> str:
    from onnx import helper

    for value in model.graph.input:
        if value.name == name:
            return str(helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type))
    return "integer"


def _renamed_inputs(node, rename: Dict[str, str]):
    """NODE reading the renamed values, in its subgraphs too: an If's branch reads outer values by name (the
    exporter's Squeeze of a dynamically shaped axis is an If whose branches squeeze a dequantized value)."""
    for attribute in node.attribute:
        for graph in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
            for inner in graph.node:
                _renamed_inputs(inner, rename)
    if not any(i in rename for i in node.input):
        return node
    for position, name in enumerate(node.input):
        if name in rename:
            node.input[position] = rename[name]
    return node


def _renamed_outputs(node, old: str, new: str):
    for position, name in enumerate(node.output):
        if name == old:
            node.output[position] = new
    for position, name in enumerate(node.input):
        if name == old:
            node.input[position] = new
    return node


def _constant_dequantize(rw: _Rewrite, node, found: Quantization) -> None:
    """DequantizeLinear(constant integers): the constant's real values in place of the node; its integers
    kept (found.weights) when they are int8 with zero point 0 in [-127, 127], or int32 with zero point 0."""
    q = np.asarray(rw.constants[node.input[0]])
    scale = np.asarray(rw.constant_value(node.input[1], "scale", node), dtype=np.float32)
    zero = rw.constants.get(_input(node, 2))
    axis = int(_attrs(node).get("axis", 1))
    axis = axis + q.ndim if axis < 0 else axis
    if scale.size == 1:
        scale, zero, axis = scale.reshape(()), None if zero is None else np.asarray(zero).reshape(()), 0
    real = _real(q, scale, zero, axis)
    rw.constants[node.output[0]] = real
    rw.new_initializers[node.output[0]] = real
    zero8 = np.zeros(scale.shape, np.int64) if zero is None else _int8_zero(np.asarray(zero))
    values = q.astype(np.int64) - 128 if q.dtype == np.uint8 else q.astype(np.int64)
    if q.dtype in (np.int8, np.uint8) and not np.any(zero8) and values.min(initial=0) >= -127:
        found.weights[node.output[0]] = GivenWeight(values.astype(np.int8), scale.reshape(-1), zero8.reshape(-1), axis)
    elif q.dtype == np.int32 and not np.any(zero8):
        found.weights[node.output[0]] = GivenWeight(q.astype(np.int32), scale.reshape(-1), zero8.reshape(-1), axis)


def dequantize_model(model) -> Tuple[Quantization, List[str]]:
    """Rewrites a quantized model in place into a float graph; returns the quantization it keeps and the notes
    that say what happened."""
    notes: List[str] = []
    rewritten = qoperator_to_qdq(model)
    if rewritten:
        notes.append(f"a QOperator-quantized model: its {rewritten} quantized node{'s' if rewritten != 1 else ''} "
                     "(QLinearConv, QLinearAdd, ...) became float ops between DequantizeLinear and QuantizeLinear")
    lstms = sum(n.op_type == "DynamicQuantizeLSTM" for n in model.graph.node)
    dynamic = dynamic_to_float(model)
    if dynamic:
        products = dynamic - lstms
        parts = ([f"{products} MatMulInteger / ConvInteger node{'s' if products != 1 else ''} became float ops"] if products else []) \
            + ([f"{lstms} DynamicQuantizeLSTM node{'s' if lstms != 1 else ''} became LSTMs"] if lstms else [])
        notes.append(f"a dynamically quantized (hybrid) model: its {' and its '.join(parts)} on the int8 weights' real "
                     "values (scale x integer), each input (and an LSTM's state before each step) rounded at run time "
                     "as onnxruntime's DynamicQuantizeLinear rounds it (quantize_dynamic): the same sums up to float "
                     "rounding")
    found = qdq_to_float(model)
    found.notes = notes + found.notes
    found.dynamic = dynamic
    found.dynamic_lstms = lstms
    if found.activations:
        uint8 = " (uint8 run as int8: codes and zero points minus 128, the same real values)" if found.uint8 else ""
        found.notes.append(f"a statically quantized model: {len(found.activations)} activations keep the model's own "
                           f"scales and zero points{uint8}, and the image computes them with int8 kernels; onnxruntime "
                           "rounds differently in places, so the two agree within about one quantization step")
    return found, found.notes
