"""The files of an archive that boot the image: the image, input.bin and boot.sh.

boot.sh repeats the command `edgespec run` starts (src/toolchain/run/guestCommand.ts),
built from the same build.json fields: QEMU's virt machine with the image as `-kernel`,
the input placed in guest RAM by `-device loader`, semihosting for the console, output.bin
and the exit status, `-icount shift=0` so the guest can count its instructions.
input.bin holds the bundle's reference input in the platforms' I/O format
(kernels/include/edgespec/io_format.h).
"""
from __future__ import annotations

import json
import re
import shlex
import struct
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ..io_file import encode_inputs, file_bytes
from ..safetensors_header import SafetensorsFormatError, read_safetensors_header
from .errors import ApiError
from .paths import contained_in_root

REBUILD = "Build the bundle again (edgespec build BUNDLE), then make the archive again."


def boot_files(root: str, build: Path, manifest: Dict[str, Any]) -> List[Tuple[str, bytes, int]]:
    target = manifest.get("target")
    image = _inside(root, build, manifest.get("image"), "image")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", image.name):
        raise ApiError(422, f"The image file name {image.name!r} is not a plain file name.", REBUILD)
    if not image.is_file():
        raise ApiError(404, f"The image {image.name} named by build.json is missing.", REBUILD)
    inputs = _tensor_specs(manifest)
    bundle = _inside(root, build, manifest.get("bundle"), "bundle")
    input_file = encode_inputs(_reference_inputs(bundle, inputs))
    if target == "qemu-virt":
        script = qemu_virt_script(manifest, image.name, inputs)
    elif target == "host":
        script = host_script(manifest, image.name, inputs)
    else:
        raise ApiError(422, f"build.json names target {target!r}, which edgespec cannot boot.", REBUILD)
    return [(image.name, image.read_bytes(), 0o755), ("input.bin", input_file, 0o644),
            ("boot.sh", script.encode("utf-8"), 0o755)]


def _inside(root: str, build: Path, value: Any, field: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ApiError(422, f"build.json has no '{field}' path.", REBUILD)
    path = Path(value) if Path(value).is_absolute() else build / value
    try:
        return contained_in_root(root, path, field)
    except ApiError as e:
        raise ApiError(403, f"build.json's {field} ({value}) lies outside the server's root directory, "
                            "so it cannot go into an archive.", "Build the bundle inside the Jupyter root directory.") from e


def _tensor_specs(manifest: Dict[str, Any]) -> List[Dict[str, Any]]:
    specs = manifest.get("inputs")
    if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) and isinstance(s.get("bytes"), int) for s in specs):
        raise ApiError(422, "build.json has no list of inputs with their sizes.", REBUILD)
    return specs


def _reference_inputs(bundle: Path, specs: List[Dict[str, Any]]) -> List[bytes]:
    """The raw bytes of the bundle's reference inputs, checked against the image's inputs."""
    try:
        graph = json.loads((bundle / "graph.json").read_text(encoding="utf-8"))
        names = list(graph["reference"]["inputs"])
        path = bundle / "reference.safetensors"
        entries = read_safetensors_header(path)
        with open(path, "rb") as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            data = f.read()[header_len:]
    except (OSError, ValueError, KeyError, TypeError, SafetensorsFormatError) as e:
        raise ApiError(422, f"The bundle at {bundle.name} has no readable reference input ({e}).",
                       "Capture the model again, then build it again.")
    if len(names) != len(specs):
        raise ApiError(422, f"The bundle has {len(names)} reference inputs, the image takes {len(specs)}.", REBUILD)
    # build.json names the reference tensor of each input; older manifests follow graph.json's order.
    names = [spec.get("reference") or name for name, spec in zip(names, specs)]
    tensors = []
    for name, spec in zip(names, specs):
        entry = entries.get(name)
        if entry is None or entry.end - entry.begin != spec["bytes"]:
            raise ApiError(422, f"The reference input {name} does not match the image's input {spec.get('name')} "
                                f"({spec['bytes']} bytes).", REBUILD)
        tensors.append(data[entry.begin:entry.end])
    return tensors


def _describe_inputs(specs: List[Dict[str, Any]]) -> str:
    return ", ".join(f"{s.get('name', '?')} {s.get('dtype', '?')}[{'x'.join(str(d) for d in s.get('shape', []))}]"
                     for s in specs)


def _input_check(specs: List[Dict[str, Any]]) -> str:
    """Shell lines that refuse an input file of the wrong size before QEMU starts."""
    size = file_bytes([s["bytes"] for s in specs])
    return (f'size=$(wc -c < "$input")\n'
            f'if [ "$size" -ne {size} ]; then\n'
            f'  echo "boot.sh: $input is $size bytes; this image takes an edgespec input file of {size} bytes '
            f'({_describe_inputs(specs)})" >&2\n'
            f'  exit 2\n'
            f'fi\n')


def qemu_virt_script(manifest: Dict[str, Any], image: str, specs: List[Dict[str, Any]]) -> str:
    qemu = manifest.get("qemu")
    if not isinstance(qemu, dict) or not all(isinstance(qemu.get(k), str) for k in ("machine", "cpu", "memory", "input_address")):
        raise ApiError(422, "build.json has no qemu machine, cpu, memory and input_address.", REBUILD)
    if not re.fullmatch(r"0x[0-9a-fA-F]+", qemu["input_address"]):
        raise ApiError(422, f"build.json's qemu.input_address {qemu['input_address']!r} is not a hex address.", REBUILD)
    q = {k: shlex.quote(qemu[k]) for k in ("machine", "cpu", "memory", "input_address")}
    return f"""#!/bin/sh
# Boots {manifest.get('model', 'the model')} on QEMU's virt board, as `edgespec run` does.
#   ./boot.sh [INPUT]     INPUT defaults to input.bin next to this script (the reference input)
# The guest prints its console here, writes output.bin into the current directory through
# semihosting, and its exit status is the run's status (0 ok, 3 a fault).
# Needs qemu-system-aarch64 (Debian/Ubuntu: apt-get install qemu-system-arm).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
input=${{1:-"$here/input.bin"}}
command -v qemu-system-aarch64 >/dev/null 2>&1 || {{
  echo "boot.sh: qemu-system-aarch64 is missing; install it with: apt-get install qemu-system-arm" >&2
  exit 127
}}
{_input_check(specs)}case "$input" in *,*) echo "boot.sh: QEMU cannot load a file whose path has a comma: $input" >&2; exit 2;; esac
exec qemu-system-aarch64 -M {q['machine']} -cpu {q['cpu']} -m {q['memory']} -nographic -no-reboot \\
  -semihosting-config enable=on,target=native -icount shift=0 \\
  -kernel "$here/{image}" \\
  -device "loader,file=$input,addr={qemu['input_address']},force-raw=on"
"""


def host_script(manifest: Dict[str, Any], image: str, specs: List[Dict[str, Any]]) -> str:
    return f"""#!/bin/sh
# Runs {manifest.get('model', 'the model')} built for this machine, as `edgespec run` does.
#   ./boot.sh [INPUT]     INPUT defaults to input.bin next to this script (the reference input)
# Writes output.bin into the current directory; the exit status is the run's status.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
input=${{1:-"$here/input.bin"}}
{_input_check(specs)}exec "$here/{image}" "$input" output.bin
"""
