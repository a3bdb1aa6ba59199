"""MediaPipe's Convolution2DTransposeBias custom op (issue 13's held-out segmentation models carry it):
read as TFLite's TRANSPOSE_CONV with a bias, SAME and VALID, so the capture's reference is
tf.lite.Interpreter's own output (it runs the rewritten builtin op, which is the same arithmetic
as the original file with the builtin op) and the build agrees. MediaPipe's MaxPoolingWithArgmax2D and
MaxUnpooling2D (hair segmentation), which tf.lite.Interpreter cannot run, are checked against MediaPipe's
kernels written in NumPy. TensorFlow runs in a subprocess only."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_capture_cli, run_python
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


ARGMAX_MODELS = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
sys.path.insert(0, sys.argv[1])
from edge_tflite_models import with_mediapipe_argmax_pooling
keras.utils.set_random_seed(0)
inp = keras.Input((8, 6, 3), batch_size=1)
pooled = layers.MaxPooling2D(2)(layers.ReLU()(inp))  # after a ReLU, zeros tie inside windows
decoded = layers.Activation("tanh")(pooled) + 0.5
out = layers.Resizing(8, 6, interpolation="nearest")(decoded)  # becomes the MaxUnpooling2D
flat = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, out)).convert()
open(sys.argv[2], "wb").write(with_mediapipe_argmax_pooling(flat))
open(sys.argv[3], "wb").write(with_mediapipe_argmax_pooling(flat, filter_size=3))
"""


def mediapipe_argmax_pool(x: np.ndarray, size: int):
    """max_pool_argmax.cc over windows that tile x (NHWC): the max, and its window position + 0.1, the first of
    equal values (row-major) winning."""
    n, height, width, channels = x.shape
    windows = x.reshape(n, height // size, size, width // size, size, channels).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(*windows.shape[:4], size * size)
    return windows.max(axis=-1), windows.argmax(axis=-1).astype(np.float32) + 0.1


def mediapipe_unpool(values: np.ndarray, indices: np.ndarray, size: int) -> np.ndarray:
    """max_unpooling.cc: each value at position int(index) of its window, zeros elsewhere."""
    n, h, w, channels = values.shape
    out = np.zeros((n, h * size, w * size, channels), np.float32)
    for b, i, j, c in np.ndindex(values.shape):
        k = int(indices[b, i, j, c])
        out[b, i * size + k // size, j * size + k % size, c] = values[b, i, j, c]
    return out


@pytest.fixture(scope="module")
def argmax_files(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("argmax_pooling")
    run_python(ARGMAX_MODELS, str(REPO / "test" / "sweeps"), str(directory / "tiled.tflite"),
               str(directory / "overlapping.tflite"), cwd=directory)
    return directory


def test_max_pooling_with_argmax_and_max_unpooling_agree_with_mediapipes_arithmetic(argmax_files, tmp_path):
    """tf.lite.Interpreter cannot run MediaPipe's custom ops: the reference of the rewritten file is checked
    against MediaPipe's kernels written in NumPy, on an input whose ReLU makes ties."""
    bundle = tmp_path / "bundle"
    result = cli_result([str(argmax_files / "tiled.tflite"), "--out", str(bundle)], tmp_path)
    assert any("2 MediaPipe MaxPoolingWithArgmax2D / MaxUnpooling2D custom ops read as builtin ops" in note
               for note in result["notes"]), result["notes"]
    reference = load_file(str(bundle / "reference.safetensors"))
    x = np.maximum(reference["input.0"], 0)
    assert (x == 0).sum() > 20
    pooled, indices = mediapipe_argmax_pool(x, 2)
    want = mediapipe_unpool(np.tanh(pooled) + 0.5, indices, 2)
    np.testing.assert_allclose(reference["output.0"], want, rtol=0, atol=1e-6)
    assert {"argmax", "take", "max_pool2d"} <= {n["op"] for n in load_graph(bundle)["nodes"]}
    assert_interpreter_agrees(bundle)
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


def test_overlapping_argmax_pooling_windows_are_refused_with_what_they_are(argmax_files, tmp_path):
    code, events, _ = run_capture_cli([str(argmax_files / "overlapping.tflite"), "--out", str(tmp_path / "bundle")], tmp_path)
    [error] = [e for e in events if e["event"] == "error"]
    assert code != 0 and "MaxPoolingWithArgmax2D op has filter 3x3 and strides 2x2" in error["message"], error
    assert not (tmp_path / "bundle").exists()
