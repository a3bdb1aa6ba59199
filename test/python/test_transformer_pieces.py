"""Pieces of vision transformers that capture and build (issue 13): a class token concatenated in
front of the patch tokens (a constant piece of a concat, ViT), a window attention whose mask is
computed from constants with index assignments, then broadcast over a 5-D add (Swin; the add's
walk coalesced to 4 dims), and a non-2-D permute of a constant, folded. Each captures, builds
for the host and agrees with PyTorch."""
from __future__ import annotations

import json

import torch
import torch.nn as nn

import edgespec
from diff_cli import cli


class ClassToken(nn.Module):
    def __init__(self):
        super().__init__()
        self.patches = nn.Conv2d(3, 16, 4, stride=4)
        self.class_token = nn.Parameter(torch.randn(1, 1, 16))

    def forward(self, x):
        tokens = self.patches(x).flatten(2).transpose(1, 2)  # [1, 16, 16]
        return torch.cat([self.class_token.expand(1, -1, -1), tokens], dim=1).mean(dim=2)


class WindowMask(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 8)
        self.register_buffer("table", torch.randn(2, 3, 4))

    def forward(self, x):  # x: [1, 4 windows, 2 heads, 4 tokens, 4 tokens]
        mask = x.new_zeros((4, 4))
        mask[:2, 2:] = 1.0
        mask[2:, :2] = 2.0
        mask = (mask.unsqueeze(0) - mask.unsqueeze(1)).sum(dim=0)
        mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
        bias = self.table.permute(1, 0, 2)[:2, :1]  # a 3-D permute of a constant: folded
        scores = x + mask.view(1, 1, 1, 4, 4) + bias.reshape(1, 1, 2, 1, 4)
        return self.proj(torch.softmax(scores, dim=-1).reshape(8, 16))


def _captures_builds_and_agrees(model, example, tmp_path, name):
    torch.manual_seed(0)
    edgespec.capture(model.eval(), example, name=name, out=tmp_path / name)
    out = tmp_path / name / "build" / "host"
    code, events, _ = cli(["build", str(tmp_path / name), "--target", "host", "--out", str(out)])
    assert code == 0, events[-2:]
    code, events, _ = cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("agreement")
    return json.loads((tmp_path / name / "graph.json").read_text())


def test_a_class_token_concatenated_with_patch_tokens(tmp_path):
    torch.manual_seed(0)
    graph = _captures_builds_and_agrees(ClassToken(), torch.randn(1, 3, 16, 16), tmp_path, "class_token")
    [concat] = [n for n in graph["nodes"] if n["op"] == "concat"]
    assert graph["tensors"][concat["inputs"][0]]["kind"] == "weight"


def test_a_window_mask_computed_from_constants_and_a_5d_broadcast(tmp_path):
    torch.manual_seed(0)
    graph = _captures_builds_and_agrees(WindowMask(), torch.randn(1, 4, 2, 4, 4), tmp_path, "window_mask")
    adds = [n for n in graph["nodes"] if n["op"] == "add"]
    assert adds and all(len(graph["tensors"][n["outputs"][0]]["shape"]) == 5 for n in adds)
