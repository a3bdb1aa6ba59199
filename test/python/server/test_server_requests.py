"""Requests the extension must refuse: no token, paths outside the root, malformed bodies."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from server_helpers import place, request

ENDPOINTS = [
    ("GET", ("edgespec", "jobs"), None, None),
    ("POST", ("edgespec", "jobs"), {"kind": "build", "bundle": "b"}, None),
    ("GET", ("edgespec", "jobs", "0123456789ab"), None, None),
    ("DELETE", ("edgespec", "jobs", "0123456789ab"), None, None),
    ("GET", ("edgespec", "builds"), None, None),
    ("GET", ("edgespec", "footprint"), None, {"build": "b/build/qemu-virt"}),
    ("GET", ("edgespec", "run"), None, {"build": "b/build/qemu-virt"}),
    ("GET", ("edgespec", "divergence"), None, {"build": "b/build/qemu-virt"}),
    ("POST", ("edgespec", "jobs"), {"kind": "diff", "build": "b/build/qemu-virt"}, None),
    ("POST", ("edgespec", "archive"), {"build": "b/build/qemu-virt"}, None),
]


# With unauthenticated access allowed server-wide, only the handlers' own decorators refuse.
@pytest.mark.parametrize("jp_server_config", [{}, {"ServerApp": {"allow_unauthenticated_access": True}}],
                         indirect=True, ids=["server-refuses", "handlers-refuse"])
@pytest.mark.parametrize("method,parts,body,params", ENDPOINTS, ids=[f"{m} {'/'.join(p)}" for m, p, _, _ in ENDPOINTS])
async def test_unauthenticated_requests_are_refused(jp_fetch, jp_root_dir, tiny_bundle, method, parts, body, params):
    place(tiny_bundle, jp_root_dir, "b")
    for headers in ({"Authorization": "token wrong"}, {"Authorization": ""}):
        status, answer = await request(jp_fetch, method, *parts, body=body, params=params, headers=headers)
        assert status in (401, 403)
        assert "token" in answer["hint"], answer
    # Nothing happened on the server's side either.
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert status == 200 and jobs == []


def assert_json_error(status: int, body: object, expected: int) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and body["message"] and body.get("hint"), body


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A bundle-looking directory outside the server root."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "graph.json").write_text("{}")
    (out / "build.json").write_text("{}")
    (out / "footprint.json").write_text("{}")
    return out


def escaping_paths(root: Path, outside: Path) -> list:
    os.symlink(outside, root / "link")
    relative = os.path.relpath(outside, root)
    return ["../outside", relative, f"sub/../../{relative}", str(outside), "/etc", "link", "link/."]


async def test_paths_outside_the_root_are_refused_everywhere(jp_fetch, jp_root_dir, outside):
    for path in escaping_paths(Path(jp_root_dir), outside):
        status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": "build", "bundle": path})
        assert_json_error(status, body, 403)
        assert "outside" in body["message"]
        for kind in ("run", "diff"):
            status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body={"kind": kind, "build": path})
            assert_json_error(status, body, 403)
        for endpoint in ("footprint", "run", "divergence"):
            status, body = await request(jp_fetch, "GET", "edgespec", endpoint, params={"build": path})
            assert_json_error(status, body, 403)
        status, body = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": path})
        assert_json_error(status, body, 403)
    status, jobs = await request(jp_fetch, "GET", "edgespec", "jobs")
    assert jobs == []


async def test_absolute_path_inside_the_root_is_accepted_and_answered_relative(jp_fetch, jp_root_dir, tiny_bundle):
    place(tiny_bundle, jp_root_dir, "models/tiny")
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs",
                                 body={"kind": "build", "bundle": str(Path(jp_root_dir) / "models" / "tiny")})
    assert status == 201, body
    status, job = await request(jp_fetch, "GET", "edgespec", "jobs", body["id"])
    assert status == 200
    assert job["bundle"] == "models/tiny" and job["build"] == "models/tiny/build/qemu-virt"


@pytest.mark.parametrize("body,expected,words", [
    ("not json", 400, "not valid JSON"),
    ([1, 2], 400, "JSON object"),
    ({"kind": "deploy"}, 400, "Unknown job kind"),
    ({"kind": "build"}, 400, "'bundle'"),
    ({"kind": "build", "bundle": ""}, 400, "'bundle'"),
    ({"kind": "build", "bundle": "missing"}, 404, "no graph.json"),
    ({"kind": "run", "build": "missing"}, 404, "no build.json"),
    ({"kind": "diff", "build": "missing"}, 404, "no build.json"),
    ({"kind": "diff"}, 400, "'build'"),
    ({"kind": "build", "bundle": "b", "target": "x86"}, 400, "Unknown target"),
    ({"kind": "build", "bundle": "b", "target": "rpi4"}, 400, "Unknown target"),  # no such board target (yet)
    ({"kind": "build", "bundle": "b", "dtype": "int16"}, 400, "Unknown dtype 'int16'"),
    ({"kind": "build", "bundle": "b", "dtype": 8}, 400, "Unknown dtype 8"),
])
async def test_malformed_job_requests_get_a_json_error(jp_fetch, jp_root_dir, tiny_bundle, body, expected, words):
    place(tiny_bundle, jp_root_dir, "b")
    status, answer = await request(jp_fetch, "POST", "edgespec", "jobs", body=body)
    assert_json_error(status, answer, expected)
    assert words in answer["message"]


async def test_unknown_jobs_and_builds_are_404(jp_fetch, jp_root_dir):
    for method in ("GET", "DELETE"):
        status, body = await request(jp_fetch, method, "edgespec", "jobs", "feedfacecafe")
        assert_json_error(status, body, 404)
    for endpoint in ("footprint", "run", "divergence"):
        status, body = await request(jp_fetch, "GET", "edgespec", endpoint, params={"build": "nowhere"})
        assert_json_error(status, body, 404)
        status, body = await request(jp_fetch, "GET", "edgespec", endpoint)
        assert_json_error(status, body, 400)
    status, body = await request(jp_fetch, "POST", "edgespec", "archive", body={"build": "nowhere"})
    assert_json_error(status, body, 404)
    status, body = await request(jp_fetch, "GET", "edgespec", "builds")
    assert status == 200 and body == []
