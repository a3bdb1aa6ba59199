"""Running `edgespec diff` (and build) from the tests, and what they check of divergence.json."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / "bin" / "edgespec")
PLANT = "EDGESPEC_TEST_PLANT_FAULT"


def cli(args: List[str], env_extra: Optional[Dict[str, str]] = None, timeout: int = 900) -> Tuple[int, List[dict], str]:
    env = {k: v for k, v in os.environ.items() if k != PLANT}
    env.update(env_extra or {})
    proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def build(bundle: Path, target: str, dtype: Optional[str] = None) -> Path:
    out = bundle / "build" / (target + ("-int8" if dtype == "int8" else ""))
    code, events, stderr = cli(["build", str(bundle), "--target", target, "--out", str(out)] + (["--dtype", dtype] if dtype else []))
    assert code == 0, f"{events[-3:]}\n{stderr[-2000:]}"
    return out


def diff(build_dir: Path, fault: Optional[str] = None) -> dict:
    """Runs edgespec diff; returns divergence.json (checked against the result event)."""
    code, events, stderr = cli(["diff", str(build_dir)], {PLANT: fault} if fault else None)
    assert code == 0, f"{events[-3:]}\n{stderr[-2000:]}"
    [result] = [e["data"] for e in events if e["event"] == "result"]
    report = json.loads((build_dir / "divergence.json").read_text())
    assert result == {"divergence": str(build_dir / "divergence.json"), "status": report["status"],
                      "first_divergent": report["first_divergent"]}
    assert report["format"] == "edgespec.divergence"
    return report


def assert_quiet(report: dict, at_least: int) -> None:
    compared = [layer for layer in report["layers"] if layer["compared"]]
    over = [(layer["index"], layer["module"], layer["op"], layer.get("max_rel_error"), layer.get("quant_steps"))
            for layer in compared if not layer["within_tolerance"]]
    assert report["status"] == "agrees" and report["first_divergent"] is None and not over, over
    assert len(compared) >= at_least, [(layer["tensor"], layer.get("why")) for layer in report["layers"] if not layer["compared"]]


def assert_found(report: dict, module: str) -> dict:
    """The planted fault is the first divergent layer, and every layer before it is within tolerance."""
    assert report["status"] == "diverges", report["status"]
    first = report["layers"][report["first_divergent"]]
    before = [layer for layer in report["layers"][:report["first_divergent"]] if layer["compared"]]
    assert first["module"] == module, (first["module"], first["op"], module)
    assert all(layer["within_tolerance"] for layer in before)
    assert first["values"] and first["framework_ops"] and first["node"]
    return first


def layer_modules(report: dict, kernel_prefix: str) -> List[str]:
    """Modules of the compared layers computed by a kernel (e.g. conv2d, gemm), in schedule order."""
    seen: List[str] = []
    for layer in report["layers"]:
        if layer["compared"] and layer["kernel"].startswith(kernel_prefix) and layer["module"] not in seen:
            seen.append(layer["module"])
    return seen
