"""Where the shared contract files (graph schema, op vocabulary, targets, build-directory
entries) are found at run time.

A wheel carries a copy in edgespec/_data/; an editable install reads them from the
repository's src/common/, which stays the single source of truth.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_COMMON = _PACKAGE_DIR.parent.parent / "src" / "common"

GRAPH_SCHEMA = "schema/graph.schema.json"
OPS = "ops.json"
TARGETS = "targets.json"
BUILD_DIR_ENTRIES = "build-dir.json"


def contract_path(relative: str) -> Path:
    candidates = [_PACKAGE_DIR / "_data" / Path(relative).name, _REPO_COMMON / relative]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    from .errors import EdgespecError

    raise EdgespecError(
        f"the contract file {relative} was not found (looked in {', '.join(str(c) for c in candidates)})",
        hint="reinstall edgespec (pip install -e kernel-bridge from the repository, or the wheel)",
    )


@lru_cache(maxsize=None)
def load_contract(relative: str) -> Any:
    with open(contract_path(relative), encoding="utf-8") as f:
        return json.load(f)


def targets() -> Dict[str, Any]:
    """src/common/targets.json: the targets, the dtypes and where a build goes in its bundle."""
    return load_contract(TARGETS)


def build_dir_name(target: str, dtype: Optional[str]) -> str:
    """`<target>` for float32, `<target>-int8` for int8 (the rule of src/common/targets.ts)."""
    facts = targets()
    return facts["build_dir_name"][dtype or facts["default_dtype"]].replace("{target}", target)
