"""Import a float or int8 .tflite file into a bundle, and the steps the Keras capture shares
with it: lowering a flatbuffer, running the TFLite interpreter for reference outputs, writing
the bundle. An int8 model keeps its own quantization (int8.py).

The reference of a .tflite file is the TFLite interpreter's own output on a seeded
input, with delegates off (TFLite's builtin kernels, not XNNPACK's). An int8 model runs on
TFLite's reference kernels (BUILTIN_REF): its optimized int8 kernels round some results
differently from them, and the reference kernels are the arithmetic edgespec reproduces.
The same run keeps the interpreter's value of every tensor the graph took from the model
(intermediates.safetensors, for edgespec diff).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from ...version import __version__
from ..bundle import write_bundle
from .flatbuffer import read_flatbuffer
from .dynamic_shapes import fix_input_shapes, resize_inputs, settle_dynamic_shapes
from .lowering import LoweredTflite, TfliteLowering, scope_module
from .rules import RULES
from .while_unroll import unroll_while_loops
from .custom_ops import rewrite_custom_ops
from .bind_inputs import bind_inputs
from ..tensorflow_quiet import captured_output
from .int8 import from_interpreter_output, on_input_grid, to_interpreter_input
from ..input_shape import check_input_size
from ..intermediates import Intermediates, collect, within_cap
from ..names import derived_bundle_name, resolve_bundle_name
from ..user_code import read_model_file
from ...errors import CaptureError, ModelInputError
from ..malformed_model import malformed_model_errors
from ..result import CaptureResult

Progress = Callable[[str, int, int], None]
METHOD = "tflite flatbuffer (tensorflow.lite.tools.flatbuffer_utils)"
INPUT_SEED_OFFSET = 1000  # as the PyTorch CLI: the input has its own random stream


def import_tensorflow():
    """TensorFlow, imported so that torch can still be traced in this process afterwards."""
    from ..tensorflow_coexist import block_triton_before_tensorflow_import
    from ..tensorflow_quiet import quiet_tensorflow_env

    block_triton_before_tensorflow_import()
    quiet_tensorflow_env()
    try:
        if "tensorflow" in sys.modules:
            import tensorflow as tf
        else:
            with captured_output(python_streams=False):  # import-time C++ logs (oneDNN, CPU features)
                import tensorflow as tf
    except ImportError:
        raise ModelInputError("TensorFlow is not installed in this Python",
                              hint="pip install tensorflow-cpu (the project is tested with 2.21)") from None
    return tf


def lower_tflite(model_bytes: bytes, module_namer: Callable[[str], str] = scope_module,
                 input_shapes: Optional[Sequence[Sequence[int]]] = None) -> LoweredTflite:
    lowering: Optional[TfliteLowering] = None
    with malformed_model_errors("TFLite", lambda: _operator_text(lowering and lowering.op), _MALFORMED_HINT):
        model = read_flatbuffer(model_bytes)
        fix_input_shapes(model, input_shapes)
        settle_dynamic_shapes(model, model_bytes)
        lowering = TfliteLowering(model, RULES, module_namer)
        lowered = lowering.run()
        lowered.input_shapes = dict(model.input_shapes)
        return lowered


_MALFORMED_HINT = "pass a .tflite file written by the TFLite converter, unmodified"


def _operator_text(op) -> Optional[str]:
    return f"operator {op.index} ({op.op})" if op is not None else None


@dataclass
class InterpreterRun:
    outputs: List[np.ndarray]  # float32, in graph output order
    intermediates: Intermediates


def interpreter_outputs(model_bytes: bytes, lowered: LoweredTflite, inputs: Sequence[np.ndarray]) -> InterpreterRun:
    """Run the TFLite interpreter with its builtin kernels (no delegates): float32 outputs in graph order,
    quantized for and dequantized from an int8 model's int8 inputs and outputs, and the value of every
    tensor the graph took from the model, read in the same run (experimental_preserve_all_tensors keeps
    them all; int8 tensors as their integers)."""
    builder = lowered.builder
    preserve = within_cap(builder.tensors, builder.origins)
    with captured_output() as log:
        try:
            interpreter = _interpreter(model_bytes, reference_kernels=lowered.int8, preserve_all_tensors=preserve,
                                       input_shapes=lowered.input_shapes)
            details = _details(interpreter.get_input_details())
            for index, array in zip(lowered.input_tensors, inputs):
                interpreter.set_tensor(index, to_interpreter_input(array, details[index]))
            interpreter.invoke()
            details = _details(interpreter.get_output_details())
            outputs = [from_interpreter_output(np.array(interpreter.get_tensor(index)), details[index])
                       for index in lowered.output_tensors]
            kept = collect(builder.tensors, builder.origins, lambda wanted: _tensor_values(interpreter, wanted),
                           "the TFLite interpreter")
            return InterpreterRun(outputs, kept)
        except Exception as e:
            failure = f"{type(e).__name__}: {e}"
    raise CaptureError(f"the TFLite interpreter could not run the model: {failure}",
                       hint="check that the .tflite file is complete and uses builtin ops only",
                       details={"log": log.tail()})


def _tensor_values(interpreter, wanted: Dict[str, int]) -> Dict[int, np.ndarray]:
    values: Dict[int, np.ndarray] = {}
    # a tensor the lowering added to its view of the model (uint8_weights.py) is not the interpreter's:
    # asking for an index past its tensors crashes the process instead of raising
    known = {int(d["index"]) for d in interpreter.get_tensor_details()}
    for index in set(wanted.values()) & known:
        try:
            values[index] = np.array(interpreter.get_tensor(index))
        except ValueError:  # a tensor the interpreter holds no data for: left out
            continue
    return values


def model_inputs_on_grid(model_bytes: bytes, lowered: LoweredTflite, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
    """The inputs, moved onto the input grid of an int8-input model (int8.on_input_grid)."""
    with captured_output():
        details = _details(_interpreter(model_bytes, input_shapes=lowered.input_shapes).get_input_details())
    return on_input_grid(inputs, [details[index] for index in lowered.input_tensors])


def _interpreter(model_bytes: bytes, reference_kernels: bool = False, preserve_all_tensors: bool = False,
                 input_shapes: Optional[Dict[int, List[int]]] = None):
    tf = import_tensorflow()
    kernels = tf.lite.experimental.OpResolverType

    def make(resolver):
        interpreter = tf.lite.Interpreter(model_content=bytes(model_bytes), experimental_op_resolver_type=resolver,
                                          experimental_preserve_all_tensors=preserve_all_tensors)
        resize_inputs(interpreter, input_shapes or {})
        interpreter.allocate_tensors()
        return interpreter

    if reference_kernels:
        # The reference resolver lags the converter: an int8 CRNN's REVERSE_V2 comes out at version 3, which only
        # the builtin kernels have. The builtin kernels round some int8 results differently (FULLY_CONNECTED on one
        # row), so the op is marked with the newest version the reference resolver has: its kernel is the same
        # function (a version says which types a converter may give it). Only when that fails, the builtin kernels.
        model_bytes = bytes(model_bytes)
        for _ in range(8):
            try:
                return make(kernels.BUILTIN_REF)
            except (ValueError, RuntimeError) as e:
                missing = _MISSING_OP.search(str(e))
                if not missing:
                    raise
                older = _with_op_version(model_bytes, missing.group(1), int(missing.group(2)) - 1)
                if older is None:
                    break
                model_bytes = older
    return make(kernels.BUILTIN_WITHOUT_DEFAULT_DELEGATES)


_MISSING_OP = re.compile(r"Didn't find op for builtin opcode '(\w+)' version '(\d+)'")


def _with_op_version(model_bytes: bytes, op_name: str, version: int) -> Optional[bytes]:
    """The model with every operator code of OP_NAME at VERSION (None when VERSION is below 1)."""
    if version < 1:
        return None
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils
    code = getattr(schema.BuiltinOperator, op_name, None)
    if code is None:
        return None
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    for opcode in model.operatorCodes:
        if max(opcode.builtinCode, opcode.deprecatedBuiltinCode) == code:
            opcode.version = version
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _details(listed) -> Dict[int, Dict[str, Any]]:
    return {int(d["index"]): d for d in listed}


def seeded_inputs(shapes: Sequence[Sequence[int]], seed: int) -> List[np.ndarray]:
    for index, shape in enumerate(shapes):
        check_input_size(shape, f"the model's input {index} of shape {'x'.join(str(d) for d in shape)}")
    rng = np.random.default_rng(seed + INPUT_SEED_OFFSET)
    return [rng.standard_normal(tuple(shape)).astype(np.float32) for shape in shapes]


def seeded_graph_inputs(builder, seed: int) -> List[np.ndarray]:
    """seeded_inputs for the graph's inputs; an int32 / int64 input (indices) gets seeded whole
    numbers in [0, n), n the smallest axis it indexes (10 when no take reads it directly)."""
    inputs = seeded_inputs([io["shape"] for io in builder.inputs], seed)
    integer = [i for i, io in enumerate(builder.inputs) if io["dtype"] in ("int32", "int64")]
    if not integer:
        return inputs
    rng = np.random.default_rng(seed + INPUT_SEED_OFFSET + 1)
    for i in integer:
        io = builder.inputs[i]
        bounds = [builder.tensors[node["inputs"][0]]["shape"][node["attrs"]["axis"]] for node in builder.nodes
                  if node["op"] == "take" and node["inputs"][1] == io["tensor"]]
        inputs[i] = rng.integers(0, min(bounds, default=10), size=tuple(io["shape"])).astype(io["dtype"])
    return inputs


def _reference_dtype(io: Dict[str, Any]) -> str:
    """A reference tensor keeps an integer input's or output's dtype (indices, argmax); else float32."""
    return io["dtype"] if io["dtype"] in ("int32", "int64") else "float32"


def write_imported_bundle(builder, op_inventory: Dict[str, int], name: str, out, source: Dict[str, Any],
                          inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray],
                          notes: Sequence[str] = (), intermediates: Optional[Intermediates] = None,
                          reference_arithmetic: Optional[str] = None) -> CaptureResult:
    """Write the bundle of an imported graph (TFLite, Keras or ONNX) with its reference and the framework's
    intermediates; the result to report."""
    graph = builder.document(name, source, op_inventory)
    if reference_arithmetic:
        graph["reference"] = {"arithmetic": reference_arithmetic}
    kept = intermediates.arrays if intermediates is not None else None
    written = write_bundle(Path(out) if out is not None else default_bundle_dir(name), graph, builder.weights,
                           {f"input.{i}": np.asarray(a, dtype=_reference_dtype(io)) for i, (a, io) in enumerate(zip(inputs, builder.inputs))},
                           {f"output.{i}": np.asarray(a, dtype=_reference_dtype(io)) for i, (a, io) in enumerate(zip(outputs, builder.outputs))},
                           kept)
    intermediate_notes = intermediates.notes if intermediates is not None else []
    return CaptureResult.of_bundle(name, written.path, graph["op_inventory"], builder,
                                   [*notes, *builder.notes, *intermediate_notes, *written.notes])


def capture_tflite_file(path, *, name: Optional[str] = None, out=None, seed: int = 0,
                        entry: Optional[str] = None, progress: Optional[Progress] = None,
                        input_shapes: Optional[Sequence[Sequence[int]]] = None,
                        input_values: Optional[Dict[str, float]] = None) -> CaptureResult:
    """A float or int8 .tflite model -> bundle; the reference is the interpreter's output on a seeded input.
    `input_shapes` fixes the inputs' free dimensions (a free batch alone is taken as 1); `input_values` binds
    inputs to a constant (bind_inputs.py), and `input_shapes` then gives the other inputs' shapes."""
    file = Path(path)
    model_bytes = read_model_file(path, "a .tflite file", TFLITE_MAX_BYTES)
    _report(progress, "lower", 1, 3)
    tf = import_tensorflow()
    # rewritten before anything reads it, so the reference runs the same graph as the lowering
    model_bytes, bound_notes = bind_inputs(model_bytes, input_values or {})
    model_bytes, custom_notes = rewrite_custom_ops(model_bytes)
    model_bytes, loop_notes = unroll_while_loops(model_bytes)
    lowered = lower_tflite(model_bytes, input_shapes=input_shapes)
    inputs = seeded_graph_inputs(lowered.builder, seed)
    if lowered.int8:
        inputs = model_inputs_on_grid(model_bytes, lowered, inputs)
    _report(progress, "reference", 2, 3)
    run = interpreter_outputs(model_bytes, lowered, inputs)
    source = {"framework": "tflite", "framework_version": tf.__version__, "method": METHOD,
              "producer": f"edgespec {__version__}", "model_class": "tflite", "entry": entry or str(path)}
    if input_values:
        source["bound_inputs"] = dict(input_values)
    _report(progress, "write", 3, 3)
    name, name_note = resolve_bundle_name(name, file.stem)
    return write_imported_bundle(lowered.builder, lowered.op_inventory, name, out, source, inputs, run.outputs,
                                 [*bound_notes, *custom_notes, *loop_notes, *([name_note] if name_note else [])], run.intermediates,
                                 "dynamic-range int8" if lowered.hybrid else None)


TFLITE_MAX_BYTES = 2 << 30  # a flatbuffer's offsets are 32-bit: no .tflite file is larger


def bundle_name(wanted: str) -> str:
    """The rule of capture/torch/capture.py (bundle_name), which cannot be imported without importing torch."""
    return derived_bundle_name(wanted)[0]


def default_bundle_dir(name: str) -> Path:
    return Path.cwd() / "edgespec-bundles" / name


def _report(progress: Optional[Progress], stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
