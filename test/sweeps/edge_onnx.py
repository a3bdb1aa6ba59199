"""The held-out edge models as .onnx: small look-alikes of face detection, face and hand landmark,
segmentation, OCR, voice-activity and wake-word models (edge_onnx_models.py), each exported at
opsets 7, 9, 11, 13 and 17 by the TorchScript exporter (dynamo=False, with dynamic axes) and at
opset 18 by the dynamo exporter (edge_onnx_export.py), captured from the file at the
model's static input shapes (what `edgespec capture FILE.onnx --input-shape ...` does, run in this
process), built for the target, run on the bundle's seeded
input and compared with onnxruntime's output. Writes a table (docs/edge-models-onnx.md).

    .venv/bin/python test/sweeps/edge_onnx.py [--models REGEX] [--variants REGEX] [--target T] [--out FILE] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_common import REPO, CaseResult, build_and_run, head_commit, machine_line, one_line, publish  # noqa: E402
from edge_onnx_models import MODELS, EdgeModel  # noqa: E402
from edge_onnx_export import VARIANTS, export  # noqa: E402


def run_case(model: EdgeModel, variant: str, work: Path, target: str) -> CaseResult:
    from edgespec.capture.onnx.capture import capture_onnx_file
    from edgespec.errors import EdgespecError

    started = time.monotonic()
    label = f"{model.name}/{variant}"
    path = work / f"{model.name}_{variant}.onnx"
    detail: dict = {}
    seconds = lambda: time.monotonic() - started  # noqa: E731
    try:
        detail["export"] = export(model, variant, path)
    except Exception as e:  # an exporter's refusal is recorded, not a failure of edgespec
        return CaseResult(label, "skipped", "export", one_line(f"{type(e).__name__}: {e}"), detail, seconds())
    bundle = work / f"{model.name}_{variant}"
    try:  # what `edgespec capture FILE.onnx --input-shape ...` runs, in this process
        captured = capture_onnx_file(path, out=bundle, name=f"{model.name}_{variant}", input_shapes=model.shapes,
                                     input_values=model.values)
    except EdgespecError as e:
        return CaseResult(label, "fail", "capture", one_line(e), detail, seconds())
    except Exception as e:  # the sweep records every failure and goes on
        return CaseResult(label, "fail", "capture", one_line(f"{type(e).__name__}: {e}"), detail, seconds())
    report, stage, message = build_and_run(bundle, target, None)
    if report is None:
        return CaseResult(label, "fail", stage, one_line(message), detail, seconds())
    agreement = report.get("agreement") or {}
    detail.update({k: agreement.get(k) for k in ("max_abs_error", "max_abs_reference")})
    if report["status"] != "ok":
        message = report.get("error") or report["status"]
        moved = [n for n in captured.notes if "on-the-fly quantization moves its output" in n]
        if moved:  # a dynamically quantized LSTM: how far onnxruntime's own rounding inside it is from float32
            message += "; " + moved[0].split(": expect")[0].replace("on the reference input, ", "")
        inexact = [n for n in captured.notes if "MatMulInteger sums saturate" in n]
        if inexact:  # onnxruntime's saturated MatMulInteger sums on this x86 CPU, which the image does not copy
            message += "; " + inexact[0].split(". ")[0]
        return CaseResult(label, "fail", "compare", one_line(message), detail, seconds())
    return CaseResult(label, "pass", detail=detail, seconds=seconds())


def markdown(results: List[CaseResult], seconds: float, target: str, selection: str, commit: str) -> str:
    tried = [r for r in results if r.status != "skipped"]
    passed = sum(r.status == "pass" for r in tried)
    kinds = {m.name: m.kind for m in MODELS}
    lines = [
        "# Edge models as .onnx",
        "",
        "Small look-alikes of the models edge users download as .onnx (test/sweeps/edge_onnx_models.py: face",
        "detection (RetinaFace / Ultra-Light, OpenCV zoo's YuNet), face and hand landmarks, segmentation, OCR",
        "detection and recognition (PaddleOCR's DB with a MobileNetV3 backbone, its SVTR recognizer, a CRNN),",
        "voice activity, wake word (openWakeWord's melspectrogram front end, embedding CNN and head), with seeded",
        "weights and batch-norm statistics, exported by `torch.onnx.export(dynamo=False)` at",
        "opsets 7, 9, 11, 13 and 17 with the dynamic axes real exports declare (an opset the exporter refuses is",
        "reached with `onnx.version_converter` from its opset-9 export; where the converter needs an Upsample's",
        "scale as a constant, the static-shape export's computed scale is folded to one first, as files of that",
        "era carried it) and by the dynamo exporter at opset 18;",
        "captured from the file at the model's input shapes (`capture_onnx_file(..., input_shapes=...)`, what",
        f"`edgespec capture FILE.onnx --input-shape ...` runs), built for `{target}`, run on the bundle's",
        "seeded input and compared with onnxruntime's output (`edgespec run`'s agreement). Written by",
        "`npm run edge-onnx` (test/sweeps/edge_onnx.py).",
        "",
        "Quantized and float16 rows are made from the opset-13 export (test/sweeps/edge_onnx_export.py):",
        "`onnxruntime.quantization.quantize_static` on 8 seeded calibration inputs in QDQ format with uint8",
        "activations, QDQ with int8 activations and per-channel weights, and QOperator (QLinearConv, QLinearAdd,",
        "...) with uint8 activations, all with 7-bit weights (`reduce_range`, onnxruntime's advice on x86 without",
        "VNNI, where its u8 x s8 kernels add pairs of products in saturating int16: with full-range weights",
        "onnxruntime's output of the PFLD look-alike is 44 % of its range away from onnxruntime's own unfused",
        "DequantizeLinear -> op -> QuantizeLinear arithmetic, which the image matches); `quantize_dynamic`; and",
        "`onnxconverter_common.float16` with float16 inputs and outputs. Static rows build int8 with the model's",
        "own scales and zero points (held to the int8 bar: 5 % of the largest output, top-1 up to ties); float16",
        "rows compute in float32. Dynamic rows round each MatMulInteger / ConvInteger input as onnxruntime's",
        "DynamicQuantizeLinear does (`quantize_dynamic`) and compute the exact integer sums in float on the weights'",
        "real values (a DynamicQuantizeLSTM's input and its state before each step likewise); they are held to the int8 bar,",
        "since a value within float rounding of a rounding tie may round the other way (face_detector and",
        "hand_landmarks: 0.04 % and 0.2 % of the output). Where onnxruntime's x86 kernels without VNNI saturate a",
        "MatMulInteger's uint8 x int8 pair sums in int16, the capture says so and how far that moves onnxruntime's",
        "output: such a row fails by that saturation, which onnxruntime on ARM64 does not have. A float16 row's",
        "outputs are rounded to float16 as onnxruntime's are, and held to 2e-3 of the largest output.",
        "",
        f"Machine: {machine_line()}; {seconds / 60:.1f} min in all; commit {commit or 'unknown'}."
        + (f" This run: {selection}." if selection else ""),
        "",
        f"**{passed} of {len(tried)} exports pass** ({len(results) - len(tried)} refused by the exporter).",
        "",
        "A `skipped` row is an export the exporter (or onnx's version converter) refuses: bilinear resizing",
        "with align_corners=True before opset 11 or torch.gather at opset 7; a file the exporter writes invalid",
        "for its opset, which onnxruntime refuses to load (GELU's Erf, an opset-9 op, in an opset-7 file); or a",
        "converted file onnxruntime itself crashes on (the Silero-v5 look-alike's float16 conversion: SIGSEGV",
        "creating the session, tried in a child process).",
        "",
        "Known gaps that these look-alikes do not carry (edgespec refuses them with the op named): `If` on a",
        "value computed at run time that no input binding settles (the real Silero VAD branches on its `sr`",
        "input: `--input-value sr=16000` binds it and the `If` is inlined, as the silero_v5_like_vad rows",
        "show; an `If` on a shape test is inlined once the input shapes are given) and `Loop`; GatherElements",
        "whose indices are computed at run time (Gather with indices from an integer input is supported).",
        "",
        "| model | what it stands for | export | how exported | result | stage | max abs error / max abs ref | why | seconds |",
        "|---|---|---|---|---|---|---|---|---:|",
    ]
    for r in results:
        name, variant = r.name.split("/", 1)
        d = r.detail
        ratio = ""
        if d.get("max_abs_error") is not None and d.get("max_abs_reference") is not None:
            ratio = f"{d['max_abs_error']:.2e} / {d['max_abs_reference']:.3g}"
        cells = [name, kinds.get(name, ""), variant, str(d.get("export", "")), r.status, r.stage, ratio, r.message, f"{r.seconds:.0f}"]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_from_json(files: List[Path], args) -> int:
    """One table from the parts of a sweep run separately (--models), rows in the models' and exports' order."""
    rows = {}
    for file in files:
        for row in json.loads(file.read_text()):
            rows[row["name"]] = CaseResult(**row)
    order = [f"{m.name}/{v}" for m in MODELS for v in VARIANTS]
    results = [rows[name] for name in order if name in rows]
    parts = "; ".join(p for p in (f"{len(files)} parts run separately" if len(files) > 1 else "", args.note) if p)
    publish(args.out, markdown(results, sum(r.seconds for r in results), args.target, parts, head_commit()), results, None,
            [r for r in results if r.status != "skipped"], "exports pass")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="only models whose name matches this regular expression")
    parser.add_argument("--variants", help="only exports (opset7 ... opset17, dynamo18) matching this regular expression")
    parser.add_argument("--target", default="host", help="the target to build and run for (default host)")
    parser.add_argument("--out", default=str(REPO / "docs" / "edge-models-onnx.md"))
    parser.add_argument("--json", help="also write the results as JSON here")
    parser.add_argument("--note", default="", help="a sentence for the table's machine line (e.g. which commits the parts ran on)")
    parser.add_argument("--from-json", nargs="+", metavar="FILE",
                        help="run nothing: write the table from these --json files of earlier runs (parts of one sweep)")
    args = parser.parse_args(argv)
    if args.from_json:
        return write_from_json([Path(f) for f in args.from_json], args)
    cases = [(m, v) for m in MODELS if not args.models or re.search(args.models, m.name)
             for v in VARIANTS if not args.variants or re.search(args.variants, v)]
    selection = "; ".join(s for s in (f"models matching `{args.models}`" if args.models else "",
                                      f"exports matching `{args.variants}`" if args.variants else "") if s)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="edgespec-edge-onnx-"))
    results: List[CaseResult] = []
    try:
        for i, (model, variant) in enumerate(cases):
            result = run_case(model, variant, work, args.target)
            results.append(result)
            print(f"[{i + 1}/{len(cases)}] {result.name}: {result.status} {result.stage} {result.message} ({result.seconds:.0f} s)", flush=True)
            shutil.rmtree(work / f"{model.name}_{variant}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish(args.out, markdown(results, time.monotonic() - started, args.target, selection, head_commit()), results,
            args.json, [r for r in results if r.status != "skipped"], "exports pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
