"""Issue 13 reductions, normalizations and tensor plumbing from PyTorch: each model captured
onto the vocabulary, agreeing with PyTorch in the NumPy interpreter, then built for the host
and run within 1e-4 of PyTorch."""
import json
import subprocess

import numpy as np
import pytest
import torch
import torch.nn as nn

import edgespec
from capture_helpers import REPO
from edgespec import validate_bundle
from numpy_interpreter import reference_outputs, run_bundle


def _cli(*args):
    return subprocess.run(["node", str(REPO / "bin" / "edgespec"), *args, "--json"], capture_output=True, text=True,
                          timeout=600, cwd=REPO)


def _result(proc):
    return [json.loads(line)["data"] for line in proc.stdout.splitlines()
            if line.startswith("{") and json.loads(line)["event"] == "result"]


def _capture(model, x, tmp_path_factory, name):
    torch.manual_seed(0)
    return edgespec.capture(model.eval(), x, name=name, out=tmp_path_factory.mktemp(name) / "bundle").path


def _interpreter_agrees(bundle):
    for got, want in zip(run_bundle(bundle), reference_outputs(bundle)):
        assert np.abs(got - want).max() <= 1e-5 * max(np.abs(want).max(), 1e-6)


def _host_agrees(bundle, build, kernels, target="host"):
    proc = _cli("build", str(bundle), "--target", target, "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    model_c = next(build.rglob("model.c")).read_text()
    for fn in kernels:
        assert fn in model_c, fn
    [report] = _result(_cli("run", str(build)))
    assert report["status"] == "ok", report
    assert report["agreement"]["max_abs_error"] <= 1e-4 * report["agreement"]["max_abs_reference"]
    return report


class ReduceNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)

    def forward(self, x):
        h = self.conv(x)
        pooled = h.sum(dim=(2, 3)) + torch.amax(h, dim=(2, 3)) - torch.amin(h, dim=(-1, -2))
        channel_max = torch.amax(h, dim=1, keepdim=True) * torch.amin(h, dim=1, keepdim=True)
        return pooled, channel_max, h.sum(1), h.sum(-1, keepdim=True)


