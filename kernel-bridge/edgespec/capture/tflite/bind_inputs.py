"""Inputs of a .tflite file bound to a constant at capture (--input-value, capture/input_value.py).

The flatbuffer is rewritten before anything reads it: the bound input's tensor gets a buffer
holding its value and leaves the main subgraph's inputs and its signature, so the lowering sees
a constant and the reference interpreter runs the same rewritten model. A quantized input takes
the value on its own grid (round(value / scale) + zero point).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from ..input_value import bound_array, bound_note, check_known_inputs
from .flatbuffer import _NUMPY_TYPES, _name
from .lowering import io_name


def bind_inputs(model_bytes: bytes, values: Dict[str, float]) -> Tuple[bytes, List[str]]:
    if not values:
        return model_bytes, []
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    graph = model.subgraphs[0]
    inputs = [int(i) for i in (graph.inputs if graph.inputs is not None else [])]
    signature = {int(e.tensorIndex): _name(e.name) for s in model.signatureDefs or [] if not s.subgraphIndex
                 for e in s.inputs or []}
    names = {index: _names(_name(graph.tensors[index].name), signature.get(index)) for index in inputs}
    check_known_inputs(values, [n[0] for n in names.values()] + [m for n in names.values() for m in n[1:]],
                       "the TFLite model")
    bound = set()
    for index in inputs:
        given = next((name for name in names[index] if name in values), None)
        if given is None:
            continue
        tensor = graph.tensors[index]
        array = bound_array(given, _on_grid(values[given], tensor), _NUMPY_TYPES.get(int(tensor.type), np.float32),
                            [int(d) for d in tensor.shape] if tensor.shape is not None else [])
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(array.tobytes(), np.uint8)
        model.buffers.append(buffer)
        tensor.buffer = len(model.buffers) - 1
        tensor.shapeSignature = None
        bound.add(index)
    graph.inputs = np.asarray([i for i in inputs if i not in bound], np.int32)
    for entry in model.signatureDefs or []:
        if not entry.subgraphIndex:
            entry.inputs = [e for e in entry.inputs or [] if int(e.tensorIndex) not in bound]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), [bound_note(values)]


def _names(tensor_name: str, signature_name) -> List[str]:
    """The names an input answers to: the one the bundle gives it first, then its tensor and signature names."""
    names = ([signature_name] if signature_name else []) + [io_name(tensor_name), tensor_name]
    return list(dict.fromkeys(names))


def _on_grid(value: float, tensor) -> float:
    quantization = tensor.quantization
    if quantization is None or quantization.scale is None or len(quantization.scale) != 1:
        return value
    zero = int(quantization.zeroPoint[0]) if quantization.zeroPoint is not None and len(quantization.zeroPoint) else 0
    return int(np.round(value / float(quantization.scale[0]))) + zero
