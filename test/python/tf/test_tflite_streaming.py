"""Streaming .tflite models (issue 13), on every target (issue 14's "one model from the new ops").

A streaming model keeps its state in resource variables (VAR_HANDLE, READ_VARIABLE,
ASSIGN_VARIABLE, initialized by a CALL_ONCE subgraph): captured as graph.state, kept by the
image between invocations. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import cli_result, run_python

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diff_cli import cli  # noqa: E402

# A GRU layer then an LSTM layer, one time step per invocation (the form streaming keyword
# spotters and voice-activity detectors take), their state in three variables, one of them
# starting from a nonzero value. Writes the model and the interpreter's outputs for STEPS inputs.
STREAMING = """
import sys
import numpy as np, tensorflow as tf
tf.random.set_seed(0)
def w(*shape): return tf.Variable(tf.random.normal(shape) * 0.4)
class Streaming(tf.Module):
    def __init__(self):
        super().__init__()
        self.gk, self.gr, self.gb = w(10, 72), w(24, 72), w(72)
        self.lk, self.lr, self.lb = w(24, 64), w(16, 64), w(64)
        self.dk, self.db = w(16, 4), w(4)
        self.h = tf.Variable(tf.fill([1, 24], 0.1), trainable=False)
        self.lh = tf.Variable(tf.zeros([1, 16]), trainable=False)
        self.lc = tf.Variable(tf.zeros([1, 16]), trainable=False)
    @tf.function(input_signature=[tf.TensorSpec([1, 10], tf.float32)])
    def __call__(self, x):
        xz, xr, xh = tf.split(tf.matmul(x, self.gk) + self.gb, 3, axis=1)
        hz, hr, hh = tf.split(tf.matmul(self.h, self.gr), 3, axis=1)
        z, r = tf.sigmoid(xz + hz), tf.sigmoid(xr + hr)
        h = z * self.h + (1 - z) * tf.tanh(xh + r * hh)
        self.h.assign(h)
        i, f, g, o = tf.split(tf.matmul(h, self.lk) + tf.matmul(self.lh, self.lr) + self.lb, 4, axis=1)
        c = tf.sigmoid(f) * self.lc + tf.sigmoid(i) * tf.tanh(g)
        lh = tf.sigmoid(o) * tf.tanh(c)
        self.lc.assign(c); self.lh.assign(lh)
        return tf.matmul(lh, self.dk) + self.db
m = Streaming()
c = tf.lite.TFLiteConverter.from_concrete_functions([m.__call__.get_concrete_function()], m)
c.experimental_enable_resource_variables = True
if sys.argv[4:] == ["int8"]:  # int8 weights and activations, float32 variables and I/O (what the converter makes)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 10)).astype(np.float32)] for i in range(64))
open(sys.argv[1], "wb").write(c.convert())
# int8: TFLite's reference kernels, which the capture's reference uses (the optimized ones round otherwise)
kernels = {"experimental_op_resolver_type": tf.lite.experimental.OpResolverType.BUILTIN_REF} if sys.argv[4:] == ["int8"] else {}
steps = np.random.default_rng(1).standard_normal((int(sys.argv[3]), 1, 10)).astype(np.float32)
it = tf.lite.Interpreter(sys.argv[1], **kernels); it.allocate_tensors()
outputs = []
for x in steps:
    it.set_tensor(it.get_input_details()[0]["index"], x); it.invoke()
    outputs.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
fresh = []  # each step from a new interpreter: what an image that forgot its state would give
for x in steps:
    it = tf.lite.Interpreter(sys.argv[1], **kernels); it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x); it.invoke()
    fresh.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
