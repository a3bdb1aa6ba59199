"""`edgespec diff` on imported models: a full-int8 .tflite (its own quantization: every layer
within one quantization step of TFLite's reference kernels) and an ONNX graph of many ops stay
quiet, and a fault planted in one layer (a requantization shift one too large; a zeroed
bias) is reported at exactly that layer. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import sys
from pathlib import Path

import onnx
import pytest

from conftest import cli_result, run_python
from onnx_graphs import coverage_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diff_cli import assert_found, assert_quiet, build, diff, layer_modules  # noqa: E402

KERAS_INT8 = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((12, 12, 3), batch_size=1)
h = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inp)
h = layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6", name="dw")(h)
h = layers.Conv2D(12, 1, name="pw")(h)
h = layers.Add(name="add")([h, layers.Conv2D(12, 1, name="skip")(h)])
h = layers.GlobalAveragePooling2D(name="pool")(h)
model = keras.Model(inp, layers.Dense(5, name="head")(h))
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 12, 12, 3)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = tf.int8
c.inference_output_type = tf.int8
open(sys.argv[1], "wb").write(c.convert())
"""


@pytest.fixture(scope="module")
def int8_tflite_bundle(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("diff_int8")
    run_python(KERAS_INT8, str(directory / "int8.tflite"), cwd=directory)
    bundle = directory / "bundle"
    cli_result([str(directory / "int8.tflite"), "--out", str(bundle)], directory)
    return bundle


def test_an_int8_tflite_stays_within_one_step_and_a_wrong_shift_is_found_at_its_layer(int8_tflite_bundle):
    build_dir = build(int8_tflite_bundle, "host")
    clean = diff(build_dir)
    assert_quiet(clean, at_least=5)
    steps = [layer for layer in clean["layers"] if layer["compared"] and layer["tolerance_unit"] == "quant_steps"]
    assert steps and all(layer["quant_steps"] <= 1 for layer in steps)
    convs = layer_modules(clean, "conv2d_s8") + layer_modules(clean, "gemm_s8") + layer_modules(clean, "conv2d_depthwise_s8")
    ordered = [layer["module"] for layer in clean["layers"] if layer["module"] in convs]
    middle = ordered[len(ordered) // 2]
    first = assert_found(diff(build_dir, f"requant-shift:{middle}"), middle)
    assert first["quant_steps"] > 1 and first["dtype"] == "int8"


def test_an_onnx_graph_stays_quiet_and_a_zeroed_bias_is_found_at_its_layer(tmp_path):
    model_file = tmp_path / "coverage.onnx"
    onnx.save(coverage_model(), model_file)
    bundle = tmp_path / "bundle"
    cli_result([str(model_file), "--out", str(bundle)], tmp_path)
    build_dir = build(bundle, "host")
    clean = diff(build_dir)
    assert_quiet(clean, at_least=5)
    convs = layer_modules(clean, "conv2d") + layer_modules(clean, "gemm")
    last = [layer["module"] for layer in clean["layers"] if layer["module"] in convs][-1]
    assert_found(diff(build_dir, f"zero-bias:{last}"), last)
