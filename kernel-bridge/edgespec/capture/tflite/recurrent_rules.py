"""Recurrent layers in a .tflite: the fused UNIDIRECTIONAL_SEQUENCE_LSTM (unrolled by
capture/recurrent.py), the plain ops an unrolled Keras layer becomes (UNPACK, REVERSE_V2), and
the WHILE loop Keras converts a layer into without unroll=True, refused with that advice.

TFLite facts these rules rely on (schema and the reference kernels): UNIDIRECTIONAL_SEQUENCE_LSTM
takes 24 inputs: x, the input weights [H, I] of the i, f, c, o gates (1-4), the recurrent
weights [H, H] (5-8), peepholes (9-11), the gate biases (12-15), projection weights and bias
(16, 17), the output (h) and cell state variables (18, 19, zero before the first invocation)
and layer-norm coefficients (20-23); x and y are [B, T, .] unless time_major. An absent
optional input is index -1; the input gate is absent in a CIFG LSTM (refused).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from .flatbuffer import ACTIVATIONS, FbOperator
from .lowering import TfliteLowering, Unmappable
from ..lowering_base import normalize_axis
from ..recurrent import Direction, RecurrentSink, State, lstm_layer, stack_steps
from ..slicing import slice_attrs

WHILE_ADVICE = ("it is a WHILE loop (what the converter makes of a Keras LSTM, GRU or SimpleRNN layer); edgespec "
                "needs the loop unrolled: build the layer with unroll=True before converting")


def _input(op: FbOperator, position: int) -> int:
    return op.inputs[position] if position < len(op.inputs) else -1


def unpack(low: TfliteLowering, op: FbOperator) -> None:
    """UNPACK along axis: a split into pieces of one, each reshaped without that axis."""
    shape = low.shape(op.inputs[0])
    axis = normalize_axis(int(op.options.get("axis", 0)), len(shape))
    kept = shape[:axis] + [1] + shape[axis + 1:]
    pieces = [low.declare_like(op.inputs[0], f"{low.tensor(o).name}.piece", kept) for o in op.outputs]
    low.add_node("split", [low.value(op.inputs[0])], pieces, {"axis": axis, "sizes": [1] * len(pieces)})
    for index, piece in zip(op.outputs, pieces):
        result = low.declare(index)
        low.add_node("reshape", [piece], [result], {"shape": low.shape(index)})
        low.names[index] = result


def pack(low: TfliteLowering, op: FbOperator) -> None:
    """PACK along axis (return_sequences of an unrolled Keras layer): each input reshaped with that axis
    of one, then a concat."""
    out_shape = low.shape(op.outputs[0])
    axis = normalize_axis(int(op.options.get("axis", 0)), len(out_shape))
    kept = out_shape[:axis] + [1] + out_shape[axis + 1:]
    pieces = []
    for position, index in enumerate(op.inputs):
        piece = low.declare_like(op.outputs[0], f"{low.tensor(op.outputs[0]).name}.piece{position}", kept)
        low.add_node("reshape", [low.value(index)], [piece], {"shape": kept})
        pieces.append(piece)
    if len(pieces) == 1:
        return low.emit("reshape", pieces, {"shape": out_shape})
    low.emit("concat", pieces, {"axis": axis})


def reverse_v2(low: TfliteLowering, op: FbOperator) -> None:
    """REVERSE_V2 (Keras go_backwards and Bidirectional): a slice with step -1 along each given axis."""
    shape = low.shape(op.inputs[0])
    axes = [normalize_axis(int(a), len(shape)) for a in low.constant(op.inputs[1], "axes").reshape(-1)]
    low.emit("slice", [low.value(op.inputs[0])], slice_attrs(shape, {axis: (None, None, -1) for axis in axes}))


def refuse_while(low: TfliteLowering, op: FbOperator) -> None:
    raise Unmappable(WHILE_ADVICE)


def _zero_or_refuse(low: TfliteLowering, op: FbOperator, positions, what: str) -> None:
    for position in positions:
        index = _input(op, position)
        if index >= 0 and (not low.is_constant(index) or np.any(low.real_constant(index, what))):
            raise Unmappable(f"it has {what}; edgespec unrolls LSTMs without them")


def _initial_state(low: TfliteLowering, index: int, batch: int, hidden: int) -> State:
    """A state variable's value before the first invocation: zero, unless the model gives it a constant."""
    if index >= 0 and low.is_constant(index):
        return State.of_constant(np.broadcast_to(low.real_constant(index, "state"), (batch, hidden)).astype(np.float32))
    return State()


