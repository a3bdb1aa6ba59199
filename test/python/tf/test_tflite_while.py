"""WHILE loops in .tflite files (issue 13's held-out models): TFLite's converter writes a Keras GRU or
LSTM built without unroll=True as a WHILE loop over TensorList-lowered slices. Its steps are known
before the model runs, so the capture unrolls it (while_unroll.py) into ops the rules know; the
bundle agrees with tf.lite.Interpreter on the original file. A loop whose length depends on the
input is still refused, with a message that says why. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bundle_checks import load_graph
from conftest import cli_result, run_capture_cli, run_python
from test_recurrent import _build_and_run

MODELS = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((6, 5), batch_size=2)
h = layers.GRU(8, return_sequences=True, name="gru")(inp)
model = keras.Model(inp, layers.Dense(3)(layers.LSTM(4, go_backwards=True, name="lstm")(h)))
flat = tf.lite.TFLiteConverter.from_keras_model(model).convert()
open(sys.argv[1], "wb").write(flat)
x = np.random.default_rng(5).standard_normal((2, 6, 5)).astype(np.float32)
it = tf.lite.Interpreter(model_content=flat); it.allocate_tensors()
it.set_tensor(it.get_input_details()[0]["index"], x); it.invoke()
np.save(sys.argv[3], x); np.save(sys.argv[4], it.get_tensor(it.get_output_details()[0]["index"]))

class Doubling(tf.Module):  # doubles its input until it is large: as many steps as the input needs
    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    def __call__(self, x):
        return tf.while_loop(lambda v: tf.reduce_sum(tf.abs(v)) < 100.0, lambda v: [v * 2.0 + 0.5], [x])[0]
d = Doubling()
open(sys.argv[2], "wb").write(tf.lite.TFLiteConverter.from_concrete_functions([d.__call__.get_concrete_function()], d).convert())
"""


@pytest.fixture(scope="module")
def loop_files(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tflite_while")
    run_python(MODELS, *(str(directory / n) for n in ("recurrent.tflite", "data_loop.tflite", "x.npy", "y.npy")),
               cwd=directory)
    return directory


def test_keras_gru_and_lstm_while_loops_are_unrolled_and_agree_with_the_original_file(loop_files, tmp_path):
    bundle = tmp_path / "bundle"
    result = cli_result([str(loop_files / "recurrent.tflite"), "--out", str(bundle)], tmp_path)
    unrolled = [note for note in result["notes"] if note.startswith("a WHILE loop")]
    assert len(unrolled) == 2 and all("runs 6 steps: unrolled" in note for note in unrolled), result["notes"]
    graph = load_graph(bundle)
    assert "tflite.WHILE" not in graph["op_inventory"] and graph["outputs"][0]["shape"] == [2, 3]
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


def test_the_unrolled_graph_computes_what_the_loop_computes(loop_files, tmp_path):
    """The unrolled file, run by the interpreter on an input of its own, gives the original file's output bit
    for bit (the unrolling copies the loop's ops; it computes nothing differently)."""
    script = """
import sys
import numpy as np, tensorflow as tf
from edgespec.capture.tflite.while_unroll import unroll_while_loops
flat, notes = unroll_while_loops(open(sys.argv[1], "rb").read())
it = tf.lite.Interpreter(model_content=flat); it.allocate_tensors()
assert "WHILE" not in {d["op_name"] for d in it._get_ops_details()}
it.set_tensor(it.get_input_details()[0]["index"], np.load(sys.argv[2])); it.invoke()
np.save(sys.argv[3], it.get_tensor(it.get_output_details()[0]["index"]))
"""
    run_python(script, str(loop_files / "recurrent.tflite"), str(loop_files / "x.npy"), str(tmp_path / "u.npy"),
               cwd=tmp_path)
    assert np.array_equal(np.load(tmp_path / "u.npy"), np.load(loop_files / "y.npy"))


def test_a_loop_whose_length_depends_on_the_input_is_refused_saying_why(loop_files, tmp_path):
    code, events, stderr = run_capture_cli([str(loop_files / "data_loop.tflite"), "--out", str(tmp_path / "b")], tmp_path)
    errors = [e for e in events if e["event"] == "error"]
    assert code != 0 and errors, stderr[-2000:]
    text = json.dumps(errors)
    assert "tflite.WHILE" in text and "depends on what the model is given" in text
    assert not (tmp_path / "b").exists()
