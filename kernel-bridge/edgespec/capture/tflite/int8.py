"""What an int8 .tflite adds to the TFLite import: its own quantization, kept as given.

A model made by the TFLite converter with full-integer quantization computes int8
tensors, each with a scale and zero point (real = scale * (q - zero_point)); weights are
int8 per output channel and biases int32 at scale input_scale * weight_scale. The bundle
keeps all of it: tensors keep dtype int8 / int32 and carry a `quantization` record
(graph.schema.json), weights stay int8 / int32 in weights.safetensors, and the build
uses these parameters instead of calibrating.

The bundle's inputs and outputs are float32 whatever the model's are: an int8 model
input becomes a float32 input followed by a `quantize` node with the input's own
parameters, an int8 output a `dequantize` node. Feeding the image scale * (q - zero_point)
is then the same as feeding q to the .tflite, and its output is the .tflite's output in
real values.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np

from .flatbuffer import FbModel, FbTensor
from ...errors import ModelInputError

# The integer types TFLite quantizes activations to that edgespec's int8 kernels cannot take (uint8
# is taken as int8, see uint8_as_int8).
_OTHER_QUANTIZED = {"int16"}


def uint8_as_int8(model: FbModel) -> int:
    """Every uint8 quantized tensor becomes the int8 tensor of the same real values, the way TensorFlow
    Lite Micro runs uint8 models: codes and zero points move down by 128 (real = scale * (q - zp) is
    unchanged). Returns how many tensors changed. A uint8 model's weights then keep their zero points
    (128 - 128 = 0 for symmetric ones); an asymmetric weight whose codes minus its zero point fit
    [-127, 127] is made symmetric exactly (symmetric_weight_codes); the convolutions and fully connected
    layers of others are rewritten exactly by uint8_weights.py."""
    changed = 0
    for tensor in model.tensors:
        if tensor.type_name == "uint8" and tensor.quantized:
            tensor.type_name = "int8"
            tensor.zero_point = [int(z) - 128 for z in tensor.zero_point]
            if tensor.constant is not None:
                tensor.constant = (tensor.constant.astype(np.int16) - 128).astype(np.int8)
                symmetric_weight_codes(tensor)
            changed += 1
    return changed


def symmetric_weight_codes(tensor: FbTensor) -> bool:
    """A TF1 fake-quant weight with an asymmetric range has a zero point other than 128 (uint8); the int8
    kernels take symmetric weights. When every code minus the zero point fits [-127, 127] (the weights do
    not use the whole range), those differences are the codes of the same real values with zero point 0:
    the accumulator sum((x - x_zp) * (w - w_zp)) is the same integer, so the result is bit-exact."""
    zero_points = np.asarray(tensor.zero_point, np.int32)
    if not zero_points.any():
        return False
    axis = tensor.axis if len(zero_points) > 1 else 0
    shape = [1] * tensor.constant.ndim
    if len(zero_points) > 1:
        shape[axis] = len(zero_points)
    shifted = tensor.constant.astype(np.int32) - zero_points.reshape(shape if len(zero_points) > 1 else [])
    if shifted.min() < -127 or shifted.max() > 127:
        return False
    tensor.constant = shifted.astype(np.int8)
    tensor.zero_point = [0] * len(zero_points)
    return True


def is_int8_model(model: FbModel) -> bool:
    """True when the model computes quantized int8 tensors; refuses other integer quantizations."""
    computed = [t for t in model.tensors if t.constant is None]
    other = sorted({t.type_name for t in computed if t.quantized and t.type_name in _OTHER_QUANTIZED})
    if other:
        raise ModelInputError(
            f"the TFLite model computes {' and '.join(other)} quantized tensors; edgespec imports float32 and int8 "
            "TFLite models",
            hint="convert with full-integer int8 quantization (target_spec.supported_ops = [TFLITE_BUILTINS_INT8]) "
                 "or without quantization")
    return any(t.type_name == "int8" and t.quantized for t in computed)


def quantization_record(tensor: FbTensor) -> Dict[str, Any]:
    """The tensor's `quantization` in graph.json (graph.schema.json#/definitions/quantization)."""
    if not tensor.quantized:
        raise ModelInputError(f"the TFLite tensor '{tensor.name}' is {tensor.type_name} without a scale and zero point",
                              hint="convert the model with the TFLite converter's int8 quantization")
    bad = [s for s in tensor.scale if not (np.isfinite(s) and s > 0)]
    if bad:
        raise ModelInputError(f"the TFLite tensor '{tensor.name}' has quantization scale {bad[0]}, which is not a "
                              "positive number", hint="convert the model again; the file's quantization is broken")
    record: Dict[str, Any] = {"scale": list(tensor.scale), "zero_point": list(tensor.zero_point)}
    if len(tensor.scale) > 1:
        record["axis"] = tensor.axis
    return record