np.save(sys.argv[2] + "-inputs.npy", steps)
np.save(sys.argv[2] + "-outputs.npy", np.stack(outputs))
np.save(sys.argv[2] + "-fresh.npy", np.stack(fresh))
"""

# A fused UNIDIRECTIONAL_SEQUENCE_LSTM whose h and c inputs are variable tensors: the interpreter keeps
# the layer's last h and c in them for the next invocation (how streaming keyword spotters carry state).
FUSED_LSTM = """
import sys
import numpy as np, tensorflow as tf
from fused_lstm_tflite import lstm_tflite
lstm_tflite(sys.argv[1], hybrid=False, batch=1, steps=3, features=5, hidden=6, seed=3)
steps = np.random.default_rng(2).standard_normal((int(sys.argv[3]), 1, 3, 5)).astype(np.float32)
it = tf.lite.Interpreter(sys.argv[1]); it.allocate_tensors()
outputs, fresh = [], []
for x in steps:
    it.set_tensor(it.get_input_details()[0]["index"], x); it.invoke()
    outputs.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
    one = tf.lite.Interpreter(sys.argv[1]); one.allocate_tensors()
    one.set_tensor(one.get_input_details()[0]["index"], x); one.invoke()
    fresh.append(one.get_tensor(one.get_output_details()[0]["index"]).copy())
