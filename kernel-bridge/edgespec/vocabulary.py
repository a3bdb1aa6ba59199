"""The edgespec op vocabulary (src/common/ops.json) as Python lookups."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, FrozenSet, Optional, Tuple

from .contracts import OPS, load_contract

REMOVED = "(removed)"

# "aten.add.Tensor (alpha=1)" names aten.add.Tensor; prose entries such as
# "aten.mm.default + aten.permute.default of a weight" describe patterns, not one op.
_SINGLE_OP = re.compile(r"^(aten\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+)\s*(\(.*\))?$")


@dataclass(frozen=True)
class OpSpec:
    op: str
    category: str
    semantics: str
    attrs: Dict[str, str]
    pytorch: Tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    ops: Dict[str, OpSpec]
    pytorch_to_op: Dict[str, str]
    removed_pytorch: FrozenSet[str]

    def __contains__(self, op: str) -> bool:
        return op in self.ops

    def op_for_pytorch(self, framework_op: str) -> Optional[str]:
        """The vocabulary op a PyTorch ATen op maps onto, REMOVED for identities, else None."""
        if framework_op in self.removed_pytorch:
            return REMOVED
        return self.pytorch_to_op.get(framework_op)


def _single_ops(entries) -> Tuple[str, ...]:
    names = []
    for entry in entries:
        match = _SINGLE_OP.match(entry.strip())
        if match:
            names.append(match.group(1))
    return tuple(names)


@lru_cache(maxsize=None)
def load_vocabulary() -> Vocabulary:
    table = load_contract(OPS)
    ops: Dict[str, OpSpec] = {}
    pytorch_to_op: Dict[str, str] = {}
    for entry in table["ops"]:
        spec = OpSpec(entry["op"], entry["category"], entry["semantics"], dict(entry.get("attrs", {})),
                      _single_ops(entry.get("pytorch", [])))
        ops[spec.op] = spec
        for name in spec.pytorch:
            pytorch_to_op.setdefault(name, spec.op)
    removed = frozenset(_single_ops(table.get("removed", {}).get("pytorch", [])))
    return Vocabulary(ops, pytorch_to_op, removed)
