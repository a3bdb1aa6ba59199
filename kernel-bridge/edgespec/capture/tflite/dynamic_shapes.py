"""Shapes of tensors the converter left dynamic. A model saved with a free dimension (a Keras
model converted by from_keras_model has a free batch; fully convolutional models often free
height and width) has tensors whose shape signature holds -1, and the flatbuffer stores a
placeholder shape for them (often [1, 1] after a run-time RESHAPE). The inputs' free dimensions
are fixed first (a free batch is 1; others by --input-shape), then TFLite's interpreter, resized
to those input shapes, settles every other shape in one run on zero inputs."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from .flatbuffer import FbModel
from ...errors import ModelInputError


def _shown(shape: Sequence[int]) -> str:
    return "x".join("?" if d < 0 else str(d) for d in shape)


def _example(signature: Sequence[int]) -> str:
    return "x".join(str(d if d >= 0 else (1 if axis == 0 else 224)) for axis, d in enumerate(signature))


def fix_input_shapes(model: FbModel, given: Optional[Sequence[Sequence[int]]]) -> None:
    """Each input's shape: as given (--input-shape, which must keep its fixed dimensions), else its own with a free
    batch taken as 1. A free dimension other than the batch needs --input-shape."""
    if given is not None and len(given) != len(model.inputs):
        raise ModelInputError(f"--input-shape was given {len(given)} time{'s' if len(given) != 1 else ''}, but the "
                              f"TFLite model has {len(model.inputs)} input{'s' if len(model.inputs) != 1 else ''}",
                              hint="pass --input-shape once per model input, in the model's input order")
    for position, index in enumerate(model.inputs):
        tensor = model.tensors[index]
        signature = tensor.signature if tensor.signature and len(tensor.signature) == len(tensor.shape) else tensor.shape
        if given is not None:
            shape = [int(d) for d in given[position]]
            fixed_differs = len(shape) != len(signature) or any(s >= 0 and s != d for s, d in zip(signature, shape))
            if fixed_differs:
                raise ModelInputError(f"the TFLite model's input '{tensor.name}' has the shape {_shown(signature)}; "
                                      f"--input-shape {_shown(shape)} does not fit it",
                                      hint=f"give {len(signature)} dimensions that keep the ones the model fixes "
                                           f"(? is free), e.g. --input-shape {_example(signature)}")
        else:
            free = [axis for axis, d in enumerate(signature) if d < 0]
            if any(axis > 0 for axis in free):
                raise ModelInputError(f"the TFLite model's input '{tensor.name}' has free dimensions "
                                      f"({_shown(signature)}): edgespec builds an image for one shape",
                                      hint=f"pass the shape to build for, e.g. --input-shape {_example(signature)}")
            shape = [1 if d < 0 else d for d in signature]
        if shape != tensor.shape:
            model.input_shapes[index] = shape
            tensor.shape = shape


def resize_inputs(interpreter, input_shapes) -> None:
    """Resize an interpreter's inputs to the captured shapes; call before allocate_tensors."""
    for index, shape in input_shapes.items():
        interpreter.resize_tensor_input(index, shape, strict=False)


def settle_dynamic_shapes(model: FbModel, model_bytes: bytes) -> int:
    """Replaces the placeholder shape of every dynamic tensor with the one the interpreter computes; returns how many."""
    dynamic = [t for t in model.tensors if t.dynamic and t.index not in model.input_shapes]
    if not dynamic:
        return 0
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(
        model_content=bytes(model_bytes),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True)
    resize_inputs(interpreter, model.input_shapes)
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
