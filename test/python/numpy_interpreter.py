"""A slow, plain NumPy interpreter of the edgespec op vocabulary (src/common/ops.json).

It runs a bundle's graph.json in float64 straight from the semantics written in the
vocabulary, independently of PyTorch, so a test can check that capture chose the
right ops, attributes and layouts before any C kernel exists.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
from safetensors.numpy import load_file

OPS: Dict[str, Callable] = {}


def op(name: str):
    def register(fn):
        OPS[name] = fn
        return fn

    return register


def run_bundle(bundle: Path) -> List[np.ndarray]:
    """Run the bundle on its reference inputs; returns the outputs in graph order."""
    graph = json.loads((bundle / "graph.json").read_text())
    weights = load_file(str(bundle / "weights.safetensors"))
    reference = load_file(str(bundle / "reference.safetensors"))
    values: Dict[str, np.ndarray] = {name: w.astype(np.float64) if w.dtype == np.float32 else w for name, w in weights.items()}
    for io, ref_name in zip(graph["inputs"], graph["reference"]["inputs"]):
        given = reference[ref_name]
        values[io["tensor"]] = given if given.dtype.kind in "iu" else given.astype(np.float64)
    for node in graph["nodes"]:
        results = OPS[node["op"]](*[values[name] for name in node["inputs"]], **node["attrs"])
        results = results if isinstance(results, list) else [results]
        assert len(results) == len(node["outputs"]), node["name"]
        for name, value in zip(node["outputs"], results):
            assert list(value.shape) == graph["tensors"][name]["shape"], (node["name"], value.shape)
            values[name] = value
    return [values[io["tensor"]] for io in graph["outputs"]]


def reference_outputs(bundle: Path) -> List[np.ndarray]:
    graph = json.loads((bundle / "graph.json").read_text())
    reference = load_file(str(bundle / "reference.safetensors"))
    return [reference[name] for name in graph["reference"]["outputs"]]


# ----- convolution and matmul -----
def _out_size(size, before, after, kernel, stride, dilation, ceil_mode=False):
    span = size + before + after - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + before:  # the last window must start inside input or left padding
        out -= 1
    return out


@op("conv2d")
def conv2d(x, weight, bias=None, *, stride, padding, dilation, groups, weight_layout="OIHW", activation="none"):
    if weight_layout == "OHWI":
        weight = weight.transpose(0, 3, 1, 2)
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    top, left, bottom, right = padding
    oh = _out_size(h, top, bottom, kh, stride[0], dilation[0])
    ow = _out_size(w, left, right, kw, stride[1], dilation[1])
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    g = groups
    w_grouped = weight.reshape(g, o // g, cg, kh, kw)
    y = np.zeros((n, g, o // g, oh * ow))
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation[0], j * dilation[1]
            window = xp[:, :, r0:r0 + stride[0] * (oh - 1) + 1:stride[0], c0:c0 + stride[1] * (ow - 1) + 1:stride[1]]
            window = window.reshape(n, g, cg, oh * ow)
            y += np.matmul(w_grouped[:, :, :, i, j][None], window)
    y = y.reshape(n, o, oh, ow)
    if bias is not None:
        y = y + bias.reshape(1, o, 1, 1)
    if activation == "relu":
        y = np.maximum(y, 0)
    elif activation == "relu6":
        y = np.clip(y, 0, 6)
    return y


@op("linear")
def linear(x, weight, bias=None):
    y = x @ weight.T
    return y + bias if bias is not None else y


@op("matmul")
def matmul(a, b):
    return np.matmul(a, b)


# ----- elementwise -----
def _binary(fn):
    def apply(a, b=None, *, scalar=None):
        return fn(a, scalar if b is None else b)

    return apply


op("add")(_binary(np.add))
op("sub")(_binary(np.subtract))
op("mul")(_binary(np.multiply))
op("div")(_binary(np.divide))
op("relu")(lambda x: np.maximum(x, 0))
op("sigmoid")(lambda x: 1 / (1 + np.exp(-x)))
op("silu")(lambda x: x / (1 + np.exp(-x)))
op("tanh")(np.tanh)
op("hardsigmoid")(lambda x: np.clip(x + 3, 0, 6) / 6)
op("hardswish")(lambda x: x * np.clip(x + 3, 0, 6) / 6)


@op("clamp")
def clamp(x, *, min=None, max=None):
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


@op("leaky_relu")
def leaky_relu(x, *, negative_slope=0.01):
    return np.where(x >= 0, x, x * negative_slope)


@op("quantize_dynamic")
def quantize_dynamic(x, *, scheme, axis=0):
    """Each slice before `axis` rounded to the grid its run-time range gives (ops.json), in float64 with the
    float32 scale the frameworks compute; no rounding ties in random data."""
    rows = x.reshape(int(np.prod(x.shape[:axis])), -1).astype(np.float64)
    away = lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5)  # noqa: E731
    out = np.zeros_like(rows)
    for r, row in enumerate(rows):
        lo, hi = min(row.min(), 0.0), max(row.max(), 0.0)
        if scheme == "int8_symmetric":
            top = np.abs(row).max()
            if top > 0:
                out[r] = np.clip(away(row * (127 / top)), -127, 127) * float(np.float32(top / 127))
        elif hi > lo:
            unsigned = scheme == "uint8_asymmetric"
            scale = float(np.float32(np.float32(hi - lo) / np.float32(255))) if unsigned else float(np.float32((hi - lo) / 255))
            qmin, qmax = (0, 255) if unsigned else (-128, 127)
            zero = np.clip(np.round(-lo / scale) if unsigned else away(-128 - lo / scale), qmin, qmax)
            q = (np.round(row / scale) if unsigned else away(row / scale)) + zero
            out[r] = (np.clip(q, qmin, qmax) - zero) * scale
    return out.reshape(x.shape)


op("maximum")(np.maximum)
op("minimum")(np.minimum)
op("exp")(np.exp)
op("erf")(np.vectorize(math.erf, otypes=[np.float64]))
op("log")(np.log)
op("sqrt")(np.sqrt)
op("rsqrt")(lambda x: 1 / np.sqrt(x))
op("abs")(np.abs)
op("neg")(np.negative)
op("softsign")(lambda x: x / (1 + np.abs(x)))
op("mish")(lambda x: x * np.tanh(np.logaddexp(0, x)))
op("selu")(lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0))))


@op("elu")
def elu(x, *, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


@op("softplus")
def softplus(x, *, beta=1.0, threshold=None):
    soft = np.logaddexp(0, beta * x) / beta
    return soft if threshold is None else np.where(beta * x > threshold, x, soft)


@op("prelu")
def prelu(x, slope):
    return np.where(x >= 0, x, x * slope)


@op("pow")
def power(x, *, exponent):
    return np.power(x, exponent)


@op("gelu")
def gelu(x, *, approximate="none"):
    if approximate == "tanh":
        return x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))) / 2
    erf = np.frompyfunc(math.erf, 1, 1)
    return x * (1 + erf(x / math.sqrt(2)).astype(np.float64)) / 2


# ----- pooling and reductions -----
def _windows(x, kernel, stride, padding, dilation, ceil_mode, fill):
    n, c, h, w = x.shape
    top, left, bottom, right = padding
    oh = _out_size(h, top, bottom, kernel[0], stride[0], dilation[0], ceil_mode)
    ow = _out_size(w, left, right, kernel[1], stride[1], dilation[1], ceil_mode)
    need_h = (oh - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1
    need_w = (ow - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1
    extra_b = max(0, need_h - (h + top + bottom))
    extra_r = max(0, need_w - (w + left + right))
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom + extra_b), (left, right + extra_r)), constant_values=fill)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            r0, c0 = i * dilation[0], j * dilation[1]
            yield i, j, xp[:, :, r0:r0 + stride[0] * (oh - 1) + 1:stride[0], c0:c0 + stride[1] * (ow - 1) + 1:stride[1]], (oh, ow)


@op("max_pool2d")
def max_pool2d(x, *, kernel, stride, padding, dilation, ceil_mode):
    y = None
    for _, _, window, _ in _windows(x, kernel, stride, padding, dilation, ceil_mode, -np.inf):
        y = window if y is None else np.maximum(y, window)
    return y


@op("avg_pool2d")
def avg_pool2d(x, *, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    n, c, h, w = x.shape
    top, left, bottom, right = padding
    total = None
    for i, j, window, (oh, ow) in _windows(x, kernel, stride, padding, [1, 1], ceil_mode, 0.0):
        total = window.copy() if total is None else total + window
    rows = np.arange(oh)[:, None] * stride[0] - top
    cols = np.arange(ow)[None, :] * stride[1] - left
    if divisor_override:
        return total / divisor_override
    if count_include_pad:  # the window clipped to the padded input
        hh = np.minimum(rows + kernel[0], h + bottom) - rows
        ww = np.minimum(cols + kernel[1], w + right) - cols
    else:  # the window clipped to the input itself
        hh = np.minimum(rows + kernel[0], h) - np.maximum(rows, 0)
        ww = np.minimum(cols + kernel[1], w) - np.maximum(cols, 0)
    return total / (hh * ww)


@op("adaptive_avg_pool2d")
def adaptive_avg_pool2d(x, *, output_size):
    n, c, h, w = x.shape
    oh, ow = output_size
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        r0, r1 = (i * h) // oh, -(-((i + 1) * h) // oh)
        for j in range(ow):
            c0, c1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


@op("mean")
def mean(x, *, axes, keepdim):
    return x.mean(axis=tuple(axes), keepdims=keepdim)


@op("sum")
def reduce_sum(x, *, axes, keepdim):
    return x.sum(axis=tuple(axes), keepdims=keepdim)


@op("reduce_max")
def reduce_max(x, *, axes, keepdim):
    return x.max(axis=tuple(axes), keepdims=keepdim)


@op("reduce_min")
def reduce_min(x, *, axes, keepdim):
    return x.min(axis=tuple(axes), keepdims=keepdim)


def _arg_reduce(pick, x, axis, keepdim, select_last_index):
    if select_last_index:
        flipped = np.flip(x, axis=axis)
        index = x.shape[axis] - 1 - pick(flipped, axis=axis)
    else:
        index = pick(x, axis=axis)
    return np.expand_dims(index, axis) if keepdim else index


@op("argmax")
def argmax(x, *, axis, keepdim=False, select_last_index=False):
    return _arg_reduce(np.argmax, x, axis, keepdim, select_last_index)


@op("argmin")
def argmin(x, *, axis, keepdim=False, select_last_index=False):
    return _arg_reduce(np.argmin, x, axis, keepdim, select_last_index)


@op("layer_norm")
def layer_norm(x, weight=None, bias=None, *, axis, eps=1e-5):
    dims = tuple(range(axis, x.ndim))
    y = (x - x.mean(axis=dims, keepdims=True)) / np.sqrt(x.var(axis=dims, keepdims=True) + eps)
    return y * (1.0 if weight is None else weight) + (0.0 if bias is None else bias)


@op("group_norm")
def group_norm(x, weight=None, bias=None, *, groups, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    y = ((g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)).reshape(x.shape)
    channel = (c,) + (1,) * (x.ndim - 2)
    return y * (1.0 if weight is None else weight.reshape(channel)) + (0.0 if bias is None else bias.reshape(channel))


@op("slice")
def slice_(x, *, starts, sizes, steps):
    index = np.ix_(*[start + step * np.arange(size) for start, size, step in zip(starts, sizes, steps)])
    return x[index]


@op("expand")
def expand(x, *, shape):
    return np.broadcast_to(x, shape).copy()


@op("tile")
def tile(x, *, repeats):
    return np.tile(x, repeats)


@op("gather")
def gather(x, *, axis, indices):
    return np.take(x, indices, axis=axis)


@op("take")
def take(x, indices, *, axis, negative_indices=False):
    indices = np.asarray(indices)
    low = -x.shape[axis] if negative_indices else 0
    assert ((indices >= low) & (indices < x.shape[axis])).all(), "take: an index outside the axis"
    return np.take(x, indices, axis=axis)


op("pow_tensor")(np.power)


@op("where")
def where(condition, x, other):
    return np.where(condition != 0, x, other)


@op("softmax")
def softmax(x, *, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@op("log_softmax")
def log_softmax(x, *, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@op("batch_norm")
def batch_norm(x, weight, bias, running_mean, running_var, *, eps):
    shape = [1, -1] + [1] * (x.ndim - 2)
    return ((x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
            * weight.reshape(shape) + bias.reshape(shape))


# ----- shape ops -----
op("reshape")(lambda x, *, shape: x.reshape(shape))
op("transpose")(lambda x, *, perm: np.transpose(x, perm))
op("concat")(lambda *xs, axis: np.concatenate(xs, axis=axis))


@op("split")
def split(x, *, axis, sizes):
    return list(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@op("pad")
def pad(x, *, pads, value, mode="constant"):
    if mode != "constant":  # NumPy's reflect, edge and symmetric are the vocabulary's
        return np.pad(x, [tuple(p) for p in pads] + [(0, 0)] * (x.ndim - len(pads)), mode=mode)
    return np.pad(x, [tuple(p) for p in pads], constant_values=value)


# ----- windows and resampling (issue 13) -----
@op("conv_transpose2d")
def conv_transpose2d(x, weight, bias=None, *, stride, padding, output_padding=(0, 0), dilation=(1, 1), groups=1,
                     weight_layout="IOHW", activation="none"):
    """Scatter each input pixel's window into the full result, then crop (ops.json)."""
    if weight_layout == "OHWI":  # [O, KH, KW, I] -> [I, O, KH, KW] (groups 1)
        weight = weight.transpose(3, 0, 1, 2)
    n, c, h, w = x.shape
    _, og, kh, kw = weight.shape
    o = og * groups
    cg = c // groups
    top, left, bottom, right = padding
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    full_w = (w - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    z = np.zeros((n, o, full_h, full_w))
    for g in range(groups):
        xg = x[:, g * cg:(g + 1) * cg]
        wg = weight[g * cg:(g + 1) * cg]  # [cg, og, kh, kw]
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,co->nohw", xg, wg[:, :, i, j])
                r0, c0 = i * dilation[0], j * dilation[1]
                z[:, g * og:(g + 1) * og, r0:r0 + stride[0] * (h - 1) + 1:stride[0],
                  c0:c0 + stride[1] * (w - 1) + 1:stride[1]] += contrib
    y = z[:, :, top:full_h - bottom, left:full_w - right]
    if bias is not None:
        y = y + bias.reshape(1, o, 1, 1)
    if activation == "relu":
        y = np.maximum(y, 0)
    elif activation == "relu6":
        y = np.clip(y, 0, 6)
    return y


def _resize_source(out_size, in_size, ratio, coordinates):
    """Source coordinates of every output index along one axis (ops.json resize)."""
    i = np.arange(out_size, dtype=np.float64)
    r = ratio if ratio is not None else out_size / in_size
    if coordinates == "align_corners":
        return i * (in_size - 1) / (out_size - 1) if out_size > 1 else np.zeros(out_size)
    if coordinates == "asymmetric":
        return i / r
    if coordinates == "tf_half_pixel_for_nn":
        return (i + 0.5) / r
    if coordinates == "pytorch_half_pixel" and out_size == 1:
        return np.zeros(1)
    return (i + 0.5) / r - 0.5


@op("resize")
def resize(x, *, size, mode, coordinate_transformation="half_pixel", nearest_mode="round_prefer_floor", scale=None):
    axes = []
    for k, (size_in, out) in enumerate(zip(x.shape[2:], size)):
        axes.append((_resize_source(out, size_in, None if scale is None else scale[k], coordinate_transformation), size_in))
    if mode == "nearest":
        rounding = {"round_prefer_floor": lambda v: np.ceil(v - 0.5), "round_prefer_ceil": lambda v: np.floor(v + 0.5),
                    "floor": np.floor, "ceil": np.ceil}[nearest_mode]
        iy, ix = (np.clip(rounding(s), 0, n - 1).astype(int) for s, n in axes)
        return x[:, :, iy][:, :, :, ix]
    (sy, h), (sx, w) = axes
    sy, sx = np.clip(sy, 0, h - 1), np.clip(sx, 0, w - 1)
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (sy - y0)[:, None], (sx - x0)[None, :]
    rows0, rows1 = x[:, :, y0], x[:, :, y1]
    top = rows0[:, :, :, x0] * (1 - fx) + rows0[:, :, :, x1] * fx
    bottom = rows1[:, :, :, x0] * (1 - fx) + rows1[:, :, :, x1] * fx
    return top * (1 - fy) + bottom * fy
