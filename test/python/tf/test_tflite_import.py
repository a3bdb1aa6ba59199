"""`python -m edgespec capture FILE.tflite`: a float .tflite made from the notebook CNN,
and the files edgespec must refuse with a clear message."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from bundle_checks import assert_interpreter_agrees, load_graph, node_ops
from conftest import HERE, run_capture_cli, run_python


def test_cnn_tflite_file_becomes_a_valid_bundle(cnn_tflite_bundle, cnn_tflite):
    bundle = Path(cnn_tflite_bundle["bundle"])
    graph = load_graph(bundle)
    assert graph["source"]["framework"] == "tflite"
    assert graph["source"]["entry"] == str(cnn_tflite)
    assert graph["op_inventory"] == {"tflite.CONV_2D": 2, "tflite.FULLY_CONNECTED": 2, "tflite.MAX_POOL_2D": 1,
                                     "tflite.AVERAGE_POOL_2D": 1, "tflite.MUL": 1, "tflite.ADD": 1,
                                     "tflite.RESHAPE": 1}
    assert node_ops(graph) == {"conv2d": 2, "linear": 2, "max_pool2d": 1, "avg_pool2d": 1, "mul": 1, "add": 1,
                               "reshape": 1}
    assert [(io["shape"], io["layout"]) for io in graph["inputs"]] == [([1, 28, 28, 1], "NHWC")]
    # without the Keras model, modules are the TF name scopes the converter recorded
    convs = [n["module"] for n in graph["nodes"] if n["op"] == "conv2d"]
    assert len(convs) == 2 and convs[0].endswith("small_cnn_1.conv2d_1") and convs[1].endswith("small_cnn_1.conv2d_1_2")


def test_cnn_tflite_reference_is_the_seeded_interpreter_run(cnn_tflite_bundle):
    bundle = Path(cnn_tflite_bundle["bundle"])
    reference = load_file(str(bundle / "reference.safetensors"))
    expected = np.random.default_rng(0 + 1000).standard_normal((1, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(reference["input.0"], expected)
    assert_interpreter_agrees(bundle)


@pytest.fixture(scope="session")
def refused_tflite(work_dir) -> dict:
    directory = work_dir / "refused_tflite"
    directory.mkdir()
    run_python(f"import runpy, sys; sys.argv = ['tflite_cases', {str(directory)!r}]; "
               f"runpy.run_path({str(HERE / 'tflite_cases.py')!r}, run_name='__main__')", cwd=directory)
    return json.loads((directory / "tflite_cases.json").read_text())


def test_unsupported_tflite_ops_are_all_listed_and_nothing_is_written(refused_tflite):
    outcome = refused_tflite["unsupported"]
    assert not outcome["ok"] and outcome["code"] == "unsupported_ops"
    listed = {(op["framework_op"], op["module"]) for op in outcome["details"]}
    assert ("tflite.SIN", "functional_1.sine_1") in listed
    assert ("tflite.FLOOR", "functional_1.floored_1") in listed
    assert outcome["left"] == []


def test_int16_quantized_tflite_is_refused_with_a_fix(refused_tflite):
    outcome = refused_tflite["int16"]
    assert not outcome["ok"] and outcome["code"] == "bad_input"
    assert "int16" in outcome["message"] and "int8" in outcome["message"]
    assert "TFLITE_BUILTINS_INT8" in outcome["hint"]
    assert outcome["left"] == []


def test_garbage_tflite_is_refused_on_the_command_line_without_a_traceback(work_dir):
    path = work_dir / "not_a_model.tflite"
    path.write_bytes(b"\x00\x01garbage" * 50)
    code, events, stderr = run_capture_cli([str(path), "--out", str(work_dir / "never")], work_dir)
    assert code == 1
    [error] = [e for e in events if e["event"] == "error"]
    assert "not a readable TFLite flatbuffer" in error["message"] and error["hint"]
    assert "Traceback" not in stderr
    assert not (work_dir / "never").exists()


def test_an_input_shape_that_does_not_fit_a_tflite_model_is_refused(work_dir, cnn_tflite):
    # the CNN takes ?x28x28x1: a batch of 1 fits, another height does not
    code, events, _ = run_capture_cli([str(cnn_tflite), "--input-shape", "1x32x28x1", "--out", str(work_dir / "never")], work_dir)
    assert code == 1
    [error] = [e for e in events if e["event"] == "error"]
    assert "does not fit it" in error["message"] and "--input-shape" in error["hint"]
    assert not (work_dir / "never").exists()
