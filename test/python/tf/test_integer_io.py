"""Integer inputs and outputs from TFLite and ONNX (issue 13).

- A Keras model with an Embedding fed int32 ids, converted to .tflite: the converter's wrap of
  negative ids (SELECT(LESS(ids, 0), ADD(ids, n), ids)) becomes a take counting negative indices
  from the end; ARG_MAX with output_type int32 is an int32 output; tf.pow with a computed exponent
  is pow_tensor. Agrees with tf.lite.Interpreter on the host (argmax exactly); an id of -1 runs as
  TFLite's does, -13 stops the image with the bad-input status.
- An ONNX graph: Gather of a table with an int64 input (negative indices allowed, as ONNX says),
  ArgMax (int64 output), Pow with a computed exponent and int64 Add / Mul of two inputs. Agrees
  with onnxruntime on the host.

TensorFlow runs in a subprocess only (conftest.py)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python

from edgespec.capture.onnx.capture import capture_onnx_file

CLI = str(REPO / "bin" / "edgespec")

KERAS_EMBEDDING = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
ids = keras.Input((6,), batch_size=1, dtype="int32", name="ids")
x = keras.Input((6, 1), batch_size=1, name="x")
h = layers.Embedding(12, 4, name="embed")(ids)
h = layers.Dense(3, name="dense")(layers.Multiply()([h, x]))
best = layers.Lambda(lambda t: tf.math.argmax(t, axis=-1, output_type=tf.int32), name="best")(h)
powered = layers.Lambda(lambda t: tf.pow(tf.abs(t[0]) + 0.5, tf.sigmoid(t[1])), name="powered")([h, x])
model = keras.Model([ids, x], [best, powered, h])
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())
"""

TFLITE_RUN = """
import sys, json
import numpy as np, tensorflow as tf
interpreter = tf.lite.Interpreter(model_path=sys.argv[1])
interpreter.allocate_tensors()
given = json.loads(sys.argv[2])
for d in interpreter.get_input_details():
    name = d["name"]
    key = "ids" if "ids" in name else "x"
    interpreter.set_tensor(d["index"], np.asarray(given[key], dtype=d["dtype"]).reshape(d["shape"]))
interpreter.invoke()
print(json.dumps({d["name"]: interpreter.get_tensor(d["index"]).tolist() for d in interpreter.get_output_details()}))
"""


def _cli(args, timeout=600):
    proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events


def _build(bundle: Path, out: Path, target: str = "host") -> Path:
    code, events = _cli(["build", str(bundle), "--target", target, "--out", str(out)])
    assert code == 0 and not [e for e in events if e["event"] == "error"], events[-3:]
    return out


def _run(build: Path, *extra: str) -> tuple:
    code, events = _cli(["run", str(build), *extra])
    results = [e["data"] for e in events if e["event"] == "result"]
    errors = [e for e in events if e["event"] == "error"]
    return code, (results[0] if results else None), errors


