"""What edge models' .onnx files carry that broke capture (found by test/sweeps/edge_onnx.py), each
as a small hand-made graph checked against onnxruntime through the bundle's interpreter."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import cli_result, run_capture_cli
from edgespec.capture.onnx.capture import capture_onnx_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diff_cli import cli  # noqa: E402

rng = np.random.default_rng(13)


def _save(tmp_path, nodes, inputs, outputs, initializers=(), opset=13, ir_version=8):
    graph = helper.make_graph(nodes, "edge", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version)
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    return path


def test_an_opset_7_constant_fill_of_a_computed_shape_folds_once_the_input_shape_is_given(tmp_path):
    """torch.onnx.export at opset 7 writes an RNN's zero state as ConstantFill(Shape(...)), an
    experimental op onnxruntime no longer runs, in an IR-3 model whose initializers are graph inputs."""
    weight = numpy_helper.from_array(rng.standard_normal((3, 4)).astype(np.float32), "w")
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("ConstantFill", ["shape"], ["filled"], input_as_shape=1, value=0.5, dtype=TensorProto.FLOAT),
             helper.make_node("Add", ["x", "filled"], ["shifted"]),
             helper.make_node("Transpose", ["w"], ["w_t"], perm=[1, 0]),
             helper.make_node("MatMul", ["shifted", "w_t"], ["y"])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4]),
                                   helper.make_tensor_value_info("w", TensorProto.FLOAT, [3, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [weight], opset=7, ir_version=3)
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[2, 4]])
    graph = load_graph(result.path)
    assert graph["outputs"][0]["shape"] == [2, 3]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_softmax_before_opset_13_normalizes_over_every_axis_from_its_axis_on(tmp_path):
    """A Caffe-era or hand-exported opset-11 Softmax on axis 1 of [N, C, H, W] coerces the input to 2-D:
    it normalizes over C, H and W together (opset 13 would normalize over C alone)."""
    nodes = [helper.make_node("Softmax", ["x"], ["p"], axis=1),
             helper.make_node("LogSoftmax", ["x"], ["lp"], axis=2)]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 2, 4])],
                 [helper.make_tensor_value_info("p", TensorProto.FLOAT, [2, 3, 2, 4]),
                  helper.make_tensor_value_info("lp", TensorProto.FLOAT, [2, 3, 2, 4])], opset=11)
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    ops = [n["op"] for n in load_graph(result.path)["nodes"]]
    assert ops.count("reshape") == 4 and "softmax" in ops and "log_softmax" in ops
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_gather_elements_with_constant_indices_gathers_each_element(tmp_path):
    """torch.gather exports as GatherElements; with constant indices (negative ones count from the end of
    the axis) each output element is one element of the input."""
    indices = np.array([[[0, 2, -1, 1], [2, 2, 0, -3]], [[1, 0, 0, 2], [-2, 1, 2, 0]]], np.int64)  # [2, 2, 4] on axis 1 of [2, 3, 4]
    nodes = [helper.make_node("GatherElements", ["x", "idx"], ["y"], axis=1),
             helper.make_node("Relu", ["y"], ["z"])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                 [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 2, 4])], [numpy_helper.from_array(indices, "idx")])
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    assert [n["op"] for n in load_graph(result.path)["nodes"]] == ["reshape", "gather", "reshape", "relu"]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_torch_gather_at_opset_9_is_a_one_hot_of_constant_indices_times_the_input(tmp_path):
    """torch.onnx.export writes torch.gather before opset 11 as OneHot(index, depth from Shape(x)), a Cast,
    a Mul with x unsqueezed and a ReduceSum: the one-hot folds (onnx's reference evaluator refuses its
    depth of shape [1]) once --input-shape fixes x."""
    index = numpy_helper.from_array(np.array([[3, 0, 2]], np.int64), "index")
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Constant", [], ["one"], value=numpy_helper.from_array(np.array([1], np.int64))),
             helper.make_node("Gather", ["shape", "one"], ["depth"], axis=0),
             helper.make_node("Constant", [], ["values"], value=numpy_helper.from_array(np.array([0, 1], np.int64))),
             helper.make_node("OneHot", ["index", "depth", "values"], ["hot"], axis=1),
             helper.make_node("Cast", ["hot"], ["hot_f"], to=TensorProto.FLOAT),
             helper.make_node("Unsqueeze", ["x"], ["x3"], axes=[2]),
             helper.make_node("Mul", ["x3", "hot_f"], ["picked"]),
             helper.make_node("ReduceSum", ["picked"], ["y"], axes=[1], keepdims=0)]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [index], opset=9, ir_version=4)
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[1, 4]])
    assert "take" not in [n["op"] for n in load_graph(result.path)["nodes"]]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_an_expand_to_a_shape_computed_with_equal_and_where_folds(tmp_path):
    """x.expand(n, -1) exports as Expand(c, Where(Equal(shape, -1), ones, shape)) with shape built from
    Shape(x): once the input shape is given, Equal and Where fold with it, and the Expand's shape is known."""
    row = numpy_helper.from_array(rng.standard_normal((1, 4)).astype(np.float32), "row")
    minus_one = numpy_helper.from_array(np.array([-1], np.int64), "minus_one")
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus_one"], ["wanted"], axis=0),
             helper.make_node("Equal", ["wanted", "minus_one"], ["is_free"]),
             helper.make_node("ConstantOfShape", ["two"], ["ones"], value=numpy_helper.from_array(np.array([1], np.int64))),
             helper.make_node("Where", ["is_free", "ones", "wanted"], ["target"]),
             helper.make_node("Expand", ["row", "target"], ["rows"]),
             helper.make_node("Mul", ["x", "rows"], ["y"])]
    constants = [row, minus_one, numpy_helper.from_array(np.array(0, np.int64), "zero"),
                 numpy_helper.from_array(np.array([0], np.int64), "axes0"), numpy_helper.from_array(np.array([2], np.int64), "two")]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], constants)
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[3, 4]])
    assert load_graph(result.path)["outputs"][0]["shape"] == [3, 4]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_hard_sigmoid_with_keras_and_paddle_slope(tmp_path):
    """tf2onnx and paddle2onnx write HardSigmoid with alpha 0.2 (Keras' hard_sigmoid, PaddleOCR's SE blocks);
    PyTorch's 1/6 stays one hardsigmoid."""
    nodes = [helper.make_node("HardSigmoid", ["x"], ["keras"], alpha=0.2, beta=0.5),
             helper.make_node("HardSigmoid", ["x"], ["torch"], alpha=1 / 6, beta=0.5),
             helper.make_node("Mul", ["keras", "torch"], ["y"])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8, 3, 3])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8, 3, 3])], opset=11)
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    assert [n["op"] for n in load_graph(result.path)["nodes"]] == ["mul", "add", "clamp", "hardsigmoid", "mul"]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_a_model_saved_by_a_newer_onnx_than_onnxruntime_reads_is_imported_and_says_so(tmp_path):
    """onnx.helper.make_model writes the installed onnx's IR version, which can be newer than the installed
    onnxruntime reads (onnx 1.23 writes IR 14; onnxruntime 1.30 reads up to 13)."""
    import onnxruntime

    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], ir_version=onnx.IR_VERSION)
    try:
        onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        newer = False
    except Exception as e:
        newer = "IR version" in str(e)
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    assert any("IR version" in note for note in result.notes) == newer, result.notes
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_exact_gelu_as_exported_before_opset_20_runs_erf_on_the_host(tmp_path):
    """torch.onnx.export writes nn.GELU before opset 20 as Div(x, sqrt 2), Erf, Add 1, Mul x, Mul 0.5
    (a keyword transformer, an OCR recognizer's attention blocks); Erf is the vocabulary's erf."""
    weight = numpy_helper.from_array(rng.standard_normal((6, 8)).astype(np.float32) * 2, "w")
    scalar = lambda name, value: numpy_helper.from_array(np.array(value, np.float32), name)  # noqa: E731
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]),
             helper.make_node("Div", ["h", "sqrt2"], ["scaled"]),
             helper.make_node("Erf", ["scaled"], ["erf"]),
             helper.make_node("Add", ["erf", "one"], ["plus_one"]),
             helper.make_node("Mul", ["h", "plus_one"], ["twice"]),
             helper.make_node("Mul", ["twice", "half"], ["y"])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5, 6])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5, 8])],
                 [weight, scalar("sqrt2", 1.4142135623730951), scalar("one", 1.0), scalar("half", 0.5)], opset=17)
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    assert "erf" in [n["op"] for n in load_graph(result.path)["nodes"]]
    assert assert_interpreter_agrees(result.path) < 1e-6
    code, events = cli(["build", str(result.path), "--target", "host"])[:2]
    assert code == 0, events[-2:]
    code, events = cli(["run", str(tmp_path / "bundle" / "build" / "host")])[:2]
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert report["status"] == "ok" and report["agreement"]["within_tolerance"], report


