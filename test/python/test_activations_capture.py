"""The issue 13 activations and elementwise ops from PyTorch: nn.PReLU (per channel and one
slope), nn.ELU, nn.SELU, nn.Softplus, nn.Mish, nn.Softsign, exp, log, sqrt, rsqrt, pow, abs,
neg, torch.maximum / torch.minimum (broadcast against a constant) and log_softmax (over the
channels of a 4-D tensor and over features). Captured onto the vocabulary, agreeing with
PyTorch in the NumPy interpreter, then built for the host and run within 1e-4 of PyTorch."""
import json
import subprocess

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import edgespec
from capture_helpers import REPO
from edgespec import validate_bundle
from numpy_interpreter import reference_outputs, run_bundle


class ActivationNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.prelu = nn.PReLU(4)
        self.elu = nn.ELU(0.5)
        self.selu = nn.SELU()
        self.softplus = nn.Softplus(beta=2.0, threshold=3.0)
        self.mish = nn.Mish()
        self.softsign = nn.Softsign()
        self.head_prelu = nn.PReLU()
        self.fc = nn.Linear(4 * 5 * 5, 6)
        self.register_buffer("cap", torch.tensor([0.4, 0.6, 0.8, 1.0]).reshape(4, 1, 1))
        with torch.no_grad():
            self.prelu.weight.copy_(torch.tensor([0.05, 0.1, 0.2, 0.3]))

    def forward(self, x):
        h = self.prelu(self.conv(x))
        h = self.softplus(self.selu(self.elu(h))) - 1
        h = self.softsign(self.mish(h))
        m = torch.exp(h) + torch.log(h.abs() + 0.5) + torch.sqrt(h.abs()) + torch.rsqrt(h.abs() + 1)
        m = m + h.pow(3) - h.neg()
        m = torch.minimum(torch.maximum(m, h * 4), self.cap)
        logits = self.fc(self.head_prelu(torch.flatten(m - 0.5, 1)))
        return F.log_softmax(m, dim=1), torch.log_softmax(logits, -1)


EXPECTED_OPS = {"prelu", "elu", "selu", "softplus", "mish", "abs", "exp", "log", "sqrt", "rsqrt", "pow", "neg",
                "maximum", "minimum", "log_softmax"}


def _cli(*args):
    return subprocess.run(["node", str(REPO / "bin" / "edgespec"), *args, "--json"], capture_output=True, text=True,
                          timeout=600, cwd=REPO)


def _result(proc):
    return [json.loads(line)["data"] for line in proc.stdout.splitlines()
            if line.startswith("{") and json.loads(line)["event"] == "result"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.manual_seed(0)
    model = ActivationNet().eval()
    x = torch.randn(1, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    return edgespec.capture(model, x, name="activations", out=tmp_path_factory.mktemp("act") / "bundle").path


def test_every_activation_is_captured_onto_the_vocabulary(bundle):
    graph = validate_bundle(bundle)
    ops = {n["op"] for n in graph["nodes"]}
    assert EXPECTED_OPS <= ops
    prelus = [n for n in graph["nodes"] if n["op"] == "prelu"]
    assert [(n["module"], graph["tensors"][n["inputs"][1]]["shape"]) for n in prelus] == [
        ("prelu", [1, 4, 1, 1]), ("head_prelu", [1, 1])]  # aten.prelu views the weight along dim 1
    [elu] = [n for n in graph["nodes"] if n["op"] == "elu"]
    assert elu["attrs"] == {"alpha": 0.5}
    [softplus] = [n for n in graph["nodes"] if n["op"] == "softplus"]
    assert softplus["attrs"] == {"beta": 2.0, "threshold": 3.0}
    assert [n["attrs"]["axis"] for n in graph["nodes"] if n["op"] == "log_softmax"] == [1, 1]
    for aten in ("aten._prelu_kernel.default", "aten.softplus.default", "aten.mish.default", "aten.maximum.default",
                 "aten.minimum.default", "aten._log_softmax.default", "aten.pow.Tensor_Scalar"):
        assert graph["op_inventory"][aten] >= 1, aten


def test_the_interpreter_agrees_with_pytorch(bundle):
    for got, want in zip(run_bundle(bundle), reference_outputs(bundle)):
        assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


def test_host_image_agrees_with_pytorch(bundle, tmp_path):
    build = tmp_path / "build"
    proc = _cli("build", str(bundle), "--target", "host", "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    model_c = next(build.rglob("model.c")).read_text()
    for fn in ("es_prelu_f32(", "es_elu_f32(", "es_selu_f32(", "es_softplus_f32(", "es_mish_f32(", "es_exp_f32(",
               "es_log_f32(", "es_sqrt_f32(", "es_rsqrt_f32(", "es_pow_f32(", "es_abs_f32(", "es_neg_f32(",
               "es_maximum_f32(", "es_minimum_f32(", "es_log_softmax_f32("):
        assert fn in model_c, fn
    [report] = _result(_cli("run", str(build)))
    assert report["status"] == "ok", report
    assert report["agreement"]["max_abs_error"] <= 1e-4 * report["agreement"]["max_abs_reference"]


def test_calibrated_int8_image_runs_the_int8_kernels_and_stays_close(bundle, tmp_path):
    """--dtype int8: prelu, abs, neg, maximum and minimum run in int8 (calibrated on the captured
    input), the others in fp32 between dequantize and quantize."""
    build = tmp_path / "build-int8"
    proc = _cli("build", str(bundle), "--target", "host", "--dtype", "int8", "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    model_c = next(build.rglob("model.c")).read_text()
    for fn in ("es_prelu_s8(", "es_abs_s8(", "es_neg_s8(", "es_maximum_s8(", "es_minimum_s8("):
        assert fn in model_c, fn
    [report] = _result(_cli("run", str(build)))
    assert report["status"] == "ok", report
    assert report["agreement"]["top1_match"]
    assert report["agreement"]["max_abs_error"] <= 0.05 * report["agreement"]["max_abs_reference"]
