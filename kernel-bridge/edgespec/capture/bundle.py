"""Write a bundle directory atomically, and validate one (see bundle_validation).

A bundle is graph.json, weights.safetensors, reference.safetensors and, when capture kept
them, intermediates.safetensors (the framework's values of intermediate tensors).

A bundle is written into a staging directory next to its destination, validated there,
and only then renamed into place: on any failure, SIGTERM or SIGINT nothing is left
behind and an earlier bundle at the destination stays as it was. The destination must be
new, empty or an earlier bundle (bundle_destination); the builds made from an earlier
bundle stay when the new bundle is the same, and are removed, with a note saying which,
when it differs. Staging directories that a killed capture left are swept (staging).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from .bundle_destination import Destination, inspect_destination
from .bundle_files import BUNDLE_FILES, GRAPH_FILE, INTERMEDIATES_FILE, REFERENCE_FILE, WEIGHTS_FILE, sha256_of
from .bundle_validation import validate_bundle
from ..errors import BundleWriteError
from .staging import BUILDS_DIR, STAGING_NAME, make_staging, signals_held, sweep_stale_staging

__all__ = ["write_bundle", "validate_bundle", "WrittenBundle", "check_destination"]


@dataclass
class WrittenBundle:
    path: Path
    notes: List[str] = field(default_factory=list)  # what the user must hear: builds removed or kept


def check_destination(out) -> None:
    """Before a long capture: sweep what killed captures left beside `out`, and fail if `out` holds
    anything capture must not replace."""
    destination = Path(os.path.realpath(out))  # Path.resolve raises RuntimeError on a symlink loop
    sweep_stale_staging(destination.parent)
    try:
        inspect_destination(destination)
    except OSError as e:
        raise write_error(e, destination) from None


def write_bundle(out, graph: Dict[str, Any], weights: Mapping[str, np.ndarray],
                 reference_inputs: Mapping[str, np.ndarray], reference_outputs: Mapping[str, np.ndarray],
                 intermediates: Optional[Mapping[str, np.ndarray]] = None) -> WrittenBundle:
    """Write graph.json, weights.safetensors, reference.safetensors and, when `intermediates` is
    given, intermediates.safetensors into `out`.

    `graph` is complete except for its `weights`, `reference` and `intermediates` records,
    which are filled in here from the files as written.
    """
    destination = Path(os.path.realpath(out))  # Path.resolve raises RuntimeError on a symlink loop
    staging = None
    try:
        inspect_destination(destination)
        sweep_stale_staging(destination.parent)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            with signals_held():
                staging = make_staging(destination, "partial")
            os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes it private; a bundle is an ordinary directory
            _write_files(staging, graph, weights, reference_inputs, reference_outputs, intermediates)
            validate_bundle(staging)
            found = inspect_destination(destination)  # again: it may have changed while the model was captured
            same = _compare(staging, destination) if found.is_bundle else DIFFERENT
            if same == SAME:
                shutil.rmtree(staging, ignore_errors=True)
                _make_ordinary(destination)
                return WrittenBundle(destination, _kept_notes(found))
            if same == DIFFERENT and found.builds_of_this_bundle:
                found = inspect_destination(destination, check_builds=True)  # they go: only edgespec's files in them
            notes = _move_into_place(staging, found, keep_builds=same == SAME_MODEL)
        except BaseException:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as e:
        raise write_error(e, destination, staging) from None
    return WrittenBundle(destination, notes)


def _write_files(staging: Path, graph: Dict[str, Any], weights, reference_inputs, reference_outputs,
                 intermediates: Optional[Mapping[str, np.ndarray]]) -> None:
    from safetensors.numpy import save

    weights_data = save({name: _c_order(a) for name, a in weights.items()})
    _write_new(staging / WEIGHTS_FILE, weights_data)
    reference = {**reference_inputs, **reference_outputs}
    reference_data = save({name: _c_order(a) for name, a in reference.items()})
    _write_new(staging / REFERENCE_FILE, reference_data)
    graph = dict(graph)
    graph["weights"] = {"file": WEIGHTS_FILE, "sha256": hashlib.sha256(weights_data).hexdigest(),
                        "bytes": len(weights_data), "count": len(weights)}
    arithmetic = (graph.get("reference") or {}).get("arithmetic")  # how the framework computed the reference
    graph["reference"] = {"file": REFERENCE_FILE, "sha256": hashlib.sha256(reference_data).hexdigest(),
                          "inputs": list(reference_inputs), "outputs": list(reference_outputs),
                          **({"arithmetic": arithmetic} if arithmetic else {})}
    graph.pop("intermediates", None)
    if intermediates is not None:
        intermediates_data = save({name: _c_order(a) for name, a in intermediates.items()})
        _write_new(staging / INTERMEDIATES_FILE, intermediates_data)
        graph["intermediates"] = {"file": INTERMEDIATES_FILE, "sha256": hashlib.sha256(intermediates_data).hexdigest(),
                                  "bytes": len(intermediates_data), "count": len(intermediates)}
    _write_new(staging / GRAPH_FILE, (json.dumps(graph, indent=1, allow_nan=False) + "\n").encode("utf-8"))


def _write_new(path: Path, data: bytes) -> None:
    """A new file of mode 0666 less the umask (an ordinary file, like the rest of the bundle)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None


def _c_order(array: np.ndarray) -> np.ndarray:
    # not np.ascontiguousarray: it turns a 0-d array (a scalar constant) into shape [1]
    return array if array.flags.c_contiguous else array.copy(order="C")


def current_umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other way to read it; set it straight back
    os.umask(mask)
    return mask


SAME, SAME_MODEL, DIFFERENT = "same", "same model", "different"


