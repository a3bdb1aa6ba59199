"""ONNX operators that edge models' files carry and that are a few vocabulary ops each (no op or
kernel of their own): the norms and log-sum reductions, GlobalMaxPool, Reciprocal, Mean, Swish,
Celu, LRN (old CNNs exported at opset 7), CumSum, two-operand Einsum; and the operators that are
post-processing (NonMaxSuppression, TopK), refused saying where they belong.

Facts from the ONNX operator specs: ReduceL1/L2/LogSum/LogSumExp/SumSquare take `axes` as an input
from opset 18 (an attribute before), keepdims defaults to 1; LRN sums the squares over channels
c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2), y = x / (bias + alpha / size * sum) ^ beta;
CumSum's `exclusive` leaves out the element itself, `reverse` sums from the end; Swish (opset 24)
is x * sigmoid(alpha * x); Celu is max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ..lowering_base import Unmappable, normalize_axis
from .lowering import OnnxLowering

Rule = Callable[[OnnxLowering, object], None]


def _temp(low: OnnxLowering, node, suffix: str, shape: List[int]) -> str:
    return low.builder.add_tensor(f"{node.output[0]}.{suffix}", [int(d) for d in shape], "float32", "activation")


def _step(low: OnnxLowering, node, suffix: str, op: str, inputs: List[str], attrs: Dict, shape: List[int]) -> str:
    """One intermediate node; its result tensor."""
    out = _temp(low, node, suffix, shape)
    low.add_node(op, inputs, [out], attrs)
    return out


def reduce_axes(low: OnnxLowering, node, axes_input_from: int = 18) -> Tuple[Optional[List[int]], bool]:
    """A Reduce* node's (axes, keepdim), the axes sorted and non-negative; axes None when the node is
    a no-op (empty axes with noop_with_empty_axes). The axes are an input from opset AXES_INPUT_FROM
    (13 for ReduceSum, 18 for the others), an attribute before."""
    rank = len(low.shape(node.input[0]))
    if low.opset >= axes_input_from:
        axes = [int(a) for a in low.constant(node.input[1], "axes").reshape(-1)] if low.has_input(node, 1) else []
    else:
        axes = list(low.attr(node, "axes", []))
    if not axes:
        if low.attr(node, "noop_with_empty_axes", 0):
            return None, True
        axes = list(range(rank))
    return sorted({normalize_axis(a, rank) for a in axes}), bool(low.attr(node, "keepdims", 1))


def _reduced_shape(shape: List[int], axes: List[int], keepdim: bool) -> List[int]:
    return [1 if a in axes else d for a, d in enumerate(shape) if keepdim or a not in axes]


def _norm_reduce(before: Optional[str], after: Optional[str]) -> Rule:
    """sum over axes of before(x) (abs, x*x, or x), then after (sqrt, log or nothing)."""
    def rule(low: OnnxLowering, node) -> None:
        axes, keepdim = reduce_axes(low, node)
        x, shape = low.value(node.input[0]), low.shape(node.input[0])
        if before == "square":
            x = _step(low, node, "square", "mul", [x, x], {}, shape)
        elif before is not None:
            x = _step(low, node, before, before, [x], {}, shape)
        if axes is None:
            return low.emit(after, [x], {}) if after else low.alias(node.output[0], x)
        if after is None:
            return low.emit("sum", [x], {"axes": axes, "keepdim": keepdim})
        summed = _step(low, node, "sum", "sum", [x], {"axes": axes, "keepdim": keepdim},
                       _reduced_shape(shape, axes, keepdim))
        low.emit(after, [summed], {})
    return rule


def reduce_log_sum_exp(low: OnnxLowering, node) -> None:
    """log(sum(exp(x - max))) + max, the max taken over the same axes (so a large x does not overflow)."""
    axes, keepdim = reduce_axes(low, node)
    x, shape = low.value(node.input[0]), low.shape(node.input[0])
    axes = list(range(len(shape))) if axes is None else axes
    kept = _reduced_shape(shape, axes, True)
    peak = _step(low, node, "max", "reduce_max", [x], {"axes": axes, "keepdim": True}, kept)
    shifted = _step(low, node, "shifted", "sub", [x, peak], {}, shape)
    exp = _step(low, node, "exp", "exp", [shifted], {}, shape)
    summed = _step(low, node, "sum", "sum", [exp], {"axes": axes, "keepdim": True}, kept)
    logged = _step(low, node, "log", "log", [summed], {}, kept)
    if keepdim:
        return low.emit("add", [logged, peak], {})
    total = _step(low, node, "lse", "add", [logged, peak], {}, kept)
    low.emit("reshape", [total], {"shape": low.shape(node.output[0])})


def global_max_pool(low: OnnxLowering, node) -> None:
    rank = len(low.shape(node.input[0]))
    low.emit("reduce_max", [low.value(node.input[0])], {"axes": list(range(2, rank)), "keepdim": True})


def reciprocal(low: OnnxLowering, node) -> None:
    low.emit("div", [low.weight(f"{node.output[0]}.one", np.ones([1], np.float32)), low.value(node.input[0])], {})


def mean(low: OnnxLowering, node) -> None:
    """Mean of one or more inputs, broadcast: a chain of adds, then a scale by 1 / n."""
    inputs = [name for name in node.input if name]
    if len(inputs) == 1:
        return low.alias(node.output[0], low.value(inputs[0]))
    acc, shape = low.value(inputs[0]), low.shape(inputs[0])
    for position, name in enumerate(inputs[1:], start=1):
        shape = list(np.broadcast_shapes(tuple(shape), tuple(low.shape(name))))
        acc = _step(low, node, f"add{position}", "add", [acc, low.value(name)], {}, shape)
    low.emit("mul", [acc], {"scalar": 1.0 / len(inputs)})


def swish(low: OnnxLowering, node) -> None:
    alpha = float(low.attr(node, "alpha", 1.0))
    x, shape = low.value(node.input[0]), low.shape(node.input[0])
    if alpha == 1.0:
        return low.emit("silu", [x], {})
    scaled = _step(low, node, "scaled", "mul", [x], {"scalar": alpha}, shape)
    gate = _step(low, node, "gate", "sigmoid", [scaled], {}, shape)
    low.emit("mul", [x, gate], {})


def celu(low: OnnxLowering, node) -> None:
    """alpha * elu(x / alpha) (elu with alpha 1)."""
    alpha = float(low.attr(node, "alpha", 1.0))
    x, shape = low.value(node.input[0]), low.shape(node.input[0])
    if alpha == 1.0:
        return low.emit("elu", [x], {"alpha": 1.0})
    scaled = _step(low, node, "scaled", "div", [x], {"scalar": alpha}, shape)
    unit = _step(low, node, "elu", "elu", [scaled], {"alpha": 1.0}, shape)
    low.emit("mul", [unit], {"scalar": alpha})


def lrn(low: OnnxLowering, node) -> None:
    """The window's sum of squares over channels as a 1x1 convolution with a banded weight (alpha / size inside
    the window) and `bias` as its bias, raised to -beta, times x."""
    shape = low.shape(node.input[0])
    if len(shape) != 4:
        raise Unmappable(f"it normalizes a rank-{len(shape)} tensor; edgespec handles [N, C, H, W]")
    size = int(low.attr(node, "size"))
    alpha, beta, bias = float(low.attr(node, "alpha", 1e-4)), float(low.attr(node, "beta", 0.75)), float(low.attr(node, "bias", 1.0))
    channels = shape[1]
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    band = np.zeros((channels, channels, 1, 1), np.float32)
    for c in range(channels):
        band[c, max(0, c - before):min(channels, c + after + 1)] = alpha / size
    x = low.value(node.input[0])
    square = _step(low, node, "square", "mul", [x, x], {}, shape)
    weights = [low.weight(f"{node.output[0]}.band", band), low.weight(f"{node.output[0]}.bias", np.full(channels, bias, np.float32))]
    scale = _step(low, node, "scale", "conv2d", [square] + weights,
                  {"stride": [1, 1], "padding": [0, 0, 0, 0], "dilation": [1, 1], "groups": 1, "weight_layout": "OIHW"}, shape)
    factor = _step(low, node, "factor", "pow", [scale], {"exponent": -beta}, shape)
    low.emit("mul", [x, factor], {})


def _transposed(low: OnnxLowering, node, suffix: str, x: str, shape: List[int], perm: List[int]) -> Tuple[str, List[int]]:
    if perm == sorted(perm):
        return x, shape
    moved = [shape[p] for p in perm]
    return _step(low, node, suffix, "transpose", [x], {"perm": perm}, moved), moved


def _reshaped(low: OnnxLowering, node, suffix: str, x: str, shape: List[int], wanted: List[int]) -> str:
    if list(shape) == list(wanted):
        return x
    return _step(low, node, suffix, "reshape", [x], {"shape": wanted}, wanted)


def cumsum(low: OnnxLowering, node) -> None:
    """The axis moved last, then a linear layer whose constant weight is the triangle of ones that sums each prefix
    (or suffix with `reverse`; without the element itself with `exclusive`), then moved back."""
    shape = low.shape(node.input[0])
    rank = len(shape)
    axis = normalize_axis(int(np.asarray(low.constant(node.input[1], "axis")).reshape(-1)[0]), rank)
    length = shape[axis]
    i, j = np.meshgrid(np.arange(length), np.arange(length), indexing="ij")  # weight[o = j, i]: x[i] adds to y[j]
    exclusive, reverse = bool(low.attr(node, "exclusive", 0)), bool(low.attr(node, "reverse", 0))
    takes = (i > j if exclusive else i >= j) if reverse else (i < j if exclusive else i <= j)
    weight = np.ascontiguousarray(takes.T.astype(np.float32))
    perm = [a for a in range(rank) if a != axis] + [axis]
    x, moved = _transposed(low, node, "last", low.value(node.input[0]), shape, perm)
    inverse = [perm.index(a) for a in range(rank)]
    triangle = low.weight(f"{node.output[0]}.triangle", weight)
    if inverse == list(range(rank)):
        return low.emit("linear", [x, triangle], {})
    summed = _step(low, node, "cumsum", "linear", [x, triangle], {}, moved)
    low.emit("transpose", [summed], {"perm": inverse})


def einsum(low: OnnxLowering, node) -> None:
    """One operand: a permutation, with a sum over the letters the output drops. Two operands without
    repeated letters or '...': each operand transposed to [batch, free, contracted] and reshaped to 3-D, a
    batched matmul, then the output's letters in its order."""
    equation = str(low.attr(node, "equation", "")).replace(" ", "")
    if "..." in equation or "->" not in equation:
        raise Unmappable(f"its equation '{equation[:60]}' has '...' or no '->'; edgespec reads explicit letters only")
    left, out = equation.split("->")
    terms = left.split(",")
    inputs = [name for name in node.input if name]
    if len(terms) != len(inputs) or len(terms) not in (1, 2) or any(len(set(t)) != len(t) for t in terms + [out]):
        raise Unmappable(f"its equation '{equation[:60]}' is not a one- or two-operand form without repeated letters")
    shapes = [low.shape(name) for name in inputs]
    sizes = {letter: size for term, shape in zip(terms, shapes) for letter, size in zip(term, shape)}
    if len(terms) == 1:
        return _einsum_one(low, node, terms[0], out, low.value(inputs[0]), shapes[0])
    a, b = terms
    if set(a) - set(b) - set(out) or set(b) - set(a) - set(out):
        raise Unmappable(f"its equation '{equation}' sums a letter of one operand alone; edgespec reads matmul forms")
    batch = [c for c in out if c in a and c in b]
    free_a = [c for c in a if c not in b]
    free_b = [c for c in b if c not in a]
    contracted = [c for c in a if c in b and c not in out]
    size = lambda letters: int(np.prod([sizes[c] for c in letters])) if letters else 1  # noqa: E731
    x, moved = _transposed(low, node, "a", low.value(inputs[0]), shapes[0], [a.index(c) for c in batch + free_a + contracted])
    x = _reshaped(low, node, "a3", x, moved, [size(batch), size(free_a), size(contracted)])
    y, moved = _transposed(low, node, "b", low.value(inputs[1]), shapes[1], [b.index(c) for c in batch + contracted + free_b])
    y = _reshaped(low, node, "b3", y, moved, [size(batch), size(contracted), size(free_b)])
    product_shape = [size(batch), size(free_a), size(free_b)]
    letters = batch + free_a + free_b
    full = [sizes[c] for c in letters]
    perm = [letters.index(c) for c in out]
    if perm == list(range(len(perm))):
        if full == product_shape:
            return low.emit("matmul", [x, y], {})
        product = _step(low, node, "matmul", "matmul", [x, y], {}, product_shape)
        return low.emit("reshape", [product], {"shape": full})
    product = _step(low, node, "matmul", "matmul", [x, y], {}, product_shape)
    product = _reshaped(low, node, "split", product, product_shape, full)
    low.emit("transpose", [product], {"perm": perm})


