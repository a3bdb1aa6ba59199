"""Issue 13's windows and resampling, captured from PyTorch and ONNX, compared with the
framework in the NumPy interpreter and built for the host and run.

1-D windows: nn.Conv1d (stride, padding, dilation, groups), nn.MaxPool1d, nn.AvgPool1d and
nn.BatchNorm1d over [N, C, L] and [N, C], and the ONNX Conv / MaxPool / AveragePool /
BatchNormalization of rank-3 inputs, become the 2-D ops over [N, C, 1, L]
(capture/window_1d.py)."""
import json
import subprocess

import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

import edgespec
from capture_helpers import REPO
from edgespec import validate_bundle
from edgespec.capture.onnx.capture import capture_onnx_file
from numpy_interpreter import reference_outputs, run_bundle


def _cli(*args):
    return subprocess.run(["node", str(REPO / "bin" / "edgespec"), *args, "--json"], capture_output=True, text=True,
                          timeout=600, cwd=REPO)


def _result(proc):
    return [json.loads(line)["data"] for line in proc.stdout.splitlines()
            if line.startswith("{") and json.loads(line)["event"] == "result"]


def _build_and_run(bundle, out, *kernels):
    proc = _cli("build", str(bundle), "--target", "host", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    model_c = next(out.rglob("model.c")).read_text()
    for fn in kernels:
        assert fn in model_c, fn
    [report] = _result(_cli("run", str(out)))
    assert report["status"] == "ok", report
    assert report["agreement"]["max_abs_error"] <= 1e-4 * report["agreement"]["max_abs_reference"], report["agreement"]
    return model_c


def _interpreter_agrees(bundle, rel=1e-5):
    for got, want in zip(run_bundle(bundle), reference_outputs(bundle)):
        assert got.shape == want.shape
        assert np.abs(got - want).max() <= rel * np.abs(want).max()


# ----- 1-D windows from PyTorch -----
class Audio1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 5, stride=2, padding=2)
        self.bn = nn.BatchNorm1d(6)
        self.pool = nn.MaxPool1d(3, stride=2, padding=1, dilation=1)
        self.dw = nn.Conv1d(6, 6, 3, padding=2, dilation=2, groups=3, bias=False)
        self.bn_alone = nn.BatchNorm1d(6)
        self.avg = nn.AvgPool1d(2, stride=2, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(18, 5)
        self.bn_flat = nn.BatchNorm1d(5)
        for bn in (self.bn, self.bn_alone, self.bn_flat):
            with torch.no_grad():
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.2, 0.2)

    def forward(self, x):
        h = self.pool(torch.relu(self.bn(self.conv(x))))
        h = self.avg(self.bn_alone(torch.relu(self.dw(h))))
        flat = self.bn_flat(self.fc(torch.flatten(h, 1)))
        return h, torch.relu(flat)


@pytest.fixture(scope="module")
def audio_bundle(tmp_path_factory):
    torch.manual_seed(0)
    model = Audio1d().eval()
    x = torch.randn(1, 4, 24, generator=torch.Generator().manual_seed(1))
    return edgespec.capture(model, x, name="audio1d", out=tmp_path_factory.mktemp("a1d") / "bundle").path


def test_torch_1d_windows_become_2d_ops_over_a_unit_height(audio_bundle):
    graph = validate_bundle(audio_bundle)
    convs = [n for n in graph["nodes"] if n["op"] == "conv2d"]
    assert [(n["attrs"]["stride"], n["attrs"]["padding"], n["attrs"]["dilation"], n["attrs"]["groups"]) for n in convs] == [
        ([1, 2], [0, 2, 0, 2], [1, 1], 1), ([1, 1], [0, 2, 0, 2], [1, 2], 3)]
    assert [graph["tensors"][n["inputs"][1]]["shape"] for n in convs] == [[6, 4, 1, 5], [6, 2, 1, 3]]
    norms = [n for n in graph["nodes"] if n["op"] == "batch_norm"]
    assert [graph["tensors"][n["inputs"][0]]["shape"] for n in norms] == [[1, 6, 1, 12], [1, 6, 1, 6], [1, 5]]
    assert {n["op"] for n in graph["nodes"]} >= {"max_pool2d", "avg_pool2d", "reshape", "linear"}


