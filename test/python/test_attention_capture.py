"""Attention from PyTorch (issue 13): scaled dot-product attention is kept whole by the export
and lowered onto transpose, matmul, scale, an additive mask and softmax (capture/torch/attention.py).
A keyword transformer (nn.TransformerEncoderLayer), nn.MultiheadAttention returning its weights,
causal attention and attention under a constant boolean mask each capture, build and agree with
PyTorch; the transformer also under QEMU."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import edgespec
from diff_cli import cli


class KeywordTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(40, 64)
        self.encoder = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
        self.head = nn.Linear(64, 12)

    def forward(self, x):
        return self.head(self.encoder(self.proj(x)).mean(dim=1))


class AttentionWeights(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(32, 4, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x)  # the output and the heads' averaged weights


class Heads(nn.Module):
    def __init__(self, mask: str):
        super().__init__()
        self.qkv = nn.Linear(32, 96)
        self.kind = mask
        self.register_buffer("allowed", (torch.rand(10, 10, generator=torch.Generator().manual_seed(1)) > 0.3) | torch.eye(10, dtype=torch.bool))

    def forward(self, x):
        q, k, v = self.qkv(x).reshape(1, 10, 3, 4, 8).permute(2, 0, 3, 1, 4)
        if self.kind == "causal":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        elif self.kind == "computed_mask":  # built at run time from constants alone: folded at capture
            eye = torch.arange(10).unsqueeze(0) == torch.arange(10).unsqueeze(1)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=self.allowed | eye)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=self.allowed, scale=0.2)
        return y.transpose(1, 2).reshape(1, 10, 32)


def _agrees(bundle, target: str) -> dict:
    out = bundle / "build" / target
    code, events, _ = cli(["build", str(bundle), "--target", target, "--out", str(out)])
    assert code == 0, events[-2:]
    code, events, _ = cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("agreement")
    return report


CASES = {
    "keyword_transformer": (KeywordTransformer, (1, 16, 40)),
    "attention_weights": (AttentionWeights, (1, 10, 32)),
    "causal": (lambda: Heads("causal"), (1, 10, 32)),
    "boolean_mask": (lambda: Heads("mask"), (1, 10, 32)),
    "computed_mask": (lambda: Heads("computed_mask"), (1, 10, 32)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_attention_captures_builds_and_agrees(case, tmp_path):
    torch.manual_seed(0)
    make, shape = CASES[case]
    edgespec.capture(make().eval(), torch.randn(*shape), name=case, out=tmp_path / case)
    graph = json.loads((tmp_path / case / "graph.json").read_text())
    kinds = [n["op"] for n in graph["nodes"]]
    if case != "attention_weights":  # MultiheadAttention with its weights computes them itself (bmm, softmax)
        attention = [n for n in graph["nodes"] if "aten.scaled_dot_product_attention.default" in n["framework_ops"]]
        assert {n["op"] for n in attention} == {"transpose", "matmul", "mul", "softmax"} | ({"add"} if case in ("causal", "boolean_mask", "computed_mask") else set())
        assert kinds.count("softmax") == 1 and kinds.count("matmul") == 2
    _agrees(tmp_path / case, "host")
    if case == "keyword_transformer":
        _agrees(tmp_path / case, "qemu-virt")
