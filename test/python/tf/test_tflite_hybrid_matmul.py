"""Hybrid (dynamic-range) matrix products as Optimize.DEFAULT converts a transformer's projections: TFLite
quantizes each row of the left operand at run time (asymmetric: the ops' asymmetric_quantize_inputs option).
A projection of a [2, 16, 64] input by a [64, 48] constant becomes FULLY_CONNECTED on a 3-D input; by a
[2, 64, 48] constant, BATCH_MATMUL. The image rounds each row the same way (quantize_dynamic) and agrees with
tf.lite.Interpreter to float rounding (measured 2.7e-7 of the largest output; the float computation without
the rounding is 0.5 % off). TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import cli_result, run_python

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diff_cli import cli  # noqa: E402

PROJECTIONS = """
import sys
import numpy as np, tensorflow as tf
for path, shape in zip(sys.argv[1:], [(64, 48), (2, 64, 48)]):
    weights = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    class Projection(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([2, 16, 64], tf.float32)])
        def project(self, x):
            return tf.matmul(x, tf.constant(weights))
    module = Projection()
    c = tf.lite.TFLiteConverter.from_concrete_functions([module.project.get_concrete_function()], module)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    open(path, "wb").write(c.convert())
"""


def _rounded(bundle: Path, framework_op: str) -> dict:
    graph = json.loads((bundle / "graph.json").read_text())
    assert graph["op_inventory"] == {framework_op: 1}
    [rounded] = [n["attrs"] for n in graph["nodes"] if n["op"] == "quantize_dynamic"]
    return rounded


def test_hybrid_projections_round_each_row_as_the_interpreter_does(tmp_path):
    fc, batch_matmul = tmp_path / "fc.tflite", tmp_path / "batch_matmul.tflite"
    run_python(PROJECTIONS, str(fc), str(batch_matmul), cwd=tmp_path)
    bundle = tmp_path / "fc"
    result = cli_result([str(fc), "--out", str(bundle)], tmp_path)
    assert _rounded(bundle, "tflite.FULLY_CONNECTED") == {"scheme": "int8_asymmetric", "axis": 2}
    assert any("the 1 op that read" in note for note in result["notes"]), result["notes"]
    out = bundle / "build" / "host"
    code, events, _ = cli(["build", str(bundle), "--target", "host", "--out", str(out)])
    assert code == 0, events[-2:]
    code, events, _ = cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    agreement = report["agreement"]
    assert report["status"] == "ok" and agreement["max_abs_error"] <= 1e-5 * agreement["max_abs_reference"], agreement
    # BATCH_MATMUL: the same rounding is captured (the build takes a constant second operand of rank 2 only)
    cli_result([str(batch_matmul), "--out", str(tmp_path / "batch_matmul")], tmp_path)
    assert _rounded(tmp_path / "batch_matmul", "tflite.BATCH_MATMUL") == {"scheme": "int8_asymmetric", "axis": 2}
