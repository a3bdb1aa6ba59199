"""Import an .onnx file into a bundle.

Shapes come from ONNX shape inference and must all be static (a symbolic input dimension
is fixed with `input_shapes`, e.g. the CLI's --input-shape). The reference is
onnxruntime's output (CPU provider) on a seeded input; onnxruntime's values of the
graph's intermediate tensors on that input go into intermediates.safetensors.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from ...version import __version__
from .lowering import LoweredOnnx, OnnxLowering, onnx_dtype_name
from .rules import RULES
from ..tflite.capture import seeded_graph_inputs, write_imported_bundle
from ...errors import CaptureError, ModelInputError
from ..malformed_model import malformed_model_errors
from ..names import resolve_bundle_name
from ..user_code import readable_file
from ..result import CaptureResult
from ..intermediates import Intermediates, collect
from .prepare import bind_inputs, fold_constants, prepare_model
from .quantized import Quantization
from .quantized_lowering import QuantizedOnnxLowering, record_quantization
from .dynamic_check import dynamic_notes
from .float_graph import (float_graph, keep_float_origins, model_inputs, on_model_grid, op_inventory,
                          reference_arithmetic)

Progress = Callable[[str, int, int], None]
METHOD = "onnx graph (onnx.shape_inference, static shapes)"


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ModelInputError("the onnx package is not installed in this Python",
                              hint="pip install onnx onnxruntime") from None
    return onnx


def load_onnx(path) -> "object":
    onnx = _import_onnx()
    file = readable_file(str(path), "an .onnx file")
    try:
        return onnx.load(str(file))
    except Exception as e:
        raise ModelInputError(f"{path} is not a readable ONNX model ({type(e).__name__}: {str(e)[:200]})",
                              hint="pass an .onnx file (its external data files next to it)") from None


def _graph_inputs(model) -> list:
    initializers = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def fix_input_shapes(model, input_shapes: Optional[Sequence[Sequence[int]]]) -> None:
    """Give every graph input a static shape: from `input_shapes`, or refuse with the symbolic names."""
    inputs = _graph_inputs(model)
    if input_shapes is not None and len(input_shapes) != len(inputs):
        raise ModelInputError(f"{len(input_shapes)} input shapes given, the model has {len(inputs)} inputs "
                              f"({', '.join(i.name for i in inputs)})", hint="pass one --input-shape per input, in order")
    for index, graph_input in enumerate(inputs):
        dims = graph_input.type.tensor_type.shape.dim
        if input_shapes is not None:
            wanted = list(input_shapes[index])
            if len(wanted) != len(dims):
                raise ModelInputError(f"input '{graph_input.name}' has rank {len(dims)}, the given shape {wanted}",
                                      hint="pass a shape of the model's rank")
            for dim, size in zip(dims, wanted):
                if _known(dim) and dim.dim_value != size:
                    raise ModelInputError(f"input '{graph_input.name}' has dimension {dim.dim_value} where {size} was given",
                                          hint=f"the model's input shape is {_dims_text(dims)}")
                dim.dim_value = size
        elif not all(_known(d) for d in dims):
            raise ModelInputError(f"input '{graph_input.name}' has a symbolic shape {_dims_text(dims)}",
                                  hint="give its static shape with --input-shape (e.g. 1x3x224x224)")


def forget_unknown_dims(model) -> None:
    """Outputs and intermediate values declared with a symbolic ("batch") or -1 (or 0) dimension: their
    shape is left to shape inference, which knows it once the inputs are fixed. A declared name is not
    replaced by what inference computes for every operator (GatherElements), and a declared shape can be
    wrong altogether (the dynamo exporter gives an LSTM's Y_h, [1, B, H], four dims when a dimension is
    dynamic); the shapes of the reference outputs are checked against onnxruntime's after capture."""
    for value in list(model.graph.output) + list(model.graph.value_info):
        tensor_type = value.type.tensor_type
        if tensor_type.HasField("shape") and any(not _known(d) for d in tensor_type.shape.dim):
            tensor_type.ClearField("shape")


def _known(dim) -> bool:
    """A fixed dimension: exporters write an unknown one as a name, or as -1 (or 0)."""
    return dim.HasField("dim_value") and dim.dim_value > 0


def _dims_text(dims) -> str:
    return "[" + ", ".join(str(d.dim_value) if _known(d) else (d.dim_param or "?") for d in dims) + "]"


def infer_static_shapes(model):
    """(model with inferred shapes, name -> shape, name -> dtype name) for every value."""
    onnx = _import_onnx()
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as e:
        raise ModelInputError(f"ONNX shape inference failed: {str(e).splitlines()[0][:300]}",
                              hint="check the model with onnx.checker.check_model") from None
    shapes: Dict[str, List[int]] = {}
    dtypes: Dict[str, str] = {}
    graph = inferred.graph
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        tensor_type = info.type.tensor_type
        dtypes[info.name] = onnx_dtype_name(tensor_type.elem_type)
        if tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in tensor_type.shape.dim):
            shapes[info.name] = [int(d.dim_value) for d in tensor_type.shape.dim]
    return inferred, shapes, dtypes