def test_a_folded_value_replaces_its_declared_symbolic_type(tmp_path):
    """The dynamo exporter declares every value's type, with symbolic dims ("s0"); once --input-shape fixes
    the batch, an index expanded to it folds into a constant, and the GatherElements reading it (and the
    output declared with the symbolic batch) get static shapes."""
    row = numpy_helper.from_array(np.array([[3, 1, 0, 2]], np.int64), "row")
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
             helper.make_node("Concat", ["n1", "four"], ["target"], axis=0),
             helper.make_node("Expand", ["row", "target"], ["expanded"]),
             helper.make_node("GatherElements", ["x", "expanded"], ["y"], axis=1)]
    constants = [row, numpy_helper.from_array(np.array(0, np.int64), "zero"),
                 numpy_helper.from_array(np.array([0], np.int64), "axes0"), numpy_helper.from_array(np.array([4], np.int64), "four")]
    graph = helper.make_graph(nodes, "edge", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["s0", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["s0", 4])], constants,
                              value_info=[helper.make_tensor_value_info("expanded", TensorProto.INT64, ["s0", 4])])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[2, 4]])
    assert load_graph(result.path)["outputs"][0]["shape"] == [2, 4]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_a_declared_output_shape_of_the_wrong_rank_is_left_to_shape_inference(tmp_path):
    """The dynamo exporter, with a dynamic dimension, declares an LSTM's Y_h output ([1, B, H]) with four
    dims, one of them symbolic; once --input-shape fixes the inputs, the shape comes from inference
    (the state output of a streaming voice-activity model)."""
    hidden, features, steps = 3, 2, 4
    weights = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.5, name)
               for name, shape in (("W", (1, 4 * hidden, features)), ("R", (1, 4 * hidden, hidden)), ("B", (1, 8 * hidden)))]
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B", "", "h0", "c0"], ["y", "hn", "cn"], hidden_size=hidden)]
    state = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, "batch", hidden])  # noqa: E731
    wrong = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, "Min(s0, s1)", 1, hidden])  # noqa: E731
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [steps, "batch", features]),
                                   state("h0"), state("c0")],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [steps, 1, "batch", hidden]), wrong("hn"), wrong("cn")],
                 weights, opset=18)
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[steps, 1, features], [1, 1, hidden], [1, 1, hidden]])
    assert [o["shape"] for o in load_graph(result.path)["outputs"]] == [[steps, 1, 1, hidden], [1, 1, hidden], [1, 1, hidden]]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_an_if_on_the_input_shape_takes_its_branch_once_the_shape_is_given(tmp_path):
    """A scripted export tests a shape at run time (If on Equal(Shape(x)[1], 4)); with --input-shape the
    condition folds and the taken branch (with its own initializer) is inlined; the other is dropped."""
    then_graph = helper.make_graph([helper.make_node("Mul", ["x", "gain"], ["then_out"])], "then", [],
                                   [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, None)],
                                   [numpy_helper.from_array(np.array([0.5, -1.0, 2.0, 3.0], np.float32), "gain")])
    else_graph = helper.make_graph([helper.make_node("Erf", ["x"], ["else_out"])], "else", [],
                                   [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "one"], ["width"], axis=0),
             helper.make_node("Equal", ["width", "four"], ["is_four"]),
             helper.make_node("If", ["is_four"], ["picked"], then_branch=then_graph, else_branch=else_graph),
             helper.make_node("Relu", ["picked"], ["y"])]
    constants = [numpy_helper.from_array(np.array(1, np.int64), "one"), numpy_helper.from_array(np.array(4, np.int64), "four")]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "W"])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "W"])], constants)
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[3, 4]])
    assert [n["op"] for n in load_graph(result.path)["nodes"]] == ["mul", "relu"]
    assert assert_interpreter_agrees(result.path) < 1e-6


