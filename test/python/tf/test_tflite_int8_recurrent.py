"""An int8 .tflite recurrent model runs in int8 end to end and agrees with TFLite bit for bit (issue 13's int8
OCR and voice-activity models). A Keras bidirectional LSTM and a GRU, unrolled, converted with full-integer
quantization, hold what those models hold: bias adds with a constant operand (es_add_broadcast_s8 / es_add_s8
with the constant as int8 codes), the GRU's 1 - z (SUB with a constant first operand), SPLIT / UNPACK / slices
as code copies, a REVERSE_V2 whose output the converter quantizes differently from its input (TFLite copies
the codes; the converter writes it at a version only the builtin kernels have, so the reference marks it older
for the reference kernels), and one weight matrix shared by every time step's FULLY_CONNECTED with different
output parameters (each step keeps its own multipliers). TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import re

import pytest

from conftest import edgespec_ok, run_python

MODEL = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
from edgespec.capture.tflite.capture import capture_tflite_file
keras.utils.set_random_seed(0)
inp = keras.Input((6, 5), batch_size=1)
h = layers.Bidirectional(layers.LSTM(8, return_sequences=True, unroll=True))(inp)
h = layers.GRU(8, return_sequences=True, unroll=True)(h)
model = keras.Model(inp, layers.Dense(3)(h))
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 6, 5)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = tf.int8
c.inference_output_type = tf.int8
open(f"{sys.argv[1]}/rnn.tflite", "wb").write(c.convert())
capture_tflite_file(f"{sys.argv[1]}/rnn.tflite", out=f"{sys.argv[1]}/bundle")
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    directory = tmp_path_factory.mktemp("int8_rnn")
    run_python(MODEL, str(directory))
    return directory / "bundle"


def test_int8_tflite_lstm_and_gru_run_in_int8_and_are_bit_exact_with_tflite(bundle, tmp_path):
    inventory = json.loads((bundle / "graph.json").read_text())["op_inventory"]
    assert inventory.get("tflite.SUB") and inventory.get("tflite.SPLIT") and inventory.get("tflite.REVERSE_V2"), inventory
    build = tmp_path / "host"
    edgespec_ok("build", str(bundle), "--target", "host", "--out", str(build))
    # The converter is not deterministic: some runs write an LSTM cell's SPLIT between the model's own
    # DEQUANTIZE and QUANTIZE (TFLite splits in float there, and so does the image); nothing else may be fp32.
    log = (build / "build.log").read_text()
    fp32_steps = re.findall(r"run in fp32 between dequantize and quantize[^:]*: (.*)", log)
    assert all(step.startswith("split (") for line in fp32_steps for step in line.split(", ")), fp32_steps
    model_c = (build / "model.c").read_text()
    float_calls = {line.split("(")[0].strip() for line in model_c.splitlines() if "_f32(" in line}
    assert float_calls <= {"es_split_f32"}, float_calls
    assert "es_sub_s8(" in model_c and "es_strided_copy_s8(" in model_c
    [result] = [e for e in edgespec_ok("run", str(build)) if e["event"] == "result"]
    agreement = result["data"]["agreement"]
    assert agreement["max_abs_error"] == 0.0 and agreement["max_abs_reference"] > 0, agreement
