"""One rule per core ATen op: how it becomes edgespec vocabulary nodes (src/common/ops.json).

A rule reads the node's arguments (by schema name, defaults filled) and either emits
nodes through the lowering, aliases the node to its input (identities), or refuses it
with a reason.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from .lowering import AtenLowering, Broadcast, TransposedWeight, Unrepresentable, WeightRef
from ..window_1d import Sink, lower_as_2d, lower_per_channel_as_2d, weight_2d, window_attrs_2d

Rule = Callable[[AtenLowering, Any, Dict[str, Any]], None]
RULES: Dict[str, Rule] = {}


def rule(*names: str):
    def register(fn: Rule) -> Rule:
        for name in names:
            RULES[name] = fn
        return fn

    return register


def _pair(value) -> List[int]:
    values = [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    return values * 2 if len(values) == 1 else values


def _axis(axis: int, rank: int) -> int:
    return int(axis) + rank if int(axis) < 0 else int(axis)


def _number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _rank(L: AtenLowering, arg) -> int:
    return len(L.shape_of(arg))


# ----- identities -----
@rule("aten.clone.default", "aten.alias.default", "aten.detach.default", "aten.lift_fresh_copy.default",
      "aten.contiguous.default")
def identity(L, node, a):
    L.alias(node, a["self"])


@rule("aten.dropout.default")
def dropout(L, node, a):
    if a["train"]:
        return L.refuse(node, "dropout in training mode")
    L.alias(node, a["input"])


@rule("aten._to_copy.default")
def to_copy(L, node, a):
    source = a["self"].meta["val"]
    target = node.meta["val"]
    if source.dtype != target.dtype:
        return L.refuse(node, f"converts {source.dtype} to {target.dtype}; the graph must stay in one dtype")
    L.alias(node, a["self"])


# ----- convolution, matmul -----
@rule("aten.convolution.default")
def convolution(L, node, a):
    if a["transposed"]:
        return _conv_transpose2d(L, node, a)
    _conv2d(L, node, a)


def _conv_transpose2d(L, node, a):
    rank = _rank(L, a["input"])
    if rank == 3:
        return _conv_transpose1d(L, node, a)
    if rank != 4:
        return L.refuse(node, f"{rank - 2}-D transposed convolution; the vocabulary has 1-D and 2-D transposed convolution only")
    top, left = _pair(a["padding"])
    inputs = [L.tensor(a["input"]), L.tensor(a["weight"])]  # weight [I, O/groups, KH, KW]
    if a["bias"] is not None:
        inputs.append(L.tensor(a["bias"]))
    L.emit(node, "conv_transpose2d", inputs, {
        "stride": _pair(a["stride"]), "padding": [top, left, top, left], "output_padding": _pair(a["output_padding"]),
        "dilation": _pair(a["dilation"]), "groups": int(a["groups"]), "weight_layout": "IOHW"})


@rule("aten.conv2d.default")
def conv2d(L, node, a):
    _conv2d(L, node, a)


def _conv2d(L, node, a):
    rank = _rank(L, a["input"])
    if rank == 3:
        return _conv1d(L, node, a)
    if rank != 4:
        return L.refuse(node, f"{rank - 2}-D convolution; the vocabulary has 1-D and 2-D convolution only")
    top, left = _pair(a["padding"])
    inputs = [L.tensor(a["input"]), L.tensor(a["weight"])]
    if a["bias"] is not None:
        inputs.append(L.tensor(a["bias"]))
    L.emit(node, "conv2d", inputs, {"stride": _pair(a["stride"]), "padding": [top, left, top, left],
                                    "dilation": _pair(a["dilation"]), "groups": int(a["groups"]),
                                    "weight_layout": "OIHW"})


def _sink_1d(L, node) -> Sink:
    """Where a 1-D window's 2-D nodes go (capture/window_1d.py)."""
    def add_tensor(suffix: str, shape: List[int]) -> str:
        return L.builder.add_tensor(f"{node.name}.{suffix}", shape, "float32", "activation")

    def add_node(op: str, inputs: List[str], outputs: List[str], attrs: Dict[str, Any]) -> None:
        L.emit(node, op, inputs, attrs, outputs=outputs, name=node.name if op != "reshape" else f"{node.name}.reshape")
    return Sink(add_tensor, add_node)


def _lower_1d(L, node, op: str, x, weights: List[str], attrs: Dict[str, Any], outputs=None) -> None:
    """op over [N, C, L] as its 2-D form over [N, C, 1, L]; `outputs` as for L.emit."""
    if outputs is None:
        outputs = [L.declare(node)]
        L.env[node] = outputs[0]
    lower_as_2d(_sink_1d(L, node), op, L.tensor(x), L.shape_of(x), weights, attrs, outputs[0],
                L.builder.tensors[outputs[0]]["shape"])


def _conv1d(L, node, a):
    weight = L.value(a["weight"])
    if not isinstance(weight, WeightRef):
        return L.refuse(node, "1-D convolution with a computed weight; edgespec needs it constant")
    name = f"{weight.name}.2d"
    if name not in L.builder.weights:
        name = L.builder.add_weight(name, weight_2d(weight.array), weight.module)
    weights = [name] + ([L.tensor(a["bias"])] if a["bias"] is not None else [])
    padding = int(_pair(a["padding"])[0])
    attrs = window_attrs_2d(_pair(a["stride"])[0], padding, padding, _pair(a["dilation"])[0])
    _lower_1d(L, node, "conv2d", a["input"], weights, {**attrs, "groups": int(a["groups"]), "weight_layout": "OIHW"})


