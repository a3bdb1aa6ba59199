"""ONNX operators that are a few vocabulary ops each (capture/onnx/composite_rules.py): the norm and
log-sum reductions, GlobalMaxPool, Reciprocal, Mean, Celu, LRN, CumSum and Einsum, in one hand-made
graph checked against onnxruntime through the bundle's interpreter and an image built for the host;
NonMaxSuppression and TopK are refused as post-processing."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from bundle_checks import assert_interpreter_agrees, load_graph
from edgespec.capture.onnx.capture import capture_onnx_file
from test_recurrent import _build_and_run

rng = np.random.default_rng(21)
X = [1, 6, 5, 4]


def _composite_model(path):
    k = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "k")
    one = numpy_helper.from_array(np.array(1.0, np.float32), "one")
    axis2, axis3 = (numpy_helper.from_array(np.array(a, np.int64), f"axis{a}") for a in (2, 3))
    nodes = [
        helper.make_node("LRN", ["x"], ["lrn"], size=3, alpha=0.5, beta=0.75, bias=2.0),
        helper.make_node("GlobalMaxPool", ["x"], ["gmp"]),
        helper.make_node("ReduceL2", ["x"], ["l2"], axes=[1], keepdims=1),
        helper.make_node("Div", ["x", "l2"], ["normalized"]),
        helper.make_node("ReduceL1", ["x"], ["l1"], axes=[2, 3], keepdims=0),
        helper.make_node("ReduceSumSquare", ["x"], ["ss"], axes=[3], keepdims=0),
        helper.make_node("ReduceLogSumExp", ["x"], ["lse"], axes=[1], keepdims=0),
        helper.make_node("Sigmoid", ["x"], ["sig"]),
        helper.make_node("ReduceLogSum", ["sig"], ["ls"], axes=[1], keepdims=1),
        helper.make_node("Abs", ["x"], ["ax"]),
        helper.make_node("Add", ["ax", "one"], ["ax1"]),
        helper.make_node("Reciprocal", ["ax1"], ["recip"]),
        helper.make_node("Mean", ["x", "sig", "recip"], ["mean"]),
        helper.make_node("Celu", ["x"], ["celu"], alpha=2.0),
        helper.make_node("CumSum", ["x", "axis2"], ["cs_rev"], exclusive=1, reverse=1),
        helper.make_node("CumSum", ["x", "axis3"], ["cs"]),
        helper.make_node("Einsum", ["x", "k"], ["e_mm"], equation="nchw,wk->nchk"),
        helper.make_node("Einsum", ["x", "x"], ["e_gram"], equation="nchw,ndhw->ncd"),
        helper.make_node("Einsum", ["x"], ["e_one"], equation="nchw->nwc"),
    ]
    outputs = ["lrn", "gmp", "normalized", "l1", "ss", "lse", "ls", "mean", "celu", "cs_rev", "cs", "e_mm", "e_gram", "e_one"]
    graph = helper.make_graph(nodes, "composite", [helper.make_tensor_value_info("x", TensorProto.FLOAT, X)],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                              [k, one, axis2, axis3])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))


def test_composite_onnx_ops_agree_with_onnxruntime_in_the_interpreter_and_on_the_host(tmp_path):
    _composite_model(tmp_path / "composite.onnx")
    result = capture_onnx_file(tmp_path / "composite.onnx", out=tmp_path / "bundle")
    graph = load_graph(result.path)
    assert [o["shape"] for o in graph["outputs"]][-3:] == [[1, 6, 5, 3], [1, 6, 6], [1, 4, 6]]
    assert assert_interpreter_agrees(result.path) < 1e-5
    agreement = _build_and_run(result.path)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


@pytest.mark.parametrize("op", ["NonMaxSuppression", "TopK"])
def test_post_processing_ops_are_refused_saying_where_they_belong(tmp_path, op):
    from edgespec.errors import UnsupportedOpsError

    if op == "TopK":
        nodes = [helper.make_node("TopK", ["scores", "k"], ["values", "indices"])]
        inits = [numpy_helper.from_array(np.array([2], np.int64), "k")]
        outputs = [helper.make_tensor_value_info("values", TensorProto.FLOAT, [1, 2])]
    else:
        nodes = [helper.make_node("NonMaxSuppression", ["boxes", "scores", "k"], ["selected"])]
        inits = [numpy_helper.from_array(np.array([2], np.int64), "k")]
        outputs = [helper.make_tensor_value_info("selected", TensorProto.INT64, None)]
    inputs = [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, 6] if op != "TopK" else [1, 6])]
    if op != "TopK":
        inputs.insert(0, helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 6, 4]))
    graph = helper.make_graph(nodes, "post", inputs, outputs, inits)
    path = tmp_path / "post.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    with pytest.raises(UnsupportedOpsError, match="leaves to the code that reads the image's outputs"):
        capture_onnx_file(path, out=tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def test_swish_of_opset_24_is_silu_or_x_times_a_scaled_sigmoid(tmp_path):
    nodes = [helper.make_node("Swish", ["x"], ["unit"]), helper.make_node("Swish", ["x"], ["half"], alpha=0.5)]
    graph = helper.make_graph(nodes, "swish", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 7])],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, [2, 7]) for o in ("unit", "half")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 24)], ir_version=10), str(tmp_path / "s.onnx"))
    result = capture_onnx_file(tmp_path / "s.onnx", out=tmp_path / "bundle")
    assert [n["op"] for n in load_graph(result.path)["nodes"]] == ["silu", "mul", "sigmoid", "mul"]
    assert assert_interpreter_agrees(result.path) < 1e-6


def _pool_unpool(path, kernel, stride):
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    nodes = [helper.make_node("Relu", ["x"], ["r"]),  # zeros tie inside windows: the first one's position is kept
             helper.make_node("MaxPool", ["r"], ["p", "i"], kernel_shape=kernel, strides=stride),
             helper.make_node("Tanh", ["p"], ["t"]), helper.make_node("Add", ["t", "half"], ["v"]),
             helper.make_node("MaxUnpool", ["v", "i"], ["y"], kernel_shape=kernel, strides=stride)]
    graph = helper.make_graph(nodes, "segnet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [half])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))


def test_max_pool_indices_into_max_unpool_agree_with_onnxruntime(tmp_path):
    """SegNet's pair (MediaPipe's hair segmenter as .onnx): MaxPool's Indices read only by MaxUnpool, 2x2 windows."""
    _pool_unpool(tmp_path / "segnet.onnx", [2, 2], [2, 2])
    result = capture_onnx_file(tmp_path / "segnet.onnx", out=tmp_path / "bundle")
    ops = [n["op"] for n in load_graph(result.path)["nodes"]]
    assert {"max_pool2d", "argmax", "take"} <= set(ops), ops
    assert assert_interpreter_agrees(result.path) < 1e-6
    agreement = _build_and_run(result.path)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement


def test_max_pool_indices_of_overlapping_windows_are_refused(tmp_path):
    from edgespec.errors import UnsupportedOpsError

    _pool_unpool(tmp_path / "overlap.onnx", [3, 3], [2, 2])
    with pytest.raises(UnsupportedOpsError, match="reads MaxPool indices when the windows tile a 2-D input"):
        capture_onnx_file(tmp_path / "overlap.onnx", out=tmp_path / "bundle")
