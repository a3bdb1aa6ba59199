"""One rule per ONNX operator (default domain): read inputs and attributes, emit vocabulary nodes.

ONNX facts these rules rely on (operator specs): `pads` lists all begins, then all ends
([top, left, bottom, right] for 2-D); SAME_UPPER puts the odd pixel of padding after,
SAME_LOWER before; HardSigmoid defaults to alpha 0.2 (PyTorch exports 1/6); Softmax
before opset 13 flattens to 2-D from `axis` on; ReduceMean and Pad take axes/pads as
inputs from opsets 18 and 11; Gemm is alpha * A' @ B' + beta * C.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List

import numpy as np

from .lowering import OnnxLowering, Unmappable, onnx_dtype_name
from ..lowering_base import normalize_axis, window_output_size
from .. import rearrange
from ..slicing import slice_attrs
from ..window_1d import Sink, lower_as_2d, lower_per_channel_as_2d, weight_2d, window_attrs_2d
from .dynamic_rules import RULES as DYNAMIC_RULES
from .recurrent_rules import RULES as RECURRENT_RULES
from .composite_rules import RULES as COMPOSITE_RULES, max_pool_with_indices, reduce_axes

Rule = Callable[[OnnxLowering, object], None]


def _window_attrs(low: OnnxLowering, node, kernel: List[int]):
    """stride, dilation, pads before, pads after and ceil_mode of a 1-D or 2-D windowed op, one entry per
    spatial axis, checked against the inferred output."""
    x_shape = low.shape(node.input[0])
    dims = len(x_shape) - 2
    if dims not in (1, 2) or len(kernel) != dims:
        raise Unmappable(f"it is not 1-D or 2-D (input rank {len(x_shape)}); edgespec handles 1-D and 2-D windows")
    stride = list(low.attr(node, "strides", [1] * dims))
    dilation = list(low.attr(node, "dilations", [1] * dims))
    auto_pad = low.attr(node, "auto_pad", "NOTSET")
    ceil_mode = bool(low.attr(node, "ceil_mode", 0))
    sizes = x_shape[2:]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        before, after = [0] * dims, [0] * dims
        for axis, size in enumerate(sizes):
            effective = (kernel[axis] - 1) * dilation[axis] + 1
            total = max((math.ceil(size / stride[axis]) - 1) * stride[axis] + effective - size, 0)
            small, large = total // 2, total - total // 2
            before[axis], after[axis] = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
    elif auto_pad == "VALID":
        before, after = [0] * dims, [0] * dims
    else:
        pads = list(low.attr(node, "pads", [0] * (2 * dims)))
        before, after = pads[:dims], pads[dims:]
    expected = [window_output_size(sizes[i], kernel[i], stride[i], dilation[i], before[i], after[i], ceil_mode)
                for i in range(dims)]
    actual = low.shape(node.output[0])[2:]
    if expected != actual:
        raise Unmappable(f"its output is {actual} {'long' if dims == 1 else 'high/wide'} where its attributes give {expected}")
    return stride, dilation, before, after, ceil_mode


def _spatial_attrs(low: OnnxLowering, node, kernel: List[int]):
    """stride, dilation, [top, left, bottom, right] of a 2-D windowed op, checked against the inferred output."""
    x_shape = low.shape(node.input[0])
    if len(x_shape) != 4 or len(kernel) != 2:
        raise Unmappable(f"it is not 2-D (input rank {len(x_shape)}); edgespec handles 2-D windows")
    stride, dilation, before, after, ceil_mode = _window_attrs(low, node, kernel)
    return stride, dilation, [before[0], before[1], after[0], after[1]], ceil_mode


def _is_1d(low: OnnxLowering, node) -> bool:
    return len(low.shape(node.input[0])) == 3


def _window_1d(low: OnnxLowering, node, kernel: List[int]):
    """A 1-D window's attributes as its 2-D form over [N, C, 1, L] (capture/window_1d.py)."""
    stride, dilation, before, after, ceil_mode = _window_attrs(low, node, kernel)
    return window_attrs_2d(stride[0], before[0], after[0], dilation[0]), ceil_mode


def _emit_1d(low: OnnxLowering, node, op: str, weights: List[str], attrs) -> None:
    """op over [N, C, L] as its 2-D form over [N, C, 1, L]."""
    x, output = low.value(node.input[0]), node.output[0]
    y = low.declare(output)
    sink = Sink(lambda suffix, shape: low.builder.add_tensor(f"{output}.{suffix}", shape, "float32", "activation"),
                lambda op_, inputs, outputs, attrs_: low.add_node(op_, inputs, outputs, attrs_))
    lower_as_2d(sink, op, x, low.shape(node.input[0]), weights, attrs, y, low.shape(output))
    low.names[output] = y


def _emit_per_channel(low: OnnxLowering, node, op: str, weights: List[str], attrs) -> None:
    """A per-channel op over [N, C, ...] as its 2-D form over [N, C, 1, L*...] (window_1d.lower_per_channel_as_2d)."""
    x, output = low.value(node.input[0]), node.output[0]
    y = low.declare(output)
    sink = Sink(lambda suffix, shape: low.builder.add_tensor(f"{output}.{suffix}", shape, "float32", "activation"),
                lambda op_, inputs, outputs, attrs_: low.add_node(op_, inputs, outputs, attrs_))
    lower_per_channel_as_2d(sink, op, x, low.shape(node.input[0]), weights, attrs, y)
    low.names[output] = y