def _conv_transpose1d(L, node, a):
    weight = L.value(a["weight"])
    if not isinstance(weight, WeightRef):
        return L.refuse(node, "1-D transposed convolution with a computed weight; edgespec needs it constant")
    name = f"{weight.name}.2d"
    if name not in L.builder.weights:  # [I, O/groups, K] as [I, O/groups, 1, K]
        name = L.builder.add_weight(name, weight_2d(weight.array), weight.module)
    weights = [name] + ([L.tensor(a["bias"])] if a["bias"] is not None else [])
    padding = int(_pair(a["padding"])[0])
    attrs = window_attrs_2d(_pair(a["stride"])[0], padding, padding, _pair(a["dilation"])[0])
    _lower_1d(L, node, "conv_transpose2d", a["input"], weights, {
        **attrs, "output_padding": [0, int(_pair(a["output_padding"])[0])], "groups": int(a["groups"]), "weight_layout": "IOHW"})


@rule("aten.linear.default")
def linear(L, node, a):
    inputs = [L.tensor(a["input"]), L.tensor(a["weight"])]
    if a["bias"] is not None:
        inputs.append(L.tensor(a["bias"]))
    L.emit(node, "linear", inputs, {})


def _linear_weight(L, arg) -> Optional[TransposedWeight]:
    value = L.value(arg)
    return value if isinstance(value, TransposedWeight) else None


@rule("aten.addmm.default")
def addmm(L, node, a):
    if a["beta"] != 1 or a["alpha"] != 1:
        return L.refuse(node, "addmm with beta or alpha other than 1")
    bias, x, mat2 = a["self"], a["mat1"], a["mat2"]
    transposed = _linear_weight(L, mat2)
    out_features = L.shape_of(mat2)[1]
    if transposed is not None and L.shape_of(bias) == [out_features]:
        weight = L._weight_tensor(transposed.weight)
        L.emit(node, "linear", [L.tensor(x), weight, L.tensor(bias)], {},
               ["aten.permute.default", "aten.addmm.default"])
        return
    product = L.intermediate(node, "matmul", "matmul", [L.tensor(x), L.tensor(mat2)], {})
    L.emit(node, "add", [product, L.tensor(bias)], {})


@rule("aten.mm.default", "aten.bmm.default", "aten.matmul.default")
def matmul(L, node, a):
    """mm/bmm/matmul; a transposed weight on the right makes it a linear, and an operand expanded
    over leading dimensions is read unexpanded, since matmul broadcasts those dimensions itself."""
    lhs_arg, rhs_arg = a["self"], a["mat2"] if "mat2" in a else a["other"]
    lhs, rhs = L.value(lhs_arg), L.value(rhs_arg)
    rank = len(L.shape_of(node))
    if isinstance(lhs, Broadcast) and isinstance(rhs, Broadcast):
        raise Unrepresentable(lhs.expand_node, "both operands of a matmul are broadcast")
    if isinstance(lhs, Broadcast):
        lhs = lhs.value
        if len(L.shape_of(rhs_arg)) != rank:
            raise Unrepresentable(node, "a matmul whose operands are both broadcast")
    if isinstance(rhs, Broadcast):
        rhs = rhs.value
        if len(L.shape_of(lhs_arg)) != rank:
            raise Unrepresentable(node, "a matmul whose operands are both broadcast")
        if isinstance(rhs, TransposedWeight):
            weight = L._weight_tensor(rhs.weight)
            L.emit(node, "linear", [L.materialize(lhs), weight], {},
                   ["aten.permute.default", "aten.expand.default", L.op_name(node)])
            return
    if isinstance(rhs, TransposedWeight) and rank == 2:
        weight = L._weight_tensor(rhs.weight)
        L.emit(node, "linear", [L.materialize(lhs), weight], {}, ["aten.permute.default", L.op_name(node)])
        return
    L.emit(node, "matmul", [L.materialize(lhs), L.materialize(rhs)], {})


# ----- elementwise arithmetic -----
def _binary(op: str):
    def lower(L, node, a):
        lhs, rhs = a["self"], a["other"]
        if L.op_name(node).startswith("aten.rsub."):  # rsub(self, other, alpha) = other - alpha * self
            lhs, rhs = rhs, lhs
        alpha = a.get("alpha", 1)
        if alpha is not None and alpha != 1:  # only add, sub and rsub have alpha: it scales the second operand
            rhs = rhs * alpha if _number(rhs) else L.intermediate(node, "scaled", "mul", [L.tensor(rhs)],
                                                                  {"scalar": float(alpha)})
        _emit_binary(L, node, op, lhs, rhs)

    return lower


def _operand(L, arg):
    return arg if isinstance(arg, str) else L.tensor(arg)


def _emit_binary(L, node, op: str, lhs, rhs) -> None:
    lhs_is_number, rhs_is_number = _number(lhs), _number(rhs)
    for value in (lhs, rhs):
        if _number(value) and not math.isfinite(value):
            return L.refuse(node, f"{op} with the number {value}")
    if not lhs_is_number and not rhs_is_number:
        L.emit(node, op, [_operand(L, lhs), _operand(L, rhs)], {})
    elif rhs_is_number:
        L.emit(node, op, [_operand(L, lhs)], {"scalar": float(rhs)})
    elif op in ("add", "mul"):
        L.emit(node, op, [_operand(L, rhs)], {"scalar": float(lhs)})
    elif op == "sub":  # number - x = (x * -1) + number
        negated = L.intermediate(node, "negated", "mul", [_operand(L, rhs)], {"scalar": -1.0})
        L.emit(node, "add", [negated], {"scalar": float(lhs)})
    else:
        L.refuse(node, "a number divided by a tensor (reciprocal) is not in the vocabulary")


