"""Links out of the root, unwritable directories, a full queue, file modes, CLI errors:
each answered with one clear JSON error (problem and fix), never a file's content, an
exception's text or a traceback."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Dict, Iterator

import pytest

from server_helpers import finished, get_job, place, request, submit, wait_for

pytestmark = pytest.mark.usefixtures("toolchain_built")
REPO = Path(__file__).resolve().parents[3]
SECRET = "SECRET-7f3a-do-not-leak"


def assert_clear_error(status: int, body, expected: int, *words: str) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and body["message"] and body.get("hint"), body
    text = json.dumps(body)
    assert SECRET not in text, f"the answer leaks a file outside the root: {body}"
    for noise in ("Traceback", "Errno", "is not in the subpath", "this is a bug"):
        assert noise not in text, body
    for word in words:
        assert word in body["message"], body


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside the server root that a link inside it may point to."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.txt").write_text(f"root:x:0:0:{SECRET}\n")
    (out / "secret.json").write_text(json.dumps({"model": SECRET, "target": "host", "image": {"bytes": 1}}))
    return out


async def no_jobs(jp_fetch) -> None:
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert status == 200 and SECRET not in json.dumps(jobs)
    assert jobs == []


@pytest.mark.parametrize("name", ["graph.json", "weights.safetensors", "reference.safetensors"])
async def test_a_bundle_file_linked_out_of_the_root_is_not_read(jp_fetch, jp_root_dir, tiny_bundle, outside, name):
    root = Path(jp_root_dir)
    bundle = root / place(tiny_bundle, root, "b")
    (bundle / name).unlink()
    (bundle / name).symlink_to(outside / "secret.txt")
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "build", "bundle": "b"})
    assert_clear_error(status, body, 403, name, "outside")
    await no_jobs(jp_fetch)


async def test_a_file_graph_json_names_outside_the_root_is_not_read(jp_fetch, jp_root_dir, tiny_bundle, outside):
    root = Path(jp_root_dir)
    bundle = root / place(tiny_bundle, root, "b")
    graph = json.loads((bundle / "graph.json").read_text())
    graph["weights"]["file"] = os.path.relpath(outside / "secret.txt", bundle)
    (bundle / "graph.json").write_text(json.dumps(graph))
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "build", "bundle": "b"})
    assert_clear_error(status, body, 403, "outside")
    await no_jobs(jp_fetch)


async def test_a_build_directory_linked_out_of_the_root_is_refused(jp_fetch, jp_root_dir, tiny_bundle, tmp_path):
    root = Path(jp_root_dir)
    bundle = root / place(tiny_bundle, root, "b")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (bundle / "build").symlink_to(elsewhere)
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "build", "bundle": "b"})
    assert_clear_error(status, body, 403, "b/build", "symbolic link")
    assert "Remove the link" in body["hint"]
    await no_jobs(jp_fetch)
    assert list(elsewhere.iterdir()) == []


async def built(jp_fetch, root: Path, bundle_dir: Path, rel: str, target: str = "host") -> Path:
    bundle = place(bundle_dir, root, rel)
    job = await wait_for(jp_fetch, await submit(jp_fetch, {"kind": "build", "bundle": bundle, "target": target}), finished)
    assert job["status"] == "done", job
    return root / job["build"]


async def test_reports_linked_out_of_the_root_are_not_served(jp_fetch, jp_root_dir, tiny_bundle, outside):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "b")
    rel = build.relative_to(root).as_posix()
    (build / "run.json").symlink_to(outside / "secret.json")
    status, body = await request(jp_fetch, "GET", "edgespec", "run", params={"build": rel})
    assert_clear_error(status, body, 403, "run.json", "outside")
    (build / "footprint.json").unlink()
    (build / "footprint.json").symlink_to(outside / "secret.json")
    status, body = await request(jp_fetch, "GET", "edgespec", "footprint", params={"build": rel})
    assert_clear_error(status, body, 403, "footprint.json", "outside")
    status, body = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": rel})
    assert_clear_error(status, body, 403, "footprint.json", "outside")
    status, builds = await request(jp_fetch, "GET", "edgespec", "builds")
    assert status == 200 and SECRET not in json.dumps(builds)
    assert list(build.glob("*.zip")) == []


async def test_a_run_of_a_build_that_reads_outside_the_root_is_refused(jp_fetch, jp_root_dir, tiny_bundle, outside):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "b")
    rel = build.relative_to(root).as_posix()
    manifest_file = build / "build.json"
    manifest = json.loads(manifest_file.read_text())

    # build.json names a bundle outside the root
    manifest_file.write_text(json.dumps({**manifest, "bundle": str(outside)}))
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "run", "build": rel})
    assert_clear_error(status, body, 403, "outside")
    # ... or an image outside the root
    manifest_file.write_text(json.dumps({**manifest, "image": "../../../../../../../../../../bin/sh"}))
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "run", "build": rel})
    assert_clear_error(status, body, 403, "outside")
    # ... or the bundle's graph.json is a link out of the root
    manifest_file.write_text(json.dumps(manifest))
    graph = root / "b" / "graph.json"
    graph.unlink()
    graph.symlink_to(outside / "secret.txt")
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "run", "build": rel})
    assert_clear_error(status, body, 403, "graph.json", "outside")
    # ... or build.json itself is such a link
    manifest_file.unlink()
    manifest_file.symlink_to(outside / "secret.json")
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "run", "build": rel})
    assert_clear_error(status, body, 403, "build.json", "outside")
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert [j["kind"] for j in jobs] == ["build"]


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """A directory its owner cannot write to: chmod for a normal user; for root, which chmod
    does not stop, the immutable attribute."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(directory)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
    else:
        mode = directory.stat().st_mode
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(stat.S_IMODE(mode))