def conv(low: OnnxLowering, node) -> None:
    weight = low.constant(node.input[1], "weight")
    if weight.ndim == 3:
        return _conv1d(low, node, weight)
    if weight.ndim != 4:
        raise Unmappable(f"it is a {weight.ndim - 2}-D convolution; edgespec handles 1-D and 2-D")
    kernel = list(low.attr(node, "kernel_shape", list(weight.shape[2:])))
    stride, dilation, padding, _ = _spatial_attrs(low, node, kernel)
    inputs = [low.value(node.input[0]), low.weight(node.input[1])]
    if low.has_input(node, 2):
        low.constant(node.input[2], "bias")
        inputs.append(low.weight(node.input[2]))
    low.emit("conv2d", inputs, {"stride": stride, "padding": padding, "dilation": dilation,
                                "groups": int(low.attr(node, "group", 1)), "weight_layout": "OIHW"})


def _conv1d(low: OnnxLowering, node, weight: np.ndarray) -> None:
    kernel = list(low.attr(node, "kernel_shape", list(weight.shape[2:])))
    attrs, _ = _window_1d(low, node, kernel)
    weights = [low.weight(node.input[1], weight_2d(weight), f"{node.input[1]}.2d")]
    if low.has_input(node, 2):
        low.constant(node.input[2], "bias")
        weights.append(low.weight(node.input[2]))
    _emit_1d(low, node, "conv2d", weights, {**attrs, "groups": int(low.attr(node, "group", 1)), "weight_layout": "OIHW"})


def conv_transpose(low: OnnxLowering, node) -> None:
    """ConvTranspose: pads, or output_shape / auto_pad (the padding read off the inferred output, its odd
    pixel after for SAME_UPPER and before otherwise); rows the windows do not reach are output_padding."""
    weight = low.constant(node.input[1], "weight")
    x_shape, y_shape = low.shape(node.input[0]), low.shape(node.output[0])
    dims = weight.ndim - 2
    if dims not in (1, 2) or len(x_shape) != weight.ndim:
        raise Unmappable(f"it is a {weight.ndim - 2}-D transposed convolution; edgespec handles 1-D and 2-D")
    kernel = list(low.attr(node, "kernel_shape", list(weight.shape[2:])))
    stride = list(low.attr(node, "strides", [1] * dims))
    dilation = list(low.attr(node, "dilations", [1] * dims))
    extra = list(low.attr(node, "output_padding", [0] * dims))
    auto_pad = low.attr(node, "auto_pad", "NOTSET")
    explicit = auto_pad in ("NOTSET", "VALID") and low.attr(node, "output_shape", None) is None
    pads = list(low.attr(node, "pads", [0] * (2 * dims))) if auto_pad == "NOTSET" else [0] * (2 * dims)
    for axis in range(dims):
        full = (x_shape[2 + axis] - 1) * stride[axis] + (kernel[axis] - 1) * dilation[axis] + 1
        if explicit:
            expected = full - pads[axis] - pads[axis + dims] + extra[axis]
            if expected != y_shape[2 + axis]:
                raise Unmappable(f"its output is {y_shape[2:]} high/wide where its attributes give {expected} along axis {axis}")
            continue
        total = full + extra[axis] - y_shape[2 + axis]
        if total < 0:  # the output reaches past every window: bias-only rows, as output_padding
            pads[axis], pads[axis + dims], extra[axis] = 0, 0, extra[axis] - total
            continue
        small, large = total // 2, total - total // 2
        pads[axis], pads[axis + dims] = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
    groups = int(low.attr(node, "group", 1))
    if dims == 1:  # over [N, C, 1, L] (capture/window_1d.py)
        weights = [low.weight(node.input[1], weight_2d(weight), f"{node.input[1]}.2d")]
        if low.has_input(node, 2):
            low.constant(node.input[2], "bias")
            weights.append(low.weight(node.input[2]))
        attrs = window_attrs_2d(stride[0], pads[0], pads[1], dilation[0])
        return _emit_1d(low, node, "conv_transpose2d", weights, {**attrs, "output_padding": [0, extra[0]], "groups": groups,
                                                                 "weight_layout": "IOHW"})
    inputs = [low.value(node.input[0]), low.weight(node.input[1])]
    if low.has_input(node, 2):
        low.constant(node.input[2], "bias")
        inputs.append(low.weight(node.input[2]))
    low.emit("conv_transpose2d", inputs, {"stride": stride, "padding": pads, "output_padding": extra, "dilation": dilation,
                                          "groups": groups, "weight_layout": "IOHW"})


