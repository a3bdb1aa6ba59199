"""The names a bundle carries, bounded so that they are safe wherever the toolchain pastes them.

Bundle names become directory and file names; input and output names reach generated C,
boot scripts, HTML and JSON; every other string of graph.json (tensor and node names,
module paths, source lines) is at most MAX_TEXT characters without control characters.
src/common/schema/graph.schema.json holds the same rules (test_capture_safety checks that
they agree). Capture never changes a name silently: every change is returned as a note.
"""
from __future__ import annotations

import hashlib
import re
from typing import Iterable, Optional, Tuple

from ..errors import ModelInputError

NAME_LIMIT = 128
MAX_TEXT = 1024
BUNDLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
IO_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

BUNDLE_NAME_RULE = "1 to 128 letters, digits, '_', '.' or '-', starting with a letter, a digit or '_'"
IO_NAME_RULE = "1 to 128 letters, digits, '_', '.', ':' or '-', starting with a letter, a digit or '_'"


def check_bundle_name(name: str, what: str = "--name") -> str:
    """`name` if it is a valid bundle name; else a ModelInputError with the rule and a valid suggestion."""
    if isinstance(name, str) and BUNDLE_NAME.fullmatch(name):
        return name
    suggestion, _ = derived_bundle_name(str(name))
    raise ModelInputError(f"{what} {str(name)[:200]!r} is not a valid bundle name: use {BUNDLE_NAME_RULE}",
                          hint=f"for example {what} {suggestion}" if what.startswith("--") else
                          f"for example name={suggestion!r}")


def resolve_bundle_name(name: Optional[str], default: str) -> Tuple[str, Optional[str]]:
    """The bundle name: `name` as asked (refused if invalid), else one derived from `default`, with a note if changed."""
    if name is not None:
        return check_bundle_name(name, "name"), None
    return derived_bundle_name(default)


def derived_bundle_name(wanted: str) -> Tuple[str, Optional[str]]:
    """A valid bundle name made from `wanted` (a file stem, factory or class name), and a note if it had to change."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", wanted).strip("._-")[:NAME_LIMIT].rstrip("._-") or "model"
    if name == wanted:
        return name, None
    return name, f"the bundle is named '{name}': {_shown(wanted)} is not a valid bundle name ({BUNDLE_NAME_RULE})"


def io_name(wanted: str, taken: Iterable[str]) -> str:
    """A valid input/output name made from a framework's name, unique among `taken`."""
    name = re.sub(r"[^A-Za-z0-9_.:-]+", "_", wanted)
    if not name or not re.match(r"[A-Za-z0-9_]", name):
        name = "_" + name
    return unique(shortened(name, NAME_LIMIT), taken, NAME_LIMIT)


def bounded_text(text: str, limit: int = MAX_TEXT) -> str:
    """`text` without control characters (each becomes '?') and at most `limit` characters long."""
    return shortened(CONTROL_CHARACTERS.sub("?", text), limit)


def shortened(text: str, limit: int) -> str:
    """`text`, or for a longer one its start and a digest of the whole (so that distinct names stay distinct)."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{text[:limit - 13]}~{digest}"


def unique(name: str, taken: Iterable[str], limit: int = MAX_TEXT) -> str:
    taken = set(taken)
    candidate, suffix = name, 1
    while candidate in taken:
        suffix += 1
        tail = f"_{suffix}"
        candidate = name[:limit - len(tail)] + tail
    return candidate


def _shown(name: str) -> str:
    return repr(name if len(name) <= 200 else name[:200] + "...")
