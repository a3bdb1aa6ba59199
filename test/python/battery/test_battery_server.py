"""The battery's server cases, against a real `jupyter server` process: every answer is a
JSON error with a fix (never raw exception text), nothing escapes the root, and no request
stops the server answering others within a second."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from battery_helpers import BUG_TEXT, edit_json


def assert_json_error(status, body, *, expect=range(400, 500), about=()):
    assert status in expect, (status, body)
    assert isinstance(body, dict) and body.get("message") and body.get("hint"), body
    text = json.dumps(body)
    assert not BUG_TEXT.search(text) and "Errno" not in text and "Exception" not in text, body
    for word in about:
        assert word.lower() in text.lower(), (word, body)


@pytest.fixture
def placed(server, bundle):
    """The test's bundle copied under the server root; its root-relative path."""
    rel = f"b-{os.getpid()}-{time.monotonic_ns()}"
    shutil.copytree(bundle, server.root / rel, symlinks=True)
    yield rel
    shutil.rmtree(server.root / rel, ignore_errors=True)


def test_unauthenticated(server):
    status, body, _ = server.request("GET", "edgespec/jobs", token=False)
    assert status in (401, 403), (status, body)


@pytest.mark.parametrize("endpoint", ["footprint", "run"])
def test_huge_path_is_refused_fast(server, endpoint):
    result = {}

    def slow():
        try:  # 40 KB of path: under tornado's header limit, so the extension itself must refuse it
            result["answer"] = server.request("GET", f"edgespec/{endpoint}?build=" + "a/" * 20000, timeout=60)
        except OSError as e:
            result["answer"] = (0, repr(e), 0.0)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)
    server.answers_within(1.0)
    t.join(60)
    status, body, took = result["answer"]
    assert_json_error(status, body)
    assert took < 2, took


@pytest.mark.parametrize("path", ["x/" * 30000, "x" * 60000, "a/../" * 10000])
def test_huge_path_in_job(server, path):
    status, body, took = server.request("POST", "edgespec/jobs", {"kind": "build", "bundle": path, "target": "host"})
    assert_json_error(status, body)
    assert took < 2


@pytest.mark.parametrize("build", ["../../etc", "/etc", "..", "a/../../..", "\x00", "~root"])
def test_paths_outside_root(server, build):
    status, body, _ = server.request("GET", f"edgespec/footprint?build={build.replace(chr(0), '%00')}")
    assert_json_error(status, body)


def test_deep_json_body(server):
    status, body, _ = server.request("POST", "edgespec/jobs", raw=b"[" * 100000 + b"]" * 100000)
    assert_json_error(status, body)


def test_huge_json_body(server):
    status, body, _ = server.request("POST", "edgespec/jobs", raw=b'{"bundle": "' + b"a" * (64 * 1024 * 1024) + b'"}', timeout=60)
    assert status in range(400, 500), status


@pytest.mark.parametrize("payload", [
    {"kind": "build", "bundle": "x", "target": "pdp11"},
    {"kind": "build", "bundle": "x", "target": "host", "dtype": "int16"},
    {"kind": "build", "bundle": 5, "target": "host"},
    {"kind": "build", "target": "host"},
    {"kind": "rm", "bundle": "x"},
    {"kind": "run", "build": "x", "timeout": 1e300},
    [],
    "build",
])
def test_bad_job_requests(server, payload):
    status, body, _ = server.request("POST", "edgespec/jobs", payload)
    assert_json_error(status, body)


def test_job_for_missing_bundle_fails_with_a_fix(server):
    status, body, _ = server.request("POST", "edgespec/jobs", {"kind": "build", "bundle": "no-such-bundle", "target": "host"})
    if status == 201:
        job = server.finished_job(body["id"])
        assert job["status"] == "failed", job
        text = json.dumps(job)
        assert "no-such-bundle" in text and not BUG_TEXT.search(text), job
    else:
        assert_json_error(status, body, about=["no-such-bundle"])


def test_graph_symlink_out_of_root_leaks_nothing(server, placed, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT " * 10)
    graph = server.root / placed / "graph.json"
    graph.unlink()
    graph.symlink_to(secret)
    status, body, _ = server.request("POST", "edgespec/jobs", {"kind": "build", "bundle": placed, "target": "host"})
    text = json.dumps(body)
    if status == 201:
        job = server.finished_job(body["id"])
        text = json.dumps(job)
        assert job["status"] == "failed", job
    assert "TOP-SECRET" not in text, text


def test_build_symlink_out_of_root(server, placed, tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(server.root / placed / "build", outside)
    shutil.rmtree(server.root / placed / "build")
    (server.root / placed / "build").symlink_to(outside)
    for endpoint in ("footprint", "run"):
        status, body, _ = server.request("GET", f"edgespec/{endpoint}?build={placed}/build/host")
        assert_json_error(status, body)
    status, body, _ = server.request("POST", "edgespec/archive", {"build": f"{placed}/build/host"})
    assert_json_error(status, body)


def test_archive_of_read_only_build(server, placed, tmp_path):
    build = server.root / placed / "build" / "host"
    ro = subprocess.run(["mount", "--bind", "-o", "ro", str(build), str(build)])
    if ro.returncode != 0:
        pytest.skip("cannot bind-mount read-only here")
    subprocess.run(["mount", "-o", "remount,bind,ro", str(build)])
    try:
        status, body, _ = server.request("POST", "edgespec/archive", {"build": f"{placed}/build/host"})
        if status != 200:
            assert_json_error(status, body, expect=range(400, 600))
    finally:
        subprocess.run(["umount", str(build)])


def test_hostile_names_in_archive(server, placed, tmp_path):
    """A shared build whose build.json and graph.json carry shell text: its archive's boot.sh
    runs nothing of it."""
    build = server.root / placed / "build" / "host"
    hostile = 'x" >&2; exit 2; fi; touch PWNED; if false; then echo "'
    edit_json(build / "build.json", lambda m: [t.update(name=hostile) for t in m["inputs"]])
    edit_json(build / "build.json", lambda m: m.update(model="m$(touch PWNED)"))
    status, body, _ = server.request("POST", "edgespec/archive", {"build": f"{placed}/build/host"})
    if status != 200:
        assert_json_error(status, body)
        return
    archive = server.root / body["path"] if "path" in body else next((server.root / placed).rglob("*.zip"))
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(str(archive), unpacked)
    script = next(unpacked.rglob("boot.sh"))
    subprocess.run(["/bin/sh", str(script)], cwd=script.parent, capture_output=True, timeout=60,
                   env={"PATH": "/nonexistent", "HOME": str(tmp_path)})
    assert not list(tmp_path.rglob("PWNED")), "boot.sh ran text from the bundle"
    assert oct(archive.stat().st_mode & 0o777) in ("0o644", "0o664"), oct(archive.stat().st_mode)


def test_cancel_unknown_job(server):
    status, body, _ = server.request("DELETE", "edgespec/jobs/nope")
    assert_json_error(status, body)


def test_job_id_injection(server):
    status, body, _ = server.request("GET", "edgespec/jobs/..%2F..%2Fetc")
    assert status in (400, 404), (status, body)
