"""What a capture finds at its output directory, and whether it may replace it.

A capture writes into a directory that is new, empty, or an earlier edgespec bundle:
graph.json of format edgespec.graph, its safetensors files (weights, reference and the
optional intermediates) and `build/`, which holds
the build directories that `edgespec build` made from it (build.json of format
edgespec.build, and only what a build, a run and an archive write). Anything else is the
user's, and the capture refuses to touch it.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from ..build_dir_contents import BuildDirRules
from .bundle_files import BUNDLE_FILES, GRAPH_FILE
from ..errors import BundleError
from .staging import BUILDS_DIR, process_is_alive

BUILD_STAGING = re.compile(r"^\..+\.tmp-(?P<pid>\d+)-")     # a build being written: .TARGET.tmp-PID-TIME


@dataclass
class BuildDir:
    path: Path
    of_this_bundle: bool
    run_report: bool
    archives: List[str] = field(default_factory=list)

    def describe(self, bundle: Path) -> str:
        extras = (["its run report run.json"] if self.run_report else []) + \
                 ([f"{len(self.archives)} archive{'s' if len(self.archives) != 1 else ''} ({', '.join(self.archives)})"]
                  if self.archives else [])
        return str(self.path.relative_to(bundle)) + (f" (with {' and '.join(extras)})" if extras else "")


@dataclass
class Destination:
    path: Path
    exists: bool = False
    is_bundle: bool = False
    builds: List[BuildDir] = field(default_factory=list)

    @property
    def builds_of_this_bundle(self) -> List[BuildDir]:
        return [b for b in self.builds if b.of_this_bundle]


def inspect_destination(destination: Path, check_builds: bool = False) -> Destination:
    """What is at `destination`; BundleError if it holds anything that is not edgespec's.

    `check_builds` also requires every build made from this bundle to hold only what
    edgespec writes there (they are removed when the bundle changes).
    """
    if not os.path.lexists(destination):
        _require_directory_parents(destination)
        return Destination(destination)
    if destination.is_symlink() or not destination.is_dir():
        raise BundleError(f"{destination} exists and is not a directory",
                          hint="choose another output directory (--out)")
    entries = sorted(os.listdir(destination))
    if not entries:
        return Destination(destination, exists=True)
    _require_bundle(destination, entries)
    found = Destination(destination, exists=True, is_bundle=True)
    if BUILDS_DIR in entries:
        found.builds = _builds(destination, check_builds)
    return found


def _require_directory_parents(destination: Path) -> None:
    """The nearest existing parent of a new destination must be a directory (not a file, nor a link loop)."""
    parent = destination.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        kind = "a symbolic link that leads nowhere" if parent.is_symlink() and not parent.exists() else "not a directory"
        raise BundleError(f"{destination} cannot be made: {parent} is {kind}",
                          hint="choose an output directory (--out) under a directory that exists or can be made")


def _refuse(destination: Path, problem: str) -> BundleError:
    return BundleError(f"{destination} {problem}; capture replaces only an earlier edgespec bundle and never "
                       "touches anything else",
                       hint="choose an output directory (--out) that is new, empty, or an earlier bundle, "
                            "or move those files elsewhere")


def _require_bundle(destination: Path, entries: List[str]) -> None:
    foreign = [e for e in entries if e not in BUNDLE_FILES and e != BUILDS_DIR]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise _refuse(destination, f"already holds files that are not part of a bundle ({shown})")
    graph = destination / GRAPH_FILE
    if GRAPH_FILE not in entries:
        raise _refuse(destination, f"is not empty and has no {GRAPH_FILE}, so it is not an edgespec bundle")
    for name in [e for e in entries if e in BUNDLE_FILES]:
        path = destination / name
        if path.is_symlink() or not path.is_file():
            raise _refuse(destination, f"holds {name}, which is not a regular file that capture wrote")
    document = _read_json(graph)
    if not isinstance(document, dict) or document.get("format") != "edgespec.graph":
        raise _refuse(destination, f"holds a {GRAPH_FILE} that is not an edgespec graph (its format is not edgespec.graph)")
    builds = destination / BUILDS_DIR
    if os.path.lexists(builds) and (builds.is_symlink() or not builds.is_dir()):
        raise _refuse(destination, f"holds {BUILDS_DIR}, which is not the directory of its builds")


def _builds(destination: Path, check_contents: bool) -> List[BuildDir]:
    builds_dir = destination / BUILDS_DIR
    builds: List[BuildDir] = []
    for name in sorted(os.listdir(builds_dir)):
        entry = builds_dir / name
        staging = BUILD_STAGING.match(name)
        if staging and entry.is_dir() and not entry.is_symlink():
            pid = int(staging["pid"])
            if process_is_alive(pid):
                raise BundleError(f"a build is writing into {builds_dir} (process {pid}, {entry.name})",
                                  hint="wait for the build to finish, then capture again")
            continue  # the leftover of a build that died: edgespec's, it goes with the old bundle
        build = _build_dir(destination, entry)
        if build is None:
            raise _refuse(destination, f"holds {BUILDS_DIR}/{name}, which is not a build directory that "
                                       "edgespec build wrote")
        if check_contents and build.of_this_bundle:
            _require_build_entries(destination, entry)
        builds.append(build)
    return builds


def _build_dir(bundle: Path, entry: Path) -> Optional[BuildDir]:
    if entry.is_symlink() or not entry.is_dir():
        return None
    manifest_path = entry / "build.json"
    if manifest_path.is_symlink() or not manifest_path.is_file():
        return None
    manifest = _read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format") != "edgespec.build":
        return None
    recorded = manifest.get("bundle")
    # build.json records its bundle relative to the build directory ("../.." for BUNDLE/build/TARGET)
    of_this_bundle = not isinstance(recorded, str) or \
        os.path.normpath(os.path.join(entry, recorded)) == os.path.normpath(bundle)
    names = os.listdir(entry)
    return BuildDir(entry, of_this_bundle, "run.json" in names, sorted(n for n in names if n.endswith(".zip")))


def _require_build_entries(bundle: Path, build: Path) -> None:
    """Only what edgespec build, run and the server's archive write (src/common/build-dir.json)."""
    manifest = _read_json(build / "build.json")
    target = manifest.get("target") if isinstance(manifest, dict) else None
    rules = BuildDirRules(target if isinstance(target, str) else None)
    foreign = []
    for name in sorted(os.listdir(build)):
        path = build / name
        if path.is_symlink():
            foreign.append(name)
        elif path.is_dir():
            rule = rules.subdir_rule(name)
            if rule is None:
                foreign.append(f"{name}/")
            else:
                foreign += [f"{name}/{e.name}" for e in os.scandir(path)
                            if e.is_symlink() or not e.is_file() or not rule(e.name)]
        elif not path.is_file() or not rules.is_build_file(name):
            foreign.append(name)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise BundleError(
            f"{build} holds files that edgespec build did not write ({shown}); the new bundle differs from the one "
            "this build was made from, so the build would be replaced, and capture never removes your files",
            hint="move those files out of the build directory, or capture into another directory (--out)")


def _read_json(path: Path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read(64 << 20))
    except (OSError, ValueError, RecursionError):
        return None
