"""Shapes of tensors the converter left dynamic. A model saved with a free batch dimension (a
Keras model converted by from_keras_model) has tensors whose shape signature holds -1; the
flatbuffer then stores a placeholder shape for them (often [1, 1] after a run-time RESHAPE).
TFLite's interpreter settles every shape when it runs the model at the input shape the capture
uses, so the real shapes are read from one run of it on zero inputs."""
from __future__ import annotations

import numpy as np

from .flatbuffer import FbModel


def settle_dynamic_shapes(model: FbModel, model_bytes: bytes) -> int:
    """Replaces the placeholder shape of every dynamic tensor with the one the interpreter computes; returns how many."""
    dynamic = [t for t in model.tensors if t.dynamic]
    if not dynamic:
        return 0
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(
        model_content=bytes(model_bytes),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
    interpreter.invoke()
    shapes = {d["index"]: [int(v) for v in d["shape"]] for d in interpreter.get_tensor_details()}
    settled = 0
    for tensor in dynamic:
        shape = shapes.get(tensor.index)
        if shape is not None and shape != tensor.shape:
            tensor.shape = shape
            settled += 1
    return settled