for _op in ("add", "sub", "mul", "div"):
    rule(f"aten.{_op}.Tensor", f"aten.{_op}.Scalar")(_binary(_op))
rule("aten.rsub.Scalar", "aten.rsub.Tensor")(_binary("sub"))


@rule("aten.div.Tensor_mode", "aten.div.Scalar_mode")
def div_mode(L, node, a):
    if a["rounding_mode"] is not None:
        return L.refuse(node, f"division with rounding_mode={a['rounding_mode']!r}")
    _emit_binary(L, node, "div", a["self"], a["other"])


# ----- activations -----
def _unary(op: str):
    def lower(L, node, a):
        L.emit(node, op, [L.tensor(a["self"])], {})

    return lower


for _aten, _op in (("relu", "relu"), ("sigmoid", "sigmoid"), ("tanh", "tanh"), ("hardswish", "hardswish"),
                   ("hardsigmoid", "hardsigmoid"), ("silu", "silu"), ("selu", "selu"), ("mish", "mish"),
                   ("exp", "exp"), ("erf", "erf"), ("log", "log"), ("sqrt", "sqrt"), ("rsqrt", "rsqrt"), ("abs", "abs"),
                   ("neg", "neg")):
    rule(f"aten.{_aten}.default")(_unary(_op))


@rule("aten.gelu.default")
def gelu(L, node, a):
    L.emit(node, "gelu", [L.tensor(a["self"])], {"approximate": a["approximate"]})


@rule("aten.leaky_relu.default")
def leaky_relu(L, node, a):
    L.emit(node, "leaky_relu", [L.tensor(a["self"])], {"negative_slope": float(a["negative_slope"])})


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


@rule("aten.elu.default")
def elu(L, node, a):
    """elu(x, alpha, scale, input_scale) = scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1));
    torch.export writes selu as elu with SELU's alpha and scale."""
    alpha, scale, input_scale = float(a["alpha"]), float(a["scale"]), float(a["input_scale"])
    if input_scale != 1:
        return L.refuse(node, f"elu with input_scale={input_scale}")
    if math.isclose(alpha, SELU_ALPHA, rel_tol=1e-9) and math.isclose(scale, SELU_SCALE, rel_tol=1e-9):
        return L.emit(node, "selu", [L.tensor(a["self"])], {})
    if scale == 1:
        return L.emit(node, "elu", [L.tensor(a["self"])], {"alpha": alpha})
    inner = L.intermediate(node, "unscaled", "elu", [L.tensor(a["self"])], {"alpha": alpha})
    L.emit(node, "mul", [inner], {"scalar": scale})


@rule("aten.softplus.default")
def softplus(L, node, a):
    beta, threshold = float(a["beta"]), float(a["threshold"])
    if not beta > 0 or not math.isfinite(beta):
        return L.refuse(node, f"softplus with beta={beta}")
    L.emit(node, "softplus", [L.tensor(a["self"])], {"beta": beta, "threshold": threshold if math.isfinite(threshold) else None})


@rule("aten._prelu_kernel.default", "aten.prelu.default")
def prelu(L, node, a):
    """aten.prelu applies a [C] weight along dim 1 (it views it as [C, 1, ...] itself); torch.export
    usually leaves that view and _prelu_kernel, whose weight broadcasts as it is."""
    x, weight = a["self"], a["weight"]
    rank, slope_shape = _rank(L, x), L.shape_of(weight)
    slope = L.tensor(weight)
    if L.op_name(node) == "aten.prelu.default" and len(slope_shape) == 1 and slope_shape[0] > 1 and rank > 2:
        shape = [slope_shape[0]] + [1] * (rank - 2)
        viewed = L.builder.add_tensor(f"{node.name}.slope", shape, "float32", "activation")
        L.emit(node, "reshape", [slope], {"shape": shape}, outputs=[viewed], name=f"{node.name}.slope")
        slope = viewed
    L.emit(node, "prelu", [L.tensor(x), slope], {})


@rule("aten.pow.Tensor_Scalar")
def pow_scalar(L, node, a):
    exponent = a["exponent"]
    if not _number(exponent) or not math.isfinite(exponent):
        return L.refuse(node, f"pow with the exponent {exponent}")
    L.emit(node, "pow", [L.tensor(a["self"])], {"exponent": float(exponent)})


@rule("aten.pow.Tensor_Tensor")
def pow_tensor(L, node, a):
    """x ^ y with both computed at run time (a constant exponent tensor too), broadcast."""
    L.emit(node, "pow_tensor", [L.tensor(a["self"]), L.tensor(a["exponent"])], {})


@rule("aten.maximum.default", "aten.minimum.default")
def maximum_minimum(L, node, a):
    op = "maximum" if L.op_name(node) == "aten.maximum.default" else "minimum"
    L.emit(node, op, [L.tensor(a["self"]), L.tensor(a["other"])], {})


def _bound(value) -> Optional[float]:
    if value is None or (_number(value) and math.isinf(value)):
        return None
    return float(value)


