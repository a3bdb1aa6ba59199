"""The Keras applications sweep: every model of `keras.applications` under 100 M parameters,
with seeded weights and seeded batch-norm statistics, at its default input size, converted by
TFLite's converter (float32; with --int8 also full-integer quantized with a seeded
representative dataset), captured from the .tflite, built for the host, run, and compared with
tf.lite.Interpreter, whose output is the bundle's reference (the bar of edgespec run: float32
max abs error <= 1e-4 x max |reference| and the same top-5; int8 the same top-1).
Writes docs/keras-apps.md by default.

    .venv/bin/python test/sweeps/keras_apps.py [--models REGEX] [--int8] [--out FILE] [--json FILE]

TensorFlow runs in this process only; the capture runs in the edgespec CLI.
"""
from __future__ import annotations

import argparse
import inspect
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_common import CaseResult, build_and_run, cli, error_of, machine_line, one_line, publish, result_of  # noqa: E402

MAX_PARAMETERS = 100_000_000
SEED = 0
CALIBRATION_SAMPLES = 8


def applications() -> List[Tuple[str, object]]:
    """(name, constructor) of every model keras.applications exports, sorted by name."""
    import keras

    found = {}
    namespaces = [vars(keras.applications)] + [vars(v) for v in vars(keras.applications).values() if inspect.ismodule(v)]
    for namespace in namespaces:
        for name, constructor in namespace.items():
            if name[:1].isupper() and callable(constructor) and "include_top" in _parameters(constructor):
                found[name] = constructor
    return sorted(found.items())


def _parameters(constructor) -> List[str]:
    try:
        return list(inspect.signature(constructor).parameters)
    except (TypeError, ValueError):
        return []


def build_model(constructor):
    import keras
    import numpy as np

    keras.utils.set_random_seed(SEED)
    # logits, not a softmax: with seeded weights a softmax is nearly flat and would agree trivially
    extra = {"classifier_activation": None} if "classifier_activation" in _parameters(constructor) else {}
    model = constructor(weights=None, **extra)
    if None in tuple(model.inputs[0].shape[1:]):  # a free height and width (MobileNetV3): build at 224
        keras.utils.set_random_seed(SEED)
        model = constructor(weights=None, input_shape=(224, 224, 3), **extra)
    rng = np.random.default_rng(SEED)
    for layer in model.layers:  # seeded statistics, so batch norm is not an identity
        if isinstance(layer, keras.layers.BatchNormalization) and layer.moving_mean is not None:
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape).astype("float32"))
    return model


def convert(model, int8: bool) -> bytes:
    import numpy as np
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        shape = [1, *model.inputs[0].shape[1:]]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [np.random.default_rng(SEED + 100 + i).uniform(-1, 1, shape).astype(np.float32)]
            for i in range(CALIBRATION_SAMPLES))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


def run_model(name: str, constructor, int8: bool, work: Path) -> CaseResult:
    started = time.monotonic()
    label = f"{name}{' int8' if int8 else ''}"
    try:
        model = build_model(constructor)
    except Exception as e:  # the sweep records every failure and goes on
        return CaseResult(label, "fail", "construct", one_line(f"{type(e).__name__}: {e}"))
    params = int(model.count_params())
    detail = {"parameters": params, "input": [1, *model.inputs[0].shape[1:]]}
    if params > MAX_PARAMETERS:
        return CaseResult(label, "skipped", message=f"{params / 1e6:.0f} M parameters (over 100 M)", detail=detail)
    try:
        flat = convert(model, int8)
    except Exception as e:
        return CaseResult(label, "fail", "convert", one_line(f"{type(e).__name__}: {e}"), detail, time.monotonic() - started)
    del model
    path = work / f"{name}.tflite"
    path.write_bytes(flat)
    bundle = work / name
    code, events = cli(["capture", str(path), "--out", str(bundle)], timeout=1800)
    if code != 0:
        return CaseResult(label, "fail", "capture", one_line(error_of(events)), detail, time.monotonic() - started)
    report, stage, message = build_and_run(bundle, "host", None, timeout=1800)
    seconds = time.monotonic() - started
    if report is None:
        return CaseResult(label, "fail", stage, one_line(message), detail, seconds)
    agreement = report.get("agreement") or {}
    detail.update({k: agreement.get(k) for k in ("max_abs_error", "max_abs_reference", "top1_match", "top5_match")})
    if report["status"] != "ok":
        return CaseResult(label, "fail", "compare", one_line(report.get("error") or report["status"]), detail, seconds)
    return CaseResult(label, "pass", detail=detail, seconds=seconds)


def markdown(results: List[CaseResult], seconds: float, int8: bool, selection: Optional[str] = None) -> str:
    considered = [r for r in results if r.status != "skipped"]
    passed = sum(r.status == "pass" for r in considered)
    lines = [
        "# Keras applications",
        "",
        "Every model of `keras.applications` under 100 M parameters, with seeded weights and",
        "batch-norm statistics, at its default input size, converted by TFLite's converter"
        + (" (float32, and full-integer int8 with a seeded representative dataset)," if int8 else " (float32),"),
        "captured from the `.tflite`, built for `host`, run, and compared with `tf.lite.Interpreter`",
        "(float32: max abs error <= 1e-4 x max |reference| and the same top-5; int8: the same top-1).",
        "Written by `npm run keras-apps` (test/sweeps/keras_apps.py).",
        "",
        f"Machine: {machine_line()}; {seconds / 60:.0f} min in all."
        + (f" This run: only the models whose name matches `{selection}`." if selection else ""),
        "",
        f"**{passed} of {len(considered)} pass** ({len(results) - len(considered)} over 100 M parameters skipped).",
        "",
        "| model | parameters | input | result | stage | max abs error / max abs ref | why | seconds |",
        "|---|---:|---|---|---|---|---|---:|",
    ]
    for r in results:
        d = r.detail
        ratio = ""
        if d.get("max_abs_error") is not None and d.get("max_abs_reference"):
            ratio = f"{d['max_abs_error']:.2e} / {d['max_abs_reference']:.3g}"
        params = f"{d['parameters'] / 1e6:.1f} M" if "parameters" in d else ""
        size = "x".join(map(str, d["input"])) if "input" in d else ""
        lines.append(f"| {r.name} | {params} | {size} | {r.status} | {r.stage} | {ratio} | {r.message.replace('|', '/')} | {r.seconds:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="only models whose name matches this regular expression")
    parser.add_argument("--int8", action="store_true", help="also convert each model to full-integer int8")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "docs" / "keras-apps.md"))
    parser.add_argument("--json", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    models = [(n, c) for n, c in applications() if not args.models or re.search(args.models, n)]
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="edgespec-keras-apps-"))
    results: List[CaseResult] = []
    try:
        for name, constructor in models:
            for int8 in ([False, True] if args.int8 else [False]):
                result = run_model(name, constructor, int8, work)
                results.append(result)
                print(f"{result.name}: {result.status} {result.stage} {result.message[:160]} ({result.seconds:.0f} s)", flush=True)
                shutil.rmtree(work / name, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish(args.out, markdown(results, time.monotonic() - started, args.int8, args.models), results, args.json,
            [r for r in results if r.status != "skipped"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
