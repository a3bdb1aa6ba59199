"""Export an edge look-alike (edge_onnx_models.py) to .onnx the ways real ones were made: the
TorchScript exporter (dynamo=False) at an opset, with the model's dynamic axes; opsets it
refuses are reached with onnx's version converter from its oldest export; the dynamo
exporter at opset 18. Says how the file was made."""
from __future__ import annotations

import io
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import List

from edge_onnx_models import EdgeModel, build, example_inputs

LEGACY_OPSETS = (7, 9, 11, 13, 17)
DYNAMO_OPSET = 18
# onnxruntime.quantization's outputs (and onnxconverter_common's float16) made from the opset-13 export
QUANTIZED = ("qdq_uint8", "qdq_int8_per_channel", "qoperator_uint8", "dynamic", "float16")
VARIANTS: List[str] = [f"opset{o}" for o in LEGACY_OPSETS] + [f"dynamo{DYNAMO_OPSET}"] + list(QUANTIZED)
CONVERT_FROM = 9  # the oldest opset every look-alike exports at
QUANTIZE_FROM = 13
CALIBRATION_INPUTS = 8


def _legacy(model: EdgeModel, path: Path, opset: int, dynamic: bool = True) -> None:
    import torch

    module, inputs = build(model), example_inputs(model)
    torch.onnx.export(module, inputs, str(path), opset_version=opset, dynamo=False, input_names=model.input_names,
                      output_names=model.output_names, dynamic_axes=(model.dynamic_axes or None) if dynamic else None)


def _dynamo(model: EdgeModel, path: Path) -> str:
    import torch

    module, inputs = build(model), example_inputs(model)
    try:
        program = torch.onnx.export(module, inputs, dynamo=True, opset_version=DYNAMO_OPSET, input_names=model.input_names,
                                    output_names=model.output_names, dynamic_axes=model.dynamic_axes or None)
        how = f"dynamo exporter, opset {DYNAMO_OPSET}, dynamic axes"
    except Exception:
        program = torch.onnx.export(module, inputs, dynamo=True, opset_version=DYNAMO_OPSET, input_names=model.input_names,
                                    output_names=model.output_names)
        how = f"dynamo exporter, opset {DYNAMO_OPSET}, static shapes (dynamic axes refused)"
    program.save(str(path))
    return how


class _Calibration:
    """Seeded inputs in the model's shapes (onnxruntime.quantization.CalibrationDataReader); bound inputs at their value."""

    def __init__(self, model: EdgeModel):
        import numpy as np

        rng = np.random.default_rng(1)
        dtype = np.float64 if "64" in str(model.dtype) else np.float32
        self.batches = iter([{**{name: rng.standard_normal(shape).astype(dtype) for name, shape in zip(model.input_names, model.shapes)},
                              **{name: np.array(value, dtype=np.int64) for name, value in model.values.items()}}
                             for _ in range(CALIBRATION_INPUTS)])

    def get_next(self):
        return next(self.batches, None)


def _onnxruntime_loads(path: Path) -> None:
    """onnxruntime crashes (SIGSEGV) on some converted files (the Silero-v5 look-alike's float16 conversion, with
    its If branches): tried in a child process, so that the sweep records it and goes on."""
    import subprocess
    import sys

    code = f"import onnxruntime; onnxruntime.InferenceSession({str(path)!r}, providers=['CPUExecutionProvider'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if done.returncode < 0:
        raise RuntimeError(f"onnxruntime crashes (signal {-done.returncode}) creating a session for the converted file")


class InvalidExport(ValueError):
    """The exporter wrote a file that is not valid ONNX at its opset (onnxruntime refuses to load it)."""


def _valid_for_onnxruntime(path: Path, opset: int) -> None:
    """torch's TorchScript exporter writes GELU's Erf (an opset-9 op) into an opset-7 file: not a model anyone could
    have shipped, and onnxruntime refuses it. Such an export is the exporter's failure, not a row to capture."""
    import onnxruntime

    try:
        onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:
        if "INVALID_GRAPH" in str(e) or "No Op registered" in str(e) or "No opset import" in str(e):
            said = " ".join(str(e).replace(f"Load model from {path} failed:", "").split())
            raise InvalidExport(f"the opset-{opset} file is invalid, onnxruntime refuses it: {said[:160]}")


