"""A float16 ONNX model (onnxconverter_common.float16.convert_float_to_float16, with or without
keep_io_types) cast to float32, by the cast that prepare.cast_float64_to_float32 applies to a float64 one."""
from __future__ import annotations

from .prepare import cast_to_float32


def has_float16(model) -> bool:
    from onnx import TensorProto

    graph = model.graph
    return (any(t.data_type == TensorProto.FLOAT16 for t in graph.initializer)
            or any(v.type.tensor_type.elem_type == TensorProto.FLOAT16 for v in list(graph.input) + list(graph.output))
            or any(a.name == "to" and a.i == TensorProto.FLOAT16 for n in graph.node if n.op_type == "Cast"
                   for a in n.attribute))


def cast_float16_to_float32(model) -> str:
    """Every float16 tensor, type, constant and cast of the main graph becomes float32; a Cast the rewrite
    leaves from float32 to float32 is then an identity. Says what it changed."""
    from onnx import TensorProto

    return cast_to_float32(model, TensorProto.FLOAT16)
