"""Recurrent models from PyTorch (issue 13): nn.GRU and nn.LSTM, batch_first, two layers, unrolled
by torch.export into matmuls, gates and slices; their zero initial state and what the model
computes from it alone (W_hh · 0 + b) are folded into constants at capture (fold_constants.py),
so every kernel reads activations. Each captures, builds and agrees with PyTorch on the host,
the GRU also under QEMU."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn as nn

import edgespec
from diff_cli import cli


class VoiceActivity(nn.Module):
    def __init__(self, kind: str):
        super().__init__()
        self.rnn = getattr(nn, kind)(20, 32, num_layers=2, batch_first=True)
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1])


@pytest.mark.parametrize("kind,targets", [("GRU", ["host", "qemu-virt"]), ("LSTM", ["host"])])
def test_recurrent_model_captures_builds_and_agrees(kind, targets, tmp_path):
    torch.manual_seed(0)
    bundle = tmp_path / kind.lower()
    edgespec.capture(VoiceActivity(kind).eval(), torch.randn(1, 8, 20), name=kind.lower(), out=bundle)
    graph = json.loads((bundle / "graph.json").read_text())
    assert {"sigmoid", "tanh", "linear"} <= {n["op"] for n in graph["nodes"]}
    for target in targets:
        out = bundle / "build" / target
        code, events, _ = cli(["build", str(bundle), "--target", target, "--out", str(out)])
        assert code == 0, events[-2:]
        code, events, _ = cli(["run", str(out)])
        [report] = [e["data"] for e in events if e["event"] == "result"]
        assert code == 0 and report["status"] == "ok", report.get("agreement")
