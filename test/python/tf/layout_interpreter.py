"""Run TFLite- and ONNX-captured bundles with the shared NumPy interpreter of the vocabulary
(test/python/numpy_interpreter.py), adding what those formats bring:

- NHWC activations: conv2d / pooling / batch_norm / adaptive pooling run in NCHW there, so a
  node whose input tensor is declared NHWC is transposed in and out;
- the `1HWO` weight layout (TFLite depthwise): weight[0, kh, kw, o] -> OIHW [o, 0, kh, kw];
- the `activation` attr on linear, add, sub, mul, div and the pools (applied last).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy_interpreter  # noqa: E402

SPATIAL_OPS = {"conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm"}
SPATIAL_OPS |= {"conv_transpose2d", "resize", "depth_to_space"}  # issue 13: windows and resampling


def _activate(y: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(y, 0)
    if activation == "relu6":
        return np.clip(y, 0, 6)
    assert activation == "none", activation
    return y


def run_node(node: Dict, args: List[np.ndarray], layouts: List[str]):
    attrs = dict(node["attrs"])
    activation = attrs.pop("activation", "none")
    op = node["op"]
    if op == "conv2d" and attrs.get("weight_layout") == "1HWO":
        args = [args[0], args[1].transpose(3, 0, 1, 2)] + args[2:]
        attrs["weight_layout"] = "OIHW"
    nhwc = op in SPATIAL_OPS and layouts[0] == "NHWC"
    if nhwc:
        args = [args[0].transpose(0, 3, 1, 2)] + args[1:]
    result = numpy_interpreter.OPS[op](*args, **attrs)
    if nhwc:
        result = result.transpose(0, 2, 3, 1)
    return _activate(result, activation)


def run_bundle(bundle: Path) -> List[np.ndarray]:
    graph = json.loads((bundle / "graph.json").read_text())
    weights = load_file(str(bundle / "weights.safetensors"))
    reference = load_file(str(bundle / "reference.safetensors"))
    values = {name: w.astype(np.float64) if w.dtype == np.float32 else w for name, w in weights.items()}
    for io, ref_name in zip(graph["inputs"], graph["reference"]["inputs"]):
        given = reference[ref_name]  # integer inputs (indices) stay integers
        values[io["tensor"]] = given if given.dtype.kind in "iu" else given.astype(np.float64)
    for record in graph.get("state", []):  # a model's state before its first invocation
        values[record["read"]] = values[record["initial"]]
    for node in graph["nodes"]:
        layouts = [graph["tensors"][name].get("layout", "ANY") for name in node["inputs"]]
        results = run_node(node, [values[name] for name in node["inputs"]], layouts)
        results = results if isinstance(results, list) else [results]
        assert len(results) == len(node["outputs"]), node["name"]
        for name, value in zip(node["outputs"], results):
            assert list(value.shape) == graph["tensors"][name]["shape"], (node["name"], value.shape)
            values[name] = value
    return [values[io["tensor"]] for io in graph["outputs"]]


def reference_outputs(bundle: Path) -> List[np.ndarray]:
    return numpy_interpreter.reference_outputs(bundle)


def max_error_ratio(bundle: Path) -> float:
    """max |interpreted - reference| / max |reference| over all outputs."""
    worst = 0.0
    for got, ref in zip(run_bundle(bundle), reference_outputs(bundle)):
        worst = max(worst, float(np.max(np.abs(got - ref)) / max(float(np.max(np.abs(ref))), 1e-30)))
    return worst