def test_torch_1d_windows_agree_in_the_interpreter(audio_bundle):
    _interpreter_agrees(audio_bundle)


def test_torch_1d_windows_build_and_agree_on_the_host(audio_bundle, tmp_path):
    model_c = _build_and_run(audio_bundle, tmp_path / "build", "es_conv2d", "es_scale_shift_f32(")
    # the batch norms after the convolution and after the linear fold into them; the one after a ReLU stays
    assert model_c.count("es_scale_shift_f32(") == 1


# ----- 1-D windows from ONNX -----
def _init(name, array):
    return numpy_helper.from_array(np.asarray(array, np.float32), name)


def onnx_1d_model() -> onnx.ModelProto:
    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[2], pads=[1, 2], dilations=[1], group=1),
        helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"], epsilon=1e-3),
        helper.make_node("MaxPool", ["n"], ["p"], kernel_shape=[3], strides=[1], auto_pad="SAME_UPPER"),
        helper.make_node("Conv", ["p", "dw"], ["d"], group=6, kernel_shape=[3], dilations=[2], pads=[2, 2]),
        helper.make_node("AveragePool", ["d"], ["y"], kernel_shape=[3], strides=[2], pads=[1, 1],
                         count_include_pad=1),
    ]
    inits = [_init("w", rng.normal(size=(6, 3, 4)) * 0.3), _init("b", rng.normal(size=6) * 0.1),
             _init("g", rng.uniform(0.5, 1.5, 6)), _init("beta", rng.normal(size=6) * 0.1),
             _init("mean", rng.normal(size=6) * 0.2), _init("var", rng.uniform(0.5, 2, 6)),
             _init("dw", rng.normal(size=(6, 1, 3)) * 0.5)]
    graph = helper.make_graph(nodes, "one_d", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 20])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_onnx_1d_windows_capture_build_and_agree(tmp_path):
    path = tmp_path / "one_d.onnx"
    onnx.save(onnx_1d_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = validate_bundle(result.path)
    ops = [n["op"] for n in graph["nodes"]]
    assert ops.count("conv2d") == 2 and ops.count("batch_norm") == 1
    assert {"max_pool2d", "avg_pool2d"} <= set(ops)
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_conv2d")


# ----- conv_transpose2d -----
class UpNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
        self.grouped = nn.ConvTranspose2d(6, 4, 3, stride=1, padding=2, dilation=2, groups=2, bias=False)
        self.odd = nn.ConvTranspose2d(4, 3, (2, 3), stride=(3, 2), padding=(0, 1), output_padding=(2, 1))

    def forward(self, x):
        return self.odd(torch.relu(self.grouped(torch.relu(self.up(x)))))


@pytest.fixture(scope="module")
def up_bundle(tmp_path_factory):
    torch.manual_seed(0)
    x = torch.randn(1, 4, 5, 6, generator=torch.Generator().manual_seed(2))
    return edgespec.capture(UpNet().eval(), x, name="up", out=tmp_path_factory.mktemp("up") / "bundle").path


def test_torch_conv_transpose2d_is_captured_and_agrees(up_bundle, tmp_path):
    graph = validate_bundle(up_bundle)
    nodes = [n for n in graph["nodes"] if n["op"] == "conv_transpose2d"]
    assert [n["attrs"] for n in nodes] == [
        {"stride": [2, 2], "padding": [1, 1, 1, 1], "output_padding": [1, 1], "dilation": [1, 1], "groups": 1, "weight_layout": "IOHW"},
        {"stride": [1, 1], "padding": [2, 2, 2, 2], "output_padding": [0, 0], "dilation": [2, 2], "groups": 2, "weight_layout": "IOHW"},
        {"stride": [3, 2], "padding": [0, 1, 0, 1], "output_padding": [2, 1], "dilation": [1, 1], "groups": 1, "weight_layout": "IOHW"}]
    _interpreter_agrees(up_bundle)
    assert _build_and_run(up_bundle, tmp_path / "build", "es_conv_transpose2d_f32(").count("es_conv_transpose2d_f32(") == 3


def onnx_conv_transpose_model() -> onnx.ModelProto:
    rng = np.random.default_rng(4)
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w1", "b1"], ["a"], strides=[2, 2], pads=[1, 0, 2, 1],
                         output_padding=[1, 1]),
        helper.make_node("ConvTranspose", ["a", "w2"], ["b"], strides=[2, 2], output_shape=[13, 22]),
        helper.make_node("ConvTranspose", ["b", "w3"], ["y"], strides=[2, 1], auto_pad="SAME_UPPER", group=2),
    ]
    inits = [_init("w1", rng.normal(size=(3, 4, 3, 3)) * 0.3), _init("b1", rng.normal(size=4) * 0.1),
             _init("w2", rng.normal(size=(4, 4, 2, 3)) * 0.3), _init("w3", rng.normal(size=(4, 1, 3, 2)) * 0.3)]
    graph = helper.make_graph(nodes, "ct", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_onnx_conv_transpose_capture_build_and_agree(tmp_path):
    path = tmp_path / "ct.onnx"
    onnx.save(onnx_conv_transpose_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = validate_bundle(result.path)
    assert [n["op"] for n in graph["nodes"]].count("conv_transpose2d") == 3
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_conv_transpose2d_f32(")


# ----- depth_to_space / pixel_shuffle -----
def onnx_depth_to_space_model() -> onnx.ModelProto:
    rng = np.random.default_rng(5)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("DepthToSpace", ["c"], ["crd"], blocksize=2, mode="CRD"),
        helper.make_node("DepthToSpace", ["c"], ["dcr"], blocksize=2, mode="DCR"),
        helper.make_node("Add", ["crd", "dcr"], ["both"]),
        helper.make_node("SpaceToDepth", ["both"], ["y"], blocksize=2),
    ]
    graph = helper.make_graph(nodes, "d2s", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("crd", TensorProto.FLOAT, None)],
                              [_init("w", rng.normal(size=(8, 3, 3, 3)) * 0.3)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_onnx_depth_to_space_modes_capture_build_and_agree(tmp_path):
    path = tmp_path / "d2s.onnx"
    onnx.save(onnx_depth_to_space_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = validate_bundle(result.path)
    assert [n["attrs"]["perm"] for n in graph["nodes"] if n["op"] == "transpose"] == [
        [0, 1, 4, 2, 5, 3], [0, 3, 4, 1, 5, 2], [0, 3, 5, 1, 2, 4]]
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_transpose_f32(")


class Shuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 3, padding=1)

    def forward(self, x):
        y = nn.functional.pixel_shuffle(self.conv(x), 2)
        return y, nn.functional.pixel_unshuffle(y, 2)


def test_torch_pixel_shuffle_builds_and_agrees(tmp_path):
    x = torch.randn(1, 3, 4, 5, generator=torch.Generator().manual_seed(6))
    bundle = edgespec.capture(Shuffle().eval(), x, name="shuffle", out=tmp_path / "bundle").path
    _interpreter_agrees(bundle)
    _build_and_run(bundle, tmp_path / "build", "es_transpose_f32(")


# ----- resize -----
class Resizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        h = self.conv(x)
        F = nn.functional
        return (F.interpolate(h, scale_factor=2, mode="nearest"),
                F.interpolate(h, size=(7, 9), mode="nearest"),
                F.interpolate(h, scale_factor=1.5, mode="nearest-exact"),
                F.interpolate(h, scale_factor=1.5, mode="bilinear", align_corners=False),
                F.interpolate(h, size=(9, 7), mode="bilinear", align_corners=True),
                F.interpolate(h, size=(3, 4), mode="bilinear", align_corners=False),
                nn.Upsample(scale_factor=2, mode="bilinear")(h))


@pytest.fixture(scope="module")
def resize_bundle(tmp_path_factory):
    torch.manual_seed(0)
    x = torch.randn(1, 3, 5, 6, generator=torch.Generator().manual_seed(7))
    return edgespec.capture(Resizer().eval(), x, name="resize", out=tmp_path_factory.mktemp("rs") / "bundle").path


def test_torch_upsample_is_captured_as_resize_and_agrees(resize_bundle, tmp_path):
    graph = validate_bundle(resize_bundle)
    attrs = [n["attrs"] for n in graph["nodes"] if n["op"] == "resize"]
    assert [(a["mode"], a["coordinate_transformation"], a.get("scale")) for a in attrs] == [
        ("nearest", "asymmetric", [2.0, 2.0]), ("nearest", "asymmetric", None),
        ("nearest", "tf_half_pixel_for_nn", [1.5, 1.5]), ("bilinear", "pytorch_half_pixel", [1.5, 1.5]),
        ("bilinear", "align_corners", None), ("bilinear", "pytorch_half_pixel", None),
        ("bilinear", "pytorch_half_pixel", [2.0, 2.0])]
    _interpreter_agrees(resize_bundle)
    model_c = _build_and_run(resize_bundle, tmp_path / "build", "es_resize_nearest_f32(", "es_resize_bilinear_f32(")
    assert model_c.count("es_resize_bilinear_f32(") == 4


def test_calibrated_int8_resize_runs_the_int8_nearest_kernel(resize_bundle, tmp_path):
    build = tmp_path / "build"
    proc = _cli("build", str(resize_bundle), "--target", "host", "--dtype", "int8", "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert next(build.rglob("model.c")).read_text().count("es_resize_nearest_s8(") == 3
    [report] = _result(_cli("run", str(build)))
    assert report["status"] == "ok", report
    assert report["agreement"]["max_abs_error"] <= 0.05 * report["agreement"]["max_abs_reference"]


def onnx_resize_model(opset: int = 13) -> onnx.ModelProto:
    rng = np.random.default_rng(8)
    empty = numpy_helper.from_array(np.zeros(0, np.float32), "none")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1])]
    outputs = []

    def resize(name, mode, coordinates, scales=None, sizes=None, nearest=None):
        inputs = ["c", "none", f"{name}_scales" if scales is not None else ""]
        if sizes is not None:
            inputs.append(f"{name}_sizes")
        kwargs = {"mode": mode, "coordinate_transformation_mode": coordinates}
        if nearest:
            kwargs["nearest_mode"] = nearest
        nodes.append(helper.make_node("Resize", inputs, [name], **kwargs))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
        consts = []
        if scales is not None:
            consts.append(numpy_helper.from_array(np.asarray(scales, np.float32), f"{name}_scales"))
        if sizes is not None:
            consts.append(numpy_helper.from_array(np.asarray(sizes, np.int64), f"{name}_sizes"))
        return consts

    inits = [_init("w", rng.normal(size=(2, 3, 3, 3)) * 0.3), empty]
    inits += resize("half_pixel", "nearest", "half_pixel", scales=[1, 1, 2, 2])
    inits += resize("ceil", "nearest", "asymmetric", scales=[1, 1, 1.5, 2.5], nearest="ceil")
    inits += resize("prefer_ceil", "nearest", "align_corners", sizes=[1, 2, 9, 11], nearest="round_prefer_ceil")
    inits += resize("linear", "linear", "half_pixel", scales=[1, 1, 1.7, 0.6])
    inits += resize("corners", "linear", "align_corners", sizes=[1, 2, 8, 3])
    inits += resize("pytorch", "linear", "pytorch_half_pixel", sizes=[1, 2, 1, 9])
    inits += resize("tf_nn", "nearest", "tf_half_pixel_for_nn", scales=[1, 1, 3, 2], nearest="floor")
    graph = helper.make_graph(nodes, "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                              outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def test_onnx_resize_modes_capture_build_and_agree(tmp_path):
    path = tmp_path / "resize.onnx"
    onnx.save(onnx_resize_model(), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = validate_bundle(result.path)
    assert [n["op"] for n in graph["nodes"]].count("resize") == 7
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_resize_nearest_f32(", "es_resize_bilinear_f32(")


def test_onnx_upsample_opset_9_capture_build_and_agree(tmp_path):
    nodes = [helper.make_node("Upsample", ["x", "scales"], ["near"], mode="nearest"),
             helper.make_node("Upsample", ["x", "scales"], ["lin"], mode="linear")]
    graph = helper.make_graph(nodes, "upsample", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 4])],
                              [helper.make_tensor_value_info("near", TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("lin", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(np.asarray([1, 1, 2, 1.5], np.float32), "scales")])
    path = tmp_path / "upsample.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], ir_version=8), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_resize_nearest_f32(", "es_resize_bilinear_f32(")


# ----- reflect and replicate padding -----
class Padder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.reflect = nn.ReflectionPad2d((1, 2, 2, 1))
        self.replicate = nn.ReplicationPad2d(2)
        self.conv1d = nn.Conv1d(3, 2, 3)

    def forward(self, x, s):
        h = self.conv(self.reflect(x))
        r = self.replicate(h)
        seq = nn.functional.pad(self.conv1d(s), (3, 1), mode="reflect")
        return r, nn.functional.pad(h, (1, 1, 0, 2), mode="replicate"), seq, nn.functional.pad(s, (2, 4), mode="replicate")


def test_torch_reflect_and_replicate_padding_capture_build_and_agree(tmp_path):
    x = torch.randn(1, 3, 6, 7, generator=torch.Generator().manual_seed(9))
    s = torch.randn(1, 3, 10, generator=torch.Generator().manual_seed(10))
    bundle = edgespec.capture(Padder().eval(), (x, s), name="pads", out=tmp_path / "bundle").path
    graph = validate_bundle(bundle)
    modes = sorted(n["attrs"].get("mode", "constant") for n in graph["nodes"] if n["op"] == "pad")
    assert modes == ["edge", "edge", "edge", "reflect", "reflect"]
    _interpreter_agrees(bundle)
    assert _build_and_run(bundle, tmp_path / "build", "es_pad_mirror_f32(").count("es_pad_mirror_f32(") == 5


def test_onnx_pad_modes_capture_build_and_agree(tmp_path):
    nodes = [helper.make_node("Pad", ["x", "p1"], ["reflect"], mode="reflect"),
             helper.make_node("Pad", ["x", "p2"], ["edge"], mode="edge"),
             helper.make_node("Pad", ["x", "p2", "value"], ["constant"], mode="constant")]
    inits = [numpy_helper.from_array(np.asarray([0, 0, 2, 1, 0, 0, 1, 3], np.int64), "p1"),
             numpy_helper.from_array(np.asarray([0, 1, 3, 0, 0, 0, 1, 2], np.int64), "p2"),
             numpy_helper.from_array(np.asarray(0.5, np.float32), "value")]
    graph = helper.make_graph(nodes, "pads", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 5])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("reflect", "edge", "constant")],
                              inits)
    path = tmp_path / "pads.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_pad_mirror_f32(", "es_pad_f32(")


# ----- 1-D transposed convolution (over [N, C, 1, L]) -----
class Up1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1, output_padding=1)
        self.grouped = nn.ConvTranspose1d(6, 2, 3, dilation=2, groups=2, bias=False)

    def forward(self, x):
        return self.grouped(torch.relu(self.up(x)))


