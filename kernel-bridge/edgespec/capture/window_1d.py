"""1-D windows as the vocabulary's 2-D ones: conv1d, max/avg pool 1-D and batch norm over
[N, C, L] become reshape [N, C, 1, L] -> the 2-D op -> reshape [N, C', L'].

The PyTorch and ONNX lowerings both call `lower_as_2d`; each gives it a `Sink`, its own way
of adding a tensor and a node, so the two build the same nodes. The build drops the reshape
pair between two such windows (dropNoOps) and folds a batch norm into the convolution
before it, as for 2-D models.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence

import numpy as np


@dataclass
class Sink:
    """How a lowering adds what `lower_as_2d` makes.

    add_tensor(suffix, shape) declares a float32 activation named after the framework node;
    add_node(op, inputs, outputs, attrs) adds a vocabulary node for the framework node.
    """

    add_tensor: Callable[[str, List[int]], str]
    add_node: Callable[[str, List[str], List[str], Dict[str, Any]], None]


def with_unit_height(shape: Sequence[int]) -> List[int]:
    """[N, C, L] -> [N, C, 1, L]."""
    n, c, length = (int(d) for d in shape)
    return [n, c, 1, length]


def weight_2d(weight: np.ndarray) -> np.ndarray:
    """A conv1d weight [O, I/g, K] as the conv2d weight [O, I/g, 1, K] (OIHW)."""
    o, i, k = weight.shape
    return np.ascontiguousarray(weight.reshape(o, i, 1, k))


def window_attrs_2d(stride: int, before: int, after: int, dilation: int = 1) -> Dict[str, List[int]]:
    """stride, padding and dilation of a 1-D window along W, with H a window of one."""
    return {"stride": [1, int(stride)], "padding": [0, int(before), 0, int(after)], "dilation": [1, int(dilation)]}


def lower_as_2d(sink: Sink, op: str, x: str, x_shape: Sequence[int], weights: Sequence[str],
                attrs: Dict[str, Any], y: str, y_shape: Sequence[int]) -> None:
    """y = reshape(op(reshape(x, [N, C, 1, L]), *weights), y_shape); `y` is already declared."""
    if len(x_shape) != 3 or len(y_shape) != 3:
        raise ValueError(f"a 1-D window maps [N, C, L] tensors, not {list(x_shape)} -> {list(y_shape)}")
    x4 = sink.add_tensor("in2d", with_unit_height(x_shape))
    y4 = sink.add_tensor("out2d", with_unit_height(y_shape))
    sink.add_node("reshape", [x], [x4], {"shape": with_unit_height(x_shape)})
    sink.add_node(op, [x4, *weights], [y4], attrs)
    sink.add_node("reshape", [y4], [y], {"shape": [int(d) for d in y_shape]})


def lower_per_channel_as_2d(sink: Sink, op: str, x: str, x_shape: Sequence[int], weights: Sequence[str],
                            attrs: Dict[str, Any], y: str) -> None:
    """A per-channel op (batch norm) over [N, C, d1, ..., dk] (BatchNorm1d's [N, C, L], BatchNorm3d's
    [N, C, D, H, W]) as its 2-D form over [N, C, 1, d1*...*dk]: each channel keeps its values, and the
    build lays the 4-D tensor out channels innermost, as its per-channel kernel needs."""
    if len(x_shape) < 3:
        raise ValueError(f"a per-channel op over [N, C, ...] needs rank 3 or more, not {list(x_shape)}")
    n, c = int(x_shape[0]), int(x_shape[1])
    shape_2d = [n, c, 1, int(np.prod([int(d) for d in x_shape[2:]]))]
    x4 = sink.add_tensor("in2d", shape_2d)
    y4 = sink.add_tensor("out2d", shape_2d)
    sink.add_node("reshape", [x], [x4], {"shape": shape_2d})
    sink.add_node(op, [x4, *weights], [y4], attrs)
    sink.add_node("reshape", [y4], [y], {"shape": [int(d) for d in x_shape]})
