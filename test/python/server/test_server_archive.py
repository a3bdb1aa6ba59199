"""The download archive: its contents, checksums, boot script and offline report."""
from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
from safetensors.numpy import load_file

from server_helpers import finished, place, request, submit, wait_for

pytestmark = pytest.mark.usefixtures("toolchain_built")


async def finished_job(jp_fetch, payload: Dict) -> Dict:
    job = await wait_for(jp_fetch, await submit(jp_fetch, payload), finished)
    assert job["status"] == "done", job
    return job


async def download(jp_fetch, path: str) -> bytes:
    response = await jp_fetch("files", *path.split("/"), params={"download": "1"})
    assert response.code == 200
    assert "attachment" in response.headers.get("Content-Disposition", "")
    return response.body


def read_io_outputs(data: bytes, count: int):
    """Tensors of an edgespec I/O file of outputs (kernels/include/edgespec/io_format.h)."""
    assert data[:8] == b"EDGESPEC"
    version, kind, n, _ = struct.unpack_from("<IIII", data, 8)
    assert (version, kind, n) == (1, 2, count)
    sizes = struct.unpack_from(f"<{n}I", data, 24)
    offset = (24 + 4 * n + 63) // 64 * 64
    tensors = []
    for size in sizes:
        tensors.append(np.frombuffer(data[offset:offset + size], dtype="<f4"))
        offset += (size + 63) // 64 * 64
    return tensors


async def test_archive_of_a_run_build(jp_fetch, jp_root_dir, tiny_bundle, tmp_path):
    root = Path(jp_root_dir)
    bundle = place(tiny_bundle, root, "models/tiny")
    build = (await finished_job(jp_fetch, {"kind": "build", "bundle": bundle}))["build"]
    await finished_job(jp_fetch, {"kind": "run", "build": build})

    status, archive = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": build})
    assert status == 200, archive
    assert archive["path"] == f"{build}/tiny_cnn-qemu-virt.zip"
    data = await download(jp_fetch, archive["path"])
    assert len(data) == archive["bytes"] and hashlib.sha256(data).hexdigest() == archive["sha256"]

    manifest = json.loads((root / build / "build.json").read_text())
    image = Path(manifest["image"]).name
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = sorted(z.namelist())
        assert names == sorted(f"tiny_cnn-qemu-virt/{n}" for n in [
            image, "input.bin", "boot.sh", "footprint.json", "footprint.html", "run.json", "console.log", "README.txt", "SHA256SUMS"])
        assert z.getinfo("tiny_cnn-qemu-virt/boot.sh").external_attr >> 16 & 0o777 == 0o755
        z.extractall(tmp_path)
    folder = tmp_path / "tiny_cnn-qemu-virt"
    for name in ("boot.sh", image):
        (folder / name).chmod(0o755)  # zipfile does not restore modes

    # Every file is listed with its SHA-256, in the format `sha256sum -c` checks.
    listed = dict(reversed(line.split("  ", 1)) for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert sorted(listed) == sorted(n.split("/", 1)[1] for n in names if not n.endswith("SHA256SUMS"))
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, check=True)

    # The files are the build's own.
    assert (folder / image).read_bytes() == (root / build / image).read_bytes()
    assert (folder / "footprint.json").read_bytes() == (root / build / "footprint.json").read_bytes()
    run_report = json.loads((root / build / "run.json").read_text())
    assert (folder / "console.log").read_text() == run_report["console"]

    # boot.sh boots the image in QEMU and the guest gives the framework's answer.
    work = tmp_path / "boot"
    work.mkdir()
    booted = subprocess.run([str(folder / "boot.sh")], cwd=work, capture_output=True, timeout=120)
    assert booted.returncode == 0, booted.stdout.decode(errors="replace") + booted.stderr.decode(errors="replace")
    (output,) = read_io_outputs((work / "output.bin").read_bytes(), 1)
    reference = load_file(str(root / bundle / "reference.safetensors"))
    expected = reference[json.loads((root / bundle / "graph.json").read_text())["reference"]["outputs"][0]].ravel()
    np.testing.assert_allclose(output, expected, rtol=0, atol=1e-4 * np.abs(expected).max())

    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"\0" * 100)
    refused = subprocess.run([str(folder / "boot.sh"), str(wrong)], cwd=work, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "100 bytes" in refused.stderr

    # The HTML report is one file that needs no network.
    html = (folder / "footprint.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    embedded = re.search(r'<script id="footprint-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    assert json.loads(embedded) == json.loads((folder / "footprint.json").read_text())

    # The same build gives the same archive, byte for byte.
    status, again = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": build})
    assert again["sha256"] == archive["sha256"]
    assert not [p for p in (root / build).iterdir() if p.name.startswith(".archive-")]


async def test_archive_of_a_build_never_run_has_no_console(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    build = (await finished_job(jp_fetch, {"kind": "build", "bundle": place(tiny_bundle, root, "t")}))["build"]
    status, archive = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": build})
    assert status == 200, archive
    with zipfile.ZipFile(io.BytesIO(await download(jp_fetch, archive["path"]))) as z:
        names = {n.split("/", 1)[1] for n in z.namelist()}
        readme = z.read("tiny_cnn-qemu-virt/README.txt").decode()
    assert "console.log" not in names and "run.json" not in names
    assert {"boot.sh", "input.bin", "footprint.html", "SHA256SUMS"} <= names
    assert "not been run" in readme


async def test_archive_refuses_a_build_whose_bundle_lies_outside_the_root(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    build = (await finished_job(jp_fetch, {"kind": "build", "bundle": place(tiny_bundle, root, "t")}))["build"]
    manifest_file = root / build / "build.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["bundle"] = str(tiny_bundle)  # a real bundle, but outside the server root
    manifest_file.write_text(json.dumps(manifest))
    status, body = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": build})
    assert status == 403 and "outside" in body["message"], body
    assert not list((root / build).glob("*.zip"))


async def test_the_archive_of_an_int8_build_says_int8_in_its_name(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    bundle = place(tiny_bundle, root, "models/tiny8")
    build = (await finished_job(jp_fetch, {"kind": "build", "bundle": bundle, "target": "host", "dtype": "int8"}))["build"]
    status, archive = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": build})
    assert status == 200, archive
    assert archive["path"] == f"{build}/tiny_cnn-host-int8.zip"
    with zipfile.ZipFile(io.BytesIO(await download(jp_fetch, archive["path"]))) as z:
        assert all(name.startswith("tiny_cnn-host-int8/") for name in z.namelist())