def _einsum_one(low: OnnxLowering, node, term: str, out: str, x: str, shape: List[int]) -> None:
    dropped = [term.index(c) for c in term if c not in out]
    if dropped:
        kept = [d for a, d in enumerate(shape) if a not in dropped]
        x = _step(low, node, "sum", "sum", [x], {"axes": dropped, "keepdim": False}, kept)
        term, shape = "".join(c for c in term if c in out), kept
    perm = [term.index(c) for c in out]
    if perm == list(range(len(perm))):
        return low.alias(node.output[0], x)
    low.emit("transpose", [x], {"perm": perm})


def max_pool_with_indices(low: OnnxLowering, node) -> None:
    """MaxPool whose Indices output feeds MaxUnpool (SegNet-style decoders; MediaPipe's hair segmenter as .onnx):
    the pooled values as max_pool2d; the indices stand for the window position of each window's first maximum,
    which MaxUnpool computes again from the pool's input (max_unpool below). Windows must tile the input."""
    shape = low.shape(node.input[0])
    kernel = [int(k) for k in low.attr(node, "kernel_shape")]
    strides = [int(s) for s in low.attr(node, "strides", [1] * len(kernel))]
    pads = [int(p) for p in low.attr(node, "pads", [0] * 2 * len(kernel))]
    tiled = (len(shape) == 4 and len(kernel) == 2 and kernel == strides and not any(pads)
             and low.attr(node, "auto_pad", "NOTSET") in ("NOTSET", "VALID")
             and all(d == 1 for d in low.attr(node, "dilations", [1, 1])) and not low.attr(node, "storage_order", 0)
             and shape[2] % kernel[0] == 0 and shape[3] % kernel[1] == 0)
    if not tiled:
        raise Unmappable(f"its Indices output is used with kernel {kernel}, strides {strides} and pads {pads} over "
                         f"{shape}; edgespec reads MaxPool indices when the windows tile a 2-D input (kernel = strides, "
                         "no padding) and only MaxUnpool reads them")
    low.emit("max_pool2d", [low.value(node.input[0])],
             {"kernel": kernel, "stride": strides, "padding": [0, 0, 0, 0], "dilation": [1, 1], "ceil_mode": False})
    low.pool_windows[node.output[1]] = (node.input[0], kernel)