def gemm(low: OnnxLowering, node) -> None:
    """Y = alpha * A' B' + beta * C. The common case (constant B, alpha = 1, a bias C) is one linear;
    otherwise a transpose of A, a matmul with a computed B, a scale and a broadcast add, as needed."""
    alpha, beta = float(low.attr(node, "alpha", 1.0)), float(low.attr(node, "beta", 1.0))
    trans_a, trans_b = bool(low.attr(node, "transA", 0)), bool(low.attr(node, "transB", 0))
    has_c = low.has_input(node, 2) and beta != 0.0
    output = node.output[0]
    if not trans_a and alpha == 1.0 and low.is_constant(node.input[1]) and low.constant(node.input[1], "weight").ndim == 2:
        c = low.constant(node.input[2], "bias") * np.float32(beta) if has_c and low.is_constant(node.input[2]) else None
        b = low.constant(node.input[1], "weight")
        out_features = b.shape[0] if trans_b else b.shape[1]
        if not has_c or (c is not None and c.size == out_features):
            weight = low.weight(node.input[1]) if trans_b else low.weight(node.input[1], np.ascontiguousarray(b.T), f"{node.input[1]}.T")
            inputs = [low.value(node.input[0]), weight]
            if has_c:
                name = node.input[2] if beta == 1.0 and c.ndim == 1 else f"{node.input[2]}.bias"
                inputs.append(low.weight(node.input[2], np.ascontiguousarray(c.reshape(-1), dtype=np.float32), name))
            low.emit("linear", inputs, {})
            return
    a_shape, b_shape = low.shape(node.input[0]), low.shape(node.input[1])
    fresh = lambda suffix, shape: low.builder.add_tensor(f"{output}.{suffix}", shape, "float32", "activation")  # noqa: E731
    a = low.value(node.input[0])
    if trans_a:
        a_t = fresh("a_t", [a_shape[1], a_shape[0]])
        low.add_node("transpose", [a], [a_t], {"perm": [1, 0]})
        a, a_shape = a_t, [a_shape[1], a_shape[0]]
    steps = (["scale"] if alpha != 1.0 else []) + (["add"] if has_c else [])
    product = fresh("product", [a_shape[0], b_shape[0] if trans_b else b_shape[1]]) if steps else low.declare(output)
    if low.is_constant(node.input[1]):  # a constant B is a linear's weight, laid out [N, K] here
        b_const = low.constant(node.input[1], "weight")
        weight = low.weight(node.input[1]) if trans_b else low.weight(node.input[1], np.ascontiguousarray(b_const.T), f"{node.input[1]}.T")
        low.add_node("linear", [a, weight], [product], {})
    else:
        b = low.value(node.input[1])
        if trans_b:
            b_t = fresh("b_t", [b_shape[1], b_shape[0]])
            low.add_node("transpose", [b], [b_t], {"perm": [1, 0]})
            b = b_t
        low.add_node("matmul", [a, b], [product], {})
    b_shape = [b_shape[1], b_shape[0]] if trans_b else b_shape
    if alpha != 1.0:
        scaled = fresh("scaled", [a_shape[0], b_shape[1]]) if has_c else low.declare(output)
        low.add_node("mul", [product], [scaled], {"scalar": alpha})
        product = scaled
    if has_c:
        if low.is_constant(node.input[2]):
            c = low.constant(node.input[2], "C") * np.float32(beta)
            c_value = low.weight(node.input[2], np.ascontiguousarray(c, dtype=np.float32), node.input[2] if beta == 1.0 else f"{node.input[2]}.scaled")
        else:
            c_value = low.value(node.input[2])
            if beta != 1.0:
                c_scaled = fresh("c_scaled", low.shape(node.input[2]))
                low.add_node("mul", [c_value], [c_scaled], {"scalar": beta})
                c_value = c_scaled
        result = low.declare(output)
        low.add_node("add", [product, c_value], [result], {})
        product = result
    low.names[output] = product


def matmul(low: OnnxLowering, node) -> None:
    a, b = node.input[0], node.input[1]
    if low.is_constant(b) and low.constant(b, "operand").ndim == 2:
        weight = low.constant(b, "operand")
        low.emit("linear", [low.value(a), low.weight(b, np.ascontiguousarray(weight.T), f"{b}.T")], {})
    else:
        low.emit("matmul", [low.value(a), low.value(b)], {})


def _binary(vocab_op: str, commutative: bool) -> Rule:
    def rule(low: OnnxLowering, node) -> None:
        a, b = node.input[0], node.input[1]
        if low.is_constant(a) and not low.is_constant(b) and commutative:
            a, b = b, a
        if low.is_constant(b) and not low.is_constant(a) and low.constant(b, "operand").size == 1 \
                and low.shape(node.output[0]) == low.shape(a):
            low.emit(vocab_op, [low.value(a)], {"scalar": float(low.constant(b, "operand").reshape(-1)[0])})
        else:
            integers = vocab_op in ("add", "sub", "mul")
            low.emit(vocab_op, [low.value(a, integers), low.value(b, integers)], {}, integers=integers)
    return rule


def _unary(vocab_op: str) -> Rule:
    def rule(low: OnnxLowering, node) -> None:
        low.emit(vocab_op, [low.value(node.input[0])], {})
    return rule


def hard_sigmoid(low: OnnxLowering, node) -> None:
    """HardSigmoid max(0, min(1, alpha * x + beta)): PyTorch's alpha 1/6 is hardsigmoid; other slopes (Keras'
    and Paddle's 0.2, as tf2onnx and paddle2onnx write them) are a scale, a shift and a clamp to [0, 1]."""
    alpha, beta = float(low.attr(node, "alpha", 0.2)), float(low.attr(node, "beta", 0.5))
    x = low.value(node.input[0])
    if abs(alpha - 1 / 6) <= 1e-6 and abs(beta - 0.5) <= 1e-6:
        return low.emit("hardsigmoid", [x], {})
    shape, output = low.shape(node.output[0]), node.output[0]
    scaled = low.builder.add_tensor(f"{output}.scaled", shape, "float32", "activation")
    shifted = low.builder.add_tensor(f"{output}.shifted", shape, "float32", "activation")
    low.add_node("mul", [x], [scaled], {"scalar": alpha})
    low.add_node("add", [scaled], [shifted], {"scalar": beta})
    low.emit("clamp", [shifted], {"min": 0.0, "max": 1.0})


def gelu(low: OnnxLowering, node) -> None:
    low.emit("gelu", [low.value(node.input[0])], {"approximate": low.attr(node, "approximate", "none")})


def leaky_relu(low: OnnxLowering, node) -> None:
    low.emit("leaky_relu", [low.value(node.input[0])], {"negative_slope": float(low.attr(node, "alpha", 0.01))})


