"""Models written the way a user would: an MLP, a small CNN that touches most of the
vocabulary, constants created in forward, several inputs and outputs."""
import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import load_file

import edgespec
import user_models
from dispatch_count import count_dispatched
from edgespec import validate_bundle
from edgespec.capture.torch.model_source import randomize_batchnorm
from numpy_interpreter import reference_outputs, run_bundle


def assert_interpreted_graph_matches(bundle):
    computed, reference = run_bundle(bundle), reference_outputs(bundle)
    assert len(computed) == len(reference)
    for got, want in zip(computed, reference):
        assert got.shape == want.shape
        assert np.abs(got - want).max() <= 1e-4 * max(np.abs(want).max(), 1e-6)


def test_mlp(tmp_path):
    model = user_models.build_mlp().eval()
    x = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    result = edgespec.capture(model, x, name="mlp", out=tmp_path / "mlp")
    graph = validate_bundle(result.path)
    assert [n["op"] for n in graph["nodes"]] == ["linear", "relu", "linear", "tanh", "linear", "softmax"]
    assert [n["module"] for n in graph["nodes"] if n["op"] == "linear"] == ["body.0", "body.3", "head"]
    assert [n["inputs"][1:] for n in graph["nodes"] if n["op"] == "linear"][0] == ["body.0.weight", "body.0.bias"]
    assert graph["op_inventory"] == count_dispatched(model, x)
    assert result.parameter_bytes == 4 * sum(p.numel() for p in model.parameters())
    assert_interpreted_graph_matches(result.path)


def test_small_cnn_covers_the_vocabulary(tmp_path):
    model = user_models.build_small_cnn().eval()
    randomize_batchnorm(model, 0)
    x = torch.randn(2, 3, 37, 41, generator=torch.Generator().manual_seed(0))
    result = edgespec.capture(model, x, out=tmp_path / "cnn")
    graph = validate_bundle(result.path)
    assert graph["name"] == "smallcnn"
    ops = {n["op"] for n in graph["nodes"]}
    assert ops >= {"conv2d", "batch_norm", "clamp", "gelu", "add", "sub", "mul", "div", "max_pool2d", "avg_pool2d",
                   "adaptive_avg_pool2d", "mean", "split", "concat", "hardswish", "hardsigmoid", "silu", "sigmoid",
                   "tanh", "pad", "reshape", "transpose", "linear", "matmul", "softmax"}
    nodes = {n["module"]: n for n in graph["nodes"] if n["module"]}
    assert nodes["dilated"]["attrs"] == {"stride": [1, 1], "padding": [2, 2, 2, 2], "dilation": [2, 2], "groups": 4,
                                         "weight_layout": "OIHW"}
    assert nodes["pool"]["attrs"]["ceil_mode"] is True
    assert nodes["avg"]["attrs"]["count_include_pad"] is False
    assert graph["tensors"]["offset"] == {"shape": [16], "dtype": "float32", "kind": "weight", "module": ""}
    assert graph["op_inventory"] == count_dispatched(model, x)
    assert_interpreted_graph_matches(result.path)


class WithConstants(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([0.5, 2.0, -1.0]))
        self.shift = torch.tensor([1.0, 0.0, -2.0])  # a plain tensor attribute, not in the state_dict

    def forward(self, x):
        return (x * self.scale + self.shift) * torch.tensor(3.0) - 1


def test_constants_are_stored_as_weights_with_clear_names(tmp_path):
    model = WithConstants().eval()
    x = torch.randn(4, 3)
    result = edgespec.capture(model, x, out=tmp_path / "constants")
    graph = validate_bundle(result.path)
    weights = {n for n, t in graph["tensors"].items() if t["kind"] == "weight"}
    assert weights == {"scale", "shift", "constant.lifted_tensor_0"}
    stored = load_file(str(result.path / "weights.safetensors"))
    np.testing.assert_array_equal(stored["shift"], [1.0, 0.0, -2.0])
    np.testing.assert_array_equal(stored["constant.lifted_tensor_0"], np.float32(3.0))
    assert_interpreted_graph_matches(result.path)


class TwoInTwoOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(5, 4)
        self.b = nn.Linear(3, 4)

    def forward(self, x, y):
        s = self.a(x) + self.b(y)
        return {"sum": s, "parts": (torch.relu(s), 2.0 - s)}


def test_several_inputs_and_outputs(tmp_path):
    model = TwoInTwoOut().eval()
    x, y = torch.randn(2, 5), torch.randn(2, 3)
    result = edgespec.capture(model, (x, y), name="two", out=tmp_path / "two")
    graph = validate_bundle(result.path)
    assert [io["name"] for io in graph["inputs"]] == ["x", "y"]
    assert graph["reference"] == {**graph["reference"], "inputs": ["input.0", "input.1"],
                                  "outputs": ["output.0", "output.1", "output.2"]}
    reference = load_file(str(result.path / "reference.safetensors"))
    with torch.no_grad():
        out = model(x, y)
    np.testing.assert_array_equal(reference["output.2"], out["parts"][1].numpy())
    assert_interpreted_graph_matches(result.path)


def test_transposed_weights_in_a_batched_matmul_become_linear(tmp_path):
    class Batched(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(6, 8)

        def forward(self, x):
            return self.proj(x.transpose(1, 2))  # a non-contiguous 3-D input: linear goes through bmm

    result = edgespec.capture(Batched().eval(), torch.randn(2, 6, 5), out=tmp_path / "batched")
    graph = validate_bundle(result.path)
    linear = [n for n in graph["nodes"] if n["op"] == "linear"]
    assert len(linear) == 1 and linear[0]["inputs"][1] == "proj.weight"
    assert_interpreted_graph_matches(result.path)


class Arithmetic(nn.Module):
    def forward(self, x, y):
        a = torch.add(x, y, alpha=2.0) - torch.sub(y, 3.0, alpha=0.5)
        b = torch.rsub(x, 1.5) + torch.rsub(y, x, alpha=3.0)
        return (2.0 - a) * (b / 4.0) + 3.0 * x


def test_arithmetic_with_numbers_and_alpha(tmp_path):
    x, y = torch.randn(2, 3), torch.randn(2, 3)
    result = edgespec.capture(Arithmetic().eval(), (x, y), out=tmp_path / "arith")
    graph = validate_bundle(result.path)
    assert {n["op"] for n in graph["nodes"]} == {"add", "sub", "mul", "div"}
    assert_interpreted_graph_matches(result.path)
