"""The TF / TFLite / ONNX bundles build with the toolchain (`edgespec build`), run
(`edgespec run`: natively for `host`, booted in QEMU for `qemu-virt`) and agree with their
framework within 1e-4 x max|reference| (DESIGN.md)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

from conftest import REPO

CLI = Path(os.environ.get("EDGESPEC_CLI") or REPO / "bin" / "edgespec")  # EDGESPEC_CLI: as edgespec.toolchain
TOLERANCE = 1e-4


def _cli(args: List[str], timeout: int = 600) -> Tuple[int, list, str]:
    proc = subprocess.run(["node", str(CLI), *args, "--json"], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


@pytest.fixture(scope="session")
def toolchain() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the toolchain CLI cannot run", pytrace=False)
    if not (CLI.resolve().parent.parent / "lib" / "toolchain" / "cli.js").exists():
        pytest.fail("the toolchain is not compiled: run `npx tsc -p tsconfig.toolchain.json`", pytrace=False)
    proc = subprocess.run(["node", str(CLI), "build", "--help"], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0 or "target" not in proc.stdout:
        pytest.skip("the toolchain has no `edgespec build` command yet (src/toolchain/commands/build.ts)")


def _bundle(request, case: str) -> Path:
    if case.startswith("cell:"):
        return Path(request.getfixturevalue("notebook_cells")[case[5:]]["models"][0]["bundle"])
    return Path(request.getfixturevalue(case)["bundle"])


BUNDLES = ["keras_mobilenet_v2", "cell:cnn", "cnn_tflite_bundle", "resnet18_onnx_bundle"]


@pytest.mark.parametrize("case", BUNDLES)
def test_bundle_boots_in_qemu_and_agrees_with_its_framework(toolchain, request, case, tmp_path):
    _build_run_agree(_bundle(request, case), "qemu-virt", tmp_path)


def test_notebook_cnn_builds_and_agrees_on_the_host(toolchain, request, tmp_path):
    _build_run_agree(_bundle(request, "cell:cnn"), "host", tmp_path)


def test_every_tflite_rule_builds_and_agrees(toolchain, request, tmp_path):
    _build_run_agree(_bundle(request, "cell:coverage"), "host", tmp_path)


def _build_run_agree(bundle: Path, target: str, tmp_path: Path) -> None:
    build_dir = tmp_path / f"build-{target}"
    code, events, stderr = _cli(["build", str(bundle), "--target", target, "--out", str(build_dir)])
    errors = [e for e in events if e["event"] == "error"]
    assert code == 0 and not errors, f"build of {bundle.name} for {target} failed: {errors or stderr[-2000:]}"
    code, events, stderr = _cli(["run", str(build_dir)])
    results = [e for e in events if e["event"] == "result"]
    assert results, f"run of {bundle.name} on {target} gave no result ({code}): {events[-3:]} {stderr[-2000:]}"
    report = results[0]["data"]
    agreement = report.get("agreement")
    assert agreement, f"run of {bundle.name} on {target} did not compare with the reference: {report.get('error')}"
    assert agreement["max_abs_error"] <= TOLERANCE * agreement["max_abs_reference"], \
        f"{bundle.name} on {target}: max abs error {agreement['max_abs_error']:.3g} > 1e-4 x {agreement['max_abs_reference']:.3g}"
    assert report["status"] == "ok" and report["exit_code"] == 0, f"{bundle.name} on {target}: {report['status']}"
