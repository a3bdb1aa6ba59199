"""Nodes computed from constants alone, evaluated at capture: a GRU's or LSTM's zero initial
state and what the model computes from it (W_hh · 0 + b), an attention mask built with arange
and comparisons, arithmetic on buffers. Their results become constant weights, so the image
holds a value instead of the computation, and no kernel needs a constant as its activation."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

# Ops whose result is not a function of their inputs.
_NOT_FOLDED = ("rand", "randn", "randint", "randperm", "normal", "bernoulli", "dropout", "native_dropout",
               "empty", "empty_like", "empty_strided", "uniform", "exponential", "multinomial")
# Re-views of a parameter that the lowering keeps lazy (a matmul reads an expanded operand as it is),
# and copies it aliases (the constant keeps its name).
_KEPT_LAZY = ("expand", "clone", "alias", "detach", "lift_fresh_copy", "contiguous", "dropout")
# A 2-D transpose of a weight stays lazy too: a linear absorbs it. Other permutations fold.
_TRANSPOSES = ("permute", "t", "transpose")
MAX_FOLDED_ELEMENTS = 1 << 24


def foldable_name(op_name: str) -> bool:
    base = op_name.split(".")[1] if op_name.startswith("aten.") else op_name
    return base not in _NOT_FOLDED


def constant_array(value: Any, weight_ref, transposed_weight) -> Optional[np.ndarray]:
    if isinstance(value, weight_ref):
        return value.array
    if isinstance(value, transposed_weight):
        return np.ascontiguousarray(value.weight.array.T)
    return None


def evaluate(node, env, weight_ref, transposed_weight, op_name: str):
    """The node's value when every tensor it reads is a constant (a torch.Tensor, or a list of them for
    an op with several results), else None."""
    base = op_name.split(".")[1] if op_name.startswith("aten.") else op_name
    if not foldable_name(op_name) or base in _KEPT_LAZY or not isinstance(node.target, torch._ops.OpOverload):
        return None
    values_read = list(node.args) + list(node.kwargs.values())
    tensors = [a for a in values_read if isinstance(a, torch.fx.Node)]
    tensors += [x for a in values_read if isinstance(a, (list, tuple)) for x in a if isinstance(x, torch.fx.Node)]
    arrays = {}
    for t in tensors:
        array = constant_array(env.get(t), weight_ref, transposed_weight)
        if array is None:
            return None
        arrays[t] = array
    val = node.meta.get("val")
    if base in _TRANSPOSES and isinstance(val, torch.Tensor) and val.dim() == 2:
        return None
    values = list(val) if isinstance(val, (list, tuple)) else [val]
    if not values or not all(isinstance(v, torch.Tensor) for v in values) or sum(v.numel() for v in values) > MAX_FOLDED_ELEMENTS:
        return None
    def convert(a):
        if isinstance(a, torch.fx.Node):
            return torch.from_numpy(np.array(arrays[a]))
        if isinstance(a, (list, tuple)):  # cat's tensors, index_put's indices
            return type(a)(convert(x) for x in a)
        return a

    with torch.no_grad():
        result = node.target(*[convert(a) for a in node.args], **{k: convert(v) for k, v in node.kwargs.items()})
    if isinstance(result, (list, tuple)) and all(isinstance(r, torch.Tensor) for r in result):
        return list(result)
    return result if isinstance(result, torch.Tensor) else None
