"""examples/walkthrough.ipynb runs top to bottom with `jupyter nbconvert --execute`.

Slow (MobileNetV2: trace, build, boot in QEMU): marked `notebook`; run it with
`pytest -m notebook test/python/server`.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MIME = "application/vnd.edgespec.{}+json"

pytestmark = [pytest.mark.notebook, pytest.mark.usefixtures("toolchain_built")]


def outputs_with(notebook: dict, mime: str) -> list:
    return [o["data"][mime] for cell in notebook["cells"] if cell["cell_type"] == "code"
            for o in cell.get("outputs", []) if mime in o.get("data", {})]


def test_walkthrough_runs_top_to_bottom(tmp_path: Path):
    work = tmp_path / "examples"
    shutil.copytree(REPO / "examples", work)
    completed = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=900", "--output", "executed.ipynb", "walkthrough.ipynb"],
        cwd=work, capture_output=True, text=True, timeout=1200)
    assert completed.returncode == 0, completed.stderr[-5000:]
    notebook = json.loads((work / "executed.ipynb").read_text())
    errors = [o for cell in notebook["cells"] for o in cell.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []

    (trace,) = outputs_with(notebook, MIME.format("trace"))
    (model,) = trace["models"]
    assert model["name"] == "mobilenet_v2" and trace["unsupported"] == []
    assert any(op["framework_op"] == "aten.convolution.default" and op["count"] == 52 for op in model["ops"])
    (footprint,) = outputs_with(notebook, MIME.format("footprint"))
    assert footprint["model"] == "mobilenet_v2" and footprint["target"] == "qemu-virt"
    (run,) = outputs_with(notebook, MIME.format("run"))
    assert run["status"] == "ok" and run["agreement"]["within_tolerance"] and run["agreement"]["top5_match"]
    # Every rich output also reads as text in a frontend without the extension.
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if any(m.startswith("application/vnd.edgespec") for m in output.get("data", {})):
                assert "text/plain" in output["data"]

    archive = work / "edgespec-bundles" / "mobilenet_v2" / "build" / "qemu-virt" / "mobilenet_v2-qemu-virt.zip"
    with zipfile.ZipFile(archive) as z:
        names = {n.split("/", 1)[1] for n in z.namelist()}
    assert {"boot.sh", "input.bin", "footprint.json", "footprint.html", "console.log", "SHA256SUMS"} <= names
