"""TFLite builtins that capture writes as a few vocabulary ops (capture/tflite/composite_rules.py):
L2_NORMALIZATION, LOCAL_RESPONSE_NORMALIZATION, GATHER_ND with constant indices, CUMSUM (plain,
exclusive, reverse) and RELU_0_TO_1. Each was refused at capture as outside the vocabulary;
each now agrees with tf.lite.Interpreter on the host. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json

from conftest import host_agreement, run_python

MODEL = """
import sys
import numpy as np, tensorflow as tf
tf.keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
conv = tf.constant(rng.standard_normal((3, 3, 4, 8)).astype(np.float32) * 0.5)
dense = tf.constant(rng.standard_normal((8, 6)).astype(np.float32) * 0.5)
picks = tf.constant([[0, 1], [2, 3], [1, 1], [3, 0], [2, 2]], tf.int32)

class Composites(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([1, 6, 6, 4], tf.float32)])
    def __call__(self, x):
        y = tf.nn.conv2d(x, conv, 1, "VALID")                            # [1, 4, 4, 8]
        y = tf.nn.local_response_normalization(y, depth_radius=2, bias=1.5, alpha=0.3, beta=0.75)
        rows = tf.gather_nd(y[0], picks)                                 # [5, 8]
        rows = tf.math.l2_normalize(rows, axis=-1)
        z = tf.matmul(rows, dense)                                       # [5, 6]
        parts = [tf.math.cumsum(z, axis=1), tf.math.cumsum(z, axis=0, exclusive=True),
                 tf.math.cumsum(z, axis=1, reverse=True, exclusive=True), tf.clip_by_value(z, 0.0, 1.0)]
        return tf.concat(parts, axis=1)

m = Composites()
data = tf.lite.TFLiteConverter.from_concrete_functions([m.__call__.get_concrete_function()], m).convert()
ops = sorted({d["op_name"] for d in tf.lite.Interpreter(model_content=data)._get_ops_details()})
print(ops)
open(sys.argv[1], "wb").write(data)
"""


def test_composite_builtins_agree_on_the_host(tmp_path):
    made = run_python(MODEL, str(tmp_path / "composites.tflite"))
    for op in ("L2_NORMALIZATION", "LOCAL_RESPONSE_NORMALIZATION", "GATHER_ND", "CUMSUM"):
        assert op in made.stdout, made.stdout
    agreement = host_agreement(tmp_path / "composites.tflite", tmp_path)
    graph = json.loads((tmp_path / "bundle" / "graph.json").read_text())
    assert graph["op_inventory"]["tflite.CUMSUM"] == 3
    assert agreement["max_abs_error"] <= 1e-5 * agreement["max_abs_reference"], agreement


INT8_EMBEDDING = """
import sys
import numpy as np, tensorflow as tf
tf.keras.utils.set_random_seed(0)
inp = tf.keras.Input((12,), batch_size=1)
x = tf.keras.layers.Dense(16, activation="relu")(inp)
x = tf.keras.layers.Dense(8)(x)
out = tf.keras.layers.Lambda(lambda t: tf.math.l2_normalize(t, axis=-1))(x)
c = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(inp, out))
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 12)).astype(np.float32)] for i in range(32))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
data = c.convert()
assert "L2_NORMALIZATION" in {d["op_name"] for d in tf.lite.Interpreter(model_content=data)._get_ops_details()}
open(sys.argv[1], "wb").write(data)
"""


def test_an_int8_embedding_head_with_l2_normalization_agrees(tmp_path):
    """An int8 face-embedding-style head: the normalization runs in float32 between the model's
    own int8 steps, its result quantized with the model's output parameters (1/128, 0)."""
    run_python(INT8_EMBEDDING, str(tmp_path / "embedding.tflite"))
    agreement = host_agreement(tmp_path / "embedding.tflite", tmp_path)
    assert agreement["max_abs_error"] <= 1 / 128 + 1e-6, agreement