@rule("aten.hardtanh.default")
def hardtanh(L, node, a):
    L.emit(node, "clamp", [L.tensor(a["self"])], {"min": _bound(a["min_val"]), "max": _bound(a["max_val"])})


@rule("aten.relu6.default")
def relu6(L, node, a):
    L.emit(node, "clamp", [L.tensor(a["self"])], {"min": 0.0, "max": 6.0})


@rule("aten.clamp.default")
def clamp(L, node, a):
    if any(L.is_tensor(b) for b in (a["min"], a["max"])):
        return L.refuse(node, "clamp with tensor bounds")
    L.emit(node, "clamp", [L.tensor(a["self"])], {"min": _bound(a["min"]), "max": _bound(a["max"])})


# ----- normalization -----
@rule("aten._native_batch_norm_legit_no_training.default")
def batch_norm_no_training(L, node, a):
    users = L.getitem_users(node)
    if any(index != 0 and user.users for index, user in users.items()):
        return L.refuse(node, "uses the saved mean or inverse std of batch norm")
    out = L.declare(node, 0, users[0].name if 0 in users else None)
    _batch_norm(L, node, a, [out])
    L.env[node] = (out, None, None)


@rule("aten.batch_norm.default")
def batch_norm(L, node, a):
    if a["training"]:
        return L.refuse(node, "batch norm in training mode")
    _batch_norm(L, node, a, None)


def _batch_norm(L, node, a, outputs):
    if a["running_mean"] is None or a["running_var"] is None:
        return L.refuse(node, "batch norm without running statistics")
    channels = L.shape_of(a["input"])[1]
    weight = L.tensor(a["weight"]) if a["weight"] is not None else L.constant(node, "weight", np.ones(channels, np.float32))
    bias = L.tensor(a["bias"]) if a["bias"] is not None else L.constant(node, "bias", np.zeros(channels, np.float32))
    statistics = [weight, bias, L.tensor(a["running_mean"]), L.tensor(a["running_var"])]
    if _rank(L, a["input"]) not in (2, 4):  # BatchNorm1d's [N, C, L], BatchNorm3d's [N, C, D, H, W]: [N, C, 1, L*...]
        if outputs is None:
            outputs = [L.declare(node)]
            L.env[node] = outputs[0]
        lower_per_channel_as_2d(_sink_1d(L, node), "batch_norm", L.tensor(a["input"]), L.shape_of(a["input"]),
                                statistics, {"eps": float(a["eps"])}, outputs[0])
        return
    L.emit(node, "batch_norm", [L.tensor(a["input"])] + statistics, {"eps": float(a["eps"])}, outputs=outputs)


def _first_of_tuple(L, node, what: str):
    """The declared first output of a node returning (out, mean, rstd); None when another output is read."""
    users = L.getitem_users(node)
    if any(index != 0 and user.users for index, user in users.items()):
        L.refuse(node, f"uses the saved mean or inverse std of {what}")
        return None
    return L.declare(node, 0, users[0].name if 0 in users else None)


def _affine_inputs(L, node, weight, bias, shape) -> List[str]:
    """weight and bias of a normalization: none, the weight, or both (a missing weight given as ones)."""
    if bias is None:
        return [] if weight is None else [L.tensor(weight)]
    w = L.tensor(weight) if weight is not None else L.constant(node, "weight", np.ones(shape, np.float32))
    return [w, L.tensor(bias)]


def _layer_norm(L, node, a, outputs):
    rank = _rank(L, a["input"])
    shape = [int(d) for d in a["normalized_shape"]]
    L.emit(node, "layer_norm", [L.tensor(a["input"])] + _affine_inputs(L, node, a["weight"], a["bias"], shape),
           {"axis": rank - len(shape), "eps": float(a["eps"])}, outputs=outputs)


@rule("aten.native_layer_norm.default")
def native_layer_norm(L, node, a):
    out = _first_of_tuple(L, node, "layer norm")
    if out is not None:
        _layer_norm(L, node, a, [out])
        L.env[node] = (out, None, None)


@rule("aten.layer_norm.default")
def layer_norm(L, node, a):
    _layer_norm(L, node, a, None)


def _group_norm(L, node, x, weight, bias, groups: int, eps: float, outputs):
    channels = L.shape_of(x)[1]
    L.emit(node, "group_norm", [L.tensor(x)] + _affine_inputs(L, node, weight, bias, [channels]),
           {"groups": int(groups), "eps": float(eps)}, outputs=outputs)


@rule("aten.native_group_norm.default")
def native_group_norm(L, node, a):
    out = _first_of_tuple(L, node, "group norm")
    if out is not None:
        _group_norm(L, node, a["input"], a["weight"], a["bias"], a["group"], a["eps"], [out])
        L.env[node] = (out, None, None)


@rule("aten.group_norm.default")
def group_norm(L, node, a):
    _group_norm(L, node, a["input"], a["weight"], a["bias"], a["num_groups"], a["eps"], None)


@rule("aten._native_batch_norm_legit.no_stats")
def batch_statistics_norm(L, node, a):
    """Batch norm with the batch's own statistics: over a batch of one (instance norm's view of
    [N, C, ...] as [1, N*C, ...]) it is group norm with one channel per group."""
    if L.shape_of(a["input"])[0] != 1:
        return L.refuse(node, "batch norm over the statistics of a batch of more than one")
    out = _first_of_tuple(L, node, "batch norm")
    if out is not None:
        channels = L.shape_of(a["input"])[1]
        _group_norm(L, node, a["input"], a["weight"], a["bias"], channels, a["eps"], [out])
        L.env[node] = (out, None, None)


