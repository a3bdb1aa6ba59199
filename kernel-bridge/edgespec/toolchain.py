"""Find and run the TypeScript toolchain CLI (`edgespec build | run | inspect | doctor ...`).

Python never re-implements the toolchain: it runs this CLI, with --json, and relays its
events (progress, log, result, error).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from .errors import ToolchainError

_REPO_ROOT = Path(__file__).resolve().parent.parent.parent
STOP_GRACE_SECONDS = 5.0
_BUILD_HINT = "build it: cd to the repository and run `npm install && npx tsc -p tsconfig.toolchain.json`"

Event = Dict[str, Any]


def find_cli() -> List[str]:
    """The command that starts the toolchain CLI: EDGESPEC_CLI, else the repository's bin/edgespec, else `edgespec` on PATH."""
    configured = os.environ.get("EDGESPEC_CLI")
    if configured:
        script = Path(configured)
        if not script.is_file():
            raise ToolchainError(f"EDGESPEC_CLI is {configured}, which is not a file",
                                 hint="point EDGESPEC_CLI at bin/edgespec of an edgespec checkout, or unset it")
        return _command_for(script)
    script = _REPO_ROOT / "bin" / "edgespec"
    if script.is_file():
        if not (_REPO_ROOT / "lib" / "toolchain" / "cli.js").is_file():
            raise ToolchainError(f"the toolchain CLI at {script} is not built (lib/toolchain/cli.js is missing)",
                                 hint=_BUILD_HINT)
        return _command_for(script)
    on_path = shutil.which("edgespec")
    if on_path:
        return [on_path]
    raise ToolchainError("the edgespec toolchain CLI was not found",
                         hint="set EDGESPEC_CLI to the path of bin/edgespec, or install edgespec with npm")


def _command_for(script: Path) -> List[str]:
    if script.suffix in (".js", ".cjs") or _is_node_script(script):
        node = shutil.which("node")
        if node is None:
            raise ToolchainError("node is not installed; the edgespec toolchain runs on Node.js 20 or newer",
                                 hint="apt-get install -y nodejs (or install Node.js 20 from nodejs.org)")
        return [node, str(script)]
    return [str(script)]


def _is_node_script(script: Path) -> bool:
    with open(script, "rb") as f:
        return b"node" in f.readline()


def exec_cli(args: Sequence[str]) -> int:
    """Run the CLI with the terminal attached (for `python -m edgespec <command>`); returns its exit code."""
    return subprocess.call([*find_cli(), *args])


@dataclass
class CliRun:
    returncode: int
    events: List[Event] = field(default_factory=list)
    result: Any = None
    stderr: str = ""


def run_cli(args: Sequence[str], on_event: Optional[Callable[[Event], None]] = None, *, cwd=None,
            timeout: Optional[float] = None, check: bool = True) -> CliRun:
    """Run `edgespec ARGS --json`, calling on_event for each event as it arrives.

    Returns the run with every event and the data of the `result` event. With check, an
    `error` event or a non-zero exit raises ToolchainError carrying the CLI's message and hint.
    """
    argv = [*find_cli(), *args, *([] if "--json" in args else ["--json"])]
    # Its own process group, so that stopping it also stops what it started (the compiler, QEMU).
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                               start_new_session=True)
    stderr_chunks: List[str] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)
    reader.start()
    timed_out = threading.Event()

    def stop_for_timeout() -> None:
        timed_out.set()
        _stop_group(process)

    timer = threading.Timer(timeout, stop_for_timeout) if timeout else None
    if timer:
        timer.start()
    run = CliRun(returncode=-1)
    try:
        for line in process.stdout:
            event = _parse_event(line)
            if event is None:
                continue
            run.events.append(event)
            if event.get("event") == "result":
                run.result = event.get("data")
            if on_event is not None:
                on_event(event)
        run.returncode = process.wait()
    finally:
        if timer:
            timer.cancel()
        if process.poll() is None:  # interrupted (KeyboardInterrupt in a notebook) or an on_event error
            _stop_group(process)
        reader.join(timeout=5)
    run.stderr = "".join(stderr_chunks)
    if check:
        _raise_on_failure(run, argv, timed_out=timed_out.is_set())
    return run


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the CLI's process group so it can clean up, then SIGKILL whatever is left after a grace period."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    # Children (QEMU, the compiler) may outlive the CLI; kill the group either way.
    _signal_group(process, signal.SIGKILL)
    process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _parse_event(line: str) -> Optional[Event]:
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict) or "event" not in event:
        return {"event": "log", "level": "info", "message": line}
    return event


def _raise_on_failure(run: CliRun, argv: List[str], timed_out: bool) -> None:
    error = next((e for e in reversed(run.events) if e.get("event") == "error"), None)
    if error is not None:
        raise ToolchainError(error.get("message", "the toolchain reported an error"), error.get("hint"),
                             error.get("details"), code=error.get("code"))
    if timed_out:
        raise ToolchainError(f"`{' '.join(argv)}` did not finish in time and was stopped")
    if run.returncode != 0:
        tail = run.stderr.strip().splitlines()[-5:]
        raise ToolchainError(f"`{' '.join(argv)}` exited with status {run.returncode}"
                             + (": " + " / ".join(tail) if tail else ""))
