"""`capture --out DIR` replaces only an earlier edgespec bundle, keeps the builds of an unchanged
bundle, says which builds it removes when the bundle changed, and never touches the user's files
(issue 10, problem 3)."""
import json
import os
import subprocess

import pytest
import torch

import edgespec
import user_models
from capture_helpers import REPO
from capture_safety_helpers import EDGESPEC, assert_user_error, events, run, snapshot, staging_dirs

MLP = f"{REPO / 'test' / 'python' / 'user_models.py'}:build_mlp"


def capture_mlp(out, seed=0):
    return run(["capture", MLP, "--input-shape", "2x16", "--seed", str(seed), "--out", str(out), "--json"])


def fake_build(bundle, name, recorded_bundle="../..", extra=()):
    build = bundle / "build" / name
    build.mkdir(parents=True)
    (build / "build.json").write_text(json.dumps({"format": "edgespec.build", "version": 1, "bundle": recorded_bundle}))
    (build / "image.elf").write_bytes(b"image")
    for file in extra:
        (build / file).write_text("the user's own file")
    return build


def test_a_foreign_graph_json_and_its_neighbours_are_left_alone(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "graph.json").write_text('{"name": "webpack"}')
    (site / "thesis.txt").write_text("precious")
    before = snapshot(tmp_path)
    done = run(["capture", MLP, "--input-shape", "2x16", "--out", str(site)], node=True)
    assert_user_error(done, str(site), "thesis.txt", "not part of a bundle")
    assert snapshot(tmp_path) == before

    (site / "thesis.txt").unlink()  # graph.json alone, of another format
    before = snapshot(tmp_path)
    done = run(["capture", MLP, "--input-shape", "2x16", "--out", str(site), "--json"])
    assert_user_error(done, "not an edgespec graph")
    assert snapshot(tmp_path) == before and staging_dirs(tmp_path) == []


def test_files_in_build_that_no_build_wrote_are_never_removed(tmp_path):
    out = tmp_path / "b"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    (out / "build" / "qemu-virt").mkdir(parents=True)
    (out / "build" / "qemu-virt" / "thesis.txt").write_text("precious")
    before = snapshot(tmp_path)
    done = capture_mlp(out, seed=5)
    assert_user_error(done, "build/qemu-virt", "not a build directory")
    assert snapshot(tmp_path) == before and staging_dirs(tmp_path) == []


def test_a_build_of_this_bundle_that_holds_user_files_stops_a_changed_capture(tmp_path):
    out = tmp_path / "b"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    fake_build(out, "host", extra=["notes.txt"])
    before = snapshot(tmp_path)
    with pytest.raises(edgespec.BundleError, match=r"build/host holds files that edgespec build did not write \(notes.txt\)"):
        edgespec.capture(user_models.build_mlp().eval(), torch.ones(2, 16), out=out)
    assert snapshot(tmp_path) == before and staging_dirs(tmp_path) == []


def test_builds_of_other_bundles_stay_and_a_running_build_is_waited_for(tmp_path):
    out = tmp_path / "b"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    other = fake_build(out, "other", recorded_bundle="../../../elsewhere", extra=["notes.txt"])
    kept = snapshot(other)
    result = edgespec.capture(user_models.build_mlp().eval(), torch.ones(2, 16), out=out)
    assert snapshot(out / "build" / "other") == kept and result.notes == []

    running = out / "build" / f".host.tmp-{os.getpid()}-abc"  # this process is alive: a build in progress
    running.mkdir()
    with pytest.raises(edgespec.BundleError, match=rf"a build is writing into .* \(process {os.getpid()}"):
        edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    assert running.is_dir()


def test_a_recapture_keeps_the_builds_of_an_unchanged_bundle_and_names_those_it_replaces(tmp_path):
    out = tmp_path / "b"
    assert capture_mlp(out).returncode == 0
    built = subprocess.run([*EDGESPEC, "build", str(out), "--target", "host"], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    ran = subprocess.run([*EDGESPEC, "run", str(out / "build" / "host")], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    (out / "build" / "host" / "build_mlp-host.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # the server's archive
    builds = snapshot(out / "build")
    assert {"host/run.json", "host/image.elf", "host/build.json"} <= set(builds)

    same = run(["capture", MLP, "--input-shape", "2x16", "--seed", "0", "--out", str(out)])  # the text output
    assert same.returncode == 0, same.stderr
    assert "already held this very bundle" in same.stdout and "build/host (with its run report run.json" in same.stdout
    assert snapshot(out / "build") == builds

    changed = capture_mlp(out, seed=1)
    assert changed.returncode == 0, changed.stderr
    warnings = [e["message"] for e in events(changed.stdout) if e["event"] == "log" and e["level"] == "warn"]
    assert len(warnings) == 1, changed.stdout
    assert "builds made from that one were removed: build/host (with its run report run.json and 1 archive " \
           "(build_mlp-host.zip))" in warnings[0]
    assert f"edgespec build {out}" in warnings[0]
    assert sorted(p.name for p in out.iterdir()) == ["graph.json", "intermediates.safetensors", "reference.safetensors",
                                                  "weights.safetensors"]
    edgespec.validate_bundle(out)
    assert staging_dirs(tmp_path) == []


def test_a_changed_bundle_says_so_in_the_text_output(tmp_path):
    out = tmp_path / "b"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    fake_build(out, "qemu-virt")
    done = run(["capture", MLP, "--input-shape", "2x16", "--seed", "3", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "removed: build/qemu-virt." in notes[0]
    assert not (out / "build").exists()


def test_the_same_model_given_another_way_keeps_its_builds_and_records_the_new_source(tmp_path):
    out = tmp_path / "b"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out, entry="models.py:build_mlp")
    build = snapshot(fake_build(out, "host"))
    again = edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out,
                             entry="/home/me/models.py:build_mlp")
    assert edgespec.validate_bundle(out)["source"]["entry"] == "/home/me/models.py:build_mlp"
    assert snapshot(out / "build" / "host") == build
    assert len(again.notes) == 1 and "only its source record changed), so its builds were kept: build/host" in again.notes[0]


def test_an_output_that_cannot_be_a_directory_is_refused_before_the_capture(tmp_path):
    (tmp_path / "afile").write_text("mine")
    os.symlink("loop_b", tmp_path / "loop_a")
    os.symlink("loop_a", tmp_path / "loop_b")
    for out, fragment in (("afile", "afile exists and is not a directory"),
                          ("afile/b", "afile is not a directory"),
                          ("loop_a/b", "loop_a is a symbolic link that leads nowhere")):
        done = run(["capture", "keras:MobileNetV2", "--out", out, "--json"], cwd=tmp_path)
        assert_user_error(done, fragment)
        assert [e["event"] for e in events(done.stdout)] == ["error"]  # refused before loading anything
    assert (tmp_path / "afile").read_text() == "mine"


def test_user_files_in_the_builds_of_an_unchanged_bundle_do_not_stop_the_capture(tmp_path):
    out = tmp_path / "b"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    fake_build(out, "host", extra=["notes.txt"])
    before = snapshot(tmp_path)
    result = edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)  # seeded: the same bundle
    assert snapshot(tmp_path) == before and "left as it was" in result.notes[0]
