"""The battery's run cases: inputs that are not what they claim, builds that were tampered
with, guests that must not outlive the CLI, results that must not go stale."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from battery_helpers import CLI, assert_refused, edit_json, guest_pids, make_fifo, run_cli, run_dirs, wait_until

SHAPE = (1, 3, 16, 16)


def npy(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


def good_input(tmp_path: Path) -> np.ndarray:
    return np.random.default_rng(7).standard_normal(SHAPE).astype(np.float32)


# --- the build directory -----------------------------------------------------------------

def test_run_missing_dir(tmp_path):
    assert_refused(run_cli(["run", str(tmp_path / "nowhere")]), about=["nowhere"])


def test_run_dir_without_manifest(tmp_path):
    assert_refused(run_cli(["run", str(tmp_path)]), about=["build.json"])


def test_run_manifest_not_json(bundle):
    (bundle / "build" / "host" / "build.json").write_text("{")
    assert_refused(run_cli(["run", str(bundle / "build" / "host")]), about=["build.json"])


@pytest.mark.parametrize("image", ["../../../../../../bin/sh", "/bin/sh", "sub/../../x"])
def test_run_image_outside_build(bundle, image):
    edit_json(bundle / "build" / "host" / "build.json", lambda m: m.update(image=image))
    assert_refused(run_cli(["run", str(bundle / "build" / "host")]), about=["image"])


def test_run_image_symlink_outside_build(bundle):
    build = bundle / "build" / "host"
    image = json.loads((build / "build.json").read_text())["image"]
    (build / image).unlink()
    (build / image).symlink_to("/bin/true")
    assert_refused(run_cli(["run", str(build)]), about=["image"])


def test_run_modified_image(bundle):
    build = bundle / "build" / "host"
    image = build / json.loads((build / "build.json").read_text())["image"]
    data = bytearray(image.read_bytes())
    data[-1] ^= 1
    image.write_bytes(bytes(data))
    assert_refused(run_cli(["run", str(build)]), about=["image"])


@pytest.mark.parametrize("field,value", [("machine", "virt,dumpdtb=PWNED.dtb"), ("cpu", "cortex-a72 -trace"),
                                         ("memory", "1T"), ("inputAddress", "0x0,file=/etc/passwd")])
def test_run_qemu_fields_cannot_inject(bundle, field, value, tmp_path):
    build = bundle / "build" / "qemu-virt"
    manifest = json.loads((build / "build.json").read_text())
    key = {"inputAddress": next((k for k in manifest["qemu"] if "addr" in k.lower()), "input_address")}.get(field, field)
    manifest["qemu"][key] = value
    (build / "build.json").write_text(json.dumps(manifest))
    o = run_cli(["run", str(build)], cwd=tmp_path)
    assert_refused(o)
    assert not list(tmp_path.rglob("PWNED*")) and not list(build.rglob("PWNED*"))


# --- inputs ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_run_non_finite_input_is_counted(bundle, tmp_path, bad):
    """A non-finite input is counted in run.json; when it makes the outputs non-finite
    (the reference's are finite) the run fails and says why, else it is reported."""
    x = good_input(tmp_path)
    x[0, 0, 0, 0] = bad
    o = run_cli(["run", str(bundle / "build" / "host"), "--input", str(npy(tmp_path / "x.npy", x))], timeout=60)
    report = json.loads((bundle / "build" / "host" / "run.json").read_text())
    assert report["non_finite"]["inputs"] == 1, report
    if report["non_finite"]["outputs"]:
        error = assert_refused(o)
        assert "nan" in error["message"].lower() or "finite" in error["message"].lower(), error
        assert report["status"] != "ok", report
    else:
        assert o.returncode == 0, o.text()


def test_run_nan_output_fails(bundle, tmp_path):
    x = np.full(SHAPE, np.nan, np.float32)
    o = run_cli(["run", str(bundle / "build" / "host"), "--input", str(npy(tmp_path / "x.npy", x))], timeout=60)
    error = assert_refused(o)
    assert "nan" in error["message"].lower() or "finite" in error["message"].lower(), error
    assert json.loads((bundle / "build" / "host" / "run.json").read_text())["status"] != "ok"


def test_run_input_dev_zero(bundle):
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", "/dev/zero"], timeout=20), seconds=10)


def test_run_input_fifo(bundle, tmp_path):
    fifo = make_fifo(tmp_path / "in.npy")
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", str(fifo)], timeout=20), seconds=10)


def test_run_input_directory(bundle, tmp_path):
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", str(tmp_path)]))


def test_run_input_missing(bundle, tmp_path):
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", str(tmp_path / "none.npy")]), about=["none.npy"])


def test_run_input_huge_file(bundle, tmp_path):
    big = tmp_path / "big.npy"
    with open(big, "wb") as f:
        f.truncate(3 * 1024 ** 3)  # sparse: 3 GB that take no disk
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", str(big)], timeout=20), seconds=10)


def test_run_input_wrong_shape(bundle, tmp_path):
    x = np.zeros((1, 3, 8, 8), np.float32)
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", str(npy(tmp_path / "x.npy", x))]), about=["shape"])


def test_run_input_wrong_dtype(bundle, tmp_path):
    x = np.zeros(SHAPE, np.float64)
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", str(npy(tmp_path / "x.npy", x))]), about=["float64"])


def test_run_input_truncated_npy(bundle, tmp_path):
    path = npy(tmp_path / "x.npy", good_input(tmp_path))
    path.write_bytes(path.read_bytes()[:100])
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--input", str(path)]))


def test_bad_input_leaves_no_stale_ok(bundle, tmp_path):
    build = bundle / "build" / "host"
    ok = run_cli(["run", str(build)], timeout=60)
    assert ok.returncode == 0, ok.text()
    x = np.zeros((1, 3, 8, 8), np.float32)
    assert_refused(run_cli(["run", str(build), "--input", str(npy(tmp_path / "x.npy", x))]))
    run_json = build / "run.json"
    assert not run_json.exists() or json.loads(run_json.read_text())["status"] != "ok"


# --- the timeout -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "-5", "abc", "1e400"])
def test_run_bad_timeout(bundle, value):
    assert_refused(run_cli(["run", str(bundle / "build" / "host"), "--timeout", value]), code=2)


def test_run_huge_timeout_does_not_overflow(bundle):
    o = run_cli(["run", str(bundle / "build" / "qemu-virt"), "--timeout", "2147484"], timeout=120)
    if o.returncode == 0:
        assert o.events[-1]["event"] == "result", o.text()
    else:
        assert_refused(o, code=2, about=["timeout"])


# --- the guest and the CLI's end ---------------------------------------------------------

def test_killed_run_takes_its_guest_along(bundle, tmp_path):
    # a stream of inputs keeps the guest up for seconds (one inference lives ~0.1 s, which a
    # poll of /proc can miss); a run that still ends before its guest was seen is tried again
    steps = npy(tmp_path / "steps.npy", np.random.default_rng(3).standard_normal((4000, *SHAPE)).astype(np.float32))
    guests_before = set(guest_pids())
    runs_before = run_dirs()
    for attempt in range(3):
        proc = subprocess.Popen([*CLI, "run", str(bundle / "build" / "qemu-virt"), "--inputs", str(steps), "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = wait_until(lambda: set(guest_pids()) - guests_before or proc.poll() is not None, 90)
        if seen and proc.poll() is None:
            break
        proc.kill()
        out, _ = proc.communicate()
        assert proc.returncode == 0, f"the run failed before its guest was seen:\n{out[-3000:]}"
    else:
        pytest.fail("three runs ended before their QEMU was seen running")
    proc.kill()
    proc.communicate()
    assert wait_until(lambda: not (set(guest_pids()) - guests_before), 3), "QEMU outlived the killed CLI"
    # the next run sweeps the dead run's directory
    again = run_cli(["run", str(bundle / "build" / "qemu-virt")], timeout=120)
    assert again.returncode == 0, again.text()
    assert wait_until(lambda: not (run_dirs() - runs_before), 5), run_dirs() - runs_before


def test_run_into_closed_pipe(bundle):
    runs_before = run_dirs()
    proc = subprocess.run(f"{' '.join(CLI)} run {bundle / 'build' / 'host'} | head -c 5", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert "Error" not in proc.stderr and "EPIPE" not in proc.stderr, proc.stderr
    assert wait_until(lambda: not (run_dirs() - runs_before), 5), run_dirs() - runs_before


def test_run_ok_after_all(bundle):
    """The battery's own control: the untouched build runs and agrees."""
    o = run_cli(["run", str(bundle / "build" / "qemu-virt")], timeout=120)
    assert o.returncode == 0 and o.events[-1]["event"] == "result", o.text()