def _sample_rate_switch(tmp_path, ir_version: int = 8):
    """Silero VAD's sample-rate switch in small: a rank-0 int64 input `sr`, If(Equal(sr, 16000)) picking a
    scaling of the audio (an initializer of the branch) or an erf of it."""
    then_graph = helper.make_graph([helper.make_node("Mul", ["audio", "gain"], ["then_out"])], "then", [],
                                   [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, None)],
                                   [numpy_helper.from_array(np.array([0.5, -1.0, 2.0, 3.0], np.float32), "gain")])
    else_graph = helper.make_graph([helper.make_node("Erf", ["audio"], ["else_out"])], "else", [],
                                   [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("Equal", ["sr", "rate_16k"], ["is_16k"]),
             helper.make_node("If", ["is_16k"], ["picked"], then_branch=then_graph, else_branch=else_graph),
             helper.make_node("Relu", ["picked"], ["y"])]
    listed_constant = [helper.make_tensor_value_info("rate_16k", TensorProto.INT64, [])] if ir_version < 4 else []
    return _save(tmp_path, nodes, [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [2, 4]),
                                   helper.make_tensor_value_info("sr", TensorProto.INT64, [])] + listed_constant,
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                 [numpy_helper.from_array(np.array(16000, np.int64), "rate_16k")], ir_version=ir_version)


