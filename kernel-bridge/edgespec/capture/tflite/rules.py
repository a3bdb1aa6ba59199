"""One rule per TFLite builtin op: read its inputs and options, emit vocabulary nodes.

Facts these rules rely on (TFLite schema and kernels, checked against the interpreter
by the tests): CONV_2D filters are [O, KH, KW, I/groups] (OHWI) and the op is grouped
when the input has more channels than the filter; DEPTHWISE_CONV_2D filters are
[1, KH, KW, C*multiplier] with output channel o reading input channel o // multiplier;
FULLY_CONNECTED weights are [O, I] and, unless keep_num_dims, the input is flattened to
[-1, I]; SAME padding puts the odd pixel after; SAME average pooling divides by the
count of in-range cells only; SOFTMAX works on the last axis.
"""
from __future__ import annotations

from typing import Callable, Dict, List

import numpy as np

from .flatbuffer import PADDINGS, FbOperator
from .lowering import TfliteLowering, Unmappable
from .variables import RULES as VARIABLE_RULES
from .. import rearrange
from ..slicing import slice_attrs
from ..lowering_base import normalize_axis, product, same_padding, window_output_size
from .recurrent_rules import RULES as RECURRENT_RULES
from .composite_rules import RULES as COMPOSITE_RULES


def _input(op: FbOperator, position: int) -> int:
    return op.inputs[position] if position < len(op.inputs) else -1


def _window_padding(low: TfliteLowering, op: FbOperator, kernel: List[int], stride: List[int],
                    dilation: List[int]) -> List[int]:
    """[top, left, bottom, right] for SAME or VALID, checked against the output the converter computed."""
    _, height, width, _ = low.shape(op.inputs[0])
    mode = PADDINGS.get(op.options.get("padding"), "?")
    if mode == "SAME":
        top, bottom = same_padding(height, kernel[0], stride[0], dilation[0])
        left, right = same_padding(width, kernel[1], stride[1], dilation[1])
    elif mode == "VALID":
        top = bottom = left = right = 0
    else:
        raise Unmappable(f"unknown padding mode {op.options.get('padding')}")
    expected = [window_output_size(height, kernel[0], stride[0], dilation[0], top, bottom),
                window_output_size(width, kernel[1], stride[1], dilation[1], left, right)]
    actual = low.shape(op.outputs[0])[1:3]
    if expected != actual:
        raise Unmappable(f"its output is {actual} high/wide where {mode} padding gives {expected}")
    return [top, left, bottom, right]


def _require_rank(low: TfliteLowering, index: int, rank: int, what: str) -> List[int]:
    shape = low.shape(index)
    if len(shape) != rank:
        raise Unmappable(f"its {what} has rank {len(shape)}; edgespec handles rank {rank} here")
    return shape


