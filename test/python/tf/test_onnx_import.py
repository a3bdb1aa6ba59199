"""`python -m edgespec capture FILE.onnx`: torchvision resnet18 exported by
torch.onnx.export(dynamo=True), hand-built graphs for the op rules, and refusals."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from bundle_checks import assert_interpreter_agrees, assert_no_leftovers, load_graph, node_ops
from conftest import run_capture_cli
from onnx_graphs import coverage_model, symbolic_batch_model, unsupported_model

from edgespec import ModelInputError, UnsupportedOpsError
from edgespec.capture.onnx.capture import capture_onnx_file

RESNET18_ONNX_OPS = {"onnx.Conv": 20, "onnx.Relu": 17, "onnx.Add": 8, "onnx.Gemm": 1, "onnx.MaxPool": 1,
                     "onnx.ReduceMean": 1, "onnx.Reshape": 1}


def test_resnet18_onnx_becomes_a_valid_nchw_bundle(resnet18_onnx_bundle, resnet18_onnx):
    graph = load_graph(Path(resnet18_onnx_bundle["bundle"]))
    assert graph["source"]["framework"] == "onnx" and "opset" in graph["source"]["framework_version"]
    assert graph["op_inventory"] == RESNET18_ONNX_OPS
    assert node_ops(graph) == {"conv2d": 20, "relu": 17, "add": 8, "linear": 1, "max_pool2d": 1, "mean": 1,
                               "reshape": 1}
    assert [(io["name"], io["shape"], io["layout"]) for io in graph["inputs"]] == [("x", [1, 3, 224, 224], "NCHW")]
    convs = [n for n in graph["nodes"] if n["op"] == "conv2d"]
    assert all(n["attrs"]["weight_layout"] == "OIHW" for n in convs)
    # the exporter folded batch norm into the convs: every conv got a bias
    assert all(len(n["inputs"]) == 3 for n in convs)
    # module paths and source lines come from the exporter's metadata
    assert [n["module"] for n in graph["nodes"] if n["op"] == "linear"] == ["fc"]
    adds = [n for n in graph["nodes"] if n["op"] == "add"]
    assert [n["module"] for n in adds][:2] == ["layer1.0", "layer1.1"]
    assert all(n["source"].startswith("torchvision/models/resnet.py:") for n in adds)


def test_resnet18_onnx_graph_computes_the_onnxruntime_output(resnet18_onnx_bundle):
    assert_interpreter_agrees(Path(resnet18_onnx_bundle["bundle"]))


def test_every_onnx_rule_agrees_with_onnxruntime(tmp_path):
    path = tmp_path / "coverage.onnx"
    onnx.save(coverage_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle", seed=3)
    graph = load_graph(result.path)
    assert [io["shape"] for io in graph["outputs"]] == [[2, 1, 3], [2, 4]]
    ops = node_ops(graph)
    assert ops["conv2d"] == 2 and ops["batch_norm"] == 1 and ops["linear"] == 2 and ops["split"] == 1
    by_name = {n["framework_ops"][0] + ":" + n["module"]: n for n in graph["nodes"]}
    assert by_name["onnx.Conv:stem.conv"]["attrs"]["padding"] == [0, 1, 1, 1]  # SAME_UPPER: the odd pixel after
    assert by_name["onnx.MaxPool:pool"]["attrs"]["ceil_mode"] is True
    assert by_name["onnx.AveragePool:avg"]["attrs"]["count_include_pad"] is True
    assert by_name["onnx.Pad:pad"]["attrs"] == {"pads": [[0, 0], [0, 0], [1, 0], [0, 2]], "value": 0.5}
    assert by_name["onnx.Clip:stem.act"]["attrs"] == {"min": 0.0, "max": 6.0}
    assert by_name["onnx.Div:proj"]["attrs"] == {"scalar": 3.0}
    # Gemm with transB = 0 and MatMul by a constant store their weight transposed, under a name that says so
    assert "gemm_b.T" in graph["tensors"] and graph["tensors"]["gemm_b.T"]["shape"] == [5, 4]
    assert "matmul_b.T" in graph["tensors"]
    assert assert_interpreter_agrees(result.path) < 1e-6


def test_unsupported_onnx_ops_are_all_listed_with_their_nodes(tmp_path):
    path = tmp_path / "odd.onnx"
    onnx.save(unsupported_model(), str(path))
    with pytest.raises(UnsupportedOpsError) as caught:
        capture_onnx_file(path, out=tmp_path / "bundle")
    listed = {(op.framework_op, op.module) for op in caught.value.ops}
    assert listed == {("onnx.Round", "features.act"), ("onnx.Hardmax", "head.hardmax")}
    assert not (tmp_path / "bundle").exists()
    assert_no_leftovers(tmp_path)


def test_symbolic_input_shape_needs_a_static_shape(tmp_path):
    path = tmp_path / "dynamic.onnx"
    onnx.save(symbolic_batch_model(), str(path))
    with pytest.raises(ModelInputError) as caught:
        capture_onnx_file(path, out=tmp_path / "refused")
    assert "symbolic shape [N, 3, 8, 8]" in caught.value.message and "--input-shape" in caught.value.hint
    result = capture_onnx_file(path, out=tmp_path / "fixed", input_shapes=[[2, 3, 8, 8]])
    graph = load_graph(result.path)
    assert graph["inputs"][0]["shape"] == [2, 3, 8, 8] and graph["outputs"][0]["shape"] == [2, 2, 8, 8]
    assert_interpreter_agrees(result.path)


def test_symbolic_shape_from_the_command_line(tmp_path):
    path = tmp_path / "dynamic.onnx"
    onnx.save(symbolic_batch_model(), str(path))
    code, events, _ = run_capture_cli([str(path), "--input-shape", "3x3x8x8", "--out", str(tmp_path / "b")], tmp_path)
    assert code == 0
    [result] = [e for e in events if e["event"] == "result"]
    assert result["data"]["inputs"] == [{"name": "x", "shape": [3, 3, 8, 8], "dtype": "float32"}]


def test_garbage_onnx_is_refused_without_a_traceback(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07not protobuf at all" * 20)
    code, events, stderr = run_capture_cli([str(path), "--out", str(tmp_path / "never")], tmp_path)
    assert code == 1
    [error] = [e for e in events if e["event"] == "error"]
    assert "not a readable ONNX model" in error["message"] and error["hint"]
    assert "Traceback" not in stderr and not (tmp_path / "never").exists()


def test_reference_input_is_seeded(resnet18_onnx_bundle):
    from safetensors.numpy import load_file

    reference = load_file(str(Path(resnet18_onnx_bundle["bundle"]) / "reference.safetensors"))
    expected = np.random.default_rng(1000).standard_normal((1, 3, 224, 224)).astype(np.float32)
    np.testing.assert_array_equal(reference["input.0"], expected)
