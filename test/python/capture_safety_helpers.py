"""Tools of the capture safety tests: run the real capture command, snapshot what a user owns,
find staging directories, run without root's power to ignore file permissions."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from capture_helpers import REPO

NODE = "/usr/bin/node" if Path("/usr/bin/node").exists() else "node"
EDGESPEC = [NODE, str(REPO / "bin" / "edgespec")]
PYTHON_EDGESPEC = [sys.executable, "-m", "edgespec"]
STAGING = re.compile(r"^\..+\.(tmp|partial|old)[-.]")
BUG_TEXT = re.compile(r"this is a bug|Traceback \(most recent call last\)|unexpected failure", re.I)

BIG_MODEL = '''
import torch

def big():
    """About 100 MB of weights: writing the bundle takes long enough to be interrupted."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4096, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 2048))

def small():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU())
'''


def run(args: Sequence[str], *, node: bool = False, cwd: Optional[Path] = None, timeout: float = 300,
        prefix: Sequence[str] = (), **kwargs) -> subprocess.CompletedProcess:
    """`edgespec capture ...` through bin/edgespec (node) or python -m edgespec, to its end."""
    argv = [*prefix, *(EDGESPEC if node else PYTHON_EDGESPEC), *args]
    return subprocess.run(argv, cwd=cwd or REPO, capture_output=True, text=True, timeout=timeout, **kwargs)


def events(stdout: str) -> List[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def error_of(done: subprocess.CompletedProcess) -> dict:
    """The one error event of a --json run."""
    errors = [e for e in events(done.stdout) if e.get("event") == "error"]
    assert len(errors) == 1, done.stdout + done.stderr
    return errors[0]


def assert_user_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 1, one clear message (all `fragments` in it, a fix), never a bug label or a stack trace."""
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert not BUG_TEXT.search(text), text
    assert "fix:" in done.stderr or '"hint"' in done.stdout, text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    return text


def snapshot(root: Path) -> Dict[str, str]:
    """Every path under `root` with the sha256 of its content (directories as 'dir')."""
    found: Dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def staging_dirs(*roots: Path) -> List[str]:
    return [str(p) for root in roots if root.is_dir() for p in root.rglob(".*") if STAGING.match(p.name)]


def unprivileged() -> List[str]:
    """A command prefix under which file permissions hold, also for root (no CAP_DAC_OVERRIDE)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
