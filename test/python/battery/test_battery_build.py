"""The battery's build and inspect cases: foreign output directories, hostile and broken
bundles, files that are not files, signals in the middle of a build."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from battery_helpers import CLI, assert_refused, edit_json, make_fifo, run_cli, snapshot, staging_left, wait_until


def first_node(graph: dict, op: str) -> dict:
    return next(n for n in graph["nodes"] if n["op"] == op)


def fresh_bundle(bundle: Path) -> Path:
    """The bundle without its builds: a build from it compiles (used where a build must run)."""
    shutil.rmtree(bundle / "build")
    return bundle

@contextmanager
def tmpfs(path: Path, options: str):
    """A tmpfs mounted on `path` with `options` for the block (skips the case where mounting is not allowed)."""
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)]).returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) here")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)])



# --- where a build may write -------------------------------------------------------------

def test_build_out_with_foreign_build_json_is_kept(bundle, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "build.json").write_text('{"name":"webpack"}')
    (site / "thesis.txt").write_text("precious")
    before = snapshot(site)
    assert_refused(run_cli(["build", str(bundle), "--out", str(site)]), about=[str(site)])
    assert snapshot(site) == before


def test_build_out_with_edgespec_build_json_and_user_files_is_kept(bundle, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(bundle / "build" / "host", site)
    (site / "notes.md").write_text("mine")
    before = snapshot(site)
    assert_refused(run_cli(["build", str(bundle), "--target", "host", "--out", str(site)]), about=[str(site)])
    assert snapshot(site) == before


def test_build_out_nonempty_user_dir_is_kept(bundle, tmp_path):
    site = tmp_path / "site"
    (site / "src").mkdir(parents=True)
    (site / "src" / "main.c").write_text("int main(){}")
    before = snapshot(site)
    assert_refused(run_cli(["build", str(bundle), "--out", str(site)]))
    assert snapshot(site) == before


def test_build_out_is_a_file(bundle, tmp_path):
    target = tmp_path / "image.txt"
    target.write_text("mine")
    assert_refused(run_cli(["build", str(bundle), "--out", str(target)]))
    assert target.read_text() == "mine"


def test_build_out_on_read_only_filesystem(bundle, tmp_path):
    with tmpfs(tmp_path / "ro", "size=1m,ro") as ro:
        error = assert_refused(run_cli(["build", str(fresh_bundle(bundle)), "--target", "host", "--out", str(ro / "b")]))
        assert "read-only" in error["message"].lower() or "erofs" in error["message"].lower(), error


def test_build_out_on_full_disk(bundle, tmp_path):
    with tmpfs(tmp_path / "small", "size=64k") as small:
        error = assert_refused(run_cli(["build", str(fresh_bundle(bundle)), "--target", "host", "--out", str(small / "b")], timeout=240),
                               seconds=240)
        text = (error["message"] + error["hint"]).lower()
        assert "space" in text or "enospc" in text, error
        # Only the failed build's log may be kept beside the output, when it fits once the
        # staging directory is gone (it depends on where the disk filled); the error names it.
        left = [p for p in small.iterdir()]
        assert [p.name for p in left] in ([], ["b.failed-build.log"]), f"left in the full directory: {left}"
        if left:
            assert str(left[0]) in error["message"] + error["hint"], error
            assert left[0].read_text().startswith("# edgespec build "), "the kept log is not a whole build.log"


def test_rebuild_replaces_own_build_and_keeps_nothing_stale(bundle):
    out = bundle / "build" / "host"
    (out / "run.json").write_text('{"status":"ok"}')
    built = run_cli(["build", str(bundle), "--target", "host"], timeout=240)
    assert built.returncode == 0, built.text()
    assert json.loads((out / "build.json").read_text())["format"] == "edgespec.build"


# --- bundles that are broken or hostile --------------------------------------------------

def test_bundle_missing(tmp_path):
    assert_refused(run_cli(["build", str(tmp_path / "nowhere")]), about=["nowhere"])


def test_bundle_without_graph(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_refused(run_cli(["inspect", str(tmp_path / "empty")]), about=["graph.json"])


def test_graph_not_json(bundle):
    (bundle / "graph.json").write_text("{ this is not json")
    assert_refused(run_cli(["inspect", str(bundle)]), about=["graph.json"])


def test_graph_deeply_nested(bundle):
    (bundle / "graph.json").write_text("[" * 100000 + "]" * 100000)
    assert_refused(run_cli(["inspect", str(bundle)]), about=["graph.json"])


def test_graph_wrong_format(bundle):
    edit_json(bundle / "graph.json", lambda g: g.update(format="something.else"))
    assert_refused(run_cli(["inspect", str(bundle)]), about=["format"])


@pytest.mark.parametrize("hostile", [
    'x" >&2; exit 2; fi; touch PWNED; if false; then echo "',
    "$(touch PWNED)",
    "`touch PWNED`",
    "a'b",
    "x\ny",
    "*/ int pwned; /*",
    "<script>alert(1)</script>",
    "../../etc/passwd",
])
def test_hostile_input_name_is_refused(bundle, hostile, tmp_path):
    edit_json(bundle / "graph.json", lambda g: g["inputs"][0].update(name=hostile))
    for command in ("inspect", "build"):
        assert_refused(run_cli([command, str(bundle), *(["--out", str(tmp_path / "b")] if command == "build" else [])]),
                       about=["name"])
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()


def test_hostile_model_name_is_refused(bundle):
    edit_json(bundle / "graph.json", lambda g: g.update(name="m; touch PWNED"))
    assert_refused(run_cli(["inspect", str(bundle)]), about=["name"])


@pytest.mark.parametrize("stride,word", [("a", "stride"), ([0, 0], "stride"), ([-1, 1], "stride"), ([1], "stride")])
def test_bad_conv_stride(bundle, stride, word, tmp_path):
    edit_json(bundle / "graph.json", lambda g: first_node(g, "conv2d")["attrs"].update(stride=stride))
    node = first_node(json.loads((bundle / "graph.json").read_text()), "conv2d")["name"]
    for command in ("inspect", "build"):
        extra = ["--out", str(tmp_path / "b")] if command == "build" else []
        assert_refused(run_cli([command, str(bundle), *extra]), about=[word, node])


def test_negative_padding(bundle):
    edit_json(bundle / "graph.json", lambda g: first_node(g, "conv2d")["attrs"].update(padding=[-1, -1]))
    assert_refused(run_cli(["inspect", str(bundle)]), about=["padding"])


def test_huge_shape(bundle):
    def grow(g):
        name = g["inputs"][0]["tensor"]
        g["inputs"][0]["shape"] = [2 ** 31, 2 ** 31]
        g["tensors"][name]["shape"] = [2 ** 31, 2 ** 31]
    edit_json(bundle / "graph.json", grow)
    assert_refused(run_cli(["inspect", str(bundle)]))


def test_unknown_op(bundle):
    edit_json(bundle / "graph.json", lambda g: g["nodes"][0].update(op="rm_rf"))
    assert_refused(run_cli(["inspect", str(bundle)]), about=["rm_rf"])


def test_dangling_tensor(bundle):
    edit_json(bundle / "graph.json", lambda g: g["nodes"][0]["inputs"].__setitem__(0, "no_such_tensor"))
    assert_refused(run_cli(["inspect", str(bundle)]), about=["no_such_tensor"])


def test_truncated_weights(bundle):
    data = (bundle / "weights.safetensors").read_bytes()
    (bundle / "weights.safetensors").write_bytes(data[: len(data) // 2])
    assert_refused(run_cli(["inspect", str(bundle)]), about=["weights.safetensors"])


def test_tampered_weights(bundle):
    data = bytearray((bundle / "weights.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (bundle / "weights.safetensors").write_bytes(bytes(data))
    assert_refused(run_cli(["inspect", str(bundle)]), about=["weights.safetensors"])


@pytest.mark.parametrize("name", ["weights.safetensors", "reference.safetensors", "graph.json"])
def test_fifo_in_bundle(bundle, name):
    (bundle / name).unlink()
    make_fifo(bundle / name)
    assert_refused(run_cli(["inspect", str(bundle)], timeout=20), about=[name], seconds=15)


def test_weights_is_a_directory(bundle):
    (bundle / "weights.safetensors").unlink()
    (bundle / "weights.safetensors").mkdir()
    assert_refused(run_cli(["inspect", str(bundle)]), about=["weights.safetensors"])


def test_weights_symlink_to_dev_zero(bundle):
    (bundle / "weights.safetensors").unlink()
    (bundle / "weights.safetensors").symlink_to("/dev/zero")
    assert_refused(run_cli(["inspect", str(bundle)], timeout=20), about=["weights.safetensors"], seconds=15)


# --- usage -------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--target", "pdp11"], ["--dtype", "int16"], ["--kernel-variant", "turbo"]])
def test_bad_build_options(bundle, args):
    assert_refused(run_cli(["build", str(bundle), *args]), code=2)


def test_calibration_missing(bundle, tmp_path):
    assert_refused(run_cli(["build", str(bundle), "--dtype", "int8", "--calibration", str(tmp_path / "nope.safetensors"),
                            "--out", str(tmp_path / "b")]), about=["nope"])


# --- signals -----------------------------------------------------------------------------

def start_build(bundle: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "build", str(bundle), "--target", "qemu-virt", "--out", str(out), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_compile(proc: subprocess.Popen) -> None:
    for line in proc.stdout:
        if '"stage":"compile"' in line:
            return
    raise AssertionError(f"the build never compiled: {proc.stderr.read()}")


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_build_interrupted_leaves_previous_build(bundle, tmp_path, sig, code):
    out = bundle / "build" / "qemu-virt"
    before = snapshot(out)
    os.environ.pop("EDGESPEC_CACHE_DIR", None)
    proc = start_build(bundle, out)
    wait_for_compile(proc)
    proc.send_signal(sig)
    proc.wait(30)
    assert proc.returncode == code
    assert wait_until(lambda: not staging_left(bundle), 5), staging_left(bundle)
    assert snapshot(out) == before


def test_build_killed_is_swept_by_the_next(bundle, tmp_path):
    out = tmp_path / "killed"
    proc = start_build(bundle, out)
    wait_for_compile(proc)
    proc.kill()
    proc.wait(30)
    time.sleep(0.5)
    again = run_cli(["build", str(bundle), "--target", "host", "--out", str(out)], timeout=240)
    assert again.returncode == 0, again.text()
    assert not staging_left(tmp_path), staging_left(tmp_path)
