"""Fixtures of the TensorFlow / TFLite / ONNX capture tests.

TensorFlow never runs inside the pytest process (which imports PyTorch for the other
capture tests; capture-facts.md describes how the two can crash one process): everything
that needs TensorFlow runs in a subprocess, and the bundles it writes are checked here
with NumPy, safetensors and the bundle validator only. Each expensive bundle is made once
per session.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
sys.path.insert(0, str(HERE))


def python_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "kernel-bridge"), str(HERE)] +
                                        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_python(code: str, *args: str, cwd: Optional[Path] = None, timeout: int = 300,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter of the project's venv."""
    proc = subprocess.run([PYTHON, "-c", code, *args], cwd=cwd, env=python_env(), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"subprocess exited with {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n"
                    f"--- stderr\n{proc.stderr[-4000:]}", pytrace=False)
    return proc


def run_capture_cli(args: List[str], cwd: Path, timeout: int = 300):
    """`python -m edgespec capture ARGS --json`: (exit code, events, stderr)."""
    proc = subprocess.run([PYTHON, "-m", "edgespec", "capture", *args, "--json"], cwd=cwd, env=python_env(),
                          capture_output=True, text=True, timeout=timeout)
    events = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            events.append(json.loads(line))
    return proc.returncode, events, proc.stderr


def cli_result(args: List[str], cwd: Path) -> dict:
    code, events, stderr = run_capture_cli(args, cwd)
    results = [e for e in events if e["event"] == "result"]
    if code != 0 or not results:
        pytest.fail(f"capture {' '.join(args)} failed ({code}): {events[-3:]}\n{stderr[-3000:]}", pytrace=False)
    return results[0]["data"]


def edgespec_ok(*args: str, timeout: int = 600) -> List[dict]:
    """`edgespec ARGS --json` (the node CLI), which must succeed: its events."""
    proc = subprocess.run(["node", str(REPO / "bin" / "edgespec"), *args, "--json"], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and not [e for e in events if e["event"] == "error"], proc.stderr[-2000:] + str(events[-3:])
    return events


def host_agreement(model: Path, work: Path) -> dict:
    """Captures MODEL into WORK/bundle, builds it for the host and runs it: run.json's agreement."""
    edgespec_ok("capture", str(model), "--out", str(work / "bundle"))
    edgespec_ok("build", str(work / "bundle"), "--target", "host", "--out", str(work / "host"))
    [result] = [e for e in edgespec_ok("run", str(work / "host")) if e["event"] == "result"]
    assert result["data"]["status"] == "ok", result["data"]
    return result["data"]["agreement"]


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tf")


@pytest.fixture(scope="session")
def keras_mobilenet_v2(work_dir) -> dict:
    """`python -m edgespec capture keras:MobileNetV2 --input-shape 1x224x224x3 --seed 0` (weights=None)."""
    data = cli_result(["keras:MobileNetV2", "--input-shape", "1x224x224x3", "--seed", "0",
                       "--out", str(work_dir / "keras_mobilenet_v2")], work_dir)
    return data


@pytest.fixture(scope="session")
def notebook_cells(work_dir) -> dict:
    """One IPython session running the notebook cells of keras_cells.py under %%edgespec trace.

    Returns {cell name: trace summary}; the Sequential CNN cell also saves its model as a
    float .tflite (cnn.tflite) for the TFLite import tests.
    """
    code = f"""
import json, sys
from keras_cells import run_cells
json.dump(run_cells({str(work_dir)!r}), open({str(work_dir / 'cells.json')!r}, 'w'))
"""
    run_python(code, cwd=work_dir, timeout=400)
    return json.loads((work_dir / "cells.json").read_text())


@pytest.fixture(scope="session")
def cnn_tflite(notebook_cells, work_dir) -> Path:
    path = work_dir / "cnn.tflite"
    assert path.is_file(), "the CNN cell did not write cnn.tflite"
    return path


@pytest.fixture(scope="session")
def resnet18_onnx(work_dir) -> Path:
    """torchvision resnet18 (weights=None, seed 0, batch norms randomized) exported with
    torch.onnx.export(dynamo=True), in its own process."""
    path = work_dir / "resnet18.onnx"
    code = f"""
import contextlib, io, torch, torchvision
from edgespec.capture.torch.model_source import randomize_batchnorm
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None).eval()
randomize_batchnorm(model, 0)
with contextlib.redirect_stdout(io.StringIO()):
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), {str(path)!r}, dynamo=True)
"""
    run_python(code, cwd=work_dir)
    return path


@pytest.fixture(scope="session")
def resnet18_onnx_bundle(resnet18_onnx, work_dir) -> dict:
    return cli_result([str(resnet18_onnx), "--seed", "0", "--out", str(work_dir / "resnet18_onnx")], work_dir)


@pytest.fixture(scope="session")
def cnn_tflite_bundle(cnn_tflite, work_dir) -> dict:
    return cli_result([str(cnn_tflite), "--seed", "0", "--out", str(work_dir / "cnn_tflite")], work_dir)
