"""The torchvision zoo sweep: every classification and segmentation model torchvision lists,
under 100 M parameters, built with seeded weights (and seeded batch-norm statistics) at its
usual input size (the crop size of its default weights' transforms; segmentation at 520),
captured, built for the host, run, and compared with PyTorch (the bar of edgespec run:
max abs error <= 1e-4 x max |reference|, the same top-5). Writes docs/zoo.md by default.

    .venv/bin/python test/sweeps/torchvision_zoo.py [--models REGEX] [--target host|qemu-virt|...] [--out FILE] [--json FILE] [--resume]

The whole zoo takes hours on a small machine: with --resume (and --json), the models already in the
JSON file are kept and not run again, so the sweep can be stopped and continued; each row records
the commit it ran on.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_common import CaseResult, build_and_run, head_commit, machine_line, one_line, publish, read_json, write_json  # noqa: E402

MAX_PARAMETERS = 100_000_000
SEED = 0


def zoo() -> List[Tuple[str, str]]:
    """(family, name) of every listed model: classification, then segmentation."""
    import torchvision

    classification = torchvision.models.list_models(module=torchvision.models)
    segmentation = torchvision.models.list_models(module=torchvision.models.segmentation)
    return [("classification", n) for n in classification] + [("segmentation", n) for n in segmentation]


def input_size(name: str, family: str) -> int:
    import torchvision

    if family == "segmentation":
        return 520
    weights = torchvision.models.get_model_weights(name).DEFAULT
    crop = weights.transforms().crop_size
    return int(crop[0] if isinstance(crop, (list, tuple)) else crop)


def build_model(name: str, family: str):
    import torch
    import torchvision

    from edgespec.capture.torch.model_source import randomize_batchnorm

    torch.manual_seed(SEED)
    kwargs = {"weights": None}
    if family == "segmentation":
        kwargs["weights_backbone"] = None
    model = torchvision.models.get_model(name, **kwargs).eval()
    randomize_batchnorm(model, SEED)
    seed_zero_weights(model, SEED)
    return model


def seed_zero_weights(model, seed: int) -> int:
    """Weights a model initializes to zero (ViT's classification head, some residual branches' last
    layers) get seeded values, so that the output is not a constant and the comparison means
    something. Returns how many."""
    import torch

    generator = torch.Generator().manual_seed(seed + 2)
    count = 0
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2 and not parameter.any():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.02)
                count += 1
    return count


def run_model(family: str, name: str, work: Path, target: str = "host") -> CaseResult:
    import torch

    import edgespec
    from edgespec.errors import EdgespecError

    started = time.monotonic()
    label = f"{family}/{name}"
    model = build_model(name, family)
    params = sum(p.numel() for p in model.parameters())
    detail = {"parameters": params}
    if params > MAX_PARAMETERS:
        return CaseResult(label, "skipped", message=f"{params / 1e6:.0f} M parameters (over 100 M)", detail=detail)
    size = input_size(name, family)
    detail["input"] = [1, 3, size, size]
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(SEED + 1000))
    try:
        result = edgespec.capture(model, x, name=re.sub(r"[^A-Za-z0-9_]", "_", name), out=work / name)
    except EdgespecError as e:
        return CaseResult(label, "fail", "capture", one_line(e), detail, time.monotonic() - started)
    except Exception as e:  # the sweep records every failure and goes on
        return CaseResult(label, "fail", "capture", one_line(f"{type(e).__name__}: {e}"), detail, time.monotonic() - started)
    del model
    report, stage, message = build_and_run(Path(result.path), target, None, timeout=3600)
    seconds = time.monotonic() - started
    if report is None:
        return CaseResult(label, "fail", stage, one_line(message), detail, seconds)
    agreement = report.get("agreement") or {}
    detail.update({k: agreement.get(k) for k in ("max_abs_error", "max_abs_reference", "top5_match")})
    if report["status"] != "ok":
        return CaseResult(label, "fail", "compare", one_line(report.get("error") or report["status"]), detail, seconds)
    return CaseResult(label, "pass", detail=detail, seconds=seconds)


def markdown(results: List[CaseResult], seconds: float, target: str = "host", selection: Optional[str] = None) -> str:
    considered = [r for r in results if r.status != "skipped"]
    passed = sum(r.status == "pass" for r in considered)
    lines = [
        "# torchvision zoo",
        "",
        "Every model of `torchvision.models.list_models(torchvision.models)` and of",
        "`list_models(torchvision.models.segmentation)` under 100 M parameters, with seeded weights and",
        f"batch-norm statistics, at its usual input size: captured, built for `{target}`, run, compared with",
        "PyTorch (max abs error <= 1e-4 x max |reference| and the same top-5). Written by `npm run zoo`",
        "(test/sweeps/torchvision_zoo.py); CI runs a subset.",
        "",
        f"Machine: {machine_line()}; {seconds / 60:.0f} min in all."
        + (f" This run: only the models whose name matches `{selection}`." if selection else ""),
        "",
        f"**{passed} of {len(considered)} models pass** ({len(results) - len(considered)} over 100 M parameters skipped).",
        "",
        "Commits the rows ran on: " + (", ".join(sorted({str(r.detail["commit"]) for r in results if r.detail.get("commit")})) or "not recorded") + ".",
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
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "docs" / "zoo.md"))
    parser.add_argument("--json", help="also write the results as JSON here")
    parser.add_argument("--target", default="host", help="the target to build and run each model for (default host)")
    parser.add_argument("--resume", action="store_true", help="keep the models already in --json and run only the others")
    args = parser.parse_args(argv)
    if args.resume and not args.json:
        parser.error("--resume needs --json FILE: the file that holds the rows of the earlier run")
    models = [(f, n) for f, n in zoo() if not args.models or re.search(args.models, n)]
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="edgespec-zoo-"))
    done = {r.name: r for r in read_json(Path(args.json))} if args.resume else {}
    earlier_seconds = sum(r.seconds for r in done.values())
    commit = head_commit()
    results: List[CaseResult] = []
    try:
        for i, (family, name) in enumerate(models):
            if f"{family}/{name}" in done:
                results.append(done[f"{family}/{name}"])
                continue
            result = run_model(family, name, work, args.target)
            result.detail["commit"] = commit
            results.append(result)
            print(f"[{i + 1}/{len(models)}] {result.name}: {result.status} {result.stage} {result.message} ({result.seconds:.0f} s)", flush=True)
            shutil.rmtree(work / name, ignore_errors=True)
            if args.json:
                write_json(Path(args.json), results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish(args.out, markdown(results, time.monotonic() - started + earlier_seconds, args.target, args.models), results,
            args.json, [r for r in results if r.status != "skipped"], "models pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
