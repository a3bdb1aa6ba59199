"""A server shutdown stops the jobs it runs, and says that this is what stopped them.

A real `jupyter server` process gets a real SIGTERM while QEMU runs a job's image; the
job list it leaves behind must not call that a user's cancel.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from live_server import LiveServer, alive, descendants

pytestmark = pytest.mark.usefixtures("toolchain_built")
REPO = Path(__file__).resolve().parents[3]


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)


def test_jobs_stopped_by_a_shutdown_say_so(tmp_path: Path, slow_bundle: Path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(slow_bundle, root / "slow")
    build = root / "slow" / "build" / "qemu-virt"
    built = subprocess.run(["node", str(REPO / "bin" / "edgespec"), "build", str(root / "slow"), "--out", str(build)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr

    server = LiveServer(root, tmp_path / "jupyter")
    try:
        status, running = server.request("POST", "/edgespec/jobs", {"kind": "run", "build": "slow/build/qemu-virt"})
        assert status == 201, running
        status, waiting = server.request("POST", "/edgespec/jobs", {"kind": "run", "build": "slow/build/qemu-virt"})
        assert status == 201, waiting
        wait_until(lambda: [c for c in descendants(server.process.pid).values() if "qemu-system-aarch64" in c], 120,
                   "QEMU starting")
        children = descendants(server.process.pid)
        code = server.stop()
    finally:
        server.stop(timeout=5)
    assert code is not None
    wait_until(lambda: not alive(children), 15, "the job's processes ending")

    jobs = {j["id"]: j for j in json.loads((root / ".edgespec" / "jobs.json").read_text())["jobs"]}
    stopped, never_started = jobs[running["id"]], jobs[waiting["id"]]
    assert stopped["status"] == "failed", stopped
    assert "shut down" in stopped["error"]["message"] or "shutdown" in stopped["error"]["message"]
    assert "Cancelled" not in stopped["error"]["message"]
    assert stopped["error"]["code"] == "server-shutdown" and stopped["error"]["hint"]
    assert never_started["status"] == "failed" and never_started["started"] is None
    assert "before this job started" in never_started["error"]["message"]
    assert not (build / "run.json").exists()
