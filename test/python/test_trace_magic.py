"""`%%edgespec trace` in a real IPython shell: the cell runs as usual, every top-level model
call becomes a bundle, and the cell shows a trace summary."""
import sys

import pytest
from IPython.utils.capture import capture_output

from dispatch_count import count_dispatched
from edgespec import validate_bundle
from edgespec.notebook.trace_summary import TRACE_MIME

MODEL_CELL = """\
import torch
import torch.nn as nn

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6(),
                                      nn.Conv2d(8, 8, 3, stride=2, groups=8))
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))

class Ranker(nn.Module):
    def __init__(self):
        super().__init__()
        self.score = nn.Linear(4, 4)

    def forward(self, x):
        return torch.sort(self.score(x), dim=-1).values
"""


def run_traced(shell, cell, line=""):
    with capture_output() as captured:
        outcome = shell.run_cell(f"%%edgespec trace {line}\n{cell}")
    summaries = [o.data[TRACE_MIME] for o in captured.outputs if TRACE_MIME in o.data]
    return outcome, captured, summaries


@pytest.fixture
def shell(ipython_shell, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ipython_shell.run_cell(MODEL_CELL)
    return ipython_shell


def test_trace_captures_each_top_level_model_call(shell, tmp_path):
    cell = ("torch.manual_seed(0)\n"
            "net = TinyNet().eval()\n"
            "x = torch.randn(2, 3, 16, 16)\n"
            "y = net(x)\n"
            "y2 = net(x + 1)\n"
            "lone = nn.Linear(3, 2).eval()\n"
            "z = lone(torch.ones(1, 3))\n"
            "y.shape")
    outcome, captured, summaries = run_traced(shell, cell)
    assert outcome.success
    assert captured.outputs[0].data["text/plain"] == "torch.Size([2, 4])"  # the cell's own value shows first
    (summary,) = summaries
    assert summary["format"] == "edgespec.trace" and summary["version"] == 1 and summary["unsupported"] == []
    net, lone = summary["models"]
    assert (net["name"], net["model_class"], net["calls"]) == ("net", "TinyNet", 2)
    assert net["bundle"] == str(tmp_path / "edgespec-bundles" / "net")
    assert net["inputs"] == [{"shape": [2, 3, 16, 16], "dtype": "float32"}]
    assert net["outputs"] == [{"shape": [2, 4], "dtype": "float32"}]
    assert net["parameter_bytes"] == 4 * (sum(p.numel() for p in shell.user_ns["net"].parameters()) + 16)
    assert {r["framework_op"]: (r["count"], r["edgespec_op"], r["supported"]) for r in net["ops"]}[
        "aten.convolution.default"] == (2, "conv2d", True)
    assert lone["name"] == "lone" and lone["calls"] == 1

    graph = validate_bundle(net["bundle"])
    assert [n["module"] for n in graph["nodes"] if n["op"] == "conv2d"] == ["features.0", "features.3"]
    assert graph["source"]["entry"] == "notebook cell"
    # the reference is the first real call, and its inventory is what that call dispatched
    net_model, x = shell.user_ns["net"], shell.user_ns["x"]
    assert graph["op_inventory"] == count_dispatched(net_model, x, no_grad=False)
    assert {r["framework_op"]: r["count"] for r in net["ops"]} == graph["op_inventory"]
    assert summary["cell_ops"]["aten.convolution.default"] == 4
    validate_bundle(lone["bundle"])


def test_trace_summary_has_text_and_html_fallbacks(shell):
    _, captured, _ = run_traced(shell, "m = TinyNet().eval()\n_ = m(torch.randn(1, 3, 8, 8))", "--name tiny --out bundles")
    data = next(o.data for o in captured.outputs if TRACE_MIME in o.data)
    assert data[TRACE_MIME]["models"][0]["name"] == "tiny"
    assert data[TRACE_MIME]["models"][0]["bundle"].endswith("bundles/tiny")
    text = data["text/plain"]
    assert "edgespec trace: 1 model called in this cell" in text
    assert "aten.convolution.default" in text and "conv2d" in text
    assert "<table>" in data["text/html"] and "aten.convolution.default" in data["text/html"]


def test_a_cell_without_a_model_call(shell, tmp_path):
    outcome, captured, (summary,) = run_traced(shell, "a = torch.ones(3) * 2\nb = a.sum()")
    assert outcome.success and shell.user_ns["b"].item() == 6.0
    assert summary["models"] == []
    assert summary["error"]["code"] == "no_model_call"
    assert "no nn.Module call" in summary["error"]["message"] and "model(x)" in summary["error"]["hint"]
    assert summary["cell_ops"]["aten.mul.Tensor"] == 1
    assert not (tmp_path / "edgespec-bundles").exists()


def test_unsupported_ops_in_a_traced_cell_are_listed_with_the_cell_line(shell, tmp_path):
    cell = "r = Ranker().eval()\nnet = TinyNet().eval()\nr(torch.randn(2, 4))\nnet(torch.randn(1, 3, 8, 8))"
    outcome, captured, (summary,) = run_traced(shell, cell)
    assert outcome.success
    ranker, net = summary["models"]
    assert ranker["bundle"] is None and ranker["error"]["code"] == "unsupported_ops"
    (problem,) = summary["unsupported"]
    assert problem["model"] == "r" and problem["framework_op"] == "aten.sort.default" and problem["module"] == ""
    sort_line = next(i for i, line in enumerate(MODEL_CELL.splitlines(), 1) if "torch.sort(" in line)
    assert problem["source"].startswith("In[") and problem["source"].endswith(f"]:{sort_line}")
    assert {r["framework_op"]: r["supported"] for r in ranker["ops"]}["aten.sort.default"] is False
    assert net["bundle"] and validate_bundle(net["bundle"])
    text = next(o.data["text/plain"] for o in captured.outputs if TRACE_MIME in o.data)
    assert "aten.sort.default in the model's own forward at In[" in text
    assert not (tmp_path / "edgespec-bundles" / "r").exists()


def test_a_model_in_training_mode(shell):
    _, _, (summary,) = run_traced(shell, "t = TinyNet()\nt(torch.randn(2, 3, 8, 8))")
    (model,) = summary["models"]
    assert model["bundle"] is None
    assert model["error"]["code"] == "training_mode" and model["error"]["hint"] == "call model.eval() before capturing"


def test_an_error_in_the_cell_propagates_and_removes_the_hooks(shell, tmp_path):
    from torch.nn.modules import module as nn_module

    hooks_before = (len(nn_module._global_forward_pre_hooks), len(nn_module._global_forward_hooks))
    outcome, _, summaries = run_traced(shell, "net = TinyNet().eval()\nnet(torch.randn(1, 5, 8, 8))")
    assert not outcome.success and isinstance(outcome.error_in_exec, RuntimeError)
    assert summaries == []
    assert (len(nn_module._global_forward_pre_hooks), len(nn_module._global_forward_hooks)) == hooks_before
    assert not (tmp_path / "edgespec-bundles").exists()


def test_the_magic_does_not_import_tensorflow(shell):
    run_traced(shell, "n = TinyNet().eval()\nn(torch.randn(1, 3, 8, 8))")
    assert "tensorflow" not in sys.modules


def test_a_model_called_with_keywords_only_is_reported(shell):
    _, _, (summary,) = run_traced(shell, "k = TinyNet().eval()\nk(x=torch.randn(1, 3, 8, 8))")
    (model,) = summary["models"]
    assert model["bundle"] is None and model["error"]["code"] == "bad_input"
    assert "called with keyword arguments only" in model["error"]["message"]
