"""A .tflite holding one UNIDIRECTIONAL_SEQUENCE_LSTM, built with the TFLite schema's object API.

This TensorFlow's converter turns a Keras LSTM into a WHILE loop (or plain ops with
unroll=True); the fused op is what Keras 2 era converters wrote and what trained edge models
carry. The model has the op's 24 inputs: x, the i/f/c/o input and recurrent weights (int8 with
one scale each when `hybrid`), the gate biases, and the h and c state variables; no peepholes,
projection or layer norm. Imports TensorFlow: run it in a subprocess.
"""
from __future__ import annotations

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as fb


from tensorflow.lite.python import schema_py_generated as fb


def lstm_tflite(path: str, hybrid: bool, batch: int = 2, steps: int = 5, features: int = 3, hidden: int = 4,
                time_major: bool = False, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    model = fb.ModelT()
    model.version = 3
    model.buffers = [fb.BufferT()]
    tensors = []

    def tensor(name, shape, data=None, variable=False, int8=False):
        t = fb.TensorT()
        t.name, t.shape = name, list(shape)
        t.type = fb.TensorType.FLOAT32
        t.buffer = 0
        if data is not None:
            if int8:
                scale = float(np.max(np.abs(data))) / 127
                codes = np.clip(np.round(data / scale), -127, 127).astype(np.int8)
                t.type = fb.TensorType.INT8
                q = fb.QuantizationParametersT()
                q.scale, q.zeroPoint = [scale], [0]
                t.quantization = q
                data = codes
            buffer = fb.BufferT()
            buffer.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
            model.buffers.append(buffer)
            t.buffer = len(model.buffers) - 1
        t.isVariable = variable
        tensors.append(t)
        return len(tensors) - 1

    x_shape = [steps, batch, features] if time_major else [batch, steps, features]
    x = tensor("x", x_shape)
    w = [tensor(f"w_{g}", [hidden, features], (rng.standard_normal((hidden, features)) * 0.5).astype(np.float32), int8=hybrid) for g in "ifco"]
    r = [tensor(f"r_{g}", [hidden, hidden], (rng.standard_normal((hidden, hidden)) * 0.5).astype(np.float32), int8=hybrid) for g in "ifco"]
    b = [tensor(f"b_{g}", [hidden], (rng.standard_normal(hidden) * 0.5).astype(np.float32)) for g in "ifco"]
    h = tensor("h_state", [batch, hidden], variable=True)
    c = tensor("c_state", [batch, hidden], variable=True)
    y = tensor("y", [steps, batch, hidden] if time_major else [batch, steps, hidden])
    op = fb.OperatorT()
    op.opcodeIndex = 0
    op.inputs = [x] + w + r + [-1, -1, -1] + b + [-1, -1, h, c, -1, -1, -1, -1]
    op.outputs = [y]
    options = fb.UnidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction = fb.ActivationFunctionType.TANH
    options.timeMajor = time_major
    op.builtinOptionsType = fb.BuiltinOptions.UnidirectionalSequenceLSTMOptions
    op.builtinOptions = options
    code = fb.OperatorCodeT()
    code.builtinCode = fb.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    code.deprecatedBuiltinCode = fb.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    code.version = 2 if hybrid else 1
    model.operatorCodes = [code]
    graph = fb.SubGraphT()
    graph.tensors, graph.operators, graph.inputs, graph.outputs = tensors, [op], [x], [y]
    graph.name = "lstm"
    model.subgraphs = [graph]
    model.description = "hand-built UNIDIRECTIONAL_SEQUENCE_LSTM"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    open(path, "wb").write(builder.Output())

