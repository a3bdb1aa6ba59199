"""Fixtures of the abuse battery: one real bundle and its builds, one real Jupyter server
process, and the checks every case ends with (no staging left, no orphan guest, the server
answering within a second)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from battery_helpers import MODELS, guest_pids, run_cli, run_dirs, staging_left, wait_until  # noqa: E402


class Server:
    """A `jupyter server` process with the edgespec extension, on a free port, token auth."""

    def __init__(self, root: Path):
        self.root = root
        self.token = secrets.token_hex(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = open(root.parent / "server.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", f"--port={self.port}", "--ip=127.0.0.1",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.jpserver_extensions={'edgespec.server': True}"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until(lambda: self._up(), 60):
            self.stop()
            raise RuntimeError(f"jupyter server did not start; log:\n{(root.parent / 'server.log').read_text()[-3000:]}")

    def _up(self) -> bool:
        try:
            return self.request("GET", "edgespec/jobs", timeout=2)[0] == 200
        except OSError:
            return False

    def request(self, method: str, path: str, body: Any = None, *, raw: Optional[bytes] = None,
                token: bool = True, timeout: float = 30) -> Tuple[int, Any, float]:
        """(status, parsed JSON body or text, seconds) of one request; never raises on 4xx/5xx."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None))
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"token {self.token}"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/{path}", data=data, method=method, headers=headers)
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode("utf-8", "replace")
        seconds = time.monotonic() - start
        try:
            return status, json.loads(text), seconds
        except ValueError:
            return status, text, seconds

    def finished_job(self, job_id: str, timeout: float = 60) -> Dict[str, Any]:
        """The job once it is neither queued nor running (or as it is after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            _, job, _ = self.request("GET", f"edgespec/jobs/{job_id}")
            if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
                return job
            time.sleep(0.2)

    def answers_within(self, seconds: float = 1.0) -> float:
        status, _, took = self.request("GET", "edgespec/jobs", timeout=seconds + 5)
        assert status == 200 and took < seconds, f"the server took {took:.2f} s (status {status})"
        return took

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def bundle_source(tmp_path_factory) -> Path:
    """A real bundle (a tiny CNN captured with the real CLI) built for host and qemu-virt."""
    root = tmp_path_factory.mktemp("battery-source")
    out = root / "tiny"
    captured = run_cli(["capture", f"{MODELS}:tiny_cnn", "--input-shape", "1x3x16x16", "--seed", "0", "--out", str(out)],
                       timeout=300, json_events=False)
    assert captured.returncode == 0, captured.text()
    for target in ("host", "qemu-virt"):
        built = run_cli(["build", str(out), "--target", target], timeout=300)
        assert built.returncode == 0, built.text()
    return out


@pytest.fixture
def bundle(bundle_source: Path, tmp_path: Path) -> Path:
    """A private copy of the built bundle, which a case may damage."""
    copy = tmp_path / "user" / "tiny"
    shutil.copytree(bundle_source, copy, symlinks=True)
    return copy


_servers: Dict[str, Server] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the cases of a module; stopped at its end, so that no process of the
    battery outlives it (the server tests after it check for leftover processes)."""
    root = tmp_path_factory.mktemp("battery-server") / "root"
    root.mkdir()
    s = Server(root)
    _servers["it"] = s
    yield s
    _servers.pop("it", None)
    s.stop()


@pytest.fixture(autouse=True)
def hygiene(tmp_path: Path):
    """After each case: no staging directory under the case's files, no new guest process
    or run directory left, and the server (when one runs) answering within a second."""
    guests_before = set(guest_pids())
    runs_before = run_dirs()
    yield
    left = staging_left(tmp_path, *(s.root for s in _servers.values()))
    assert not left, f"staging directories left: {left}"
    assert wait_until(lambda: not (set(guest_pids()) - guests_before), 5), \
        f"guest processes left running: {[c for p, c in guest_pids().items() if p not in guests_before]}"
    assert wait_until(lambda: not (run_dirs() - runs_before), 5), f"run directories left: {run_dirs() - runs_before}"
    for s in _servers.values():
        s.answers_within(1.0)
