"""edgespec capture for Keras (TensorFlow backend): model + the inputs it was called with -> bundle.

Capture path, chosen by measurement (tensorflow-cpu 2.21, keras 3.15):
- The raw tf.function graph of MobileNetV2 is 1087 ops, mostly variable reads and batch
  norm arithmetic: an audit trail, not something to build from.
- `tf.lite.TFLiteConverter.from_keras_model` on the model with a fixed batch gives 6 op
  types for MobileNetV2 (CONV_2D, DEPTHWISE_CONV_2D, ADD, MEAN, FULLY_CONNECTED, SOFTMAX)
  with batch norm folded, ReLU6 fused and ZeroPadding2D + VALID turned into SAME; with an
  open batch, Flatten becomes SHAPE/STRIDED_SLICE/PACK/RESHAPE. So the model is wrapped
  in a functional model whose inputs have the batch of the real call, then converted.
- `from_concrete_functions` keeps variables as VAR_HANDLE/READ_VARIABLE ops: not used.
The flatbuffer is then read op by op (capture/tflite: flatbuffer, rules).

The reference output is the Keras model's own output on the real input (from the cell,
or computed here); the TFLite interpreter must agree with it within 1e-4 x max|ref|,
else the conversion changed the model and capture refuses. The intermediates the bundle
keeps are the interpreter's values of the converted model's tensors (tflite/capture.py).
The op inventory of the bundle counts the TFLite builtins the model became (each runs
once per inference); the TensorFlow ops dispatched eagerly in a traced cell are reported
by the cell recorder (notebook/keras_recorder.py), not stored in the bundle.
"""
from __future__ import annotations

import re
from typing import Any, Callable, List, Optional, Sequence, Set

import numpy as np

from ...version import __version__
from ..tflite.capture import (import_tensorflow, interpreter_outputs, lower_tflite, seeded_inputs,
                             write_imported_bundle)
from ..tensorflow_quiet import captured_output
from ...errors import CaptureError, ExportFailedError, ModelInputError
from ..names import resolve_bundle_name
from ..result import CaptureResult

Progress = Callable[[str, int, int], None]
METHOD = "keras -> tf.lite.TFLiteConverter.from_keras_model (fixed batch) -> flatbuffer"
WRAPPER_NAME = "edgespec_fixed_batch"
AGREEMENT = 1e-4  # TFLite vs Keras, relative to max|reference| (the project's fp32 tolerance)
_SCOPE_SUFFIX = re.compile(r"_\d+$")


def capture_keras(model, inputs, *, outputs=None, name: Optional[str] = None, out=None,
                  entry: Optional[str] = None, progress: Optional[Progress] = None) -> CaptureResult:
    """Capture a Keras model called on `inputs` (an array or a list of arrays) into a bundle.

    `outputs` are the outputs of that call if it already ran (a traced cell); else the
    model is called here (training=False).
    """
    tf = import_tensorflow()
    keras = _keras(model)
    arrays = as_input_arrays(inputs)
    _report(progress, "run", 1, 4)
    if outputs is None:
        outputs = model(arrays[0] if len(arrays) == 1 else arrays, training=False)
    reference = as_output_arrays(outputs)
    _report(progress, "convert", 2, 4)
    model_bytes = convert_fixed_batch(model, arrays, keras, tf)
    _report(progress, "lower", 3, 4)
    lowered = lower_tflite(model_bytes, keras_module_namer(model))
    _order_inputs(lowered, len(arrays))
    converted = interpreter_outputs(model_bytes, lowered, arrays)
    _order_outputs_and_check(lowered, converted.outputs, reference)
    source = {"framework": "tensorflow", "framework_version": f"{tf.__version__} (keras {keras.__version__})",
              "method": METHOD, "producer": f"edgespec {__version__}",
              "model_class": f"{type(model).__module__}.{type(model).__qualname__}"}
    if entry:
        source["entry"] = entry
    _report(progress, "write", 4, 4)
    name, name_note = resolve_bundle_name(name, model.name)
    return write_imported_bundle(lowered.builder, lowered.op_inventory, name, out, source, arrays, reference,
                                 [name_note] if name_note else [], converted.intermediates)


