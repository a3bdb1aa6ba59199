"""The files of an archive that boot the image: the image, input.bin and boot.sh.

boot.sh repeats the command `edgespec run` starts (src/toolchain/run/guestCommand.ts),
built from the same build.json fields: QEMU's virt machine with the image as `-kernel`,
the input placed in guest RAM by `-device loader`, semihosting for the console, output.bin
and the exit status, `-icount shift=0` so the guest can count its instructions.
input.bin holds the bundle's reference input in the platforms' I/O format
(kernels/include/edgespec/io_format.h).

boot.sh is fixed text: an archive travels, and whoever runs it trusts it. Nothing from the
bundle or build.json reaches it except the image file name (a strict pattern, quoted),
QEMU's machine, cpu, memory and input address (each must equal the qemu-virt platform's
own) and numbers the server computes (the input file size); the model and input names,
which are free text, are described in README.txt instead.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import stat
import struct
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ..io_file import encode_inputs, file_bytes
from ..safetensors_header import SafetensorsFormatError, read_safetensors_header
from .errors import ApiError
from .files import inside_root, read_bytes_in_root, read_json_in_root
from .paths import PathOutsideRoot, contained_in_root

REBUILD = "Build the bundle again (edgespec build BUNDLE), then make the archive again."
RECAPTURE = "Capture the model again, then build it again."

IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# The QEMU settings of edgespec's qemu-virt platform (kernels/platform/qemu-virt/build.json,
# read by src/toolchain/build/targets.ts); `edgespec run` accepts no others either.
QEMU_VIRT = {"machine": "virt", "cpu": "cortex-a72", "memory": "1G", "input_address": "0x70000000"}
MAX_INPUT_BYTES = 2 ** 32 - 1  # the I/O format stores each size in 32 bits
MAX_IMAGE_BYTES = 2 ** 32


def boot_files(root: str, build: Path, manifest: Dict[str, Any]) -> List[Tuple[str, bytes, int]]:
    target = manifest.get("target")
    if target not in ("qemu-virt", "host"):
        raise ApiError(422, f"build.json names target {target!r}, which edgespec cannot boot from an archive.", REBUILD)
    image_value = manifest.get("image")
    image = _inside(root, build, image_value, "image")
    if not IMAGE_NAME.fullmatch(image.name):
        raise ApiError(422, f"The image file name {image.name!r} is not a plain file name (letters, digits, '.', '_', '-').",
                       REBUILD)
    try:
        image_bytes = read_bytes_in_root(root, image, MAX_IMAGE_BYTES, REBUILD)
    except FileNotFoundError:
        raise ApiError(404, f"The image {image.name} named by build.json is missing.", REBUILD) from None
    inputs = _tensor_specs(manifest)
    bundle = _inside(root, build, manifest.get("bundle"), "bundle")
    input_file = encode_inputs(_reference_inputs(root, bundle, inputs))
    if target == "qemu-virt":
        script = qemu_virt_script(manifest, image.name, inputs)
    else:
        script = host_script(manifest, image.name, inputs)
    return [(image.name, image_bytes, 0o755), ("input.bin", input_file, 0o644), ("boot.sh", script.encode("utf-8"), 0o755)]


def _inside(root: str, build: Path, value: Any, field: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ApiError(422, f"build.json has no '{field}' path.", REBUILD)
    path = Path(value) if Path(value).is_absolute() else build / value
    try:
        return contained_in_root(root, path, field)
    except PathOutsideRoot:
        raise ApiError(403, f"build.json's {field} path lies outside the server's root directory, "
                            "so it cannot go into an archive.", "Build the bundle inside the Jupyter root directory.",
                       "path-outside-root") from None
    except ApiError as e:
        raise ApiError(422, f"build.json's {field} path is not usable: {e.message}", REBUILD) from None


def _tensor_specs(manifest: Dict[str, Any]) -> List[Dict[str, Any]]:
    specs = manifest.get("inputs")
    if not isinstance(specs, list) or not specs or not all(
            isinstance(s, dict) and type(s.get("bytes")) is int and 0 < s["bytes"] <= MAX_INPUT_BYTES for s in specs):
        raise ApiError(422, "build.json has no list of inputs with their sizes.", REBUILD)
    return specs


def _reference_inputs(root: str, bundle: Path, specs: List[Dict[str, Any]]) -> List[bytes]:
    """The raw bytes of the bundle's reference inputs, checked against the image's inputs."""
    try:
        graph = read_json_in_root(root, bundle / "graph.json", RECAPTURE)
    except FileNotFoundError:
        raise ApiError(422, f"The bundle at {bundle.name} has no graph.json.", RECAPTURE) from None
    reference = graph.get("reference") if isinstance(graph, dict) else None
    names = reference.get("inputs") if isinstance(reference, dict) else None
    file_name = reference.get("file", "reference.safetensors") if isinstance(reference, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not isinstance(file_name, str):
        raise ApiError(422, f"graph.json of the bundle at {bundle.name} names no reference inputs.", RECAPTURE)
    path = inside_root(root, bundle / file_name, RECAPTURE)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ApiError(422, f"The bundle's {path.name} is not a regular file.", RECAPTURE)
        entries = read_safetensors_header(path)
    except FileNotFoundError:
        raise ApiError(422, f"The bundle at {bundle.name} has no {path.name}.", RECAPTURE) from None
    except SafetensorsFormatError as e:
        raise ApiError(422, f"The bundle's {path.name} is not a valid safetensors file: {e}.", RECAPTURE) from None
    except OSError as e:
        raise ApiError(422, f"The bundle's {path.name} cannot be read: {os.strerror(e.errno or 0)}.", RECAPTURE) from None
    if len(names) != len(specs):
        raise ApiError(422, f"The bundle has {len(names)} reference inputs, the image takes {len(specs)}.", REBUILD)
    # build.json names the reference tensor of each input; older manifests follow graph.json's order.
    names = [spec["reference"] if isinstance(spec.get("reference"), str) else name for name, spec in zip(names, specs)]
    ranges = []
    for index, (name, spec) in enumerate(zip(names, specs)):
        entry = entries.get(name)
        if entry is None or entry.end - entry.begin != spec["bytes"]:
            raise ApiError(422, f"The bundle's reference input {index + 1} does not match the image's input {index + 1} "
                                f"({spec['bytes']} bytes).", REBUILD)
        ranges.append((entry.begin, entry.end))
    return _read_ranges(path, ranges)


def _read_ranges(path: Path, ranges: List[Tuple[int, int]]) -> List[bytes]:
    """The tensor bytes at these offsets of the data section of a safetensors file."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        tensors = []
        for begin, end in ranges:
            f.seek(8 + header_len + begin)
            data = f.read(end - begin)
            if len(data) != end - begin:
                raise ApiError(422, f"The bundle's {path.name} is shorter than its header says.", RECAPTURE)
            tensors.append(data)
    return tensors


