"""Dilated convolutions as TFLite's converter writes them for a model with a free batch:
SPACE_TO_BATCH_ND, a stride-1 VALID convolution, BATCH_TO_SPACE_ND (for Conv1D with an EXPAND_DIMS
and a RESHAPE in between). They failed at capture ("no edgespec op for SPACE_TO_BATCH_ND"); now
they are one dilated conv2d (atrous.py) and agree with tf.lite.Interpreter, float32 and int8.
TensorFlow runs in a subprocess only."""
from __future__ import annotations

from pathlib import Path

import pytest

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python
from test_recurrent import _build_and_run

MODELS = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
sys.path.insert(0, sys.argv[1])
from edge_tflite_models import calibration, seed_biases
keras.utils.set_random_seed(0)
inp = keras.Input((20, 6))  # a free batch, as Keras exports have it
h = layers.Conv1D(8, 3, dilation_rate=2, padding="same", activation="relu")(inp)
h = layers.Conv1D(4, 3, dilation_rate=3, padding="valid")(h)
one_d = keras.Model(inp, h)
inp2 = keras.Input((12, 10, 3))
h2 = layers.Conv2D(6, 3, dilation_rate=2, padding="same")(inp2)
two_d = keras.Model(inp2, layers.DepthwiseConv2D(3, dilation_rate=(2, 3), padding="valid")(h2))
for model, name, shape in ((one_d, "one_d", (1, 20, 6)), (two_d, "two_d", (1, 12, 10, 3))):
    seed_biases(model)
    open(f"{sys.argv[2]}/{name}.tflite", "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())
c = tf.lite.TFLiteConverter.from_keras_model(one_d)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = calibration((1, 20, 6))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = c.inference_output_type = tf.int8
open(f"{sys.argv[2]}/one_d_int8.tflite", "wb").write(c.convert())
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("atrous")
    run_python(MODELS, str(REPO / "test" / "sweeps"), str(directory), cwd=directory)
    return directory


@pytest.mark.parametrize("name,dilations", [("one_d", [[1, 2], [1, 3]]), ("two_d", [[2, 2], [2, 3]])])
def test_a_dilated_convolution_written_with_space_to_batch_is_one_conv2d_and_agrees(files, tmp_path, name, dilations):
    bundle = tmp_path / "bundle"
    cli_result([str(files / f"{name}.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert graph["op_inventory"].get("tflite.SPACE_TO_BATCH_ND") == 2, graph["op_inventory"]
    assert [n["attrs"]["dilation"] for n in graph["nodes"] if n["op"] == "conv2d"] == dilations
    assert_interpreter_agrees(bundle)
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


def test_an_int8_dilated_conv1d_agrees_bit_for_bit(files, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(files / "one_d_int8.tflite"), "--out", str(bundle)], tmp_path)
    assert [n["attrs"]["dilation"] for n in load_graph(bundle)["nodes"] if n["op"] == "conv2d"] == [[1, 2], [1, 3]]
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] == 0, agreement
