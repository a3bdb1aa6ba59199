"""The Keras half of `%%edgespec trace`: record the cell's Keras model calls, then capture
each one into a bundle and add it to the trace summary (the same entries as PyTorch
models, plus `framework` and the TensorFlow ops that ran).

Importing this module imports neither TensorFlow nor Keras.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from .keras_recorder import KerasCallRecorder
from ..errors import EdgespecError, ModelInputError, NoModelCallError, UnsupportedOpsError
from .trace_summary import error_dict, unique_name, variable_name


class KerasCellTrace:
    def __init__(self) -> None:
        self.recorder = KerasCallRecorder()

    def __enter__(self) -> "KerasCellTrace":
        self.recorder.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self.recorder.__exit__(*exc_info)

    @property
    def calls(self) -> list:
        return [call for call in self.recorder.calls if call.finished]

    @staticmethod
    def available() -> bool:
        import importlib.util

        return "keras" in sys.modules or importlib.util.find_spec("keras") is not None

    def capture_into(self, summary: Dict[str, Any], wanted_name: Optional[str], out_dir: Path,
                     user_ns: Dict[str, Any]) -> None:
        """Capture every finished Keras call into out_dir/<name> and append it to `summary`."""
        if not self.calls:
            if not summary["models"] and summary.get("error", {}).get("code", NoModelCallError.code) == NoModelCallError.code:
                summary["error"] = error_dict(NoModelCallError(
                    "the cell called no model (no nn.Module call and no Keras model call), so there is nothing "
                    "to capture",
                    hint="call the model in the traced cell, e.g. `model(x)`, with the inputs it should be "
                         "captured with"))
            return
        if summary.get("error", {}).get("code") == NoModelCallError.code:
            del summary["error"]  # PyTorch saw no model call, but Keras did
        from ..capture.keras.capture import capture_keras
        from ..capture.tflite.capture import bundle_name

        taken = [model["name"] for model in summary["models"]]
        for call in self.calls:
            use_wanted = wanted_name and not taken
            name = unique_name(bundle_name(wanted_name if use_wanted else variable_name(call.model, user_ns)
                                       or call.model.name), taken)
            taken.append(name)
            result = error = None
            inventory: Dict[str, int] = {}
            unsupported: set = set()
            if call.input_problem:
                hint = ("call the model for inference: model(x) or model(x, training=False)"
                        if "training=True" in call.input_problem
                        else "call the model on arrays, e.g. model(x) or model.predict(x)")
                error = ModelInputError(f"{name} cannot be captured: {call.input_problem}", hint=hint)
            else:
                try:
                    result = capture_keras(call.model, call.inputs, outputs=call.outputs, name=name,
                                           out=out_dir / name, entry="notebook cell")
                    inventory = result.op_inventory
                except UnsupportedOpsError as e:
                    error, inventory = e, getattr(e, "op_inventory", {})
                    unsupported = {op.framework_op for op in e.ops}
                    summary["unsupported"] += [{"model": name, **op.to_dict()} for op in e.ops]
                except EdgespecError as e:
                    error = e
            summary["models"].append(_model_entry(name, call, result, error, inventory, unsupported))


def _model_entry(name: str, call, result, error, inventory: Dict[str, int], unsupported: set) -> Dict[str, Any]:
    return {
        "name": name,
        "framework": "tensorflow",
        "model_class": type(call.model).__name__,
        "calls": call.calls,
        "bundle": str(result.path) if result else None,
        "inputs": _io_list(call.inputs),
        "outputs": _io_list(call.outputs),
        "parameter_bytes": result.parameter_bytes if result else None,
        "nodes": result.nodes if result else None,
        "ops": inventory_rows(inventory, unsupported),
        "tensorflow_ops": {"eager": _sorted(call.eager_ops), "traced": _sorted(call.traced_ops)},
        **({"notes": list(result.notes)} if result and result.notes else {}),
        **({"error": error_dict(error)} if error else {}),
    }


def inventory_rows(op_inventory: Dict[str, int], unsupported: Optional[set] = None) -> List[Dict[str, Any]]:
    """TFLite builtins the model became: {framework_op, count, edgespec_op, supported}, most frequent first."""
    from ..capture.lowering_base import framework_op_table

    table = framework_op_table("tflite")
    rows = []
    for framework_op, count in sorted(op_inventory.items(), key=lambda kv: (-kv[1], kv[0])):
        op = table.get(framework_op)
        supported = op is not None and framework_op not in (unsupported or set())
        rows.append({"framework_op": framework_op, "count": int(count), "edgespec_op": op, "supported": supported})
    return rows


def _io_list(values) -> List[Dict[str, Any]]:
    if values is None:
        return []
    if isinstance(values, dict):
        values = [values[k] for k in sorted(values)]
    leaves = values if isinstance(values, list) else [values]
    out = []
    for leaf in leaves:
        array = np.asarray(leaf)
        out.append({"shape": list(array.shape), "dtype": str(array.dtype)})
    return out


def _sorted(counter: Counter) -> Dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