np.save(sys.argv[2] + "-inputs.npy", steps)
np.save(sys.argv[2] + "-outputs.npy", np.stack(outputs))
np.save(sys.argv[2] + "-fresh.npy", np.stack(fresh))
"""

STEPS = 6


@pytest.fixture(scope="module")
def streaming(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("streaming")
    run_python(STREAMING, str(directory / "streaming.tflite"), str(directory / "steps"), str(STEPS), cwd=directory)
    return directory


@pytest.fixture(scope="module")
def streaming_int8(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("streaming-int8")
    run_python(STREAMING, str(directory / "streaming.tflite"), str(directory / "steps"), str(STEPS), "int8", cwd=directory)
    return directory


def _build(bundle: Path, target: str) -> Path:
    out = bundle / "build" / target
    code, events, _ = cli(["build", str(bundle), "--target", target, "--out", str(out)])
    assert code == 0, events[-2:]
    return out


def _run(build: Path, *extra: str) -> dict:
    code, events, _ = cli(["run", str(build), *extra])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("agreement") or report.get("error")
    return report


def test_a_streaming_model_captures_its_variables_as_state(streaming, tmp_path):
    bundle = tmp_path / "streaming"
    cli_result([str(streaming / "streaming.tflite"), "--out", str(bundle)], tmp_path)
    graph = json.loads((bundle / "graph.json").read_text())
    state = graph["state"]
    assert len(state) == 3
    for record in state:
        assert graph["tensors"][record["read"]]["kind"] == "state"
        assert graph["tensors"][record["initial"]]["kind"] == "weight"
        assert graph["tensors"][record["write"]]["shape"] == graph["tensors"][record["read"]]["shape"]
    assert {tuple(graph["tensors"][r["read"]]["shape"]) for r in state} == {(1, 24), (1, 16)}
    for op in ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"):
        assert graph["op_inventory"][f"tflite.{op}"] >= 1


# rpi3 and efi stream every step below; their first-step cases, and linux-vm's, are long tests
# (CI's time budget), run with EDGESPEC_LONG_TESTS=1.
_LONG = pytest.mark.skipif(os.environ.get("EDGESPEC_LONG_TESTS") != "1", reason="a long test: EDGESPEC_LONG_TESTS=1")


@pytest.mark.parametrize("target", ["host", "qemu-virt", pytest.param("rpi3", marks=_LONG), pytest.param("efi", marks=_LONG),
                                    pytest.param("linux-vm", marks=_LONG)])
def test_a_streaming_model_agrees_on_its_first_step(streaming, tmp_path, target):
    bundle = tmp_path / "streaming"
    cli_result([str(streaming / "streaming.tflite"), "--out", str(bundle)], tmp_path)
    build = _build(bundle, target)
    assert "es_model_reset" in (build / "model.c").read_text()
    agreement = _run(build)["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]


def test_an_int8_build_of_a_model_with_state_is_refused_clearly(streaming, tmp_path):
    bundle = tmp_path / "streaming"
    cli_result([str(streaming / "streaming.tflite"), "--out", str(bundle)], tmp_path)
    code, events, _ = cli(["build", str(bundle), "--target", "host", "--dtype", "int8", "--out", str(tmp_path / "int8")])
    [error] = [e for e in events if e["event"] == "error"]
    assert code != 0 and "keeps state between invocations" in error["message"] and "without --dtype" in error["hint"]
    assert not (tmp_path / "int8").exists()


@pytest.mark.parametrize("target", ["host", "qemu-virt"])
def test_an_int8_streaming_tflite_carries_its_state_in_an_int8_image(streaming_int8, tmp_path, target):
    """The converter's int8 form of the streaming model keeps float32 variables around int8
    arithmetic; its image is int8 (the model's own quantization) with float32 state buffers."""
    expected, fresh = np.load(streaming_int8 / "steps-outputs.npy"), np.load(streaming_int8 / "steps-fresh.npy")
    assert np.abs(expected[1:] - fresh[1:]).max() > 0.2 * np.abs(expected).max()
    bundle = tmp_path / "streaming"
    cli_result([str(streaming_int8 / "streaming.tflite"), "--out", str(bundle)], tmp_path)
    build = _build(bundle, target)
    assert json.loads((build / "build.json").read_text())["dtype"] == "int8"
    assert "es_model_reset" in (build / "model.c").read_text()
    report = _run(build, "--inputs", str(streaming_int8 / "steps-inputs.npy"), "--expected", str(streaming_int8 / "steps-outputs.npy"))
    assert report["stream"]["agreeing"] == STEPS, report["stream"]
    got = np.stack([np.load(f) for f in sorted((build / "run-outputs").glob("*.npy"))]).reshape(expected.shape)
    assert np.abs(got - expected).max() <= 1e-6 * np.abs(expected).max()  # bit for bit, dequantized


@pytest.mark.parametrize("target", ["host", "qemu-virt", "rpi3", "efi"])
def test_a_stream_of_steps_through_one_boot_carries_the_state(streaming, tmp_path, target):
    expected, fresh = np.load(streaming / "steps-outputs.npy"), np.load(streaming / "steps-fresh.npy")
    # the steps depend on the state: forgetting it would be caught
    assert np.abs(expected[1:] - fresh[1:]).max() > 100 * 1e-4 * np.abs(expected).max()
    bundle = tmp_path / "streaming"
    cli_result([str(streaming / "streaming.tflite"), "--out", str(bundle)], tmp_path)
    build = _build(bundle, target)
    report = _run(build, "--inputs", str(streaming / "steps-inputs.npy"), "--expected", str(streaming / "steps-outputs.npy"))
    stream = report["stream"]
    assert len(stream["steps"]) == STEPS
    outputs = sorted((build / "run-outputs").glob("*.npy"))
    assert len(outputs) == STEPS
    got = np.stack([np.load(f) for f in outputs]).reshape(expected.shape)
    assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max()


def test_a_fused_lstm_keeps_its_variable_state_tensors_between_invocations(tmp_path):
    run_python(FUSED_LSTM, str(tmp_path / "lstm.tflite"), str(tmp_path / "steps"), "4", cwd=tmp_path)
    expected, fresh = np.load(tmp_path / "steps-outputs.npy"), np.load(tmp_path / "steps-fresh.npy")
    assert np.abs(expected[1:] - fresh[1:]).max() > 100 * 1e-4 * np.abs(expected).max()
    bundle = tmp_path / "lstm"
    cli_result([str(tmp_path / "lstm.tflite"), "--out", str(bundle)], tmp_path)
    graph = json.loads((bundle / "graph.json").read_text())
    assert [graph["tensors"][r["read"]]["shape"] for r in graph["state"]] == [[1, 6], [1, 6]]
    build = _build(bundle, "host")
    report = _run(build, "--inputs", str(tmp_path / "steps-inputs.npy"), "--expected", str(tmp_path / "steps-outputs.npy"))
    assert report["stream"]["agreeing"] == 4
