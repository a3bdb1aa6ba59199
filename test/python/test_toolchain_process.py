"""One reader of CLI events and one process-group stop (edgespec.toolchain_process), used by the
Python API (edgespec.toolchain.run_cli) and the server extension (edgespec.server.cli_process).

The stand-in CLIs here are real shell scripts run as real processes: they print the lines
whose reading the two callers used to disagree on, and start children that must be stopped."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest

from edgespec import ToolchainError
from edgespec.server.cli_process import CliProcess
from edgespec.toolchain import run_cli
from edgespec.toolchain_process import STOP_GRACE_SECONDS, parse_event

MIXED_STDOUT = [
    json.dumps({"event": "progress", "stage": "compile", "done": 1, "total": 2}),
    "plain text from a tool",
    '   {"event": "log", "level": "warn", "message": "indented event"}',
    json.dumps({"event": 5, "message": "event is not a string"}),
    json.dumps(["not", "an", "object"]),
    '{"event": "log", "message": "cut short',
    "",
    "    ",
    json.dumps({"event": "result", "command": "inspect", "data": {"name": "m"}}),
]


def stand_in_cli(tmp_path, body: str):
    script = tmp_path / "stand-in-cli"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return script


def printing_cli(tmp_path, stdout_lines, stderr_lines=(), exit_code=0):
    out = tmp_path / "stdout.txt"
    out.write_text("".join(line + "\n" for line in stdout_lines))
    err = tmp_path / "stderr.txt"
    err.write_text("".join(line + "\n" for line in stderr_lines))
    return stand_in_cli(tmp_path, f"cat '{out}'\ncat '{err}' >&2\nexit {exit_code}\n")


def run_in_server(argv, cwd, timeout=None, stop_after=None, stop_first=False):
    """Run argv as the server does; the events it saw on the loop, and the outcome."""
    seen = []

    async def main():
        process = CliProcess(argv, str(cwd), seen.append)
        if stop_first:
            await process.stop()
        running = asyncio.ensure_future(process.run(timeout))
        if stop_after is not None:
            await asyncio.sleep(stop_after)
            await process.stop()
        return await running

    return seen, asyncio.run(main())


def test_what_counts_as_an_event():
    assert parse_event('{"event": "result", "data": 1}\n') == {"event": "result", "data": 1}
    assert parse_event('  {"event": "log", "message": "x"}\r\n') == {"event": "log", "message": "x"}
    for line in ['{"event": 5}', '["event"]', '{"event": "log"', "plain", "  indented plain"]:
        assert parse_event(line + "\n") == {"event": "log", "level": "info", "message": line}, line
    assert parse_event("\n") is None and parse_event("   \r\n") is None


def test_the_api_and_the_server_read_the_same_events(tmp_path, monkeypatch):
    script = printing_cli(tmp_path, MIXED_STDOUT, ["a warning on stderr"])
    monkeypatch.setenv("EDGESPEC_CLI", str(script))
    api_events = []
    run = run_cli(["inspect", "x"], on_event=api_events.append)
    server_events, outcome = run_in_server([str(script), "inspect", "x", "--json"], tmp_path)

    expected = [parse_event(line) for line in MIXED_STDOUT if parse_event(line) is not None]
    assert api_events == run.events == expected
    assert [e["event"] for e in expected] == ["progress", "log", "log", "log", "log", "log", "result"]
    stderr_log = {"event": "log", "level": "info", "message": "a warning on stderr"}
    assert [e for e in server_events if e != stderr_log] == expected and stderr_log in server_events
    assert run.result == outcome.result == {"name": "m"}
    assert run.returncode == outcome.exit_code == 0
    assert run.stderr == "a warning on stderr" and outcome.stderr_tail == ["a warning on stderr"]


def test_an_error_event_reaches_both_callers(tmp_path, monkeypatch):
    error = {"event": "error", "code": "bundle.invalid", "message": "weights.safetensors is short",
             "hint": "capture again", "details": {"bytes": 3}}
    script = printing_cli(tmp_path, [json.dumps(error)], exit_code=1)
    monkeypatch.setenv("EDGESPEC_CLI", str(script))
    with pytest.raises(ToolchainError) as caught:
        run_cli(["inspect", "x"])
    assert (caught.value.message, caught.value.hint, caught.value.code) == (error["message"], error["hint"], error["code"])
    _, outcome = run_in_server([str(script)], tmp_path)
    assert outcome.exit_code == 1
    assert outcome.error == {"message": error["message"], "hint": error["hint"], "code": error["code"]}


def test_a_failure_without_an_error_event_names_the_stderr_tail(tmp_path, monkeypatch):
    script = printing_cli(tmp_path, [], [f"line {i}" for i in range(30)], exit_code=3)
    monkeypatch.setenv("EDGESPEC_CLI", str(script))
    with pytest.raises(ToolchainError, match=r"exited with status 3: line 25 / line 26 / line 27 / line 28 / line 29$"):
        run_cli(["build", "x"])
    _, outcome = run_in_server([str(script)], tmp_path)
    assert outcome.exit_code == 3 and outcome.stderr_tail == [f"line {i}" for i in range(10, 30)]


def _gone(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def stubborn_cli(tmp_path):
    """A CLI whose child ignores SIGTERM (as a wedged QEMU might): only SIGKILL ends it."""
    child_pid = tmp_path / "child.pid"
    script = stand_in_cli(tmp_path, f"sh -c 'trap \"\" TERM; echo $$ > {child_pid}; while :; do sleep 1; done' &\n"
                                    "echo '{\"event\": \"log\", \"message\": \"started\"}'\nwait\n")
    return script, child_pid


def test_the_server_stop_terms_then_kills_the_whole_group(tmp_path):
    script, child_pid = stubborn_cli(tmp_path)
    started = time.monotonic()
    seen, outcome = run_in_server([str(script)], tmp_path, stop_after=1.0)
    elapsed = time.monotonic() - started
    assert {"event": "log", "message": "started"} in seen
    assert outcome.exit_code == -signal.SIGTERM  # the CLI itself ended on SIGTERM ...
    assert _gone(int(child_pid.read_text()))  # ... and its child, deaf to SIGTERM, got the SIGKILL
    assert elapsed < STOP_GRACE_SECONDS + 10


def test_a_cli_deaf_to_sigterm_is_killed_after_the_grace(tmp_path):
    script = stand_in_cli(tmp_path, "trap '' TERM\necho '{\"event\": \"log\", \"message\": \"started\"}'\n"
                                    "while :; do sleep 1; done\n")
    started = time.monotonic()
    seen, outcome = run_in_server([str(script)], tmp_path, stop_after=1.0)
    elapsed = time.monotonic() - started
    assert {"event": "log", "message": "started"} in seen
    assert outcome.exit_code == -signal.SIGKILL
    assert 1.0 + STOP_GRACE_SECONDS - 0.5 <= elapsed < STOP_GRACE_SECONDS + 10


def test_the_api_timeout_stops_the_whole_group(tmp_path, monkeypatch):
    script, child_pid = stubborn_cli(tmp_path)
    monkeypatch.setenv("EDGESPEC_CLI", str(script))
    with pytest.raises(ToolchainError, match="did not finish in time and was stopped"):
        run_cli(["run", "x"], timeout=1.0)
    assert _gone(int(child_pid.read_text()))


def test_a_server_stop_before_the_start_kills_the_command_at_once(tmp_path):
    marker = tmp_path / "ran-on"
    script = stand_in_cli(tmp_path, f"sleep 2\ntouch '{marker}'\n")
    started = time.monotonic()
    _, outcome = run_in_server([str(script)], tmp_path, stop_first=True)
    assert outcome.exit_code == -signal.SIGKILL and time.monotonic() - started < 2
    time.sleep(2.5)
    assert not marker.exists()


def test_a_missing_executable_raises_in_the_server_caller(tmp_path):
    with pytest.raises(FileNotFoundError):
        run_in_server([str(tmp_path / "no-such-cli")], tmp_path)
