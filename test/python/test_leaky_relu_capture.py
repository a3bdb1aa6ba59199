"""leaky_relu from PyTorch (nn.LeakyReLU with a slope and with the default): captured as the
vocabulary's leaky_relu with negative_slope, agreeing with PyTorch, and built and run on the
host (real compiler, real image) within 1e-4 of PyTorch's output."""
import json
import subprocess

import numpy as np
import torch
import torch.nn as nn

import edgespec
from capture_helpers import REPO
from edgespec import validate_bundle
from numpy_interpreter import reference_outputs, run_bundle


class LeakyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self.fc = nn.Linear(6 * 5 * 5, 7)
        self.head_act = nn.LeakyReLU()

    def forward(self, x):
        return self.head_act(self.fc(torch.flatten(self.act(self.conv(x)), 1)))


def test_nn_leaky_relu_is_captured_built_and_agrees(tmp_path):
    torch.manual_seed(0)
    model = LeakyNet().eval()
    x = torch.randn(1, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    result = edgespec.capture(model, x, name="leaky", out=tmp_path / "leaky")
    graph = validate_bundle(result.path)
    leaky = [n for n in graph["nodes"] if n["op"] == "leaky_relu"]
    assert [(n["module"], n["attrs"]["negative_slope"]) for n in leaky] == [("act", 0.2), ("head_act", 0.01)]
    assert graph["op_inventory"]["aten.leaky_relu.default"] == 2
    [got], [want] = run_bundle(result.path), reference_outputs(result.path)
    assert (want < 0).any() and (want > 0).any()
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()

    build = tmp_path / "build"
    cli = [str(REPO / "bin" / "edgespec")]
    proc = subprocess.run(["node", *cli, "build", str(result.path), "--target", "host", "--out", str(build), "--json"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = subprocess.run(["node", *cli, "run", str(build), "--json"], capture_output=True, text=True, timeout=600, cwd=REPO)
    [report] = [json.loads(line)["data"] for line in proc.stdout.splitlines()
                if line.startswith("{") and json.loads(line)["event"] == "result"]
    assert report["status"] == "ok", report
    assert report["agreement"]["max_abs_error"] <= 1e-4 * report["agreement"]["max_abs_reference"]
