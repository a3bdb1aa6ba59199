"""Scaled dot-product attention, kept whole by the export (export.KEPT_WHOLE) and lowered here
onto ops the vocabulary has: softmax(q kᵀ · scale + mask) v as a transpose, two matmuls, a
scale, an additive mask and a softmax over the last axis. Its default decomposition instead
guards fully masked rows with data-dependent ops (eq, any, where) that no kernel needs for an
unmasked or causal attention."""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List

import numpy as np
import torch

from .lowering import AtenLowering, WeightRef

Rule = Callable[[AtenLowering, Any, Dict[str, Any]], None]


def scaled_dot_product_attention(L: AtenLowering, node, a: Dict[str, Any]) -> None:
    if a.get("dropout_p"):
        return L.refuse(node, "attention with dropout (call model.eval() and pass dropout_p=0)")
    if a.get("enable_gqa"):
        return L.refuse(node, "grouped-query attention (enable_gqa)")
    query, key, value = a["query"], a["key"], a["value"]
    q_shape, k_shape = L.shape_of(query), L.shape_of(key)
    if len(q_shape) < 2 or len(k_shape) != len(q_shape):
        return L.refuse(node, "attention whose query and key have different ranks")
    rank = len(q_shape)
    length, source, depth = q_shape[-2], k_shape[-2], q_shape[-1]
    scale = a.get("scale")
    scale = 1.0 / math.sqrt(depth) if scale is None else float(scale)
    lead = list(q_shape[:-2])

    def step(suffix: str, op: str, inputs: List[str], attrs: Dict[str, Any], shape: List[int]) -> str:
        out = L.builder.add_tensor(f"{node.name}.{suffix}", shape, "float32", "activation")
        L.emit(node, op, inputs, attrs, outputs=[out], name=f"{node.name}.{suffix}")
        return out

    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    key_t = step("key_t", "transpose", [L.tensor(key)], {"perm": perm}, list(k_shape[:-2]) + [depth, source])
    scores = step("scores", "matmul", [L.tensor(query), key_t], {}, lead + [length, source])
    scores = step("scaled", "mul", [scores], {"scalar": scale}, lead + [length, source])
    mask = _additive_mask(L, node, a, length, source)
    if mask is not None:
        scores = step("masked", "add", [scores, mask], {}, lead + [length, source])
    weights = step("weights", "softmax", [scores], {"axis": rank - 1}, lead + [length, source])
    L.emit(node, "matmul", [weights, L.tensor(value)], {})


def _additive_mask(L: AtenLowering, node, a: Dict[str, Any], length: int, source: int):
    """The mask as a tensor added to the scores: a causal mask or a constant boolean mask become a
    constant of 0 and -inf; a float mask is added as it is."""
    mask = a.get("attn_mask")
    if a.get("is_causal"):
        if mask is not None:
            return L.refuse(node, "attention with both is_causal and a mask")
        causal = np.triu(np.full((length, source), -np.inf, dtype=np.float32), k=1)
        return L.constant(node, "causal_mask", causal)
    if mask is None:
        return None
    held = L.value(mask)
    if isinstance(held, WeightRef) and held.array.dtype == np.bool_:
        return L.constant(node, "mask", np.where(held.array, 0.0, -np.inf).astype(np.float32))
    if getattr(mask, "meta", {}).get("val") is None or mask.meta["val"].dtype != torch.float32:
        return L.refuse(node, "attention with a boolean mask computed at run time")
    return L.tensor(mask)


ATTENTION_RULES: Dict[str, Rule] = {"aten.scaled_dot_product_attention.default": scaled_dot_product_attention}