def test_torch_conv_transpose1d_builds_and_agrees(tmp_path):
    x = torch.randn(1, 4, 9, generator=torch.Generator().manual_seed(12))
    bundle = edgespec.capture(Up1d().eval(), x, name="up1d", out=tmp_path / "bundle").path
    graph = validate_bundle(bundle)
    nodes = [n for n in graph["nodes"] if n["op"] == "conv_transpose2d"]
    assert [graph["tensors"][n["inputs"][1]]["shape"] for n in nodes] == [[4, 3 * 2, 1, 4], [6, 1, 1, 3]]
    assert nodes[0]["attrs"]["output_padding"] == [0, 1] and nodes[1]["attrs"]["dilation"] == [1, 2]
    _interpreter_agrees(bundle)
    _build_and_run(bundle, tmp_path / "build", "es_conv_transpose2d_f32(")


def test_onnx_conv_transpose1d_capture_build_and_agree(tmp_path):
    rng = np.random.default_rng(13)
    nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["a"], strides=[3], pads=[1, 2], output_padding=[1]),
             helper.make_node("ConvTranspose", ["a", "w2"], ["y"], strides=[2], auto_pad="SAME_UPPER", group=2)]
    inits = [_init("w", rng.normal(size=(3, 4, 4)) * 0.3), _init("b", rng.normal(size=4) * 0.1),
             _init("w2", rng.normal(size=(4, 1, 3)) * 0.3)]
    graph = helper.make_graph(nodes, "ct1d", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    path = tmp_path / "ct1d.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_conv_transpose2d_f32(")


