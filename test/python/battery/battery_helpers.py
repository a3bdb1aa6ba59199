"""The abuse battery's tools: run the real CLI, snapshot what the user owns, find leftovers.

Every case of the battery asserts the same things (issue 10): one clear message that names
the problem and the fix, the exit code, nothing of the user's destroyed, no staging
directory or orphan process left, and the Jupyter server still answering within a second.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[3]
CLI = [str(Path("/usr/bin/node") if Path("/usr/bin/node").exists() else "node"), str(REPO / "bin" / "edgespec")]
PYTHON_CLI = [sys.executable, "-m", "edgespec"]
MODELS = REPO / "test" / "python" / "server" / "models.py"

# What an error for the user must never look like.
BUG_TEXT = re.compile(r"this is a bug|Traceback \(most recent call last\)|\n\s+at .+\(.+:\d+:\d+\)|unexpected failure", re.I)
STAGING = re.compile(r"^\..+\.(tmp|partial|old)[-.]")


@dataclass
class Outcome:
    argv: List[str]
    returncode: Optional[int]
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    events: List[dict] = field(default_factory=list)

    @property
    def errors(self) -> List[dict]:
        return [e for e in self.events if e.get("event") == "error"]

    def text(self) -> str:
        return f"$ {' '.join(self.argv)}\nexit {self.returncode} in {self.seconds:.1f} s\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}"


def run_cli(args: Sequence[str], *, cwd: Optional[Path] = None, timeout: float = 60, json_events: bool = True,
            python: bool = False, env: Optional[Dict[str, str]] = None, stdin: Optional[int] = subprocess.DEVNULL) -> Outcome:
    """Runs `edgespec ARGS [--json]` to its end (killing its process group after `timeout`)."""
    argv = [*(PYTHON_CLI if python else CLI), *args, *(["--json"] if json_events else [])]
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin,
                            text=True, start_new_session=True, env={**os.environ, **(env or {})})
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    outcome = Outcome(argv, proc.returncode, out, err, time.monotonic() - start, timed_out)
    for line in out.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "event" in event:
            outcome.events.append(event)
    return outcome


def assert_refused(o: Outcome, *, code: int = 1, about: Iterable[str] = (), seconds: float = 30) -> dict:
    """One clear error event: the exit code, a message naming the problem (each word of
    `about` appears in it), a fix, no stack trace and no 'bug' label, and no hang."""
    assert not o.timed_out, f"the command hung:\n{o.text()}"
    assert o.seconds < seconds, f"took {o.seconds:.1f} s:\n{o.text()}"
    assert o.returncode == code, f"expected exit {code}:\n{o.text()}"
    assert len(o.errors) == 1, f"expected one error event:\n{o.text()}"
    error = o.errors[0]
    message, hint = error.get("message", ""), error.get("hint", "")
    assert message.strip(), o.text()
    assert hint.strip(), f"the error has no fix:\n{o.text()}"
    assert error.get("code") != "internal", f"a user problem reported as internal:\n{o.text()}"
    assert not BUG_TEXT.search(o.stdout + o.stderr), f"stack trace or 'bug' label:\n{o.text()}"
    for word in about:
        assert word.lower() in (message + " " + hint).lower(), f"the error does not mention {word!r}:\n{o.text()}"
    return error


def snapshot(*roots: Path) -> Dict[str, str]:
    """sha256 (or link target, or 'dir') of every entry under `roots`: what the user has."""
    seen: Dict[str, str] = {}
    for root in roots:
        if not root.exists() and not root.is_symlink():
            continue
        entries = [root] if not root.is_dir() or root.is_symlink() else [root, *root.rglob("*")]
        for p in entries:
            if p.is_symlink():
                seen[str(p)] = "link:" + os.readlink(p)
            elif p.is_dir():
                seen[str(p)] = "dir"
            elif p.is_file():
                seen[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                seen[str(p)] = "special"
    return seen


def staging_left(*roots: Path) -> List[str]:
    """Hidden staging directories (`.NAME.tmp-*`, `.NAME.partial-*`, `.NAME.old-*`) under `roots`."""
    found = []
    for root in roots:
        if root.is_dir():
            found += [str(p) for p in root.rglob(".*") if STAGING.match(p.name)]
    return found


def run_dirs() -> set:
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    return {p.name for p in tmp.glob("edgespec-run-*")}


def guest_pids() -> Dict[int, str]:
    """Running QEMU (system or user mode) processes that this test session started (their
    environment carries its EDGESPEC_TEST_TAG, set in test/python/conftest.py): pid -> command
    line. Another session's guests (a second pytest worker, jest) are not ours to judge."""
    tag = f"EDGESPEC_TEST_TAG={os.environ['EDGESPEC_TEST_TAG']}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "qemu-system-aarch64" not in cmd and "qemu-aarch64" not in cmd:
                continue
            if tag not in (proc / "environ").read_bytes().split(b"\0"):
                continue
        except OSError:
            continue
        found[int(proc.name)] = cmd
    return found


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1))
