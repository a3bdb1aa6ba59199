"""Custom ops with an exact builtin equivalent, rewritten to it before the capture reads the model.

MediaPipe's segmentation models (selfie, hair, the ML Kit selfie model) carry the custom op
Convolution2DTransposeBias: a transposed convolution with its bias, from the days before TFLite's
TRANSPOSE_CONV took one. Its inputs are the data, the weights [O, KH, KW, I] and the bias; its
custom options are TfLiteTransposeConvParams as raw little-endian int32s: padding (1 SAME,
2 VALID), stride width, stride height. TRANSPOSE_CONV with the optional bias input (version 3 on)
computes the same thing, and tf.lite.Interpreter runs it without MediaPipe's op resolver, so the
rewritten file serves both the lowering and the reference.

MediaPipe's MaxPoolingWithArgmax2D and MaxUnpooling2D (its hair segmentation model) are rewritten
into builtin ops the same way, in mediapipe_pooling.py.
"""
from __future__ import annotations

import struct
from typing import List, Tuple

import numpy as np

from .flatbuffer import operator_codes
from .mediapipe_pooling import ARGMAX_POOL, UNPOOL, rewrite_mediapipe_pooling
from ...errors import ModelInputError

TRANSPOSE_CONV_BIAS = b"Convolution2DTransposeBias"
_TFLITE_PADDING = {1: "SAME", 2: "VALID"}  # TfLitePadding: 0 is unknown


def rewrite_custom_ops(model_bytes: bytes) -> Tuple[bytes, List[str]]:
    """MODEL_BYTES with every Convolution2DTransposeBias as a TRANSPOSE_CONV with a bias, and MediaPipe's
    MaxPoolingWithArgmax2D / MaxUnpooling2D as builtin ops (mediapipe_pooling.py); notes saying so."""
    codes = operator_codes(model_bytes)
    if codes is None or not {TRANSPOSE_CONV_BIAS, ARGMAX_POOL, UNPOOL} & set(codes.customs):
        return model_bytes, []
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    notes = []
    if TRANSPOSE_CONV_BIAS in codes.customs:
        notes += _rewrite_transpose_conv_bias(model)
    pooling = rewrite_mediapipe_pooling(model)
    if pooling:
        notes.append(f"{pooling} MediaPipe {ARGMAX_POOL.decode()} / {UNPOOL.decode()} custom op{'s' if pooling != 1 else ''} "
                     "read as builtin ops (MAX_POOL_2D and ARG_MAX over each window; GATHER of a one-hot row, MUL): "
                     "the same values")
    if not notes:  # the codes are listed, no op uses them
        return model_bytes, []
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), notes


def _rewrite_transpose_conv_bias(model) -> List[str]:
    from tensorflow.lite.python import schema_py_generated as schema

    custom = {i for i, code in enumerate(model.operatorCodes)
              if code.customCode is not None and bytes(code.customCode) == TRANSPOSE_CONV_BIAS}
    builtin = schema.OperatorCodeT()
    builtin.builtinCode = builtin.deprecatedBuiltinCode = schema.BuiltinOperator.TRANSPOSE_CONV
    builtin.version = 3  # the first version with the bias input
    model.operatorCodes.append(builtin)
    transpose_conv = len(model.operatorCodes) - 1
    rewritten = 0
    for graph in model.subgraphs:
        for op in graph.operators or []:
            if op.opcodeIndex not in custom:
                continue
            if op.inputs is None or len(op.inputs) != 3 or len(op.outputs) != 1:
                raise ModelInputError(f"a {TRANSPOSE_CONV_BIAS.decode()} op has {0 if op.inputs is None else len(op.inputs)} "
                                      "inputs; it takes the data, the weights and the bias",
                                      hint="pass the .tflite file as MediaPipe published it")
            raw = bytes(bytearray(op.customOptions if op.customOptions is not None else []))
            if len(raw) < 12:
                raise ModelInputError(f"a {TRANSPOSE_CONV_BIAS.decode()} op has {len(raw)} bytes of options where its "
                                      "padding and strides take 12", hint="pass the .tflite file as MediaPipe published it")
            padding, stride_w, stride_h = struct.unpack("<iii", raw[:12])
            if padding not in _TFLITE_PADDING or stride_w < 1 or stride_h < 1:
                raise ModelInputError(f"a {TRANSPOSE_CONV_BIAS.decode()} op has padding {padding} and strides "
                                      f"{stride_h}x{stride_w}: not a padding (1 SAME, 2 VALID) and strides it can have",
                                      hint="pass the .tflite file as MediaPipe published it")
            data, weights, bias = (int(i) for i in op.inputs)
            output = graph.tensors[int(op.outputs[0])]
            op.opcodeIndex = transpose_conv
            op.inputs = np.asarray([_shape_constant(model, graph, output), weights, data, bias], np.int32)
            options = schema.TransposeConvOptionsT()
            options.padding = schema.Padding.SAME if _TFLITE_PADDING[padding] == "SAME" else schema.Padding.VALID
            options.strideW, options.strideH = stride_w, stride_h
            op.builtinOptionsType = schema.BuiltinOptions.TransposeConvOptions
            op.builtinOptions = options
            op.customOptions = None
            rewritten += 1
    if not rewritten:  # the code is listed, no op uses it
        return []
    return [f"{rewritten} MediaPipe {TRANSPOSE_CONV_BIAS.decode()} custom op{'s' if rewritten != 1 else ''} read as "
            "TFLite's TRANSPOSE_CONV with a bias (the same arithmetic)"]


def _shape_constant(model, graph, output) -> int:
    """A new int32 constant holding OUTPUT's shape (TRANSPOSE_CONV's first input)."""
    from tensorflow.lite.python import schema_py_generated as schema

    shape = np.asarray([int(d) for d in output.shape], np.int32)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(shape.tobytes(), np.uint8)
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.name = b"transpose_conv_output_shape"
    tensor.type = schema.TensorType.INT32
    tensor.shape = np.asarray([len(shape)], np.int32)
    tensor.buffer = len(model.buffers) - 1
    graph.tensors.append(tensor)
    return len(graph.tensors) - 1
