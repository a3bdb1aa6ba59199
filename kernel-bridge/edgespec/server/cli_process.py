"""Run one edgespec CLI command as a subprocess without blocking the event loop.

The CLI prints one JSON event per line on stdout with `--json` (DESIGN.md "CLI events");
anything else on stdout or stderr is a log line. The process gets its own process group
so that cancelling also stops what it started (the compiler, QEMU).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

# A `result` event can carry a whole run report with the guest console on one line.
LINE_LIMIT = 64 * 1024 * 1024
STOP_GRACE_SECONDS = 5.0


@dataclass
class CliOutcome:
    exit_code: Optional[int]
    result: Any = None
    error: Optional[Dict[str, Any]] = None
    stderr_tail: List[str] = field(default_factory=list)
    timed_out: bool = False


def parse_event(line: str) -> Optional[Dict[str, Any]]:
    """The event a stdout line holds, or None when the line is plain text."""
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


class CliProcess:
    """One running command; `on_event` receives every event (plain lines become `log`)."""

    def __init__(self, argv: List[str], cwd: str, on_event: Callable[[Dict[str, Any]], None]):
        self.argv = argv
        self.cwd = cwd
        self.on_event = on_event
        self._proc: Optional[asyncio.subprocess.Process] = None
        self._stopping = False

    async def run(self, timeout: Optional[float] = None) -> CliOutcome:
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv, cwd=self.cwd, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, limit=LINE_LIMIT,
            env={**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"},
        )
        if self._stopping:  # stop() came while the process was being started
            self._signal_group(signal.SIGKILL)
        outcome = CliOutcome(exit_code=None)
        readers = asyncio.gather(self._read_stdout(outcome), self._read_stderr(outcome))
        try:
            await asyncio.wait_for(asyncio.shield(readers), timeout)
        except asyncio.TimeoutError:
            outcome.timed_out = True
            await self.stop()
            await readers
        outcome.exit_code = await self._proc.wait()
        return outcome

    async def stop(self) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after a grace period."""
        proc = self._proc
        already = self._stopping
        self._stopping = True
        if proc is None or proc.returncode is not None or already:
            return
        self._signal_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE_SECONDS)
        except asyncio.TimeoutError:
            pass
        # Children (QEMU, the compiler) may outlive the CLI; kill the group either way.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    async def _read_stdout(self, outcome: CliOutcome) -> None:
        async for raw in self._proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                continue
            event = parse_event(line) or {"event": "log", "level": "info", "message": line}
            if event["event"] == "result":
                outcome.result = event.get("data")
            elif event["event"] == "error":
                outcome.error = {k: event[k] for k in ("message", "hint", "code") if event.get(k) is not None}
            self.on_event(event)

    async def _read_stderr(self, outcome: CliOutcome) -> None:
        async for raw in self._proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                continue
            outcome.stderr_tail = (outcome.stderr_tail + [line])[-20:]
            self.on_event({"event": "log", "level": "info", "message": line})