# ----- batch norm over 5-D (BatchNorm3d) -----
class Volume3d(nn.Module):
    """BatchNorm3d over [N, C, D, H, W] after a ReLU: nothing to fold into, a per-channel scale and shift."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm3d(3)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 2.0)
            self.bn.weight.uniform_(0.5, 1.5)
            self.bn.bias.uniform_(-0.2, 0.2)

    def forward(self, x):
        return torch.sigmoid(self.bn(torch.relu(x)))


def test_torch_batch_norm_3d_is_a_per_channel_scale_over_a_4d_view_and_agrees_on_the_host(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 5, 6, generator=torch.Generator().manual_seed(1))
    bundle = edgespec.capture(Volume3d().eval(), x, name="bn3d", out=tmp_path / "bundle").path
    graph = validate_bundle(bundle)
    [norm] = [n for n in graph["nodes"] if n["op"] == "batch_norm"]
    assert graph["tensors"][norm["inputs"][0]]["shape"] == [2, 3, 1, 120]
    _interpreter_agrees(bundle)
    _build_and_run(bundle, tmp_path / "build", "es_scale_shift_f32(")


def test_onnx_batch_normalization_over_5d_builds_and_agrees_on_the_host(tmp_path):
    rng = np.random.default_rng(5)
    nodes = [helper.make_node("BatchNormalization", ["x", "g", "beta", "mean", "var"], ["y"], epsilon=1e-3)]
    inits = [_init("g", rng.uniform(0.5, 1.5, 4)), _init("beta", rng.normal(size=4) * 0.1),
             _init("mean", rng.normal(size=4) * 0.2), _init("var", rng.uniform(0.5, 2, 4))]
    graph = helper.make_graph(nodes, "bn3d", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 2, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 3, 2, 5])], inits)
    path = tmp_path / "bn3d.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    result = capture_onnx_file(path, out=tmp_path / "bundle")
    assert [n["op"] for n in validate_bundle(result.path)["nodes"]] == ["reshape", "batch_norm", "reshape"]
    _interpreter_agrees(result.path)
    _build_and_run(result.path, tmp_path / "build", "es_scale_shift_f32(")