@pytest.fixture(scope="module")
def reduce_bundle(tmp_path_factory):
    x = torch.randn(1, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    return _capture(ReduceNet(), x, tmp_path_factory, "reductions")


def test_reductions_are_captured_onto_the_vocabulary(reduce_bundle):
    graph = validate_bundle(reduce_bundle)
    by_op = {}
    for n in graph["nodes"]:
        by_op.setdefault(n["op"], []).append(n["attrs"])
    assert by_op["sum"] == [{"axes": [2, 3], "keepdim": False}, {"axes": [1], "keepdim": False}, {"axes": [3], "keepdim": True}]
    assert by_op["reduce_max"] == [{"axes": [2, 3], "keepdim": False}, {"axes": [1], "keepdim": True}]
    assert by_op["reduce_min"] == [{"axes": [2, 3], "keepdim": False}, {"axes": [1], "keepdim": True}]
    for aten in ("aten.sum.dim_IntList", "aten.amax.default", "aten.amin.default"):
        assert graph["op_inventory"][aten] >= 1, aten


def test_reductions_interpreter_agrees_with_pytorch(reduce_bundle):
    _interpreter_agrees(reduce_bundle)


def test_reductions_host_image_agrees_with_pytorch(reduce_bundle, tmp_path):
    _host_agrees(reduce_bundle, tmp_path / "build", ("es_sum_f32(", "es_reduce_max_f32(", "es_reduce_min_f32("))


def test_argmax_is_captured_and_its_int64_output_built_and_compared_exactly(tmp_path):
    """argmax's result is int64 in PyTorch; the image computes a float32 index over NHWC memory
    and stores it as int64 in the framework's order (es_cast_f32_i64), compared exactly."""
    class ArgNet(nn.Module):
        def forward(self, x):
            return torch.argmax(x, dim=1)

    x = torch.randn(1, 5, 4, 4, generator=torch.Generator().manual_seed(1))
    bundle = edgespec.capture(ArgNet().eval(), x, name="argmax", out=tmp_path / "bundle").path
    graph = validate_bundle(bundle)
    [node] = graph["nodes"]
    assert (node["op"], node["attrs"]) == ("argmax", {"axis": 1, "keepdim": False})
    _interpreter_agrees(bundle)
    assert graph["outputs"][0]["dtype"] == "int64"
    report = _host_agrees(bundle, tmp_path / "build", ("es_argmax_f32(", "es_cast_f32_i64("))
    assert report["agreement"]["exact_outputs"] == ["output.0"] and report["agreement"]["within_tolerance"]
    assert report["outputs"][0]["dtype"] == "int64"


class NormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.group = nn.GroupNorm(4, 8)
        self.instance = nn.InstanceNorm2d(8, affine=True)
        self.plain_instance = nn.InstanceNorm1d(8)
        self.channel_norm = nn.LayerNorm(8)
        self.layer = nn.LayerNorm([8, 5, 6], elementwise_affine=False)
        self.tokens = nn.LayerNorm(30)
        with torch.no_grad():
            for norm in (self.group, self.instance, self.channel_norm, self.tokens):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        h = self.conv(x)
        g = self.instance(self.group(h))
        c = self.channel_norm(g.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # ConvNeXt's channels-last LayerNorm
        whole = self.layer(c)
        tokens = self.tokens(self.plain_instance(whole.flatten(2)))
        return whole, tokens


@pytest.fixture(scope="module")
def norm_bundle(tmp_path_factory):
    x = torch.randn(1, 3, 5, 6, generator=torch.Generator().manual_seed(2))
    return _capture(NormNet(), x, tmp_path_factory, "norms")


def test_normalizations_are_captured_onto_the_vocabulary(norm_bundle):
    graph = validate_bundle(norm_bundle)
    norms = [(n["op"], n["attrs"], n["module"]) for n in graph["nodes"] if n["op"] in ("layer_norm", "group_norm")]
    assert norms == [
        ("group_norm", {"groups": 4, "eps": 1e-5}, "group"),
        ("group_norm", {"groups": 8, "eps": 1e-5}, "instance"),
        ("layer_norm", {"axis": 3, "eps": 1e-5}, "channel_norm"),
        ("layer_norm", {"axis": 1, "eps": 1e-5}, "layer"),
        ("group_norm", {"groups": 8, "eps": 1e-5}, "plain_instance"),
        ("layer_norm", {"axis": 2, "eps": 1e-5}, "tokens"),
    ]


def test_normalizations_interpreter_agrees_with_pytorch(norm_bundle):
    _interpreter_agrees(norm_bundle)


def test_normalizations_host_image_agrees_with_pytorch(norm_bundle, tmp_path):
    _host_agrees(norm_bundle, tmp_path / "build", ("es_group_norm_f32(", "es_layer_norm_f32("))


class PlumbingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.table = nn.Embedding(10, 5)
        self.register_buffer("ids", torch.tensor([[3, 1, 4]]))
        self.register_buffer("pick", torch.tensor([5, 0, 2]))

    def forward(self, x):
        h = self.conv(x)
        top = h[:, 1:5:2, ::2]  # slice.Tensor with steps on channels and rows
        row = h.select(2, -1)  # [1, 6, 6]
        band = torch.narrow(h, 3, 1, 3)
        wide = row.unsqueeze(2).expand(1, 6, 4, 6)
        tiled = band.repeat(1, 1, 2, 2)
        picked = torch.index_select(h, 1, self.pick)
        tokens = (self.table(self.ids) * h[:, 0, :3, :5]).repeat(2, 1, 1)  # embedding with constant indices
        return top, wide * h[:, :, :4], tiled, picked, tokens


@pytest.fixture(scope="module")
def plumbing_bundle(tmp_path_factory):
    x = torch.randn(1, 3, 5, 6, generator=torch.Generator().manual_seed(3))
    return _capture(PlumbingNet(), x, tmp_path_factory, "plumbing")


def test_plumbing_is_captured_onto_the_vocabulary(plumbing_bundle):
    graph = validate_bundle(plumbing_bundle)
    ops = [n["op"] for n in graph["nodes"]]
    assert {"slice", "expand", "tile", "gather"} <= set(ops)
    for aten in ("aten.slice.Tensor", "aten.select.int", "aten.expand.default", "aten.repeat.default",
                 "aten.index_select.default", "aten.embedding.default"):
        assert graph["op_inventory"][aten] >= 1, aten


def test_plumbing_interpreter_agrees_with_pytorch(plumbing_bundle):
    _interpreter_agrees(plumbing_bundle)


def test_plumbing_host_image_agrees_with_pytorch(plumbing_bundle, tmp_path):
    _host_agrees(plumbing_bundle, tmp_path / "build", ("es_strided_copy_f32(", "es_gather_f32("))


class WhereNet(nn.Module):
    """An attention-style mask (masked_fill with -inf before softmax) and a where between two tensors."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 6)
        self.register_buffer("causal", torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1))
        self.register_buffer("keep", torch.tensor([True, False, True, True, False, True]))

    def forward(self, x):
        scores = self.proj(x)
        masked = scores.masked_fill(self.causal, float("-inf")).softmax(-1)
        return torch.where(self.keep, masked, scores * 0.5)


def test_where_with_a_constant_condition_is_captured_built_and_agrees(tmp_path):
    x = torch.randn(1, 6, 6, generator=torch.Generator().manual_seed(4))
    bundle = edgespec.capture(WhereNet().eval(), x, name="where", out=tmp_path / "bundle").path
    graph = validate_bundle(bundle)
    assert [n["op"] for n in graph["nodes"]].count("where") == 2
    _interpreter_agrees(bundle)
    _host_agrees(bundle, tmp_path / "build", ("es_where_f32(",))


def test_as_strided_in_the_input_order_is_a_reshape_and_a_reordering_one_is_refused(tmp_path):
    class Restride(nn.Module):
        def forward(self, x):
            pooled = x.mean((-1, -2), keepdim=True)  # [1, 6, 1, 1]
            return torch.as_strided(pooled, (1, 6, 1, 1), (6, 1, 6, 6)) * 2  # ConvNeXt's channels-last restride

    class Reorder(nn.Module):
        def forward(self, x):
            return torch.as_strided(x.flatten(1), (1, 5, 6), (30, 1, 5))

    x = torch.randn(1, 6, 5, 5, generator=torch.Generator().manual_seed(5))
    bundle = edgespec.capture(Restride().eval(), x, name="restride", out=tmp_path / "ok").path
    assert "as_strided" not in {n["op"] for n in validate_bundle(bundle)["nodes"]}
    _interpreter_agrees(bundle)
    with pytest.raises(edgespec.UnsupportedOpsError, match="aten.as_strided.default"):
        edgespec.capture(Reorder().eval(), torch.randn(1, 6, 5), name="reorder", out=tmp_path / "refused")


def test_qemu_virt_images_of_the_normalizations_and_the_plumbing_agree(norm_bundle, plumbing_bundle, reduce_bundle, tmp_path):
    _host_agrees(norm_bundle, tmp_path / "norms", ("es_group_norm_f32(", "es_layer_norm_f32("), target="qemu-virt")
    _host_agrees(plumbing_bundle, tmp_path / "plumbing", ("es_strided_copy_f32(", "es_gather_f32("), target="qemu-virt")
    _host_agrees(reduce_bundle, tmp_path / "reduce", ("es_sum_f32(", "es_reduce_max_f32("), target="qemu-virt")


def test_a_constant_expand_feeds_a_concat_and_a_constant_index_select_folds(tmp_path):
    """ViT's class token: a parameter expanded and concatenated with computed tokens."""
    class ClassToken(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls = nn.Parameter(torch.randn(1, 1, 6))
            self.table = nn.Parameter(torch.randn(5, 6))
            self.register_buffer("rows", torch.tensor([4, 1]))

        def forward(self, x):
            tokens = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
            return tokens * torch.index_select(self.table, 0, self.rows)[:1]

    x = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(6))
    bundle = edgespec.capture(ClassToken().eval(), x, name="cls", out=tmp_path / "bundle").path
    ops = {n["op"] for n in validate_bundle(bundle)["nodes"]}
    assert "expand" in ops and "gather" not in ops
    _interpreter_agrees(bundle)
    _host_agrees(bundle, tmp_path / "build", ("es_concat_f32(", "es_strided_copy_f32("))


def test_index_with_constant_indices_folds_a_table_and_gathers_from_a_computed_tensor(tmp_path):
    class RelativeBias(nn.Module):
        """Swin's relative position bias: a parameter table indexed by a constant buffer."""

        def __init__(self):
            super().__init__()
            self.table = nn.Parameter(torch.randn(9, 2))
            self.register_buffer("index", torch.tensor([[0, 4, 8], [3, 1, 5], [2, 6, 7]]).reshape(-1))
            self.register_buffer("channels", torch.tensor([1, 0, 1]))

        def forward(self, x):  # x [1, 3, 3, 2]
            bias = self.table[self.index].reshape(3, 3, 2)
            return (x + bias)[..., self.channels]

    x = torch.randn(1, 3, 3, 2, generator=torch.Generator().manual_seed(7))
    bundle = edgespec.capture(RelativeBias().eval(), x, name="index", out=tmp_path / "bundle").path
    graph = validate_bundle(bundle)
    assert [n["op"] for n in graph["nodes"]].count("gather") == 1 and graph["op_inventory"]["aten.index.Tensor"] == 2
    _interpreter_agrees(bundle)
    _host_agrees(bundle, tmp_path / "build", ("es_gather_f32(",))
