"""Issue 13's windows and resampling from TFLite: a Keras model converted to float .tflite
with TRANSPOSE_CONV (SAME and VALID), DEPTH_TO_SPACE and SPACE_TO_DEPTH is captured, agrees with TFLite in the NumPy interpreter,
and its host build agrees with TFLite within 1e-4. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python

CLI = str(REPO / "bin" / "edgespec")

KERAS_MODEL = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((5, 6, 3), batch_size=1)
h = layers.Conv2DTranspose(4, 3, strides=2, padding="same", name="up_same")(inp)
h = layers.Conv2DTranspose(3, (2, 3), strides=(2, 1), padding="valid", activation="relu", name="up_valid")(h)
h = layers.Conv2DTranspose(2, 4, strides=3, padding="same", use_bias=False, name="up_odd")(h)
d = layers.Conv2D(8, 1, name="mix")(inp)
d = layers.Lambda(lambda t: tf.nn.depth_to_space(t, 2), name="d2s")(d)
d = layers.Conv2D(4, 3, padding="same", name="post")(d)
d = layers.Lambda(lambda t: tf.nn.space_to_depth(t, 2), name="s2d")(d)
model = keras.Model(inp, [h, d])
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())
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
    return report


@pytest.fixture(scope="module")
def float_bundle(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keras_windows")
    run_python(KERAS_MODEL, str(directory / "float.tflite"), cwd=directory)
    bundle = directory / "bundle"
    cli_result([str(directory / "float.tflite"), "--out", str(bundle)], directory)
    return bundle


def test_float_tflite_windows_are_captured_built_and_agree(float_bundle, tmp_path):
    graph = load_graph(float_bundle)
    assert graph["op_inventory"].get("tflite.TRANSPOSE_CONV") == 3
    transposed = [n["attrs"] for n in graph["nodes"] if n["op"] == "conv_transpose2d"]
    assert [a["weight_layout"] for a in transposed] == ["OHWI"] * 3
    assert graph["op_inventory"].get("tflite.DEPTH_TO_SPACE") == 1 and graph["op_inventory"].get("tflite.SPACE_TO_DEPTH") == 1
    assert [n["attrs"]["perm"] for n in graph["nodes"] if n["op"] == "transpose"] == [[0, 1, 3, 2, 4, 5]] * 2
    assert_interpreter_agrees(float_bundle)
    build = tmp_path / "build"
    agreement = _build_and_run(float_bundle, build)["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]
    assert next(build.rglob("model.c")).read_text().count("es_conv_transpose2d_f32(") == 3
