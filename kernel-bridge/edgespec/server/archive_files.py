"""The files of an archive that boot the image: the image and boot.sh as the build wrote
them, and input.bin, the bundle's reference input in the platforms' I/O format
(kernels/include/edgespec/io_format.h), which the build does not hold.

boot.sh is the toolchain's (src/toolchain/guest/bootScript.ts, fixed text that starts the
image as `edgespec run` does); the server generates no shell text. It still refuses a
build.json that edgespec did not write as it is: an image name that is not a plain file
name, or QEMU settings that are not the qemu-virt platform's own (which `edgespec run`
refuses too). The model and input names, which are free text, are described in README.txt.
"""
from __future__ import annotations

import json
import os
import re
import stat
import struct
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ..contracts import targets
from ..io_file import encode_inputs
from ..safetensors_header import SafetensorsFormatError, read_safetensors_header
from .errors import ApiError
from .files import inside_root, read_bytes_in_root, read_json_in_root
from .paths import PathOutsideRoot, contained_in_root

TARGETS = tuple(targets()["targets"])
REBUILD = "Build the bundle again (edgespec build BUNDLE), then make the archive again."
RECAPTURE = "Capture the model again, then build it again."

IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# The QEMU settings of edgespec's qemu-virt platform (kernels/platform/qemu-virt/build.json,
# read by src/toolchain/build/targets.ts); `edgespec run` accepts no others either, and
# boot.sh holds them as the build wrote it.
QEMU_VIRT = {"machine": "virt", "cpu": "cortex-a72", "memory": "1G", "input_address": "0x70000000"}
# linux-vm's boot files beside the image (src/toolchain/linuxVm/packageVm.ts), fixed names
LINUX_VM_FILES = ("kernel.Image", "initramfs.cpio.gz")
MAX_INPUT_BYTES = 2 ** 32 - 1  # the I/O format stores each size in 32 bits
MAX_IMAGE_BYTES = 2 ** 32
BOOT_SCRIPT = "boot.sh"
MAX_BOOT_SCRIPT_BYTES = 64 * 1024


def boot_files(root: str, build: Path, manifest: Dict[str, Any]) -> List[Tuple[str, bytes, int]]:
    target = manifest.get("target")
    if target not in TARGETS:
        raise ApiError(422, f"build.json names target {str(target)[:80]!r}, which edgespec does not build.", REBUILD)
    if target == "qemu-virt":
        qemu_settings(manifest)
    image = _inside(root, build, manifest.get("image"), "image")
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
    script = build_file(root, build, BOOT_SCRIPT, MAX_BOOT_SCRIPT_BYTES)
    files = [(image.name, image_bytes, 0o755), ("input.bin", input_file, 0o644), (BOOT_SCRIPT, script, 0o755)]
    if target == "linux-vm":
        # what boots: the kernel and the initramfs holding the image as /init (boot.sh appends input.bin)
        files += [(name, build_file(root, build, name, MAX_IMAGE_BYTES), 0o644) for name in LINUX_VM_FILES]
    return files


def build_file(root: str, build: Path, name: str, limit: int) -> bytes:
    """A file `edgespec build` writes into every build, as it is on disk."""
    try:
        return read_bytes_in_root(root, build / name, limit, REBUILD)
    except FileNotFoundError:
        raise ApiError(404, f"The build has no {name}; builds of edgespec 0.1 write one beside the image.", REBUILD) from None


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


def qemu_settings(manifest: Dict[str, Any]) -> Dict[str, str]:
    """build.json's QEMU machine, cpu, memory and input address: each must be the qemu-virt platform's own."""
    qemu = manifest.get("qemu")
    if not isinstance(qemu, dict) or not all(isinstance(qemu.get(k), str) for k in QEMU_VIRT):
        raise ApiError(422, "build.json has no qemu machine, cpu, memory and input_address.", REBUILD)
    grown = is_grown_qemu_virt_map(qemu["memory"], qemu["input_address"])
    for key, expected in QEMU_VIRT.items():
        if grown and key in ("memory", "input_address"):
            continue
        if qemu[key] != expected:
            raise ApiError(422, f"build.json's qemu.{key} {qemu[key][:80]!r} is not the qemu-virt platform's {expected!r}.",
                           REBUILD, "invalid-build-manifest")
    return {**QEMU_VIRT, "memory": qemu["memory"], "input_address": qemu["input_address"]} if grown else dict(QEMU_VIRT)


def is_grown_qemu_virt_map(memory: str, input_address: str) -> bool:
    """A map edgespec build grew for a model larger than the defaults (src/toolchain/guest/qemuVirtMemory.ts):
    -m in MiB from 1 GiB up to 4 GiB, a 2 MiB aligned input region inside it, above the default one."""
    m = re.fullmatch(r"([1-9][0-9]{0,4})M", memory)
    if not m or not re.fullmatch(r"0x[0-9a-f]{1,9}", input_address):
        return False
    mib, address = int(m.group(1)), int(input_address, 16)
    end = 0x40000000 + mib * 1024 * 1024
    return (mib % 2 == 0 and end <= 0x100000000 and address % (2 * 1024 * 1024) == 0
            and int(QEMU_VIRT["input_address"], 16) <= address < end)


def describe_inputs(specs: List[Dict[str, Any]]) -> List[str]:
    """One README line per input; name and dtype as JSON strings, so no byte of them acts as a control character."""
    lines = []
    for spec in specs:
        shape = spec.get("shape")
        dims = "x".join(str(d) for d in shape if type(d) is int) if isinstance(shape, list) else "?"
        lines.append(f"{json.dumps(str(spec.get('name', '?')))} {json.dumps(str(spec.get('dtype', '?')))} [{dims}], "
                     f"{int(spec['bytes'])} bytes")
    return lines
