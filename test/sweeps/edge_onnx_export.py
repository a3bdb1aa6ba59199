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
VARIANTS: List[str] = [f"opset{o}" for o in LEGACY_OPSETS] + [f"dynamo{DYNAMO_OPSET}"]
CONVERT_FROM = 9  # the oldest opset every look-alike exports at


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


def export(model: EdgeModel, variant: str, path: Path) -> str:
    """Writes PATH; returns how it was made. Raises what the exporter or converter raised."""
    sink = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(sink), redirect_stderr(sink):
        warnings.simplefilter("ignore")
        if variant.startswith("dynamo"):
            return _dynamo(model, path)
        opset = int(variant[len("opset"):])
        try:
            _legacy(model, path, opset)
            return f"torch.onnx.export(dynamo=False), opset {opset}, dynamic axes"
        except Exception as refused:
            if opset >= CONVERT_FROM:
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
                converted = version_converter.convert_version(onnx.load(str(path)), opset)
                how = how.replace("export converted", "export (static shapes) converted")
            onnx.save(converted, str(path))
            return how
