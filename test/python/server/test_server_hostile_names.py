"""Names from a bundle or a build are data, never code, in every file the server generates.

An archive travels, and `sh boot.sh` runs whatever boot.sh says. A shared bundle whose
graph input was named `x" >&2; exit 2; fi; touch PWNED; if false; then echo "` once made
boot.sh create PWNED. Here hostile names go into graph.json (through a real build) and
straight into build.json and footprint.json (whatever a newer schema accepts), and every
generated file is checked: boot.sh is run, footprint.html parsed, README.txt, SHA256SUMS
and the JSON answers read. boot.sh and footprint.html are the build's own (the archive packs
them as they are): names reach footprint.html through the toolchain's renderer, and
nothing from build.json reaches boot.sh.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from server_helpers import finished, place, render_footprint_html, request, submit, wait_for

pytestmark = pytest.mark.usefixtures("toolchain_built")
REPO = Path(__file__).resolve().parents[3]

HOSTILE = [
    'x" >&2; exit 2; fi; touch PWNED1; if false; then echo "',
    "$(touch PWNED2)",
    "`touch PWNED3`",
    "'; touch PWNED4; '",
    "a\ntouch PWNED5\n#",
    '</script><script>document.title="PWNED6"</script><!--',
    "<img src=x onerror=alert('PWNED7')>",
    "\u2028\u2029\"\\ ${PWNED8:=x} %s %n \x1b[31m",
]


async def built(jp_fetch, root: Path, bundle_dir: Path, rel: str, target: str) -> Tuple[Dict, Path]:
    bundle = place(bundle_dir, root, rel)
    job = await wait_for(jp_fetch, await submit(jp_fetch, {"kind": "build", "bundle": bundle, "target": target}), finished)
    return job, root / job["build"]


def make_hostile(build: Path) -> None:
    """Hostile names in every free-text field of build.json and footprint.json the archive reads."""
    manifest = json.loads((build / "build.json").read_text())
    manifest["model"] = HOSTILE[0]
    for spec in manifest["inputs"]:
        spec["name"], spec["dtype"] = HOSTILE[0], HOSTILE[1]
        spec["shape"] = [HOSTILE[2], *spec.get("shape", [])]
    (build / "build.json").write_text(json.dumps(manifest))
    footprint = json.loads((build / "footprint.json").read_text())
    footprint["model"], footprint["target"] = HOSTILE[5], HOSTILE[6]

    def rename(node, depth=0):
        if isinstance(node, dict):
            if "name" in node and isinstance(node["name"], str):
                node["name"] = HOSTILE[depth % len(HOSTILE)]
            for value in node.values():
                rename(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                rename(value, depth + 1)

    rename(footprint)
    footprint["notes"] = HOSTILE
    (build / "footprint.json").write_text(json.dumps(footprint))
    # the report the build would have drawn of these names, with the toolchain's own renderer
    (build / "footprint.html").write_text(render_footprint_html(footprint))
    (build / "run.json").write_text(json.dumps({"format": "edgespec.run", "status": "ok", "console": "\n".join(HOSTILE)}))


def plain_names(node, counter=None):
    """The footprint with every string (names, notes, how) replaced by a plain one of the same length class."""
    counter = counter if counter is not None else [0]
    if isinstance(node, dict):
        return {key: plain_names(value, counter) for key, value in node.items()}
    if isinstance(node, list):
        return [plain_names(value, counter) for value in node]
    if isinstance(node, str) and any(text in node for text in HOSTILE):
        counter[0] += 1
        return f"name{counter[0]}"
    return node


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: List[Tuple[str, Tuple]] = []
        self.scripts: List[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def pwned(where: Path) -> List[str]:
    """Files an injected `touch PWNED<n>` would have made."""
    return sorted(str(p) for p in where.rglob("PWNED*") if re.fullmatch(r"PWNED\d?", p.name))


async def archive_and_extract(jp_fetch, root: Path, build: Path, into: Path) -> Tuple[Path, Dict]:
    rel = build.relative_to(root).as_posix()
    status, answer = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": rel})
    assert status == 200, answer
    data = (root / answer["path"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == answer["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        (folder,) = {n.split("/", 1)[0] for n in z.namelist()}
        assert all(".." not in n and not n.startswith("/") for n in z.namelist())
        z.extractall(into)
        for info in z.infolist():  # zipfile does not restore modes
            (into / info.filename).chmod(info.external_attr >> 16 & 0o777)
    return into / folder, answer


def check_generated_files(folder: Path, footprint: Dict, work: Path) -> None:
    boot = (folder / "boot.sh").read_text()
    for text in HOSTILE:
        for fragment in (text, text[:12], "PWNED"):
            assert fragment not in boot, f"boot.sh holds text from the build: {fragment!r}"
    subprocess.run(["sh", "-n", str(folder / "boot.sh")], check=True)  # it parses as one script

    # Run it: with the real input (it boots the image) and with a wrong-sized one (its error path).
    wrong = work / "wrong.bin"
    wrong.write_bytes(b"\0" * 100)
    for args, expected in (([], 0), ([str(wrong)], 2)):
        cwd = work / f"run{len(args)}"
        cwd.mkdir()
        ran = subprocess.run(["sh", str(folder / "boot.sh"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
        assert ran.returncode == expected, ran.stdout + ran.stderr
        assert pwned(work) == [] and pwned(folder) == [], "boot.sh ran a command from a name"
        assert sorted(p.name for p in cwd.iterdir()) == (["output.bin"] if expected == 0 else [])
        if expected == 2:
            assert "100 bytes" in ran.stderr and "README.txt" in ran.stderr

    # footprint.html: the markup of the same footprint with plain names, and nothing else; the
    # data arrives whole inside its script.
    html = (folder / "footprint.html").read_text()
    benign = parsed(render_footprint_html(plain_names(footprint)))
    hostile = parsed(html)
    assert sorted(map(repr, hostile.tags)) == sorted(map(repr, benign.tags))
    assert len(hostile.scripts) == len(benign.scripts)
    data_script = next(s for s in hostile.scripts if s.lstrip().startswith("{"))
    assert json.loads(data_script) == footprint
    assert "</script><script>" not in html and "<img src=x" not in html

    # README.txt names the inputs as JSON strings: a name cannot start a line of its own.
    readme = (folder / "README.txt").read_text()
    assert json.dumps(HOSTILE[0]) in readme
    assert "\ntouch PWNED5" not in readme and "\x1b" not in readme

    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, check=True)


@pytest.mark.parametrize("target", ["qemu-virt", "host"])
async def test_hostile_names_in_the_build_stay_data_in_every_generated_file(jp_fetch, jp_root_dir, tiny_bundle, tmp_path,
                                                                             target):
    root = Path(jp_root_dir)
    job, build = await built(jp_fetch, root, tiny_bundle, "models/tiny", target)
    assert job["status"] == "done", job
    make_hostile(build)
    folder, answer = await archive_and_extract(jp_fetch, root, build, tmp_path / "unzipped")
    assert re.fullmatch(r"[A-Za-z0-9._/-]+\.zip", answer["path"]), answer
    check_generated_files(folder, json.loads((build / "footprint.json").read_text()), tmp_path)

    # The JSON the REST API answers carries the names back unchanged.
    rel = build.relative_to(root).as_posix()
    status, footprint = await request(jp_fetch, "GET", "edgespec", "footprint", params={"build": rel})
    assert status == 200 and footprint["model"] == HOSTILE[5] and footprint["notes"] == HOSTILE
    status, builds = await request(jp_fetch, "GET", "edgespec", "builds")
    assert status == 200 and [b["model"] for b in builds] == [HOSTILE[5]]


async def test_the_reported_injection_through_a_graph_input_name(jp_fetch, jp_root_dir, tiny_bundle, tmp_path):
    """The issue's own reproduction: the name in graph.json, through capture's bundle and a real build."""
    root = Path(jp_root_dir)
    source = tmp_path / "shared"
    shutil.copytree(tiny_bundle, source)
    graph = json.loads((source / "graph.json").read_text())
    graph["inputs"][0]["name"] = HOSTILE[0]
    graph["name"] = HOSTILE[4]
    (source / "graph.json").write_text(json.dumps(graph))
    job, build = await built(jp_fetch, root, source, "shared", "qemu-virt")
    if job["status"] != "done":
        # A toolchain that refuses such names must say so clearly.
        assert job["error"]["message"] and job["error"].get("hint"), job
        return
    folder, _ = await archive_and_extract(jp_fetch, root, build, tmp_path / "unzipped")
    check_generated_files(folder, json.loads((build / "footprint.json").read_text()), tmp_path)


BAD_QEMU = [
    ("machine", "virt,dumpdtb=/tmp/x"),
    ("machine", "raspi3b"),
    ("cpu", "max -monitor stdio"),
    ("cpu", "host"),
    ("cpu", "max"),
    ("memory", "2G"),
    ("memory", "1G -s"),
    ("memory", "$(touch PWNED)"),
    ("input_address", "0x70000000,file=/etc/passwd"),
    ("input_address", "0x" + "f" * 40),
]


@pytest.mark.parametrize("field,value", BAD_QEMU, ids=[f"{f}={v}" for f, v in BAD_QEMU])
async def test_qemu_settings_outside_the_targets_values_are_refused(jp_fetch, jp_root_dir, tiny_bundle, field, value):
    root = Path(jp_root_dir)
    job, build = await built(jp_fetch, root, tiny_bundle, "m", "qemu-virt")
    assert job["status"] == "done", job
    manifest = json.loads((build / "build.json").read_text())
    manifest["qemu"][field] = value
    (build / "build.json").write_text(json.dumps(manifest))
    status, answer = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": job["build"]})
    assert status == 422, answer
    assert f"qemu.{field}" in answer["message"] and answer["hint"], answer
    assert list(build.glob("*.zip")) == [] and not [p for p in build.iterdir() if p.name.startswith(".archive-")]


def test_the_qemu_settings_boot_sh_accepts_are_the_platform_s_own():
    """boot.sh boots as `edgespec run` does: with the settings of kernels/platform/qemu-virt/build.json."""
    from edgespec.server.archive_files import QEMU_VIRT

    platform = json.loads((REPO / "kernels" / "platform" / "qemu-virt" / "build.json").read_text())
    args = platform["qemu"]["args"]
    assert QEMU_VIRT == {"machine": args[args.index("-M") + 1], "cpu": args[args.index("-cpu") + 1],
                         "memory": args[args.index("-m") + 1], "input_address": platform["input"]["address"]}


@pytest.mark.parametrize("image", ["x;touch PWNED", "-rf", "../../../../bin/sh", "/bin/sh", "a b", ".hidden", "é.elf"])
async def test_an_image_name_that_is_not_a_plain_file_name_is_refused(jp_fetch, jp_root_dir, tiny_bundle, image):
    root = Path(jp_root_dir)
    job, build = await built(jp_fetch, root, tiny_bundle, "m", "host")
    assert job["status"] == "done", job
    manifest = json.loads((build / "build.json").read_text())
    original = build / manifest["image"]
    if "/" not in image:
        os.link(original, build / image)  # the file exists; only its name is wrong
    manifest["image"] = image
    (build / "build.json").write_text(json.dumps(manifest))
    status, answer = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": job["build"]})
    assert status in (403, 404, 422), answer
    assert answer["message"] and answer["hint"], answer
    assert list(build.glob("*.zip")) == []
