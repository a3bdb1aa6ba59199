"""`edgespec capture FILE.tflite --input-value NAME=VALUE`: an input bound to a constant at capture leaves
the image's inputs; the reference is tf.lite.Interpreter on the rewritten file (the value in the input's
buffer), which must equal the original file run with that value. TensorFlow runs in a subprocess only."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import cli_result, run_python

MODEL = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
x = keras.Input((4,), batch_size=1, name="audio")
gain = keras.Input((1,), batch_size=1, name="gain")
y = layers.Dense(3, activation="tanh", name="fc")(x * gain + x)
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(keras.Model([x, gain], y)).convert())
# the original file run with gain 0.5 on the input capture draws (seed 0)
from edgespec.capture.tflite.capture import seeded_inputs
it = tf.lite.Interpreter(sys.argv[1], experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
it.allocate_tensors()
by_name = {d["name"]: d["index"] for d in it.get_input_details()}
[audio] = [i for n, i in by_name.items() if "audio" in n]
[gain] = [i for n, i in by_name.items() if "gain" in n]
it.set_tensor(audio, seeded_inputs([[1, 4]], 0)[0]); it.set_tensor(gain, np.full([1, 1], 0.5, np.float32)); it.invoke()
np.save(sys.argv[2], it.get_tensor(it.get_output_details()[0]["index"]))
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("input_value") / "gain.tflite"
    run_python(MODEL, str(path), str(path.parent / "expected.npy"), cwd=path.parent)
    return path


def test_a_bound_tflite_input_is_a_constant_and_the_reference_is_the_original_run_with_it(model, tmp_path):
    result = cli_result([str(model), "--input-value", "gain=0.5", "--out", str(tmp_path / "bundle")], tmp_path)
    graph = load_graph(tmp_path / "bundle")
    assert [i["name"] for i in graph["inputs"]] == ["audio"]
    assert graph["source"]["bound_inputs"] == {"gain": 0.5}
    assert any("'gain' = 0.5 bound at capture" in note for note in result["notes"]), result["notes"]
    reference = load_file(str(tmp_path / "bundle" / "reference.safetensors"))
    np.testing.assert_array_equal(reference["output.0"], np.load(model.parent / "expected.npy"))
    assert assert_interpreter_agrees(tmp_path / "bundle") < 1e-6