@pytest.fixture(scope="module")
def embedding_tflite(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keras_embedding")
    run_python(KERAS_EMBEDDING, str(directory / "embedding.tflite"), cwd=directory)
    return directory / "embedding.tflite"


@pytest.fixture(scope="module")
def embedding_build(embedding_tflite, tmp_path_factory) -> tuple:
    work = tmp_path_factory.mktemp("keras_embedding_build")
    cli_result([str(embedding_tflite), "--out", str(work / "bundle")], work)
    return work / "bundle", _build(work / "bundle", work / "build")


def test_keras_embedding_is_a_take_of_int32_ids(embedding_build):
    bundle, _ = embedding_build
    graph = load_graph(bundle)
    ids = [io for io in graph["inputs"] if io["name"] == "ids"]
    assert ids and ids[0]["dtype"] == "int32"
    [take] = [n for n in graph["nodes"] if n["op"] == "take"]
    assert take["attrs"] == {"axis": 0, "negative_indices": True}
    assert take["inputs"][1] == ids[0]["tensor"]
    for wrap_op in ("tflite.LESS", "tflite.ADD", "tflite.SELECT"):  # the wrap, in the inventory, with no node
        assert graph["op_inventory"].get(wrap_op, 0) + graph["op_inventory"].get(wrap_op + "_V2", 0) >= 1, wrap_op
    assert sorted(io["dtype"] for io in graph["outputs"]) == ["float32", "float32", "int32"]
    assert {"pow_tensor", "argmax"} <= {n["op"] for n in graph["nodes"]}
    assert_interpreter_agrees(bundle)


def test_keras_embedding_agrees_with_tflite_on_the_host(embedding_build):
    _, build = embedding_build
    code, report, errors = _run(build)
    assert code == 0 and report["status"] == "ok", (report, errors)
    assert len(report["agreement"]["exact_outputs"]) == 1
    assert report["agreement"]["max_abs_error"] <= 1e-4 * report["agreement"]["max_abs_reference"]


def _tflite_answer(tflite: Path, ids, x) -> dict:
    proc = run_python(TFLITE_RUN, str(tflite), json.dumps({"ids": ids, "x": x}))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_negative_ids_count_from_the_end_as_in_tflite_and_beyond_stop_the_image(embedding_tflite, embedding_build, tmp_path):
    from safetensors.numpy import save_file

    bundle, build = embedding_build
    graph = load_graph(bundle)
    x = (np.arange(6, dtype=np.float32) / 6 - 0.4).reshape(1, 6, 1)
    ids = [[-1, 0, 11, -12, 3, 3]]
    names = {io["name"]: io for io in graph["inputs"]}
    save_file({"ids": np.array(ids, np.int32), "x": x}, str(tmp_path / "negative.safetensors"))
    code, report, errors = _run(build, "--input", str(tmp_path / "negative.safetensors"))
    assert code == 0 and report["status"] == "ok", (report, errors)
    want = _tflite_answer(embedding_tflite, ids, x.tolist())
    outputs = {o["name"]: np.load(build / o["file"]) for o in report["outputs"]}
    best = [o for o in report["outputs"] if o["dtype"] == "int32"]
    assert len(best) == 1 and names["ids"]["dtype"] == "int32"
    [tflite_best] = [np.array(v) for v in want.values() if np.array(v).dtype.kind == "i"]
    assert np.array_equal(outputs[best[0]["name"]].reshape(-1), tflite_best.reshape(-1))

    save_file({"ids": np.array([[0, 1, 2, -13, 0, 0]], np.int32), "x": x}, str(tmp_path / "beyond.safetensors"))
    code, report, errors = _run(build, "--input", str(tmp_path / "beyond.safetensors"))
    assert code != 0
    assert any("input ids: index -13 (element 3) is outside [-12, 12)" in e["message"] for e in errors), errors


def gather_model() -> onnx.ModelProto:
    """Gather(table, ids) -> ArgMax and Pow(|rows| + 0.5, sigmoid(x)); a int64 Mul(a, Add(a, b))."""
    rng = np.random.default_rng(5)
    table = numpy_helper.from_array(rng.standard_normal((9, 4)).astype(np.float32), "table")
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["rows"], name="/embed/Gather", axis=0),
        helper.make_node("ArgMax", ["rows"], ["best"], name="/head/ArgMax", axis=-1, keepdims=0),
        helper.make_node("Abs", ["rows"], ["magnitude"], name="/pow/Abs"),
        helper.make_node("Add", ["magnitude", "half"], ["base"], name="/pow/Add"),
        helper.make_node("Sigmoid", ["x"], ["exponent"], name="/pow/Sigmoid"),
        helper.make_node("Pow", ["base", "exponent"], ["powered"], name="/pow/Pow"),
        helper.make_node("Add", ["a", "b"], ["sum"], name="/int/Add"),
        helper.make_node("Mul", ["a", "sum"], ["product"], name="/int/Mul"),
    ]
    graph = helper.make_graph(
        nodes, "gather",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 3]),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4]),
         helper.make_tensor_value_info("a", TensorProto.INT64, [2, 3]),
         helper.make_tensor_value_info("b", TensorProto.INT64, [3])],
        [helper.make_tensor_value_info("best", TensorProto.INT64, [2, 3]),
         helper.make_tensor_value_info("powered", TensorProto.FLOAT, [2, 3, 4]),
         helper.make_tensor_value_info("product", TensorProto.INT64, [2, 3])],
        [table, half])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    onnx.checker.check_model(model)
    return model


def test_onnx_gather_argmax_pow_and_int64_arithmetic_agree_with_onnxruntime(tmp_path):
    import onnxruntime
    from safetensors.numpy import save_file

    path = tmp_path / "gather.onnx"
    onnx.save(gather_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = load_graph(result.path)
    assert [(io["name"], io["dtype"]) for io in graph["inputs"]] == [("ids", "int64"), ("x", "float32"), ("a", "int64"), ("b", "int64")]
    assert [io["dtype"] for io in graph["outputs"]] == ["int64", "float32", "int64"]
    [take] = [n for n in graph["nodes"] if n["op"] == "take"]
    assert take["attrs"] == {"axis": 0, "negative_indices": True}
    assert_interpreter_agrees(result.path)
    build = _build(result.path, tmp_path / "build")
    model_c = (build / "model.c").read_text()
    for fn in ("es_take_f32(", "es_cast_f32_i64(", "es_pow_tensor_f32(", "es_add_i64(", "es_mul_i64("):
        assert fn in model_c, fn
    code, report, errors = _run(build)
    assert code == 0 and report["status"] == "ok", (report, errors)
    assert report["agreement"]["exact_outputs"] == ["best", "product"]

    # a negative id counts from the end (ONNX Gather); values onnxruntime gives for the same input
    given = {"ids": np.array([[-1, 0, 8], [-9, 4, 4]], np.int64), "x": np.linspace(-2, 2, 24, dtype=np.float32).reshape(2, 3, 4),
             "a": np.array([[3, -4, 5], [1 << 40, 0, -7]], np.int64), "b": np.array([2, -3, 1 << 33], np.int64)}
    save_file(given, str(tmp_path / "given.safetensors"))
    code, report, errors = _run(build, "--input", str(tmp_path / "given.safetensors"))
    assert code == 0 and report["status"] == "ok", (report, errors)
    want = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, given)
    got = [np.load(build / o["file"]) for o in report["outputs"]]
    assert got[0].dtype == np.int64 and np.array_equal(got[0], want[0])
    assert np.abs(got[1] - want[1]).max() <= 1e-5 * np.abs(want[1]).max()
    assert got[2].dtype == np.int64 and np.array_equal(got[2], want[2])  # int64 arithmetic beyond int32, wrapping alike

    save_file({**given, "ids": np.array([[0, 9, 0], [0, 0, 0]], np.int64)}, str(tmp_path / "beyond.safetensors"))
    code, report, errors = _run(build, "--input", str(tmp_path / "beyond.safetensors"))
    assert code != 0 and report is None or report["exit_code"] == 2
    assert any("input ids: index 9 (element 1) is outside [-9, 9)" in e["message"] for e in errors), errors