def _keras(model):
    import keras

    if not isinstance(model, keras.Model):
        raise ModelInputError(f"expected a keras.Model, got a {type(model).__name__}",
                              hint="pass the model object (keras.Model, keras.Sequential or a subclass)")
    if keras.backend.backend() != "tensorflow":
        raise ModelInputError(f"Keras runs on the {keras.backend.backend()} backend; edgespec converts Keras models "
                              "through TensorFlow Lite", hint="set KERAS_BACKEND=tensorflow before importing keras")
    return keras


def as_input_arrays(inputs) -> List[np.ndarray]:
    if isinstance(inputs, dict):
        raise ModelInputError("the model was called with a dict of inputs",
                              hint="call it with an array or a list of arrays in the order of model.inputs")
    values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if not values:
        raise ModelInputError("no inputs were given", hint="pass the array(s) the model is called with")
    arrays = []
    for index, value in enumerate(values):
        try:
            array = np.asarray(value)
        except Exception:
            raise ModelInputError(f"input {index} is a {type(value).__name__}, not an array",
                                  hint="call the model on numpy arrays or tensors") from None
        if array.dtype != np.float32:
            raise ModelInputError(f"input {index} is {array.dtype}; edgespec captures float32 models",
                                  hint="pass float32 inputs, e.g. x.astype('float32')")
        if array.ndim == 0:
            raise ModelInputError(f"input {index} is a scalar", hint="pass a batch: an array whose first axis is the batch")
        arrays.append(np.array(array))
    return arrays


def as_output_arrays(outputs) -> List[np.ndarray]:
    if isinstance(outputs, dict):
        outputs = [outputs[k] for k in sorted(outputs)]
    values = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    arrays = [np.array(np.asarray(v)) for v in values]
    for index, array in enumerate(arrays):
        if array.dtype != np.float32:
            raise ModelInputError(f"output {index} of the model is {array.dtype}; edgespec captures float32 models",
                                  hint="keep the model in float32")
    return arrays


def convert_fixed_batch(model, arrays: Sequence[np.ndarray], keras, tf) -> bytes:
    """TFLite flatbuffer of `model` with inputs fixed to the shapes of `arrays`."""
    with captured_output() as log:
        try:
            inputs = [keras.Input(shape=a.shape[1:], batch_size=a.shape[0], dtype="float32", name=f"input_{i}")
                      for i, a in enumerate(arrays)]
            fixed = keras.Model(inputs, model(inputs[0] if len(inputs) == 1 else inputs, training=False),
                                name=WRAPPER_NAME)
            model_bytes = tf.lite.TFLiteConverter.from_keras_model(fixed).convert()
            failure = None
        except Exception as e:
            failure = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
    if failure:
        raise ExportFailedError(f"the TFLite converter could not convert the model: {failure}",
                                hint="the model must be convertible by tf.lite.TFLiteConverter.from_keras_model "
                                     "with builtin ops (no Python-side control flow on tensor values)",
                                details={"converter_log": log.tail(20)})
    return model_bytes


def keras_layer_names(model) -> Set[str]:
    names: Set[str] = set()
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        names.add(layer.name)
        stack.extend(getattr(layer, "layers", []) or [])
    return names


def keras_module_namer(model) -> Callable[[str], str]:
    """The Keras layer path of a TFLite tensor, relative to `model` (like PyTorch's module paths).

    Converted tensor names are TF name scopes, e.g.
    `edgespec_fixed_batch_1/cnn_1/conv2d_1_2/Relu;edgespec_fixed_batch_1/cnn_1/conv2d_1_2/convolution`
    for layer `conv2d_1` of model `cnn`. Measured with keras 3.15: every scope carries
    exactly one uniquifying `_N` suffix added when the converter traces the model again,
    so a segment names a layer once that suffix is stripped (`conv2d_1_2` -> `conv2d_1`);
    the unstripped name is only a fallback. Segments that are no layer (the wrapper, the
    model itself, op scopes such as `batchnorm`) are dropped.
    """
    layers = keras_layer_names(model) - {model.name, WRAPPER_NAME}

    def namer(tensor_name: str) -> str:
        scopes = tensor_name.split(";")[-1].split("/")[:-1]
        path = []
        for segment in scopes:
            stripped = _SCOPE_SUFFIX.sub("", segment)
            if stripped in layers:
                path.append(stripped)
            elif segment in layers:
                path.append(segment)
        return ".".join(path)

    return namer


