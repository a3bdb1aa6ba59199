"""Quantized and float16 ONNX models (issue 13): onnxruntime.quantization's static QDQ (uint8 and int8
activations, per tensor and per channel), QOperator and dynamic output, captured (capture/onnx/quantized.py),
built for the host with the model's own int8 quantization (or in float32 for dynamic and float16 models)
and run against onnxruntime's output on the same file.

Measured on the model below (seed 0): QDQ and QOperator with 7-bit weights (reduce_range) bit for bit; with
full-range weights within 4 steps of the output's quantization on an x86 CPU without VNNI, where onnxruntime's
own int16 pair sums saturate (the run's int8 bar is 5 % of the largest reference value); dynamic within its
activations' quantization (held to the same int8 bar); float16 with float inputs bit for bit (onnxruntime's
CPU kernels compute the float16 model in float32)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

from diff_cli import cli

from edgespec.capture.onnx.capture import capture_onnx_file
from edgespec.errors import ModelInputError

SHAPE = (1, 3, 16, 16)


class SmallNet(nn.Module):
    """Conv + ReLU, depthwise conv, a residual add, a pointwise conv, SiLU as sigmoid x mul, global mean, linear."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.c3 = nn.Conv2d(8, 16, 1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        y = torch.relu(self.c1(x))
        z = self.c3(torch.relu(self.c2(y)) + y)
        return self.fc((torch.sigmoid(z) * z).mean((2, 3)))


