"""ONNX models as edge users have them (issue 13, formats): an opset older than onnxruntime
runs, upgraded by onnx's version converter (PRelu-6's per-channel slope keeps its meaning);
a float64 model cast to float32; a dimension written as -1, fixed by the input shape; a
rank-0 input; and an exporter's Transpose of a weight, folded into a constant. Each is
captured, built for the host and run against onnxruntime's own output, and capture says
what it changed."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgespec import ModelInputError
from edgespec.capture.onnx.capture import capture_onnx_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diff_cli import cli  # noqa: E402

rng = np.random.default_rng(11)


def _model(nodes, inputs, outputs, initializers=(), opset=13, ir_version=8):
    graph = helper.make_graph(nodes, "formats", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version)


def _capture_build_run(model, tmp_path, **kwargs) -> tuple:
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    result = capture_onnx_file(path, out=tmp_path / "bundle", **kwargs)
    code, events = cli(["build", str(tmp_path / "bundle"), "--target", "host"])[:2]
    assert code == 0, events[-2:]
    code, events = cli(["run", str(tmp_path / "bundle" / "build" / "host")])[:2]
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("error") or report["status"]
    return result, json.loads((tmp_path / "bundle" / "graph.json").read_text()), report


def test_an_opset_6_model_is_upgraded_and_its_per_channel_prelu_keeps_its_meaning(tmp_path):
    slope = numpy_helper.from_array(np.array([0.1, 0.5, 2.0], np.float32), "slope")
    bias = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    nodes = [helper.make_node("PRelu", ["x", "slope"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "w2", "b"], ["y"], transB=1, broadcast=1)]
    w2 = numpy_helper.from_array(rng.standard_normal((4, 12)).astype(np.float32), "w2")
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 2]),
                           # IR 3: initializers are graph inputs too
                           helper.make_tensor_value_info("slope", TensorProto.FLOAT, [3]),
                           helper.make_tensor_value_info("w2", TensorProto.FLOAT, [4, 12]),
                           helper.make_tensor_value_info("b", TensorProto.FLOAT, [4])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [slope, w2, bias], opset=6, ir_version=3)
    result, graph, report = _capture_build_run(model, tmp_path)
    assert any("opset 6" in n and "upgraded it to opset 13" in n for n in result.notes), result.notes
    assert report["agreement"]["within_tolerance"]
    # the slope stayed per channel: compare with numpy on the bundle's reference
    from safetensors.numpy import load_file
    ref = load_file(str(tmp_path / "bundle" / "reference.safetensors"))
    x = ref["input.0"]
    p = np.where(x >= 0, x, x * np.array([0.1, 0.5, 2.0], np.float32).reshape(1, 3, 1, 1))
    expected = p.reshape(1, 12) @ numpy_helper.to_array(w2).T + numpy_helper.to_array(bias)
    np.testing.assert_allclose(ref["output.0"], expected, rtol=1e-5, atol=1e-6)


def test_a_float64_model_is_cast_to_float32_and_says_so(tmp_path):
    w = numpy_helper.from_array(rng.standard_normal((3, 5)), "w")  # float64
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]),
             helper.make_node("Cast", ["m"], ["c"], to=TensorProto.DOUBLE),
             helper.make_node("Relu", ["c"], ["y"])]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [2, 3])],
                   [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [2, 5])], [w])
    result, graph, report = _capture_build_run(model, tmp_path)
    assert any("float64" in n and "cast it to float32" in n and "1 inputs" in n and "1 initializers" in n for n in result.notes), result.notes
    assert graph["inputs"][0]["dtype"] == "float32"


def test_a_dimension_of_minus_one_is_fixed_by_the_input_shape(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [-1, 3, 4, 4])
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [-1, 3, 4, 4])])
    onnx.save(model, tmp_path / "minus.onnx")
    with pytest.raises(ModelInputError, match=r"symbolic shape \[\?, 3, 4, 4\]") as refused:
        capture_onnx_file(tmp_path / "minus.onnx", out=tmp_path / "refused")
    assert "--input-shape" in refused.value.hint
    assert not (tmp_path / "refused").exists()
    _, graph, _ = _capture_build_run(model, tmp_path, input_shapes=[[2, 3, 4, 4]])
    assert graph["inputs"][0]["shape"] == [2, 3, 4, 4]


def test_a_rank_0_input_is_accepted(tmp_path):
    model = _model([helper.make_node("Mul", ["s", "x"], ["y"])],
                   [helper.make_tensor_value_info("s", TensorProto.FLOAT, []), helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    _, graph, report = _capture_build_run(model, tmp_path)
    assert graph["inputs"][0]["shape"] == [] and report["agreement"]["within_tolerance"]


def test_a_transpose_of_a_weight_is_folded_into_a_constant(tmp_path):
    w = numpy_helper.from_array(rng.standard_normal((5, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]), helper.make_node("MatMul", ["x", "wt"], ["y"])]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])], [w])
    result, graph, report = _capture_build_run(model, tmp_path)
    assert any("1 Transpose node computed from constants alone: folded" in n for n in result.notes), result.notes
    assert "transpose" not in {n["op"] for n in graph["nodes"]}


@pytest.mark.parametrize("form", ["computed_b", "scaled_constant_b", "transposed_a_computed_c"])
def test_gemm_in_its_general_form(form, tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 5])
    c = numpy_helper.from_array(rng.standard_normal((1, 5)).astype(np.float32), "c")
    if form == "computed_b":  # addmm with a weight the model computes: B = relu(W)
        w = numpy_helper.from_array(rng.standard_normal((4, 5)).astype(np.float32), "w")
        nodes = [helper.make_node("Relu", ["w_in"], ["b"]), helper.make_node("Gemm", ["x", "b", "c"], ["y"], alpha=0.5, beta=2.0)]
        inputs = [x, helper.make_tensor_value_info("w_in", TensorProto.FLOAT, [4, 5])]
        initializers = [c]
        del w
    elif form == "scaled_constant_b":
        b = numpy_helper.from_array(rng.standard_normal((5, 4)).astype(np.float32), "b")
        nodes = [helper.make_node("Gemm", ["x", "b", "c"], ["y"], alpha=2.0, beta=0.5, transB=1)]
        inputs, initializers = [x], [b, c]
    else:
        b = numpy_helper.from_array(rng.standard_normal((4, 5)).astype(np.float32), "b")
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3])
        nodes = [helper.make_node("Sigmoid", ["x"], ["xs"]), helper.make_node("Gemm", ["xs", "b", "cv"], ["y"], transA=1, beta=3.0)]
        inputs, initializers = [x, helper.make_tensor_value_info("cv", TensorProto.FLOAT, [3, 5])], [b]
    model = _model(nodes, inputs, [y], initializers)
    _, graph, report = _capture_build_run(model, tmp_path)
    assert report["agreement"]["within_tolerance"], report["agreement"]
    ops = {n["op"] for n in graph["nodes"]}
    assert ("matmul" in ops) == (form == "computed_b") and ("transpose" in ops) == (form == "transposed_a_computed_c")