def conv_2d(low: TfliteLowering, op: FbOperator) -> None:
    _, _, _, channels = _require_rank(low, op.inputs[0], 4, "input")
    filters = low.constant(op.inputs[1], "filter")
    out_channels, kh, kw, group_channels = filters.shape
    if channels % group_channels:
        raise Unmappable(f"input channels {channels} are not a multiple of the filter's {group_channels}")
    _emit_conv2d(low, op, kh, kw, channels // group_channels, "OHWI")


def depthwise_conv_2d(low: TfliteLowering, op: FbOperator) -> None:
    _, _, _, channels = _require_rank(low, op.inputs[0], 4, "input")
    filters = low.constant(op.inputs[1], "filter")
    one, kh, kw, out_channels = filters.shape
    if one != 1 or out_channels % channels:
        raise Unmappable(f"its filter {list(filters.shape)} is not [1, KH, KW, multiple of {channels}]")
    _emit_conv2d(low, op, kh, kw, channels, "1HWO")


def _emit_conv2d(low: TfliteLowering, op: FbOperator, kh: int, kw: int, groups: int, weight_layout: str) -> None:
    """CONV_2D and DEPTHWISE_CONV_2D share their options, inputs and fused activation; between SPACE_TO_BATCH_ND
    and BATCH_TO_SPACE_ND they are a dilated convolution of the first one's input (atrous.py)."""
    atrous = low.atrous.by_convolution.get(op.index)
    if atrous is not None:
        return _emit_atrous(low, op, atrous, kh, kw, groups, weight_layout)
    stride = [op.options["strideH"], op.options["strideW"]]
    dilation = [op.options.get("dilationHFactor", 1), op.options.get("dilationWFactor", 1)]
    padding = _window_padding(low, op, [kh, kw], stride, dilation)
    inputs = [low.value(op.inputs[0]), low.weight(op.inputs[1])]
    if _input(op, 2) >= 0:
        low.constant(op.inputs[2], "bias")
        inputs.append(low.weight(op.inputs[2]))
    low.emit("conv2d", inputs, {"stride": stride, "padding": padding, "dilation": dilation,
                                "groups": groups, "weight_layout": weight_layout},
             op.options.get("fusedActivationFunction", 0))


def _emit_atrous(low: TfliteLowering, op: FbOperator, atrous, kh: int, kw: int, groups: int, weight_layout: str) -> None:
    """The convolution between SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND as one dilated conv2d of the first one's
    input into the last one's output (a 1-D one through [N, 1, W, C])."""
    padding, dilation = atrous.padding, atrous.dilation
    if min(padding) < 0:
        raise Unmappable(f"it is a dilated convolution whose crops exceed its paddings ({padding})")
    if op.options.get("fusedActivationFunction", 0):
        raise Unmappable("it is a dilated convolution with a fused activation inside its SPACE_TO_BATCH_ND")
    shape_in, shape_out = low.shape(atrous.input), low.shape(atrous.output)
    spatial_in = shape_in[1:3] if len(shape_in) == 4 else [1, shape_in[1]]
    spatial_out = shape_out[1:3] if len(shape_out) == 4 else [1, shape_out[1]]
    expected = [spatial_in[0] + padding[0] + padding[2] - (kh - 1) * dilation[0],
                spatial_in[1] + padding[1] + padding[3] - (kw - 1) * dilation[1]]
    if expected != spatial_out:
        raise Unmappable(f"it is a dilated convolution whose output {spatial_out} is not the {expected} its "
                         "paddings and crops give")
    source = low.value(atrous.input)
    if len(shape_in) == 3:
        wide = low.declare_like(atrous.input, low.tensor(atrous.input).name + ".as_2d", [shape_in[0], 1, *shape_in[1:]])
        low.add_node("reshape", [source], [wide], {"shape": [shape_in[0], 1, *shape_in[1:]]})
        source = wide
    inputs = [source, low.weight(op.inputs[1])]
    if _input(op, 2) >= 0:
        low.constant(op.inputs[2], "bias")
        inputs.append(low.weight(op.inputs[2]))
    attrs = {"stride": [1, 1], "padding": padding, "dilation": dilation, "groups": groups, "weight_layout": weight_layout}
    result = low.declare(atrous.output)
    if len(shape_out) == 3:
        wide = low.declare_like(atrous.output, low.tensor(atrous.output).name + ".as_2d", [shape_out[0], 1, *shape_out[1:]])
        low.add_node("conv2d", inputs, [wide], attrs)
        low.add_node("reshape", [wide], [result], {"shape": shape_out})
    else:
        low.add_node("conv2d", inputs, [result], attrs)
    low.names[atrous.output] = result


def space_to_batch_nd(low: TfliteLowering, op: FbOperator) -> None:
    if op.index not in low.atrous.space_to_batch:
        raise Unmappable("edgespec reads SPACE_TO_BATCH_ND only as the start of a dilated convolution "
                         "(SPACE_TO_BATCH_ND, a stride-1 VALID convolution, BATCH_TO_SPACE_ND)")
    # nothing to compute: the convolution reads this op's input itself


def batch_to_space_nd(low: TfliteLowering, op: FbOperator) -> None:
    if op.index not in low.atrous.batch_to_space:
        raise Unmappable("edgespec reads BATCH_TO_SPACE_ND only as the end of a dilated convolution "
                         "(SPACE_TO_BATCH_ND, a stride-1 VALID convolution, BATCH_TO_SPACE_ND)")
    # nothing to compute: the convolution wrote this op's output


def transpose_conv(low: TfliteLowering, op: FbOperator) -> None:
    """TRANSPOSE_CONV: inputs output_shape, filter [O, KH, KW, I], input, bias (optional). TFLite crops
    total // 2 at the top/left for SAME (its padding computed as for a convolution from the output back
    to the input), none for VALID; rows past every window hold the bias (output_padding)."""
    _, height, width, _ = _require_rank(low, op.inputs[2], 4, "input")
    filters = low.constant(op.inputs[1], "filter")
    _, kh, kw, _ = filters.shape
    stride = [op.options["strideH"], op.options["strideW"]]
    mode = PADDINGS.get(op.options.get("padding"), "?")
    if mode not in ("SAME", "VALID"):
        raise Unmappable(f"unknown padding mode {op.options.get('padding')}")
    out = low.shape(op.outputs[0])[1:3]
    padding, extra = [0, 0, 0, 0], [0, 0]
    for axis, (size, k) in enumerate(((height, kh), (width, kw))):
        full = (size - 1) * stride[axis] + k
        before = max(full - out[axis], 0) // 2 if mode == "SAME" else 0
        after = full - before - out[axis]
        padding[axis], padding[axis + 2] = before, max(after, 0)
        extra[axis] = max(-after, 0)
    inputs = [low.value(op.inputs[2]), low.weight(op.inputs[1])]
    if _input(op, 3) >= 0:
        low.constant(op.inputs[3], "bias")
        inputs.append(low.weight(op.inputs[3]))
    low.emit("conv_transpose2d", inputs, {"stride": stride, "padding": padding, "output_padding": extra,
                                          "dilation": [1, 1], "groups": 1, "weight_layout": "OHWI"},
             op.options.get("fusedActivationFunction", 0))


def fully_connected(low: TfliteLowering, op: FbOperator) -> None:
    if op.options.get("weightsFormat", 0) != 0:
        raise Unmappable("its weights are shuffled (weights_format != DEFAULT)")
    weights = low.constant(op.inputs[1], "weights")
    if weights.ndim != 2:
        raise Unmappable(f"its weights have rank {weights.ndim}")
    x = low.value(op.inputs[0])
    in_shape = low.shape(op.inputs[0])
    if len(in_shape) != 2 and not op.options.get("keepNumDims", False):
        flat = [product(in_shape) // weights.shape[1], int(weights.shape[1])]
        flattened = low.declare_like(op.inputs[0], low.tensor(op.inputs[0]).name + ".flat", flat)
        low.add_node("reshape", [x], [flattened], {"shape": flat})
        x = flattened
    inputs = [x, low.weight(op.inputs[1])]
    if _input(op, 2) >= 0:
        low.constant(op.inputs[2], "bias")
        inputs.append(low.weight(op.inputs[2]))
    low.emit("linear", inputs, {}, op.options.get("fusedActivationFunction", 0))


def _binary(vocab_op: str, commutative: bool) -> Callable[[TfliteLowering, FbOperator], None]:
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        a, b = op.inputs[0], op.inputs[1]
        fused = op.options.get("fusedActivationFunction", 0)
        if low.is_constant(a) and not low.is_constant(b):
            if not commutative and vocab_op == "sub" and low.constant(a, "operand").size == 1 \
                    and low.shape(op.outputs[0]) == low.shape(b) and low.tensor(b).type_name == "float32":
                return _scalar_minus(low, op, a, b, fused)  # 1 - z of an unrolled Keras GRU
            if commutative:
                a, b = b, a
        if low.is_constant(b) and not low.is_constant(a) and low.constant(b, "operand").size == 1 \
                and low.shape(op.outputs[0]) == low.shape(a):
            scalar = float(low.real_constant(b, "operand").reshape(-1)[0])
            low.emit(vocab_op, [low.value(a)], {"scalar": scalar}, fused)
        else:
            low.emit(vocab_op, [low.value(a), low.value(b)], {}, fused)
    return rule


def _scalar_minus(low: TfliteLowering, op: FbOperator, constant: int, x: int, fused: int) -> None:
    """c - x as x * -1 + c (float)."""
    negated = low.declare(op.outputs[0], ".negated", holds_value=False)
    low.add_node("mul", [low.value(x)], [negated], {"scalar": -1.0})
    low.emit("add", [negated], {"scalar": float(low.real_constant(constant, "operand").reshape(-1)[0])}, fused)


def squared_difference(low: TfliteLowering, op: FbOperator) -> None:
    """(a - b)^2 as sub then pow 2 (Keras LayerNormalization's variance). In an int8 model (a transformer's
    LayerNormalization quantized) the difference is a float32 step between the inputs' dequantize and the
    output's quantize, as the composite rules compute (composite_rules.py), and only the square keeps the
    model's quantization: TFLite's int8 kernel squares the exact difference of the codes, which the float step
    matches up to the final rounding."""
    a, b = op.inputs[0], op.inputs[1]
    if low.is_constant(a) and not low.is_constant(b):
        a, b = b, a  # (c - x)^2 = (x - c)^2
    if low.tensor(op.outputs[0]).type_name == "float32":
        difference = low.declare(op.outputs[0], ".difference", holds_value=False)
    else:
        difference = low.builder.add_tensor(f"{low.tensor(op.outputs[0]).name}.difference", low.shape(op.outputs[0]),
                                            "float32", "activation")
    low.add_node("sub", [low.value(a), low.value(b)], [difference], {})
    low.emit("pow", [difference], {"exponent": 2.0})


def strided_slice(low: TfliteLowering, op: FbOperator) -> None:
    """STRIDED_SLICE: begin, end, strides constants; a mask bit drops its begin or end; shrink_axis_mask
    takes one element and drops the axis (a reshape after the slice)."""
    o = op.options
    if o.get("ellipsisMask", 0) or o.get("newAxisMask", 0) or o.get("offset", False):
        raise Unmappable("it uses ellipsis_mask, new_axis_mask or offset")
    shape = low.shape(op.inputs[0])
    begin, end, strides = (low.constant(op.inputs[k], what).reshape(-1).copy() for k, what in ((1, "begin"), (2, "end"), (3, "strides")))
    shrink = o.get("shrinkAxisMask", 0)
    bounds = {}
    for axis in range(len(begin)):
        b = None if o.get("beginMask", 0) >> axis & 1 else int(begin[axis])
        e = None if o.get("endMask", 0) >> axis & 1 else int(end[axis])
        if shrink >> axis & 1:
            b = int(begin[axis]) + (shape[axis] if int(begin[axis]) < 0 else 0)
            e, strides[axis] = b + 1, 1
        bounds[axis] = (b, e, int(strides[axis]))
    attrs = slice_attrs(shape, bounds)
    if not shrink:
        return low.emit("slice", [low.value(op.inputs[0])], attrs)
    kept = low.declare_like(op.outputs[0], low.tensor(op.outputs[0]).name + ".slice", attrs["sizes"])
    low.add_node("slice", [low.value(op.inputs[0])], [kept], attrs)
    low.emit("reshape", [kept], {"shape": low.shape(op.outputs[0])})


def tflite_slice(low: TfliteLowering, op: FbOperator) -> None:
    shape = low.shape(op.inputs[0])
    begin, size = (low.constant(op.inputs[k], what).reshape(-1) for k, what in ((1, "begin"), (2, "size")))
    bounds = {axis: (int(b), shape[axis] if int(n) < 0 else int(b) + int(n), 1) for axis, (b, n) in enumerate(zip(begin, size))}
    low.emit("slice", [low.value(op.inputs[0])], slice_attrs(shape, bounds))


def tflite_tile(low: TfliteLowering, op: FbOperator) -> None:
    low.emit("tile", [low.value(op.inputs[0])], {"repeats": [int(r) for r in low.constant(op.inputs[1], "multiples").reshape(-1)]})


def broadcast_to(low: TfliteLowering, op: FbOperator) -> None:
    low.constant(op.inputs[1], "shape")
    low.emit("expand", [low.value(op.inputs[0])], {"shape": low.shape(op.outputs[0])})


def tflite_gather(low: TfliteLowering, op: FbOperator) -> None:
    if op.options.get("batchDims", 0):
        raise Unmappable("it has batch_dims")
    shape = low.shape(op.inputs[0])
    axis = normalize_axis(int(op.options.get("axis", 0)), len(shape))
    if not low.is_constant(op.inputs[1]):  # indices the model is given (a Keras Embedding): checked at run time
        wrap = low.index_wraps.get(op.inputs[1])
        if wrap is not None and wrap.size != shape[axis]:
            raise Unmappable(f"its indices wrap negative values by {wrap.size}, not by the axis size {shape[axis]}")
        return low.emit("take", [low.value(op.inputs[0]), low.value(op.inputs[1])],
                        {"axis": axis, **({"negative_indices": True} if wrap is not None else {})})
    indices = low.constant(op.inputs[1], "indices")
    flat = [int(i) for i in indices.reshape(-1)]
    if indices.ndim == 1:
        return low.emit("gather", [low.value(op.inputs[0])], {"axis": axis, "indices": flat})
    rows = low.declare_like(op.outputs[0], low.tensor(op.outputs[0]).name + ".rows", shape[:axis] + [len(flat)] + shape[axis + 1:])
    low.add_node("gather", [low.value(op.inputs[0])], [rows], {"axis": axis, "indices": flat})
    low.emit("reshape", [rows], {"shape": low.shape(op.outputs[0])})


def select_v2(low: TfliteLowering, op: FbOperator) -> None:
    """SELECT_V2 with a constant condition (float models)."""
    if low.tensor(op.outputs[0]).type_name != "float32":
        raise Unmappable("an integer SELECT has no edgespec kernel")
    condition = low.constant(op.inputs[0], "condition").astype(bool)
    mask = low.builder.add_weight(low.tensor(op.inputs[0]).name + ".mask", condition.astype(np.float32), low.module)
    low.emit("where", [mask, low.value(op.inputs[1]), low.value(op.inputs[2])], {})


def _unary(vocab_op: str, attrs: Dict) -> Callable[[TfliteLowering, FbOperator], None]:
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        low.emit(vocab_op, [low.value(op.inputs[0])], dict(attrs))
    return rule


def gelu(low: TfliteLowering, op: FbOperator) -> None:
    approximate = "tanh" if op.options.get("approximate", False) else "none"
    low.emit("gelu", [low.value(op.inputs[0])], {"approximate": approximate})


def leaky_relu(low: TfliteLowering, op: FbOperator) -> None:
    low.emit("leaky_relu", [low.value(op.inputs[0])], {"negative_slope": float(op.options.get("alpha", 0.0))})


def prelu(low: TfliteLowering, op: FbOperator) -> None:
    """PRELU's alpha broadcasts against the input (Keras: one per element, or [1, 1, C] with shared axes)."""
    low.constant(op.inputs[1], "alpha")
    low.emit("prelu", [low.value(op.inputs[0]), low.weight(op.inputs[1])], {})


def power(low: TfliteLowering, op: FbOperator) -> None:
    if not low.is_constant(op.inputs[1]):
        return low.emit("pow_tensor", [low.value(op.inputs[0]), low.value(op.inputs[1])], {})
    exponent = low.real_constant(op.inputs[1], "exponent").reshape(-1)
    if exponent.size != 1 or not np.isfinite(exponent[0]):
        raise Unmappable(f"its exponent has {exponent.size} values; edgespec takes one constant exponent")
    low.emit("pow", [low.value(op.inputs[0])], {"exponent": float(exponent[0])})


def _max_min(vocab_op: str) -> Callable[[TfliteLowering, FbOperator], None]:
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        low.emit(vocab_op, [low.value(op.inputs[0]), low.value(op.inputs[1])], {})
    return rule


def log_softmax(low: TfliteLowering, op: FbOperator) -> None:
    low.emit("log_softmax", [low.value(op.inputs[0])], {"axis": len(low.shape(op.inputs[0])) - 1})


def _pool(vocab_op: str) -> Callable[[TfliteLowering, FbOperator], None]:
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        _require_rank(low, op.inputs[0], 4, "input")
        kernel = [op.options["filterHeight"], op.options["filterWidth"]]
        stride = [op.options["strideH"], op.options["strideW"]]
        padding = _window_padding(low, op, kernel, stride, [1, 1])
        attrs = {"kernel": kernel, "stride": stride, "padding": padding, "ceil_mode": False}
        if vocab_op == "max_pool2d":
            attrs["dilation"] = [1, 1]
        else:  # TFLite's SAME average pooling divides by the cells inside the input
            attrs.update({"count_include_pad": False, "divisor_override": None})
        low.emit(vocab_op, [low.value(op.inputs[0])], attrs, op.options.get("fusedActivationFunction", 0))
    return rule


def mean(low: TfliteLowering, op: FbOperator) -> None:
    rank = len(low.shape(op.inputs[0]))
    axes = sorted({normalize_axis(int(a), rank) for a in low.constant(op.inputs[1], "axes").reshape(-1)})
    low.emit("mean", [low.value(op.inputs[0])], {"axes": axes, "keepdim": bool(op.options.get("keepDims", False))})


def _reduce(vocab_op: str):
    """SUM, REDUCE_MAX, REDUCE_MIN: axes a constant input, keep_dims an option (as MEAN)."""
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        rank = len(low.shape(op.inputs[0]))
        axes = sorted({normalize_axis(int(a), rank) for a in low.constant(op.inputs[1], "axes").reshape(-1)})
        low.emit(vocab_op, [low.value(op.inputs[0])], {"axes": axes, "keepdim": bool(op.options.get("keepDims", False))})
    return rule


def _arg_reduce(vocab_op: str):
    """ARG_MAX, ARG_MIN: one constant axis; the axis is dropped, the first of equal values wins."""
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        rank = len(low.shape(op.inputs[0]))
        axis = low.constant(op.inputs[1], "axis").reshape(-1)
        if axis.size != 1:
            raise Unmappable("its axis is not one number")
        low.emit(vocab_op, [low.value(op.inputs[0])], {"axis": normalize_axis(int(axis[0]), rank), "keepdim": False},
                 integers=True)
    return rule


def softmax(low: TfliteLowering, op: FbOperator) -> None:
    x = low.value(op.inputs[0])
    beta = float(op.options.get("beta", 1.0))
    if beta != 1.0:  # softmax(beta * x)
        if low.tensor(op.inputs[0]).type_name != "float32":
            raise Unmappable(f"its beta is {beta} on an int8 input; edgespec takes beta 1 there")
        scaled = low.builder.add_tensor(low.tensor(op.inputs[0]).name + ".scaled", low.shape(op.inputs[0]),
                                        "float32", "activation")
        low.add_node("mul", [x], [scaled], {"scalar": beta})
        x = scaled
    low.emit("softmax", [x], {"axis": len(low.shape(op.inputs[0])) - 1})


def reshape(low: TfliteLowering, op: FbOperator) -> None:
    low.emit("reshape", [low.value(op.inputs[0])], {"shape": low.shape(op.outputs[0])})


def _rearrange(kind: str) -> Callable[[TfliteLowering, FbOperator], None]:
    """DEPTH_TO_SPACE and SPACE_TO_DEPTH (NHWC): reshape, 6-D transpose, reshape (capture/rearrange.py)."""
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        shape = _require_rank(low, op.inputs[0], 4, "input")
        try:
            plan = rearrange.depth_to_space if kind == "depth" else rearrange.space_to_depth
            view, perm, out = plan(shape, int(op.options["blockSize"]), "NHWC")
        except ValueError as e:
            raise Unmappable(str(e))
        name = low.tensor(op.outputs[0]).name
        viewed = low.declare_like(op.inputs[0], f"{name}.view", view)
        moved = low.declare_like(op.inputs[0], f"{name}.moved", [view[p] for p in perm])
        low.add_node("reshape", [low.value(op.inputs[0])], [viewed], {"shape": view})
        low.add_node("transpose", [viewed], [moved], {"perm": perm})
        low.emit("reshape", [moved], {"shape": out})
    return rule


def _resize(mode: str) -> Callable[[TfliteLowering, FbOperator], None]:
    """RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR: the size a constant input; align_corners maps the
    corners (nearest rounds half away from zero), half_pixel_centers samples at pixel centres (nearest:
    floor((i + 0.5) * in / out)), neither floor(i * in / out)."""
    def rule(low: TfliteLowering, op: FbOperator) -> None:
        _require_rank(low, op.inputs[0], 4, "input")
        corners, centres = bool(op.options.get("alignCorners")), bool(op.options.get("halfPixelCenters"))
        if corners and centres:
            raise Unmappable("it sets both align_corners and half_pixel_centers")
        attrs = {"size": low.shape(op.outputs[0])[1:3], "mode": mode}
        if mode == "nearest":
            coordinates, nearest = (("align_corners", "round_prefer_ceil") if corners else
                                    ("tf_half_pixel_for_nn", "floor") if centres else ("asymmetric", "floor"))
            attrs.update(coordinate_transformation=coordinates, nearest_mode=nearest)
        else:
            attrs["coordinate_transformation"] = "align_corners" if corners else "half_pixel" if centres else "asymmetric"
        low.emit("resize", [low.value(op.inputs[0])], attrs)
    return rule


def concatenation(low: TfliteLowering, op: FbOperator) -> None:
    rank = len(low.shape(op.outputs[0]))
    inputs = [low.value(i) for i in op.inputs]
    low.emit("concat", inputs, {"axis": normalize_axis(int(op.options.get("axis", 0)), rank)},
             op.options.get("fusedActivationFunction", 0))


def pad(low: TfliteLowering, op: FbOperator) -> None:
    pads = low.constant(op.inputs[1], "paddings").astype(np.int64).reshape(-1, 2)
    value = 0.0
    if _input(op, 2) >= 0:
        value = float(low.real_constant(op.inputs[2], "padding value").reshape(-1)[0])
    low.emit("pad", [low.value(op.inputs[0])], {"pads": pads.tolist(), "value": value})


def mirror_pad(low: TfliteLowering, op: FbOperator) -> None:
    """MIRROR_PAD: mode REFLECT (0, without the edge) or SYMMETRIC (1, with it); paddings a constant input."""
    pads = low.constant(op.inputs[1], "paddings").astype(np.int64).reshape(-1, 2)
    mode = {0: "reflect", 1: "symmetric"}.get(int(op.options.get("mode", 0)))
    if mode is None:
        raise Unmappable(f"unknown mirror padding mode {op.options.get('mode')}")
    low.emit("pad", [low.value(op.inputs[0])], {"pads": pads.tolist(), "value": 0.0, "mode": mode})


def transpose(low: TfliteLowering, op: FbOperator) -> None:
    perm = [int(p) for p in low.constant(op.inputs[1], "permutation").reshape(-1)]
    low.emit("transpose", [low.value(op.inputs[0])], {"perm": perm})


def _emit_split(low: TfliteLowering, op: FbOperator, x_index: int, axis: int) -> None:
    rank = len(low.shape(x_index))
    axis = normalize_axis(axis, rank)
    sizes = [low.shape(o)[axis] for o in op.outputs]
    outputs = [low.declare(o) for o in op.outputs]
    low.add_node("split", [low.value(x_index)], outputs, {"axis": axis, "sizes": sizes})
    for index, name in zip(op.outputs, outputs):
        low.names[index] = name


def split(low: TfliteLowering, op: FbOperator) -> None:
    axis = int(low.constant(op.inputs[0], "axis").reshape(-1)[0])
    _emit_split(low, op, op.inputs[1], axis)


def split_v(low: TfliteLowering, op: FbOperator) -> None:
    axis = int(low.constant(op.inputs[2], "axis").reshape(-1)[0])
    _emit_split(low, op, op.inputs[0], axis)


def batch_matmul(low: TfliteLowering, op: FbOperator) -> None:
    if op.options.get("adjX", False) or op.options.get("adjY", False):
        raise Unmappable("it transposes an operand (adj_x/adj_y)")
    low.emit("matmul", [low.value(op.inputs[0]), low.value(op.inputs[1])], {})


def dequantize(low: TfliteLowering, op: FbOperator) -> None:
    """float16 weights are stored as a constant plus DEQUANTIZE: fold that into a float32 weight.
    In an int8 model, DEQUANTIZE of a computed tensor gives its real values (float32)."""
    source = op.inputs[0]
    if low.is_constant(source) and low.constants[source].dtype == np.float16:
        low.constants[op.outputs[0]] = low.constants[source].astype(np.float32)
        return
    if low.is_constant(source) or not low.int8 or low.tensor(source).type_name != "int8":
        raise Unmappable(f"it dequantizes a {low.tensor(source).type_name} "
                         f"{'constant' if low.is_constant(source) else 'run-time tensor'}; edgespec dequantizes "
                         "float16 constants and computed int8 tensors")
    low.emit("dequantize", [low.value(source)], {})


def densify_constant(low: TfliteLowering, op: FbOperator) -> None:
    """DENSIFY of a sparse weight: reading the file already expanded it (sparse.py)."""
    if not low.is_constant(op.inputs[0]):
        raise Unmappable("it densifies a run-time tensor; edgespec expands sparse constants when it reads the file")
    low.constants[op.outputs[0]] = low.constants[op.inputs[0]]


def quantize(low: TfliteLowering, op: FbOperator) -> None:
    """float32 -> int8 at the edge of an int8 model, or int8 -> int8 with other parameters (requantize)."""
    if low.tensor(op.outputs[0]).type_name != "int8" or low.tensor(op.inputs[0]).type_name not in ("float32", "int8"):
        raise Unmappable(f"it quantizes {low.tensor(op.inputs[0]).type_name} to {low.tensor(op.outputs[0]).type_name}; "
                         "edgespec quantizes float32 or int8 to int8")
    source, result = low.tensor(op.inputs[0]), low.tensor(op.outputs[0])
    if source.type_name == "int8" and (source.scale, source.zero_point) == (result.scale, result.zero_point):
        # the same codes (a uint8 model's input or output, once taken as int8): nothing to compute
        low.alias(op.outputs[0], low.value(op.inputs[0]))
        return
    low.emit("quantize", [low.value(op.inputs[0])], {})


RULES: Dict[str, Callable[[TfliteLowering, FbOperator], None]] = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "TRANSPOSE_CONV": transpose_conv,
    "ADD": _binary("add", True),
    "SUB": _binary("sub", False),
    "MUL": _binary("mul", True),
    "DIV": _binary("div", False),
    "RELU": _unary("relu", {}),
    "RELU6": _unary("clamp", {"min": 0.0, "max": 6.0}),
    "RELU_N1_TO_1": _unary("clamp", {"min": -1.0, "max": 1.0}),
    "LOGISTIC": _unary("sigmoid", {}),
    "TANH": _unary("tanh", {}),
    "HARD_SWISH": _unary("hardswish", {}),
    "GELU": gelu,
    "LEAKY_RELU": leaky_relu,
    "ELU": _unary("elu", {"alpha": 1.0}),
    "PRELU": prelu,
    "EXP": _unary("exp", {}),
    "LOG": _unary("log", {}),
    "SQRT": _unary("sqrt", {}),
    "RSQRT": _unary("rsqrt", {}),
    "ABS": _unary("abs", {}),
    "NEG": _unary("neg", {}),
    "SQUARE": _unary("pow", {"exponent": 2.0}),
    "SQUARED_DIFFERENCE": squared_difference,
    "STRIDED_SLICE": strided_slice,
    "SLICE": tflite_slice,
    "TILE": tflite_tile,
    "BROADCAST_TO": broadcast_to,
    "GATHER": tflite_gather,
    "SELECT_V2": select_v2,
    "POW": power,
    "MAXIMUM": _max_min("maximum"),
    "MINIMUM": _max_min("minimum"),
    "LOG_SOFTMAX": log_softmax,
    "MAX_POOL_2D": _pool("max_pool2d"),
    "AVERAGE_POOL_2D": _pool("avg_pool2d"),
    "MEAN": mean,
    "SUM": _reduce("sum"),
    "REDUCE_MAX": _reduce("reduce_max"),
    "REDUCE_MIN": _reduce("reduce_min"),
    "ARG_MAX": _arg_reduce("argmax"),
    "ARG_MIN": _arg_reduce("argmin"),
    "SOFTMAX": softmax,
    "RESHAPE": reshape,
    "SQUEEZE": reshape,
    "EXPAND_DIMS": reshape,
    "CONCATENATION": concatenation,
    "PAD": pad,
    "SPACE_TO_BATCH_ND": space_to_batch_nd,
    "BATCH_TO_SPACE_ND": batch_to_space_nd,
    "PADV2": pad,
    "MIRROR_PAD": mirror_pad,
    "TRANSPOSE": transpose,
    "DEPTH_TO_SPACE": _rearrange("depth"),
    "RESIZE_NEAREST_NEIGHBOR": _resize("nearest"),
    "RESIZE_BILINEAR": _resize("bilinear"),
    "SPACE_TO_DEPTH": _rearrange("space"),
    "SPLIT": split,
    "SPLIT_V": split_v,
    "BATCH_MATMUL": batch_matmul,
    "DEQUANTIZE": dequantize,
    "DENSIFY": densify_constant,
    "QUANTIZE": quantize,
    **VARIABLE_RULES,
    **RECURRENT_RULES,
    **COMPOSITE_RULES,
}
