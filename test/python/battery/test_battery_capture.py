"""The battery's capture cases: output directories that are not a bundle's, the user's own
code failing, absurd shapes, files that are not models, and signals."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from edgespec import validate_bundle
from battery_helpers import CLI, MODELS, assert_refused, run_cli, snapshot, staging_left, wait_until

TINY = [f"{MODELS}:tiny_cnn", "--input-shape", "1x3x16x16", "--seed", "0"]


def capture(*args, timeout=300):
    return run_cli(["capture", *args], timeout=timeout)


def test_capture_out_foreign_graph_json(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "graph.json").write_text('{"nodes": "my own graph"}')
    (out / "build").mkdir()
    (out / "build" / "thesis.txt").write_text("precious")
    before = snapshot(out)
    assert_refused(capture(*TINY, "--out", str(out)), about=[str(out)])
    assert snapshot(out) == before


def test_capture_out_nonempty_user_dir(tmp_path):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "cat.jpg").write_bytes(b"\xff\xd8")
    before = snapshot(out)
    assert_refused(capture(*TINY, "--out", str(out)))
    assert snapshot(out) == before


def test_capture_out_is_a_file(tmp_path):
    out = tmp_path / "model"
    out.write_text("mine")
    assert_refused(capture(*TINY, "--out", str(out)))
    assert out.read_text() == "mine"


def test_recapture_keeps_user_files_in_build(bundle):
    (bundle / "build" / "my-notes.txt").write_text("mine")
    o = capture(*TINY, "--out", str(bundle))
    if o.returncode == 0:
        assert (bundle / "build" / "my-notes.txt").read_text() == "mine"
    else:
        assert_refused(o)
        assert (bundle / "build" / "my-notes.txt").read_text() == "mine"


def test_recapture_says_what_it_replaces_or_keeps(bundle):
    o = capture(*TINY, "--out", str(bundle))
    assert o.returncode == 0, o.text()
    said = " ".join(e.get("message", "") for e in o.events if e.get("event") in ("log", "progress"))
    builds_left = sorted(p.name for p in (bundle / "build").iterdir()) if (bundle / "build").exists() else []
    # the same model captured again: its builds are still valid and kept, or their replacement is announced
    assert builds_left == ["host", "qemu-virt"] or "build" in said, (builds_left, said)


def test_capture_syntax_error_names_the_line(tmp_path):
    src = tmp_path / "broken.py"
    src.write_text("import torch\n\ndef model():\n    return torch.nn.Linear(2, 2\n")
    error = assert_refused(capture(f"{src}:model", "--input-shape", "1x2", "--out", str(tmp_path / "b")), about=["broken.py"])
    assert ":4" in error["message"] or "line 4" in error["message"], error


def test_capture_factory_raises(tmp_path):
    src = tmp_path / "raises.py"
    src.write_text("def model():\n    raise ValueError('no weights here')\n")
    assert_refused(capture(f"{src}:model", "--input-shape", "1x2", "--out", str(tmp_path / "b")), about=["no weights here"])


def test_capture_factory_missing(tmp_path):
    src = tmp_path / "empty.py"
    src.write_text("x = 1\n")
    assert_refused(capture(f"{src}:model", "--input-shape", "1x2", "--out", str(tmp_path / "b")), about=["model"])


def test_capture_module_missing(tmp_path):
    assert_refused(capture(f"{tmp_path / 'nope.py'}:model", "--input-shape", "1x2", "--out", str(tmp_path / "b")), about=["nope.py"])


@pytest.mark.parametrize("shape", ["1x3x100000x100000", "999999999999", "1xax3", "1x-3", "", "0x3"])
def test_capture_bad_input_shape(tmp_path, shape):
    o = capture(f"{MODELS}:tiny_cnn", "--input-shape", shape, "--out", str(tmp_path / "b"), timeout=120)
    assert o.returncode in (1, 2), o.text()
    assert_refused(o, code=o.returncode, seconds=60)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("name", ["bad name!", "../escape", "a" * 300])
def test_capture_name_is_refused_or_announced(tmp_path, name):
    o = capture(*TINY, "--name", name, "--out", str(tmp_path / "b"))
    if o.returncode == 0:
        written = json.loads((tmp_path / "b" / "graph.json").read_text())["name"]
        said = " ".join(json.dumps(e) for e in o.events)
        assert written == name or written in said, f"renamed to {written} without saying so: {said}"
    else:
        assert_refused(o, code=o.returncode, about=["name"])


@pytest.mark.parametrize("suffix,data", [(".tflite", b"TFL3" + b"\x00" * 60), (".onnx", b"\x08\x07garbage"),
                                         (".tflite", b""), (".onnx", b"")])
def test_capture_garbage_model_file(tmp_path, suffix, data):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(data)
    assert_refused(capture(str(path), "--out", str(tmp_path / "b"), timeout=120), seconds=90)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_capture_interrupted_leaves_nothing(tmp_path, sig, code):
    out = tmp_path / "b"
    proc = subprocess.Popen([*CLI, "capture", *TINY, "--out", str(out), "--json"], stdout=subprocess.PIPE, text=True)
    # wait until the capture has started writing its staging directory
    assert wait_until(lambda: staging_left(tmp_path) or proc.poll() is not None, 120)
    if proc.poll() is not None:
        pytest.skip("the capture finished before it could be interrupted")
    proc.send_signal(sig)
    proc.wait(60)
    assert proc.returncode == code, proc.returncode
    assert wait_until(lambda: not staging_left(tmp_path), 5), staging_left(tmp_path)
    events = [json.loads(line) for line in proc.stdout.read().splitlines()]
    if out.exists():
        # The signal came after the bundle was swapped into place (those renames hold signals
        # back: capture/staging.py): the capture had published it and said so, and it is whole.
        assert [e for e in events if e.get("event") == "result"], events
        validate_bundle(out)
    # whatever the moment, nothing claims that nothing was published when something was
    said = " ".join(e.get("message", "") for e in events if e.get("event") == "error")
    assert not (out.exists() and "nothing" in said), said