@rule("aten.instance_norm.default")
def instance_norm(L, node, a):
    if not a["use_input_stats"]:
        return L.refuse(node, "instance norm with running statistics")
    if _rank(L, a["input"]) < 3:
        return L.refuse(node, "instance norm of a tensor without spatial dims")
    _group_norm(L, node, a["input"], a["weight"], a["bias"], L.shape_of(a["input"])[1], a["eps"], None)


# ----- pooling and reductions -----
def _pool_padding(value) -> List[int]:
    top, left = _pair(value)
    return [top, left, top, left]


@rule("aten.max_pool2d_with_indices.default", "aten.max_pool2d.default")
def max_pool2d(L, node, a):
    if _rank(L, a["self"]) != 4:
        return L.refuse(node, "max pooling of a tensor that is not 4-D")
    kernel = _pair(a["kernel_size"])
    stride = _pair(a["stride"]) if a["stride"] else kernel
    attrs = {"kernel": kernel, "stride": stride, "padding": _pool_padding(a["padding"]),
             "dilation": _pair(a["dilation"]), "ceil_mode": bool(a["ceil_mode"])}
    if L.op_name(node) == "aten.max_pool2d.default":
        L.emit(node, "max_pool2d", [L.tensor(a["self"])], attrs)
        return
    users = L.getitem_users(node)
    if 1 in users and users[1].users:
        return L.refuse(node, "uses the indices of max pooling")
    out = L.declare(node, 0, users[0].name if 0 in users else None)
    L.emit(node, "max_pool2d", [L.tensor(a["self"])], attrs, outputs=[out])
    L.env[node] = (out, None)


@rule("aten.avg_pool2d.default")
def avg_pool2d(L, node, a):
    if _rank(L, a["self"]) != 4:
        return L.refuse(node, "average pooling of a tensor that is not 4-D")
    kernel = _pair(a["kernel_size"])
    L.emit(node, "avg_pool2d", [L.tensor(a["self"])], {
        "kernel": kernel, "stride": _pair(a["stride"]) if a["stride"] else kernel,
        "padding": _pool_padding(a["padding"]), "ceil_mode": bool(a["ceil_mode"]),
        "count_include_pad": bool(a["count_include_pad"]),
        "divisor_override": int(a["divisor_override"]) if a["divisor_override"] else None})


@rule("aten._adaptive_avg_pool2d.default", "aten.adaptive_avg_pool2d.default")
def adaptive_avg_pool2d(L, node, a):
    if _rank(L, a["self"]) != 4:
        return L.refuse(node, "adaptive average pooling of a tensor that is not 4-D")
    L.emit(node, "adaptive_avg_pool2d", [L.tensor(a["self"])], {"output_size": L.shape_of(node)[2:]})


@rule("aten.upsample_nearest2d.vec", "aten.upsample_nearest2d.default", "aten._upsample_nearest_exact2d.vec",
      "aten._upsample_nearest_exact2d.default", "aten.upsample_bilinear2d.vec", "aten.upsample_bilinear2d.default")
def upsample(L, node, a):
    """PyTorch maps output index i to i / scale (nearest: floor), (i + 0.5) / scale (nearest-exact: floor) or,
    bilinear, (i + 0.5) / scale - 0.5 or the corners; the scale is the given factor when there is one."""
    if _rank(L, a["input"]) != 4:
        return L.refuse(node, "resizing a tensor that is not 4-D")
    name = L.op_name(node)
    factors = a.get("scale_factors") if name.endswith(".vec") else [a.get("scales_h"), a.get("scales_w")]
    scale = [float(f) for f in factors] if factors and all(f is not None for f in factors) else None
    attrs: Dict[str, Any] = {"size": L.shape_of(node)[2:]}
    if "bilinear" in name:
        corners = bool(a["align_corners"])
        attrs.update(mode="bilinear", coordinate_transformation="align_corners" if corners else "pytorch_half_pixel")
        scale = None if corners else scale
    else:
        exact = "nearest_exact" in name
        attrs.update(mode="nearest", coordinate_transformation="tf_half_pixel_for_nn" if exact else "asymmetric",
                     nearest_mode="floor")
    if scale is not None:
        attrs["scale"] = scale
    L.emit(node, "resize", [L.tensor(a["input"])], attrs)


@rule("aten.mean.dim")
def mean(L, node, a):
    if a["dtype"] is not None:
        return L.refuse(node, "mean with a dtype conversion")
    rank = _rank(L, a["self"])
    axes = sorted({_axis(d, rank) for d in a["dim"]}) if a["dim"] else list(range(rank))
    L.emit(node, "mean", [L.tensor(a["self"])], {"axes": axes, "keepdim": bool(a["keepdim"])})


def _reduce_axes(L, a, key: str) -> List[int]:
    rank = _rank(L, a["self"])
    dims = a.get(key)
    if isinstance(dims, numbers.Number):
        dims = [dims]
    return sorted({_axis(d, rank) for d in dims}) if dims else list(range(rank))


@rule("aten.sum.dim_IntList")
def reduce_sum(L, node, a):
    if a["dtype"] is not None:
        return L.refuse(node, "sum with a dtype conversion")
    L.emit(node, "sum", [L.tensor(a["self"])], {"axes": _reduce_axes(L, a, "dim"), "keepdim": bool(a["keepdim"])})