def _quantized(model: EdgeModel, variant: str, path: Path) -> str:
    import onnx

    _legacy(model, path, QUANTIZE_FROM)
    made = f"opset-{QUANTIZE_FROM} export, "
    if variant == "float16":
        from onnxconverter_common import float16

        onnx.save(float16.convert_float_to_float16(onnx.load(str(path)), keep_io_types=False), str(path))
        _onnxruntime_loads(path)
        return made + "onnxconverter_common float16 (float16 inputs and outputs)"
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    source = path.with_name(path.stem + "_float.onnx")
    path.rename(source)
    if variant == "dynamic":
        quantize_dynamic(str(source), str(path))
        return made + "quantize_dynamic (int8 weights)"
    quant_format = QuantFormat.QOperator if variant.startswith("qoperator") else QuantFormat.QDQ
    activations = QuantType.QInt8 if "_int8" in variant else QuantType.QUInt8
    per_channel = "per_channel" in variant
    # 7-bit weights (reduce_range), as onnxruntime advises on x86 without VNNI: its u8 x s8 kernels there add pairs
    # of products in saturating int16 (vpmaddubsw), which full-range weights overflow (PFLD: 44 % of the output)
    quantize_static(str(source), str(path), _Calibration(model), quant_format=quant_format, activation_type=activations,
                    per_channel=per_channel, reduce_range=True)
    return (made + f"quantize_static {'QOperator' if quant_format == QuantFormat.QOperator else 'QDQ'}, "
            f"{'int8' if activations == QuantType.QInt8 else 'uint8'} activations, 7-bit int8 weights "
            f"{'per channel' if per_channel else 'per tensor'}, {CALIBRATION_INPUTS} seeded calibration inputs")


def export(model: EdgeModel, variant: str, path: Path) -> str:
    """Writes PATH; returns how it was made. Raises what the exporter or converter raised."""
    sink = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(sink), redirect_stderr(sink):
        warnings.simplefilter("ignore")
        if variant in QUANTIZED:
            return _quantized(model, variant, path)
        if variant.startswith("dynamo"):
            return _dynamo(model, path)
        opset = int(variant[len("opset"):])
        try:
            _legacy(model, path, opset)
            _valid_for_onnxruntime(path, opset)
            return f"torch.onnx.export(dynamo=False), opset {opset}, dynamic axes"
        except Exception as refused:
            if opset >= CONVERT_FROM or isinstance(refused, InvalidExport):
                raise
            import onnx
            from onnx import version_converter

            reason = " ".join(str(refused).split())[:80]
            how = f"opset {CONVERT_FROM} export converted to {opset} by onnx.version_converter (the exporter refused: {reason})"
            _legacy(model, path, CONVERT_FROM)
            try:
                converted = version_converter.convert_version(onnx.load(str(path)), opset)
            except Exception:  # a computed Upsample scale has no opset-7 form: static shapes, as files of that era had
                _legacy(model, path, CONVERT_FROM, dynamic=False)
                static, folded = _constant_upsample_scales(onnx.load(str(path)), model)
                converted = version_converter.convert_version(static, opset)
                how = how.replace("export converted", "export (static shapes"
                                  + (f", {folded} Upsample scales folded to constants" if folded else "") + ") converted")
            onnx.save(converted, str(path))
            return how


def _constant_upsample_scales(model_proto, model: EdgeModel):
    """MODEL_PROTO (a static-shape export) with each Upsample's `scales` input that a subgraph computes (from Shape,
    Div, Concat, ... or a Constant node) replaced by an initializer of its value, and the nodes left unused removed:
    the constant scale an opset-7 Upsample attribute needs, which onnx's version converter can only take from an
    initializer. Valid at the export's static input shapes only. Returns (model, how many scales were folded)."""
    import numpy as np
    import onnx
    import onnxruntime
    from onnx import numpy_helper

    graph = model_proto.graph
    initializers = {i.name for i in graph.initializer}
    computed = sorted({n.input[1] for n in graph.node if n.op_type == "Upsample" and len(n.input) > 1
                       and n.input[1] not in initializers})
    if not computed:
        return model_proto, 0
    probe = onnx.ModelProto()
    probe.CopyFrom(model_proto)
    probe.graph.output.extend([onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in computed])
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.asarray(v.numpy()) for i, v in zip(session.get_inputs(), example_inputs(model))}
    values = session.run(computed, feeds)
    for name, value in zip(computed, values):
        graph.initializer.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
    producers = [n for n in graph.node if set(n.output) & set(computed)]
    for node in producers:
        graph.node.remove(node)
    needed = {o.name for o in graph.output}
    for node in reversed(list(graph.node)):  # drop what no longer feeds an output
        if set(node.output) & needed:
            needed.update(node.input)
        else:
            graph.node.remove(node)
    return model_proto, len(computed)
