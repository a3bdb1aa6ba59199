"""Dilated (atrous) convolutions as TFLite's converter writes some of them: SPACE_TO_BATCH_ND, a
stride-1 VALID CONV_2D or DEPTHWISE_CONV_2D, BATCH_TO_SPACE_ND with the same block shape (Keras
Conv1D / Conv2D / SeparableConv with dilation_rate at a free batch, DeepLab's atrous layers); for a
1-D convolution the SPACE_TO_BATCH_ND is over [N, W, C] with one block size, and an EXPAND_DIMS (or
RESHAPE) to [N, 1, W, C] before the convolution and a RESHAPE back after it sit in between. The
ops are one convolution of the original input with dilation = the block shape and padding =
the paddings SPACE_TO_BATCH_ND adds minus the crops BATCH_TO_SPACE_ND takes off (output row o
reads input rows o + crop - pad + j * block). The capture emits that one conv2d.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from .flatbuffer import FbModel, FbOperator, PADDINGS

CONVOLUTIONS = ("CONV_2D", "DEPTHWISE_CONV_2D")


@dataclass
class Atrous:
    space_to_batch: int  # operator indices
    convolution: int
    batch_to_space: int
    input: int  # the tensor the convolution really reads, and the one it really writes
    output: int
    dilation: List[int]  # [h, w]
    padding: List[int]  # [top, left, bottom, right]; may be negative (then the capture refuses)
    between: List[int]  # the reshaping ops between them (a 1-D convolution's EXPAND_DIMS and RESHAPE)


@dataclass
class AtrousPlan:
    by_convolution: Dict[int, Atrous]
    space_to_batch: Dict[int, Atrous]
    batch_to_space: Dict[int, Atrous]
    skipped: Dict[int, Atrous]  # every op of a dilated convolution but the convolution


def _constant(model: FbModel, index: int):
    return model.tensors[index].constant if 0 <= index < len(model.tensors) else None


def _only_reader(readers: Dict[int, List[FbOperator]], tensor: int, names) -> Optional[FbOperator]:
    found = readers.get(tensor, [])
    return found[0] if len(found) == 1 and found[0].op in names and found[0].inputs[0] == tensor else None


_RESHAPING = ("EXPAND_DIMS", "RESHAPE", "SQUEEZE")


def _through_reshapes(readers, tensor: int, names, outputs) -> Optional[tuple]:
    """(the op of NAMES that reads TENSOR, through at most one reshaping op; that reshaping op or None)."""
    found = _only_reader(readers, tensor, names)
    if found is not None:
        return found, None
    step = _only_reader(readers, tensor, _RESHAPING)
    if step is None or step.outputs[0] in outputs:
        return None
    found = _only_reader(readers, step.outputs[0], names)
    return (found, step) if found is not None else None


def find_atrous(model: FbModel) -> AtrousPlan:
    readers: Dict[int, List[FbOperator]] = {}
    for op in model.operators:
        for i in op.inputs:
            if i >= 0:
                readers.setdefault(i, []).append(op)
    plan = AtrousPlan({}, {}, {}, {})
    outputs = set(model.outputs)
    for op in model.operators:
        if op.op != "SPACE_TO_BATCH_ND" or len(op.inputs) != 3 or op.outputs[0] in outputs:
            continue
        block, pads = _constant(model, op.inputs[1]), _constant(model, op.inputs[2])
        rank = len(model.tensors[op.inputs[0]].shape)
        if block is None or pads is None or (rank, block.size, pads.shape) not in ((4, 2, (2, 2)), (3, 1, (1, 2))):
            continue
        first = _through_reshapes(readers, op.outputs[0], CONVOLUTIONS, outputs)
        if first is None:
            continue
        conv, expand = first
        if rank == 3 and (expand is None or len(model.tensors[conv.inputs[0]].shape) != 4
                          or model.tensors[conv.inputs[0]].shape[1] != 1):
            continue  # a 1-D convolution reads [N, 1, W, C]
        if conv.outputs[0] in outputs:
            continue
        o = conv.options
        if (PADDINGS.get(o.get("padding")) != "VALID" or (o.get("strideH"), o.get("strideW")) != (1, 1)
                or (o.get("dilationHFactor", 1), o.get("dilationWFactor", 1)) != (1, 1)):
            continue
        second = _through_reshapes(readers, conv.outputs[0], ("BATCH_TO_SPACE_ND",), outputs)
        if second is None or len(second[0].inputs) != 3 or (rank == 3) != (second[1] is not None):
            continue
        back, squeeze = second
        back_block, crops = _constant(model, back.inputs[1]), _constant(model, back.inputs[2])
        if back_block is None or crops is None or crops.shape != pads.shape or list(back_block.reshape(-1)) != list(block.reshape(-1)):
            continue
        if rank == 4:
            dilation = [int(b) for b in block.reshape(-1)]
            padding = [int(pads[0, 0] - crops[0, 0]), int(pads[1, 0] - crops[1, 0]),
                       int(pads[0, 1] - crops[0, 1]), int(pads[1, 1] - crops[1, 1])]
        else:
            dilation = [1, int(block.reshape(-1)[0])]
            padding = [0, int(pads[0, 0] - crops[0, 0]), 0, int(pads[0, 1] - crops[0, 1])]
        between = [step.index for step in (expand, squeeze) if step is not None]
        found = Atrous(op.index, conv.index, back.index, op.inputs[0], back.outputs[0], dilation, padding, between)
        plan.by_convolution[conv.index] = found
        plan.space_to_batch[op.index] = found
        plan.batch_to_space[back.index] = found
        for index in [op.index, back.index, *between]:
            plan.skipped[index] = found
    return plan
