"""MediaPipe's Convolution2DTransposeBias custom op (issue 13's held-out segmentation models carry it):
read as TFLite's TRANSPOSE_CONV with a bias, SAME and VALID, so the capture's reference is
tf.lite.Interpreter's own output (it runs the rewritten builtin op, which is the same arithmetic
as the original file with the builtin op) and the build agrees. TensorFlow runs in a subprocess only."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python
from test_recurrent import _build_and_run

MODELS = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
sys.path.insert(0, sys.argv[1])
from edge_tflite_models import seed_biases, with_mediapipe_transpose_conv
keras.utils.set_random_seed(0)
inp = keras.Input((6, 5, 4), batch_size=1)
h = layers.Conv2DTranspose(3, 3, strides=2, padding="same", name="up")(inp)
h = layers.Conv2DTranspose(2, 2, strides=2, padding="valid", activation="sigmoid", name="up2")(h)
model = keras.Model(inp, h)
seed_biases(model)
flat = tf.lite.TFLiteConverter.from_keras_model(model).convert()
open(sys.argv[2], "wb").write(flat)
open(sys.argv[3], "wb").write(with_mediapipe_transpose_conv(flat))
"""

BUILTIN_ON = """
import sys
import numpy as np, tensorflow as tf
it = tf.lite.Interpreter(sys.argv[1], experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
it.allocate_tensors()
it.set_tensor(it.get_input_details()[0]["index"], np.load(sys.argv[2])); it.invoke()
np.save(sys.argv[3], it.get_tensor(it.get_output_details()[0]["index"]))
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("custom_ops")
    run_python(MODELS, str(REPO / "test" / "sweeps"), str(directory / "builtin.tflite"), str(directory / "custom.tflite"),
               cwd=directory)
    return directory


def test_convolution2d_transpose_bias_is_read_as_transpose_conv_and_agrees(files, tmp_path):
    bundle = tmp_path / "bundle"
    result = cli_result([str(files / "custom.tflite"), "--out", str(bundle)], tmp_path)
    assert any("2 MediaPipe Convolution2DTransposeBias custom ops read as TFLite's TRANSPOSE_CONV" in note
               for note in result["notes"]), result["notes"]
    graph = load_graph(bundle)
    assert graph["op_inventory"].get("tflite.TRANSPOSE_CONV") == 2 and graph["outputs"][0]["shape"] == [1, 24, 20, 2]
    # the reference is what the file with TFLite's own builtin op gives on the same input (the capture's kernels:
    # no delegate)
    reference = load_file(str(bundle / "reference.safetensors"))
    np.save(tmp_path / "x.npy", reference["input.0"])
    run_python(BUILTIN_ON, str(files / "builtin.tflite"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), cwd=tmp_path)
    assert np.array_equal(np.load(tmp_path / "y.npy"), reference["output.0"])
    assert_interpreter_agrees(bundle)
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement
