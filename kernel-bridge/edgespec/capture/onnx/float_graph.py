"""The float32 graph edgespec lowers, for a model onnxruntime runs in another form: a quantized model
(quantized.py) or a float16 one (float16.py). onnxruntime's reference comes from the model as given; the
lowering reads a copy rewritten into float32 ops."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .float16 import cast_float16_to_float32, has_float16
from .prepare import fold_constants
from .quantized import Quantization, dequantize_model, is_quantized


def float_graph(model, notes: List[str]) -> Tuple[object, Optional[Quantization]]:
    """(the model to lower, the quantization it keeps); `model` itself when it is float32 already. Appends
    what changed to `notes`."""
    if not (is_quantized(model) or has_float16(model)):
        return model, None
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    cast = cast_float16_to_float32(copy)
    if cast:
        notes.append(f"the model computes in float16; edgespec cast it to float32 ({cast}), so the image computes in "
                     "float32 and differs from onnxruntime's float16 by about float16's rounding")
    quantization = None
    if is_quantized(copy):
        quantization, said = dequantize_model(copy)
        notes.extend(said)
        fold_constants(copy)
    return copy, quantization


def reference_arithmetic(reference, quantization: Optional[Quantization]) -> Optional[str]:
    """graph.json reference.arithmetic: how onnxruntime computed the reference when the image computes
    otherwise: in float32 where onnxruntime quantized activations on the fly, or wrote float16 outputs."""
    if quantization is not None and quantization.dynamic:
        return "dynamic-range int8"
    from onnx import TensorProto

    float16_outputs = any(o.type.tensor_type.elem_type == TensorProto.FLOAT16 for o in reference.graph.output)
    return "float16" if float16_outputs else None


def on_model_grid(model, names: Sequence[str], inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Seeded float32 inputs moved onto a float16 input's grid, so that the bundle's reference input is
    exactly what onnxruntime was fed."""
    from onnx import TensorProto

    declared = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    return [array.astype(np.float16).astype(np.float32) if declared.get(name) == TensorProto.FLOAT16 else array
            for name, array in zip(names, inputs)]


def model_inputs(model, names: Sequence[str], inputs: Sequence[np.ndarray]) -> Dict[str, np.ndarray]:
    """The inputs as the model declares them: float32 values cast for a float16 input."""
    from onnx import TensorProto

    declared = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    return {name: (array.astype(np.float16) if declared.get(name) == TensorProto.FLOAT16 else array)
            for name, array in zip(names, inputs)}


def keep_float_origins(reference, builder) -> None:
    """Keeps the origins that name a float32 value of the model onnxruntime runs (the rewrite names values
    the model does not have, or has as integers or float16)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(reference, strict_mode=False)
    except Exception:
        builder.origins.clear()
        return
    floats = {v.name for v in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output)
              if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}
    for tensor in [t for t, origin in builder.origins.items() if origin not in floats]:
        del builder.origins[tensor]


def op_inventory(model) -> Dict[str, int]:
    """The ONNX ops of the model as given (QLinearConv, ConvInteger, ...), not those of its float rewrite."""
    from collections import Counter

    return dict(Counter(f"onnx.{n.op_type}" if n.domain in ("", "ai.onnx") else f"onnx.{n.domain}.{n.op_type}"
                        for n in model.graph.node))


def rewrite_distance(model, names: Sequence[str], output_names: Sequence[str], inputs: Sequence[np.ndarray],
                     outputs: Sequence[np.ndarray]) -> Optional[Tuple[float, float]]:
    """(max |difference|, max |output|) between onnxruntime's output and onnxruntime's run of the float rewrite
    `model` on the reference input; None when onnxruntime cannot run the rewrite."""
    try:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        floats = session.run(list(output_names), model_inputs(model, names, inputs))
    except Exception:
        return None
    error = max(float(np.max(np.abs(np.asarray(f, np.float64) - np.asarray(o, np.float64)))) for f, o in zip(floats, outputs))
    return error, max(float(np.max(np.abs(o))) for o in outputs) or 1.0