def lower_onnx(model, input_shapes=None, quantization: Optional[Quantization] = None) -> LoweredOnnx:
    """`quantization`: what quantized.dequantize_model kept of a quantized model's own quantization."""
    onnx = _import_onnx()
    lowering: Optional[OnnxLowering] = None
    with malformed_model_errors("ONNX", lambda: _node_text(lowering and lowering.node),
                                "check the model with onnx.checker.check_model and export it again"):
        fix_input_shapes(model, input_shapes)
        forget_unknown_dims(model)
        if input_shapes is not None:  # shapes computed from the now static inputs (an RNN's zero state) fold
            fold_constants(model)
        inferred, shapes, dtypes = infer_static_shapes(model)
        constants = {t.name: onnx.numpy_helper.to_array(t) for t in inferred.graph.initializer}
        if quantization is None or not quantization.any:
            lowering = OnnxLowering(inferred, shapes, dtypes, constants, RULES)
            return lowering.run()
        lowering = QuantizedOnnxLowering(inferred, shapes, dtypes, constants, RULES, quantization=quantization)
        lowered = lowering.run()
        record_quantization(lowering, lowered.input_names)
        return lowered


def _node_text(node) -> Optional[str]:
    return f"node '{node.name[:100]}' ({node.op_type})" if node is not None else None


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ModelInputError("onnxruntime is not installed in this Python", hint="pip install onnxruntime") from None
    return onnxruntime


def _session(onnxruntime, model):
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def onnxruntime_outputs(model, lowered: LoweredOnnx, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
    onnxruntime = _import_onnxruntime()
    try:
        session = _session(onnxruntime, model)
        results = session.run(lowered.output_names, model_inputs(model, lowered.input_names, inputs))
    except Exception as e:
        # drop onnxruntime's C++ location ("/onnxruntime_src/...model.cc:202 onnxruntime::Model::Model(...) ")
        text = re.sub(r"/onnxruntime_src/\S+ .*?\) ", "", str(e).splitlines()[0] if str(e) else type(e).__name__)
        raise CaptureError(f"onnxruntime could not run the model: {text[:400]}",
                           hint="check that the model is valid (onnx.checker.check_model) and complete") from None
    return [np.asarray(r, dtype=io["dtype"] if io["dtype"] in ("int32", "int64") else np.float32)
            for r, io in zip(results, lowered.builder.outputs)]


def onnxruntime_intermediates(model, lowered: LoweredOnnx, inputs: Sequence[np.ndarray]) -> Intermediates:
    """onnxruntime's value of every ONNX value the graph holds: a copy of the model that names them all
    graph outputs, run on the reference input (the reference outputs come from the model as given)."""
    builder = lowered.builder
    return collect(builder.tensors, builder.origins, lambda wanted: _values(model, lowered, inputs, wanted), "onnxruntime")


def _values(model, lowered: LoweredOnnx, inputs: Sequence[np.ndarray], wanted: Dict[str, str]) -> Dict[str, np.ndarray]:
    onnx = _import_onnx()
    onnxruntime = _import_onnxruntime()
    probed = onnx.ModelProto()
    probed.CopyFrom(model)
    names = sorted(set(wanted.values()))
    present = {o.name for o in probed.graph.output}
    tensors = lowered.builder.tensors
    shapes = {origin: tensors[name]["shape"] for name, origin in wanted.items()}
    for name in names:
        if name not in present:
            probed.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shapes[name]))
    results = _session(onnxruntime, probed).run(names, model_inputs(model, lowered.input_names, inputs))
    return {name: np.asarray(value) for name, value in zip(names, results)}


def capture_onnx_file(path, *, name: Optional[str] = None, out=None, seed: int = 0,
                      input_shapes: Optional[Sequence[Sequence[int]]] = None, entry: Optional[str] = None,
                      progress: Optional[Progress] = None,
                      input_values: Optional[Dict[str, float]] = None) -> CaptureResult:
    """`input_values` binds inputs to a constant (capture/input_value.py); `input_shapes` then gives the
    shapes of the other inputs."""
    onnx = _import_onnx()
    model = load_onnx(path)
    bound = bind_inputs(model, input_values or {})
    model, prepared = prepare_model(model)
    reference = model  # onnxruntime computes the reference on the model as given, quantized or float16
    model, quantization = float_graph(reference, prepared)
    _report(progress, "lower", 1, 3)
    lowered = lower_onnx(model, input_shapes, quantization)
    builder = lowered.builder
    inputs = on_model_grid(reference, lowered.input_names, seeded_graph_inputs(builder, seed))
    _report(progress, "reference", 2, 3)
    outputs = onnxruntime_outputs(reference, lowered, inputs)
    if reference is not model:
        keep_float_origins(reference, builder)
    if quantization is not None and quantization.dynamic:
        prepared.extend(dynamic_notes(model, reference, lowered.input_names, lowered.output_names, inputs, outputs,
                                      quantization.dynamic_lstms))
    intermediates = onnxruntime_intermediates(reference, lowered, inputs)
    for io, array in zip(builder.outputs, outputs):
        if list(array.shape) != io["shape"]:
            raise CaptureError(f"shape inference gives output '{io['name']}' the shape {io['shape']} but onnxruntime "
                               f"computes {list(array.shape)}",
                               hint="fix the output shape declared in the model (or drop it) and export again")
    producer = f"{model.producer_name} {model.producer_version}".strip()
    source = {"framework": "onnx", "framework_version": f"onnx {onnx.__version__}, opset {_opset(model)}"
              + (f", produced by {producer}" if producer else ""),
              "method": METHOD, "producer": f"edgespec {__version__}", "model_class": "onnx",
              "entry": entry or str(path)}
    if input_values:
        source["bound_inputs"] = dict(input_values)
    _report(progress, "write", 3, 3)
    name, name_note = resolve_bundle_name(name, Path(path).stem)
    inventory = lowered.op_inventory if reference is model else op_inventory(reference)
    return write_imported_bundle(builder, inventory, name, out, source, inputs, outputs,
                                 ([name_note] if name_note else []) + bound + prepared, intermediates,
                                 reference_arithmetic(reference, quantization))


def _opset(model) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _report(progress: Optional[Progress], stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
