"""The issue 13 activations and elementwise ops captured from TFLite and ONNX, built for the
host and run. A Keras model converted to float .tflite (PRELU per channel and per element,
ELU, EXP, LOG, SQRT, RSQRT, ABS, SQUARE, POW, MAXIMUM, MINIMUM, LOG_SOFTMAX) agrees with
TFLite; a full-int8 .tflite (PRELU, MAXIMUM, MINIMUM, ABS, NEG) runs the int8 kernels and
agrees with TFLite's interpreter bit for bit (one MAXIMUM against a constant); its float twin built with --dtype int8
(calibrated) runs them too; an ONNX graph (PRelu, Elu, Selu, Softplus, Mish, Softsign, Abs,
Sqrt, Log, Exp, Pow, Neg, Max of three, Min, LogSoftmax) agrees with onnxruntime.
TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import onnx
import pytest

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python
from onnx_graphs import activations_model

from edgespec.capture.onnx.capture import capture_onnx_file

CLI = str(REPO / "bin" / "edgespec")

KERAS_MODELS = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers, ops
keras.utils.set_random_seed(0)
inp = keras.Input((8, 8, 3), batch_size=1)
h = layers.Conv2D(4, 3, padding="same", name="conv")(inp)
h = layers.PReLU(shared_axes=[1, 2], alpha_initializer=keras.initializers.RandomUniform(0.05, 0.3), name="prelu")(h)
h = layers.ELU(name="elu")(h)
a = layers.Lambda(lambda t: ops.exp(t) + ops.log(ops.abs(t) + 0.5) + ops.sqrt(ops.abs(t)) + ops.rsqrt(ops.abs(t) + 1), name="math")(h)
b = layers.Lambda(lambda t: ops.square(t) + ops.power(t, 3.0), name="powers")(h)
m = layers.Maximum(name="max")([a, b])
m = layers.Minimum(name="min")([m, layers.Conv2D(4, 1, name="mix")(h)])
p = layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.4), name="prelu_full")(m)
y = layers.Lambda(lambda t: ops.log_softmax(t, axis=-1), name="log_softmax")(p)
model = keras.Model(inp, layers.Flatten()(y))
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())

inp = keras.Input((8, 8, 3), batch_size=1)
h = layers.Conv2D(4, 3, padding="same", name="conv")(inp)
h = layers.PReLU(shared_axes=[1, 2], alpha_initializer=keras.initializers.RandomUniform(0.05, 0.3), name="prelu")(h)
m = layers.Maximum(name="max")([h, layers.Conv2D(4, 1, name="gate")(h)])
m = layers.Minimum(name="min")([m, layers.Conv2D(4, 1, name="mix")(h)])
m = layers.Lambda(lambda t: ops.abs(t), name="abs")(m)
m = layers.Conv2D(4, 1, name="post")(m)
m = layers.Lambda(lambda t: ops.maximum(t, -0.3), name="floor")(m)
m = layers.Lambda(lambda t: ops.negative(t), name="neg")(m)
model = keras.Model(inp, layers.Flatten()(m))
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 8, 8, 3)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
open(sys.argv[2], "wb").write(c.convert())
"""

FLOAT_OPS = {"tflite.PRELU", "tflite.ELU", "tflite.EXP", "tflite.LOG", "tflite.SQRT", "tflite.RSQRT", "tflite.ABS",
             "tflite.SQUARE", "tflite.POW", "tflite.MAXIMUM", "tflite.MINIMUM", "tflite.LOG_SOFTMAX"}
INT8_KERNELS = ("es_prelu_s8(", "es_maximum_s8(", "es_minimum_s8(", "es_abs_s8(", "es_neg_s8(")


