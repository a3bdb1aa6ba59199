"""What the TFLite and ONNX importers share: unsupported-op bookkeeping and padding arithmetic."""
from __future__ import annotations

import math
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from ..errors import UnsupportedOp, UnsupportedOpsError


class Unmappable(Exception):
    """A capture rule cannot express this node in the vocabulary; the message says why."""


class UnsupportedCollector:
    """Collects every op that cannot be mapped, so all of them are reported at once."""

    def __init__(self) -> None:
        self._seen: "OrderedDict[Tuple[str, str, Optional[str], Optional[str]], int]" = OrderedDict()

    def add(self, framework_op: str, module: str, reason: Optional[str] = None, source: Optional[str] = None) -> None:
        key = (framework_op, module, source, reason)
        self._seen[key] = self._seen.get(key, 0) + 1

    def __bool__(self) -> bool:
        return bool(self._seen)

    def ops(self) -> List[UnsupportedOp]:
        return [UnsupportedOp(op, module, source, reason, count) for (op, module, source, reason), count in self._seen.items()]

    def raise_if_any(self) -> None:
        if self._seen:
            raise UnsupportedOpsError(self.ops())


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> Tuple[int, int]:
    """TensorFlow's SAME: output ceil(size / stride); the odd pixel of padding goes after."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def window_output_size(size: int, kernel: int, stride: int, dilation: int, before: int, after: int,
                       ceil_mode: bool = False) -> int:
    """The vocabulary's output size rule for conv2d and pooling (ops.json)."""
    effective = (kernel - 1) * dilation + 1
    span = size + before + after - effective
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + before:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def normalize_axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def product(values: Sequence[int]) -> int:
    result = 1
    for v in values:
        result *= int(v)
    return result


def framework_op_table(field: str) -> Dict[str, str]:
    """ops.json's `tflite` / `onnx` / `tensorflow` lists as framework op -> vocabulary op.

    Entries may carry a remark ("tflite.SOFTMAX (last axis ...)"); the op is the first word.
    Ops capture removes map to REMOVED.
    """
    from ..contracts import OPS, load_contract
    from ..vocabulary import REMOVED

    table = load_contract(OPS)
    mapping: Dict[str, str] = {}
    for entry in table["ops"]:
        for name in entry.get(field, []):
            mapping.setdefault(re.split(r"[\s(,]", name.strip(), maxsplit=1)[0], entry["op"])
    for name in table.get("removed", {}).get(field, []):
        mapping.setdefault(re.split(r"[\s(,]", name.strip(), maxsplit=1)[0], REMOVED)
    return mapping