def test_an_if_on_an_unbound_input_names_the_input_and_input_value(tmp_path):
    from edgespec.errors import UnsupportedOpsError

    path = _sample_rate_switch(tmp_path)
    with pytest.raises(UnsupportedOpsError) as refused:
        capture_onnx_file(path, out=tmp_path / "bundle")
    assert "computed at run time from input 'sr'" in str(refused.value)
    assert "--input-value sr=VALUE" in str(refused.value)
    assert not (tmp_path / "bundle").exists()


def test_input_value_binds_a_rank_0_switch_so_the_if_takes_its_branch(tmp_path):
    """`edgespec capture FILE.onnx --input-value sr=16000`: the If inlines its then-branch, `sr` is no longer an
    input of the bundle, graph.json and the notes say it was bound; bound to 8000 the else-branch is taken."""
    path = _sample_rate_switch(tmp_path)
    result = cli_result([str(path), "--input-value", "sr=16000", "--out", str(tmp_path / "b16k")], tmp_path)
    graph = load_graph(tmp_path / "b16k")
    assert [i["name"] for i in graph["inputs"]] == ["audio"]
    assert graph["source"]["bound_inputs"] == {"sr": 16000}
    assert any("'sr' = 16000 bound at capture" in note for note in result["notes"]), result["notes"]
    assert [n["op"] for n in graph["nodes"]] == ["mul", "relu"]
    assert assert_interpreter_agrees(tmp_path / "b16k") < 1e-6
    # an IR-3 model lists its initializers as inputs too; 8000 takes the else branch
    (tmp_path / "ir3").mkdir()
    path = _sample_rate_switch(tmp_path / "ir3", ir_version=3)
    result = capture_onnx_file(path, out=tmp_path / "b8k", input_values={"sr": 8000})
    graph = load_graph(result.path)
    assert [i["name"] for i in graph["inputs"]] == ["audio"] and [n["op"] for n in graph["nodes"]] == ["erf", "relu"]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_input_value_refuses_unknown_names_malformed_values_and_values_the_dtype_cannot_hold(tmp_path):
    from edgespec.errors import ModelInputError

    path = _sample_rate_switch(tmp_path)
    for values, message in (({"rate": 16000}, "names 'rate', which the ONNX model does not take"),
                            ({"sr": 16000.5}, "input 'sr' is int64, which cannot hold 16000.5")):
        with pytest.raises(ModelInputError, match=message):
            capture_onnx_file(path, out=tmp_path / "bundle", input_values=values)
    code, events, _ = run_capture_cli([str(path), "--input-value", "sr16000", "--out", str(tmp_path / "bundle")], tmp_path)
    assert code != 0 and any("is not NAME=NUMBER" in e["message"] for e in events if e["event"] == "error")
    assert not (tmp_path / "bundle").exists()


