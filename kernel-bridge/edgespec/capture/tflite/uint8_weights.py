"""A legacy uint8 model's asymmetric weights that do not fit symmetric int8 (int8.symmetric_weight_codes
handles those that do), made exact for the int8 kernels, which take symmetric weights.

TFLite's uint8 CONV_2D and FULLY_CONNECTED accumulate sum((x - x_zp) * (w - w_zp)) in int32. Each
w - w_zp lies in [-255, 255]: it is the sum of two (three when it reaches 255) parts in [-127, 127].
Then sum((x - x_zp) * (w - w_zp)) = sum over the input channels of [x, x] of (x - x_zp) * [a, b]: a
convolution over the input concatenated with itself along channels, whose symmetric weights are
the parts side by side, accumulates the same integer, so the requantized result is bit-exact. The
cost is that many times the layer's multiply-adds. The rewrite works on the lowering's view of the
model (the reference is the interpreter on the file as given).

A DEPTHWISE_CONV_2D sums over its window only, one channel at a time, so the parts go side by side
along the width instead: the input with each pixel repeated P times along W ([N, H, W, C] concatenated
P times along channels, viewed as [N, H, P*W, C]), padded as SAME would pad it (P times as wide left
and right, with the input's zero point, which adds 0 as in TFLite), against a kernel P times as wide
whose tap P*kw + p holds part p of tap kw, at P times the stride along W: each window sums the same
products. Dilated depthwise convolutions are left as they are.
"""
from __future__ import annotations

from typing import List

import numpy as np

from ..lowering_base import same_padding
from .flatbuffer import PADDINGS, FbModel, FbOperator, FbTensor

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
    """Rewrites each CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D whose constant int8 weight keeps a nonzero
    (per-tensor) zero point; returns how many."""
    rewritten = 0
    operators: List[FbOperator] = []
    for op in model.operators:
        if op.op in _SPLIT_OPS + ("DEPTHWISE_CONV_2D",) and len(op.inputs) >= 2 and op.inputs[0] >= 0 and op.inputs[1] >= 0:
            x, w = model.tensors[op.inputs[0]], model.tensors[op.inputs[1]]
            if op.op in _SPLIT_OPS and _splittable(x, w):
                operators.append(_split(model, op, x, w))
                rewritten += 1
            elif op.op == "DEPTHWISE_CONV_2D" and _depthwise_splittable(op, x, w):
                operators += _split_depthwise(model, op, x, w)
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


def _depthwise_splittable(op: FbOperator, x: FbTensor, w: FbTensor) -> bool:
    return (w.constant is not None and w.type_name == "int8" and w.quantized and len(w.zero_point or []) == 1
            and int(w.zero_point[0]) != 0 and x.type_name == "int8" and x.quantized and x.constant is None
            and len(x.shape) == 4 and w.constant.ndim == 4 and w.shape[0] == 1
            and op.options.get("dilationHFactor", 1) == 1 and op.options.get("dilationWFactor", 1) == 1
            and PADDINGS.get(op.options.get("padding")) in ("SAME", "VALID"))


def _int32_constant(model: FbModel, name: str, values) -> int:
    array = np.asarray(values, np.int32)
    model.tensors.append(FbTensor(len(model.tensors), name, list(array.shape), "int32", array, False))
    return len(model.tensors) - 1


def _like(model: FbModel, x: FbTensor, name: str, shape: List[int]) -> FbTensor:
    tensor = FbTensor(len(model.tensors), name, [int(d) for d in shape], "int8", None, True, list(x.scale),
                      list(x.zero_point), x.axis)
    model.tensors.append(tensor)
    return tensor


def _split_depthwise(model: FbModel, op: FbOperator, x: FbTensor, w: FbTensor) -> List[FbOperator]:
    parts = weight_parts(w.constant.astype(np.int32) - int(w.zero_point[0]))
    count = len(parts)
    n, height, width, channels = x.shape
    _, kh, kw, out_channels = w.shape
    stride_h, stride_w = int(op.options["strideH"]), int(op.options["strideW"])
    top = bottom = left = right = 0
    if PADDINGS[op.options["padding"]] == "SAME":
        top, bottom = same_padding(height, kh, stride_h, 1)
        left, right = same_padding(width, kw, stride_w, 1)
    base = f"{x.name}/repeated_for_{w.name}"
    repeated = _like(model, x, f"{base}/channels", [n, height, width, channels * count])
    widened = _like(model, x, f"{base}/widths", [n, height, width * count, channels])
    added = [FbOperator(op.index, "CONCATENATION", [x.index] * count, [repeated.index],
                        {"axis": 3, "fusedActivationFunction": 0}),
             FbOperator(op.index, "RESHAPE", [repeated.index, _int32_constant(model, f"{base}/shape", widened.shape)],
                        [widened.index], {})]
    source = widened
    if top or bottom or left or right:
        padded = _like(model, x, f"{base}/padded", [n, height + top + bottom, (width + left + right) * count, channels])
        paddings = [[0, 0], [top, bottom], [left * count, right * count], [0, 0]]
        added.append(FbOperator(op.index, "PAD", [widened.index, _int32_constant(model, f"{base}/paddings", paddings)],
                                [padded.index], {}))
        source = padded
    weight = np.stack(parts, axis=3).reshape(1, kh, kw * count, out_channels)  # tap kw*count + p holds part p
    wide = FbTensor(len(model.tensors), f"{w.name}/symmetric_parts", list(weight.shape), "int8", np.ascontiguousarray(weight),
                    True, list(w.scale), [0], w.axis)
    model.tensors.append(wide)
    op.inputs = [source.index, wide.index] + list(op.inputs[2:])
    op.options = {**op.options, "padding": next(k for k, v in PADDINGS.items() if v == "VALID"), "strideW": stride_w * count}
    return added
