"""Recurrent layers in a .tflite: the fused UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM
and UNIDIRECTIONAL_SEQUENCE_RNN (unrolled by capture/recurrent.py), the plain ops an unrolled
Keras layer becomes (UNPACK, PACK, REVERSE_V2), and a WHILE loop left after while_unroll.py (one whose steps
depend on the input), refused with that advice.

TFLite facts these rules rely on (schema and the reference kernels): UNIDIRECTIONAL_SEQUENCE_LSTM
takes 24 inputs: x, the input weights [H, I] of the i, f, c, o gates (1-4), the recurrent
weights [H, H] (5-8), peepholes (9-11), the gate biases (12-15), projection weights and bias
(16, 17), the output (h) and cell state variables (18, 19, zero before the first invocation)
and layer-norm coefficients (20-23); x and y are [B, T, .] unless time_major. An absent
optional input is index -1; the input gate is absent in a CIFG LSTM (refused).
BIDIRECTIONAL_SEQUENCE_LSTM has 48 inputs (see its rule) and is time-major by default.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from .flatbuffer import ACTIVATIONS, FbOperator
from .variables import assign_tensor_variable, read_tensor_variable
from .lowering import TfliteLowering, Unmappable
from ..lowering_base import normalize_axis
from ..recurrent import RNN_ACTIVATIONS, Direction, RecurrentSink, State, lstm_layer, rnn_layer, stack_steps
from ..slicing import slice_attrs

WHILE_ADVICE = ("it is a WHILE loop whose number of steps depends on what the model is given; edgespec unrolls a "
                "loop only when its steps are known before the model runs (as a Keras LSTM, GRU or SimpleRNN layer's "
                "are): give the loop a fixed length, or build a recurrent layer with unroll=True before converting")


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
    """A state input: a variable tensor is the model's state (kept between invocations, variables.py); otherwise
    zero, unless the model gives it a constant."""
    if index >= 0 and low.tensor(index).variable:
        return State(tensor=read_tensor_variable(low, index, [batch, hidden]))
    if index >= 0 and low.is_constant(index):
        return State.of_constant(np.broadcast_to(low.real_constant(index, "state"), (batch, hidden)).astype(np.float32))
    return State()


def _keep_states(low: TfliteLowering, op: FbOperator, positions: tuple, result) -> None:
    """What the layer ends with goes into its variable state tensors (h, then c), as TFLite writes them."""
    for position, value in zip(positions, (result.h_last, result.c_last)):
        index = _input(op, position)
        if index >= 0 and low.tensor(index).variable and value is not None:
            assign_tensor_variable(low, index, value)


def _sequence(low: TfliteLowering, op: FbOperator, default_time_major: bool = False):
    """(x shape, time axis, batch, time-major) of a sequence op; float and dynamic-range models only."""
    if low.int8:
        raise Unmappable(f"it is a fully int8-quantized {op.op}; edgespec unrolls float and dynamic-range "
                         "(int8 weight) recurrent layers")
    x_shape = low.shape(op.inputs[0])
    if len(x_shape) != 3:
        raise Unmappable(f"its input has rank {len(x_shape)}; it needs [B, T, I] or [T, B, I]")
    time_major = bool(op.options.get("timeMajor", default_time_major))
    time_axis = 0 if time_major else 1
    return x_shape, time_axis, x_shape[1 - time_axis], time_major


def _sink(low: TfliteLowering, out_index: int) -> RecurrentSink:
    out_name = low.tensor(out_index).name
    return RecurrentSink(
        lambda suffix, shape: low.builder.add_tensor(f"{out_name}.{suffix}", shape, "float32", "activation"),
        lambda suffix, array: low.builder.add_weight(f"{out_name}.{suffix}", np.ascontiguousarray(array, np.float32), low.module),
        lambda vocab_op, inputs, outputs, attrs: low.add_node(vocab_op, inputs, outputs, attrs))


def _check_lstm_options(op: FbOperator) -> None:
    activation = ACTIVATIONS.get(op.options.get("fusedActivationFunction", 0), "?")
    if activation != "tanh":
        raise Unmappable(f"its activation is {activation}; edgespec unrolls LSTMs with tanh")
    if op.options.get("cellClip", 0.0) or op.options.get("projClip", 0.0):
        raise Unmappable("it clips its cell or projection (cell_clip / proj_clip)")


def _lstm_direction(low: TfliteLowering, op: FbOperator, offset: int, states: tuple, batch: int, reverse: bool,
                    prefix: str) -> Direction:
    """The weights of one direction: input weights i, f, c, o at 1-4 (+ offset), recurrent weights 5-8,
    peepholes 9-11, gate biases 12-15, projection 16-17 (TFLite's i, f, c, o is the canonical i, f, g, o)."""
    if _input(op, 1 + offset) < 0:
        raise Unmappable("it has no input gate (CIFG); edgespec unrolls LSTMs with all four gates")
    _zero_or_refuse(low, op, (9 + offset, 10 + offset, 11 + offset), "peephole weights")
    if _input(op, 16 + offset) >= 0:
        raise Unmappable("it has a projection layer; edgespec unrolls LSTMs without projection")
    w = np.concatenate([low.real_constant(op.inputs[p + offset], "input weights") for p in (1, 2, 3, 4)])
    r = np.concatenate([low.real_constant(op.inputs[p + offset], "recurrent weights") for p in (5, 6, 7, 8)])
    hidden = r.shape[1]
    b = np.concatenate([low.real_constant(op.inputs[p + offset], "gate bias") if _input(op, p + offset) >= 0
                        else np.zeros(hidden, np.float32) for p in (12, 13, 14, 15)]).astype(np.float32)
    h0, c0 = (_initial_state(low, _input(op, position), batch, hidden) for position in states)
    return Direction(w.astype(np.float32), r.astype(np.float32), b, np.zeros_like(b), reverse, h0, c0, prefix)


def unidirectional_sequence_lstm(low: TfliteLowering, op: FbOperator) -> None:
    x_shape, time_axis, batch, time_major = _sequence(low, op)
    _check_lstm_options(op)
    if any(_input(op, p) >= 0 for p in (20, 21, 22, 23)):
        raise Unmappable("it has layer-norm coefficients; edgespec unrolls LSTMs without layer normalization")
    layer = _lstm_direction(low, op, 0, (18, 19), batch, False, "")
    out_index = op.outputs[0]
    sink = _sink(low, out_index)
    result = lstm_layer(sink, low.value(op.inputs[0]), x_shape, time_axis, layer)
    _keep_states(low, op, (18, 19), result)
    y = low.declare(out_index)
    stack_steps(sink, result.hs, batch, layer.r.shape[1], time_major, low.shape(out_index), "y", y)
    low.names[out_index] = y


def bidirectional_sequence_lstm(low: TfliteLowering, op: FbOperator) -> None:
    """BIDIRECTIONAL_SEQUENCE_LSTM: forward weights at 1-17, backward at 18-34, states fw h, c and bw h, c
    at 35-38, an auxiliary input at 39-47 (refused); time-major unless told; merge_outputs joins the two
    directions along the last axis, otherwise they are two outputs."""
    x_shape, time_axis, batch, time_major = _sequence(low, op, default_time_major=True)
    _check_lstm_options(op)
    if any(_input(op, p) >= 0 for p in range(39, 48)):
        raise Unmappable("it has an auxiliary input; edgespec unrolls bidirectional LSTMs of one input")
    layers = [_lstm_direction(low, op, 0, (35, 36), batch, False, "fw."),
              _lstm_direction(low, op, 17, (37, 38), batch, True, "bw.")]
    sink = _sink(low, op.outputs[0])
    x = low.value(op.inputs[0])
    results = [lstm_layer(sink, x, x_shape, time_axis, layer) for layer in layers]
    _keep_states(low, op, (35, 36), results[0])
    _keep_states(low, op, (37, 38), results[1])
    hidden = layers[0].r.shape[1]
    if op.options.get("mergeOutputs", False):
        joined = [sink.add_tensor(f"merged.t{t}", [batch, 2 * hidden]) for t in range(len(results[0].hs))]
        for t, piece in enumerate(joined):
            sink.add_node("concat", [results[0].hs[t], results[1].hs[t]], [piece], {"axis": 1})
        outputs = [(op.outputs[0], joined, 2 * hidden)]
    else:
        outputs = [(index, result.hs, hidden) for index, result in zip(op.outputs, results)]
    for index, pieces, width in outputs:
        y = low.declare(index)
        stack_steps(sink, pieces, batch, width, time_major, low.shape(index), f"y{index}", y)
        low.names[index] = y


def unidirectional_sequence_rnn(low: TfliteLowering, op: FbOperator) -> None:
    """UNIDIRECTIONAL_SEQUENCE_RNN: x, weights [H, I], recurrent weights [H, H], bias, hidden state;
    h = activation(x W + h R + b)."""
    x_shape, time_axis, batch, time_major = _sequence(low, op)
    activation = ACTIVATIONS.get(op.options.get("fusedActivationFunction", 0), "?")
    if activation not in RNN_ACTIVATIONS:
        raise Unmappable(f"its activation is {activation}; edgespec unrolls RNNs with {', '.join(RNN_ACTIVATIONS)}")
    w = low.real_constant(op.inputs[1], "input weights").astype(np.float32)
    r = low.real_constant(op.inputs[2], "recurrent weights").astype(np.float32)
    hidden = r.shape[1]
    b = low.real_constant(op.inputs[3], "bias").astype(np.float32) if _input(op, 3) >= 0 else np.zeros(hidden, np.float32)
    layer = Direction(w, r, b, np.zeros_like(b), False, _initial_state(low, _input(op, 4), batch, hidden), State(), "")
    out_index = op.outputs[0]
    sink = _sink(low, out_index)
    result = rnn_layer(sink, low.value(op.inputs[0]), x_shape, time_axis, layer, activation)
    _keep_states(low, op, (4,), result)
    y = low.declare(out_index)
    stack_steps(sink, result.hs, batch, hidden, time_major, low.shape(out_index), "y", y)
    low.names[out_index] = y


RULES: Dict[str, object] = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": unidirectional_sequence_lstm,
    "BIDIRECTIONAL_SEQUENCE_LSTM": bidirectional_sequence_lstm,
    "UNIDIRECTIONAL_SEQUENCE_RNN": unidirectional_sequence_rnn,
    "UNPACK": unpack,
    "PACK": pack,
    "REVERSE_V2": reverse_v2,
    "WHILE": refuse_while,
}
