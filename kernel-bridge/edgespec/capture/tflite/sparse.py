"""Sparse constants of a .tflite (the converter's EXPERIMENTAL_SPARSITY, pruned models): their
buffer holds only the kept values, laid out by the tensor's SparsityParameters. edgespec
stores weights dense, so capture expands them here; a DENSIFY op on such a constant is then
only a name for its input.

The layout: the tensor's dimensions, in `traversal_order`, followed by the inner dimensions
of blocks (`block_map` names which original dimension each block splits). Each of those levels
is dense (every index from 0 to dense_size) or compressed (CSR: `array_segments[p]` to
`array_segments[p + 1]` index `array_indices`, p being the position in the level above). The
values are stored in the order a depth-first walk of the levels meets them.
"""
from __future__ import annotations

from typing import List

import numpy as np

from ...errors import ModelInputError

_DENSE, _SPARSE_CSR = 0, 1


def _vector(union) -> np.ndarray:
    return np.asarray(union.values if union is not None and union.values is not None else [], dtype=np.int64)


def densify(values: np.ndarray, shape: List[int], sparsity, label: str) -> np.ndarray:
    """The dense array of SHAPE whose kept values are VALUES (1-D, in storage order)."""
    def damaged(problem: str) -> ModelInputError:
        return ModelInputError(f"{label} is a sparse constant whose sparsity parameters are damaged: {problem}",
                               hint="re-export the model from its source")

    rank = len(shape)
    elements = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if elements > min(1 << 31, max(1 << 20, 1024 * values.size)):
        # the file's bytes bound a dense constant's size; here its shape alone would
        raise damaged(f"its shape {shape} is far larger than its {values.size} stored values")
    order = [int(v) for v in (sparsity.traversalOrder if sparsity.traversalOrder is not None else range(rank))]
    block_map = [int(v) for v in (sparsity.blockMap if sparsity.blockMap is not None else [])]
    levels = list(sparsity.dimMetadata or [])
    if len(order) != rank + len(block_map) or len(levels) != len(order) or sorted(order) != list(range(len(order))):
        raise damaged(f"traversal order {order} does not cover {rank} dimensions and {len(block_map)} blocks")
    if any(not 0 <= b < rank for b in block_map):
        raise damaged(f"block map {block_map} names a dimension outside rank {rank}")
    block_size = [int(levels[order.index(rank + k)].denseSize) for k in range(len(block_map))]
    blocked = list(shape)
    for k, dim in enumerate(block_map):
        if block_size[k] <= 0 or shape[dim] % block_size[k]:
            raise damaged(f"block size {block_size[k]} does not divide dimension {dim} of {shape}")
        blocked[dim] = shape[dim] // block_size[k]

    # Walk the levels breadth-first with arrays: each leaf keeps its position in its level and
    # its index at every level so far; the leaves come out in storage (depth-first) order.
    position = np.zeros(1, dtype=np.int64)
    coordinates: List[np.ndarray] = []
    for level, meta in enumerate(levels):
        if int(meta.format) == _DENSE:
            size = int(meta.denseSize)
            dim = order[level]
            expected = blocked[dim] if dim < rank else block_size[dim - rank]
            if size != expected:
                raise damaged(f"level {level} is dense over {size} indices where the shape gives {expected}")
            coordinates = [np.repeat(c, size) for c in coordinates]
            coordinates.append(np.tile(np.arange(size, dtype=np.int64), len(position)))
            position = (position[:, None] * size + np.arange(size, dtype=np.int64)).reshape(-1)
        elif int(meta.format) == _SPARSE_CSR:
            segments, indices = _vector(meta.arraySegments), _vector(meta.arrayIndices)
            if len(segments) < int(position.max(initial=0)) + 2 or np.any(np.diff(segments) < 0) \
                    or (len(segments) and (segments[0] < 0 or segments[-1] > len(indices))):
                raise damaged(f"level {level}'s segments do not index its {len(indices)} indices")
            counts = segments[position + 1] - segments[position]
            starts = np.repeat(segments[position], counts)
            within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
            position = starts + within
            coordinates = [np.repeat(c, counts) for c in coordinates]
            coordinates.append(indices[position])
        else:
            raise damaged(f"level {level} has the unknown format {int(meta.format)}")
    if len(position) != values.size:
        raise damaged(f"its layout places {len(position)} values, its buffer holds {values.size}")

    original = [None] * rank
    for level in range(rank):
        original[order[level]] = coordinates[level]
    for level in range(rank, len(order)):
        k = order[level] - rank
        original[block_map[k]] = original[block_map[k]] * block_size[k] + coordinates[level]
    for dim in range(rank):
        if original[dim].size and (original[dim].min() < 0 or original[dim].max() >= shape[dim]):
            raise damaged(f"an index of dimension {dim} lies outside its size {shape[dim]}")
    dense = np.zeros(shape, dtype=values.dtype)
    dense[tuple(original)] = values.reshape(-1)
    return dense
