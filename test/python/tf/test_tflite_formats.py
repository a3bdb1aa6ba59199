"""TFLite files as edge users have them (issue 13, formats): a keyword spotter converted with
Optimize.DEFAULT and no representative dataset (a dynamic-range, "hybrid" model: int8 weights,
float activations), with float16 weights, and fully quantized with uint8 inputs and outputs
(run as int8, as TensorFlow Lite Micro does). Each is captured, built and run on the host and
under QEMU against tf.lite.Interpreter's own output. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import cli_result, run_python

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diff_cli import cli  # noqa: E402

KEYWORD_SPOTTER = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((49, 10, 1), batch_size=1)
h = layers.Conv2D(64, (10, 4), strides=(2, 2), padding="same", activation="relu", name="conv")(inp)
h = layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(h)
h = layers.Conv2D(64, 1, activation="relu", name="pw")(h)
h = layers.GlobalAveragePooling2D(name="pool")(h)
h = layers.Dense(128, activation="relu", name="fc1")(h)
model = keras.Model(inp, layers.Dense(12, name="fc")(h))
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
open(sys.argv[1], "wb").write(c.convert())
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.target_spec.supported_types = [tf.float16]
open(sys.argv[2], "wb").write(c.convert())
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 49, 10, 1)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = tf.uint8
c.inference_output_type = tf.uint8
open(sys.argv[3], "wb").write(c.convert())
"""


@pytest.fixture(scope="module")
def spotter_files(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tflite_formats")
    run_python(KEYWORD_SPOTTER, str(directory / "hybrid.tflite"), str(directory / "float16.tflite"),
               str(directory / "uint8.tflite"), cwd=directory)
    return directory


def _run(bundle: Path, target: str) -> dict:
    out = bundle / "build" / f"{target}-out"
    code, events, _ = cli(["build", str(bundle), "--target", target, "--out", str(out)])
    assert code == 0, events[-2:]
    code, events, _ = cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("agreement") or report.get("error")
    return report


@pytest.mark.parametrize("target", ["host", "qemu-virt"])
def test_a_hybrid_keyword_spotter_rounds_its_inputs_as_the_interpreter_does(spotter_files, tmp_path, target):
    """TFLite's hybrid kernels quantize each input at run time (per batch item for the convolutions, per row for
    FULLY_CONNECTED, asymmetric); the image rounds them the same way (quantize_dynamic), so it agrees with
    tf.lite.Interpreter to float rounding, where computing in float32 alone was 0.3-1 % of the output off."""
    bundle = tmp_path / "hybrid"
    result = cli_result([str(spotter_files / "hybrid.tflite"), "--out", str(bundle)], tmp_path)
    graph = json.loads((bundle / "graph.json").read_text())
    assert graph["reference"]["arithmetic"] == "dynamic-range int8"
    assert any("dynamic-range (hybrid) model" in note and "4 int8 weights" in note and "the 4 ops" in note
               for note in result["notes"]), result["notes"]
    rounded = [n["attrs"] for n in graph["nodes"] if n["op"] == "quantize_dynamic"]
    assert len(rounded) == 4 and all(a["scheme"] == "int8_asymmetric" for a in rounded), rounded
    assert all(graph["tensors"][t]["dtype"] == "float32" for t in graph["tensors"])
    agreement = _run(bundle, target)["agreement"]
    assert agreement["top1_match"] and agreement["max_abs_error"] <= 1e-5 * agreement["max_abs_reference"], agreement


@pytest.mark.parametrize("target", ["host", "qemu-virt"])
def test_a_float16_keyword_spotter_agrees_at_the_float32_bar(spotter_files, tmp_path, target):
    bundle = tmp_path / "float16"
    cli_result([str(spotter_files / "float16.tflite"), "--out", str(bundle)], tmp_path)
    graph = json.loads((bundle / "graph.json").read_text())
    assert "arithmetic" not in graph["reference"] and graph["op_inventory"]["tflite.DEQUANTIZE"] >= 4
    agreement = _run(bundle, target)["agreement"]
    assert agreement["top5_match"] and agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]


@pytest.mark.parametrize("target", ["host", "qemu-virt"])
def test_a_uint8_keyword_spotter_runs_as_int8_bit_for_bit(spotter_files, tmp_path, target):
    bundle = tmp_path / "uint8"
    result = cli_result([str(spotter_files / "uint8.tflite"), "--out", str(bundle)], tmp_path)
    assert any("a uint8 model: its 2 uint8 tensors run as int8" in note for note in result["notes"]), result["notes"]
    graph = json.loads((bundle / "graph.json").read_text())
    assert not [t for t in graph["tensors"].values() if t["dtype"] == "uint8"]
    report = _run(bundle, target)
    assert report["dtype"] == "int8" and report["agreement"]["max_abs_error"] == 0.0