@rule("aten.sum.default")
def reduce_sum_all(L, node, a):
    if a["dtype"] is not None:
        return L.refuse(node, "sum with a dtype conversion")
    L.emit(node, "sum", [L.tensor(a["self"])], {"axes": list(range(_rank(L, a["self"]))), "keepdim": False})


@rule("aten.amax.default", "aten.amin.default")
def reduce_extreme(L, node, a):
    op = "reduce_max" if L.op_name(node).startswith("aten.amax") else "reduce_min"
    L.emit(node, op, [L.tensor(a["self"])], {"axes": _reduce_axes(L, a, "dim"), "keepdim": bool(a["keepdim"])})


@rule("aten.argmax.default", "aten.argmin.default")
def arg_reduce(L, node, a):
    op = "argmax" if L.op_name(node).startswith("aten.argmax") else "argmin"
    rank = _rank(L, a["self"])
    x = L.tensor(a["self"])
    if a["dim"] is None:  # over the flattened tensor
        count = int(np.prod(L.shape_of(a["self"])))
        flat = L.builder.add_tensor(f"{node.name}.flat", [count], "float32", "activation")
        L.emit(node, "reshape", [x], {"shape": [count]}, outputs=[flat], name=f"{node.name}.flat")
        x, axis = flat, 0
    else:
        axis = _axis(a["dim"], rank)
    L.emit(node, op, [x], {"axis": axis, "keepdim": bool(a["keepdim"])})


@rule("aten._softmax.default", "aten.softmax.int")
def softmax(L, node, a):
    if a.get("dtype") is not None or a.get("half_to_float"):
        return L.refuse(node, "softmax with a dtype conversion")
    L.emit(node, "softmax", [L.tensor(a["self"])], {"axis": _axis(a["dim"], _rank(L, a["self"]))})


@rule("aten._log_softmax.default", "aten.log_softmax.int")
def log_softmax(L, node, a):
    if a.get("dtype") is not None or a.get("half_to_float"):
        return L.refuse(node, "log_softmax with a dtype conversion")
    L.emit(node, "log_softmax", [L.tensor(a["self"])], {"axis": _axis(a["dim"], _rank(L, a["self"]))})


# ----- shape ops -----
@rule("aten.view.default", "aten._unsafe_view.default", "aten.reshape.default", "aten.flatten.using_ints",
      "aten.unsqueeze.default", "aten.squeeze.dims", "aten.squeeze.dim", "aten.squeeze.default")
def reshape(L, node, a):
    if L.shape_of(node) == L.shape_of(a["self"]):
        return L.alias(node, a["self"])  # a no-op view, e.g. around bmm
    L.emit(node, "reshape", [L.tensor(a["self"])], {"shape": L.shape_of(node)})


def _permutation(L, node, source, perm: Sequence[int]):
    value = L.value(source)
    if isinstance(value, WeightRef) and list(perm) == [1, 0]:
        L.env[node] = TransposedWeight(value, node)
        return
    L.emit(node, "transpose", [L.tensor(source)], {"perm": list(perm)})


@rule("aten.permute.default")
def permute(L, node, a):
    rank = _rank(L, a["self"])
    _permutation(L, node, a["self"], [_axis(d, rank) for d in a["dims"]])


@rule("aten.t.default")
def t(L, node, a):
    _permutation(L, node, a["self"], [1, 0] if _rank(L, a["self"]) == 2 else [0])


@rule("aten.transpose.int")
def transpose(L, node, a):
    rank = _rank(L, a["self"])
    perm = list(range(rank))
    d0, d1 = _axis(a["dim0"], rank), _axis(a["dim1"], rank)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    _permutation(L, node, a["self"], perm)


@rule("aten.cat.default")
def cat(L, node, a):
    parts = list(a["tensors"])
    rank = _rank(L, parts[0])
    L.emit(node, "concat", [L.tensor(p) for p in parts], {"axis": _axis(a["dim"], rank)})


@rule("aten.split_with_sizes.default", "aten.split.Tensor", "aten.chunk.default")
def split(L, node, a):
    rank = _rank(L, a["self"])
    axis = _axis(a["dim"], rank)
    pieces = node.meta["val"]
    users = L.getitem_users(node)
    outputs = [L.declare(node, i, users[i].name if i in users else None) for i in range(len(pieces))]
    L.emit(node, "split", [L.tensor(a["self"])], {"axis": axis, "sizes": [int(p.shape[axis]) for p in pieces]},
           outputs=outputs)
    L.env[node] = tuple(outputs)


