"""Staging directories beside a bundle, and what stops a capture cleanly.

A bundle is written into `.NAME.partial-PID-XXXX` beside its destination and an earlier
bundle is set aside as `.NAME.old-PID-XXXX` while the new one takes its place. Both carry
the id of the process that made them, so that the next capture can tell the leftovers of
a process that died (SIGKILL, a crash, a power cut) from the work of one still running:
it removes them, and if that process died halfway through replacing a bundle, it puts the
earlier bundle (and the builds that were being carried over) back first.

SIGTERM and SIGINT stop a command-line capture with `Stopped`, which unwinds like
KeyboardInterrupt, so that every `except BaseException` cleanup runs. The few renames that
swap a bundle into place run with both signals held back, so that no signal cuts them in
half; a held-back signal is delivered as soon as they are done.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from .bundle_files import BUNDLE_FILES

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STAGING_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)-[A-Za-z0-9_]+$")
BUILDS_DIR = "build"


class Stopped(BaseException):
    """The process received SIGTERM or SIGINT (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signal_name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs (in the main thread), SIGTERM and SIGINT raise Stopped."""
    def stop(signum, _frame):
        raise Stopped(signum)

    with _handlers(stop):
        yield


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGTERM and SIGINT that arrive during the block are delivered when it ends (main thread only)."""
    held: List[int] = []

    def hold(signum, _frame):
        held.append(signum)

    with _handlers(hold):
        yield
    if held:
        signal.raise_signal(held[0])  # to the handler that was there before (Stopped, KeyboardInterrupt, ...)


@contextmanager
def _handlers(handler) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # Python runs signal handlers in the main thread only; there is nothing to install here
        return
    previous: Dict[int, object] = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


def make_staging(destination: Path, kind: str) -> Path:
    """An empty private directory `.NAME.<kind>-PID-XXXX` beside `destination`."""
    return Path(tempfile.mkdtemp(prefix=f".{destination.name}.{kind}-{os.getpid()}-", dir=destination.parent))


def process_is_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return True
    return True


def sweep_stale_staging(parent: Path) -> List[str]:
    """Remove the staging directories in `parent` whose process is gone; returns what was done, for the log.

    A `.NAME.old-*` left while NAME itself is missing is the earlier bundle of a capture that
    died while swapping: it is moved back to NAME first, with the builds its `.partial-*` holds.
    """
    try:
        entries = list(parent.iterdir())
    except OSError:
        return []
    stale: Dict[str, Dict[str, Path]] = {}
    for entry in entries:
        match = STAGING_NAME.match(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir() or process_is_alive(int(match["pid"])):
            continue
        stale.setdefault(f"{match['name']}\0{match['pid']}", {})[match["kind"]] = entry
    done: List[str] = []
    for key, found in stale.items():
        name = key.split("\0")[0]
        destination = parent / name
        old, partial = found.get("old"), found.get("partial")
        try:
            if old is not None and not os.path.lexists(destination) and (old / "graph.json").is_file():
                os.rename(old, destination)
                _bring_back_builds(partial, destination)
                done.append(f"restored {destination} from {old.name}, left by a capture that was killed while replacing it")
                old = None
            for leftover in (old, partial):
                if leftover is not None and _only_bundle_entries(leftover):
                    shutil.rmtree(leftover)
                    done.append(f"removed {leftover}, left by a capture that did not finish")
        except OSError:
            continue  # best effort: never fail a capture over another one's leftovers
    return done


def _bring_back_builds(partial: Optional[Path], destination: Path) -> None:
    carried = partial / BUILDS_DIR if partial is not None else None
    if carried is None or not carried.is_dir():
        return
    builds = destination / BUILDS_DIR
    builds.mkdir(exist_ok=True)
    for entry in carried.iterdir():
        if not os.path.lexists(builds / entry.name):
            os.rename(entry, builds / entry.name)


def _only_bundle_entries(directory: Path) -> bool:
    """A staging directory holds the bundle files and builds, nothing a user put there."""
    return all(entry.name in BUNDLE_FILES or entry.name == BUILDS_DIR for entry in directory.iterdir())
