"""Build and run jobs through the REST API, with the real CLI, compiler and QEMU."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Dict, List

import pytest

from live_server import alive, command_lines, descendants
from server_helpers import finished, get_job, place, request, submit, wait_for

pytestmark = pytest.mark.usefixtures("toolchain_built")
REPO = Path(__file__).resolve().parents[3]


def processes_mentioning(text: str) -> List[str]:
    """Command lines of live processes that name `text` (e.g. the test's root directory)."""
    return [c for c in command_lines() if text in c]


async def snapshot(jp_fetch, ids: List[str]) -> List[Dict]:
    """The jobs as one GET /edgespec/jobs saw them at one moment, in the order of `ids`."""
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert status == 200
    by_id = {job["id"]: job for job in jobs}
    return [by_id[i] for i in ids]


async def build(jp_fetch, bundle: str) -> Dict:
    job_id = await submit(jp_fetch, {"kind": "build", "bundle": bundle})
    job = await wait_for(jp_fetch, job_id, finished)
    assert job["status"] == "done", job
    return job


async def test_build_then_run_lifecycle(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    bundle = place(tiny_bundle, root, "models/tiny")
    job_id = await submit(jp_fetch, {"kind": "build", "bundle": bundle})
    first = await get_job(jp_fetch, job_id)
    assert first["kind"] == "build" and first["status"] in ("queued", "running")
    assert first["bundle"] == "models/tiny" and first["build"] == "models/tiny/build/qemu-virt"
    assert first["target"] == "qemu-virt" and first["created"].endswith("Z")

    job = await wait_for(jp_fetch, job_id, finished)
    assert job["status"] == "done", job
    assert job["error"] is None and job["result"] is not None
    assert job["progress"] and job["progress"]["stage"]
    assert job["started"] and job["finished"] and job["log"]
    build_dir = root / job["build"]
    assert (build_dir / "build.json").is_file() and (build_dir / "footprint.json").is_file()

    status, footprint = await request(jp_fetch, "GET", "edgespec", "footprint", params={"build": job["build"]})
    assert status == 200 and footprint == json.loads((build_dir / "footprint.json").read_text())
    status, body = await request(jp_fetch, "GET", "edgespec", "run", params={"build": job["build"]})
    assert status == 404 and "Run" in body["hint"]
    status, builds = await request(jp_fetch, "GET", "edgespec", "builds")
    assert [(b["build"], b["target"], b["has_run"]) for b in builds] == [(job["build"], "qemu-virt", False)]
    assert builds[0]["image_bytes"] == footprint["image"]["bytes"] > 0
    assert builds[0]["image_sha256"] == footprint["image"]["sha256"]

    run_id = await submit(jp_fetch, {"kind": "run", "build": job["build"]})
    run = await wait_for(jp_fetch, run_id, finished)
    assert run["status"] == "done", run
    assert run["target"] == "qemu-virt" and run["bundle"] == "models/tiny" and run["build"] == job["build"]
    assert run["result"]["format"] == "edgespec.run" and run["result"]["status"] == "ok"
    status, report = await request(jp_fetch, "GET", "edgespec", "run", params={"build": job["build"]})
    assert status == 200 and report == json.loads((build_dir / "run.json").read_text())
    assert report["agreement"]["within_tolerance"] and report["agreement"]["top1_match"]
    status, builds = await request(jp_fetch, "GET", "edgespec", "builds")
    assert builds[0]["has_run"] is True

    status, body = await request(jp_fetch, "DELETE", "edgespec", "jobs", run_id)
    assert status == 409 and "already finished" in body["message"]
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert [j["id"] for j in jobs] == [run_id, job_id]  # newest first

    stored = json.loads((root / ".edgespec" / "jobs.json").read_text())
    assert [(j["id"], j["status"]) for j in stored["jobs"]] == [(job_id, "done"), (run_id, "done")]


async def test_a_failing_build_reports_the_cli_error(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    bundle = place(tiny_bundle, root, "broken")
    weights = root / "broken" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-16])  # truncated: the CLI must refuse it
    job_id = await submit(jp_fetch, {"kind": "build", "bundle": bundle})
    job = await wait_for(jp_fetch, job_id, finished)
    assert job["status"] == "failed"
    assert job["error"]["message"] and job["error"].get("hint"), job["error"]
    assert "weights" in job["error"]["message"]
    assert not (root / "broken" / "build" / "qemu-virt").exists()


async def test_cancel_stops_a_running_guest_and_a_queued_job(jp_fetch, jp_root_dir, slow_bundle):
    root = Path(jp_root_dir)
    bundle = place(slow_bundle, root, "slow")
    built = await build(jp_fetch, bundle)

    running_id = await submit(jp_fetch, {"kind": "run", "build": built["build"]})
    queued_id = await submit(jp_fetch, {"kind": "run", "build": built["build"]})
    assert (await get_job(jp_fetch, queued_id))["status"] == "queued"

    # Cancel once QEMU is really running the image (a copy of it, in the run's own temporary
    # directory: QEMU is found as a child of this process, which runs the server).
    deadline = time.monotonic() + 120
    while not [c for c in descendants(os.getpid()).values() if "qemu-system-aarch64" in c]:
        assert time.monotonic() < deadline, "QEMU never started"
        assert (await get_job(jp_fetch, running_id))["status"] == "running"
        await asyncio.sleep(0.1)
    children = list(descendants(os.getpid()))

    status, job = await request(jp_fetch, "DELETE", "edgespec", "jobs", queued_id)
    assert status == 200 and job["status"] == "cancelled" and job["started"] is None
    status, job = await request(jp_fetch, "DELETE", "edgespec", "jobs", running_id)
    assert status == 200
    job = await wait_for(jp_fetch, running_id, finished, timeout=30)
    assert job["status"] == "cancelled" and "Cancelled" in job["error"]["message"]

    deadline = time.monotonic() + 10
    while processes_mentioning(str(root)) or alive(children):
        assert time.monotonic() < deadline, f"left running after cancel: {processes_mentioning(str(root))}, {alive(children)}"
        await asyncio.sleep(0.2)
    assert not (root / built["build"] / "run.json").exists()
    assert (await get_job(jp_fetch, queued_id))["started"] is None


async def run_to_completion(jp_fetch, ids):
    """Polls the jobs until all have finished: their last state, and the most that ran at once."""
    most_running = 0
    while True:
        jobs = await snapshot(jp_fetch, ids)
        most_running = max(most_running, sum(j["status"] == "running" for j in jobs))
        if all(finished(j) for j in jobs):
            return jobs, most_running
        await asyncio.sleep(0.05)


async def test_at_most_one_job_runs_by_default(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    ids = [await submit(jp_fetch, {"kind": "build", "bundle": place(tiny_bundle, root, name)}) for name in ("a", "b", "c")]
    jobs, most_running = await run_to_completion(jp_fetch, ids)
    assert most_running == 1
    assert [j["status"] for j in jobs] == ["done", "done", "done"]
    for earlier, later in zip(jobs, jobs[1:]):  # first come, first served, one after the other
        assert earlier["finished"] <= later["started"]


@pytest.mark.parametrize("jp_server_config", [{"EdgespecApp": {"max_jobs": 2}}], indirect=True)
async def test_max_jobs_lets_two_run_at_once(jp_fetch, jp_root_dir, slow_bundle):
    root = Path(jp_root_dir)
    ids = [await submit(jp_fetch, {"kind": "build", "bundle": place(slow_bundle, root, name)}) for name in ("a", "b", "c")]
    jobs, most_running = await run_to_completion(jp_fetch, ids)
    assert most_running == 2
    assert [j["status"] for j in jobs] == ["done", "done", "done"]
    assert jobs[2]["started"] >= min(jobs[0]["finished"], jobs[1]["finished"])


@pytest.mark.parametrize("jp_server_config", [{"EdgespecApp": {"job_timeout": 3}}], indirect=True)
async def test_a_job_over_its_time_limit_is_stopped(jp_fetch, jp_root_dir, slow_bundle):
    root = Path(jp_root_dir)
    bundle = place(slow_bundle, root, "slow")
    build_dir = root / bundle / "build" / "qemu-virt"
    built = subprocess.run(["node", str(REPO / "bin" / "edgespec"), "build", str(root / bundle), "--out", str(build_dir)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    job_id = await submit(jp_fetch, {"kind": "run", "build": f"{bundle}/build/qemu-virt"})
    job = await wait_for(jp_fetch, job_id, finished, timeout=60)
    assert job["status"] == "failed" and "longer than 3 s" in job["error"]["message"]
    assert "job_timeout" in job["error"]["hint"]
    await asyncio.sleep(1)
    assert processes_mentioning(str(root)) == []


async def test_an_int8_build_sits_beside_the_float32_build(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    bundle = place(tiny_bundle, root, "models/tiny")
    float_id = await submit(jp_fetch, {"kind": "build", "bundle": bundle, "target": "host"})
    float_job = await wait_for(jp_fetch, float_id, finished)
    int8_id = await submit(jp_fetch, {"kind": "build", "bundle": bundle, "target": "host", "dtype": "int8"})
    int8_job = await wait_for(jp_fetch, int8_id, finished)
    assert float_job["status"] == "done" and int8_job["status"] == "done", int8_job
    assert float_job["build"] == "models/tiny/build/host" and float_job["dtype"] == "float32"
    assert int8_job["build"] == "models/tiny/build/host-int8" and int8_job["dtype"] == "int8"
    assert "--dtype int8" in int8_job["log"][0] and "--dtype" not in float_job["log"][0]
    assert json.loads((root / int8_job["build"] / "build.json").read_text())["dtype"] == "int8"
    assert json.loads((root / float_job["build"] / "build.json").read_text()).get("dtype", "float32") == "float32"

    status, builds = await request(jp_fetch, "GET", "edgespec", "builds")
    assert status == 200
    assert sorted((b["build"], b["target"], b["dtype"]) for b in builds) == [
        ("models/tiny/build/host", "host", "float32"), ("models/tiny/build/host-int8", "host", "int8")]

    run_id = await submit(jp_fetch, {"kind": "run", "build": int8_job["build"]})
    run = await wait_for(jp_fetch, run_id, finished)
    assert run["status"] == "done", run
    assert run["dtype"] == "int8" and run["target"] == "host" and run["bundle"] == "models/tiny"
    report = json.loads((root / int8_job["build"] / "run.json").read_text())
    assert report["status"] == "ok"
