"""depth_to_space and space_to_depth as reshape -> transpose -> reshape (a 6-D transpose the
vocabulary already has), for the ONNX and TFLite rules; PyTorch's pixel_shuffle and
pixel_unshuffle already reach capture in this form.

Each plan gives the 6-D view of the input, the permutation, and the output shape.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

Plan = Tuple[List[int], List[int], List[int]]


def depth_to_space(shape: Sequence[int], block: int, mode: str) -> Plan:
    """NCHW for ONNX's DCR and CRD modes; NHWC (TFLite's DEPTH_TO_SPACE, DCR order) for mode 'NHWC'."""
    b = int(block)
    if mode == "NHWC":
        n, h, w, c = (int(d) for d in shape)
        _divides(c, b * b)
        return [n, h, w, b, b, c // (b * b)], [0, 1, 3, 2, 4, 5], [n, h * b, w * b, c // (b * b)]
    n, c, h, w = (int(d) for d in shape)
    _divides(c, b * b)
    if mode == "DCR":
        return [n, b, b, c // (b * b), h, w], [0, 3, 4, 1, 5, 2], [n, c // (b * b), h * b, w * b]
    if mode == "CRD":
        return [n, c // (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3], [n, c // (b * b), h * b, w * b]
    raise ValueError(f"depth_to_space mode {mode!r}")


def space_to_depth(shape: Sequence[int], block: int, layout: str) -> Plan:
    """ONNX SpaceToDepth (NCHW) and TFLite SPACE_TO_DEPTH (NHWC): the inverse of depth_to_space's DCR."""
    b = int(block)
    if layout == "NHWC":
        n, h, w, c = (int(d) for d in shape)
        _divides(h, b), _divides(w, b)
        return [n, h // b, b, w // b, b, c], [0, 1, 3, 2, 4, 5], [n, h // b, w // b, c * b * b]
    n, c, h, w = (int(d) for d in shape)
    _divides(h, b), _divides(w, b)
    return [n, c, h // b, b, w // b, b], [0, 3, 5, 1, 2, 4], [n, c * b * b, h // b, w // b]


def _divides(size: int, by: int) -> None:
    if by <= 0 or size % by:
        raise ValueError(f"a block of {by} does not divide {size}")
