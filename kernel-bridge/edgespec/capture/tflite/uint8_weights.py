"""A legacy uint8 model's asymmetric weights that do not fit symmetric int8 (int8.symmetric_weight_codes
handles those that do), made exact for the int8 kernels, which take symmetric weights.

TFLite's uint8 CONV_2D and FULLY_CONNECTED accumulate sum((x - x_zp) * (w - w_zp)) in int32. Each
w - w_zp lies in [-255, 255]: it is the sum of two (three when it reaches 255) parts in [-127, 127].
Then sum((x - x_zp) * (w - w_zp)) = sum over the input channels of [x, x] of (x - x_zp) * [a, b]: a
convolution over the input concatenated with itself along channels, whose symmetric weights are
the parts side by side, accumulates the same integer, so the requantized result is bit-exact. The
cost is that many times the layer's multiply-adds. The rewrite works on the lowering's view of the
model (the reference is the interpreter on the file as given).
"""
from __future__ import annotations

from typing import List

import numpy as np

from .flatbuffer import FbModel, FbOperator, FbTensor

_SPLIT_OPS = ("CONV_2D", "FULLY_CONNECTED")
LIMIT = 127


def weight_parts(difference: np.ndarray) -> List[np.ndarray]:
    """int codes minus zero point, as parts in [-127, 127] that add up to them."""
    parts, rest = [], difference.astype(np.int32)
    while rest.any() or not parts:
        part = np.clip(rest, -LIMIT, LIMIT)
        parts.append(part.astype(np.int8))
        rest = rest - part
    return parts


def split_asymmetric_weights(model: FbModel) -> int:
    """Rewrites each CONV_2D / FULLY_CONNECTED whose constant int8 weight keeps a nonzero (per-tensor) zero point;
    returns how many."""
    rewritten = 0
    operators: List[FbOperator] = []
    for op in model.operators:
        if op.op in _SPLIT_OPS and len(op.inputs) >= 2 and op.inputs[0] >= 0 and op.inputs[1] >= 0:
            x, w = model.tensors[op.inputs[0]], model.tensors[op.inputs[1]]
            if _splittable(x, w):
                operators.append(_split(model, op, x, w))
                rewritten += 1
        operators.append(op)
    model.operators = operators
    return rewritten


def _splittable(x: FbTensor, w: FbTensor) -> bool:
    return (w.constant is not None and w.type_name == "int8" and w.quantized and len(w.zero_point or []) == 1
            and int(w.zero_point[0]) != 0 and x.type_name == "int8" and x.quantized and x.constant is None
            and len(x.shape) >= 1 and x.shape[-1] == w.shape[-1])


def _split(model: FbModel, op: FbOperator, x: FbTensor, w: FbTensor) -> FbOperator:
    parts = weight_parts(w.constant.astype(np.int32) - int(w.zero_point[0]))
    doubled = FbTensor(len(model.tensors), f"{x.name}/repeated_for_{w.name}", list(x.shape[:-1]) + [x.shape[-1] * len(parts)],
                       "int8", None, True, list(x.scale), list(x.zero_point), x.axis)
    model.tensors.append(doubled)
    weight = np.concatenate(parts, axis=-1)
    split = FbTensor(len(model.tensors), f"{w.name}/symmetric_parts", list(weight.shape), "int8", weight, True,
                     list(w.scale), [0], w.axis)
    model.tensors.append(split)
    concat = FbOperator(op.index, "CONCATENATION", [x.index] * len(parts), [doubled.index],
                        {"axis": len(x.shape) - 1, "fusedActivationFunction": 0})
    op.inputs = [doubled.index, split.index] + list(op.inputs[2:])
    return concat
