"""Confine every path a request names to the Jupyter server's root directory.

Requests carry root-relative, '/'-separated paths (the same paths JupyterLab's file
browser shows). An absolute path is accepted when it lies inside the root, because the
kernel reports bundle directories as absolute paths. Anything that leaves the root is
refused: a `..` component, an absolute path elsewhere, or a symlink that points outside.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import ApiError


class PathOutsideRoot(ApiError):
    def __init__(self, name: str, value: str):
        super().__init__(
            403,
            f"The {name} path '{value}' is outside the Jupyter server's root directory.",
            "Use a path relative to the directory JupyterLab's file browser shows, without '..'.",
        )


def resolve_in_root(root: str, value: object, name: str) -> Path:
    """The real path of `value` inside `root`, or an ApiError (400 malformed, 403 outside)."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"The request needs a '{name}' path (a non-empty string).",
                       f"Send the {name} directory relative to the server's root, e.g. 'edgespec-bundles/model'.")
    if "\x00" in value:
        raise ApiError(400, f"The {name} path contains a NUL character.", "Send a plain file system path.")
    parts = value.replace("\\", "/").split("/")
    if ".." in parts:
        raise PathOutsideRoot(name, value)
    real_root = Path(os.path.realpath(root))
    candidate = Path(value) if os.path.isabs(value) else real_root / value
    real = Path(os.path.realpath(candidate))
    if real != real_root and real_root not in real.parents:
        raise PathOutsideRoot(name, value)
    return real


def contained_in_root(root: str, path: Path, name: str) -> Path:
    """The real path of a path the server derived itself (e.g. from build.json), if inside the root."""
    return resolve_in_root(root, os.path.realpath(path), name)


def relative_to_root(root: str, path: Path) -> str:
    """The '/'-separated root-relative form of a path inside the root ('' for the root)."""
    rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    return "" if str(rel) == "." else rel.as_posix()
