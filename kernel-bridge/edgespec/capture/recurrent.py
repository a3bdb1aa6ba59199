"""LSTM, GRU and plain RNN layers unrolled over their static sequence into vocabulary ops.

ONNX (LSTM, GRU, RNN) and TFLite (UNIDIRECTIONAL_SEQUENCE_LSTM / _RNN, BIDIRECTIONAL_SEQUENCE_LSTM)
hold a whole recurrent layer in one op. Each framework rule reads its weights into the canonical
gate orders below and calls `lstm_layer` / `gru_layer` / `rnn_layer`, which emit, per direction: one `linear` projecting every
time step of x at once (both biases folded in where they add), a `split` of that into
steps, and per step the recurrent `linear`, the gate activations and the elementwise state
update (the same ops torch.export's unrolled nn.LSTM / nn.GRU become). A zero initial
state costs nothing: the first step skips what it multiplies.

Canonical gate orders: LSTM rows [i, f, g, o] (input, forget, cell candidate, output);
GRU rows [z, r, n] (update, reset, new); an RNN has one gate. Weights are [gates * H, I] and [gates * H, H].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np


@dataclass
class RecurrentSink:
    """How a framework lowering adds what the unrolling makes: add_tensor(suffix, shape) declares a float32
    activation named after the framework node, add_weight(suffix, array) a float32 weight,
    add_node(op, inputs, outputs, attrs) a vocabulary node of the framework node."""

    add_tensor: Callable[[str, List[int]], str]
    add_weight: Callable[[str, np.ndarray], str]
    add_node: Callable[[str, List[str], List[str], Dict[str, Any]], None]


@dataclass
class State:
    """An initial hidden or cell state [B, H]: zero (neither set), a constant, or a graph tensor."""

    constant: Optional[np.ndarray] = None
    tensor: Optional[str] = None

    @staticmethod
    def of_constant(array: np.ndarray) -> "State":
        return State() if not np.any(array) else State(constant=np.ascontiguousarray(array, dtype=np.float32))

    @property
    def is_zero(self) -> bool:
        return self.constant is None and self.tensor is None


@dataclass
class Direction:
    """One direction of a layer: its weights in the canonical gate order, whether it walks time backwards,
    its initial states and a prefix naming its tensors."""

    w: np.ndarray  # [G * H, I]
    r: np.ndarray  # [G * H, H]
    wb: np.ndarray  # [G * H]
    rb: np.ndarray  # [G * H]
    reverse: bool
    h0: State
    c0: State
    prefix: str
    # quantize_dynamic attributes for the state before each recurrent product (onnxruntime's DynamicQuantizeLSTM
    # rounds it at run time); None computes in float
    state_rounding: Optional[Dict[str, Any]] = None


@dataclass
class DirectionResult:
    hs: List[str]  # h at each time index (not processing order), [B, H]
    h_last: str
    c_last: Optional[str]


class _Unroller:
    def __init__(self, sink: RecurrentSink, batch: int, hidden: int):
        self.sink, self.batch, self.hidden = sink, batch, hidden
        self._weights: Dict[str, str] = {}

    def shared_weight(self, suffix: str, array: np.ndarray) -> str:
        """A weight every step reads: stored once."""
        if suffix not in self._weights:
            self._weights[suffix] = self.sink.add_weight(suffix, np.ascontiguousarray(array, np.float32))
        return self._weights[suffix]

    def tensor(self, suffix: str, width: int) -> str:
        return self.sink.add_tensor(suffix, [self.batch, width])

    def node(self, op: str, inputs: Sequence[str], suffix: str, width: int, attrs: Optional[Dict[str, Any]] = None) -> str:
        out = self.tensor(suffix, width)
        self.sink.add_node(op, list(inputs), [out], attrs or {})
        return out

    def split(self, x: str, sizes: List[int], suffixes: Sequence[str]) -> List[str]:
        outs = [self.tensor(s, n) for s, n in zip(suffixes, sizes)]
        self.sink.add_node("split", [x], outs, {"axis": 1, "sizes": sizes})
        return outs

    def steps(self, x: str, x_shape: List[int], time_axis: int, w: np.ndarray, bias: np.ndarray, prefix: str) -> List[str]:
        """x projected by w (+ bias) at every time index: one linear over the sequence, split along time,
        each step reshaped to [B, G*H]."""
        gates = w.shape[0]
        projected_shape = list(x_shape[:-1]) + [gates]
        projected = self.sink.add_tensor(f"{prefix}x_proj", projected_shape)
        weights = [self.sink.add_weight(f"{prefix}W", np.ascontiguousarray(w, np.float32)),
                   self.sink.add_weight(f"{prefix}bias", np.ascontiguousarray(bias, np.float32))]
        self.sink.add_node("linear", [x] + weights, [projected], {})
        steps = x_shape[time_axis]
        if steps == 1:
            pieces = [projected]
        else:
            piece_shape = list(projected_shape)
            piece_shape[time_axis] = 1
            pieces = [self.sink.add_tensor(f"{prefix}x_proj.t{t}", piece_shape) for t in range(steps)]
            self.sink.add_node("split", [projected], pieces, {"axis": time_axis, "sizes": [1] * steps})
        flat = []
        for t, piece in enumerate(pieces):
            flat.append(self.node("reshape", [piece], f"{prefix}x_gates.t{t}", gates, {"shape": [self.batch, gates]}))
        return flat

    def recurrent(self, h, r: np.ndarray, prefix: str, weights: str, bias: Optional[np.ndarray] = None,
                  rounding: Optional[Dict[str, Any]] = None) -> Optional[str]:
        """h @ r.T (+ bias) for the state h (a tensor or a State); None when it is zero and there is no bias.
        `weights` names r and bias, which all steps share."""
        if isinstance(h, State) and h.is_zero:
            return None if bias is None or not np.any(bias) else \
                self.sink.add_weight(f"{prefix}.const", np.broadcast_to(bias, (self.batch, r.shape[0])).copy())
        if isinstance(h, State) and h.constant is not None:
            value = h.constant.astype(np.float64) @ r.T.astype(np.float64) + (0 if bias is None else bias)
            return self.sink.add_weight(f"{prefix}.const", value.astype(np.float32))
        source = h.tensor if isinstance(h, State) else h
        if rounding is not None:
            source = self.node("quantize_dynamic", [source], f"{prefix}.rounded_state", self.hidden, rounding)
        inputs = [source, self.shared_weight(weights, r)]
        if bias is not None and np.any(bias):
            inputs.append(self.shared_weight(f"{weights}.bias", bias))
        return self.node("linear", inputs, prefix, r.shape[0])


def lstm_layer(sink: RecurrentSink, x: str, x_shape: List[int], time_axis: int, direction: Direction) -> DirectionResult:
    """One direction of an LSTM: i, f, o = sigmoid, g = tanh, c = f * c + i * g, h = o * tanh(c)."""
    batch = x_shape[1 - time_axis]
    hidden = direction.r.shape[1]
    u = _Unroller(sink, batch, hidden)
    p = direction.prefix
    xs = u.steps(x, x_shape, time_axis, direction.w, direction.wb + direction.rb, p)
    order = range(len(xs) - 1, -1, -1) if direction.reverse else range(len(xs))
    h, c = direction.h0, direction.c0
    hs: Dict[int, str] = {}
    for t in order:
        s = f"{p}t{t}."
        hr = u.recurrent(h, direction.r, f"{s}h_proj", f"{p}R", rounding=direction.state_rounding)
        gates = xs[t] if hr is None else u.node("add", [xs[t], hr], f"{s}gates", 4 * hidden)
        i, f, g, o = u.split(gates, [hidden] * 4, [f"{s}{n}_pre" for n in "ifgo"])
        i = u.node("sigmoid", [i], f"{s}i", hidden)
        g = u.node("tanh", [g], f"{s}g", hidden)
        o = u.node("sigmoid", [o], f"{s}o", hidden)
        new_c = u.node("mul", [i, g], f"{s}ig", hidden)
        previous = c.tensor if isinstance(c, State) else c
        if isinstance(c, State) and c.constant is not None:
            previous = sink.add_weight(f"{s}c0", c.constant)
        if previous is not None:
            f = u.node("sigmoid", [f], f"{s}f", hidden)
            kept = u.node("mul", [f, previous], f"{s}fc", hidden)
            new_c = u.node("add", [kept, new_c], f"{s}c", hidden)
        c = new_c
        h = u.node("mul", [o, u.node("tanh", [c], f"{s}tanh_c", hidden)], f"{s}h", hidden)
        hs[t] = h
    return DirectionResult([hs[t] for t in range(len(xs))], h, c)


def gru_layer(sink: RecurrentSink, x: str, x_shape: List[int], time_axis: int, direction: Direction,
              linear_before_reset: bool) -> DirectionResult:
    """One direction of a GRU: z, r = sigmoid; n = tanh(x Wn + bWn + r * (h Rn + bRn)) with
    linear_before_reset, tanh(x Wn + bWn + (r * h) Rn + bRn) without; h = n - z * (n - h)."""
    batch = x_shape[1 - time_axis]
    hidden = direction.r.shape[1]
    u = _Unroller(sink, batch, hidden)
    p = direction.prefix
    rb_zr, rb_n = direction.rb[:2 * hidden], direction.rb[2 * hidden:]
    folded = direction.wb + np.concatenate([rb_zr, np.zeros_like(rb_n) if linear_before_reset else rb_n])
    xs = u.steps(x, x_shape, time_axis, direction.w, folded, p)
    r_zr, r_n = direction.r[:2 * hidden], direction.r[2 * hidden:]
    order = range(len(xs) - 1, -1, -1) if direction.reverse else range(len(xs))
    h = direction.h0
    hs: Dict[int, str] = {}
    for t in order:
        s = f"{p}t{t}."
        zr_x, n_x = u.split(xs[t], [2 * hidden, hidden], [f"{s}zr_x", f"{s}n_x"])
        hr = u.recurrent(h, r_zr, f"{s}h_proj_zr", f"{p}R_zr")
        zr = u.node("sigmoid", [zr_x if hr is None else u.node("add", [zr_x, hr], f"{s}zr_pre", 2 * hidden)],
                    f"{s}zr", 2 * hidden)
        z, r = u.split(zr, [hidden, hidden], [f"{s}z", f"{s}r"])
        if linear_before_reset:
            hn = u.recurrent(h, r_n, f"{s}h_proj_n", f"{p}R_n", rb_n)
            gated = None if hn is None else u.node("mul", [r, hn], f"{s}r_hn", hidden)
        else:
            h_operand = _tensor_of(sink, h, f"{s}h0")
            gated = None if h_operand is None else \
                u.recurrent(u.node("mul", [r, h_operand], f"{s}r_h", hidden), r_n, f"{s}h_proj_n", f"{p}R_n")
        n_pre = n_x if gated is None else u.node("add", [n_x, gated], f"{s}n_pre", hidden)
        n = u.node("tanh", [n_pre], f"{s}n", hidden)
        h_operand = _tensor_of(sink, h, f"{s}h_prev")
        difference = n if h_operand is None else u.node("sub", [n, h_operand], f"{s}n_minus_h", hidden)
        h = u.node("sub", [n, u.node("mul", [z, difference], f"{s}z_diff", hidden)], f"{s}h", hidden)
        hs[t] = h
    return DirectionResult([hs[t] for t in range(len(xs))], h, None)


# an RNN's activation -> the vocabulary node that applies it
RNN_ACTIVATIONS = {"tanh": ("tanh", {}), "relu": ("relu", {}), "sigmoid": ("sigmoid", {}),
                   "relu6": ("clamp", {"min": 0.0, "max": 6.0}), "relu_n1_to_1": ("clamp", {"min": -1.0, "max": 1.0})}


def rnn_layer(sink: RecurrentSink, x: str, x_shape: List[int], time_axis: int, direction: Direction,
              activation: str) -> DirectionResult:
    """One direction of a plain RNN: h = activation(x W + bW + h R + bR); `activation` is a key of RNN_ACTIVATIONS."""
    batch = x_shape[1 - time_axis]
    hidden = direction.r.shape[1]
    u = _Unroller(sink, batch, hidden)
    p = direction.prefix
    xs = u.steps(x, x_shape, time_axis, direction.w, direction.wb + direction.rb, p)
    order = range(len(xs) - 1, -1, -1) if direction.reverse else range(len(xs))
    vocab_op, attrs = RNN_ACTIVATIONS[activation]
    h = direction.h0
    hs: Dict[int, str] = {}
    for t in order:
        s = f"{p}t{t}."
        hr = u.recurrent(h, direction.r, f"{s}h_proj", f"{p}R")
        pre = xs[t] if hr is None else u.node("add", [xs[t], hr], f"{s}h_pre", hidden)
        h = u.node(vocab_op, [pre], f"{s}h", hidden, attrs)
        hs[t] = h
    return DirectionResult([hs[t] for t in range(len(xs))], h, None)


def _tensor_of(sink: RecurrentSink, h, suffix: str) -> Optional[str]:
    """A state as an elementwise operand: its tensor, a weight for a constant, None when zero."""
    if isinstance(h, State):
        if h.is_zero:
            return None
        return h.tensor if h.tensor is not None else sink.add_weight(suffix, h.constant)
    return h


def stack_steps(sink: RecurrentSink, pieces: List[str], batch: int, hidden: int, time_major: bool,
                shape: List[int], suffix: str, output: Optional[str] = None) -> str:
    """[B, H] pieces ordered (outer, inner) joined into `shape`: time-major shapes ([T, D, B, H], [D, B, H])
    are the pieces one under another, batch-major ones ([B, T, D, H], [B, D, H]) side by side."""
    if len(pieces) == 1:
        joined = pieces[0]
    else:
        width = [batch * len(pieces), hidden] if time_major else [batch, hidden * len(pieces)]
        joined = sink.add_tensor(f"{suffix}.joined", width)
        sink.add_node("concat", pieces, [joined], {"axis": 0 if time_major else 1})
    result = output or sink.add_tensor(suffix, shape)
    sink.add_node("reshape", [joined], [result], {"shape": list(shape)})
    return result
