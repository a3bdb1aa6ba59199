"""The ONNX backend conformance sweep: every case of the installed onnx wheel's
`pytorch-converted` and `pytorch-operator` test data is captured (model.onnx), built for the
host, run on the case's own input and compared with the case's own expected output
(rtol 1e-3, atol 1e-5). Writes a table (docs/onnx-conformance.md by default).

    .venv/bin/python test/sweeps/onnx_conformance.py [--cases REGEX] [--out FILE] [--json FILE]
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_common import CaseResult, build_and_run, machine_line, one_line, publish  # noqa: E402

SUITES = ("pytorch-converted", "pytorch-operator")
RTOL, ATOL = 1e-3, 1e-5


def data_root() -> Path:
    import onnx

    return Path(onnx.__file__).parent / "backend" / "test" / "data"


def all_cases(pattern: Optional[str] = None) -> List[Path]:
    cases = [c for suite in SUITES for c in sorted((data_root() / suite).iterdir()) if (c / "model.onnx").is_file()]
    return [c for c in cases if not pattern or re.search(pattern, c.name)]


def read_pb(path: Path) -> np.ndarray:
    import onnx
    from onnx import numpy_helper

    tensor = onnx.TensorProto()
    tensor.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(tensor)


def is_3d(case: Path) -> bool:
    """A case whose convolution or pooling is 3-D (a rank-5 input): the issue lets these be refused."""
    import onnx

    model = onnx.load(str(case / "model.onnx"), load_external_data=False)
    ranks = [len(i.type.tensor_type.shape.dim) for i in model.graph.input]
    return any(r == 5 for r in ranks) or "3d" in case.name.lower()


def run_case(case: Path, work: Path) -> CaseResult:
    from edgespec.capture.onnx.capture import capture_onnx_file
    from edgespec.errors import CaptureError

    started = time.monotonic()
    name = f"{case.parent.name}/{case.name}"
    data = case / "test_data_set_0"
    inputs = [read_pb(p) for p in sorted(data.glob("input_*.pb"))]
    expected = [read_pb(p) for p in sorted(data.glob("output_*.pb"))]
    bundle = work / case.name
    try:
        capture_onnx_file(case / "model.onnx", out=bundle, name=re.sub(r"[^A-Za-z0-9_]", "_", case.name)[:60])
    except CaptureError as e:
        return CaseResult(name, "fail", "capture", one_line(e), seconds=time.monotonic() - started)
    except Exception as e:  # the sweep records every failure and goes on
        return CaseResult(name, "fail", "capture", one_line(f"{type(e).__name__}: {e}"), seconds=time.monotonic() - started)

    import json

    from safetensors.numpy import save_file

    graph = json.loads((bundle / "graph.json").read_text())
    input_file = work / f"{case.name}.safetensors"
    if len(graph["inputs"]) != len(inputs):
        return CaseResult(name, "fail", "capture", f"the bundle has {len(graph['inputs'])} inputs, the case {len(inputs)}")
    # a float64 case is imported as float32 (capture says so): its input is given as the bundle wants it
    beyond = [x for x in inputs if x.dtype == np.float64 and np.any(np.abs(x[np.isfinite(x)]) > np.finfo(np.float32).max)]
    if beyond:
        return CaseResult(name, "fail", "input", "the case's float64 input holds values beyond float32's range (the image computes in float32)",
                          seconds=time.monotonic() - started)
    save_file({io["name"]: np.ascontiguousarray(x.astype(np.float32) if x.dtype == np.float64 and io["dtype"] == "float32" else x)
               for io, x in zip(graph["inputs"], inputs)}, str(input_file))
    report, stage, message = build_and_run(bundle, "host", input_file)
    if report is None:
        return CaseResult(name, "fail", stage, one_line(message), seconds=time.monotonic() - started)
    if report["status"] not in ("ok", "mismatch"):
        return CaseResult(name, "fail", "run", one_line(report.get("error") or report["status"]), seconds=time.monotonic() - started)
    outputs = [np.load(bundle / "build" / "host" / o["file"]) for o in report["outputs"]]
    if len(outputs) != len(expected):
        return CaseResult(name, "fail", "compare", f"{len(outputs)} outputs, the case expects {len(expected)}")
    worst = 0.0
    for got, want in zip(outputs, expected):
        if got.size != want.size:
            return CaseResult(name, "fail", "compare", f"output shape {list(got.shape)}, expected {list(want.shape)}")
        got = got.reshape(want.shape).astype(np.float64)
        want = want.astype(np.float64)
        same_nan = np.isnan(got) & np.isnan(want)  # a NaN the case expects (e.g. sqrt of a negative) agrees
        error = np.where(same_nan, 0.0, np.abs(got - want))
        worst = max(worst, float(np.nanmax(np.where(np.isnan(error), np.inf, error))) if got.size else 0.0)
        if got.size and not np.all(np.where(same_nan, True, np.abs(got - want) <= ATOL + RTOL * np.abs(want))):
            return CaseResult(name, "fail", "compare", f"max abs error {worst:.3g} beyond rtol {RTOL}, atol {ATOL}",
                              {"max_abs_error": worst}, time.monotonic() - started)
    return CaseResult(name, "pass", detail={"max_abs_error": worst}, seconds=time.monotonic() - started)


def markdown(results: List[CaseResult], three_d: set, seconds: float) -> str:
    flat = [r for r in results if r.name not in three_d]
    passed = sum(r.status == "pass" for r in flat)
    lines = [
        "# ONNX backend conformance",
        "",
        f"Every case of the onnx wheel's `{'` and `'.join(SUITES)}` test data, captured, built for the host",
        f"and run on the case's own input, compared with its own expected output (rtol {RTOL}, atol {ATOL}).",
        "Written by `npm run conformance` (test/sweeps/onnx_conformance.py); CI runs a subset.",
        "",
        f"Machine: {machine_line()}; {seconds:.0f} s in all.",
        "",
        f"**{passed} of {len(flat)} cases that are not 3-D pass ({100 * passed / max(1, len(flat)):.0f} %)**; "
        f"{sum(r.status == 'pass' for r in results if r.name in three_d)} of {len(three_d)} 3-D cases pass.",
        "",
        "| case | 3-D | result | stage | why |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        why = r.message.replace("|", "\\|")
        lines.append(f"| {r.name} | {'yes' if r.name in three_d else ''} | {r.status} | {r.stage} | {why} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", help="only cases whose name matches this regular expression")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "docs" / "onnx-conformance.md"))
    parser.add_argument("--json", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    cases = all_cases(args.cases)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="edgespec-conformance-"))
    results: List[CaseResult] = []
    three_d = set()
    try:
        for i, case in enumerate(cases):
            result = run_case(case, work)
            if is_3d(case):
                three_d.add(result.name)
            results.append(result)
            print(f"[{i + 1}/{len(cases)}] {result.name}: {result.status} {result.stage} {result.message}", flush=True)
            shutil.rmtree(work / case.name, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish(args.out, markdown(results, three_d, time.monotonic() - started), results, args.json,
            [r for r in results if r.name not in three_d], "non-3-D cases pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
