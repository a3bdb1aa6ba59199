"""The capture side of the op vocabulary (src/common/ops.json)."""
import torch
import torch.nn as nn

from edgespec.capture.torch import rules as aten_rules
from edgespec.capture.torch.lowering import lower_exported_program
from edgespec.notebook.dispatched_ops import edgespec_op_for, inventory_rows
from edgespec.capture.torch.export import export_core_aten
from edgespec.vocabulary import REMOVED, load_vocabulary


def test_every_pytorch_op_the_vocabulary_names_has_a_lowering_rule():
    vocabulary = load_vocabulary()
    assert len(vocabulary.ops) >= 25
    named = set(vocabulary.pytorch_to_op) | set(vocabulary.removed_pytorch)
    assert sorted(named - set(aten_rules.RULES)) == []


def test_ops_before_decomposition_lower_like_their_core_aten_form():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU6(), nn.Flatten(),
                          nn.Linear(64, 5)).eval()
    x = torch.randn(1, 3, 8, 8)
    raw = torch.export.export(model, (x,))
    assert {"aten.conv2d.default", "aten.batch_norm.default", "aten.linear.default"} <= {
        str(n.target) for n in raw.graph.nodes if n.op == "call_function"}
    as_exported = lower_exported_program(raw, aten_rules.RULES).builder.nodes
    decomposed = lower_exported_program(export_core_aten(model, (x,)), aten_rules.RULES).builder.nodes
    summary = lambda nodes: [(n["op"], n["attrs"], n["inputs"][1:], n["module"]) for n in nodes]  # noqa: E731
    assert summary(as_exported) == summary(decomposed)


def test_eager_spellings_of_dispatched_ops():
    assert edgespec_op_for("aten.convolution.default") == "conv2d"
    assert edgespec_op_for("aten.hardtanh_.default") == "clamp"
    assert edgespec_op_for("aten.add_.Tensor") == "add"
    assert edgespec_op_for("aten.native_batch_norm.default") == "batch_norm"
    assert edgespec_op_for("aten.clone.default") == REMOVED
    assert edgespec_op_for("aten.sort.default") is None
    rows = inventory_rows({"aten.relu_.default": 3, "aten.sort.default": 1, "aten.mean.dim": 3})
    assert rows == [{"framework_op": "aten.mean.dim", "count": 3, "edgespec_op": "mean", "supported": True},
                    {"framework_op": "aten.relu_.default", "count": 3, "edgespec_op": "relu", "supported": True},
                    {"framework_op": "aten.sort.default", "count": 1, "edgespec_op": None, "supported": False}]
