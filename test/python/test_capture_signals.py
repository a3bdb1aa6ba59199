"""SIGTERM and SIGINT stop a capture cleanly (staging removed, exit 143/130, one message), and the next
capture sweeps the staging directories of captures that were killed (issue 10, problem 5)."""
import os
import shutil
import signal
import subprocess
import time

import psutil
import pytest
import torch

import edgespec
import user_models
from capture_safety_helpers import (BIG_MODEL, EDGESPEC, PYTHON_EDGESPEC, dead_pid, error_of, snapshot,
                                    staging_dirs)


def start_big_capture(tmp_path, out, node=False):
    models = tmp_path / "models.py"
    models.write_text(BIG_MODEL)
    argv = [*(EDGESPEC if node else PYTHON_EDGESPEC), "capture", f"{models}:big", "--input-shape", "1x4096",
            "--out", str(out), "--json"]
    return subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_staging(out, process, timeout=300):
    """The capture's `.NAME.partial-*` directory, as soon as it holds the weights being written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in out.parent.iterdir():
            if entry.name.startswith(f".{out.name}.partial-"):
                return entry
        assert process.poll() is None, "the capture ended before it started writing: " + process.communicate()[1]
        time.sleep(0.002)
    process.kill()
    raise AssertionError("the capture never started writing its bundle")


def earlier_bundle(out):
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    return snapshot(out)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_writing_removes_the_staging_directory_and_keeps_the_earlier_bundle(tmp_path, sig, code):
    out = tmp_path / "big"
    before = earlier_bundle(out)
    process = start_big_capture(tmp_path, out)
    wait_for_staging(out, process)
    os.kill(process.pid, sig)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    error = error_of(done)
    assert error["code"] == "interrupted" and signal.Signals(sig).name in error["message"], error
    assert "Traceback" not in stderr
    assert staging_dirs(tmp_path) == []
    assert snapshot(out) == before


def test_sigterm_to_bin_edgespec_stops_the_python_capture_too(tmp_path):
    out = tmp_path / "big"
    before = earlier_bundle(out)
    process = start_big_capture(tmp_path, out, node=True)
    wait_for_staging(out, process)
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "bin/edgespec capture runs python -m edgespec capture"
    os.kill(process.pid, signal.SIGTERM)  # the node process only, as `kill PID` does
    process.communicate(timeout=120)
    gone, alive = psutil.wait_procs(children, timeout=120)
    assert alive == [], "the Python capture outlived bin/edgespec"
    assert staging_dirs(tmp_path) == []
    assert snapshot(out) == before


def test_the_next_capture_sweeps_what_a_killed_capture_left(tmp_path):
    out = tmp_path / "big"
    process = start_big_capture(tmp_path, out)
    staging = wait_for_staging(out, process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert staging.is_dir(), "SIGKILL cannot be handled: the staging directory stays until the next capture"
    mine = tmp_path / f".busy.partial-{os.getpid()}-abcd1234"  # a capture still running: left alone
    mine.mkdir()
    theirs = tmp_path / f".notes.partial-{dead_pid()}-abcd1234"  # the name of one, but the user's file inside
    theirs.mkdir()
    (theirs / "thesis.txt").write_text("precious")

    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=tmp_path / "next")
    assert not staging.exists()
    assert mine.is_dir() and (theirs / "thesis.txt").read_text() == "precious"


def test_a_capture_killed_while_swapping_bundles_is_undone_by_the_next(tmp_path):
    """SIGKILL between the renames: the earlier bundle is set aside and the builds it carries are in staging."""
    out = tmp_path / "b"
    earlier_bundle(out)
    (out / "build" / "host").mkdir(parents=True)
    (out / "build" / "host" / "build.json").write_text('{"format": "edgespec.build", "bundle": "../.."}')
    expected = snapshot(out)
    pid = dead_pid()
    staged = tmp_path / f".b.partial-{pid}-x1"
    staged.mkdir()
    shutil.copy(out / "graph.json", staged / "graph.json")
    (staged / "build").mkdir()
    os.rename(out / "build" / "host", staged / "build" / "host")
    os.rename(out, tmp_path / f".b.old-{pid}-x2")
    assert not out.exists()

    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=tmp_path / "other")
    assert snapshot(out) == expected
    assert staging_dirs(tmp_path) == []
