"""Record what a notebook cell did with Keras: every top-level model call (`model(x)`,
`model.predict(x)`) with copies of its real inputs and outputs, and the TensorFlow ops
that ran while it did.

How, and why this way:
- Calls: `keras.layers.Layer.__call__` (every model and layer goes through it) and
  `keras.Model.predict` are wrapped for the duration of the cell. A call is top-level
  when no other recorded call is active, so `model(x)` records the model, not its layers,
  and predict's internal calls (inside a tf.function) are not recorded again. Symbolic
  calls (building a functional model on keras.Input) are not model runs and are skipped.
- Ops: TensorFlow's op callbacks (`tensorflow.python.framework.op_callbacks`, the hook
  tfdbg v2 uses) see every op executed eagerly and every op added to a graph being
  traced. `model(x)` runs eagerly, so its ops are counted as dispatched ("eager");
  `model.predict` runs a tf.function, whose ops are counted when it is traced ("traced";
  empty when predict reuses an earlier trace).
- Keras may be imported inside the traced cell itself: then the wrappers go in the
  moment its import finishes (an import hook), never importing Keras or TensorFlow here.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, List, Optional

import numpy as np


@dataclass
class KerasCall:
    model: Any
    inputs: List[np.ndarray]
    input_problem: Optional[str]
    via: str  # "call" or "predict"
    outputs: Any = None
    finished: bool = False
    calls: int = 1
    eager_ops: Counter = field(default_factory=Counter)
    traced_ops: Counter = field(default_factory=Counter)


class KerasCallRecorder:
    def __init__(self) -> None:
        self.calls: List[KerasCall] = []
        self._depth = 0
        self._active: Optional[KerasCall] = None
        self._restore: List[Any] = []
        self._hook: Optional[_KerasImportHook] = None
        self._op_callback = None

    # ----- lifecycle -----
    def __enter__(self) -> "KerasCallRecorder":
        if "keras" in sys.modules and hasattr(sys.modules["keras"], "Model"):
            self._install()
        else:
            self._hook = _KerasImportHook(self._install)
            sys.meta_path.insert(0, self._hook)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._hook is not None:
            if self._hook in sys.meta_path:
                sys.meta_path.remove(self._hook)
            self._hook = None
        for undo in reversed(self._restore):
            undo()
        self._restore = []

    def _install(self) -> None:
        import keras

        if keras.backend.backend() != "tensorflow":
            return  # edgespec converts Keras models through TensorFlow Lite only
        layer_class = keras.layers.Layer
        original_call = layer_class.__call__
        recorder = self

        def traced_call(layer, *args, **kwargs):
            return recorder._around(layer, "call", args, kwargs, lambda: original_call(layer, *args, **kwargs))

        layer_class.__call__ = traced_call
        self._restore.append(lambda: setattr(layer_class, "__call__", original_call))

        model_class = keras.Model
        own_predict = model_class.__dict__.get("predict")
        original_predict = model_class.predict

        def traced_predict(model, *args, **kwargs):
            return recorder._around(model, "predict", args, kwargs, lambda: original_predict(model, *args, **kwargs))

        model_class.predict = traced_predict
        self._restore.append(lambda: setattr(model_class, "predict", own_predict) if own_predict is not None
                             else delattr(model_class, "predict"))
        self._install_op_callback()

    def _install_op_callback(self) -> None:
        try:
            from tensorflow.python.framework import op_callbacks
        except ImportError:
            return

        def count(op_type, inputs, attrs, outputs, op_name=None, graph=None):
            call = self._active
            if call is not None:
                name = op_type.decode() if isinstance(op_type, bytes) else str(op_type)
                (call.eager_ops if graph is None else call.traced_ops)[f"tf.{name}"] += 1
            return None

        op_callbacks.add_op_callback(count)
        self._restore.append(lambda: op_callbacks.remove_op_callback(count))

    # ----- recording -----
    def _around(self, layer, via: str, args, kwargs, run):
        first = args[0] if args else kwargs.get("x" if via == "predict" else "inputs")
        record = self._depth == 0 and first is not None and self._is_model_run(layer, via, first)
        call = self._start(layer, via, first, kwargs) if record else None
        self._depth += 1
        try:
            result = run()
        finally:
            self._depth -= 1
            if call is not None:
                self._active = None
        if call is not None and not call.finished:
            call.outputs = _copy(result)
            call.finished = True
        return result

    def _is_model_run(self, layer, via: str, first) -> bool:
        import keras

        if not isinstance(layer, keras.Model):
            return False
        if via == "predict":
            return True
        import tensorflow as tf

        leaves = first if isinstance(first, (list, tuple)) else [first]
        return tf.executing_eagerly() and not any(isinstance(v, keras.KerasTensor) for v in leaves)

    def _start(self, model, via: str, first, kwargs) -> Optional[KerasCall]:
        earlier = next((c for c in self.calls if c.model is model), None)
        if earlier is not None:
            earlier.calls += 1
            return None
        inputs, problem = _input_copies(first)
        if kwargs.get("training"):
            problem = "it was called with training=True; capture records inference calls (training=False)"
        call = KerasCall(model, inputs, problem, via)
        self.calls.append(call)
        self._active = call
        return call


def _input_copies(value):
    if isinstance(value, dict):
        return [], "it was called with a dict of inputs; call it with an array or a list of arrays"
    leaves = list(value) if isinstance(value, (list, tuple)) else [value]
    copies = []
    for index, leaf in enumerate(leaves):
        if not (isinstance(leaf, np.ndarray) or hasattr(leaf, "numpy")):
            return [], f"its input {index} is a {type(leaf).__name__}, not an array or tensor"
        copies.append(np.array(leaf))
    return copies, None


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    try:
        return np.array(value)
    except Exception:
        return value


class _KerasImportHook(importlib.abc.MetaPathFinder):
    """Runs `on_loaded` right after the first `import keras` of the cell completes."""

    def __init__(self, on_loaded) -> None:
        self._on_loaded = on_loaded
        self._busy = False

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras" or self._busy:
            return None
        self._busy = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _NotifyingLoader(spec.loader, self._on_loaded)
        return spec


class _NotifyingLoader(importlib.abc.Loader):
    def __init__(self, loader, on_loaded) -> None:
        self._loader = loader
        self._on_loaded = on_loaded

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        self._on_loaded()