def _order_inputs(lowered, count: int) -> None:
    """Graph inputs in the order of the Keras call (the converter may sort them by name)."""
    builder = lowered.builder
    if len(builder.inputs) != count:
        raise CaptureError(f"the converted model has {len(builder.inputs)} inputs, the Keras call {count}",
                           hint="call the model with exactly the inputs it declares")
    position = {}
    for slot, io in enumerate(builder.inputs):
        match = re.fullmatch(r"input_(\d+)", io["name"])
        if not match:
            raise CaptureError(f"cannot tell which Keras input the converted input '{io['name']}' is",
                               hint="report this model to the edgespec developers")
        position[int(match.group(1))] = slot
    order = [position[i] for i in range(count)]
    builder.inputs = [builder.inputs[s] for s in order]
    lowered.input_tensors = [lowered.input_tensors[s] for s in order]


def _order_outputs_and_check(lowered, converted: List[np.ndarray], reference: List[np.ndarray]) -> None:
    """Match each Keras output with the converted output that reproduces it, and require agreement."""
    builder = lowered.builder
    if len(converted) != len(reference):
        raise CaptureError(f"the converted model has {len(converted)} outputs, the Keras model {len(reference)}",
                           hint="return a tensor or a flat list of tensors from the model")
    order: List[int] = []
    for index, ref in enumerate(reference):
        candidates = [(float(np.max(np.abs(c - ref))) if c.size else 0.0, slot) for slot, c in enumerate(converted)
                      if slot not in order and c.shape == ref.shape]
        if not candidates:
            raise CaptureError(f"no converted output has the shape {list(ref.shape)} of Keras output {index}",
                               hint="the model must return the same shapes on every call")
        error, slot = min(candidates)
        tolerance = AGREEMENT * max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-30)
        if error > tolerance:
            raise CaptureError(
                f"the TFLite conversion computes a different output {index} than Keras "
                f"(max abs error {error:.3g}, tolerance {tolerance:.3g})",
                hint="the converter changed the model's numerics; check for training-only layers or custom ops")
        order.append(slot)
    builder.outputs = [builder.outputs[s] for s in order]
    lowered.output_tensors = [lowered.output_tensors[s] for s in order]


def keras_application(name: str, input_shape: Sequence[int], seed: int, randomize_bn: bool = True):
    """keras.applications.<name>(weights=None) for an NHWC input shape, seeded; returns (model, input)."""
    import_tensorflow()
    import keras

    constructor = getattr(keras.applications, name, None)
    if constructor is None or not callable(constructor):
        available = sorted(n for n in dir(keras.applications) if n[:1].isupper())
        close = [n for n in available if n.lower().startswith(name.lower()[:5])]
        raise ModelInputError(f"keras.applications has no model '{name}'",
                              hint=f"choose one of {', '.join((close or available)[:8])}")
    if len(input_shape) != 4:
        raise ModelInputError(f"input shape {list(input_shape)} is not NHWC",
                              hint="Keras image models take N x H x W x C, e.g. --input-shape 1x224x224x3")
    keras.utils.set_random_seed(seed)
    with captured_output():
        try:
            model = constructor(weights=None, input_shape=tuple(input_shape[1:]))
        except ValueError as e:
            raise ModelInputError(f"keras.applications.{name} rejects input shape {list(input_shape)}: {e}",
                                  hint="use a shape the application accepts, e.g. 1x224x224x3") from None
    if randomize_bn:
        randomize_keras_batchnorm(model, seed)
    return model, seeded_inputs([input_shape], seed)[0]


def randomize_keras_batchnorm(model, seed: int) -> int:
    """Seeded, non-trivial batch norm statistics (weights=None makes them identities, hiding folding bugs)."""
    import keras

    rng = np.random.default_rng(seed + 1)
    count = 0
    for layer in _all_layers(model):
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        values = []
        for variable in layer.weights:
            shape = tuple(variable.shape)
            role = variable.path.rsplit("/", 1)[-1]
            if role == "moving_variance" or role == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape).astype(np.float32))
            else:  # beta, moving_mean
                values.append((0.1 * rng.standard_normal(shape)).astype(np.float32))
        layer.set_weights(values)
        count += 1
    return count


def _all_layers(model) -> List[Any]:
    found, stack = [], list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop(0)
        found.append(layer)
        stack.extend(getattr(layer, "layers", []) or [])
    return found


def _report(progress: Optional[Progress], stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
