"""ONNX LSTM, GRU and RNN (issue 13), unrolled at capture over the static sequence into linear,
sigmoid, tanh, elementwise and shape ops (capture/recurrent.py, capture/onnx/recurrent_rules.py).

Models exported from PyTorch by torch.onnx.export (one and two layers, bidirectional,
batch_first) and graphs built with onnx.helper for what torch does not emit (reverse,
linear_before_reset 0 and 1, initial states as graph inputs or non-zero initializers, Y_h /
Y_c outputs, layout 1) are captured, interpreted in float64 and built for the host, agreeing
with onnxruntime; one also under qemu-virt. Unsupported attributes are refused by name."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

from diff_cli import cli
from numpy_interpreter import OPS, reference_outputs, run_bundle

from edgespec.capture.onnx.capture import capture_onnx_file, lower_onnx
from edgespec.capture.onnx.prepare import prepare_model
from edgespec.errors import UnsupportedOpsError

T, B, I, H = 5, 2, 3, 4


class Recurrent(nn.Module):
    def __init__(self, kind: str, layers: int, bidirectional: bool, batch_first: bool):
        super().__init__()
        self.rnn = getattr(nn, kind)(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
        self.head = nn.Linear(H * (2 if bidirectional else 1), 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y)


def _export(kind: str, layers: int, bidirectional: bool, batch_first: bool, path: Path) -> int:
    """Exports the model to `path`; returns its parameter count."""
    torch.manual_seed(0)
    model = Recurrent(kind, layers, bidirectional, batch_first).eval()
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=14)
    assert kind in {n.op_type for n in onnx.load(str(path)).graph.node}
    return sum(p.numel() for p in model.parameters())


def _interpreted_error(bundle: Path) -> float:
    got, want = run_bundle(bundle), reference_outputs(bundle)
    return max(float(np.max(np.abs(g - w))) / max(float(np.max(np.abs(w))), 1e-6) for g, w in zip(got, want))


def _build_and_run(bundle: Path, target: str) -> dict:
    out = bundle / "build" / target
    code, events, stderr = cli(["build", str(bundle), "--target", target, "--out", str(out)])
    assert code == 0, f"{events[-3:]}\n{stderr[-2000:]}"
    code, events, _ = cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    assert code == 0 and report["status"] == "ok", report.get("agreement")
    agreement = report["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement
    return report


def _ops(bundle: Path):
    return [n["op"] for n in json.loads((bundle / "graph.json").read_text())["nodes"]]


@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,targets", [
    ("LSTM", 1, False, False, ["host"]),
    ("LSTM", 2, True, True, ["host"]),
    ("GRU", 1, False, False, ["host"]),
    ("GRU", 2, True, True, ["host", "qemu-virt"]),
    ("RNN", 2, True, False, ["host"]),
])
def test_torch_exported_recurrent_layers_capture_build_and_agree(kind, layers, bidirectional, batch_first, targets, tmp_path):
    parameters = _export(kind, layers, bidirectional, batch_first, tmp_path / "model.onnx")
    bundle = capture_onnx_file(tmp_path / "model.onnx", out=tmp_path / "bundle").path
    graph = json.loads((bundle / "graph.json").read_text())
    assert graph["op_inventory"][f"onnx.{kind}"] == layers
    # every step reads the same weights: stored once (plus a GRU's first-step constant [B, H] per direction)
    stored = sum(int(np.prod(t["shape"])) for t in graph["tensors"].values() if t["kind"] == "weight")
    assert stored <= parameters + 4 * B * H * layers
    ops = _ops(bundle)
    assert {"linear", "tanh", "split"} <= set(ops)
    # one input projection per direction and layer, one recurrent linear per later step, the head
    directions = 2 if bidirectional else 1
    assert ops.count("linear") == layers * directions * (1 + (T - 1) * (2 if kind == "GRU" else 1)) + 1
    assert _interpreted_error(bundle) < 1e-5
    for target in targets:
        _build_and_run(bundle, target)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_the_default_dynamo_exporter_s_recurrent_layers_capture_build_and_agree(kind, tmp_path):
    """torch.onnx.export's default (dynamo) exporter also writes one ONNX LSTM / GRU per layer."""
    torch.manual_seed(0)
    path = tmp_path / "model.onnx"
    torch.onnx.export(Recurrent(kind, 2, True, True).eval(), (torch.randn(B, T, I),), str(path), dynamo=True)
    assert [n.op_type for n in onnx.load(str(path)).graph.node].count(kind) == 2
    bundle = capture_onnx_file(path, out=tmp_path / "bundle").path
    assert _interpreted_error(bundle) < 1e-5
    _build_and_run(bundle, "host")


