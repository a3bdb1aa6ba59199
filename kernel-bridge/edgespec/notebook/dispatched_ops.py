"""What each eagerly dispatched ATen op becomes in the edgespec vocabulary, for the trace summary.

Eager execution dispatches some ops that torch.export spells differently (in-place
variants, native_batch_norm, allocations); those are named here, everything else comes
from the vocabulary's own PyTorch lists.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from ..vocabulary import REMOVED, load_vocabulary

_EAGER_SPELLINGS = {
    "aten.native_batch_norm.default": "batch_norm",
    "aten.empty.memory_format": REMOVED,  # the output buffer batch norm allocates
    "aten.empty_like.default": REMOVED,
    "aten.linear.default": "linear",
}
_IN_PLACE = re.compile(r"^(aten\.[A-Za-z0-9_]+?)_\.(\w+)$")


def edgespec_op_for(framework_op: str) -> Optional[str]:
    vocabulary = load_vocabulary()
    op = vocabulary.op_for_pytorch(framework_op) or _EAGER_SPELLINGS.get(framework_op)
    if op is None:
        in_place = _IN_PLACE.match(framework_op)
        if in_place:
            op = vocabulary.op_for_pytorch(f"{in_place.group(1)}.{in_place.group(2)}")
    return op


def inventory_rows(op_inventory: Mapping[str, int], unsupported: Optional[set] = None) -> List[Dict[str, Any]]:
    """One row per dispatched op: {framework_op, count, edgespec_op, supported}, most frequent first."""
    rows = []
    for framework_op, count in sorted(op_inventory.items(), key=lambda kv: (-kv[1], kv[0])):
        op = edgespec_op_for(framework_op)
        supported = op is not None and not (unsupported and framework_op in unsupported)
        rows.append({"framework_op": framework_op, "count": int(count), "edgespec_op": op, "supported": supported})
    return rows
