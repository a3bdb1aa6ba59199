"""Build directories under the server root: find them, and read their reports."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List

from .errors import ApiError
from .files import read_json_in_root
from .paths import relative_to_root, resolve_in_root, shown

# Where to look for builds the job list does not know (made in a terminal, or before a
# reset of the job list): a bounded walk, so a large root stays cheap to list.
MAX_WALK_DEPTH = 6
MAX_WALK_DIRS = 5000
SKIPPED_DIRS = {"node_modules", "__pycache__", "site-packages"}


def build_dir(root: str, value: object) -> Path:
    """The build directory a request names; 404 when it holds no build."""
    path = resolve_in_root(root, value, "build")
    if not (path / "build.json").is_file() and not (path / "footprint.json").is_file():
        raise ApiError(404, f"No build at '{shown(str(value))}': it has neither build.json nor footprint.json.",
                       "Build the bundle first (the Build action, or edgespec build BUNDLE).")
    return path


def read_report(root: str, build: Path, name: str, hint: str) -> Any:
    try:
        return read_json_in_root(root, build / name, hint)
    except FileNotFoundError:
        raise ApiError(404, f"The build has no {name} yet.", hint) from None


def list_builds(root: str, known: Iterable[str] = ()) -> List[Dict[str, Any]]:
    """BuildSummary of every build directory found, newest first."""
    candidates = {Path(root) / rel for rel in known}
    candidates.update(_walk_for_footprints(Path(root)))
    summaries = {s["build"]: s for s in (_summary(root, path) for path in candidates) if s is not None}
    return sorted(summaries.values(), key=lambda s: s["modified"], reverse=True)


def _walk_for_footprints(root: Path) -> List[Path]:
    found: List[Path] = []
    visited = 0
    for current, dirs, files in os.walk(root):
        visited += 1
        depth = len(Path(current).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS and depth < MAX_WALK_DEPTH)
        if "footprint.json" in files and "build.json" in files:
            found.append(Path(current))
        if visited >= MAX_WALK_DIRS:
            break
    return found


def _summary(root: str, path: Path) -> Dict[str, Any] | None:
    try:
        real = resolve_in_root(root, str(path), "build")
        footprint_file = real / "footprint.json"
        footprint = read_json_in_root(root, footprint_file, "")
        modified = datetime.fromtimestamp(footprint_file.stat().st_mtime, timezone.utc)
    except (ApiError, OSError, ValueError):
        return None
    if not isinstance(footprint, dict):
        return None
    image = footprint.get("image") or {}
    return {
        "build": relative_to_root(root, real),
        "model": str(footprint.get("model", real.name)),
        "target": str(footprint.get("target", "")),
        "dtype": str(footprint.get("dtype") or "float32"),
        "image_bytes": int(image.get("bytes", 0)) if isinstance(image, dict) else 0,
        # lets a footprint view find the build it came from (src/lab/api.ts BuildSummary)
        **({"image_sha256": image["sha256"]} if isinstance(image, dict) and isinstance(image.get("sha256"), str) else {}),
        "modified": modified.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "has_run": (real / "run.json").is_file(),
    }
