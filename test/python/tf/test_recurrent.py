"""Recurrent layers in .tflite files (issue 13): the fused UNIDIRECTIONAL_SEQUENCE_LSTM (float,
time-major and dynamic-range), BIDIRECTIONAL_SEQUENCE_LSTM (merged and separate outputs) and
UNIDIRECTIONAL_SEQUENCE_RNN unrolled at capture, Keras LSTM / GRU / bidirectional GRU built with
unroll=True (plain ops plus UNPACK, PACK, REVERSE_V2 and 1 - z), each captured, interpreted and
built for the host agreeing with TFLite's interpreter (one also under qemu-virt); a Keras layer
converted into a WHILE loop is unrolled at capture (test_tflite_while.py has more). TensorFlow runs
in subprocesses only."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python

CLI = str(REPO / "bin" / "edgespec")

FUSED = """
import sys
from fused_lstm_tflite import bidirectional_lstm_tflite, lstm_tflite, rnn_tflite
lstm_tflite(sys.argv[1], hybrid=False)
lstm_tflite(sys.argv[2], hybrid=False, time_major=True, seed=1)
lstm_tflite(sys.argv[3], hybrid=True, seed=2)
bidirectional_lstm_tflite(sys.argv[4], merge_outputs=True, seed=3)
bidirectional_lstm_tflite(sys.argv[5], merge_outputs=False, seed=4)
rnn_tflite(sys.argv[6], seed=5)
"""

KERAS = """
import sys
import tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)

def save(model, path, hybrid=False):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if hybrid:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    open(path, "wb").write(converter.convert())

inp = keras.Input((5, 3), batch_size=2)
save(keras.Model(inp, layers.Dense(2)(layers.GRU(4, unroll=True)(inp))), sys.argv[1])
inner = layers.LSTM(4, return_sequences=True, unroll=True)(inp)
save(keras.Model(inp, layers.Dense(2)(layers.LSTM(4, unroll=True)(inner))), sys.argv[2])
save(keras.Model(inp, layers.Bidirectional(layers.GRU(4, return_sequences=True, unroll=True))(inp)), sys.argv[3])
wide = keras.Input((4, 32), batch_size=1)  # weights of more than 1024 values: the converter quantizes them
save(keras.Model(wide, layers.Dense(2)(layers.GRU(48, unroll=True)(wide))), sys.argv[4], hybrid=True)
save(keras.Model(inp, layers.Dense(2)(layers.GRU(4)(inp))), sys.argv[5])
"""


def _cli(args, timeout=600):
    proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def _build_and_run(bundle: Path, target: str = "host") -> dict:
    out = bundle / "build" / target
    code, events, stderr = _cli(["build", str(bundle), "--target", target, "--out", str(out)])
    assert code == 0 and not [e for e in events if e["event"] == "error"], stderr[-2000:] + str(events[-3:])
    code, events, _ = _cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("agreement") or report.get("error")
    return report["agreement"]


@pytest.fixture(scope="module")
def fused_files(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("fused_lstm")
    run_python(FUSED, *[str(directory / f"{n}.tflite") for n in ("float", "time_major", "hybrid", "bidirectional_merged",
                                                                "bidirectional_split", "rnn")], cwd=directory)
    return directory


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keras_recurrent")
    run_python(KERAS, *[str(directory / f"{n}.tflite") for n in ("gru", "lstm", "bigru", "gru_hybrid", "gru_while")],
               cwd=directory)
    return directory


@pytest.mark.parametrize("name,targets", [("float", ["host", "qemu-virt"]), ("time_major", ["host"])])
def test_fused_lstm_is_unrolled_and_agrees_with_tflite(fused_files, name, targets, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(fused_files / f"{name}.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert graph["op_inventory"] == {"tflite.UNIDIRECTIONAL_SEQUENCE_LSTM": 1}
    ops = [n["op"] for n in graph["nodes"]]
    # h and c are variable tensors, the model's state: every step has its recurrent linear
    assert ops.count("linear") == 1 + 5 and ops.count("tanh") == 2 * 5
    assert len(graph["state"]) == 2
    assert_interpreter_agrees(bundle)
    for target in targets:
        agreement = _build_and_run(bundle, target)
        assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


@pytest.mark.parametrize("name,framework_op,outputs", [
    ("bidirectional_merged", "BIDIRECTIONAL_SEQUENCE_LSTM", [[5, 2, 8]]),
    ("bidirectional_split", "BIDIRECTIONAL_SEQUENCE_LSTM", [[5, 2, 4], [5, 2, 4]]),
    ("rnn", "UNIDIRECTIONAL_SEQUENCE_RNN", [[2, 5, 4]]),
])
def test_fused_bidirectional_lstm_and_rnn_are_unrolled_and_agree(fused_files, name, framework_op, outputs, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(fused_files / f"{name}.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert graph["op_inventory"] == {f"tflite.{framework_op}": 1}
    assert [o["shape"] for o in graph["outputs"]] == outputs
    assert_interpreter_agrees(bundle)
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


def test_dynamic_range_fused_lstm_agrees_at_the_int8_bar(fused_files, tmp_path):
    bundle = tmp_path / "bundle"
    result = cli_result([str(fused_files / "hybrid.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert graph["reference"]["arithmetic"] == "dynamic-range int8"
    assert any("8 int8 weights" in note for note in result["notes"]), result["notes"]
    assert all(t["dtype"] == "float32" for t in graph["tensors"].values())
    agreement = _build_and_run(bundle)
    # TFLite quantized x and h on the fly; the image computes in float32
    assert 1e-6 < agreement["max_abs_error"] <= 0.05 * agreement["max_abs_reference"], agreement


@pytest.mark.parametrize("name,framework_ops", [
    ("gru", {"tflite.UNPACK", "tflite.SUB"}),
    ("lstm", {"tflite.UNPACK", "tflite.PACK"}),
    ("bigru", {"tflite.REVERSE_V2", "tflite.PACK"}),
])
def test_unrolled_keras_recurrent_layers_agree(keras_files, name, framework_ops, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(keras_files / f"{name}.tflite"), "--out", str(bundle)], tmp_path)
    graph = load_graph(bundle)
    assert framework_ops <= set(graph["op_inventory"])
    assert_interpreter_agrees(bundle)
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


def test_unrolled_keras_gru_with_int8_weights_agrees_at_the_int8_bar(keras_files, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(keras_files / "gru_hybrid.tflite"), "--out", str(bundle)], tmp_path)
    assert load_graph(bundle)["reference"]["arithmetic"] == "dynamic-range int8"
    agreement = _build_and_run(bundle)
    assert agreement["top1_match"] and agreement["max_abs_error"] <= 0.05 * agreement["max_abs_reference"], agreement


def test_a_keras_layer_converted_to_a_while_loop_is_unrolled_at_capture_and_agrees(keras_files, tmp_path):
    bundle = tmp_path / "bundle"
    result = cli_result([str(keras_files / "gru_while.tflite"), "--out", str(bundle)], tmp_path)
    assert any("a WHILE loop (operator" in note and "runs 5 steps: unrolled" in note for note in result["notes"]), result["notes"]
    assert "tflite.WHILE" not in load_graph(bundle)["op_inventory"]
    agreement = _build_and_run(bundle)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement
