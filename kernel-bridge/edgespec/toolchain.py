"""Find and run the TypeScript toolchain CLI (`edgespec build | run | inspect | doctor ...`).

Python never re-implements the toolchain: it runs this CLI, with --json, and relays its
events (progress, log, result, error); toolchain_process.py runs the command and reads them.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

from .errors import ToolchainError
from .toolchain_process import Event, ToolchainProcess

_REPO_ROOT = Path(__file__).resolve().parent.parent.parent
_BUILD_HINT = "build it: cd to the repository and run `npm install && npx tsc -p tsconfig.toolchain.json`"


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
    stderr: str = ""  # the last lines the CLI wrote on stderr


def run_cli(args: Sequence[str], on_event: Optional[Callable[[Event], None]] = None, *, cwd=None,
            timeout: Optional[float] = None, check: bool = True) -> CliRun:
    """Run `edgespec ARGS --json`, calling on_event for each event as it arrives (in this thread).

    Returns the run with every event and the data of the `result` event. With check, an
    `error` event or a non-zero exit raises ToolchainError carrying the CLI's message and hint.
    """
    argv = [*find_cli(), *args, *([] if "--json" in args else ["--json"])]
    events: List[Event] = []

    def relay(event: Event) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    outcome = ToolchainProcess(argv, cwd=cwd, on_event=relay).run(timeout)
    run = CliRun(returncode=outcome.exit_code if outcome.exit_code is not None else -1, events=events,
                 result=outcome.result, stderr="\n".join(outcome.stderr_tail))
    if check:
        _raise_on_failure(run, argv, timed_out=outcome.timed_out)
    return run


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