def unidirectional_sequence_lstm(low: TfliteLowering, op: FbOperator) -> None:
    if low.int8:
        raise Unmappable("it is a fully int8-quantized LSTM; edgespec unrolls float and dynamic-range (int8 weight) LSTMs")
    options = op.options
    activation = ACTIVATIONS.get(options.get("fusedActivationFunction", 0), "?")
    if activation != "tanh":
        raise Unmappable(f"its activation is {activation}; edgespec unrolls LSTMs with tanh")
    if options.get("cellClip", 0.0) or options.get("projClip", 0.0):
        raise Unmappable("it clips its cell or projection (cell_clip / proj_clip)")
    if _input(op, 1) < 0:
        raise Unmappable("it has no input gate (CIFG); edgespec unrolls LSTMs with all four gates")
    _zero_or_refuse(low, op, (9, 10, 11), "peephole weights")
    if _input(op, 16) >= 0:
        raise Unmappable("it has a projection layer; edgespec unrolls LSTMs without projection")
    if any(_input(op, p) >= 0 for p in (20, 21, 22, 23)):
        raise Unmappable("it has layer-norm coefficients; edgespec unrolls LSTMs without layer normalization")
    x_shape = low.shape(op.inputs[0])
    if len(x_shape) != 3:
        raise Unmappable(f"its input has rank {len(x_shape)}; it needs [B, T, I] or [T, B, I]")
    time_major = bool(options.get("timeMajor", False))
    time_axis = 0 if time_major else 1
    batch = x_shape[1 - time_axis]
    # TFLite gate order i, f, c, o is the canonical i, f, g, o
    w = np.concatenate([low.real_constant(op.inputs[p], "input weights") for p in (1, 2, 3, 4)]).astype(np.float32)
    r = np.concatenate([low.real_constant(op.inputs[p], "recurrent weights") for p in (5, 6, 7, 8)]).astype(np.float32)
    hidden = r.shape[1]
    b = np.concatenate([low.real_constant(op.inputs[p], "gate bias") if _input(op, p) >= 0 else np.zeros(hidden, np.float32)
                        for p in (12, 13, 14, 15)]).astype(np.float32)
    h0 = _initial_state(low, _input(op, 18), batch, hidden)
    c0 = _initial_state(low, _input(op, 19), batch, hidden)
    out_index = op.outputs[0]
    out_name = low.tensor(out_index).name
    sink = RecurrentSink(
        lambda suffix, shape: low.builder.add_tensor(f"{out_name}.{suffix}", shape, "float32", "activation"),
        lambda suffix, array: low.builder.add_weight(f"{out_name}.{suffix}", np.ascontiguousarray(array, np.float32), low.module),
        lambda vocab_op, inputs, outputs, attrs: low.add_node(vocab_op, inputs, outputs, attrs))
    layer = Direction(w, r, b, np.zeros_like(b), False, h0, c0, "")
    result = lstm_layer(sink, low.value(op.inputs[0]), x_shape, time_axis, layer)
    y = low.declare(out_index)
    stack_steps(sink, result.hs, batch, hidden, time_major, low.shape(out_index), "y", y)
    low.names[out_index] = y


RULES: Dict[str, object] = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": unidirectional_sequence_lstm,
    "UNPACK": unpack,
    "PACK": pack,
    "REVERSE_V2": reverse_v2,
    "WHILE": refuse_while,
}
