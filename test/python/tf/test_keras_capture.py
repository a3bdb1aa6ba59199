"""Keras models captured from the command line (keras:MobileNetV2) and from notebook cells
(%%edgespec trace over model(x) and model.predict(x)), plus the cell-level errors."""
from __future__ import annotations

from pathlib import Path

from bundle_checks import assert_interpreter_agrees, assert_no_leftovers, load_graph, node_ops

MOBILENET_V2_TFLITE_OPS = {"tflite.CONV_2D": 35, "tflite.DEPTHWISE_CONV_2D": 17, "tflite.ADD": 10,
                           "tflite.MEAN": 1, "tflite.FULLY_CONNECTED": 1, "tflite.SOFTMAX": 1}


def test_mobilenet_v2_from_the_cli_is_a_valid_nhwc_bundle(keras_mobilenet_v2):
    bundle = Path(keras_mobilenet_v2["bundle"])
    graph = load_graph(bundle)
    assert graph["source"]["framework"] == "tensorflow"
    assert graph["source"]["entry"] == "keras:MobileNetV2"
    assert graph["op_inventory"] == MOBILENET_V2_TFLITE_OPS
    assert keras_mobilenet_v2["op_inventory"] == MOBILENET_V2_TFLITE_OPS
    assert [(io["shape"], io["layout"]) for io in graph["inputs"]] == [([1, 224, 224, 3], "NHWC")]
    assert [io["shape"] for io in graph["outputs"]] == [[1, 1000]]
    assert node_ops(graph) == {"conv2d": 52, "add": 10, "mean": 1, "linear": 1, "softmax": 1}
    # 3.5 M parameters, all float32, as Keras counts them once batch norm is folded
    assert 13_900_000 < keras_mobilenet_v2["parameter_bytes"] < 14_000_000


def test_mobilenet_v2_depthwise_and_fused_relu6_are_mapped_as_tflite_wrote_them(keras_mobilenet_v2):
    graph = load_graph(Path(keras_mobilenet_v2["bundle"]))
    convs = [n for n in graph["nodes"] if n["op"] == "conv2d"]
    depthwise = [n for n in convs if n["attrs"]["weight_layout"] == "1HWO"]
    assert len(depthwise) == 17
    for node in depthwise:
        channels = graph["tensors"][node["inputs"][0]]["shape"][3]
        assert node["attrs"]["groups"] == channels
        assert graph["tensors"][node["inputs"][1]]["shape"][0] == 1
        assert node["framework_ops"] == ["tflite.DEPTHWISE_CONV_2D"]
    # ReLU6 after every expansion and depthwise conv; none after the linear bottleneck projections
    assert {n["attrs"].get("activation") for n in convs if n["module"].endswith("_project")} == {None}
    assert {n["attrs"].get("activation") for n in convs if n["module"].endswith("_depthwise")} == {"relu6"}
    # SAME padding of the stride-2 3x3 convs is explicit and asymmetric (TensorFlow puts the odd pixel after)
    first = convs[0]
    assert first["module"] == "Conv1"
    assert first["attrs"]["stride"] == [2, 2] and first["attrs"]["padding"] == [0, 0, 1, 1]


def test_mobilenet_v2_nodes_name_their_keras_layers(keras_mobilenet_v2):
    graph = load_graph(Path(keras_mobilenet_v2["bundle"]))
    convs = [n["module"] for n in graph["nodes"] if n["op"] == "conv2d"]
    assert len(set(convs)) == 52 and "" not in convs
    assert {"Conv1", "expanded_conv_depthwise", "expanded_conv_project", "block_16_project", "Conv_1"} <= set(convs)
    assert [n["module"] for n in graph["nodes"] if n["op"] == "linear"] == ["predictions"]
    adds = [n["module"] for n in graph["nodes"] if n["op"] == "add"]
    assert all(module.endswith("_add") for module in adds), adds


def test_mobilenet_v2_graph_computes_the_keras_output(keras_mobilenet_v2):
    assert_interpreter_agrees(Path(keras_mobilenet_v2["bundle"]))


def test_cnn_cell_is_captured_with_its_real_input_and_output(notebook_cells):
    summary = notebook_cells["cnn"]
    assert "error" not in summary
    [model] = summary["models"]
    assert model["name"] == "cnn" and model["framework"] == "tensorflow" and model["model_class"] == "Sequential"
    assert model["calls"] == 2  # cnn(x) and cnn.predict(x): captured from the first
    assert model["inputs"] == [{"shape": [1, 28, 28, 1], "dtype": "float32"}]
    assert model["outputs"] == [{"shape": [1, 10], "dtype": "float32"}]
    assert all(row["supported"] for row in model["ops"])
    # the TensorFlow ops model(x) dispatched eagerly, counted while the cell ran
    eager = model["tensorflow_ops"]["eager"]
    assert eager["tf.Conv2D"] == 2 and eager["tf.MatMul"] == 2 and eager["tf.MaxPool"] == 1
    graph = load_graph(Path(model["bundle"]))
    assert graph["source"]["entry"] == "notebook cell"
    assert graph["op_inventory"] == {row["framework_op"]: row["count"] for row in model["ops"]}