def test_a_scripted_silero_v5_like_vad_captures_with_its_sample_rate_bound(tmp_path):
    """The edge sweep's Silero v5 look-alike (test/sweeps/edge_onnx_models.py), scripted and exported by the
    TorchScript exporter: an If on Equal(sr, 16000) around two STFT front ends, an LSTM state in and out."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sweeps"))
    from edge_onnx_export import export
    from edge_onnx_models import MODELS

    [model] = [m for m in MODELS if m.name == "silero_v5_like_vad"]
    path = tmp_path / "silero.onnx"
    export(model, "opset13", path)
    assert "If" in [n.op_type for n in onnx.load(str(path)).graph.node]
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=model.shapes, input_values=model.values)
    graph = load_graph(result.path)
    assert [i["name"] for i in graph["inputs"]] == ["input", "state"]
    assert any("1 If" in note for note in result.notes), result.notes
    assert assert_interpreter_agrees(result.path) < 1e-5


def test_a_shape_of_a_value_reshaped_to_a_computed_shape_folds_after_that_shape_does(tmp_path):
    """torch's flatten(2) of a dynamically shaped export is Reshape(x, Concat(Slice(Shape(x)), [-1])); an attention
    block after it reshapes with Shape(that value)[1] (PaddleOCR's SVTR). The second Shape's input dims are known
    only once the first Concat is a constant, so the fold infers shapes again (before, 100 ops were refused)."""
    i64 = lambda name, values: numpy_helper.from_array(np.array(values, np.int64), name)  # noqa: E731
    nodes = [helper.make_node("Shape", ["x"], ["xs"]),
             helper.make_node("Slice", ["xs", "zero", "two"], ["lead"]),
             helper.make_node("Concat", ["lead", "minus_one"], ["flat_shape"], axis=0),
             helper.make_node("Reshape", ["x", "flat_shape"], ["flat"]),
             helper.make_node("Transpose", ["flat"], ["seq"], perm=[0, 2, 1]),
             helper.make_node("Shape", ["seq"], ["ss"]),
             helper.make_node("Gather", ["ss", "one"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "zero"], ["n1"]),
             helper.make_node("Concat", ["batch", "n1", "two_heads", "minus_one"], ["heads_shape"], axis=0),
             helper.make_node("Reshape", ["seq", "heads_shape"], ["heads"]),
             helper.make_node("Softmax", ["heads"], ["y"], axis=-1)]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 1, "W"])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                 [i64("zero", [0]), i64("two", [2]), i64("minus_one", [-1]), i64("one", 1), i64("two_heads", [2]),
                  i64("batch", [1])])
    result = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[1, 4, 1, 6]])
    assert load_graph(result.path)["outputs"][0]["shape"] == [1, 6, 2, 2]
    assert assert_interpreter_agrees(result.path) < 1e-6
