"""One downloadable .zip of a build: everything needed to boot it and to judge it offline.

<model>-<target>[-int8]/
  <image>            the image, as built
  input.bin          the bundle's reference input in the image's input format
  boot.sh            starts the image as `edgespec run` does (written by the build)
  footprint.json     the measured footprint
  footprint.html     a standalone report of it (written by the build; inline styles and data, no network)
  console.log        the console of the last run (when the build was run)
  run.json           the report of the last run (when the build was run)
  README.txt         what each file is
  SHA256SUMS         `sha256sum -c SHA256SUMS` checks all of the above

Every file but input.bin and README.txt is the build's own, packed as it is: the server
draws no report and writes no shell text. The zip is written next to the build (`<build>/<model>-<target>[-int8].zip`; int8 builds say
so in the name, as their directory does) through a temporary
file, so a failed or concurrent request never leaves a half-written archive behind.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Dict, List, Tuple

from ..contracts import build_dir_name
from .archive_files import REBUILD, boot_files, build_file, describe_inputs
from .errors import ApiError
from .files import MAX_JSON_FILE_BYTES, os_problem, parse_json_file, read_bytes_in_root, write_atomically
from .paths import relative_to_root

# Fixed timestamps make two archives of the same build byte-identical.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def write_archive(root: str, build: Path) -> Dict[str, Any]:
    manifest, _ = _read_json(root, build / "build.json", "build.json")
    footprint, footprint_bytes = _read_json(root, build / "footprint.json", "footprint.json")
    run_report, run_bytes = _read_json(root, build / "run.json", "run.json") if os.path.lexists(build / "run.json") else (None, b"")
    model = _safe_name(str(footprint.get("model") or manifest.get("model") or build.parent.parent.name))
    target = _safe_name(str(footprint.get("target") or manifest.get("target") or build.name))
    # named as the build folder is (src/common/targets.json): <model>-<target>[-int8]
    stem = f"{model}-" + build_dir_name(target, "int8" if manifest.get("dtype") == "int8" else None)

    files: List[Tuple[str, bytes, int]] = []  # (name, content, unix mode)
    for name, content, mode in boot_files(root, build, manifest):
        files.append((name, content, mode))
    files.append(("footprint.json", footprint_bytes, 0o644))
    files.append(("footprint.html", build_file(root, build, "footprint.html", MAX_JSON_FILE_BYTES), 0o644))
    if run_report is not None:
        files.append(("run.json", run_bytes, 0o644))
        files.append(("console.log", str(run_report.get("console", "")).encode("utf-8", "replace"), 0o644))
    readme = _readme(model, target, [f[0] for f in files], describe_inputs(manifest["inputs"]), run_report is not None)
    files.append(("README.txt", readme.encode("utf-8"), 0o644))
    sums = "".join(f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content, _ in files)
    files.append(("SHA256SUMS", sums.encode("ascii"), 0o644))

    destination = build / f"{stem}.zip"

    def write_zip(raw: BinaryIO) -> None:
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for name, content, mode in files:
                info = zipfile.ZipInfo(f"{stem}/{name}", date_time=ZIP_DATE)
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)

    try:
        write_atomically(destination, write_zip, ".archive-")
    except OSError as e:
        raise os_problem(e, "write the archive into", relative_to_root(root, build) or "the root directory", WRITE_HINT) from None
    digest = hashlib.sha256()
    with open(destination, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
        size = f.tell()
    return {"path": relative_to_root(root, destination), "bytes": size, "sha256": digest.hexdigest()}


WRITE_HINT = "Make the build directory writable (chmod u+w), or copy the build to a directory you can write to."


def _read_json(root: str, path: Path, name: str) -> Tuple[Dict[str, Any], bytes]:
    """A report of the build: parsed, and its bytes as they are on disk."""
    try:
        raw = read_bytes_in_root(root, path, MAX_JSON_FILE_BYTES, REBUILD)
    except FileNotFoundError:
        raise ApiError(404, f"The build has no {name}.", "Build the bundle again; a complete build has build.json and footprint.json.") from None
    data = parse_json_file(raw, name, REBUILD)
    if not isinstance(data, dict):
        raise ApiError(422, f"{name} of this build is not a JSON object.", "Build the bundle again.")
    return data, raw


def _safe_name(text: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in text[:64]).strip("._")
    return cleaned or "model"


def _readme(model: str, target: str, names: List[str], inputs: List[str], was_run: bool) -> str:
    described = {
        "boot.sh": "starts the image as edgespec run does (./boot.sh [input.bin]); it writes output.bin in the current directory",
        "input.bin": "the input the model was traced with, in edgespec's I/O format (header 'EDGESPEC', tensors 64-byte aligned); "
                     "output.bin comes back in the same format",
        "footprint.json": "every byte of the image and of its RAM, measured from the linked ELF and the linker map",
        "footprint.html": "the footprint as an interactive report; open it in a browser, no network needed",
        "run.json": "the report of the last run: outputs, agreement with the framework, instructions, wall time",
        "console.log": "the guest console of the last run",
    }
    lines = [f"edgespec image of {model} for {target}", "", "Files:"]
    for name in names:
        lines.append(f"  {name:16} {described.get(name, 'the image itself')}")
    lines.append(f"  {'SHA256SUMS':16} SHA-256 of every file; check with: sha256sum -c SHA256SUMS")
    lines += ["", "Inputs of the image (name, dtype, shape), in the order input.bin holds them:"]
    lines += [f"  {line}" for line in inputs]
    if not was_run:
        lines += ["", "This build had not been run when the archive was made, so there is no console log."]
    return "\n".join(lines) + "\n"
