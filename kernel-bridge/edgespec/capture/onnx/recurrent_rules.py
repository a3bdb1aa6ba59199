"""ONNX LSTM, GRU and RNN (opsets 7+), unrolled over the static sequence by capture/recurrent.py.

ONNX facts these rules rely on (operator specs): W is [D, G*H, I], R is [D, G*H, H], B is
[D, 2*G*H] (the W biases, then the R biases); LSTM's gates are stacked i, o, f, c, GRU's
z, r, h and RNN's one (activation Tanh by default; Relu and Sigmoid are unrolled too); direction bidirectional puts forward at index 0; layout 0 is X [T, B, I],
Y [T, D, B, H], Y_h / Y_c [D, B, H] and layout 1 (opset 14) is X [B, T, I], Y [B, T, D, H],
Y_h / Y_c [B, D, H]. Custom activations, clip, input_forget, non-zero peepholes and
sequence lengths other than the full sequence are refused.
"""
from __future__ import annotations

from typing import List

import numpy as np

from .lowering import OnnxLowering, Unmappable
from .quantized import DYNAMIC_LSTM
from ..recurrent import Direction, DirectionResult, RecurrentSink, State, gru_layer, lstm_layer, rnn_layer, stack_steps

_DEFAULT_ACTIVATIONS = {"LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"], "RNN": ["tanh"]}
_RNN_ACTIVATIONS = ("tanh", "relu", "sigmoid")
# ONNX gate blocks -> the canonical order of capture/recurrent.py
_CANONICAL_BLOCKS = {"LSTM": [0, 2, 3, 1], "GRU": [0, 1, 2], "RNN": [0]}  # i o f c -> i f g(c) o; z r h -> z r n


def _reordered(array: np.ndarray, blocks: List[int], hidden: int) -> np.ndarray:
    return np.concatenate([array[b * hidden:(b + 1) * hidden] for b in blocks], axis=0)


def _check_attributes(low: OnnxLowering, node, directions: int) -> None:
    activations = low.attr(node, "activations", None)
    if activations:
        given = [a.decode() if isinstance(a, bytes) else str(a) for a in activations]
        default = _DEFAULT_ACTIVATIONS[node.op_type] * directions
        rnn = node.op_type == "RNN" and len(set(a.lower() for a in given)) == 1 and given[0].lower() in _RNN_ACTIVATIONS
        if [a.lower() for a in given] != default and not rnn:
            raise Unmappable(f"its attribute activations is {given}; edgespec unrolls only the default activations "
                             f"{default}")
    if low.attr(node, "clip", None) is not None:
        raise Unmappable("it has the attribute clip (cell clipping); edgespec unrolls unclipped recurrent layers")
    if low.attr(node, "input_forget", 0):
        raise Unmappable("it has the attribute input_forget=1 (coupled input and forget gates)")
    if low.has_input(node, 4):
        x_shape = low.shape(node.input[0])
        steps = x_shape[1] if low.attr(node, "layout", 0) else x_shape[0]
        lengths = low.constant(node.input[4], "sequence_lens")
        if np.any(lengths != steps):
            raise Unmappable(f"its sequence_lens {lengths.tolist()} are not all the sequence length {steps}; "
                             "edgespec unrolls full sequences")


def _initial_states(low: OnnxLowering, node, position: int, directions: int, batch: int, hidden: int,
                    batch_major: bool, suffix: str) -> List[State]:
    """initial_h or initial_c ([D, B, H], or [B, D, H] with layout 1) as one State per direction."""
    if not low.has_input(node, position):
        return [State() for _ in range(directions)]
    name = node.input[position]
    if low.is_constant(name):
        value = low.constant(name, suffix).astype(np.float32)
        if batch_major:
            value = value.transpose(1, 0, 2)
        return [State.of_constant(value[d]) for d in range(directions)]
    source = low.value(name)
    out = node.output[0] or node.output[1]
    shape = low.shape(name)
    axis = 1 if batch_major else 0
    if directions == 1:
        pieces = [source]
    else:
        piece_shape = list(shape)
        piece_shape[axis] = 1
        pieces = [low.builder.add_tensor(f"{out}.{suffix}{d}", piece_shape, "float32", "activation") for d in range(directions)]
        low.add_node("split", [source], pieces, {"axis": axis, "sizes": [1] * directions})
    states = []
    for d, piece in enumerate(pieces):
        flat = low.builder.add_tensor(f"{out}.{suffix}{d}.flat", [batch, hidden], "float32", "activation")
        low.add_node("reshape", [piece], [flat], {"shape": [batch, hidden]})
        states.append(State(tensor=flat))
    return states