async def test_an_archive_of_a_read_only_build_says_so(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "b")
    before = sorted(p.name for p in build.iterdir())
    with read_only(build):
        status, body = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": "b/build/host"})
    assert_clear_error(status, body, 409, "Cannot write the archive into b/build/host")
    assert "writable" in body["hint"]
    assert sorted(p.name for p in build.iterdir()) == before


@pytest.mark.parametrize("umask", [0o022, 0o027])
async def test_files_written_for_the_user_follow_the_umask(jp_fetch, jp_root_dir, tiny_bundle, umask):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "b")
    previous = os.umask(umask)  # the server runs in this process
    try:
        status, archive = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": "b/build/host"})
        assert status == 200, archive
        await submit(jp_fetch, {"kind": "build", "bundle": "b", "target": "host"})  # rewrites the job list
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask
    assert stat.S_IMODE((root / archive["path"]).stat().st_mode) == expected
    assert stat.S_IMODE((root / ".edgespec" / "jobs.json").stat().st_mode) == expected


@pytest.mark.parametrize("jp_server_config", [{"EdgespecApp": {"max_queued": 2}}], indirect=True)
async def test_a_full_queue_refuses_more_jobs_until_one_leaves(jp_fetch, jp_root_dir, slow_bundle):
    root = Path(jp_root_dir)
    place(slow_bundle, root, "s")
    running = await submit(jp_fetch, {"kind": "build", "bundle": "s"})
    waiting = [await submit(jp_fetch, {"kind": "build", "bundle": "s"}) for _ in range(2)]  # same directory: they wait
    assert (await get_job(jp_fetch, running))["status"] == "running"
    assert [(await get_job(jp_fetch, j))["status"] for j in waiting] == ["queued", "queued"]

    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "build", "bundle": "s"})
    assert_clear_error(status, body, 429, "already waiting", "max_queued = 2")
    assert body["code"] == "queue-full" and "cancel" in body["hint"]
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert len(jobs) == 3

    status, _ = await request(jp_fetch, "DELETE", "edgespec", "jobs", waiting[0])
    assert status == 200
    assert await submit(jp_fetch, {"kind": "build", "bundle": "s"})  # room again
    for job_id in [running, waiting[1]]:
        await request(jp_fetch, "DELETE", "edgespec", "jobs", job_id)


async def test_a_failed_build_carries_the_cli_s_own_message_and_hint(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    bundle = root / place(tiny_bundle, root, "broken")
    graph = json.loads((bundle / "graph.json").read_text())
    graph["nodes"][0]["attrs"]["stride"] = "a"  # an op attribute the toolchain refuses
    (bundle / "graph.json").write_text(json.dumps(graph))

    job = await wait_for(jp_fetch, await submit(jp_fetch, {"kind": "build", "bundle": "broken", "target": "host"}), finished)
    assert job["status"] == "failed", job

    # The same command, run by hand: its error event is what the job must carry.
    cli = subprocess.run(["node", str(REPO / "bin" / "edgespec"), "build", str(bundle), "--target", "host",
                          "--out", str(bundle / "build" / "host"), "--json"], capture_output=True, text=True, timeout=120)
    assert cli.returncode != 0
    events = [json.loads(line) for line in cli.stdout.splitlines() if line.startswith("{")]
    (error,) = [e for e in events if e["event"] == "error"]
    assert error.get("hint"), error
    assert job["error"]["message"] == error["message"]
    assert job["error"]["hint"] == error["hint"]
    assert job["error"]["code"] == error["code"]
    assert f"  fix: {error['hint']}" in job["log"]
    assert not (bundle / "build" / "host").exists()