def test_cnn_cell_graph_keeps_keras_semantics(notebook_cells):
    graph = load_graph(Path(notebook_cells["cnn"]["models"][0]["bundle"]))
    nodes = graph["nodes"]
    assert [n["op"] for n in nodes] == ["conv2d", "max_pool2d", "conv2d", "mul", "add", "avg_pool2d", "reshape",
                                        "linear", "linear"]
    assert [n["module"] for n in nodes] == ["conv2d", "max_pooling2d", "conv2d_1", "batch_normalization",
                                            "batch_normalization", "average_pooling2d", "flatten", "dense", "dense_1"]
    assert nodes[0]["attrs"]["activation"] == "relu" and nodes[0]["attrs"]["padding"] == [1, 1, 1, 1]
    # SAME with stride 2 over an even size (14 -> 7): the one pixel of padding goes after
    assert nodes[2]["attrs"]["stride"] == [2, 2] and nodes[2]["attrs"]["padding"] == [0, 0, 1, 1]
    # SAME average pooling over an odd size (7 -> 4): padding after only, dividing by the cells inside
    assert nodes[5]["attrs"]["padding"] == [0, 0, 1, 1] and nodes[5]["attrs"]["count_include_pad"] is False
    assert nodes[6]["attrs"]["shape"] == [1, 256]  # Flatten of NHWC, in NHWC order
    assert nodes[7]["attrs"] == {"activation": "relu"} and nodes[8]["attrs"] == {}
    assert_interpreter_agrees(Path(notebook_cells["cnn"]["models"][0]["bundle"]))


def test_predict_cell_is_captured_with_its_batch(notebook_cells):
    [model] = notebook_cells["predict"]["models"]
    assert model["name"] == "tower" and "error" not in model
    assert model["inputs"] == [{"shape": [4, 12, 12, 3], "dtype": "float32"}]
    # predict runs a tf.function: its ops are counted when it is traced
    assert model["tensorflow_ops"]["traced"]["tf.DepthwiseConv2dNative"] == 1
    graph = load_graph(Path(model["bundle"]))
    assert graph["inputs"][0]["shape"] == [4, 12, 12, 3]
    assert node_ops(graph) == {"conv2d": 3, "add": 1, "mean": 1}
    assert_interpreter_agrees(Path(model["bundle"]))


def test_every_tflite_rule_keeps_keras_semantics(notebook_cells):
    [model] = notebook_cells["coverage"]["models"]
    assert "error" not in model, model.get("error")
    graph = load_graph(Path(model["bundle"]))
    assert set(graph["op_inventory"]) == {
        "tflite.DEPTHWISE_CONV_2D", "tflite.CONV_2D", "tflite.ADD", "tflite.TANH", "tflite.MAX_POOL_2D",
        "tflite.AVERAGE_POOL_2D", "tflite.CONCATENATION", "tflite.PAD", "tflite.LOGISTIC", "tflite.HARD_SWISH",
        "tflite.GELU", "tflite.SPLIT_V", "tflite.MEAN", "tflite.MUL", "tflite.TRANSPOSE", "tflite.RESHAPE",
        "tflite.FULLY_CONNECTED", "tflite.SUB", "tflite.SOFTMAX"}
    depthwise = [n for n in graph["nodes"] if n["framework_ops"] == ["tflite.DEPTHWISE_CONV_2D"]]
    assert [(n["attrs"]["groups"], n["attrs"]["weight_layout"], n["attrs"]["activation"]) for n in depthwise] == [
        (6, "1HWO", "relu6")]
    assert graph["tensors"][depthwise[0]["inputs"][1]]["shape"] == [1, 3, 3, 12]  # multiplier 2
    grouped = [n for n in graph["nodes"] if n["op"] == "conv2d" and n["attrs"]["groups"] == 3]
    assert len(grouped) == 1 and grouped[0]["attrs"]["dilation"] == [2, 2]
    assert_interpreter_agrees(Path(model["bundle"]))


def test_unsupported_ops_are_all_listed_with_their_layers_and_no_bundle_is_left(notebook_cells, work_dir):
    summary = notebook_cells["unsupported"]
    [model] = summary["models"]
    assert model["bundle"] is None
    assert model["error"]["code"] == "unsupported_ops"
    listed = {(u["framework_op"], u["module"]) for u in summary["unsupported"]}
    assert listed == {("tflite.SIN", "sine"), ("tflite.FLOOR", "floored")}
    assert "tflite.SIN" in model["error"]["message"] and "'floored'" in model["error"]["message"]
    assert {row["framework_op"]: row["supported"] for row in model["ops"]} == {
        "tflite.CONV_2D": True, "tflite.RESHAPE": True, "tflite.SIN": False, "tflite.FLOOR": False}
    assert notebook_cells["unsupported"]["out_listing"] == []
    assert_no_leftovers(work_dir / "cells" / "unsupported")


def test_cell_without_a_model_call_says_so(notebook_cells):
    summary = notebook_cells["no_model"]
    assert summary["models"] == []
    assert summary["error"]["code"] == "no_model_call"
    assert "Keras" in summary["error"]["message"]


def test_training_mode_call_is_refused(notebook_cells):
    [model] = notebook_cells["training"]["models"]
    assert model["bundle"] is None
    assert "training=True" in model["error"]["message"]
    assert "training=False" in model["error"]["hint"]
    assert notebook_cells["training"]["out_listing"] == []


def test_python_api_captures_the_same_graph_as_the_cell(notebook_cells):
    api = load_graph(Path(notebook_cells["api"]["bundle"]))
    cell = load_graph(Path(notebook_cells["cnn"]["models"][0]["bundle"]))
    assert api["source"]["framework"] == "tensorflow" and api["name"] == "cnn_api"
    assert api["nodes"] == cell["nodes"] and api["op_inventory"] == cell["op_inventory"]
    assert api["weights"]["sha256"] == cell["weights"]["sha256"]
