"""Run one edgespec CLI command as a subprocess without blocking the event loop.

The command runs, its events are read and it is stopped by edgespec.toolchain_process, the
same code the Python API runs the CLI with; this wraps it for asyncio: the blocking run
and the stop go to threads of their own, and every event (a stderr line is a `log` event)
reaches `on_event` on the event loop, in order, before `run` returns.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, TypeVar

from ..toolchain_process import ToolchainProcess, log_event

T = TypeVar("T")


@dataclass
class CliOutcome:
    exit_code: Optional[int]
    result: Any = None
    error: Optional[Dict[str, Any]] = None  # message, hint and code of the CLI's error event
    stderr_tail: List[str] = field(default_factory=list)
    timed_out: bool = False


class CliProcess:
    """One running command; `on_event` receives every event (plain lines become `log`)."""

    def __init__(self, argv: List[str], cwd: str, on_event: Callable[[Dict[str, Any]], None]):
        self.argv = argv
        self.cwd = cwd
        self.on_event = on_event
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._process = ToolchainProcess(argv, cwd=cwd, env={**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"},
                                         stdin=subprocess.DEVNULL, on_event=self._relay,
                                         on_stderr_line=lambda line: self._relay(log_event(line)))

    async def run(self, timeout: Optional[float] = None) -> CliOutcome:
        self._loop = asyncio.get_running_loop()
        ended = await _in_thread(lambda: self._process.run(timeout))
        error = None
        if ended.error is not None:
            error = {k: ended.error[k] for k in ("message", "hint", "code") if ended.error.get(k) is not None}
        return CliOutcome(exit_code=ended.exit_code, result=ended.result, error=error,
                          stderr_tail=ended.stderr_tail, timed_out=ended.timed_out)

    async def stop(self) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after a grace period."""
        await _in_thread(self._process.stop)

    def _relay(self, event: Dict[str, Any]) -> None:
        """From the reading threads to the event loop (call_soon_threadsafe keeps the order)."""
        try:
            self._loop.call_soon_threadsafe(self.on_event, event)
        except RuntimeError:  # the loop is closed: the server is gone, nobody is listening
            pass


async def _in_thread(work: Callable[[], T]) -> T:
    """Run blocking work in a thread of its own (not the default executor, whose few workers
    running commands could keep a stop waiting) and await its value."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()

    def settle(value: Any, error: Optional[BaseException]) -> None:
        if done.done():  # the awaiting task was cancelled
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(value)

    def body() -> None:
        try:
            value, error = work(), None
        except BaseException as e:  # handed to the awaiting task, raised there
            value, error = None, e
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop is closed
            pass

    threading.Thread(target=body, daemon=True, name="edgespec-cli").start()
    return await done
