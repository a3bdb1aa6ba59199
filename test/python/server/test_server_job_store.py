"""The job list outlives the server: a restarted server lists the jobs of the last one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgespec.server.jobs import MAX_LOG_LINES, Job, JobStore
from server_helpers import request

DONE = {"id": "aaaaaaaaaaaa", "kind": "build", "target": "qemu-virt", "bundle": "m", "build": "m/build/qemu-virt",
        "status": "done", "progress": {"stage": "link", "done": 1, "total": 1}, "log": ["ok"], "result": {"x": 1},
        "error": None, "created": "2026-01-01T00:00:00.000Z", "started": "2026-01-01T00:00:01.000Z",
        "finished": "2026-01-01T00:00:02.000Z"}
INTERRUPTED = {**DONE, "id": "bbbbbbbbbbbb", "kind": "run", "status": "running", "finished": None, "result": None,
               "created": "2026-01-01T00:01:00.000Z"}


@pytest.fixture
def jp_root_dir(tmp_path: Path) -> Path:
    """A root that holds the job file a previous server left behind."""
    root = tmp_path / "root_dir"
    (root / ".edgespec").mkdir(parents=True)
    (root / ".edgespec" / "jobs.json").write_text(json.dumps({"format": "edgespec.jobs", "version": 1,
                                                               "jobs": [DONE, INTERRUPTED]}))
    return root


async def test_restarted_server_lists_earlier_jobs(jp_fetch, jp_root_dir):
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert status == 200
    assert [j["id"] for j in jobs] == ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
    assert jobs[1] == {**DONE, "dtype": None}  # saved before jobs had a dtype
    assert jobs[0]["status"] == "failed" and "stopped while this job was running" in jobs[0]["error"]["message"]
    assert jobs[0]["finished"]
    status, body = await request(jp_fetch, "DELETE", "edgespec", "jobs", "bbbbbbbbbbbb")
    assert status == 409


def test_damaged_job_file_is_set_aside(tmp_path: Path):
    path = tmp_path / "jobs.json"
    path.write_text("{not json")
    assert JobStore(path).load() == []
    assert (tmp_path / "jobs.json.damaged").read_text() == "{not json"


def test_long_logs_keep_the_newest_lines(tmp_path: Path):
    job = Job(id="c", kind="build", target="host", bundle=None, build=None)
    for i in range(MAX_LOG_LINES + 250):
        job.add_log(f"line {i}")
    assert len(job.log) == MAX_LOG_LINES
    assert job.log[0] == "… 251 earlier lines dropped"
    assert job.log[1] == "line 251" and job.log[-1] == f"line {MAX_LOG_LINES + 249}"
    store = JobStore(tmp_path / "jobs.json")
    store.save([job])
    assert store.load()[0].log == job.log
