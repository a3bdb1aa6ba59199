"""TFLite builtin operators that are a few vocabulary ops each, with no op or kernel of their own:
L2_NORMALIZATION (face-embedding heads), LOCAL_RESPONSE_NORMALIZATION (old CNNs), GATHER_ND with
constant indices, CUMSUM and RELU_0_TO_1. Their steps compute in float32; in an int8 model they
run between dequantize and quantize like any op without an int8 kernel, and only the result
keeps the model's quantization.

Facts from TFLite's reference kernels: L2_NORMALIZATION divides the last axis by
sqrt(max(sum of squares, 1e-6)); LOCAL_RESPONSE_NORMALIZATION sums the squares of channels
c - radius .. c + radius and divides by (bias + alpha * sum) ^ beta; CUMSUM's `exclusive` leaves
out the element itself and `reverse` sums from the end.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence

import numpy as np

from ..lowering_base import normalize_axis, product
from .flatbuffer import FbOperator
from .lowering import TfliteLowering, Unmappable

_L2_EPSILON = 1e-6


def _temp(low: TfliteLowering, op: FbOperator, suffix: str, shape: Sequence[int]) -> str:
    return low.builder.add_tensor(f"{low.tensor(op.outputs[0]).name}.{suffix}", [int(d) for d in shape], "float32",
                                  "activation")


def _weight(low: TfliteLowering, op: FbOperator, suffix: str, array: np.ndarray) -> str:
    return low.builder.add_weight(f"{low.tensor(op.outputs[0]).name}.{suffix}", np.asarray(array, np.float32),
                                  low.module)


def _step(low: TfliteLowering, op: FbOperator, suffix: str, vocab_op: str, inputs: List[str], attrs: Dict,
          shape: Sequence[int]) -> str:
    out = _temp(low, op, suffix, shape)
    low.add_node(vocab_op, inputs, [out], attrs)
    return out


def l2_normalization(low: TfliteLowering, op: FbOperator) -> None:
    shape = low.shape(op.inputs[0])
    x = low.value(op.inputs[0])
    reduced = shape[:-1] + [1]
    square = _step(low, op, "square", "pow", [x], {"exponent": 2.0}, shape)
    total = _step(low, op, "sum", "sum", [square], {"axes": [len(shape) - 1], "keepdim": True}, reduced)
    floored = _step(low, op, "floored", "maximum", [total, _weight(low, op, "epsilon", [_L2_EPSILON])], {}, reduced)
    inverse = _step(low, op, "rsqrt", "rsqrt", [floored], {}, reduced)
    low.emit("mul", [x, inverse], {}, op.options.get("fusedActivationFunction", 0))


def local_response_normalization(low: TfliteLowering, op: FbOperator) -> None:
    shape = low.shape(op.inputs[0])
    if len(shape) != 4:
        raise Unmappable(f"its input has rank {len(shape)}; TFLite normalizes 4-D NHWC maps")
    o = op.options
    radius, bias, alpha, beta = int(o.get("radius", 5)), float(o.get("bias", 1.0)), float(o.get("alpha", 1.0)), \
        float(o.get("beta", 0.5))
    channels = shape[-1]
    distance = np.abs(np.arange(channels)[:, None] - np.arange(channels)[None, :])
    window = _weight(low, op, "window", (distance <= radius).astype(np.float32))  # [out channel, in channel]
    x = low.value(op.inputs[0])
    square = _step(low, op, "square", "pow", [x], {"exponent": 2.0}, shape)
    total = _step(low, op, "window_sum", "linear", [square, window], {}, shape)
    scaled = _step(low, op, "scaled", "mul", [total], {"scalar": alpha}, shape)
    shifted = _step(low, op, "shifted", "add", [scaled], {"scalar": bias}, shape)
    factor = _step(low, op, "factor", "pow", [shifted], {"exponent": -beta}, shape)
    low.emit("mul", [x, factor], {})


def gather_nd(low: TfliteLowering, op: FbOperator) -> None:
    shape = low.shape(op.inputs[0])
    indices = low.constant(op.inputs[1], "indices").astype(np.int64)
    depth = int(indices.shape[-1]) if indices.ndim else 0
    if indices.ndim == 0 or not 1 <= depth <= len(shape):
        raise Unmappable(f"its indices of shape {list(indices.shape)} do not index the input's {len(shape)} dimensions")
    leading, rest = shape[:depth], shape[depth:]
    if np.any(indices < 0) or np.any(indices >= np.array(leading)):
        raise Unmappable("an index lies outside the input")
    flat = np.ravel_multi_index(tuple(np.moveaxis(indices.reshape(-1, depth), -1, 0)), leading)
    rows = low.declare_like(op.outputs[0], low.tensor(op.outputs[0]).name + ".rows", [product(leading)] + rest)
    low.add_node("reshape", [low.value(op.inputs[0])], [rows], {"shape": [product(leading)] + rest})
    picked = low.declare_like(op.outputs[0], low.tensor(op.outputs[0]).name + ".picked", [len(flat)] + rest)
    low.add_node("gather", [rows], [picked], {"axis": 0, "indices": [int(i) for i in flat]})
    low.emit("reshape", [picked], {"shape": low.shape(op.outputs[0])})


def cumsum(low: TfliteLowering, op: FbOperator) -> None:
    """A running sum along one axis: that axis moved last, a linear layer with a triangular
    weight, moved back."""
    if low.tensor(op.outputs[0]).type_name != "float32":
        raise Unmappable("an integer CUMSUM has no edgespec kernel")
    shape = low.shape(op.inputs[0])
    axis = normalize_axis(int(low.constant(op.inputs[1], "axis").reshape(-1)[0]), len(shape))
    n = shape[axis]
    out, into = np.arange(n)[:, None], np.arange(n)[None, :]
    exclusive, reverse = bool(op.options.get("exclusive", False)), bool(op.options.get("reverse", False))
    # output o sums inputs i <= o (i < o exclusive), or i >= o (i > o) in reverse
    keep = (into > out if exclusive else into >= out) if reverse else (into < out if exclusive else into <= out)
    triangle = _weight(low, op, "triangle", keep.astype(np.float32))
    x = low.value(op.inputs[0])
    if axis == len(shape) - 1:
        low.emit("linear", [x, triangle], {})
        return
    perm = [d for d in range(len(shape)) if d != axis] + [axis]
    moved = [shape[d] for d in perm]
    x = _step(low, op, "moved", "transpose", [x], {"perm": perm}, moved)
    summed = _step(low, op, "summed", "linear", [x, triangle], {}, moved)
    low.emit("transpose", [summed], {"perm": [int(k) for k in np.argsort(perm)]})


def relu_0_to_1(low: TfliteLowering, op: FbOperator) -> None:
    low.emit("clamp", [low.value(op.inputs[0])], {"min": 0.0, "max": 1.0})


RULES: Dict[str, Callable[[TfliteLowering, FbOperator], None]] = {
    "L2_NORMALIZATION": l2_normalization,
    "LOCAL_RESPONSE_NORMALIZATION": local_response_normalization,
    "GATHER_ND": gather_nd,
    "CUMSUM": cumsum,
    "RELU_0_TO_1": relu_0_to_1,
}
