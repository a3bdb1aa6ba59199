"""The six torchvision models capture into bundles that validate, cover all compute, count
the ops that were dispatched, and compute the framework's answer when interpreted."""
import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from capture_helpers import TORCHVISION_MODELS
from dispatch_count import count_dispatched
from edgespec import validate_bundle
from numpy_interpreter import reference_outputs, run_bundle


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_bundle_validates_and_holds_the_eager_reference(torchvision_capture, name):
    captured = torchvision_capture(name)
    graph = validate_bundle(captured.path)
    assert graph["name"] == name
    assert graph["source"]["entry"] == f"torchvision:{name}"
    assert [io["shape"] for io in graph["inputs"]] == [[1, 3, 224, 224]]
    assert [io["shape"] for io in graph["outputs"]] == [[1, 1000]]
    reference = load_file(str(captured.path / "reference.safetensors"))
    with torch.no_grad():
        eager = captured.model(*captured.inputs).numpy()
    np.testing.assert_array_equal(reference["input.0"], captured.inputs[0].numpy())
    np.testing.assert_array_equal(reference["output.0"], eager)
    assert captured.result.parameter_bytes == sum(a.nbytes for a in load_file(str(captured.path / "weights.safetensors")).values())


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_weights_keep_their_state_dict_names(torchvision_capture, name):
    captured = torchvision_capture(name)
    graph = validate_bundle(captured.path)
    weights = {n: t for n, t in graph["tensors"].items() if t["kind"] == "weight"}
    # num_batches_tracked is a training-only buffer that the inference graph never reads
    expected = {k for k in captured.model.state_dict() if not k.endswith("num_batches_tracked")}
    assert set(weights) == expected
    state = captured.model.state_dict()
    stored = load_file(str(captured.path / "weights.safetensors"))
    for tensor_name, tensor in weights.items():
        assert tensor["module"] == tensor_name.rsplit(".", 1)[0]
        np.testing.assert_array_equal(stored[tensor_name], state[tensor_name].numpy())


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_nodes_cover_every_layer(torchvision_capture, name):
    captured = torchvision_capture(name)
    graph = validate_bundle(captured.path)
    by_op = {}
    for node in graph["nodes"]:
        by_op.setdefault(node["op"], []).append(node)
        assert node["framework_ops"] and all(op.startswith("aten.") for op in node["framework_ops"])
    modules = dict(captured.model.named_modules())
    for module_type, op in ((torch.nn.Conv2d, "conv2d"), (torch.nn.Linear, "linear"), (torch.nn.BatchNorm2d, "batch_norm")):
        paths = sorted(p for p, m in modules.items() if isinstance(m, module_type))
        assert sorted(n["module"] for n in by_op.get(op, [])) == paths, op
    for node in by_op["conv2d"]:
        conv = modules[node["module"]]
        assert node["inputs"][1] == f"{node['module']}.weight"
        assert node["attrs"]["stride"] == list(conv.stride)
        assert node["attrs"]["groups"] == conv.groups
        assert node["attrs"]["padding"] == [conv.padding[0], conv.padding[1]] * 2
        assert node["attrs"]["weight_layout"] == "OIHW"
        assert node["source"].startswith("torchvision/")
    # the vocabulary removes identities: no clone, dropout or getitem survives as a node
    assert not {op for n in graph["nodes"] for op in n["framework_ops"]} & {"aten.clone.default", "aten.dropout.default"}


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_op_inventory_is_what_was_dispatched(torchvision_capture, name):
    captured = torchvision_capture(name)
    graph = validate_bundle(captured.path)
    assert graph["op_inventory"] == count_dispatched(captured.model, *captured.inputs)
    assert captured.result.op_inventory == graph["op_inventory"]


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_numpy_interpretation_of_the_graph_matches_the_reference(torchvision_capture, name):
    captured = torchvision_capture(name)
    (computed,), (reference,) = run_bundle(captured.path), reference_outputs(captured.path)
    scale = np.abs(reference).max()
    assert scale > 1e-3, "batch norms randomized, so the output is not degenerate"
    assert np.abs(computed - reference).max() <= 1e-4 * scale
    assert computed.argmax() == reference.argmax()


def test_the_six_models_need_seventeen_vocabulary_ops(torchvision_capture):
    used = set()
    for name in TORCHVISION_MODELS:
        used |= {node["op"] for node in validate_bundle(torchvision_capture(name).path)["nodes"]}
    assert used == {"conv2d", "batch_norm", "clamp", "add", "mean", "reshape", "linear", "hardswish", "relu",
                    "hardsigmoid", "mul", "max_pool2d", "concat", "transpose", "split", "silu", "sigmoid"}
