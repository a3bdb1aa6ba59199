"""The edge .tflite sweep (issue 13's held-out set): look-alikes of the trained models edge users
deploy (face detection, hand landmark, selfie segmentation, wake word, OCR, voice activity; see
edge_tflite_models.py), each converted by TFLite's converter to every format people ship (float32,
float16 weights, hybrid dynamic-range, full int8 with int8 or float input and output, uint8 input
and output), captured from the .tflite, built for the target, run, and compared with
tf.lite.Interpreter, whose output is the bundle's reference (edgespec run's bar for the model's
arithmetic). Writes docs/edge-models-tflite.md by default.

    .venv/bin/python test/sweeps/edge_tflite.py [--models REGEX] [--formats REGEX] [--target T] [--out FILE] [--json FILE]

TensorFlow runs in a child process per conversion only; the capture runs in the edgespec CLI.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_common import CaseResult, build_and_run, cli, error_of, machine_line, one_line, publish  # noqa: E402
import edge_tflite_models as models  # noqa: E402


@dataclass
class Case:
    model: str
    form: str
    label: str
    options: Dict[str, object] = field(default_factory=dict)
    capture_args: List[str] = field(default_factory=list)


def cases() -> List[Case]:
    # format by format, most telling first, so that a stopped run has covered every model
    order = ["float32", "int8", "hybrid", "float16", "uint8-io", "int8-float-io"]
    found = [Case(m, f, f"{m} {f}") for f in sorted(models.FORMATS, key=order.index) for m in models.MODELS]
    extras: List[Case] = []
    # what real exports also look like: recurrent layers converted without unroll=True (WHILE loops).
    # (A free height and width is test_tflite_shapes.py's: Keras 3 cannot convert this model's bilinear
    # UpSampling2D at a free size.)
    # MediaPipe's segmentation models carry their transposed convolution as a custom op
    extras.append(Case("selfie_segmentation", "float16-mediapipe", "selfie_segmentation float16 MediaPipe custom op"))
    extras.append(Case("voice_activity", "float32", "voice_activity float32 not unrolled", {"unroll": False}))
    extras.append(Case("voice_activity", "int8", "voice_activity int8 not unrolled", {"unroll": False}))
    extras.append(Case("ocr_crnn", "float32", "ocr_crnn float32 not unrolled", {"unroll": False}))
    extras.append(Case("ocr_crnn", "int8", "ocr_crnn int8 not unrolled", {"unroll": False}))
    first = 2 * len(models.MODELS)  # after float32 and int8 of every model
    return found[:first] + extras + found[first:]


def convert_in_child(case: Case, path: Path) -> Dict[str, object]:
    """Converts CASE to PATH in a child process (the converter can crash, e.g. quantizing a WHILE loop's LSTM);
    returns its facts, or raises RuntimeError with the converter's last words."""
    proc = subprocess.run([sys.executable, str(Path(models.__file__)), case.model, case.form, str(path),
                           json.dumps(case.options)], capture_output=True, text=True, timeout=1800)
    facts = [line[6:] for line in proc.stdout.splitlines() if line.startswith("FACTS ")]
    if proc.returncode != 0 or not facts:
        said = [line for line in proc.stderr.splitlines() if "Error" in line or "error:" in line]
        reason = said[-1] if said else (f"killed by signal {-proc.returncode}" if proc.returncode < 0 else proc.stderr[-300:])
        raise RuntimeError(f"the converter failed (exit {proc.returncode}): {reason}")
    return json.loads(facts[-1])


def run_case(case: Case, target: str, work: Path) -> CaseResult:
    started = time.monotonic()
    stem = re.sub(r"\W+", "_", case.label)
    path = work / f"{stem}.tflite"
    try:
        detail: Dict[str, object] = convert_in_child(case, path)
    except Exception as e:  # the sweep records every failure and goes on
        return CaseResult(case.label, "fail", "convert", one_line(f"{type(e).__name__}: {e}"), seconds=time.monotonic() - started)
    detail["tflite_bytes"] = path.stat().st_size
    bundle = work / stem
    code, events = cli(["capture", str(path), "--out", str(bundle), *case.capture_args], timeout=1800)
    if code != 0:
        return CaseResult(case.label, "fail", "capture", one_line(error_of(events)), detail, time.monotonic() - started)
    report, stage, message = build_and_run(bundle, target, None, timeout=1800)
    seconds = time.monotonic() - started
    if report is None:
        return CaseResult(case.label, "fail", stage, one_line(message), detail, seconds)
    agreement = report.get("agreement") or {}
    detail.update({k: agreement.get(k) for k in ("max_abs_error", "max_abs_reference", "top1_match", "bar")})
    if report["status"] != "ok":
        return CaseResult(case.label, "fail", "compare", one_line(report.get("error") or report["status"]), detail, seconds)
    return CaseResult(case.label, "pass", detail=detail, seconds=seconds)


def markdown(results: List[CaseResult], seconds: float, target: str, selection: str) -> str:
    passed = sum(r.status == "pass" for r in results)
    lines = [
        "# Edge models as .tflite",
        "",
        "Look-alikes of the trained `.tflite` models edge users deploy, built in Keras with seeded weights",
        "from what the published models are made of (test/sweeps/edge_tflite_models.py): a BlazeFace face",
        "detector, a hand / face-mesh landmark model, a selfie segmenter, a 1-D conv wake-word spotter, a",
        "CRNN OCR recognizer with a bidirectional LSTM and a GRU + LSTM voice-activity detector; MediaPipe's",
        "face mesh (PReLU, channel padding by PAD, two heads) and palm detector (BlazeBlocks, a bilinear",
        "feature pyramid, concatenated anchor heads), PaddleOCR's DB text detector (MobileNetV3: hard-swish,",
        "squeeze-excite with a hard sigmoid, nearest upsampling, transposed convolutions) and SVTR recognizer",
        "(LayerNormalization, Keras MultiHeadAttention, GELU, CTC softmax), and openWakeWord's melspectrogram",
        "front end (a DFT as a fixed Conv1D, power, a mel Dense, log10 of a clamped value). Each is",
        "converted by TFLite's converter as float32, float16 weights, hybrid (dynamic-range: `Optimize.DEFAULT`",
        "without a representative dataset), full int8 with int8 input and output (`int8`) or float input and",
        "output (`int8-float-io`), and uint8 input and output over int8 internals (`uint8-io`); inputs keep",
        "the free batch Keras exports give them (shape signature -1). Each file is captured, built for",
        f"`{target}`, run, and compared with `tf.lite.Interpreter` at `edgespec run`'s bar for its arithmetic.",
        "Extra rows: the selfie segmenter as MediaPipe ships it (float16, its transposed convolution as the",
        "custom op `Convolution2DTransposeBias`); the recurrent models",
        "converted without `unroll=True` (WHILE loops). A legacy uint8 graph (TF1 fake-quant training,",
        "`inference_type=tf.uint8`) is tested by test/python/tf/test_tflite_legacy_uint8.py.",
        "Written by `npm run edge-tflite` (test/sweeps/edge_tflite.py).",
        "",
        f"Machine: {machine_line()}; {seconds / 60:.0f} min in all."
        + (f" This run: {selection}." if selection else ""),
        "",
        f"**{passed} of {len(results)} pass.**",
        "",
        "| model | format | result | stage | max abs error / max abs ref | .tflite bytes | why | seconds |",
        "|---|---|---|---|---|---:|---|---:|",
    ]
    for r in sorted(results, key=lambda r: r.name):
        d = r.detail
        ratio = ""
        if d.get("max_abs_error") is not None and d.get("max_abs_reference") is not None:
            ratio = f"{d['max_abs_error']:.2e} / {d['max_abs_reference']:.3g}"
        model, _, form = r.name.partition(" ")
        size = f"{d['tflite_bytes']:,}" if "tflite_bytes" in d else ""
        lines.append(f"| {model} | {form} | {r.status} | {r.stage} | {ratio} | {size} | {r.message.replace('|', '/')} | {r.seconds:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="only cases whose model matches this regular expression")
    parser.add_argument("--formats", help="only cases whose format (e.g. 'int8 not unrolled') matches this regular expression")
    parser.add_argument("--target", default="host")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "docs" / "edge-models-tflite.md"))
    parser.add_argument("--json", help="also write the results as JSON here")
    parser.add_argument("--merge", help="a JSON of an earlier run: its rows stay in the table unless this run redoes them")
    args = parser.parse_args(argv)
    chosen = [c for c in cases()
              if (not args.models or re.search(args.models, c.model))
              and (not args.formats or re.search(args.formats, c.label.partition(" ")[2]))]
    selection = ", ".join(f"{k} matching `{v}`" for k, v in (("models", args.models), ("formats", args.formats)) if v)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="edgespec-edge-tflite-"))
    earlier: List[CaseResult] = []
    if args.merge:
        redone = {c.label for c in chosen}
        earlier = [CaseResult(**row) for row in json.loads(Path(args.merge).read_text()) if row["name"] not in redone]
        selection = f"rows from an earlier run, and {selection or 'all cases'} run again"
    results: List[CaseResult] = list(earlier)
    try:
        for case in chosen:
            result = run_case(case, args.target, work)
            results.append(result)
            print(f"{result.name}: {result.status} {result.stage} {result.message[:200]} "
                  f"{result.detail.get('max_abs_error', '')} ({result.seconds:.0f} s)", flush=True)
            shutil.rmtree(work / re.sub(r"\W+", "_", case.label), ignore_errors=True)
            # the table so far, should the sweep be stopped
            publish(args.out, markdown(results, time.monotonic() - started, args.target, selection), results, args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish(args.out, markdown(results, time.monotonic() - started, args.target, selection), results, args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
