"""Failures of the user's own code and files, told as theirs: the file and line, the exception, the fix.

Capture imports the user's module, calls their factory and runs their model; when one of
those raises, the message names the user's file:line (the innermost frame in their file,
else the innermost frame outside edgespec and the installed libraries) instead of calling
it a bug in edgespec. Model files are checked before they are read: missing, a directory,
a FIFO or a device, unreadable, each with its own message.
"""
from __future__ import annotations

import errno
import os
import stat
import sysconfig
import traceback
from pathlib import Path
from typing import Optional

from ..errors import ModelInputError
from .provenance import short_path

_EDGESPEC_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the edgespec package
_LIBRARY_DIRS = tuple({os.path.abspath(p) for p in (sysconfig.get_paths().get("stdlib"),
                                                     sysconfig.get_paths().get("platstdlib")) if p})


def os_error_text(e: OSError) -> str:
    """'Permission denied (EACCES)'."""
    code = errno.errorcode.get(e.errno or 0)
    return f"{e.strerror or e}" + (f" ({code})" if code else "")


def readable_file(spec: str, what: str) -> Path:
    """`spec` as a Path if it is a regular file this process can read; else a ModelInputError saying why not."""
    path = Path(spec)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelInputError(f"{spec} does not exist", hint=f"give the path of {what}") from None
    except OSError as e:
        raise ModelInputError(f"cannot read {spec}: {os_error_text(e)}", hint=f"give the path of {what}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode) \
            else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file"
        raise ModelInputError(f"{spec} is {kind}, not a file", hint=f"give the path of {what}")
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise ModelInputError(f"cannot read {spec}: {os_error_text(e)}",
                              hint=f"make the file readable (chmod u+r {spec}) or give another copy of it") from None
    return path


def read_model_file(spec, what: str, limit: int) -> bytes:
    """The bytes of a model file: checked as readable_file, at most `limit` bytes."""
    path = readable_file(str(spec), what)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise ModelInputError(f"cannot read {spec}: {os_error_text(e)}", hint=f"give the path of {what}") from None
    if len(data) > limit:
        raise ModelInputError(f"{spec} is larger than {limit:,} bytes, the most {what} can hold",
                              hint=f"give the path of {what}")
    return data


def user_location(tb, user_file: Optional[str] = None) -> Optional[str]:
    """file:line in the user's code where a traceback went wrong, or None."""
    frames = traceback.extract_tb(tb)
    if user_file:
        wanted = os.path.realpath(user_file)
        mine = [f for f in frames if f.filename and os.path.realpath(f.filename) == wanted]
        if mine:
            return f"{short_path(mine[-1].filename)}:{mine[-1].lineno}"
    theirs = [f for f in frames if f.filename and not _is_library(f.filename)]
    if theirs:
        return f"{short_path(theirs[-1].filename)}:{theirs[-1].lineno}"
    return None


def exception_text(e: BaseException) -> str:
    """'ValueError: the first line of its message'."""
    lines = str(e).strip().splitlines()
    first = lines[0] if lines else ""
    if len(first) > 300:
        first = first[:300] + "..."
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def syntax_error(e: SyntaxError, doing: str) -> ModelInputError:
    """'models.py:7: SyntaxError while importing models.py: invalid syntax: def f(:'."""
    where = f"{short_path(e.filename)}:{e.lineno}" if e.filename else None
    code = f": {e.text.strip()[:200]}" if e.text and e.text.strip() else ""
    return ModelInputError(f"{where + ': ' if where else ''}{type(e).__name__} while {doing}: {e.msg}{code}",
                           hint=f"fix the syntax {'at ' + where if where else 'of your code'}")


def _is_library(filename: str) -> bool:
    if filename.startswith("<frozen") or filename.startswith("<string"):
        return True
    path = os.path.abspath(filename)
    if path.startswith(_EDGESPEC_DIR + os.sep):
        return True
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return any(path.startswith(d + os.sep) for d in _LIBRARY_DIRS)
