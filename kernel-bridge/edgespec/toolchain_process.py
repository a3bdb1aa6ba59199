"""Run one toolchain CLI command in its own process group, read its events, stop it.

The one place that knows what counts as a CLI event (DESIGN.md "CLI events": with --json,
one JSON object with a string `event` per stdout line; any other line is a log line) and
how a command is stopped (SIGTERM to its process group so it can clean up, SIGKILL to what
is left after a grace period: the compiler and QEMU it started go too). The Python API
(toolchain.run_cli, blocking, events to a callback) and the Jupyter server extension
(server/cli_process.py, awaited from the event loop) both run the CLI through it.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence

Event = Dict[str, Any]
EventHandler = Callable[[Event], None]

STOP_GRACE_SECONDS = 5.0
STDERR_TAIL_LINES = 20
_STDERR_DRAIN_SECONDS = 5.0  # a child that outlived the CLI may hold stderr open; do not wait on it for ever


def parse_event(line: str) -> Optional[Event]:
    """The event a line of the CLI's stdout stands for: the JSON event it holds, else a log
    event with the line as its message; None for a blank line."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if text.lstrip().startswith("{"):
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            return event
    return log_event(text)


def log_event(message: str) -> Event:
    return {"event": "log", "level": "info", "message": message}


@dataclass
class CliOutcome:
    """How a command ended: its exit code (None when it never ran), the data of its `result`
    event, its last `error` event, the last lines of its stderr, and whether it timed out."""

    exit_code: Optional[int]
    result: Any = None
    error: Optional[Event] = None
    stderr_tail: List[str] = field(default_factory=list)
    timed_out: bool = False


class ToolchainProcess:
    """One CLI command. `run` blocks in the calling thread, which receives every stdout event
    through on_event; stderr is read in a thread of its own, each line going to
    on_stderr_line. `stop` may be called from any thread, before, during or after `run`."""

    def __init__(self, argv: Sequence[str], *, cwd=None, env: Optional[Mapping[str, str]] = None,
                 stdin: Optional[int] = None, on_event: Optional[EventHandler] = None,
                 on_stderr_line: Optional[Callable[[str], None]] = None):
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.stdin = stdin
        self.on_event = on_event
        self.on_stderr_line = on_stderr_line
        self._process: Optional[subprocess.Popen] = None
        self._lock = threading.Lock()
        self._stopping = False

    def run(self, timeout: Optional[float] = None) -> CliOutcome:
        """Start the command and read its events until it ends (stopped after `timeout` seconds)."""
        with self._lock:
            # Its own process group (session), so that stopping it also stops what it started.
            self._process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=self.stdin,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            if self._stopping:  # stop() came before the process existed
                self._signal_group(signal.SIGKILL)
        process = self._process
        outcome = CliOutcome(exit_code=None)
        tail: deque = deque(maxlen=STDERR_TAIL_LINES)
        stderr_reader = threading.Thread(target=self._read_stderr, args=(process.stderr, tail), daemon=True,
                                         name="edgespec-cli-stderr")
        stderr_reader.start()
        timer = threading.Timer(timeout, self._stop_for_timeout, args=(outcome,)) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            self._read_stdout(process.stdout, outcome)
            outcome.exit_code = process.wait()
        finally:
            if timer:
                timer.cancel()
            if process.poll() is None:  # interrupted (KeyboardInterrupt in a notebook) or an on_event error
                self.stop()
            stderr_reader.join(_STDERR_DRAIN_SECONDS)
            outcome.stderr_tail = list(tail)
        return outcome

    def stop(self) -> None:
        """SIGTERM the command's process group, then SIGKILL what is left after a grace period.
        A second call while a stop is under way returns at once."""
        with self._lock:
            already = self._stopping
            self._stopping = True
            process = self._process
        if process is None or already or process.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        # Children (QEMU, the compiler) may outlive the CLI; kill the group either way.
        self._signal_group(signal.SIGKILL)

    def _stop_for_timeout(self, outcome: CliOutcome) -> None:
        outcome.timed_out = True
        self.stop()

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self._process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _read_stdout(self, stream: IO[bytes], outcome: CliOutcome) -> None:
        for raw in stream:
            event = parse_event(raw.decode("utf-8", errors="replace"))
            if event is None:
                continue
            if event["event"] == "result":
                outcome.result = event.get("data")
            elif event["event"] == "error":
                outcome.error = event
            if self.on_event is not None:
                self.on_event(event)

    def _read_stderr(self, stream: IO[bytes], tail: deque) -> None:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.strip():
                continue
            tail.append(line)
            if self.on_stderr_line is not None:
                self.on_stderr_line(line)