def elu(low: OnnxLowering, node) -> None:
    low.emit("elu", [low.value(node.input[0])], {"alpha": float(low.attr(node, "alpha", 1.0))})


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def selu(low: OnnxLowering, node) -> None:
    """Selu's defaults are SELU's constants rounded to float32; other values are elu then mul."""
    alpha, gamma = float(low.attr(node, "alpha", SELU_ALPHA)), float(low.attr(node, "gamma", SELU_SCALE))
    x = low.value(node.input[0])
    if math.isclose(alpha, SELU_ALPHA, rel_tol=1e-6) and math.isclose(gamma, SELU_SCALE, rel_tol=1e-6):
        return low.emit("selu", [x], {})
    unscaled = low.builder.add_tensor(f"{node.output[0]}.elu", low.shape(node.output[0]), "float32", "activation")
    low.add_node("elu", [x], [unscaled], {"alpha": alpha})
    low.emit("mul", [unscaled], {"scalar": gamma})


def prelu(low: OnnxLowering, node) -> None:
    """PRelu's slope broadcasts against X (NumPy rules); PyTorch exports [C, 1, 1]."""
    low.emit("prelu", [low.value(node.input[0]), low.value(node.input[1])], {})


def power(low: OnnxLowering, node) -> None:
    if not low.is_constant(node.input[1]):
        return low.emit("pow_tensor", [low.value(node.input[0]), low.value(node.input[1])], {})
    exponent = low.constant(node.input[1], "exponent").reshape(-1)
    if exponent.size != 1 or not np.isfinite(exponent[0]):
        raise Unmappable(f"its exponent has {exponent.size} values; edgespec takes one constant exponent")
    low.emit("pow", [low.value(node.input[0])], {"exponent": float(exponent[0])})


def _max_min(vocab_op: str) -> Rule:
    """Max and Min take one or more inputs, broadcast: a chain of two-input nodes."""
    def rule(low: OnnxLowering, node) -> None:
        inputs = [name for name in node.input if name]
        if len(inputs) == 1:
            return low.alias(node.output[0], low.value(inputs[0]))
        acc, shape = low.value(inputs[0]), low.shape(inputs[0])
        for position, name in enumerate(inputs[1:-1], start=1):
            shape = list(np.broadcast_shapes(tuple(shape), tuple(low.shape(name))))
            partial = low.builder.add_tensor(f"{node.output[0]}.{vocab_op}{position}", shape, "float32", "activation")
            low.add_node(vocab_op, [acc, low.value(name)], [partial], {})
            acc = partial
        low.emit(vocab_op, [acc, low.value(inputs[-1])], {})
    return rule


def clip(low: OnnxLowering, node) -> None:
    if low.opset < 11:
        lo, hi = low.attr(node, "min", None), low.attr(node, "max", None)
    else:
        lo = float(low.constant(node.input[1], "min").reshape(-1)[0]) if low.has_input(node, 1) else None
        hi = float(low.constant(node.input[2], "max").reshape(-1)[0]) if low.has_input(node, 2) else None
    if lo == 0.0 and hi is None:
        low.emit("relu", [low.value(node.input[0])], {})
    else:
        low.emit("clamp", [low.value(node.input[0])], {"min": lo, "max": hi})


def _softmax_like(vocab_op: str) -> Rule:
    """Softmax / LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1): the op
    normalizes over all later axes together, computed here as a reshape to [..., product of those axes],
    the op over that last axis, and a reshape back."""
    def rule(low: OnnxLowering, node) -> None:
        shape = low.shape(node.input[0])
        rank = len(shape)
        axis = normalize_axis(int(low.attr(node, "axis", -1 if low.opset >= 13 else 1)), rank)
        if low.opset >= 13 or axis == rank - 1 or all(size == 1 for size in shape[axis + 1:]):
            return low.emit(vocab_op, [low.value(node.input[0])], {"axis": axis})
        output = node.output[0]
        flat_shape = shape[:axis] + [int(np.prod(shape[axis:]))]
        flat = low.builder.add_tensor(f"{output}.flat", flat_shape, "float32", "activation")
        normalized = low.builder.add_tensor(f"{output}.flat_{vocab_op}", flat_shape, "float32", "activation")
        low.add_node("reshape", [low.value(node.input[0])], [flat], {"shape": flat_shape})
        low.add_node(vocab_op, [flat], [normalized], {"axis": axis})
        low.emit("reshape", [normalized], {"shape": low.shape(output)})
    return rule


def max_pool(low: OnnxLowering, node) -> None:
    if len(node.output) > 1 and node.output[1]:
        return max_pool_with_indices(low, node)
    kernel = list(low.attr(node, "kernel_shape"))
    if _is_1d(low, node):
        attrs, ceil_mode = _window_1d(low, node, kernel)
        return _emit_1d(low, node, "max_pool2d", [], {"kernel": [1, kernel[0]], **attrs, "ceil_mode": ceil_mode})
    stride, dilation, padding, ceil_mode = _spatial_attrs(low, node, kernel)
    low.emit("max_pool2d", [low.value(node.input[0])],
             {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "ceil_mode": ceil_mode})


def average_pool(low: OnnxLowering, node) -> None:
    kernel = list(low.attr(node, "kernel_shape"))
    if _is_1d(low, node):
        attrs, ceil_mode = _window_1d(low, node, kernel)
        if attrs.pop("dilation") != [1, 1]:
            raise Unmappable("it is dilated; edgespec's avg_pool2d is not")
        return _emit_1d(low, node, "avg_pool2d", [], {
            "kernel": [1, kernel[0]], **attrs, "ceil_mode": ceil_mode,
            "count_include_pad": bool(low.attr(node, "count_include_pad", 0)), "divisor_override": None})
    stride, dilation, padding, ceil_mode = _spatial_attrs(low, node, kernel)
    if dilation != [1, 1]:
        raise Unmappable("it is dilated; edgespec's avg_pool2d is not")
    low.emit("avg_pool2d", [low.value(node.input[0])],
             {"kernel": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode,
              "count_include_pad": bool(low.attr(node, "count_include_pad", 0)), "divisor_override": None})


