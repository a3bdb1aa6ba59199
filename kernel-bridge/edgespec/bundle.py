"""Write a bundle directory atomically, and validate one (see bundle_validation).

A bundle is written into a temporary directory next to its destination, validated
there, and only then renamed into place: on any failure nothing is left behind and an
older bundle at the destination stays as it was.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping

import numpy as np

from .bundle_files import BUNDLE_FILES, GRAPH_FILE, REFERENCE_FILE, WEIGHTS_FILE, sha256_of
from .bundle_validation import validate_bundle
from .errors import BundleError

__all__ = ["write_bundle", "validate_bundle"]


def write_bundle(out, graph: Dict[str, Any], weights: Mapping[str, np.ndarray],
                 reference_inputs: Mapping[str, np.ndarray], reference_outputs: Mapping[str, np.ndarray]) -> Path:
    """Write graph.json, weights.safetensors and reference.safetensors into `out`.

    `graph` is complete except for its `weights` and `reference` records, which are
    filled in here from the files as written.
    """
    destination = Path(out).resolve()
    _check_replaceable(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a bundle is an ordinary directory
        _write_files(staging, graph, weights, reference_inputs, reference_outputs)
        validate_bundle(staging)
        _move_into_place(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination


def _write_files(staging: Path, graph: Dict[str, Any], weights, reference_inputs, reference_outputs) -> None:
    from safetensors.numpy import save_file

    weights_path = staging / WEIGHTS_FILE
    save_file({name: _c_order(a) for name, a in weights.items()}, str(weights_path))
    reference_path = staging / REFERENCE_FILE
    reference = {**reference_inputs, **reference_outputs}
    save_file({name: _c_order(a) for name, a in reference.items()}, str(reference_path))
    graph = dict(graph)
    graph["weights"] = {"file": WEIGHTS_FILE, "sha256": sha256_of(weights_path),
                        "bytes": weights_path.stat().st_size, "count": len(weights)}
    graph["reference"] = {"file": REFERENCE_FILE, "sha256": sha256_of(reference_path),
                          "inputs": list(reference_inputs), "outputs": list(reference_outputs)}
    with open(staging / GRAPH_FILE, "w", encoding="utf-8") as f:
        json.dump(graph, f, indent=1, allow_nan=False)
        f.write("\n")


def _c_order(array: np.ndarray) -> np.ndarray:
    # not np.ascontiguousarray: it turns a 0-d array (a scalar constant) into shape [1]
    return array if array.flags.c_contiguous else array.copy(order="C")


BUILDS_DIR = "build"


def _check_replaceable(destination: Path) -> None:
    """Only an empty directory or an earlier bundle may be replaced; never a user's files."""
    if not destination.exists():
        return
    if not destination.is_dir():
        raise BundleError(f"{destination} exists and is not a directory", hint="choose another output directory")
    # `build/` holds the build stage's outputs for this bundle (DESIGN.md's default place);
    # they are derived from the old bundle, so they go with it.
    foreign = sorted(p.name for p in destination.iterdir()
                     if p.name not in BUNDLE_FILES and not (p.name == BUILDS_DIR and p.is_dir()))
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise BundleError(f"{destination} already holds files that are not part of a bundle ({shown})",
                          hint="choose an output directory that is empty, new, or an earlier bundle")


def _move_into_place(staging: Path, destination: Path) -> None:
    if not destination.exists():
        os.rename(staging, destination)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{destination.name}.old-", dir=destination.parent))
    os.rmdir(retired)
    os.rename(destination, retired)
    try:
        os.rename(staging, destination)
    except BaseException:
        os.rename(retired, destination)
        raise
    shutil.rmtree(retired, ignore_errors=True)