def _recurrent(low: OnnxLowering, node) -> None:
    kind = node.op_type
    direction = low.attr(node, "direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise Unmappable(f"its direction is {direction}")
    directions = 2 if direction == "bidirectional" else 1
    _check_attributes(low, node, directions)
    batch_major = bool(low.attr(node, "layout", 0))
    x_shape = low.shape(node.input[0])
    if len(x_shape) != 3:
        raise Unmappable(f"its input has rank {len(x_shape)}; ONNX {kind} takes [T, B, I] or [B, T, I]")
    time_axis = 1 if batch_major else 0
    batch = x_shape[1 - time_axis]
    w, r = low.constant(node.input[1], "W"), low.constant(node.input[2], "R")
    hidden = r.shape[-1]
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    b = low.constant(node.input[3], "B") if low.has_input(node, 3) else np.zeros((directions, 2 * gates * hidden), np.float32)
    if kind == "LSTM" and low.has_input(node, 7) and np.any(low.constant(node.input[7], "peepholes P")):
        raise Unmappable("it has peephole weights P; edgespec unrolls LSTMs without peepholes")
    h0 = _initial_states(low, node, 5, directions, batch, hidden, batch_major, "h0_")
    c0 = _initial_states(low, node, 6, directions, batch, hidden, batch_major, "c0_") if kind == "LSTM" \
        else [State() for _ in range(directions)]
    out = next(o for o in node.output if o)
    sink = RecurrentSink(
        lambda suffix, shape: low.builder.add_tensor(f"{out}.{suffix}", shape, "float32", "activation"),
        lambda suffix, array: low.weight(node.input[1], np.ascontiguousarray(array, np.float32), f"{out}.{suffix}"),
        lambda op, inputs, outputs, attrs: low.add_node(op, inputs, outputs, attrs))
    x = low.value(node.input[0])
    rounding = None
    if node.doc_string == DYNAMIC_LSTM:  # onnxruntime rounds the whole input, then the state before each step
        rounding = {"scheme": "uint8_asymmetric", "axis": 0}
        rounded = low.builder.add_tensor(f"{out}.x_rounded", x_shape, "float32", "activation")
        low.add_node("quantize_dynamic", [x], [rounded], rounding)
        x = rounded
    blocks = _CANONICAL_BLOCKS[kind]
    results: List[DirectionResult] = []
    for d in range(directions):
        reverse = direction == "reverse" or d == 1
        layer = Direction(_reordered(w[d], blocks, hidden), _reordered(r[d], blocks, hidden),
                          _reordered(b[d][:gates * hidden], blocks, hidden), _reordered(b[d][gates * hidden:], blocks, hidden),
                          reverse, h0[d], c0[d], f"d{d}." if directions > 1 else "", rounding)
        if kind == "LSTM":
            results.append(lstm_layer(sink, x, x_shape, time_axis, layer))
        elif kind == "RNN":
            activations = low.attr(node, "activations", None) or ["Tanh"]
            activation = activations[0].decode() if isinstance(activations[0], bytes) else str(activations[0])
            results.append(rnn_layer(sink, x, x_shape, time_axis, layer, activation.lower()))
        else:
            results.append(gru_layer(sink, x, x_shape, time_axis, layer, bool(low.attr(node, "linear_before_reset", 0))))
    steps = x_shape[time_axis]
    wanted = {0: [results[d].hs[t] for t in range(steps) for d in range(directions)],
              1: [res.h_last for res in results], 2: [res.c_last for res in results]}
    for position, name in enumerate(node.output):
        if not name or position not in wanted:
            continue
        declared = low.declare(name)
        stack_steps(sink, wanted[position], batch, hidden, not batch_major, low.shape(name), f"out{position}", declared)
        low.names[name] = declared


RULES = {"LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent}
