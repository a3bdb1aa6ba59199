"""One downloadable .zip of a build: everything needed to boot it and to judge it offline.

<model>-<target>[-int8]/
  <image>            the image, as built
  input.bin          the bundle's reference input in the image's input format
  boot.sh            boots the image with QEMU, exactly as `edgespec run` does
  footprint.json     the measured footprint
  footprint.html     a standalone report of it (inline CSS, script and data; no network)
  console.log        the console of the last run (when the build was run)
  run.json           the report of the last run (when the build was run)
  README.txt         what each file is
  SHA256SUMS         `sha256sum -c SHA256SUMS` checks all of the above

The zip is written next to the build (`<build>/<model>-<target>[-int8].zip`; int8 builds say
so in the name, as their directory does) through a temporary
file, so a failed or concurrent request never leaves a half-written archive behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

from .boot_script import boot_files
from .errors import ApiError
from .footprint_report import render_footprint_report
from .paths import relative_to_root

# Fixed timestamps make two archives of the same build byte-identical.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def write_archive(root: str, build: Path) -> Dict[str, Any]:
    manifest = _read_json(build / "build.json", "build.json")
    footprint = _read_json(build / "footprint.json", "footprint.json")
    run_report = _read_json(build / "run.json", "run.json") if (build / "run.json").is_file() else None
    model = _safe_name(str(footprint.get("model") or manifest.get("model") or build.parent.parent.name))
    target = _safe_name(str(footprint.get("target") or manifest.get("target") or build.name))
    stem = f"{model}-{target}" + ("-int8" if manifest.get("dtype") == "int8" else "")

    files: List[Tuple[str, bytes, int]] = []  # (name, content, unix mode)
    for name, content, mode in boot_files(root, build, manifest):
        files.append((name, content, mode))
    files.append(("footprint.json", (build / "footprint.json").read_bytes(), 0o644))
    files.append(("footprint.html", render_footprint_report(footprint).encode("utf-8"), 0o644))
    if run_report is not None:
        files.append(("run.json", (build / "run.json").read_bytes(), 0o644))
        files.append(("console.log", str(run_report.get("console", "")).encode("utf-8"), 0o644))
    files.append(("README.txt", _readme(model, target, [f[0] for f in files], run_report is not None).encode("utf-8"), 0o644))
    sums = "".join(f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content, _ in files)
    files.append(("SHA256SUMS", sums.encode("ascii"), 0o644))

    destination = build / f"{stem}.zip"
    _write_zip(destination, stem, files)
    data = destination.read_bytes()
    return {"path": relative_to_root(root, destination), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _write_zip(destination: Path, folder: str, files: List[Tuple[str, bytes, int]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".archive-", suffix=".zip.tmp", dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for name, content, mode in files:
                info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_DATE)
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
        os.replace(tmp, destination)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path, name: str) -> Dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApiError(404, f"The build has no {name}.", "Build the bundle again; a complete build has build.json and footprint.json.")
    except ValueError as e:
        raise ApiError(422, f"{name} of this build is not valid JSON: {e}", "Build the bundle again.")
    if not isinstance(data, dict):
        raise ApiError(422, f"{name} of this build is not a JSON object.", "Build the bundle again.")
    return data


def _safe_name(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("._")
    return cleaned or "model"


def _readme(model: str, target: str, names: List[str], was_run: bool) -> str:
    described = {
        "boot.sh": "boots the image in QEMU (./boot.sh [input.bin]); the guest writes output.bin in the current directory",
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
    if not was_run:
        lines += ["", "This build had not been run when the archive was made, so there is no console log."]
    return "\n".join(lines) + "\n"