def _cli(args, timeout=600):
    proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def _build_and_run(bundle: Path, out: Path, *extra: str) -> dict:
    code, events, stderr = _cli(["build", str(bundle), "--target", "host", "--out", str(out), *extra])
    assert code == 0 and not [e for e in events if e["event"] == "error"], stderr[-2000:] + str(events[-3:])
    code, events, stderr = _cli(["run", str(out)])
    [result] = [e for e in events if e["event"] == "result"]
    report = result["data"]
    assert report["status"] == "ok" and report["exit_code"] == 0, report
    assert report.get("agreement"), report
    return report


@pytest.fixture(scope="module")
def keras_models(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keras_activations")
    run_python(KERAS_MODELS, str(directory / "float.tflite"), str(directory / "int8.tflite"), cwd=directory)
    return directory


@pytest.fixture(scope="module")
def float_bundle(keras_models, tmp_path_factory) -> Path:
    bundle = tmp_path_factory.mktemp("float_activations") / "bundle"
    cli_result([str(keras_models / "float.tflite"), "--out", str(bundle)], bundle.parent)
    return bundle


def test_float_tflite_activations_are_captured_built_and_agree(float_bundle, tmp_path):
    graph = load_graph(float_bundle)
    assert FLOAT_OPS <= set(graph["op_inventory"])
    prelus = [n for n in graph["nodes"] if n["op"] == "prelu"]
    assert [graph["tensors"][n["inputs"][1]]["shape"] for n in prelus] == [[1, 1, 4], [8, 8, 4]]
    assert sorted(n["attrs"]["exponent"] for n in graph["nodes"] if n["op"] == "pow") == [2.0, 3.0]
    assert [n["attrs"] for n in graph["nodes"] if n["op"] == "log_softmax"] == [{"axis": 3}]
    assert_interpreter_agrees(float_bundle)
    agreement = _build_and_run(float_bundle, tmp_path / "build")["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]


def test_int8_tflite_runs_the_int8_kernels_and_agrees_with_tflite_bit_for_bit(keras_models, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(keras_models / "int8.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert {"tflite.PRELU", "tflite.MAXIMUM", "tflite.MINIMUM", "tflite.ABS", "tflite.NEG"} <= set(graph["op_inventory"])
    build = tmp_path / "build"
    report = _build_and_run(bundle, build)
    model_c = next(build.rglob("model.c")).read_text()
    for fn in INT8_KERNELS:
        assert model_c.count(fn) == (2 if fn == "es_maximum_s8(" else 1), fn  # one maximum has a constant operand
    assert "_f32(" not in model_c.replace("es_quantize_s8(", "").replace("es_dequantize_s8(", "")
    assert report["agreement"]["max_abs_error"] == 0


def test_calibrated_int8_build_of_the_float_model_runs_the_int8_kernels(float_bundle, tmp_path):
    build = tmp_path / "build"
    report = _build_and_run(float_bundle, build, "--dtype", "int8")
    model_c = next(build.rglob("model.c")).read_text()
    for fn in ("es_prelu_s8(", "es_maximum_s8(", "es_minimum_s8(", "es_abs_s8("):
        assert fn in model_c, fn
    agreement = report["agreement"]
    assert agreement["top1_match"] and agreement["max_abs_error"] <= 0.02 * agreement["max_abs_reference"]


def test_onnx_activations_are_captured_built_and_agree(tmp_path):
    path = tmp_path / "activations.onnx"
    onnx.save(activations_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = load_graph(result.path)
    ops = [n["op"] for n in graph["nodes"]]
    for op in ("prelu", "elu", "selu", "softplus", "mish", "softsign", "abs", "sqrt", "log", "exp", "pow", "neg",
               "maximum", "minimum", "log_softmax"):
        assert op in ops, op
    assert ops.count("maximum") == 2  # Max of three inputs is a chain
    [elu_of_selu] = [n for n in graph["nodes"] if n["op"] == "elu" and n["attrs"]["alpha"] == 1.5]
    assert elu_of_selu["module"] == "features.selu2"
    assert assert_interpreter_agrees(result.path) < 1e-5
    agreement = _build_and_run(result.path, tmp_path / "build")["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]
