"""Integer inputs and outputs from PyTorch (issue 13): an nn.Embedding fed int64 token ids the
model is given, index_select with run-time indices, argmax as a model output (int64) and
torch.pow with a tensor exponent. Captured onto take / argmax / pow_tensor, agreeing with
PyTorch in the NumPy interpreter, built for the host and qemu-virt and run: the float outputs
within 1e-4, the argmax output exactly (run.json lists it in exact_outputs). An index outside the
table stops the image with the bad-input status and a message naming the input, the index and
the bound; a float array for the int64 input is refused before the image starts; an int8 build
keeps the ids integers."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch
import torch.nn as nn

import edgespec
from capture_helpers import REPO
from edgespec import validate_bundle
from numpy_interpreter import reference_outputs, run_bundle


class TokenModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(12, 8)
        self.head = nn.Linear(8, 5)
        self.register_buffer("table", torch.linspace(-1, 1, 30).reshape(10, 3))

    def forward(self, ids, rows, x):
        h = self.embed(ids) * x                      # [1, 6, 8]
        logits = self.head(h)                        # [1, 6, 5]
        picked = torch.index_select(self.table, 0, rows)  # [4, 3], rows an int64 input
        powered = torch.pow(x.abs() + 0.5, torch.sigmoid(logits[..., :1]))
        return logits.argmax(-1), powered, picked


def _cli(*args):
    return subprocess.run(["node", str(REPO / "bin" / "edgespec"), *args, "--json"], capture_output=True, text=True,
                          timeout=600, cwd=REPO)


def _events(proc):
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _result(proc):
    return [e["data"] for e in _events(proc) if e["event"] == "result"]


def _inputs():
    ids = torch.tensor([[1, 11, 0, 5, 5, 7]], dtype=torch.int64)
    rows = torch.tensor([9, 0, 3, 3], dtype=torch.int64)
    x = torch.randn(1, 6, 1, generator=torch.Generator().manual_seed(3))
    return ids, rows, x


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.manual_seed(0)
    model = TokenModel().eval()
    return edgespec.capture(model, _inputs(), name="tokens", out=tmp_path_factory.mktemp("tokens") / "bundle").path


@pytest.fixture(scope="module")
def host_build(bundle, tmp_path_factory):
    build = tmp_path_factory.mktemp("tokens-host") / "build"
    proc = _cli("build", str(bundle), "--target", "host", "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return build


def test_integer_tensors_keep_their_dtype_in_graph_json(bundle):
    graph = validate_bundle(bundle)
    assert [(io["name"], io["dtype"]) for io in graph["inputs"]] == [("ids", "int64"), ("rows", "int64"), ("x", "float32")]
    assert [io["dtype"] for io in graph["outputs"]] == ["int64", "float32", "float32"]
    takes = [n for n in graph["nodes"] if n["op"] == "take"]
    assert sorted((n["framework_ops"][0], n["attrs"]["axis"]) for n in takes) == [
        ("aten.embedding.default", 0), ("aten.index_select.default", 0)]
    assert {n["op"] for n in graph["nodes"]} >= {"take", "argmax", "pow_tensor"}


def test_the_interpreter_agrees_with_pytorch(bundle):
    got = run_bundle(bundle)
    want = reference_outputs(bundle)
    assert got[0].dtype.kind == "i" and np.array_equal(got[0], want[0])
    for g, w in zip(got[1:], want[1:]):
        assert np.abs(g - w).max() <= 1e-5 * np.abs(w).max()


def test_host_image_agrees_and_compares_the_argmax_output_exactly(bundle, host_build):
    model_c = (host_build / "model.c").read_text()
    for fn in ("es_take_f32(", "es_cast_f32_i64(", "es_pow_tensor_f32(", "es_argmax_f32("):
        assert fn in model_c, fn
    manifest = json.loads((host_build / "build.json").read_text())
    assert [(i["dtype"], i["bytes"]) for i in manifest["inputs"]] == [("int64", 48), ("int64", 32), ("float32", 24)]
    assert manifest["outputs"][0]["dtype"] == "int64" and manifest["outputs"][0]["bytes"] == 48
    [report] = _result(_cli("run", str(host_build)))
    assert report["status"] == "ok", report
    assert report["agreement"]["within_tolerance"]
    assert report["agreement"]["exact_outputs"] == ["output.0"]
    assert report["outputs"][0]["dtype"] == "int64"
    got = np.load(host_build / report["outputs"][0]["file"])
    assert got.dtype == np.int64 and np.array_equal(got, reference_outputs(bundle)[0])
    assert report["agreement"]["max_abs_error"] <= 1e-4 * report["agreement"]["max_abs_reference"]


def test_qemu_virt_image_agrees_and_refuses_an_index_outside_the_table(bundle, tmp_path):
    build = tmp_path / "build-qv"
    proc = _cli("build", str(bundle), "--target", "qemu-virt", "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [report] = _result(_cli("run", str(build)))
    assert report["status"] == "ok", report
    assert report["agreement"]["within_tolerance"] and report["agreement"]["exact_outputs"] == ["output.0"]
    _, rows, x = _inputs()
    bad = _input_file(tmp_path / "bad.safetensors", np.array([[1, 2, 3, 0, -1, 0]], np.int64), rows.numpy(), x.numpy())
    [error] = [e for e in _events(_cli("run", str(build), "--input", str(bad))) if e["event"] == "error"]
    assert "input ids: index -1 (element 4) is outside [0, 12)" in error["message"], error
    assert json.loads((build / "run.json").read_text())["exit_code"] == 2


LONG = pytest.mark.skipif(os.environ.get("EDGESPEC_LONG_TESTS") != "1", reason="about 30 s each: EDGESPEC_LONG_TESTS=1")


@pytest.mark.parametrize("target", ["rpi3", pytest.param("efi", marks=LONG), pytest.param("linux-vm", marks=LONG)])
def test_a_board_image_refuses_an_index_outside_the_table_as_host_and_qemu_virt_do(bundle, tmp_path, target):
    """rpi3 answers the input frame with a bad-input ERROR, efi and linux-vm print it on their console:
    the same words as on host and qemu-virt, and run.json's exit code 2 (bad input). rpi3 always
    (its serving loop, platform/common/serve.c, is qemu-virt's and efi's too); efi's one-shot
    runner and linux-vm's console reading with EDGESPEC_LONG_TESTS=1."""
    build = tmp_path / f"build-{target}"
    proc = _cli("build", str(bundle), "--target", target, "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    _, rows, x = _inputs()
    bad = _input_file(tmp_path / "bad.safetensors", np.array([[1, 2, 12, 0, 0, 0]], np.int64), rows.numpy(), x.numpy())
    [error] = [e for e in _events(_cli("run", str(build), "--input", str(bad))) if e["event"] == "error"]
    assert "input ids: index 12 (element 2) is outside [0, 12)" in error["message"], error
    report = json.loads((build / "run.json").read_text())
    assert report["exit_code"] == 2 and report["status"] != "ok", report


def _input_file(path, ids, rows, x):
    from safetensors.numpy import save_file

    save_file({"ids": ids, "rows": rows, "x": x}, str(path))
    return path


def test_an_index_outside_the_table_stops_the_image_clearly(bundle, host_build, tmp_path):
    """Token 12 of a 12-row embedding: exit status 2 (bad input), the input, element, index and bound named."""
    _, rows, x = _inputs()
    bad = _input_file(tmp_path / "bad.safetensors", np.array([[1, 2, 12, 0, 0, 0]], np.int64), rows.numpy(), x.numpy())
    proc = _cli("run", str(host_build), "--input", str(bad))
    assert proc.returncode != 0
    [error] = [e for e in _events(proc) if e["event"] == "error"]
    assert "input ids: index 12 (element 2) is outside [0, 12)" in error["message"], error
    report = json.loads((host_build / "run.json").read_text())
    assert report["exit_code"] == 2 and report["status"] != "ok"
    # index_select's rows: -1 is out of range too (PyTorch refuses negative indices)
    bad = _input_file(tmp_path / "bad-rows.safetensors", _inputs()[0].numpy(), np.array([0, -1, 2, 3], np.int64), x.numpy())
    [error] = [e for e in _events(_cli("run", str(host_build), "--input", str(bad))) if e["event"] == "error"]
    assert "input rows: index -1 (element 1) is outside [0, 10)" in error["message"], error


def test_a_float_array_for_the_int64_input_is_refused(host_build, tmp_path):
    ids, rows, x = _inputs()
    wrong = _input_file(tmp_path / "float-ids.safetensors", ids.numpy().astype(np.float32), rows.numpy(), x.numpy())
    proc = _cli("run", str(host_build), "--input", str(wrong))
    assert proc.returncode != 0
    [error] = [e for e in _events(proc) if e["event"] == "error"]
    assert "tensor 'ids' is float32 but the model's input 'ids' (int64 [1, 6]" in error["message"], error
    good = _input_file(tmp_path / "good.safetensors", np.array([[3, 3, 3, 3, 3, 11]], np.int64), rows.numpy(), x.numpy())
    [report] = _result(_cli("run", str(host_build), "--input", str(good)))
    assert report["status"] == "ok" and report["outputs"][0]["dtype"] == "int64"


def test_an_int8_build_keeps_the_ids_integers(bundle, tmp_path):
    build = tmp_path / "build-int8"
    proc = _cli("build", str(bundle), "--target", "host", "--dtype", "int8", "--out", str(build))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    model_c = (build / "model.c").read_text()
    assert "es_take_s8(" in model_c
    manifest = json.loads((build / "build.json").read_text())
    assert [i["dtype"] for i in manifest["inputs"]] == ["int64", "int64", "float32"]
    [report] = _result(_cli("run", str(build)))
    assert report["status"] == "ok", report
    assert report["agreement"]["exact_outputs"] == ["output.0"]
    assert report["agreement"]["max_abs_error"] <= 0.05 * report["agreement"]["max_abs_reference"]
