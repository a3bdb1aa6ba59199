"""Confine every path a request names to the Jupyter server's root directory.

Requests carry root-relative, '/'-separated paths (the same paths JupyterLab's file
browser shows). An absolute path is accepted when it lies inside the root, because the
kernel reports bundle directories as absolute paths. Anything that leaves the root is
refused: a `..` component, an absolute path elsewhere, or a symlink that points outside.

Resolving a path touches the file system (realpath costs one lstat per component and
prefix), so these functions are for a worker thread, never the event loop; and a path is
bounded in length and depth before any of that work starts.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import ApiError

MAX_PATH_BYTES = 4096
MAX_PATH_COMPONENTS = 256
SHOWN_PATH_CHARS = 120


def shown(value: str) -> str:
    """A path as an error message quotes it: long ones cut, so a message stays readable."""
    return value if len(value) <= SHOWN_PATH_CHARS else value[:SHOWN_PATH_CHARS] + f"… ({len(value)} characters)"


class PathOutsideRoot(ApiError):
    def __init__(self, name: str, value: str):
        super().__init__(
            403,
            f"The {name} path '{shown(value)}' is outside the Jupyter server's root directory.",
            "Use a path relative to the directory JupyterLab's file browser shows, without '..'.",
            "path-outside-root",
        )


def check_path_bounds(value: str, name: str) -> None:
    """Refuse a path too long or too deep to be a real one, before the file system sees it."""
    size = len(value) if len(value) > MAX_PATH_BYTES else len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_PATH_BYTES:
        raise ApiError(400, f"The {name} path is {size} bytes long; edgespec accepts paths of at most {MAX_PATH_BYTES} bytes.",
                       f"Send the {name} directory relative to the server's root, e.g. 'edgespec-bundles/model'.",
                       "path-too-long")
    depth = value.count("/") + value.count("\\") + 1
    if depth > MAX_PATH_COMPONENTS:
        raise ApiError(400, f"The {name} path has {depth} components; edgespec accepts at most {MAX_PATH_COMPONENTS}.",
                       f"Send the {name} directory relative to the server's root, e.g. 'edgespec-bundles/model'.",
                       "path-too-deep")


def resolve_in_root(root: str, value: object, name: str) -> Path:
    """The real path of `value` inside `root`, or an ApiError (400 malformed, 403 outside)."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"The request needs a '{name}' path (a non-empty string).",
                       f"Send the {name} directory relative to the server's root, e.g. 'edgespec-bundles/model'.")
    check_path_bounds(value, name)
    if "\x00" in value:
        raise ApiError(400, f"The {name} path contains a NUL character.", "Send a plain file system path.")
    parts = value.replace("\\", "/").split("/")
    if ".." in parts:
        raise PathOutsideRoot(name, value)
    real_root = Path(os.path.realpath(root))
    candidate = Path(value) if os.path.isabs(value) else real_root / value
    real = Path(os.path.realpath(candidate))
    if not is_inside(real_root, real):
        raise PathOutsideRoot(name, value)
    return real


def is_inside(real_root: Path, real: Path) -> bool:
    return real == real_root or real_root in real.parents


def contained_in_root(root: str, path: Path, name: str) -> Path:
    """The real path of a path the server derived itself (e.g. from build.json), if inside the root."""
    check_path_bounds(str(path), name)
    if "\x00" in str(path):
        raise ApiError(400, f"The {name} path contains a NUL character.", "Build the bundle again.")
    return resolve_in_root(root, os.path.realpath(path), name)


def relative_to_root(root: str, path: Path) -> str:
    """The '/'-separated root-relative form of a path inside the root ('' for the root)."""
    rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    return "" if str(rel) == "." else rel.as_posix()
