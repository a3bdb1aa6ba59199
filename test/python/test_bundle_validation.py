"""validate_bundle catches truncated, tampered and inconsistent bundles with a clear message."""
import json
import shutil

import pytest
import torch

import edgespec
import user_models
from edgespec import BundleError, validate_bundle


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    out = tmp_path_factory.mktemp("pristine") / "cnn"
    model = user_models.build_small_cnn().eval()
    return edgespec.capture(model, torch.randn(1, 3, 24, 24), out=out).path


@pytest.fixture
def bundle(pristine, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(pristine, copy)
    return copy


def edit_graph(bundle, change):
    graph = json.loads((bundle / "graph.json").read_text())
    change(graph)
    (bundle / "graph.json").write_text(json.dumps(graph))


def test_a_good_bundle_validates(bundle):
    graph = validate_bundle(bundle)
    assert graph["format"] == "edgespec.graph" and graph["weights"]["count"] == 18


def test_truncated_weights(bundle):
    path = bundle / "weights.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)
    assert f"weights.safetensors is {len(data) // 2} bytes but graph.json records {len(data)}: the file is truncated" \
        in caught.value.message
    assert caught.value.hint == "capture the model again to write a fresh bundle"


def test_tampered_weights(bundle):
    path = bundle / "weights.safetensors"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # one bit of one weight, same size
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="weights.safetensors has sha256 .* but graph.json records .*tampered"):
        validate_bundle(bundle)


def test_tampered_reference(bundle):
    path = bundle / "reference.safetensors"
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(BundleError, match="reference.safetensors has sha256"):
        validate_bundle(bundle)


def test_missing_file(bundle):
    (bundle / "weights.safetensors").unlink()
    with pytest.raises(BundleError, match="weights.safetensors is missing"):
        validate_bundle(bundle)


def test_weight_declared_with_another_shape(bundle):
    edit_graph(bundle, lambda g: g["tensors"]["classifier.weight"].update(shape=[10, 95]))
    with pytest.raises(BundleError, match=r"weight 'classifier.weight' is float32\[10, 96\] in weights.safetensors "
                                          r"but graph.json declares float32\[10, 95\]"):
        validate_bundle(bundle)


def test_node_reading_an_undeclared_tensor(bundle):
    edit_graph(bundle, lambda g: g["nodes"][3]["inputs"].__setitem__(0, "nowhere"))
    with pytest.raises(BundleError, match="reads 'nowhere', which is not a declared tensor"):
        validate_bundle(bundle)


def test_nodes_out_of_order(bundle):
    edit_graph(bundle, lambda g: g["nodes"].reverse())
    with pytest.raises(BundleError, match="before any node writes it"):
        validate_bundle(bundle)


def test_op_outside_the_vocabulary(bundle):
    edit_graph(bundle, lambda g: g["nodes"][0].update(op="conv3d"))
    with pytest.raises(BundleError, match="ops not in the vocabulary: conv3d"):
        validate_bundle(bundle)


def test_schema_violation(bundle):
    edit_graph(bundle, lambda g: (g.pop("op_inventory"), g["nodes"][0].update(framework_ops=[])))
    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)
    assert "does not follow the graph schema" in caught.value.message
    assert "'op_inventory' is a required property" in caught.value.message
    assert "at /nodes/0/framework_ops" in caught.value.message


def test_not_json(bundle):
    (bundle / "graph.json").write_text("{ not json")
    with pytest.raises(BundleError, match="graph.json is not valid JSON"):
        validate_bundle(bundle)


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="is not a directory"):
        validate_bundle(tmp_path / "nothing")
    with pytest.raises(BundleError, match="graph.json is missing"):
        validate_bundle(tmp_path)