def global_average_pool(low: OnnxLowering, node) -> None:
    rank = len(low.shape(node.input[0]))
    low.emit("mean", [low.value(node.input[0])], {"axes": list(range(2, rank)), "keepdim": True})


def _reduce(vocab_op: str, axes_input_from: int):
    """ReduceMean, ReduceMax and ReduceMin (axes an input from opset 18), ReduceSum (from opset 13)."""
    def rule(low: OnnxLowering, node) -> None:
        axes, keepdim = reduce_axes(low, node, axes_input_from)
        if axes is None:
            low.alias(node.output[0], low.value(node.input[0]))
            return
        low.emit(vocab_op, [low.value(node.input[0])], {"axes": axes, "keepdim": keepdim})
    return rule


def _arg_reduce(vocab_op: str):
    def rule(low: OnnxLowering, node) -> None:
        rank = len(low.shape(node.input[0]))
        low.emit(vocab_op, [low.value(node.input[0])],
                 {"axis": normalize_axis(int(low.attr(node, "axis", 0)), rank), "keepdim": bool(low.attr(node, "keepdims", 1)),
                  "select_last_index": bool(low.attr(node, "select_last_index", 0))}, integers=True)
    return rule


def _used_outputs(node) -> int:
    return sum(1 for name in node.output if name)


def _keeps_shape(low: OnnxLowering, node) -> None:
    """A normalization's output has its input's shape; onnx's shape inference leaves function ops
    such as GroupNormalization-21 unshaped."""
    if node.output[0] not in low.shapes:
        low.shapes[node.output[0]] = low.shape(node.input[0])


def layer_normalization(low: OnnxLowering, node) -> None:
    if _used_outputs(node) > 1:
        raise Unmappable("its Mean or InvStdDev output is used")
    _keeps_shape(low, node)
    rank = len(low.shape(node.input[0]))
    axis = normalize_axis(int(low.attr(node, "axis", -1)), rank)
    inputs = [low.value(node.input[0]), low.weight(node.input[1])]
    if low.has_input(node, 2):
        low.constant(node.input[2], "bias")
        inputs.append(low.weight(node.input[2]))
    low.emit("layer_norm", inputs, {"axis": axis, "eps": float(low.attr(node, "epsilon", 1e-5))})


def _channel_affine(low: OnnxLowering, node, scale: np.ndarray, bias: np.ndarray, channels: int) -> list:
    """Per-channel weight and bias; GroupNormalization before opset 21 gives them per group."""
    per = channels // scale.size
    scale, bias = np.repeat(scale.reshape(-1), per), np.repeat(bias.reshape(-1), per)
    suffix = "" if per == 1 else ".per_channel"
    return [low.weight(node.input[1], scale.astype(np.float32), node.input[1] + suffix),
            low.weight(node.input[2], bias.astype(np.float32), node.input[2] + suffix)]


def group_normalization(low: OnnxLowering, node) -> None:
    _keeps_shape(low, node)
    shape = low.shape(node.input[0])
    groups = int(low.attr(node, "num_groups"))
    scale, bias = low.constant(node.input[1], "scale"), low.constant(node.input[2], "bias")
    if scale.size not in (groups, shape[1]) or bias.size != scale.size:
        raise Unmappable(f"its scale has {scale.size} values for {groups} groups of {shape[1]} channels")
    low.emit("group_norm", [low.value(node.input[0])] + _channel_affine(low, node, scale, bias, shape[1]),
             {"groups": groups, "eps": float(low.attr(node, "epsilon", 1e-5))})


def instance_normalization(low: OnnxLowering, node) -> None:
    _keeps_shape(low, node)
    channels = low.shape(node.input[0])[1]
    scale, bias = low.constant(node.input[1], "scale"), low.constant(node.input[2], "bias")
    low.emit("group_norm", [low.value(node.input[0])] + _channel_affine(low, node, scale, bias, channels),
             {"groups": channels, "eps": float(low.attr(node, "epsilon", 1e-5))})