def max_unpool(low: OnnxLowering, node) -> None:
    """MaxUnpool of tiled MaxPool indices: the pool's input as [N, C, h, w, kh*kw] windows, the argmax of each
    (the first of equal values, as the indices are), a one-hot row of it (take of an identity), times the
    values, laid back as [N, C, h*kh, w*kw]."""
    if node.input[1] not in low.pool_windows:
        raise Unmappable("its indices do not come from a MaxPool edgespec read with its indices")
    source, (kh, kw) = low.pool_windows[node.input[1]]
    kernel = [int(k) for k in low.attr(node, "kernel_shape")]
    strides = [int(s) for s in low.attr(node, "strides", [1, 1])]
    n, c, height, width = low.shape(source)
    h, w, k = height // kh, width // kw, kh * kw
    if kernel != [kh, kw] or strides != kernel or any(low.attr(node, "pads", [])) \
            or low.shape(node.output[0]) != [n, c, height, width] or low.shape(node.input[0]) != [n, c, h, w]:
        raise Unmappable(f"it unpools {kernel} windows with strides {strides} into {low.shape(node.output[0])}; edgespec "
                         f"reads the unpooling of the {[kh, kw]} windows of its MaxPool back to {[n, c, height, width]}")
    x = low.value(source)
    split = _step(low, node, "windows", "reshape", [x], {"shape": [n, c, h, kh, w, kw]}, [n, c, h, kh, w, kw])
    moved = _step(low, node, "by_window", "transpose", [split], {"perm": [0, 1, 2, 4, 3, 5]}, [n, c, h, w, kh, kw])
    flat = _step(low, node, "flat_windows", "reshape", [moved], {"shape": [n, c, h, w, k]}, [n, c, h, w, k])
    position = low.builder.add_tensor(f"{node.output[0]}.position", [n, c, h, w], "int64", "activation")
    low.add_node("argmax", [flat], [position], {"axis": 4, "keepdim": False, "select_last_index": False})
    identity = low.weight(f"{node.output[0]}.identity", np.eye(k, dtype=np.float32))
    one_hot = _step(low, node, "one_hot", "take", [identity, position], {"axis": 0}, [n, c, h, w, k])
    values = _step(low, node, "values", "reshape", [low.value(node.input[0])], {"shape": [n, c, h, w, 1]}, [n, c, h, w, 1])
    placed = _step(low, node, "placed", "mul", [one_hot, values], {}, [n, c, h, w, k])
    rows = _step(low, node, "rows", "reshape", [placed], {"shape": [n, c, h, w, kh, kw]}, [n, c, h, w, kh, kw])
    back = _step(low, node, "back", "transpose", [rows], {"perm": [0, 1, 2, 4, 3, 5]}, [n, c, h, kh, w, kw])
    low.emit("reshape", [back], {"shape": [n, c, height, width]})


def _post_processing(what: str) -> Rule:
    def rule(low: OnnxLowering, node) -> None:
        raise Unmappable(f"it is {what}, which edgespec leaves to the code that reads the image's outputs: export the "
                         "model up to the tensors it takes (the scores and boxes) and run it on the image's outputs")
    return rule


RULES: Dict[str, Rule] = {
    "ReduceL1": _norm_reduce("abs", None),
    "ReduceL2": _norm_reduce("square", "sqrt"),
    "ReduceSumSquare": _norm_reduce("square", None),
    "ReduceLogSum": _norm_reduce(None, "log"),
    "ReduceLogSumExp": reduce_log_sum_exp,
    "GlobalMaxPool": global_max_pool,
    "Reciprocal": reciprocal,
    "Mean": mean,
    "Swish": swish,
    "Celu": celu,
    "LRN": lrn,
    "CumSum": cumsum,
    "Einsum": einsum,
    "MaxUnpool": max_unpool,
    "NonMaxSuppression": _post_processing("detection post-processing (NonMaxSuppression: a data-dependent number of boxes)"),
    "TopK": _post_processing("a run-time sort (TopK)"),
}
