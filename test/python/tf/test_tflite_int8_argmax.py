"""int8 ARG_MAX and ARG_MIN as TFLite computes them: the codes compared as they are (es_argmax_s8 /
es_argmin_s8, no dequantize in front). A full-int8 Keras model ends in an argmax over its last axis and an
argmin over its time axis, both int32; the image's indices must equal tf.lite.Interpreter's on the seeded input
(a tie keeps the first index, as TFLite's). TensorFlow runs in a subprocess only."""
from __future__ import annotations

import pytest

from conftest import edgespec_ok, run_python

MODEL = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
from edgespec.capture.tflite.capture import capture_tflite_file
keras.utils.set_random_seed(0)
inp = keras.Input((12, 6), batch_size=1)
h = layers.Dense(10, activation="relu")(inp)
best = layers.Lambda(lambda t: tf.math.argmax(t, axis=-1, output_type=tf.int32), name="best")(h)
least = layers.Lambda(lambda t: tf.math.argmin(t, axis=1, output_type=tf.int32), name="least")(h)
model = keras.Model(inp, [best, least])
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 12, 6)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
open(f"{sys.argv[1]}/arg.tflite", "wb").write(c.convert())
capture_tflite_file(f"{sys.argv[1]}/arg.tflite", out=f"{sys.argv[1]}/bundle")
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    directory = tmp_path_factory.mktemp("int8_arg")
    run_python(MODEL, str(directory))
    return directory / "bundle"


def test_int8_tflite_argmax_and_argmin_compare_codes_and_agree_exactly(bundle, tmp_path):
    build = tmp_path / "host"
    edgespec_ok("build", str(bundle), "--target", "host", "--out", str(build))
    model_c = (build / "model.c").read_text()
    assert "es_argmax_s8(" in model_c and "es_argmin_s8(" in model_c, model_c[-3000:]
    assert "es_argmax_f32(" not in model_c and "es_argmin_f32(" not in model_c
    [result] = [e for e in edgespec_ok("run", str(build)) if e["event"] == "result"]
    agreement = result["data"]["agreement"]
    assert result["data"]["status"] == "ok" and agreement["max_abs_error"] == 0.0, result["data"]
