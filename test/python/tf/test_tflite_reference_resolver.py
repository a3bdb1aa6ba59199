"""tf.lite.Interpreter's reference kernels (the resolver edgespec takes an int8 model's reference from)
lag its converter: an int8 REVERSE_V2 (a bidirectional RNN's backward pass, the OCR CRNN) comes out
at version 3, which only the builtin kernels have, and capture used to stop with "Didn't find op for
builtin opcode 'REVERSE_V2' version '3'". The capture falls back to the builtin kernels, which do
the same int8 arithmetic: the image is bit-exact with them. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json

from conftest import host_agreement, run_python

REVERSED = """
import sys
import numpy as np, tensorflow as tf
tf.keras.utils.set_random_seed(0)
inp = tf.keras.Input((5, 3), batch_size=1)
h = tf.keras.layers.Dense(4)(inp)
h = tf.keras.layers.Lambda(lambda t: tf.reverse(t, axis=[1]))(h)
c = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(inp, tf.keras.layers.Dense(2)(h)))
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 5, 3)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = tf.int8
c.inference_output_type = tf.int8
open(sys.argv[1] + "/reversed.tflite", "wb").write(c.convert())
"""


def test_an_int8_reverse_v2_the_reference_kernels_lack_captures_and_is_bit_exact(tmp_path):
    run_python(REVERSED, str(tmp_path))
    agreement = host_agreement(tmp_path / "reversed.tflite", tmp_path)
    assert json.loads((tmp_path / "bundle" / "graph.json").read_text())["op_inventory"]["tflite.REVERSE_V2"] == 1
    assert agreement["max_abs_error"] == 0.0 and agreement["max_abs_reference"] > 0, agreement
