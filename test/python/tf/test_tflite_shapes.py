"""TFLite models with free dimensions (issue 13). A Keras model converted without a fixed batch
computes its Flatten / Reshape targets from SHAPE at run time, and the flatbuffer holds placeholder
shapes for what follows: capture folds the arithmetic and settles the shapes. A fully
convolutional model with free height and width needs --input-shape. TensorFlow runs in a
subprocess only."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import cli_result, run_capture_cli, run_python

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diff_cli import cli  # noqa: E402

# Keras' Flatten, Reshape and Dense over a 4-D input (Tensordot) with the batch left dynamic:
# SHAPE -> GATHER / STRIDED_SLICE / REDUCE_PROD / PACK -> RESHAPE, and tensors whose flatbuffer
# shape is a placeholder until the interpreter settles it.
DYNAMIC_BATCH = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((12, 12, 3))
h = layers.Conv2D(8, 3, activation="relu")(inp)
h = layers.LayerNormalization(epsilon=1e-6)(layers.Dense(8)(h))
h = layers.Reshape((-1, 8))(h)
h = layers.Flatten()(h)
model = keras.Model(inp, layers.Dense(5)(h))
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())
"""

FREE_SIZE = """
import sys
import tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((None, None, 3))
h = layers.Conv2D(8, 3, strides=2, activation="relu")(inp)
model = keras.Model(inp, layers.Dense(4)(layers.GlobalAveragePooling2D()(h)))
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())
"""


def _agreement(bundle: Path) -> dict:
    out = bundle / "build" / "host"
    code, events, _ = cli(["build", str(bundle), "--target", "host", "--out", str(out)])
    assert code == 0, events[-2:]
    code, events, _ = cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("agreement") or report.get("error")
    return report["agreement"]


def test_a_dynamic_batch_keras_export_folds_its_shape_arithmetic(tmp_path):
    run_python(DYNAMIC_BATCH, str(tmp_path / "dynamic.tflite"), cwd=tmp_path)
    bundle = tmp_path / "dynamic"
    cli_result([str(tmp_path / "dynamic.tflite"), "--out", str(bundle)], tmp_path)
    graph = json.loads((bundle / "graph.json").read_text())
    assert graph["op_inventory"].get("tflite.SHAPE", 0) >= 1
    assert not [n for n in graph["nodes"] if n["framework_ops"] == ["tflite.SHAPE"]]
    agreement = _agreement(bundle)
    assert agreement["top5_match"] and agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]


def test_free_height_and_width_need_an_input_shape_and_build_at_it(tmp_path):
    run_python(FREE_SIZE, str(tmp_path / "free.tflite"), cwd=tmp_path)
    code, events, stderr = run_capture_cli([str(tmp_path / "free.tflite"), "--out", str(tmp_path / "never")], tmp_path)
    [error] = [e for e in events if e["event"] == "error"]
    assert code == 1 and "free dimensions (?x?x?x3)" in error["message"] and "--input-shape 1x224x224x3" in error["hint"]
    assert "Traceback" not in stderr and not (tmp_path / "never").exists()
    code, events, _ = run_capture_cli([str(tmp_path / "free.tflite"), "--input-shape", "1x32x32x4", "--out", str(tmp_path / "never")], tmp_path)
    assert code == 1 and "does not fit it" in [e for e in events if e["event"] == "error"][0]["message"]
    bundle = tmp_path / "free"
    cli_result([str(tmp_path / "free.tflite"), "--input-shape", "1x32x40x3", "--out", str(bundle)], tmp_path)
    assert json.loads((bundle / "graph.json").read_text())["inputs"][0]["shape"] == [1, 32, 40, 3]
    agreement = _agreement(bundle)
    assert agreement["top5_match"] and agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]
