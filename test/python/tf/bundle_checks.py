"""Checks every TF/TFLite/ONNX bundle gets: valid on the Python side, and numerically what
the framework computed when the graph is run by the NumPy interpreter of the vocabulary."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict

from layout_interpreter import max_error_ratio

from edgespec import validate_bundle

# fp32 reference vs a float64 interpretation of the same graph: rounding only.
INTERPRETER_TOLERANCE = 1e-5


def load_graph(bundle: Path) -> Dict[str, Any]:
    validate_bundle(bundle)
    return json.loads((bundle / "graph.json").read_text())


def node_ops(graph: Dict[str, Any]) -> Counter:
    return Counter(node["op"] for node in graph["nodes"])


def assert_interpreter_agrees(bundle: Path) -> float:
    ratio = max_error_ratio(bundle)
    assert ratio <= INTERPRETER_TOLERANCE, f"{bundle.name}: interpreted graph differs from the reference by {ratio:.3g} x max|ref|"
    return ratio


def assert_no_leftovers(directory: Path) -> None:
    """Nothing half-written: no staging or retired directories from the atomic bundle writer."""
    if directory.exists():
        leftovers = [p.name for p in directory.iterdir() if ".partial-" in p.name or ".old-" in p.name]
        assert not leftovers, f"left behind in {directory}: {leftovers}"
