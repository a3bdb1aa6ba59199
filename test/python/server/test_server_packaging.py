"""The wheel carries what `jupyter lab` needs after `pip install`: the prebuilt lab extension
and the file that enables the server extension."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LAB_EXTENSION = REPO / "kernel-bridge" / "edgespec" / "labextension"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not (LAB_EXTENSION / "package.json").is_file():
        pytest.fail(f"the lab extension is not built ({LAB_EXTENSION} is missing): run `npm run build:lab` first")
    out = tmp_path_factory.mktemp("wheel")
    completed = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO / "kernel-bridge")],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    (found,) = out.glob("edgespec-*.whl")
    return found


def test_wheel_enables_the_server_extension(wheel: Path):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (config,) = [n for n in names if n.endswith("data/etc/jupyter/jupyter_server_config.d/edgespec.json")]
        enabled = json.loads(z.read(config))["ServerApp"]["jpserver_extensions"]
    assert enabled == {"edgespec.server": True}
    # the shared facts the server reads through edgespec.contracts (targets, dtypes, build directories)
    assert {"edgespec/_data/targets.json", "edgespec/_data/build-dir.json"} <= set(names)


def test_wheel_carries_the_prebuilt_lab_extension(wheel: Path):
    prefix = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".data/data/share/jupyter/labextensions/edgespec/package.json"))
    with zipfile.ZipFile(wheel) as z:
        package = json.loads(z.read(prefix))
        shipped = {n[len(prefix) - len("package.json"):] for n in z.namelist() if n.startswith(prefix[:-len("package.json")])}
    assert package["name"] == "edgespec"  # JupyterLab finds the extension under its package name
    assert any(n.startswith("static/remoteEntry.") for n in shipped), shipped
    built = {str(p.relative_to(LAB_EXTENSION)) for p in LAB_EXTENSION.rglob("*") if p.is_file()}
    assert shipped == built
