"""`edgespec diff` on PyTorch models: a correct image stays quiet layer by layer (MobileNetV2
fp32 and int8), and a fault planted in one layer's weights (EDGESPEC_TEST_PLANT_FAULT) is
reported at exactly that layer, on the host, under QEMU (qemu-virt writes its tensors
through semihosting) and under qemu-aarch64 (linux)."""
from __future__ import annotations

import json

import pytest

from diff_cli import assert_found, assert_quiet, build, cli, diff, layer_modules


@pytest.fixture(scope="module")
def small_cnn(tmp_path_factory):
    import torch
    import torch.nn as nn

    import edgespec

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), nn.ReLU6(),
        nn.Conv2d(8, 16, 1), nn.Hardswish(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)).eval()
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
    out = tmp_path_factory.mktemp("diff") / "small_cnn"
    edgespec.capture(model, torch.randn(1, 3, 16, 16), name="small_cnn", out=out)
    return out


@pytest.mark.parametrize("target", ["host", "qemu-virt", "linux"])
def test_a_correct_build_stays_quiet_and_a_zeroed_bias_is_found_at_its_layer(small_cnn, target):
    build_dir = build(small_cnn, target)
    clean = diff(build_dir)
    assert_quiet(clean, at_least=7)
    assert (small_cnn / "build" / f"{target}-debug" / "build.json").is_file()
    manifest = json.loads((small_cnn / "build" / f"{target}-debug" / "build.json").read_text())
    assert len(manifest["debug_tensors"]["dumps"]) == len(clean["layers"])
    convs = layer_modules(clean, "conv2d") + layer_modules(clean, "gemm")
    assert "5" in convs, convs  # the 1x1 convolution (run as a gemm)
    first = assert_found(diff(build_dir, "zero-bias:5"), "5")
    assert first["op"] == "conv2d" and first["attrs"]["groups"] == 1 and first["max_rel_error"] > 1e-2
    assert "aten.convolution.default" in first["framework_ops"]


def test_the_planted_fault_is_refused_with_its_candidates_when_the_layer_has_no_bias(small_cnn):
    code, events, _ = cli(["build", str(small_cnn), "--target", "host", "--out", str(small_cnn / "build" / "nobias")],
                          {"EDGESPEC_TEST_PLANT_FAULT": "zero-bias:no.such.layer"})
    [error] = [e for e in events if e["event"] == "error"]
    assert code != 0 and error["code"] == "bad-plant-fault" and "no.such.layer" in error["message"]
    assert not (small_cnn / "build" / "nobias").exists()


def test_diff_of_a_bundle_without_intermediates_says_how_to_get_them(small_cnn, tmp_path):
    import shutil

    copy = tmp_path / "old_bundle"
    shutil.copytree(small_cnn, copy, ignore=shutil.ignore_patterns("build"))
    graph = json.loads((copy / "graph.json").read_text())
    del graph["intermediates"]
    (copy / "graph.json").write_text(json.dumps(graph))
    (copy / "intermediates.safetensors").unlink()
    build_dir = build(copy, "host")
    code, events, _ = cli(["diff", str(build_dir)])
    [error] = [e for e in events if e["event"] == "error"]
    assert code != 0 and error["code"] == "no-intermediates" and "capture the model again" in error["hint"]
    assert not (build_dir / "divergence.json").exists()


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_mobilenet_v2_is_within_tolerance_at_every_layer(torchvision_capture, dtype):
    bundle = torchvision_capture("mobilenet_v2").result.path
    report = diff(build(bundle, "host", dtype))
    assert_quiet(report, at_least=60)
    if dtype == "int8":
        assert all("quant_steps" in layer for layer in report["layers"] if layer["compared"] and layer["dtype"] == "int8")
