"""A Jupyter server with the edgespec extension in a process of its own.

The in-process server of pytest-jupyter shares the test's event loop, so it cannot show
that one request leaves the server free for others, or what a real SIGTERM does. This one
is a real `jupyter server` process, driven over HTTP from threads.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, root: Path, work: Path, extra_args: Optional[List[str]] = None):
        self.root = root
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        for name in ("config", "data", "runtime"):
            (work / name).mkdir(parents=True, exist_ok=True)
        self.log_path = work / "server.log"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(work / "config"), "JUPYTER_DATA_DIR": str(work / "data"),
               "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
        extensions = {"edgespec.server": True, "jupyterlab": False, "jupyter_server_terminals": False,
                      "notebook_shim": False, "jupyter_lsp": False}
        (work / "config" / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": extensions}}))
        argv = [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
                f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={self.token}",
                "--ServerApp.port_retries=0", *([] if os.geteuid() else ["--allow-root"]), *(extra_args or [])]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=str(root))
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"jupyter server exited ({self.process.returncode}):\n{self.log()}")
            try:
                status, _ = self.request("GET", "/edgespec/jobs", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"jupyter server did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Tuple[int, Any]:
        """(status, JSON body or text) of one authenticated request."""
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        elif method in ("POST", "PUT"):
            data = b""
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode("utf-8", errors="replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


class LatencyProbe:
    """Asks the server for its job list again and again from a thread; records each answer's time."""

    def __init__(self, server: LiveServer, interval: float = 0.05):
        self.server = server
        self.interval = interval
        self.latencies: List[float] = []
        self.failures: List[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "LatencyProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status, _ = self.server.request("GET", "/edgespec/jobs", timeout=30)
                if status != 200:
                    self.failures.append(f"status {status}")
            except OSError as e:
                self.failures.append(str(e))
            self.latencies.append(time.monotonic() - started)
            self._stop.wait(self.interval)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=float("inf"))


def timed(server: LiveServer, method: str, path: str, body: Any = None) -> Tuple[float, int, Any]:
    started = time.monotonic()
    status, answer = server.request(method, path, body=body, timeout=30)
    return time.monotonic() - started, status, answer


def descendants(pid: int) -> Dict[int, str]:
    """The live descendants of a process: pid → command line."""
    parents: Dict[int, int] = {}
    commands: Dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_line = Path(f"/proc/{entry}/stat").read_text()
            commands[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parents[int(entry)] = int(stat_line.rsplit(")", 1)[1].split()[1])
    found: Dict[int, str] = {}
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                found[child] = commands.get(child, "")
                frontier.append(child)
    return found


def alive(pids) -> List[int]:
    living = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.append(pid)
    return living


def command_lines() -> List[str]:
    """The command lines of every live process but this one."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def processes_under(root: Path) -> List[str]:
    """Command lines of live processes that mention `root` (the CLI, the compiler, QEMU)."""
    return [c for c in command_lines() if str(root) in c and "jupyter" not in c]
