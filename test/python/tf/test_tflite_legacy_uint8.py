"""A legacy uint8-quantized .tflite (TF1 fake-quant training, inference_type=uint8: uint8 weights,
activations, input and output, as the older published detectors and classifiers are) runs as
int8 with the same real values, as TensorFlow Lite Micro runs it, and agrees with
tf.lite.Interpreter bit for bit. Its uint8 weights failed at capture before ("its constant is
uint8"): they were taken before the uint8 -> int8 move. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

from bundle_checks import load_graph
from conftest import cli_result, run_python
from test_recurrent import _build_and_run

LEGACY_UINT8 = """
import sys
import numpy as np, tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
rng = np.random.default_rng(0)
fq = tf.quantization.fake_quant_with_min_max_args
with tf1.Graph().as_default() as g:
    x = tf1.placeholder(tf.float32, [1, 8, 8, 3], name="input")
    w = fq(tf.constant(rng.uniform(-0.5, 0.5, (3, 3, 3, 4)).astype(np.float32)), min=-0.5, max=0.5, narrow_range=True)
    h = tf.nn.conv2d(fq(x, min=-1.0, max=1.0), w, [1, 1, 1, 1], "SAME") + rng.uniform(-0.1, 0.1, 4).astype(np.float32)
    h = tf.reshape(fq(tf.nn.relu6(h), min=0.0, max=6.0), [1, -1])
    w2 = fq(tf.constant(rng.uniform(-0.2, 0.2, (256, 5)).astype(np.float32)), min=-0.2, max=0.2, narrow_range=True)
    y = fq(tf.matmul(h, w2), min=-4.0, max=4.0, name="output")
    with tf1.Session(graph=g) as sess:
        c = tf1.lite.TFLiteConverter.from_session(sess, [x], [y])
        c.inference_type = tf.uint8
        c.quantized_input_stats = {"input": (127.5, 127.5)}
        open(sys.argv[1], "wb").write(c.convert())