@rule("aten.constant_pad_nd.default")
def constant_pad(L, node, a):
    flat = [int(p) for p in a["pad"]]
    if any(p < 0 for p in flat):
        return L.refuse(node, "negative padding (cropping)")
    if not math.isfinite(float(a["value"])):
        return L.refuse(node, f"padding with the value {a['value']}")
    rank = _rank(L, a["self"])
    pads = [[0, 0] for _ in range(rank)]
    for k in range(len(flat) // 2):  # pad lists the last dimension first
        pads[rank - 1 - k] = [flat[2 * k], flat[2 * k + 1]]
    L.emit(node, "pad", [L.tensor(a["self"])], {"pads": pads, "value": float(a["value"])})


@rule("aten.reflection_pad1d.default", "aten.reflection_pad2d.default", "aten.replication_pad1d.default",
      "aten.replication_pad2d.default")
def mirror_pad(L, node, a):
    """ReflectionPad (mirror without the edge) and ReplicationPad (repeat the edge): `padding` lists the
    last dimension first, as constant_pad_nd."""
    flat = [int(p) for p in a["padding"]]
    if any(p < 0 for p in flat):
        return L.refuse(node, "negative padding (cropping)")
    rank = _rank(L, a["self"])
    pads = [[0, 0] for _ in range(rank)]
    for k in range(len(flat) // 2):
        pads[rank - 1 - k] = [flat[2 * k], flat[2 * k + 1]]
    mode = "reflect" if "reflection" in L.op_name(node) else "edge"
    L.emit(node, "pad", [L.tensor(a["self"])], {"pads": pads, "value": 0.0, "mode": mode})


@rule("aten.expand.default")
def expand(L, node, a):
    source, shape = L.shape_of(a["self"]), L.shape_of(node)
    if shape == source:
        return L.alias(node, a["self"])
    if len(source) >= 2 and source[-2:] == shape[-2:] and len(source) <= len(shape):
        L.env[node] = Broadcast(L.value(a["self"]), node)
        return
    L.emit(node, "expand", [L.tensor(a["self"])], {"shape": shape})


@rule("aten.repeat.default")
def repeat(L, node, a):
    """A weight's repeat is folded into a new constant (instance norm repeats its affine per sample)."""
    value = L.value(a["self"])
    repeats = [int(r) for r in a["repeats"]]
    if isinstance(value, WeightRef):
        array = value.array.reshape((1,) * (len(repeats) - value.array.ndim) + value.array.shape)
        L.env[node] = WeightRef(node.name, np.ascontiguousarray(np.tile(array, repeats)), value.module)
        return
    x, rank = L.tensor(a["self"]), _rank(L, a["self"])
    if len(repeats) > rank:  # repeat adds leading dims of size 1 first
        shape = [1] * (len(repeats) - rank) + L.shape_of(a["self"])
        x = L.builder.add_tensor(f"{node.name}.view", shape, "float32", "activation")
        L.emit(node, "reshape", [L.tensor(a["self"])], {"shape": shape}, outputs=[x], name=f"{node.name}.view")
    L.emit(node, "tile", [x], {"repeats": repeats})


def _slice_attrs(L, source, dim: int, start: int, size: int, step: int):
    shape = L.shape_of(source)
    starts, sizes, steps = [0] * len(shape), list(shape), [1] * len(shape)
    starts[dim], sizes[dim], steps[dim] = start, size, step
    return {"starts": starts, "sizes": sizes, "steps": steps}


@rule("aten.slice.Tensor")
def slice_tensor(L, node, a):
    shape = L.shape_of(a["self"])
    dim = _axis(a["dim"], len(shape))
    size = L.shape_of(node)[dim]
    start = 0 if a["start"] is None else int(a["start"])
    start = min(max(start + shape[dim] if start < 0 else start, 0), shape[dim])
    if size == shape[dim]:
        return L.alias(node, a["self"])
    if isinstance(L.value(a["self"]), WeightRef):  # a slice of a constant is a constant
        ref = L.value(a["self"])
        index = [slice(None)] * len(shape)
        index[dim] = slice(start, start + size * int(a["step"]), int(a["step"]))
        L.env[node] = WeightRef(node.name, np.ascontiguousarray(ref.array[tuple(index)]), ref.module)
        return
    L.emit(node, "slice", [L.tensor(a["self"])], _slice_attrs(L, a["self"], dim, start, size, int(a["step"])))


@rule("aten.narrow.default")
def narrow(L, node, a):
    shape = L.shape_of(a["self"])
    dim = _axis(a["dim"], len(shape))
    start = int(a["start"]) + (shape[dim] if int(a["start"]) < 0 else 0)
    L.emit(node, "slice", [L.tensor(a["self"])], _slice_attrs(L, a["self"], dim, start, int(a["length"]), 1))


@rule("aten.select.int")
def select(L, node, a):
    """x.select(dim, i): a slice of one along dim, then a reshape that drops it."""
    shape = L.shape_of(a["self"])
    dim = _axis(a["dim"], len(shape))
    index = int(a["index"]) + (shape[dim] if int(a["index"]) < 0 else 0)
    value = L.value(a["self"])
    if isinstance(value, WeightRef):
        L.env[node] = WeightRef(node.name, np.ascontiguousarray(np.take(value.array, index, axis=dim)), value.module)
        return
    kept = shape[:dim] + [1] + shape[dim + 1:]
    one = L.builder.add_tensor(f"{node.name}.slice", kept, "float32", "activation")
    L.emit(node, "slice", [L.tensor(a["self"])], _slice_attrs(L, a["self"], dim, index, 1, 1), outputs=[one],
           name=f"{node.name}.slice")
    L.emit(node, "reshape", [one], {"shape": L.shape_of(node)})


def _constant_indices(L, arg):
    value = L.value(arg) if L.is_tensor(arg) else None
    return value.array if isinstance(value, WeightRef) else None


@rule("aten.index_select.default")
def index_select(L, node, a):
    indices = _constant_indices(L, a["index"])
    rank = _rank(L, a["self"])
    if indices is None:
        return _take(L, node, a["self"], a["index"], _axis(a["dim"], rank), "index_select")
    table = L.value(a["self"])
    if isinstance(table, WeightRef):
        L.env[node] = WeightRef(node.name, np.ascontiguousarray(np.take(table.array, indices.reshape(-1), axis=_axis(a["dim"], rank))),
                                table.module)
        return
    L.emit(node, "gather", [L.tensor(a["self"])], {"axis": _axis(a["dim"], rank), "indices": [int(i) for i in indices.reshape(-1)]})


def _take(L, node, table, indices, axis: int, what: str):
    """Rows of `table` along `axis` picked by an integer tensor the model is given or computes."""
    dtype = str(indices.meta["val"].dtype).replace("torch.", "") if L.is_tensor(indices) else type(indices).__name__
    if dtype not in ("int32", "int64"):
        return L.refuse(node, f"{what} with {dtype} indices")
    L.emit(node, "take", [L.tensor(table), L.tensor(indices)], {"axis": axis})


@rule("aten.embedding.default")
def embedding(L, node, a):
    """A table lookup: constant indices fold (constant table) or gather rows; indices the model is
    given (an int64 input) are a take, checked by the image when it runs."""
    indices = _constant_indices(L, a["indices"])
    if indices is None:
        return _take(L, node, a["weight"], a["indices"], 0, "embedding")
    table = L.value(a["weight"])
    if isinstance(table, WeightRef):
        L.env[node] = WeightRef(node.name, np.ascontiguousarray(np.take(table.array, indices, axis=0)), table.module)
        return
    rows = L.builder.add_tensor(f"{node.name}.rows", [indices.size] + L.shape_of(a["weight"])[1:], "float32", "activation")
    L.emit(node, "gather", [L.tensor(a["weight"])], {"axis": 0, "indices": [int(i) for i in indices.reshape(-1)]},
           outputs=[rows], name=f"{node.name}.rows")
    L.emit(node, "reshape", [rows], {"shape": L.shape_of(node)})


def _where_operand(L, node, value, suffix: str) -> str:
    if _number(value):
        return L.constant(node, suffix, np.array([value], np.float32))
    ref = L.value(value)
    if isinstance(ref, WeightRef) and ref.array.dtype != np.float32:
        return L.constant(node, suffix, ref.array.astype(np.float32))
    return L.tensor(value)


def _where(L, node, condition, x, other):
    cond = L.value(condition)
    if not isinstance(cond, WeightRef):
        return L.refuse(node, "where with a condition the model computes (only a constant one)")
    mask = cond.array.astype(bool)
    if mask.all() and not _number(x) and L.shape_of(x) == L.shape_of(node):
        return L.alias(node, x)
    if not mask.any() and not _number(other) and L.shape_of(other) == L.shape_of(node):
        return L.alias(node, other)
    inputs = [L.constant(node, "condition", mask.astype(np.float32)), _where_operand(L, node, x, "x"),
              _where_operand(L, node, other, "other")]
    L.emit(node, "where", inputs, {})


@rule("aten.where.self")
def where(L, node, a):
    _where(L, node, a["condition"], a["self"], a["other"])


@rule("aten.masked_fill.Scalar", "aten.masked_fill.Tensor")
def masked_fill(L, node, a):
    _where(L, node, a["mask"], a["value"], a["self"])


def _walk(size, stride):
    """(size, stride) pairs without size-1 dims, neighbours that walk memory as one merged."""
    out = []
    for n, st in zip(size, stride):
        if n == 1:
            continue
        if out and out[-1][1] == st * n:
            out[-1] = (out[-1][0] * n, st)
        else:
            out.append((n, st))
    return out


@rule("aten.as_strided.default")
def as_strided(L, node, a):
    """A view that reads the input's elements in their own order (ConvNeXt's channels-last restride of
    a [N, C, 1, 1] mean) is a reshape; any other strided view is refused."""
    size, stride = [int(d) for d in a["size"]], [int(d) for d in a["stride"]]
    offset = int(a["storage_offset"] or 0)
    contiguous = [int(np.prod(size[d + 1:])) for d in range(len(size))]
    if offset != 0 or _walk(size, stride) != _walk(size, contiguous) or int(np.prod(size)) != int(np.prod(L.shape_of(a["self"]))):
        return L.refuse(node, "a strided view that reorders or skips elements (as_strided)")
    if size == L.shape_of(a["self"]):
        return L.alias(node, a["self"])
    L.emit(node, "reshape", [L.tensor(a["self"])], {"shape": size})


@rule("aten.index.Tensor")
def index_tensor(L, node, a):
    """x[indices] with constant indices: a constant table folds (Swin's and MaxViT's relative position
    bias); one 1-D index on a computed tensor is a gather along its axis."""
    indices = list(a["indices"])
    arrays = [None if i is None else _constant_indices(L, i) for i in indices]
    if any(i is not None and arr is None for i, arr in zip(indices, arrays)):
        return L.refuse(node, "indexing with indices the model computes")
    table = L.value(a["self"])
    if isinstance(table, WeightRef):
        key = tuple(slice(None) if arr is None else arr for arr in arrays)
        L.env[node] = WeightRef(node.name, np.ascontiguousarray(table.array[key]), table.module)
        return
    given = [(axis, arr) for axis, arr in enumerate(arrays) if arr is not None]
    if len(given) != 1 or given[0][1].ndim != 1:
        return L.refuse(node, "indexing a computed tensor with more than one 1-D constant index")
    axis, arr = given[0]
    L.emit(node, "gather", [L.tensor(a["self"])], {"axis": axis, "indices": [int(i) for i in arr]})
