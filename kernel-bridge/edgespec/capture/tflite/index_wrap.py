"""The wrap of negative indices a converter writes before a GATHER whose indices the model is
given (Keras 3's Embedding): SELECT(LESS(ids, 0), ADD(ids, n), ids), n the size of the gathered
axis. The three ops become nothing: the GATHER reads `ids` and counts negative indices from the
end, as the image's take does with negative_indices (checked at run time).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Set

import numpy as np

from .flatbuffer import FbModel, FbOperator

_SELECTS = ("SELECT", "SELECT_V2")
_INTEGERS = ("int32", "int64")


@dataclass
class IndexWrap:
    indices: int  # the TFLite tensor of the indices before the wrap
    size: int  # n: what a negative index is shifted by


def _scalar(model: FbModel, index: int) -> Optional[int]:
    constant = model.tensors[index].constant if index >= 0 else None
    if constant is None or constant.size != 1 or constant.dtype.kind not in "iu":
        return None
    return int(np.asarray(constant).reshape(-1)[0])


def find_index_wraps(model: FbModel) -> Dict[int, IndexWrap]:
    """The wrapped indices by the SELECT's output tensor; their three ops are in skipped_ops()."""
    producer: Dict[int, FbOperator] = {o: op for op in model.operators for o in op.outputs}
    readers: Dict[int, List[FbOperator]] = {}
    for op in model.operators:
        for i in op.inputs:
            readers.setdefault(i, []).append(op)
    wraps: Dict[int, IndexWrap] = {}
    for op in model.operators:
        if op.op not in _SELECTS or len(op.inputs) != 3:
            continue
        condition, shifted, ids = op.inputs
        less, add = producer.get(condition), producer.get(shifted)
        if less is None or add is None or less.op != "LESS" or add.op != "ADD":
            continue
        if model.tensors[ids].type_name not in _INTEGERS or less.inputs[0] != ids or _scalar(model, less.inputs[1]) != 0:
            continue
        others = [i for i in add.inputs if i != ids]
        size = _scalar(model, others[0]) if len(others) == 1 and len(add.inputs) == 2 else None
        if size is None or size <= 0 or add.options.get("fusedActivationFunction", 0):
            continue
        if len(readers.get(condition, [])) != 1 or len(readers.get(shifted, [])) != 1:
            continue
        wraps[op.outputs[0]] = IndexWrap(ids, size)
    return wraps


def skipped_ops(model: FbModel, wraps: Dict[int, IndexWrap]) -> Set[int]:
    """The operator indices of every wrap's LESS, ADD and SELECT."""
    producer: Dict[int, FbOperator] = {o: op for op in model.operators for o in op.outputs}
    skipped: Set[int] = set()
    for output in wraps:
        select = producer[output]
        skipped |= {select.index, producer[select.inputs[0]].index, producer[select.inputs[1]].index}
    return skipped