def _input_check(specs: List[Dict[str, Any]]) -> str:
    """Shell lines that refuse an input file of the wrong size before the image starts."""
    size = int(file_bytes([int(s["bytes"]) for s in specs]))
    return (f'size=$(wc -c < "$input")\n'
            f'if [ "$size" -ne {size} ]; then\n'
            f'  echo "boot.sh: $input is $size bytes; this image takes an edgespec input file of {size} bytes '
            f'(its inputs are listed in README.txt)" >&2\n'
            f'  exit 2\n'
            f'fi\n')


def qemu_settings(manifest: Dict[str, Any]) -> Dict[str, str]:
    """build.json's QEMU machine, cpu, memory and input address: each must be the qemu-virt platform's own."""
    qemu = manifest.get("qemu")
    if not isinstance(qemu, dict) or not all(isinstance(qemu.get(k), str) for k in QEMU_VIRT):
        raise ApiError(422, "build.json has no qemu machine, cpu, memory and input_address.", REBUILD)
    for key, expected in QEMU_VIRT.items():
        if qemu[key] != expected:
            raise ApiError(422, f"build.json's qemu.{key} {qemu[key][:80]!r} is not the qemu-virt platform's {expected!r}.",
                           REBUILD, "invalid-build-manifest")
    return dict(QEMU_VIRT)


def qemu_virt_script(manifest: Dict[str, Any], image: str, specs: List[Dict[str, Any]]) -> str:
    q = {k: shlex.quote(v) for k, v in qemu_settings(manifest).items()}
    image_arg = shlex.quote(_checked_image_name(image))
    return f"""#!/bin/sh
# Boots the model image in this folder on QEMU's virt board, as `edgespec run` does.
#   ./boot.sh [INPUT]     INPUT defaults to input.bin next to this script (the reference input)
# The guest prints its console here, writes output.bin into the current directory through
# semihosting, and its exit status is the run's status (0 ok, 3 a fault).
# README.txt names the model and its inputs.
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
  -kernel "$here"/{image_arg} \\
  -device "loader,file=$input,addr="{q['input_address']}",force-raw=on"
"""


def host_script(manifest: Dict[str, Any], image: str, specs: List[Dict[str, Any]]) -> str:
    image_arg = shlex.quote(_checked_image_name(image))
    return f"""#!/bin/sh
# Runs the model image in this folder, built for this machine, as `edgespec run` does.
#   ./boot.sh [INPUT]     INPUT defaults to input.bin next to this script (the reference input)
# Writes output.bin into the current directory; the exit status is the run's status.
# README.txt names the model and its inputs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
input=${{1:-"$here/input.bin"}}
{_input_check(specs)}exec "$here"/{image_arg} "$input" output.bin
"""


def _checked_image_name(image: str) -> str:
    if not IMAGE_NAME.fullmatch(image):
        raise ApiError(422, f"The image file name {image[:80]!r} is not a plain file name.", REBUILD)
    return image


def describe_inputs(specs: List[Dict[str, Any]]) -> List[str]:
    """One README line per input; name and dtype as JSON strings, so no byte of them acts as a control character."""
    lines = []
    for spec in specs:
        shape = spec.get("shape")
        dims = "x".join(str(d) for d in shape if type(d) is int) if isinstance(shape, list) else "?"
        lines.append(f"{json.dumps(str(spec.get('name', '?')))} {json.dumps(str(spec.get('dtype', '?')))} [{dims}], "
                     f"{int(spec['bytes'])} bytes")
    return lines
