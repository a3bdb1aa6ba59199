"""A float16 ONNX model (onnxconverter_common.float16.convert_float_to_float16, with or without
keep_io_types) cast to float32, the way prepare.cast_float64_to_float32 casts a float64 one."""
from __future__ import annotations

import numpy as np


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
    import onnx
    from onnx import TensorProto, numpy_helper

    half, single = TensorProto.FLOAT16, TensorProto.FLOAT
    counts = {"inputs": 0, "outputs": 0, "initializers": 0, "constants": 0, "casts": 0}
    graph = model.graph
    for kind, values in (("inputs", graph.input), ("outputs", graph.output), ("", graph.value_info)):
        for value in values:
            if value.type.tensor_type.elem_type == half:
                value.type.tensor_type.elem_type = single
                if kind:
                    counts[kind] += 1
    for index, tensor in enumerate(graph.initializer):
        if tensor.data_type == half:
            graph.initializer[index].CopyFrom(
                numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float32), tensor.name))
            counts["initializers"] += 1
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == half:
                attribute.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attribute.t).astype(np.float32),
                                                             attribute.t.name))
                counts["constants"] += 1
            elif node.op_type == "Cast" and attribute.name == "to" and attribute.i == half:
                attribute.i = single
                counts["casts"] += 1
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n)
