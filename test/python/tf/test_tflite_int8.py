"""int8 .tflite import: a Keras CNN converted by TensorFlow's converter to full int8 is
captured with its own quantization, built (host and qemu-virt) and agrees with TFLite's
interpreter on 200 seeded inputs (scripts/tflite-int8-agreement.py, real TensorFlow, real
compiler, real QEMU). TensorFlow runs in subprocesses only (conftest.py)."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import PYTHON, REPO, python_env

EDGESPEC = str(REPO / "bin" / "edgespec")
SCRIPT = str(REPO / "scripts" / "tflite-int8-agreement.py")


def _agreement(work, *args):
    proc = subprocess.run([PYTHON, SCRIPT, "--work", str(work), *args], env=python_env(), capture_output=True,
                          text=True, timeout=900)
    report = work / "agreement.json"
    if not report.exists():
        pytest.fail(f"the agreement script wrote no report\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}", pytrace=False)
    return proc, json.loads(report.read_text()), work


@pytest.fixture(scope="module")
def cnn_softmax(tmp_path_factory):
    return _agreement(tmp_path_factory.mktemp("tflite_int8_cnn"), "--model", "cnn", "--count", "200", "--qemu", "2")


@pytest.fixture(scope="module")
def cnn_int8_io(tmp_path_factory):
    return _agreement(tmp_path_factory.mktemp("tflite_int8_io"), "--model", "cnn", "--io", "int8",
                      "--head", "logits", "--count", "200")


def _check_agreement(proc, report, work):
    assert proc.returncode == 0 and report["pass"], proc.stdout[-3000:]
    reference = report["kernel_sets"]["BUILTIN_REF"]
    assert reference["same_top1"] == 200
    assert reference["max_difference_in_steps"] <= 1.0 + 1e-4
    assert report["kernel_sets"]["BUILTIN_WITHOUT_DEFAULT_DELEGATES"]["max_difference_in_steps"] <= 1.0 + 1e-4
    # the top-1 class depends on the input, so agreeing on it means something
    assert report["distinct_top1_classes"] >= 3 and report["most_common_top1_inputs"] < 200


def test_float_io_int8_cnn_with_softmax_agrees_with_tflite_on_200_inputs(cnn_softmax):
    _check_agreement(*cnn_softmax)
    _, report, _ = cnn_softmax
    assert report["qemu_virt_bit_identical"] == "2/2"


def test_int8_io_int8_cnn_is_bit_identical_to_tflite_reference_kernels(cnn_int8_io):
    _check_agreement(*cnn_int8_io)
    _, report, _ = cnn_int8_io
    assert report["kernel_sets"]["BUILTIN_REF"]["bit_identical_inputs"] == 200


def test_bundle_keeps_the_models_int8_weights_int32_biases_and_scales(cnn_softmax):
    bundle = cnn_softmax[2] / "bundle"
    graph = json.loads((bundle / "graph.json").read_text())
    weights = load_file(str(bundle / "weights.safetensors"))
    conv_weights = [n for n, t in graph["tensors"].items() if t["kind"] == "weight" and len(t["shape"]) == 4]
    assert conv_weights and all(weights[n].dtype == np.int8 for n in conv_weights)
    for name in conv_weights:
        q = graph["tensors"][name]["quantization"]
        assert len(q["scale"]) == graph["tensors"][name]["shape"][q["axis"]] and set(q["zero_point"]) == {0}
    assert any(a.dtype == np.int32 for a in weights.values())
    activations = [t for t in graph["tensors"].values() if t["kind"] == "activation" and t["dtype"] == "int8"]
    assert activations and all(len(t["quantization"]["scale"]) == 1 for t in activations)
    assert [io["dtype"] for io in graph["inputs"] + graph["outputs"]] == ["float32", "float32"]
    ops = [n["op"] for n in graph["nodes"]]
    assert ops[0] == "quantize" and ops[-1] == "dequantize"

    inspect = subprocess.run([EDGESPEC, "inspect", str(bundle)], capture_output=True, text=True, timeout=120)
    assert inspect.returncode == 0 and "int8 with the quantization given by the tflite model" in inspect.stdout
    build = json.loads((bundle.parent / "host" / "build.json").read_text())
    assert build["dtype"] == "int8"
    log = (bundle.parent / "host" / "build.log").read_text()
    assert "quantization given by the bundle" in log and "no calibration" in log
    assert "run in fp32" not in log  # softmax too runs in int8 (es_softmax_s8, TFLite's float-table arithmetic)
    assert "es_softmax_s8(" in (bundle.parent / "host" / "model.c").read_text()


def test_float32_build_and_calibration_of_an_int8_bundle_are_refused_clearly(cnn_softmax, tmp_path):
    bundle = cnn_softmax[2] / "bundle"
    for extra, words in ((["--dtype", "float32"], "builds as int8 only"),
                         (["--calibration", str(bundle / "reference.safetensors")], "--calibration does not apply")):
        out = tmp_path / "never"
        proc = subprocess.run([EDGESPEC, "build", str(bundle), "--target", "host", "--out", str(out), *extra],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode != 0 and words in proc.stderr + proc.stdout
        assert "    at " not in proc.stderr and "Traceback" not in proc.stderr and not out.exists()


UNSUPPORTED = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((8, 8, 3), batch_size=1)
h = layers.Conv2D(4, 3)(inp)
h = layers.Lambda(lambda t: tf.where(t > 0.0, t, t[..., ::-1]))(h)  # GREATER and SELECT: no int8 kernels
h = layers.Conv2D(4, 1, activation="sigmoid")(h)
model = keras.Model(inp, layers.Flatten()(h))
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).random((1, 8, 8, 3), dtype=np.float32)] for i in range(4))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
open(sys.argv[1], "wb").write(c.convert())
"""


def test_unsupported_int8_ops_are_listed_and_nothing_is_written(tmp_path):
    from conftest import run_capture_cli, run_python

    model = tmp_path / "select.tflite"
    run_python(UNSUPPORTED, str(model))
    code, events, stderr = run_capture_cli([str(model), "--out", str(tmp_path / "bundle")], tmp_path)
    assert code == 1 and "Traceback" not in stderr
    [error] = [e for e in events if e["event"] == "error"]
    assert "tflite.SELECT" in error["message"] and "tflite.GREATER" in error["message"]
    assert not (tmp_path / "bundle").exists()