"""


@pytest.mark.parametrize("target", ["host"])
def test_a_legacy_uint8_model_runs_as_int8_bit_for_bit(tmp_path, target):
    run_python(LEGACY_UINT8, str(tmp_path / "legacy.tflite"), cwd=tmp_path)
    bundle = tmp_path / "bundle"
    result = cli_result([str(tmp_path / "legacy.tflite"), "--out", str(bundle)], tmp_path)
    assert any("a uint8 model: its 6 uint8 tensors run as int8" in note for note in result["notes"]), result["notes"]
    graph = load_graph(bundle)
    assert not [t for t in graph["tensors"].values() if t["dtype"] == "uint8"]
    agreement = _build_and_run(bundle, target)
    assert agreement["max_abs_error"] == 0 and agreement["top1_match"], agreement



ASYMMETRIC_UINT8 = LEGACY_UINT8.replace(
    "rng.uniform(-0.5, 0.5, (3, 3, 3, 4)).astype(np.float32)), min=-0.5, max=0.5",
    "np.where(rng.uniform(size=(3, 3, 3, 4)) < 0.1, float(sys.argv[2]), rng.uniform(-0.3, 0.2, (3, 3, 3, 4)))"
    ".astype(np.float32)), min=-0.3, max=0.5").replace(
    "rng.uniform(-0.2, 0.2, (256, 5)).astype(np.float32)), min=-0.2, max=0.2",
    "np.where(rng.uniform(size=(256, 5)) < 0.05, float(sys.argv[3]), rng.uniform(-0.1, 0.1, (256, 5)))"
    ".astype(np.float32)), min=-0.1, max=0.3")


@pytest.mark.parametrize("largest", [("0.2", "0.1"), ("0.45", "0.28")], ids=["fit_int8", "split"])
def test_asymmetric_uint8_weights_run_as_symmetric_int8_and_stay_bit_exact(tmp_path, largest):
    """TF1 fake-quant weights over asymmetric ranges: conv [-0.3, 0.5] (uint8 zero point 96), fully connected
    [-0.1, 0.3] (zero point 64). Values up to 0.2 and 0.1 keep codes minus zero point within [-127, 127]: the
    same real values as symmetric int8 codes. Values up to 0.45 and 0.28 do not: each layer reads its input
    twice (concatenated along channels) against its codes split into two symmetric parts. Both are bit-exact."""
    assert ASYMMETRIC_UINT8.count("sys.argv[2]") == 1 and ASYMMETRIC_UINT8.count("sys.argv[3]") == 1
    run_python(ASYMMETRIC_UINT8, str(tmp_path / "asymmetric.tflite"), *largest, cwd=tmp_path)
    bundle = tmp_path / "bundle"
    result = cli_result([str(tmp_path / "asymmetric.tflite"), "--out", str(bundle)], tmp_path)
    split = [note for note in result["notes"] if "asymmetric uint8 weights" in note]
    assert split == ([] if largest[0] == "0.2" else [split[0]]) and (not split or split[0].startswith("2 layers")), split
    graph = load_graph(bundle)
    weights = [t for t in graph["tensors"].values() if t["dtype"] == "int8" and "quantization" in t
               and len(t["shape"]) > 1 and t["shape"][0] in (4, 5)]
    assert len(weights) == 2 and all(t["quantization"]["zero_point"] == [0] for t in weights), weights
    reference = load_file(str(bundle / "reference.safetensors"))["output.0"]
    assert np.ptp(reference) > 0.2, reference  # not saturated: the weights decide the answer
    agreement = _build_and_run(bundle, "host")
    assert agreement["max_abs_error"] == 0 and agreement["top1_match"], agreement


DEPTHWISE_UINT8 = """
import sys
import numpy as np, tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
rng = np.random.default_rng(0)
fq = tf.quantization.fake_quant_with_min_max_args
with tf1.Graph().as_default() as g:
    x = tf1.placeholder(tf.float32, [1, 9, 8, 3], name="input")
    dw = np.where(rng.uniform(size=(3, 3, 3, 2)) < 0.15, 0.45, rng.uniform(-0.3, 0.2, (3, 3, 3, 2))).astype(np.float32)
    w = fq(tf.constant(dw), min=-0.3, max=0.5, narrow_range=True)
    h = tf.nn.depthwise_conv2d(fq(x, min=-1.0, max=1.0), w, [1, 2, 2, 1], "SAME") + rng.uniform(-0.1, 0.1, 6).astype(np.float32)
    h = tf.reshape(fq(tf.nn.relu6(h), min=0.0, max=6.0), [1, -1])
    w2 = fq(tf.constant(rng.uniform(-0.2, 0.2, (120, 5)).astype(np.float32)), min=-0.2, max=0.2, narrow_range=True)
    y = fq(tf.matmul(h, w2), min=-4.0, max=4.0, name="output")
    with tf1.Session(graph=g) as sess:
        c = tf1.lite.TFLiteConverter.from_session(sess, [x], [y])
        c.inference_type = tf.uint8
        c.quantized_input_stats = {"input": (127.5, 127.5)}
        open(sys.argv[1], "wb").write(c.convert())
"""


def test_an_asymmetric_uint8_depthwise_convolution_reads_its_input_widened_and_stays_bit_exact(tmp_path):
    """A depthwise 3x3 stride-2 SAME convolution (9x8 input: one row of padding above, none left, one right) with
    weights of a [-0.3, 0.5] range (zero point 96) reaching 0.45: its input repeated along the width against a kernel
    twice as wide holding the two symmetric parts of each tap, padded as SAME pads the original."""
    run_python(DEPTHWISE_UINT8, str(tmp_path / "depthwise.tflite"), cwd=tmp_path)
    bundle = tmp_path / "bundle"
    result = cli_result([str(tmp_path / "depthwise.tflite"), "--out", str(bundle)], tmp_path)
    assert any(note.startswith("1 layer with asymmetric uint8 weights") for note in result["notes"]), result["notes"]
    [conv] = [n for n in load_graph(bundle)["nodes"] if n["op"] == "conv2d"]
    assert conv["attrs"]["stride"] == [2, 4] and conv["attrs"]["padding"] == [0, 0, 0, 0], conv["attrs"]
    reference = load_file(str(bundle / "reference.safetensors"))["output.0"]
    assert np.ptp(reference) > 0.2, reference
    agreement = _build_and_run(bundle, "host")
    assert agreement["max_abs_error"] == 0 and agreement["top1_match"], agreement
