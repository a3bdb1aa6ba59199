"""The ONNX lowering of a quantized model (rewritten into a float graph by quantized.py), and the bundle
records of the model's own quantization, in the form the TFLite int8 import writes them (tflite/int8.py):
quantized activations int8 with a `quantization`, a float32 input followed by a `quantize` node, an int8
output followed by a `dequantize` node into the float32 output, and convolution and linear weights kept as
the model's int8 integers with int32 biases. What the int8 kernels cannot take stays float32 (real values)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from .lowering import OnnxLowering
from .quantized import GivenWeight, Quantization, _real

# framework_ops of the quantize / dequantize nodes at a quantized model's float input and output
QUANTIZED_INPUT, QUANTIZED_OUTPUT = "onnx.QuantizeLinear", "onnx.DequantizeLinear"
# vocabulary ops whose weight (input 1) and bias (input 2) the int8 kernels take as given integers
_WEIGHTED = {"conv2d", "linear"}


class QuantizedOnnxLowering(OnnxLowering):
    """OnnxLowering that remembers, for each stored weight, which quantized constant it holds and how."""

    def __init__(self, *args, quantization: Quantization, **kwargs):
        super().__init__(*args, **kwargs)
        self.quantization = quantization
        self.given: Dict[str, Tuple[np.ndarray, GivenWeight, int]] = {}  # weight tensor -> (integers, source, axis)

    def weight(self, name: str, array: Optional[np.ndarray] = None, stored_name: Optional[str] = None,
               integers: bool = False) -> str:
        result = super().weight(name, array, stored_name, integers)
        source = self.quantization.weights.get(name)
        if source is not None and result not in self.given:
            match = integers_of(self.builder.weights[result], source)
            if match is not None:
                self.given[result] = (match[0], source, match[1])
        return result


def integers_of(data: np.ndarray, given: GivenWeight) -> Optional[Tuple[np.ndarray, int]]:
    """The model's integers laid out as the stored weight `data` (the same, transposed, or reshaped), with the
    axis of its scales there; None when no layout gives exactly `data`."""
    values, axis = given.values, given.axis
    candidates: List[Tuple[np.ndarray, int]] = [(values, axis)]
    if values.ndim == 2:
        candidates.append((values.T, 1 - axis))
    if values.size == data.size and (given.scale.size == 1 or (axis == 0 and data.shape[:1] == values.shape[:1])):
        candidates.append((values.reshape(data.shape), 0 if given.scale.size > 1 else axis))
    for candidate, where in candidates:
        if candidate.shape != data.shape:
            continue
        scale = given.scale if given.scale.size > 1 else given.scale.reshape(())
        zero = given.zero_point if given.zero_point.size > 1 else given.zero_point.reshape(())
        if np.array_equal(_real(candidate, scale, zero, where), data):
            return np.ascontiguousarray(candidate), where
    return None


def record_quantization(lowering: QuantizedOnnxLowering, input_names: List[str]) -> int:
    """Writes the model's quantization into the lowered graph; returns how many activations carry it."""
    builder = lowering.builder
    found = lowering.quantization
    by_value = {origin: tensor for tensor, origin in builder.origins.items()}
    for io, name in zip(builder.inputs, input_names):
        by_value.setdefault(name, io["tensor"])
    quantized = 0
    for value, (scale, zero) in found.activations.items():
        tensor = by_value.get(value)
        if tensor is None or tensor not in builder.tensors or builder.tensors[tensor]["dtype"] != "float32":
            continue
        record = {"scale": [scale], "zero_point": [zero]}
        kind = builder.tensors[tensor]["kind"]
        if kind == "input":
            _quantize_input(lowering, tensor, record)
        elif kind == "output":
            _dequantize_output(lowering, tensor, record)
        else:
            builder.tensors[tensor].update(dtype="int8", quantization=record)
            builder.origins.pop(tensor, None)  # onnxruntime's value of it is float
        quantized += 1
    _quantize_views(builder)
    _requantizing_moves(builder)
    _record_weights(lowering)
    return quantized


# vocabulary ops that only view their input in another shape
_VIEWS = {"reshape", "squeeze", "unsqueeze", "flatten"}


