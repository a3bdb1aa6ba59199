"""What a build directory may hold: src/common/build-dir.json, the list the toolchain's
build reads too (src/common/buildDirEntries.ts). A build replaces, and a capture removes,
only a directory that holds nothing else.
"""
from __future__ import annotations

import re
from typing import Callable, List, Optional, Pattern

from .contracts import BUILD_DIR_ENTRIES, load_contract


def _compiled(pattern: str, target: Optional[str]) -> Optional[Pattern[str]]:
    if "{target}" in pattern and target is None:
        return None
    pattern = pattern.replace("{target}", re.escape(target or ""))
    # as in JavaScript: \w and \d are ASCII, and a final $ does not match before a trailing newline
    if pattern.endswith("$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern, re.ASCII)


class BuildDirRules:
    """The rules for a build of `target` (None when its build.json does not say: no archive is recognized)."""

    def __init__(self, target: Optional[str]):
        entries = load_contract(BUILD_DIR_ENTRIES)
        self._files = set(entries["files"])
        self._patterns: List[Pattern[str]] = [p for p in (_compiled(q, target) for q in entries["file_patterns"]) if p]
        self._dirs = [(_compiled(d["name"], target), _compiled(d["entries"], target)) for d in entries["directories"]]

    def is_build_file(self, name: str) -> bool:
        return name in self._files or any(p.search(name) for p in self._patterns)

    def subdir_rule(self, name: str) -> Optional[Callable[[str], object]]:
        """The test for the entries of a directory the build makes, or None for any other directory."""
        for dir_name, entries in self._dirs:
            if dir_name.search(name):
                return entries.search
        return None
