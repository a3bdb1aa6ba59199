"""Diff jobs (`edgespec diff BUILD` through the REST API) and the divergence.json endpoint,
with the real CLI, compiler and QEMU."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from server_helpers import finished, place, request, submit, wait_for

pytestmark = pytest.mark.usefixtures("toolchain_built")


def assert_json_error(status: int, body: object, expected: int) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and body["message"] and body.get("hint"), body


async def built(jp_fetch, root: Path, bundle: Path, rel: str) -> str:
    """A real qemu-virt build of a bundle placed at `rel`; returns its build directory."""
    place(bundle, root, rel)
    job = await wait_for(jp_fetch, await submit(jp_fetch, {"kind": "build", "bundle": rel}), finished)
    assert job["status"] == "done", job
    return job["build"]


def without_intermediates(bundle: Path) -> None:
    """The bundle as a capture that kept no framework values writes it."""
    graph_file = bundle / "graph.json"
    graph = json.loads(graph_file.read_text())
    kept = graph.pop("intermediates", None)
    if kept:
        (bundle / kept["file"]).unlink()
    graph_file.write_text(json.dumps(graph, indent=1))


async def test_divergence_report_is_404_with_a_hint_until_a_diff_wrote_it(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "m/tiny")
    status, body = await request(jp_fetch, "GET", "edgespec", "divergence", params={"build": build})
    assert_json_error(status, body, 404)
    assert "divergence.json" in body["message"] and "Find divergent layer" in body["hint"]
    status, body = await request(jp_fetch, "GET", "edgespec", "divergence", params={"build": "m/tiny"})
    assert_json_error(status, body, 404)  # a bundle, not a build
    assert "no build" in body["message"].lower()


async def test_a_diff_job_is_queued_with_its_builds_target_and_dtype(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "m/tiny")
    # the request's target is not the build's: a diff diagnoses the build as it was built
    job_id = await submit(jp_fetch, {"kind": "diff", "build": build, "target": "host"})
    status, job = await request(jp_fetch, "GET", "edgespec", "jobs", job_id)
    assert status == 200
    assert (job["kind"], job["target"], job["dtype"], job["build"], job["bundle"]) == \
        ("diff", "qemu-virt", "float32", build, "m/tiny")
    job = await wait_for(jp_fetch, job_id, finished, timeout=600)
    assert job["log"][0].startswith("$ ") and f" diff {root / build} --json" in job["log"][0]


async def test_a_diff_that_cannot_diagnose_fails_with_the_clis_message(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "m/tiny")
    without_intermediates(root / "m/tiny")
    job = await wait_for(jp_fetch, await submit(jp_fetch, {"kind": "diff", "build": build}), finished, timeout=600)
    assert job["status"] == "failed", job
    assert job["error"]["message"] and job["error"].get("hint"), job["error"]
    assert "intermediate" in job["error"]["message"].lower(), job["error"]
    assert "Traceback" not in "\n".join(job["log"])
    assert not (root / build / "divergence.json").exists()
    stored = json.loads((root / ".edgespec" / "jobs.json").read_text())
    assert [(j["kind"], j["status"]) for j in stored["jobs"]][-1] == ("diff", "failed")


async def test_a_diff_whose_debug_build_would_leave_the_root_is_refused(jp_fetch, jp_root_dir, tiny_bundle, tmp_path):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "m/tiny")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, root / (build + "-debug"))
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "diff", "build": build})
    assert_json_error(status, body, 403)
    assert body["code"] == "link-outside-root" and "qemu-virt-debug" in body["message"]
    assert list(elsewhere.iterdir()) == []
    # a build in the root directory itself (its bundle inside the root): its twin would be a sibling of the root
    for item in (root / build).iterdir():
        if item.is_file():
            shutil.copy(item, root / item.name)
    manifest = json.loads((root / "build.json").read_text())
    (root / "build.json").write_text(json.dumps({**manifest, "bundle": "m/tiny"}))
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "diff", "build": str(root)})
    assert_json_error(status, body, 403)
    assert "debug build" in body["message"] and "outside the Jupyter root" in body["message"]
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert [j["kind"] for j in jobs] == ["build"]


async def test_a_diff_job_writes_divergence_json_and_the_endpoint_serves_it(jp_fetch, jp_root_dir, tiny_bundle):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, tiny_bundle, "m/tiny")
    job = await wait_for(jp_fetch, await submit(jp_fetch, {"kind": "diff", "build": build}), finished, timeout=600)
    assert job["status"] == "done", job
    assert job["error"] is None and job["progress"]["stage"]
    report_file = root / build / "divergence.json"
    assert job["result"] == {"divergence": str(report_file), "status": "agrees", "first_divergent": None}
    status, report = await request(jp_fetch, "GET", "edgespec", "divergence", params={"build": build})
    assert status == 200 and report == json.loads(report_file.read_text())
    assert report["format"] == "edgespec.divergence" and report["status"] == "agrees"
    assert report["layers"] and all(layer["within_tolerance"] for layer in report["layers"] if layer["compared"])
    assert (root / (build + "-debug") / "build.json").is_file()


@pytest.mark.parametrize("jp_server_config", [{"EdgespecApp": {"max_jobs": 2}}], indirect=True)
async def test_a_diff_never_runs_beside_a_job_on_its_debug_build(jp_fetch, jp_root_dir, slow_bundle):
    root = Path(jp_root_dir)
    build = await built(jp_fetch, root, slow_bundle, "m/slow")
    first = await wait_for(jp_fetch, await submit(jp_fetch, {"kind": "diff", "build": build}), finished, timeout=600)
    assert first["status"] == "done", first
    twin = build + "-debug"
    diff_id = await submit(jp_fetch, {"kind": "diff", "build": build})
    run_id = await submit(jp_fetch, {"kind": "run", "build": twin})
    seen = []

    async def both_running() -> None:
        status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
        states = {j["id"]: j["status"] for j in jobs}
        seen.append((states[diff_id], states[run_id]))

    await wait_for(jp_fetch, run_id, finished, timeout=600, on_poll=both_running)
    await wait_for(jp_fetch, diff_id, finished, timeout=600, on_poll=both_running)
    assert ("running", "running") not in seen
    assert ("running", "queued") in seen  # the run waited for the diff
    for job_id in (diff_id, run_id):
        status, job = await request(jp_fetch, "GET", "edgespec", "jobs", job_id)
        assert job["status"] == "done", job
