"""One request must never freeze the Jupyter server: every kernel and the file browser share
its event loop. Hostile paths and bodies get a fast 4xx, and a request that waits on the
file system waits in a worker thread while the server answers others.

These run a real `jupyter server` process (live_server.py) and time its answers.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from live_server import LatencyProbe, LiveServer, timed

ANSWER_WITHIN = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: each test must leave it answering for the next."""
    work = tmp_path_factory.mktemp("event-loop")
    root = work / "root"
    root.mkdir()
    live = LiveServer(root, work / "jupyter")
    yield live
    live.stop()


@pytest.fixture
def own_server(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    live = LiveServer(root, tmp_path / "jupyter")
    yield live
    live.stop()


def long_path(total_bytes: int) -> str:
    """A path of long components (few of them), so only its length is hostile."""
    component = "d" * 250
    return "/".join([component] * (total_bytes // 251 + 1))[:total_bytes]


HOSTILE = [
    # (what, method, url, body, expected status, words in the message)
    ("128 KB bundle path", "POST", "/edgespec/jobs", {"kind": "build", "bundle": long_path(128 * 1024)}, 413, "at most"),
    ("6 MB bundle path", "POST", "/edgespec/jobs", {"kind": "build", "bundle": long_path(6 * 1024 * 1024)}, 413, "at most"),
    ("40 KB bundle path", "POST", "/edgespec/jobs", {"kind": "build", "bundle": long_path(40 * 1024)}, 400, "4096 bytes"),
    ("40 KB build path", "POST", "/edgespec/jobs", {"kind": "run", "build": long_path(40 * 1024)}, 400, "4096 bytes"),
    ("40 KB archive path", "POST", "/edgespec/archive", {"build": long_path(40 * 1024)}, 400, "4096 bytes"),
    ("30 000 components", "POST", "/edgespec/jobs", {"kind": "build", "bundle": "a/" * 30_000}, 400, "4096 bytes"),
    ("2000 components", "POST", "/edgespec/jobs", {"kind": "build", "bundle": "a/" * 2000}, 400, "components"),
    ("2000 dot components", "POST", "/edgespec/jobs", {"kind": "run", "build": "./" * 2000}, 400, "components"),
    ("100 000-deep JSON", "POST", "/edgespec/jobs", ("[" * 100_000 + "]" * 100_000).encode(), 413, "at most"),
    ("20 000-deep JSON", "POST", "/edgespec/jobs", ("[" * 20_000 + "]" * 20_000).encode(), 400, "levels deep"),
    ("deep object JSON", "POST", "/edgespec/archive", ('{"a":' * 5000 + "1" + "}" * 5000).encode(), 400, "levels deep"),
    ("body of 1 MB", "POST", "/edgespec/jobs", json.dumps({"kind": "build", "bundle": "b", "pad": "x" * 2**20}).encode(),
     413, "at most"),
    ("10 KB query path", "GET", "/edgespec/footprint?build=" + "a" * 10_000, None, 400, "4096 bytes"),
    ("300-deep query path", "GET", "/edgespec/run?build=" + "a/" * 300, None, 400, "components"),
]


@pytest.mark.parametrize("what,method,url,body,expected,words", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_request_gets_a_fast_4xx_while_others_are_answered(server, what, method, url, body, expected, words):
    with LatencyProbe(server) as probe:
        seconds, status, answer = timed(server, method, url, body)
    assert status == expected, answer
    assert isinstance(answer, dict) and words in answer["message"] and answer.get("hint"), answer
    assert len(answer["message"]) < 400, "the message must not echo the whole path"
    assert "Traceback" not in json.dumps(answer) and "Error:" not in answer["message"]
    assert seconds < ANSWER_WITHIN, f"{what} took {seconds:.2f} s"
    assert not probe.failures and probe.worst < ANSWER_WITHIN, (probe.worst, probe.failures)
    assert server.process.poll() is None


def test_hostile_requests_side_by_side_leave_the_server_responsive(server):
    """Several large requests at once (each within bounds of the transport), and the job list still answers."""
    results = []

    def send(body):
        results.append(timed(server, "POST", "/edgespec/jobs", body))

    bodies = [{"kind": "build", "bundle": long_path(60 * 1024)} for _ in range(6)]
    bodies += [("[" * 30_000 + "]" * 30_000).encode() for _ in range(2)]
    with LatencyProbe(server) as probe:
        threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert sorted(status for _, status, _ in results) == [400] * 8
    assert max(seconds for seconds, _, _ in results) < 3 * ANSWER_WITHIN
    assert probe.worst < ANSWER_WITHIN, probe.worst


@pytest.mark.parametrize("endpoint", ["footprint", "run"])
def test_a_named_pipe_as_a_report_is_refused_without_blocking_the_server(server, endpoint):
    """Reading a FIFO blocks until someone writes to it: the server must not try, and never on its event loop."""
    build = server.root / f"fifo-{endpoint}" / "build" / "qemu-virt"
    build.mkdir(parents=True)
    (build / "build.json").write_text("{}")
    os.mkfifo(build / f"{endpoint if endpoint == 'footprint' else 'run'}.json")
    with LatencyProbe(server) as probe:
        seconds, status, answer = timed(server, "GET", f"/edgespec/{endpoint}?build=fifo-{endpoint}/build/qemu-virt")
    assert status == 422 and "not a regular file" in answer["message"] and "named pipe" in answer["message"], answer
    assert seconds < ANSWER_WITHIN and probe.worst < ANSWER_WITHIN


def test_the_server_stops_on_sigterm_during_a_huge_path_request(own_server):
    """A 6 MB path once held the event loop for minutes, and the server ignored SIGTERM meanwhile."""
    server = own_server
    results = []
    sender = threading.Thread(target=lambda: results.append(
        timed(server, "POST", "/edgespec/jobs", {"kind": "build", "bundle": "a/" * 3_000_000})))
    sender.start()
    time.sleep(1.0)  # the request is in
    started = time.monotonic()
    server.stop(timeout=60)
    assert time.monotonic() - started < 15, "the server took too long to stop"
    sender.join(30)
    assert results and results[0][1] == 413, results