def onnx_slice(low: OnnxLowering, node) -> None:
    """Slice: starts, ends, axes and steps are inputs from opset 10 (constants here), attributes before."""
    shape = low.shape(node.input[0])
    if low.opset >= 10:
        read = lambda i, what: [int(v) for v in low.constant(node.input[i], what).reshape(-1)] if low.has_input(node, i) else None
        starts, ends, axes, steps = read(1, "starts"), read(2, "ends"), read(3, "axes"), read(4, "steps")
    else:
        starts, ends = list(low.attr(node, "starts")), list(low.attr(node, "ends"))
        axes, steps = low.attr(node, "axes", None), None
    axes = list(range(len(starts))) if axes is None else [normalize_axis(a, len(shape)) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    attrs = slice_attrs(shape, {axis: (b, e, s) for axis, b, e, s in zip(axes, starts, ends, steps)})
    if attrs["sizes"] == shape and attrs["steps"] == [1] * len(shape):
        return low.alias(node.output[0], low.value(node.input[0]))
    low.emit("slice", [low.value(node.input[0])], attrs)


def onnx_gather(low: OnnxLowering, node) -> None:
    """Gather with constant indices: a scalar index is a slice of one then a reshape that drops the axis.
    Indices computed at run time (an int32 / int64 input): take, negative ones counting from the end."""
    shape = low.shape(node.input[0])
    axis = normalize_axis(int(low.attr(node, "axis", 0)), len(shape))
    if not low.is_constant(node.input[1]):
        return low.emit("take", [low.value(node.input[0]), low.value(node.input[1])], {"axis": axis, "negative_indices": True})
    indices = low.constant(node.input[1], "indices")
    out_shape = low.shape(node.output[0])
    x = low.value(node.input[0])
    if indices.ndim == 0:
        index = int(indices) + (shape[axis] if int(indices) < 0 else 0)
        kept = shape[:axis] + [1] + shape[axis + 1:]
        one = low.builder.add_tensor(f"{node.output[0]}.slice", kept, "float32", "activation")
        low.add_node("slice", [x], [one], slice_attrs(shape, {axis: (index, index + 1, 1)}))
        return low.emit("reshape", [one], {"shape": out_shape})
    flat = [int(i) for i in indices.reshape(-1)]
    if indices.ndim == 1:
        return low.emit("gather", [x], {"axis": axis, "indices": flat})
    rows = low.builder.add_tensor(f"{node.output[0]}.rows", shape[:axis] + [len(flat)] + shape[axis + 1:], "float32", "activation")
    low.add_node("gather", [x], [rows], {"axis": axis, "indices": flat})
    low.emit("reshape", [rows], {"shape": out_shape})


def gather_elements(low: OnnxLowering, node) -> None:
    """GatherElements (torch.gather) with constant indices: y[i][j][k] = x[i][indices[i][j][k]][k] for axis 1.
    Every output element reads one element of x at a position known at capture, so it is a gather of
    those flat positions from x flattened, reshaped to the indices' shape."""
    shape = low.shape(node.input[0])
    axis = normalize_axis(int(low.attr(node, "axis", 0)), len(shape))
    if not low.is_constant(node.input[1]):
        raise Unmappable("its indices are computed at run time; edgespec gathers elements at constant indices")
    indices = low.constant(node.input[1], "indices").astype(np.int64)
    if indices.ndim != len(shape):
        raise Unmappable(f"its indices have rank {indices.ndim} where its input has rank {len(shape)}")
    wrapped = np.where(indices < 0, indices + shape[axis], indices)
    if wrapped.size and (wrapped.min() < 0 or wrapped.max() >= shape[axis]):
        raise Unmappable(f"an index is outside [-{shape[axis]}, {shape[axis]}) on axis {axis}")
    coordinates = list(np.indices(indices.shape))
    coordinates[axis] = wrapped
    flat = np.ravel_multi_index(tuple(coordinates), shape).reshape(-1) if indices.size else np.zeros(0, np.int64)
    output, total = node.output[0], int(np.prod(shape))
    x = low.value(node.input[0])
    if list(indices.shape) == shape and np.array_equal(flat, np.arange(total)):
        return low.alias(output, x)
    flat_x = low.builder.add_tensor(f"{output}.flat", [total], "float32", "activation")
    low.add_node("reshape", [x], [flat_x], {"shape": [total]})
    picked = low.builder.add_tensor(f"{output}.picked", [int(flat.size)], "float32", "activation")
    low.add_node("gather", [flat_x], [picked], {"axis": 0, "indices": [int(i) for i in flat]})
    low.emit("reshape", [picked], {"shape": list(indices.shape)})


def onnx_expand(low: OnnxLowering, node) -> None:
    low.constant(node.input[1], "shape")
    shape, out = low.shape(node.input[0]), low.shape(node.output[0])
    if shape == out:
        return low.alias(node.output[0], low.value(node.input[0]))
    low.emit("expand", [low.value(node.input[0])], {"shape": out})


def onnx_tile(low: OnnxLowering, node) -> None:
    repeats = [int(r) for r in low.constant(node.input[1], "repeats").reshape(-1)]
    if all(r == 1 for r in repeats):
        return low.alias(node.output[0], low.value(node.input[0]))
    low.emit("tile", [low.value(node.input[0])], {"repeats": repeats})


def onnx_where(low: OnnxLowering, node) -> None:
    """Where with a constant condition; its operands may be constants of any float value."""
    condition = low.constant(node.input[0], "condition").astype(bool)
    out = low.shape(node.output[0])
    for branch, pick in ((1, condition.all()), (2, not condition.any())):
        if pick and low.shape(node.input[branch]) == out and not low.is_constant(node.input[branch]):
            return low.alias(node.output[0], low.value(node.input[branch]))
    operands = [low.weight(node.input[0], condition.astype(np.float32), node.input[0] + ".mask")]
    for name in node.input[1:3]:
        operands.append(low.weight(name, low.constant(name, "operand").astype(np.float32), name + ".float")
                        if low.is_constant(name) else low.value(name))
    low.emit("where", operands, {})


def reshape(low: OnnxLowering, node) -> None:
    low.emit("reshape", [low.value(node.input[0])], {"shape": low.shape(node.output[0])}, integers=True)


def concat(low: OnnxLowering, node) -> None:
    rank = len(low.shape(node.output[0]))
    low.emit("concat", [low.value(i) for i in node.input], {"axis": normalize_axis(int(low.attr(node, "axis")), rank)})


def split(low: OnnxLowering, node) -> None:
    rank = len(low.shape(node.input[0]))
    axis = normalize_axis(int(low.attr(node, "axis", 0)), rank)
    sizes = [low.shape(o)[axis] for o in node.output]
    outputs = [low.declare(o) for o in node.output]
    low.add_node("split", [low.value(node.input[0])], outputs, {"axis": axis, "sizes": sizes})
    for name, tensor in zip(node.output, outputs):
        low.names[name] = tensor


def transpose(low: OnnxLowering, node) -> None:
    rank = len(low.shape(node.input[0]))
    perm = [int(p) for p in low.attr(node, "perm", list(range(rank - 1, -1, -1)))]
    low.emit("transpose", [low.value(node.input[0])], {"perm": perm})


def batch_normalization(low: OnnxLowering, node) -> None:
    if low.attr(node, "training_mode", 0):
        raise Unmappable("it is in training mode")
    if any(o for o in node.output[1:]):
        raise Unmappable("it outputs running statistics (training mode)")
    for name in node.input[1:5]:
        low.constant(name, "statistic")
    statistics = [low.weight(name) for name in node.input[1:5]]
    if len(low.shape(node.input[0])) not in (2, 4):  # [N, C, L] or [N, C, D, H, W]: the channels of [N, C, 1, L*...]
        return _emit_per_channel(low, node, "batch_norm", statistics, {"eps": float(low.attr(node, "epsilon", 1e-5))})
    inputs = [low.value(node.input[0])] + statistics
    low.emit("batch_norm", inputs, {"eps": float(low.attr(node, "epsilon", 1e-5))})


def pad(low: OnnxLowering, node) -> None:
    mode = low.attr(node, "mode", "constant")
    if mode not in ("constant", "reflect", "edge"):
        raise Unmappable(f"its mode is {mode}; edgespec pads with a constant, reflect or edge")
    rank = len(low.shape(node.input[0]))
    if low.opset < 11:
        pads, value = list(low.attr(node, "pads")), float(low.attr(node, "value", 0.0))
    else:
        pads = [int(p) for p in low.constant(node.input[1], "pads").reshape(-1)]
        value = float(low.constant(node.input[2], "value").reshape(-1)[0]) if low.has_input(node, 2) else 0.0
    axes = list(range(rank))
    if low.has_input(node, 3):
        axes = [normalize_axis(int(a), rank) for a in low.constant(node.input[3], "axes").reshape(-1)]
    pairs = [[0, 0] for _ in range(rank)]
    for i, axis in enumerate(axes):
        pairs[axis] = [pads[i], pads[i + len(axes)]]
    if any(p < 0 for pair in pairs for p in pair):
        raise Unmappable("it crops (negative pads)")
    attrs = {"pads": pairs, "value": value}
    if mode != "constant":
        attrs["mode"] = mode
    low.emit("pad", [low.value(node.input[0])], attrs)


def _rearrange(kind: str):
    """DepthToSpace (DCR, CRD) and SpaceToDepth: reshape, 6-D transpose, reshape (capture/rearrange.py)."""
    def rule(low: OnnxLowering, node) -> None:
        shape, block = low.shape(node.input[0]), int(low.attr(node, "blocksize"))
        if len(shape) != 4:
            raise Unmappable(f"its input has rank {len(shape)}; it needs [N, C, H, W]")
        try:
            if kind == "depth":
                view, perm, out = rearrange.depth_to_space(shape, block, low.attr(node, "mode", "DCR"))
            else:
                view, perm, out = rearrange.space_to_depth(shape, block, "NCHW")
        except ValueError as e:
            raise Unmappable(str(e))
        output = node.output[0]
        viewed = low.builder.add_tensor(f"{output}.view", view, "float32", "activation")
        moved = low.builder.add_tensor(f"{output}.moved", permuted(view, perm), "float32", "activation")
        low.add_node("reshape", [low.value(node.input[0])], [viewed], {"shape": view})
        low.add_node("transpose", [viewed], [moved], {"perm": perm})
        low.emit("reshape", [moved], {"shape": out})
    return rule


def permuted(shape: List[int], perm: List[int]) -> List[int]:
    return [shape[p] for p in perm]


def resize(low: OnnxLowering, node) -> None:
    """Resize (opset 10+: X, roi, scales, sizes; opset 10: X, scales) and Upsample (opset 7: scales attribute,
    9: input), nearest and (bi)linear over H and W. Before opset 11 coordinates are asymmetric and nearest
    truncates (rounds up when shrinking), as onnxruntime runs them."""
    shape, out = low.shape(node.input[0]), low.shape(node.output[0])
    if len(shape) != 4 or shape[:2] != out[:2]:
        raise Unmappable(f"it resizes {shape} to {out}; edgespec resizes the H and W of [N, C, H, W]")
    mode = low.attr(node, "mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear"):
        raise Unmappable(f"its mode is {mode}; edgespec resizes with nearest and linear")
    if low.attr(node, "antialias", 0):
        raise Unmappable("it antialiases")
    if node.op_type == "Resize" and low.opset >= 11:
        coordinates = low.attr(node, "coordinate_transformation_mode", "half_pixel")
        nearest = low.attr(node, "nearest_mode", "round_prefer_floor")
        scales_input, sizes_given = 2, low.has_input(node, 3)
    else:
        coordinates, nearest = "asymmetric", "floor" if out[2] >= shape[2] and out[3] >= shape[3] else "ceil"
        scales_input, sizes_given = 1, False
    if coordinates not in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"):
        raise Unmappable(f"its coordinate_transformation_mode is {coordinates}")
    if sizes_given and low.attr(node, "keep_aspect_ratio_policy", "stretch") != "stretch":
        raise Unmappable("it keeps the aspect ratio (keep_aspect_ratio_policy)")
    scale = None
    if not sizes_given:
        if node.op_type == "Upsample" and low.opset < 9:
            scales = np.asarray(low.attr(node, "scales"), np.float32)
        elif low.has_input(node, scales_input):
            scales = low.constant(node.input[scales_input], "scales").astype(np.float32).reshape(-1)
        else:
            scales = np.zeros(0, np.float32)
        axes = [normalize_axis(int(a), 4) for a in low.attr(node, "axes", list(range(4 - len(scales), 4)))]
        full = dict(zip(axes, (float(s) for s in scales)))
        if full.get(0, 1.0) != 1.0 or full.get(1, 1.0) != 1.0:
            raise Unmappable("it scales the batch or channel axis")
        if 2 in full and 3 in full:
            scale = [full[2], full[3]]
    attrs = {"size": out[2:], "mode": "nearest" if mode == "nearest" else "bilinear", "coordinate_transformation": coordinates}
    if mode == "nearest":
        attrs["nearest_mode"] = nearest
    if scale is not None:
        attrs["scale"] = scale
    low.emit("resize", [low.value(node.input[0])], attrs)


def identity(low: OnnxLowering, node) -> None:
    if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
        raise Unmappable("its mask output is used")
    if low.is_constant(node.input[0]):
        low.constants[node.output[0]] = low.constants[node.input[0]]
    else:
        low.alias(node.output[0], low.value(node.input[0]))


def cast(low: OnnxLowering, node) -> None:
    """A Cast to the dtype the value already has (e.g. what a float64 model's casts become once it is
    cast to float32) is an identity; a real conversion is refused."""
    to = onnx_dtype_name(low.attr(node, "to"))
    have = low.dtypes.get(node.input[0], "float32")
    if to != have:
        raise Unmappable(f"it converts {have} to {to or 'another dtype'}")
    identity(low, node)


def constant(low: OnnxLowering, node) -> None:
    import onnx

    for attribute in node.attribute:
        if attribute.name == "value":
            low.constants[node.output[0]] = onnx.numpy_helper.to_array(attribute.t)
            return
        if attribute.name in ("value_float", "value_int"):
            low.constants[node.output[0]] = np.array(onnx.helper.get_attribute_value(attribute))
            return
        if attribute.name in ("value_floats", "value_ints"):
            low.constants[node.output[0]] = np.array(list(onnx.helper.get_attribute_value(attribute)))
            return
    raise Unmappable("it holds a constant edgespec cannot read (sparse or string)")


def onnx_if(low: OnnxLowering, node) -> None:
    """An If whose condition is a constant was inlined before lowering (prepare.inline_taken_branch); this one
    decides at run time. Say which model inputs its condition comes from, so that binding them fixes it."""
    inputs = _inputs_behind(low, node.input[0])
    if inputs:
        names = ", ".join(f"'{n}'" for n in inputs)
        raise Unmappable(f"its condition '{node.input[0]}' is computed at run time from input{'s' if len(inputs) > 1 else ''} "
                         f"{names}; bind {'them' if len(inputs) > 1 else 'it'} to a value at capture "
                         f"(--input-value {inputs[0]}=VALUE) so that the If takes one branch")
    raise Unmappable(f"its condition '{node.input[0]}' is computed at run time; bind the input it depends on to a value "
                     "at capture (--input-value NAME=VALUE) so that the If takes one branch")


def _inputs_behind(low: OnnxLowering, name: str) -> List[str]:
    """The graph inputs a value is computed from, in the graph's input order."""
    producers = {out: n for n in low.graph.node for out in n.output if out}
    graph_inputs = [i.name for i in low.graph.input if i.name not in low.constants]
    seen, pending, found = set(), [name], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in graph_inputs:
            found.add(current)
        elif current in producers:
            pending.extend(i for i in producers[current].input if i)
    return [n for n in graph_inputs if n in found]


RULES: Dict[str, Rule] = {
    "Conv": conv,
    "Gemm": gemm,
    "ConvTranspose": conv_transpose,
    "MatMul": matmul,
    "Add": _binary("add", True),
    "Sub": _binary("sub", False),
    "Mul": _binary("mul", True),
    "Div": _binary("div", False),
    "Relu": _unary("relu"),
    "Sigmoid": _unary("sigmoid"),
    "Tanh": _unary("tanh"),
    "HardSwish": _unary("hardswish"),
    "HardSigmoid": hard_sigmoid,
    "Gelu": gelu,
    "LeakyRelu": leaky_relu,
    "Elu": elu,
    "Selu": selu,
    "Softplus": _unary("softplus"),
    "Softsign": _unary("softsign"),
    "Mish": _unary("mish"),
    "PRelu": prelu,
    "Exp": _unary("exp"),
    "Erf": _unary("erf"),
    "Log": _unary("log"),
    "Sqrt": _unary("sqrt"),
    "Abs": _unary("abs"),
    "Neg": _unary("neg"),
    "Pow": power,
    "Max": _max_min("maximum"),
    "Min": _max_min("minimum"),
    "LogSoftmax": _softmax_like("log_softmax"),
    "Clip": clip,
    "Softmax": _softmax_like("softmax"),
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": global_average_pool,
    "ReduceMean": _reduce("mean", 18),
    "ReduceSum": _reduce("sum", 13),
    "ReduceMax": _reduce("reduce_max", 18),
    "ReduceMin": _reduce("reduce_min", 18),
    "ArgMax": _arg_reduce("argmax"),
    "ArgMin": _arg_reduce("argmin"),
    "Sum": _max_min("add"),
    "LayerNormalization": layer_normalization,
    "GroupNormalization": group_normalization,
    "InstanceNormalization": instance_normalization,
    "Slice": onnx_slice,
    "Gather": onnx_gather,
    "GatherElements": gather_elements,
    "Expand": onnx_expand,
    "Tile": onnx_tile,
    "Where": onnx_where,
    "Reshape": reshape,
    "Flatten": reshape,
    "Squeeze": reshape,
    "Unsqueeze": reshape,
    "Concat": concat,
    "Split": split,
    "Transpose": transpose,
    "BatchNormalization": batch_normalization,
    "Pad": pad,
    "DepthToSpace": _rearrange("depth"),
    "SpaceToDepth": _rearrange("space"),
    "Resize": resize,
    "Upsample": resize,
    "Identity": identity,
    "Dropout": identity,
    "Cast": cast,
    "Constant": constant,
    "If": onnx_if,
    **RECURRENT_RULES,
    **COMPOSITE_RULES,
    **DYNAMIC_RULES,
}