def test_an_export_with_a_dynamic_batch_captures_at_the_given_shape(tmp_path):
    """The zero initial state torch computes from Shape(x) folds once --input-shape fixes the batch."""
    torch.manual_seed(0)
    model = Recurrent("LSTM", 1, False, False).eval()
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (torch.randn(T, B, I),), str(path), dynamo=False, opset_version=14,
                      input_names=["x"], dynamic_axes={"x": {1: "batch"}})
    assert "Shape" in {n.op_type for n in onnx.load(str(path)).graph.node}
    bundle = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[T, 3, I]]).path
    assert json.loads((bundle / "graph.json").read_text())["inputs"][0]["shape"] == [T, 3, I]
    assert _interpreted_error(bundle) < 1e-5


def _f32(rng, *shape):
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


def _value(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _model(node, inputs, outputs, initializers, opset) -> onnx.ModelProto:
    graph = helper.make_graph([node], "rnn", inputs, outputs,
                              [numpy_helper.from_array(v, k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def _hand_built(case: str) -> onnx.ModelProto:
    rng = np.random.default_rng(1)
    if case == "lstm_reverse_states_as_inputs":
        return _model(helper.make_node("LSTM", ["x", "W", "R", "B", "", "h0", "c0"], ["y", "yh", "yc"], hidden_size=H,
                                       direction="reverse"),
                      [_value("x", [T, B, I]), _value("h0", [1, B, H]), _value("c0", [1, B, H])],
                      [_value("y", [T, 1, B, H]), _value("yh", [1, B, H]), _value("yc", [1, B, H])],
                      {"W": _f32(rng, 1, 4 * H, I), "R": _f32(rng, 1, 4 * H, H), "B": _f32(rng, 1, 8 * H)}, 9)
    if case == "gru_bidirectional_reset_after_constant_state":  # linear_before_reset 0, the ONNX default
        return _model(helper.make_node("GRU", ["x", "W", "R", "B", "lens", "h0"], ["y", "yh"], hidden_size=H,
                                       direction="bidirectional"),
                      [_value("x", [T, B, I])], [_value("y", [T, 2, B, H]), _value("yh", [2, B, H])],
                      {"W": _f32(rng, 2, 3 * H, I), "R": _f32(rng, 2, 3 * H, H), "B": _f32(rng, 2, 6 * H),
                       "lens": np.full([B], T, np.int32), "h0": _f32(rng, 2, B, H)}, 14)
    if case == "gru_reverse_linear_before_reset_state_input":
        return _model(helper.make_node("GRU", ["x", "W", "R", "B", "", "h0"], ["", "yh"], hidden_size=H,
                                       direction="reverse", linear_before_reset=1),
                      [_value("x", [T, B, I]), _value("h0", [1, B, H])], [_value("yh", [1, B, H])],
                      {"W": _f32(rng, 1, 3 * H, I), "R": _f32(rng, 1, 3 * H, H), "B": _f32(rng, 1, 6 * H)}, 7)
    if case == "rnn_reverse_relu_state_input":
        return _model(helper.make_node("RNN", ["x", "W", "R", "B", "", "h0"], ["y", "yh"], hidden_size=H,
                                       direction="reverse", activations=["Relu"]),
                      [_value("x", [T, B, I]), _value("h0", [1, B, H])], [_value("y", [T, 1, B, H]), _value("yh", [1, B, H])],
                      {"W": _f32(rng, 1, H, I), "R": _f32(rng, 1, H, H), "B": _f32(rng, 1, 2 * H)}, 14)
    assert case == "lstm_bidirectional_no_bias_constant_cell"
    return _model(helper.make_node("LSTM", ["x", "W", "R", "", "", "", "c0"], ["y", "", "yc"], hidden_size=H,
                                   direction="bidirectional", activations=["Sigmoid", "Tanh", "Tanh"] * 2),
                  [_value("x", [T, B, I])], [_value("y", [T, 2, B, H]), _value("yc", [2, B, H])],
                  {"W": _f32(rng, 2, 4 * H, I), "R": _f32(rng, 2, 4 * H, H), "c0": _f32(rng, 2, B, H)}, 17)


@pytest.mark.parametrize("case", ["lstm_reverse_states_as_inputs", "gru_bidirectional_reset_after_constant_state",
                                  "gru_reverse_linear_before_reset_state_input", "lstm_bidirectional_no_bias_constant_cell",
                                  "rnn_reverse_relu_state_input"])
def test_hand_built_recurrent_graphs_capture_build_and_agree(case, tmp_path):
    model = _hand_built(case)
    onnx.save(model, str(tmp_path / "model.onnx"))
    bundle = capture_onnx_file(tmp_path / "model.onnx", out=tmp_path / "bundle").path
    graph = json.loads((bundle / "graph.json").read_text())
    assert [o["shape"] for o in graph["outputs"]] == \
        [[d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output]
    assert _interpreted_error(bundle) < 1e-5
    _build_and_run(bundle, "host")


def _interpret_lowered(lowered, inputs):
    builder = lowered.builder
    values = {name: w.astype(np.float64) for name, w in builder.weights.items()}
    for io, x in zip(builder.inputs, inputs):
        values[io["tensor"]] = x.astype(np.float64)
    for node in builder.nodes:
        results = OPS[node["op"]](*[values[n] for n in node["inputs"]], **node["attrs"])
        for name, value in zip(node["outputs"], results if isinstance(results, list) else [results]):
            values[name] = value
    return [values[io["tensor"]] for io in builder.outputs]


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_batch_major_layout_matches_the_time_major_graph(kind, tmp_path):
    """layout 1 (opset 14) is not run by onnxruntime: its unrolling must compute what the layout-0 graph
    of the same weights computes (checked against onnxruntime above), with batch and time swapped."""
    import onnxruntime

    rng = np.random.default_rng(2)
    gates = 4 if kind == "LSTM" else 3
    weights = {"W": _f32(rng, 2, gates * H, I), "R": _f32(rng, 2, gates * H, H), "B": _f32(rng, 2, 2 * gates * H)}
    outputs = ["y", "yh"] + (["yc"] if kind == "LSTM" else [])

    def graph(layout: int) -> onnx.ModelProto:
        x = [B, T, I] if layout else [T, B, I]
        y = [B, T, 2, H] if layout else [T, 2, B, H]
        state = [B, 2, H] if layout else [2, B, H]
        return _model(helper.make_node(kind, ["x", "W", "R", "B"], outputs, hidden_size=H, direction="bidirectional",
                                       layout=layout),
                      [_value("x", x)], [_value("y", y)] + [_value(o, state) for o in outputs[1:]], weights, 14)

    x = rng.standard_normal((T, B, I)).astype(np.float32)
    expected = onnxruntime.InferenceSession(graph(0).SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    model, _ = prepare_model(graph(1))
    got = _interpret_lowered(lower_onnx(model), [x.transpose(1, 0, 2)])
    np.testing.assert_allclose(got[0], expected[0].transpose(2, 0, 1, 3), atol=1e-5)
    for g, e in zip(got[1:], expected[1:]):
        np.testing.assert_allclose(g, e.transpose(1, 0, 2), atol=1e-5)


def test_unsupported_recurrent_attributes_are_refused_by_name_in_one_message(tmp_path):
    """clip, custom activations and sequences of several lengths: each op named with its reason, all at once."""
    rng = np.random.default_rng(3)
    weights = {"W": _f32(rng, 1, 4 * H, I), "R": _f32(rng, 1, 4 * H, H), "Wg": _f32(rng, 1, 3 * H, H),
               "Rg": _f32(rng, 1, 3 * H, H), "Wr": _f32(rng, 1, H, I), "Rr": _f32(rng, 1, H, H)}
    nodes = [helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=H, clip=3.0, name="clipped"),
             helper.make_node("Squeeze", ["y", "axes"], ["y1"]),
             helper.make_node("GRU", ["y1", "Wg", "Rg"], ["z"], hidden_size=H, activations=["Relu", "Tanh"], name="relu_gru"),
             helper.make_node("RNN", ["x", "Wr", "Rr", "", "lens"], ["unused"], hidden_size=H, name="ragged")]
    graph = helper.make_graph(nodes, "refused", [_value("x", [T, B, I])], [_value("z", [T, 1, B, H])],
                              [numpy_helper.from_array(v, k) for k, v in weights.items()]
                              + [numpy_helper.from_array(np.array([1], np.int64), "axes"),
                                 numpy_helper.from_array(np.array([T, T - 1], np.int32), "lens")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 7
    onnx.save(model, str(tmp_path / "model.onnx"))
    with pytest.raises(UnsupportedOpsError) as error:
        capture_onnx_file(tmp_path / "model.onnx", out=tmp_path / "bundle")
    text = str(error.value)
    assert "onnx.LSTM" in text and "clip" in text
    assert "onnx.GRU" in text and "activations" in text and "Relu" in text
    assert "onnx.RNN" in text and f"sequence_lens [{T}, {T - 1}]" in text
