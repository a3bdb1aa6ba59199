"""int8 MUL (es_mul_s8) and SUB (es_sub_s8) as TFLite computes them: MUL one requantization of
(qa - a_zp) * (qb - b_zp), SUB its ADD's 20-bit scheme. A full-int8 Keras model with a
squeeze-excite gate (a [1, 1, 1, C] sigmoid broadcast over the feature map), a product of a
tensor with itself, a product with a per-channel constant and the subtraction of the per-channel
mean (broadcast) is captured, built for the host and run on its seeded input; every output must
equal TFLite's (builtin kernels without delegates) exactly. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json

import pytest

from conftest import edgespec_ok, run_python

MODEL = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
from edgespec.capture.tflite.capture import capture_tflite_file
keras.utils.set_random_seed(0)
inp = keras.Input((6, 6, 4), batch_size=1)
h = layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
gate = layers.GlobalAveragePooling2D(keepdims=True)(h)
gate = layers.Conv2D(8, 1, activation="sigmoid")(gate)
h = layers.Multiply()([h, gate])
h = layers.Multiply()([h, h])
h = layers.Lambda(lambda t: t * tf.constant(np.linspace(-1.5, 2.0, 8, dtype=np.float32)))(h)
h = layers.Subtract()([h, layers.GlobalAveragePooling2D(keepdims=True)(h)])
model = keras.Model(inp, layers.Flatten()(h))
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 6, 6, 4)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
open(f"{sys.argv[1]}/mul.tflite", "wb").write(c.convert())
capture_tflite_file(f"{sys.argv[1]}/mul.tflite", out=f"{sys.argv[1]}/bundle")
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    directory = tmp_path_factory.mktemp("int8_mul")
    run_python(MODEL, str(directory))
    return directory / "bundle"


def test_int8_tflite_mul_and_sub_broadcast_and_constant_are_bit_exact_with_tflite(bundle, tmp_path):
    graph = json.loads((bundle / "graph.json").read_text())
    assert graph["op_inventory"].get("tflite.MUL") == 3 and graph["op_inventory"].get("tflite.SUB") == 1
    build = tmp_path / "host"
    edgespec_ok("build", str(bundle), "--target", "host", "--out", str(build))
    model_c = (build / "model.c").read_text()
    assert model_c.count("es_mul_s8(") == 3 and "es_mul_f32(" not in model_c
    assert model_c.count("es_sub_s8(") == 1 and "es_sub_f32(" not in model_c
    assert "run in fp32" not in (build / "build.log").read_text()
    [result] = [e for e in edgespec_ok("run", str(build)) if e["event"] == "result"]
    agreement = result["data"]["agreement"]
    assert agreement["max_abs_error"] == 0.0 and agreement["max_abs_reference"] > 0, agreement
