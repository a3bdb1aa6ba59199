"""Framework slices as the vocabulary's slice attributes (starts, sizes, steps per axis), with
Python's clamping, which ONNX Slice and TFLite STRIDED_SLICE share."""
from __future__ import annotations

from typing import Dict, List, Sequence


def slice_attrs(shape: Sequence[int], bounds: Dict[int, tuple]) -> Dict[str, List[int]]:
    """bounds: axis -> (start or None, end or None, step); other axes are kept whole."""
    starts, sizes, steps = [0] * len(shape), [int(d) for d in shape], [1] * len(shape)
    for axis, (start, end, step) in bounds.items():
        if step == 0:
            raise ValueError("a slice step of 0")
        first, stop, step = slice(start, end, step).indices(int(shape[axis]))
        starts[axis], sizes[axis], steps[axis] = first, len(range(first, stop, step)), step
        if sizes[axis] == 0:
            starts[axis] = 0
    return {"starts": starts, "sizes": sizes, "steps": steps}

