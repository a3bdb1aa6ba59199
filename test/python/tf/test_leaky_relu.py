"""leaky_relu, the worked example of docs/adding-an-op.md, captured from TFLite (a Keras model
converted to float and to full int8) and from ONNX, then built for the host and run: the
float bundles agree with their framework, the int8 one runs es_leaky_relu_s8 and stays
within one output step of TFLite's interpreter. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import onnx
import pytest

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python
from onnx_graphs import leaky_relu_model

from edgespec.capture.onnx.capture import capture_onnx_file

CLI = str(REPO / "bin" / "edgespec")

KERAS_LEAKY = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((8, 8, 3), batch_size=1)
h = layers.Conv2D(4, 3, name="conv")(inp)
h = layers.LeakyReLU(negative_slope=0.2, name="leaky")(h)
h = layers.Conv2D(4, 1, name="mix")(h)
h = layers.LeakyReLU(negative_slope=0.3, name="leaky2")(h)
model = keras.Model(inp, layers.Flatten()(h))
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 8, 8, 3)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
open(sys.argv[2], "wb").write(c.convert())
"""


def _cli(args, timeout=600):
    proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def _build_and_run(bundle: Path, out: Path) -> dict:
    code, events, stderr = _cli(["build", str(bundle), "--target", "host", "--out", str(out)])
    assert code == 0 and not [e for e in events if e["event"] == "error"], stderr[-2000:] + str(events[-3:])
    code, events, stderr = _cli(["run", str(out)])
    [result] = [e for e in events if e["event"] == "result"]
    report = result["data"]
    assert report["status"] == "ok" and report["exit_code"] == 0, report
    assert report.get("agreement"), report
    return report


def _leaky_nodes(graph):
    return [n for n in graph["nodes"] if n["op"] == "leaky_relu"]


@pytest.fixture(scope="module")
def keras_leaky(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keras_leaky")
    run_python(KERAS_LEAKY, str(directory / "float.tflite"), str(directory / "int8.tflite"), cwd=directory)
    return directory


def test_float_tflite_leaky_relu_is_captured_built_and_agrees(keras_leaky, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(keras_leaky / "float.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert graph["op_inventory"]["tflite.LEAKY_RELU"] == 2
    slopes = [n["attrs"]["negative_slope"] for n in _leaky_nodes(graph)]
    assert slopes == pytest.approx([0.2, 0.3], rel=1e-6)
    assert_interpreter_agrees(bundle)
    report = _build_and_run(bundle, tmp_path / "build")
    agreement = report["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]


def test_int8_tflite_leaky_relu_runs_the_int8_kernel_within_one_step_of_tflite(keras_leaky, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(keras_leaky / "int8.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert len(_leaky_nodes(graph)) == 2
    build = tmp_path / "build"
    report = _build_and_run(bundle, build)
    model_c = next(build.rglob("model.c")).read_text()
    assert model_c.count("es_leaky_relu_s8(") == 2 and "es_leaky_relu_f32(" not in model_c
    # one step of the output's quantization, read from the dequantize call into the float output
    [scale] = re.findall(r"es_dequantize_s8\([^,]+, outputs\[0\], \d+, ([0-9.e+-]+)f", model_c)
    assert report["agreement"]["max_abs_error"] <= 1.001 * float(scale)


def test_onnx_leaky_relu_is_captured_with_its_alpha_built_and_agrees(tmp_path):
    path = tmp_path / "leaky.onnx"
    onnx.save(leaky_relu_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = load_graph(result.path)
    slopes = [n["attrs"]["negative_slope"] for n in _leaky_nodes(graph)]
    assert slopes == pytest.approx([0.1, 0.01], rel=1e-6)
    assert [n["module"] for n in _leaky_nodes(graph)] == ["features.act", "head.act"]
    assert assert_interpreter_agrees(result.path) < 1e-6
    report = _build_and_run(result.path, tmp_path / "build")
    agreement = report["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]