def _quantize_views(builder) -> None:
    """A quantized value the lowering computes as a view of a tensor it invented (a 1-D convolution is a conv2d
    whose 4-D result is reshaped): the invented tensor holds the same values, so it is quantized alike. This
    matters beyond rounding: onnxruntime's quantizer removes a Relu after a convolution and lets the
    quantization's range [0, max] clamp it, so the value must be held in int8 where the model computes it."""
    readers: dict = {}
    for node in builder.nodes:
        for name in node["inputs"]:
            readers[name] = readers.get(name, 0) + 1
    changed = True
    while changed:
        changed = False
        for node in reversed(builder.nodes):
            if node["op"] not in _VIEWS or len(node["outputs"]) != 1:
                continue
            source, view = node["inputs"][0], node["outputs"][0]
            s, v = builder.tensors.get(source), builder.tensors.get(view)
            if (s is None or v is None or "quantization" not in v or "quantization" in s or s["kind"] != "activation"
                    or s["dtype"] != "float32" or readers.get(source, 0) != 1):
                continue
            s.update(dtype="int8", quantization=dict(v["quantization"]))
            builder.origins.pop(source, None)
            changed = True


# vocabulary ops whose int8 lowering copies codes unless the move is marked as made in float (codeCopyInt8.ts)
_CODE_MOVES = {"slice", "split", "transpose", "expand", "tile"}


def _requantizing_moves(builder) -> None:
    """A move (Slice, Split, Transpose, ...) whose quantized output has other parameters than its quantized input:
    ONNX computes it between DequantizeLinear and QuantizeLinear, so the result is rounded and clamped to the
    output's own grid (onnxruntime's QOperator quantizer writes a Slice of a QLinearConv's output that way, with
    the slice's own calibrated range). Copying the input's codes would read them in the wrong scale (the
    Silero-like VAD's imaginary half: 1.9 of 9.0 off, its LSTM state 9 %). The move writes a float32 tensor
    and a `quantize` node rounds it to the output's parameters, the float island the int8 build then computes
    as the model does."""
    for node in list(builder.nodes):
        if node["op"] not in _CODE_MOVES or not node["inputs"]:
            continue
        source = builder.tensors.get(node["inputs"][0], {}).get("quantization")
        if source is None:
            continue
        for position, out in enumerate(node["outputs"]):
            record = builder.tensors[out].get("quantization")
            if record is None or builder.tensors[out]["kind"] != "activation" or record == source:
                continue
            real = builder.add_tensor(f"{out}.real", builder.tensors[out]["shape"], "float32", "activation")
            node["outputs"][position] = real
            builder.add_node(f"{out}.quantize", "quantize", [real], [out], {}, list(node["framework_ops"]),
                             node["module"], node.get("source"))
            builder.nodes.insert(builder.nodes.index(node) + 1, builder.nodes.pop())


def _quantize_input(lowering: QuantizedOnnxLowering, tensor: str, record: dict) -> None:
    builder = lowering.builder
    quantized = builder.add_tensor(f"{tensor}.int8", builder.tensors[tensor]["shape"], "int8", "activation")
    builder.tensors[quantized]["quantization"] = record
    for node in builder.nodes:
        node["inputs"] = [quantized if n == tensor else n for n in node["inputs"]]
    builder.add_node(f"{quantized}.quantize", "quantize", [tensor], [quantized], {}, [QUANTIZED_INPUT], "", None)
    builder.nodes.insert(0, builder.nodes.pop())


def _dequantize_output(lowering: QuantizedOnnxLowering, tensor: str, record: dict) -> None:
    builder = lowering.builder
    held = builder.add_tensor(f"{tensor}.int8", builder.tensors[tensor]["shape"], "int8", "activation")
    builder.tensors[held]["quantization"] = record
    for node in builder.nodes:
        node["inputs"] = [held if n == tensor else n for n in node["inputs"]]
        node["outputs"] = [held if n == tensor else n for n in node["outputs"]]
    builder.add_node(f"{tensor}.dequantize", "dequantize", [held], [tensor], {}, [QUANTIZED_OUTPUT], "", None)


def _record_weights(lowering: QuantizedOnnxLowering) -> None:
    """Weights and biases of conv2d / linear keep their integers, in pairs the int8 kernels take: an int8
    weight (zero point 0) with an int32 bias or none. Anything else keeps its real values in float32."""
    builder = lowering.builder
    given = lowering.given
    for node in builder.nodes:
        if node["op"] not in _WEIGHTED or len(node["inputs"]) < 2:
            continue
        weight = node["inputs"][1]
        bias = node["inputs"][2] if len(node["inputs"]) > 2 else None
        if weight not in given or given[weight][0].dtype != np.int8:
            continue
        if bias is not None and (bias not in given or given[bias][0].dtype != np.int32):
            continue
        for name in [weight] + ([bias] if bias else []):
            values, source, axis = given[name]
            if builder.tensors[name]["dtype"] != "float32":
                continue  # shared by two nodes: recorded once
            record = {"scale": [float(s) for s in source.scale], "zero_point": [int(z) for z in source.zero_point]}
            if source.scale.size > 1:
                record["axis"] = axis
            builder.weights[name] = values
            builder.tensors[name].update(dtype=str(values.dtype), quantization=record)
