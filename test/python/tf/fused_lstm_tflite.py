"""A .tflite holding one fused recurrent op, built with the TFLite schema's object API:
UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM or UNIDIRECTIONAL_SEQUENCE_RNN.

This TensorFlow's converter turns a Keras LSTM into a WHILE loop (or plain ops with
unroll=True); the fused ops are what Keras 2 era converters wrote and what trained edge models
carry. The LSTMs have x, the i/f/c/o input and recurrent weights (int8 with one scale each
when `hybrid`), the gate biases and the h and c state variables; no peepholes, projection,
layer norm or auxiliary input. Imports TensorFlow: run it in a subprocess.
"""
from __future__ import annotations

from typing import List

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as fb


class _Model:
    def __init__(self, seed: int, hybrid: bool):
        self.rng = np.random.default_rng(seed)
        self.hybrid = hybrid
        self.model = fb.ModelT()
        self.model.version = 3
        self.model.buffers = [fb.BufferT()]
        self.tensors: List[fb.TensorT] = []

    def tensor(self, name, shape, data=None, variable=False, int8=False) -> int:
        t = fb.TensorT()
        t.name, t.shape, t.type, t.buffer, t.isVariable = name, list(shape), fb.TensorType.FLOAT32, 0, variable
        if data is not None:
            if int8:
                scale = float(np.max(np.abs(data))) / 127
                data = np.clip(np.round(data / scale), -127, 127).astype(np.int8)
                t.type = fb.TensorType.INT8
                t.quantization = fb.QuantizationParametersT()
                t.quantization.scale, t.quantization.zeroPoint = [scale], [0]
            buffer = fb.BufferT()
            buffer.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
            self.model.buffers.append(buffer)
            t.buffer = len(self.model.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def weights(self, name, shape) -> int:
        return self.tensor(name, shape, (self.rng.standard_normal(shape) * 0.5).astype(np.float32), int8=self.hybrid)

    def bias(self, name, size) -> int:
        return self.tensor(name, [size], (self.rng.standard_normal(size) * 0.5).astype(np.float32))

    def lstm_direction(self, prefix, features, hidden) -> List[int]:
        """The 17 weight inputs of one LSTM direction (input, recurrent, peephole, bias, projection)."""
        w = [self.weights(f"{prefix}w_{g}", [hidden, features]) for g in "ifco"]
        r = [self.weights(f"{prefix}r_{g}", [hidden, hidden]) for g in "ifco"]
        b = [self.bias(f"{prefix}b_{g}", hidden) for g in "ifco"]
        return w + r + [-1, -1, -1] + b + [-1, -1]

    def write(self, path, op_code, options_type, options, inputs, outputs, graph_inputs, version) -> None:
        op = fb.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = 0, inputs, outputs
        op.builtinOptionsType, op.builtinOptions = options_type, options
        code = fb.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = op_code
        code.version = version
        graph = fb.SubGraphT()
        graph.tensors, graph.operators, graph.inputs, graph.outputs, graph.name = \
            self.tensors, [op], graph_inputs, outputs, "recurrent"
        self.model.operatorCodes, self.model.subgraphs = [code], [graph]
        self.model.description = "hand-built fused recurrent op"
        builder = flatbuffers.Builder(1024)
        builder.Finish(self.model.Pack(builder), file_identifier=b"TFL3")
        open(path, "wb").write(builder.Output())


def lstm_tflite(path: str, hybrid: bool, batch: int = 2, steps: int = 5, features: int = 3, hidden: int = 4,
                time_major: bool = False, seed: int = 0) -> None:
    m = _Model(seed, hybrid)
    x = m.tensor("x", [steps, batch, features] if time_major else [batch, steps, features])
    weights = m.lstm_direction("", features, hidden)
    h, c = m.tensor("h_state", [batch, hidden], variable=True), m.tensor("c_state", [batch, hidden], variable=True)
    y = m.tensor("y", [steps, batch, hidden] if time_major else [batch, steps, hidden])
    options = fb.UnidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction, options.timeMajor = fb.ActivationFunctionType.TANH, time_major
    m.write(path, fb.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM, fb.BuiltinOptions.UnidirectionalSequenceLSTMOptions,
            options, [x] + weights + [h, c, -1, -1, -1, -1], [y], [x], 2 if hybrid else 1)


def bidirectional_lstm_tflite(path: str, merge_outputs: bool, batch: int = 2, steps: int = 5, features: int = 3,
                              hidden: int = 4, seed: int = 0) -> None:
    """Time-major x [T, B, I]; one output [T, B, 2H] when merged, else forward and backward [T, B, H]."""
    m = _Model(seed, False)
    x = m.tensor("x", [steps, batch, features])
    forward, backward = m.lstm_direction("fw_", features, hidden), m.lstm_direction("bw_", features, hidden)
    states = [m.tensor(f"{d}_{s}_state", [batch, hidden], variable=True) for d in ("fw", "bw") for s in "hc"]
    outputs = [m.tensor("y", [steps, batch, 2 * hidden])] if merge_outputs else \
        [m.tensor("y_fw", [steps, batch, hidden]), m.tensor("y_bw", [steps, batch, hidden])]
    options = fb.BidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction, options.mergeOutputs, options.timeMajor = \
        fb.ActivationFunctionType.TANH, merge_outputs, True
    m.write(path, fb.BuiltinOperator.BIDIRECTIONAL_SEQUENCE_LSTM, fb.BuiltinOptions.BidirectionalSequenceLSTMOptions,
            options, [x] + forward + backward + states + [-1] * 9, outputs, [x], 1)


def rnn_tflite(path: str, batch: int = 2, steps: int = 5, features: int = 3, hidden: int = 4, seed: int = 0) -> None:
    """Batch-major UNIDIRECTIONAL_SEQUENCE_RNN with tanh."""
    m = _Model(seed, False)
    x = m.tensor("x", [batch, steps, features])
    w, r, b = m.weights("w", [hidden, features]), m.weights("r", [hidden, hidden]), m.bias("b", hidden)
    h = m.tensor("h_state", [batch, hidden], variable=True)
    y = m.tensor("y", [batch, steps, hidden])
    options = fb.SequenceRNNOptionsT()
    options.fusedActivationFunction, options.timeMajor = fb.ActivationFunctionType.TANH, False
    m.write(path, fb.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_RNN, fb.BuiltinOptions.SequenceRNNOptions,
            options, [x, w, r, b, h], [y], [x], 1)