def _compare(staging: Path, destination: Path) -> str:
    """SAME: the bundle at `destination` is byte for byte the new one. SAME_MODEL: only graph.json's
    `source` differs (how the model was given, e.g. another path to the same file), which no build
    reads. DIFFERENT otherwise. graph.json records the data files' sha256, so equal records and
    old files that still match them mean equal data."""
    new_bytes = (staging / GRAPH_FILE).read_bytes()
    old_bytes = (destination / GRAPH_FILE).read_bytes()
    try:
        new, old = json.loads(new_bytes), json.loads(old_bytes)
    except (ValueError, RecursionError):
        return DIFFERENT
    if not isinstance(old, dict) or {k: v for k, v in new.items() if k != "source"} != \
            {k: v for k, v in old.items() if k != "source"}:
        return DIFFERENT
    records = [(WEIGHTS_FILE, new["weights"]), (REFERENCE_FILE, new["reference"])]
    if isinstance(new.get("intermediates"), dict):
        records.append((INTERMEDIATES_FILE, new["intermediates"]))
    elif os.path.lexists(destination / INTERMEDIATES_FILE):
        return DIFFERENT  # the new bundle has none: the old file must go
    for name, record in records:
        path = destination / name
        if path.is_symlink() or not path.is_file() or sha256_of(path) != record["sha256"]:
            return DIFFERENT
    return SAME if new_bytes == old_bytes else SAME_MODEL


def _make_ordinary(bundle: Path) -> None:
    """Mode 0666 less the umask for the bundle's files (earlier versions wrote private data files)."""
    mode = 0o666 & ~current_umask()
    for name in BUNDLE_FILES:
        try:
            os.chmod(bundle / name, mode)
        except OSError:
            pass


def _kept_notes(found: Destination, replaced_source: bool = False) -> List[str]:
    builds = found.builds_of_this_bundle
    if replaced_source:
        if not builds:
            return []
        return [f"{found.path} held the same model (same graph, weights and reference; only its source record "
                f"changed), so its builds were kept: {', '.join(b.describe(found.path) for b in builds)}"]
    if not builds:
        return [f"{found.path} already held this very bundle (same graph, weights and reference); it was left as it was"]
    return [f"{found.path} already held this very bundle (same graph, weights and reference); it was left as it was, "
            f"and so were its builds: {', '.join(b.describe(found.path) for b in builds)}"]


def _move_into_place(staging: Path, found: Destination, keep_builds: bool = False) -> List[str]:
    """Swap the new bundle in; carry over the builds of other bundles, and this bundle's if `keep_builds`."""
    destination = found.path
    if not found.exists or not found.is_bundle:
        with signals_held():
            os.rename(staging, destination)  # over nothing, or over an empty directory
        return []
    replaced = [] if keep_builds else found.builds_of_this_bundle
    kept = [b for b in found.builds if keep_builds or not b.of_this_bundle]
    with signals_held():
        retired = make_staging(destination, "old")
        os.rmdir(retired)
        os.rename(destination, retired)
        carried: List[str] = []
        try:
            if kept:
                (staging / BUILDS_DIR).mkdir()
            for build in kept:
                os.rename(retired / BUILDS_DIR / build.path.name, staging / BUILDS_DIR / build.path.name)
                carried.append(build.path.name)
            os.rename(staging, destination)
        except BaseException:
            for name in carried:
                os.rename(staging / BUILDS_DIR / name, retired / BUILDS_DIR / name)
            os.rename(retired, destination)
            raise
    shutil.rmtree(retired, ignore_errors=True)  # the earlier bundle and the builds made from it
    if keep_builds:
        return _kept_notes(found, replaced_source=True)
    if not replaced:
        return []
    return [f"the new bundle differs from the one {destination} held, so the builds made from that one were removed: "
            f"{'; '.join(b.describe(destination) for b in replaced)}. Build again with: edgespec build {destination}"]


_WRITE_HINTS = {
    errno.ENOSPC: "free space on that file system, or capture to a directory on another one (--out)",
    errno.EDQUOT: "your disk quota is used up: free space, or capture to a directory on another file system (--out)",
    errno.EROFS: "that file system is read-only: capture to a directory you can write to (--out)",
    errno.EACCES: "you may not write there: capture to a directory you can write to (--out), or change its permissions",
    errno.EPERM: "you may not write there: capture to a directory you can write to (--out), or change its permissions",
    errno.EFBIG: "the file is larger than this file system or your file size limit (ulimit -f) allows",
    errno.ENAMETOOLONG: "choose a shorter output path (--out)",
    errno.EXDEV: "the output directory is a mount point: capture to a directory inside it (--out)",
    errno.EBUSY: "the output directory is in use as a mount point: capture to a directory inside it (--out)",
}


def write_error(e: OSError, destination: Path, staging: Optional[Path] = None) -> BundleWriteError:
    """One clear message for a file-system failure while writing a bundle: the path, the reason, the errno.

    Paths inside the staging directory are shown as the files of the destination they stand for;
    a staging directory that could not be made, as the directory it was to be made in.
    """
    code = errno.errorcode.get(e.errno or 0, str(e.errno))
    where = str(e.filename or destination)
    if staging is not None and (where == str(staging) or where.startswith(str(staging) + os.sep)):
        where = str(destination) + where[len(str(staging)):]
    elif STAGING_NAME.match(os.path.basename(where)):
        where = os.path.dirname(where)
    return BundleWriteError(f"cannot write the bundle {destination}: {e.strerror or e} ({code}) at {where}; "
                            "nothing was changed there",
                            hint=_WRITE_HINTS.get(e.errno, "check that the output directory can be written (--out)"),
                            details={"path": str(where), "errno": code})