@pytest.fixture(scope="module")
def float_model(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("onnx_quantized") / "float.onnx"
    torch.onnx.export(SmallNet().eval(), (torch.randn(*SHAPE),), str(path), dynamo=False, opset_version=13,
                      input_names=["x"], output_names=["y"])
    return path


class _Calibration:
    """Eight seeded inputs (onnxruntime.quantization.CalibrationDataReader)."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.batches = iter([{"x": rng.standard_normal(SHAPE).astype(np.float32)} for _ in range(8)])

    def get_next(self):
        return next(self.batches, None)


def _quantized(float_model: Path, kind: str, reduce_range: bool = False) -> Path:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    out = float_model.parent / f"{kind}{'_7bit' if reduce_range else ''}.onnx"
    if out.exists():
        return out
    static = {"qdq_uint8": (QuantFormat.QDQ, QuantType.QUInt8, False),
              "qdq_int8_per_channel": (QuantFormat.QDQ, QuantType.QInt8, True),
              "qoperator": (QuantFormat.QOperator, QuantType.QUInt8, False)}
    if kind in static:
        quant_format, activation_type, per_channel = static[kind]
        quantize_static(str(float_model), str(out), _Calibration(), quant_format=quant_format,
                        activation_type=activation_type, per_channel=per_channel, reduce_range=reduce_range)
    elif kind == "dynamic":
        quantize_dynamic(str(float_model), str(out), reduce_range=reduce_range)
    elif kind == "qdq_convs_only":  # the other ops stay float between quantized convolutions
        quantize_static(str(float_model), str(out), _Calibration(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, reduce_range=True, op_types_to_quantize=["Conv"])
    elif kind.startswith("float16"):
        from onnxconverter_common import float16

        onnx.save(float16.convert_float_to_float16(onnx.load(str(float_model)), keep_io_types=kind == "float16_float_io"),
                  str(out))
    return out


def _host_run(bundle: Path, agreeing: bool = True) -> dict:
    out = bundle / "build" / "host"
    code, events, stderr = cli(["build", str(bundle), "--target", "host", "--out", str(out)])
    assert code == 0, f"{events[-3:]}\n{stderr[-2000:]}"
    code, events, _ = cli(["run", str(out)])
    [report] = [e["data"] for e in events if e["event"] == "result"]
    if agreeing:
        assert code == 0 and report["status"] == "ok", report.get("agreement")
    return report


def _output_step(graph: dict) -> float:
    """The scale of the int8 tensor dequantized into the graph's output."""
    [node] = [n for n in graph["nodes"] if n["op"] == "dequantize"]
    return graph["tensors"][node["inputs"][0]]["quantization"]["scale"][0]


# reduce_range (7-bit weights): onnxruntime's x86 kernels without VNNI add pairs of uint8 x int8 products in
# saturating int16 (vpmaddubsw), which full-range weights can overflow; 7-bit weights cannot, and then the image
# agrees with onnxruntime bit for bit. With full-range weights on such a CPU they differ where onnxruntime saturated.
@pytest.mark.parametrize("kind,reduce_range,steps", [
    ("qdq_uint8", True, 0), ("qdq_int8_per_channel", True, 0), ("qoperator", True, 0),
    ("qdq_uint8", False, 4), ("qdq_int8_per_channel", False, 4), ("qoperator", False, 4)])
def test_statically_quantized_models_build_int8_and_agree_with_onnxruntime(float_model, kind, reduce_range, steps, tmp_path):
    captured = capture_onnx_file(_quantized(float_model, kind, reduce_range), out=tmp_path / "bundle")
    graph = json.loads((captured.path / "graph.json").read_text())
    ops = [n["op"] for n in graph["nodes"]]
    assert ops[0] == "quantize" and ops[-1] == "dequantize" and ops.count("conv2d") == 3 and "linear" in ops
    quantized = [t for t in graph["tensors"].values() if "quantization" in t]
    assert sum(t["kind"] == "activation" for t in quantized) >= 9
    weights = [t for t in quantized if t["kind"] == "weight"]
    assert {t["dtype"] for t in weights} == {"int8", "int32"} and len(weights) == 8
    assert any(len(t["quantization"]["scale"]) > 1 for t in weights) == (kind == "qdq_int8_per_channel")
    assert any("uint8 run as int8" in note for note in captured.notes) == (kind != "qdq_int8_per_channel")
    report = _host_run(captured.path)
    agreement = report["agreement"]
    assert agreement["max_abs_error"] <= steps * _output_step(graph) + 1e-7, agreement
    assert agreement["top1_match"]


def test_a_dynamically_quantized_model_rounds_its_inputs_as_onnxruntime_does(float_model, tmp_path):
    """onnxruntime quantizes each MatMulInteger / ConvInteger input on the fly (DynamicQuantizeLinear); the image
    does the same rounding (quantize_dynamic) before float ops on the weights' real values, so it agrees with
    onnxruntime to float rounding, where computing in float32 without the rounding was 7 % off. The capture no
    longer says the two differ. 7-bit weights (reduce_range): with full-range int8 weights onnxruntime's x86
    kernels without VNNI saturate the int16 sums of uint8 x int8 pairs (measured on this model's MatMulInteger:
    -11278 where the exact sum is -6330), which onnxruntime on ARM64 and the image do not."""
    from safetensors.numpy import load_file

    captured = capture_onnx_file(_quantized(float_model, "dynamic", reduce_range=True), out=tmp_path / "bundle")
    graph = json.loads((captured.path / "graph.json").read_text())
    assert not any("quantization" in t for t in graph["tensors"].values())
    assert graph["op_inventory"]["onnx.ConvInteger"] == 3 and graph["op_inventory"]["onnx.MatMulInteger"] == 1
    assert [n["op"] for n in graph["nodes"]].count("quantize_dynamic") == 4
    assert any("dynamically quantized (hybrid)" in note and "the same sums" in note for note in captured.notes)
    assert not any("on-the-fly quantization moves" in note or "MatMulInteger sums saturate" in note for note in captured.notes)
    reference = load_file(str(captured.path / "reference.safetensors"))
    agreement = _host_run(captured.path, agreeing=False)["agreement"]
    largest = float(np.max(np.abs(reference["output.0"])))
    assert agreement["max_abs_error"] <= 1e-5 * largest, agreement
    assert agreement["top1_match"]


def _cpu_has_vnni() -> bool:
    """x86 VNNI (AVX-512 or AVX): onnxruntime's int8 MatMulInteger then sums with vpdpbusd, exactly."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\bavx(512)?_vnni\b", flags))


def test_onnxruntimes_saturated_sums_are_said_and_the_image_keeps_the_exact_ones(float_model, tmp_path):
    """With full-range int8 weights onnxruntime on an x86 CPU without VNNI saturates the int16 pair sums of the
    model's MatMulInteger; the capture checks its sums against the exact ones of its own inputs and says so, with
    how far that moves the output. The image computes the exact sums: its distance from the reference is that
    (measured 0.0198, 7 % of the largest output; the note gives 3 digits), not more. With VNNI (an AMD Zen 4 in
    session 10) onnxruntime's sums are exact: no note, and the image agrees as with reduced-range weights."""
    captured = capture_onnx_file(_quantized(float_model, "dynamic"), out=tmp_path / "bundle")
    saturated = [note for note in captured.notes if "MatMulInteger sums saturate" in note]
    if _cpu_has_vnni():
        from safetensors.numpy import load_file

        assert saturated == [], saturated
        reference = load_file(str(captured.path / "reference.safetensors"))
        agreement = _host_run(captured.path, agreeing=False)["agreement"]
        assert agreement["max_abs_error"] <= 1e-5 * float(np.max(np.abs(reference["output.0"]))), agreement
        assert agreement["top1_match"]
        return
    [said] = saturated
    assert "(1 of the model's 1 nodes" in said and "saturating int16" in said, said
    moved = float(said.split("moves its output ")[1].split(" ")[0])
    agreement = _host_run(captured.path, agreeing=False)["agreement"]
    assert moved > 0 and abs(agreement["max_abs_error"] - moved) <= 1e-5 * agreement["max_abs_reference"] + 5e-3 * moved, (agreement, moved)


def test_a_relu_the_quantizer_removed_still_clamps_a_1d_convolution(tmp_path):
    """onnxruntime's QDQ quantizer drops the Relu after a convolution and lets the output's quantization (range
    [0, max]) clamp it. A Conv1d is a conv2d whose 4-D result is reshaped: that result is quantized too, so the
    image holds it in int8 and clamps as onnxruntime does (before, it stayed float and negatives leaked through)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    class Audio(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv1d(4, 8, 3, padding=1), nn.Conv1d(8, 6, 3, padding=1)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)))

    class Calibration:
        def __init__(self):
            rng = np.random.default_rng(0)
            self.batches = iter([{"x": rng.standard_normal((1, 4, 16)).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.batches, None)

    torch.manual_seed(0)
    float_path, path = tmp_path / "float.onnx", tmp_path / "qdq.onnx"
    torch.onnx.export(Audio().eval(), (torch.randn(1, 4, 16),), str(float_path), dynamo=False, opset_version=13,
                      input_names=["x"], output_names=["y"])
    quantize_static(str(float_path), str(path), Calibration(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, reduce_range=True)
    assert "Relu" not in {n.op_type for n in onnx.load(str(path)).graph.node}
    captured = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = json.loads((captured.path / "graph.json").read_text())
    agreement = _host_run(captured.path)["agreement"]
    assert agreement["max_abs_error"] <= _output_step(graph) + 1e-7, agreement


def test_a_dynamically_quantized_lstm_rounds_its_input_and_state_as_onnxruntime_does(tmp_path):
    """quantize_dynamic writes com.microsoft DynamicQuantizeLSTM (weights [D, input, 4H] int8), which quantizes its
    whole input, then its state before each step, at run time: captured as an ONNX LSTM with the weights dequantized
    and transposed, the input rounded once and the state before each recurrent product (quantize_dynamic). Forward
    and bidirectional, 7-bit weights (reduce_range: no int16 saturation on x86 without VNNI), the image agrees with
    onnxruntime to float rounding (measured 3e-8 and 1.5e-8 of the largest output, where the float LSTM was 0.5 % and
    0.8 % off)."""
    from onnxruntime.quantization import quantize_dynamic

    class Voice(nn.Module):
        def __init__(self, bidirectional: bool):
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True, bidirectional=bidirectional)
            self.head = nn.Linear(32 if bidirectional else 16, 3)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    for bidirectional in (False, True):
        torch.manual_seed(0)
        float_path, path = tmp_path / f"float{bidirectional}.onnx", tmp_path / f"dynamic{bidirectional}.onnx"
        torch.onnx.export(Voice(bidirectional).eval(), (torch.randn(1, 5, 8),), str(float_path), dynamo=False,
                          opset_version=14, input_names=["x"], output_names=["y"])
        quantize_dynamic(str(float_path), str(path), reduce_range=True)
        assert "DynamicQuantizeLSTM" in {n.op_type for n in onnx.load(str(path)).graph.node}
        captured = capture_onnx_file(path, out=tmp_path / f"bundle{bidirectional}")
        graph = json.loads((captured.path / "graph.json").read_text())
        assert graph["op_inventory"]["onnx.com.microsoft.DynamicQuantizeLSTM"] == 1 and "tanh" in [n["op"] for n in graph["nodes"]]
        # the input once, the state before steps 2-5 of each direction, the head's input
        directions = 2 if bidirectional else 1
        assert [n["op"] for n in graph["nodes"]].count("quantize_dynamic") == 1 + 4 * directions + 1
        assert any("1 DynamicQuantizeLSTM node became LSTMs" in note for note in captured.notes), captured.notes
        agreement = _host_run(captured.path)["agreement"]
        assert agreement["max_abs_error"] <= 1e-5 * agreement["max_abs_reference"], (bidirectional, agreement)


@pytest.mark.parametrize("kind", ["float16_float_io", "float16"])
def test_a_float16_model_is_cast_to_float32_and_held_to_the_float16_bar(float_model, kind, tmp_path):
    """With float16 inputs and outputs onnxruntime rounds the output to float16 (measured 5.5e-5 here, 2e-4 of
    the largest value); with float32 ones its CPU kernels compute in float32 and agree to 3e-8."""
    captured = capture_onnx_file(_quantized(float_model, kind), out=tmp_path / "bundle")
    assert any("computes in float16" in note for note in captured.notes)
    graph = json.loads((captured.path / "graph.json").read_text())
    assert graph["reference"].get("arithmetic") == ("float16" if kind == "float16" else None)
    assert graph["inputs"][0]["dtype"] == "float32"
    agreement = _host_run(captured.path)["agreement"]
    assert agreement["max_abs_error"] <= (1e-3 if kind == "float16" else 1e-6) * agreement["max_abs_reference"]


def test_ops_the_model_leaves_in_float_run_in_fp32_between_int8_ops(float_model, tmp_path):
    """Quantized convolutions only: the adds, sigmoid, mean and linear compute float32 values (no quantization in
    the bundle), which the int8 build runs in fp32 with the convolutions' outputs dequantized."""
    captured = capture_onnx_file(_quantized(float_model, "qdq_convs_only", True), out=tmp_path / "bundle")
    graph = json.loads((captured.path / "graph.json").read_text())
    floats = [t for t in graph["tensors"].values() if t["kind"] == "activation" and t["dtype"] == "float32"]
    assert floats and any(t["dtype"] == "int8" for t in graph["tensors"].values() if t["kind"] == "activation")
    agreement = _host_run(captured.path)["agreement"]
    assert agreement["max_abs_error"] <= 2e-3 * agreement["max_abs_reference"], agreement


def test_a_model_with_a_quantized_input_is_refused_by_name(tmp_path):
    """edgespec's inputs are float32: a uint8 model input read through DequantizeLinear is named in the error."""
    graph = helper.make_graph(
        [helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["x"]), helper.make_node("Relu", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("xq", TensorProto.UINT8, [1, 4])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.array(0.1, np.float32), "s"), numpy_helper.from_array(np.array(128, np.uint8), "z")])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ModelInputError, match="input 'xq' is quantized"):
        capture_onnx_file(path, out=tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def test_a_slice_quantized_to_its_own_range_is_requantized_as_onnxruntime_does(tmp_path):
    """onnxruntime's QOperator quantizer leaves a Slice of a convolution's output in float and quantizes each half
    to its own calibrated range (the Silero-like VAD's real and imaginary halves). Copying the convolution's codes
    would read them in the wrong scale (that VAD's LSTM state was 9 % off): the slice writes float32 and a
    quantize node rounds it to the slice's own parameters, as onnxruntime computes it."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    class Spectrum(nn.Module):
        def __init__(self):
            super().__init__()
            self.basis = nn.Conv1d(1, 16, 8, 4, bias=False)
            self.encoder = nn.Conv1d(8, 4, 3, padding=1)

        def forward(self, x):
            real, imag = self.basis(x).chunk(2, dim=1)
            return self.encoder(real * real + 4.0 * imag * imag)

    class Calibration:
        def __init__(self):
            rng = np.random.default_rng(0)
            self.batches = iter([{"x": rng.standard_normal((1, 1, 64)).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.batches, None)

    torch.manual_seed(0)
    module = Spectrum().eval()
    with torch.no_grad():
        module.basis.weight[8:] *= 0.3  # the imaginary half's range differs from the real half's
    float_path, path = tmp_path / "float.onnx", tmp_path / "qoperator.onnx"
    torch.onnx.export(module, (torch.randn(1, 1, 64),), str(float_path), dynamo=False, opset_version=13,
                      input_names=["x"], output_names=["y"])
    quantize_static(str(float_path), str(path), Calibration(), quant_format=QuantFormat.QOperator,
                    activation_type=QuantType.QUInt8, reduce_range=True)
    captured = capture_onnx_file(path, out=tmp_path / "bundle")
    graph = json.loads((captured.path / "graph.json").read_text())
    producers = {o: n for n in graph["nodes"] for o in n["outputs"]}
    requantized = [n for n in graph["nodes"] if n["op"] == "quantize" and producers.get(n["inputs"][0], {}).get("op") == "slice"]
    assert requantized, [n["op"] for n in graph["nodes"]]
    agreement = _host_run(captured.path)["agreement"]
    assert agreement["max_abs_error"] <= 2 * _output_step(graph) + 1e-7, agreement


def test_an_if_branch_reading_a_dequantized_value_reads_it_after_the_rewrite(tmp_path):
    """torch exports squeeze(2) of a dynamically shaped value as an If whose branches read the value by name; in a
    quantized model that value is a DequantizeLinear output, which the rewrite renames. The branches must read
    the new name too, or the If, once its shape test folds, squeezes a value that no longer exists (the SVTR-like
    recognizer as QOperator was refused: "comes from an op edgespec could not map")."""
    scale, zero = numpy_helper.from_array(np.array(0.02, np.float32), "s"), numpy_helper.from_array(np.array(128, np.uint8), "z")
    axes = numpy_helper.from_array(np.array([2], np.int64), "axes")
    two, one = numpy_helper.from_array(np.array(2, np.int64), "two"), numpy_helper.from_array(np.array(1, np.int64), "one")
    value = helper.make_tensor_value_info("branch_out", TensorProto.FLOAT, None)
    squeeze = helper.make_graph([helper.make_node("Squeeze", ["d", "axes"], ["branch_out"])], "then", [], [value])
    keep = helper.make_graph([helper.make_node("Identity", ["d"], ["branch_out"])], "else", [], [value])
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
             helper.make_node("Shape", ["d"], ["shape"]),
             helper.make_node("Gather", ["shape", "two"], ["rows"], axis=0),
             helper.make_node("Equal", ["rows", "one"], ["is_one"]),
             helper.make_node("If", ["is_one"], ["squeezed"], then_branch=squeeze, else_branch=keep),
             helper.make_node("QuantizeLinear", ["squeezed", "s", "z"], ["q2"]),
             helper.make_node("DequantizeLinear", ["q2", "s", "z"], ["y"])]
    graph = helper.make_graph(nodes, "if_branch", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, "H", 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [scale, zero, axes, two, one])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    captured = capture_onnx_file(path, out=tmp_path / "bundle", input_shapes=[[1, 4, 1, 6]])
    graph = json.loads((captured.path / "graph.json").read_text())
    assert graph["outputs"][0]["shape"] == [1, 4, 6]
    assert _host_run(captured.path)["agreement"]["max_abs_error"] <= 0.02 + 1e-6  # within one step of the scale