def dequantized(array: np.ndarray, tensor: FbTensor) -> np.ndarray:
    """The real values of a quantized constant (scale * (q - zero_point), along the tensor's axis)."""
    scale = np.asarray(tensor.scale, dtype=np.float64)
    zero_point = np.asarray(tensor.zero_point, dtype=np.float64)
    if scale.size > 1:
        shape = [1] * array.ndim
        shape[tensor.axis] = scale.size
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return ((array.astype(np.float64) - zero_point) * scale).astype(np.float32)


def _params(details: Dict[str, Any]):
    scale, zero_point = details.get("quantization", (0.0, 0))
    return float(scale), int(zero_point)


_QUANTIZED_IO = (np.int8, np.uint8)


def _quantized_io(details: Dict[str, Any]) -> bool:
    return np.dtype(details["dtype"]) in [np.dtype(t) for t in _QUANTIZED_IO]


def to_interpreter_input(array: np.ndarray, details: Dict[str, Any]) -> np.ndarray:
    """A float32 input as the interpreter's input tensor takes it (quantized for an int8 or uint8 input);
    an int32 / int64 input (indices) as it is."""
    if np.dtype(details["dtype"]) in (np.dtype(np.int32), np.dtype(np.int64)):
        return np.ascontiguousarray(array, dtype=details["dtype"])
    if not _quantized_io(details):
        return np.ascontiguousarray(array, dtype=np.float32)
    scale, zero_point = _params(details)
    limits = np.iinfo(np.dtype(details["dtype"]))
    q = np.floor(np.asarray(array, dtype=np.float64) / scale + 0.5) + zero_point
    return np.clip(q, limits.min, limits.max).astype(np.dtype(details["dtype"]))


def on_input_grid(arrays: Sequence[np.ndarray], details: Sequence[Dict[str, Any]]) -> List[np.ndarray]:
    """Inputs of an int8-input model moved onto its input grid (real values of int8 codes); others unchanged.

    The bundle's reference input is then exactly what the .tflite was fed.
    """
    grid = []
    for array, d in zip(arrays, details):
        if _quantized_io(d):
            scale, zero_point = _params(d)
            q = to_interpreter_input(array, d).astype(np.float32)
            grid.append(((q - np.float32(zero_point)) * np.float32(scale)).astype(np.float32))
        else:
            grid.append(np.ascontiguousarray(array, dtype=np.float32 if array.dtype.kind == "f" else array.dtype))
    return grid


def from_interpreter_output(array: np.ndarray, details: Dict[str, Any]) -> np.ndarray:
    """An interpreter output in real values (dequantized when the model's output is int8 or uint8); an
    int32 / int64 output (argmax) as it is."""
    if np.dtype(details["dtype"]) in (np.dtype(np.int32), np.dtype(np.int64)):
        return np.asarray(array)
    if not _quantized_io(details):
        return np.asarray(array, dtype=np.float32)
    scale, zero_point = _params(details)
    return ((np.asarray(array, dtype=np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)
