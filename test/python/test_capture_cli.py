"""`python -m edgespec capture` as a user runs it: real subprocesses, real models."""
import json
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file

from capture_helpers import REPO, line_of
from edgespec import validate_bundle
from edgespec.cli.main import main

USER_MODELS = "test/python/user_models.py"


def run_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "edgespec", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def events(stdout):
    return [json.loads(line) for line in stdout.splitlines()]


def test_torchvision_model_with_json_events(tmp_path):
    out = tmp_path / "mnv3"
    done = run_cli("capture", "torchvision:resnet18", "--input-shape", "1x3x64x64", "--seed", "0",
                   "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    stream = events(done.stdout)
    assert {e["event"] for e in stream} <= {"progress", "log", "result"}
    assert [e["stage"] for e in stream if e["event"] == "progress"][-1] == "capture"
    (result,) = [e for e in stream if e["event"] == "result"]
    data = result["data"]
    assert result["command"] == "capture" and data["bundle"] == str(out) and data["name"] == "resnet18"
    assert data["randomized_batch_norms"] == 20 and data["op_inventory"]["aten.convolution.default"] == 20
    graph = validate_bundle(out)
    assert graph["source"]["entry"] == "torchvision:resnet18"
    assert data["parameter_bytes"] == sum(a.nbytes for a in load_file(str(out / "weights.safetensors")).values())
    # batch norms were randomized: their statistics are not the identity's 0 and 1
    weights = load_file(str(out / "weights.safetensors"))
    assert not np.allclose(weights["bn1.running_var"], 1.0)
    assert graph["op_inventory"] == data["op_inventory"]


def test_batch_norm_randomization_can_be_turned_off(tmp_path, capsys):
    out = tmp_path / "plain"
    code = main(["capture", "torchvision:resnet18", "--input-shape", "1x3x64x64", "--out", str(out),
                 "--no-randomize-bn", "--json"])
    assert code == 0
    assert events(capsys.readouterr().out)[-1]["data"]["randomized_batch_norms"] == 0
    np.testing.assert_array_equal(load_file(str(out / "weights.safetensors"))["bn1.running_var"], 1.0)


def test_user_factory_human_output_and_default_location(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["capture", str(REPO / USER_MODELS) + ":build_small_cnn", "--input-shape", "1x3x32x32"]) == 0
    out = capsys.readouterr().out
    bundle = tmp_path / "edgespec-bundles" / "build_small_cnn"
    assert f"bundle      {bundle}" in out
    assert "parameters  13,096 bytes in 18 tensors" in out
    assert "aten.convolution.default" in out
    validate_bundle(bundle)


def test_the_same_seed_gives_the_same_bytes(tmp_path, monkeypatch, capsys):
    args = ["capture", f"{USER_MODELS}:build_small_cnn", "--input-shape", "1x3x16x16", "--seed", "7", "--name", "cnn"]
    done = run_cli(*args, "--out", str(tmp_path / "a"))  # one run in another process, one here
    assert done.returncode == 0, done.stderr
    monkeypatch.chdir(REPO)
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for file in ("graph.json", "weights.safetensors", "reference.safetensors"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


def test_unsupported_ops_exit_non_zero_with_one_clear_message(tmp_path):
    done = run_cli("capture", f"{USER_MODELS}:build_sort_head", "--input-shape", "1x3x8x8", "--out", str(tmp_path / "s"))
    assert done.returncode == 1
    sort_line = line_of(REPO / USER_MODELS, "torch.sort(")
    assert "edgespec: error: 2 operations outside the edgespec op vocabulary" in done.stderr
    assert f"aten.sort.default in the model's own forward at {USER_MODELS}:{sort_line}" in done.stderr
    assert "fix: " in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_unsupported_ops_as_a_json_error_event(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    code = main(["capture", f"{USER_MODELS}:build_sort_head", "--input-shape", "1x3x8x8", "--out", str(tmp_path / "s"),
                 "--json"])
    error = events(capsys.readouterr().out)[-1]
    assert code == 1 and error["event"] == "error" and error["code"] == "unsupported_ops"
    assert {d["framework_op"] for d in error["details"]} == {"aten.sort.default", "aten.cumsum.default"}


def test_usage_errors_exit_2_and_runtime_errors_exit_1(tmp_path):
    done = run_cli("capture", "torchvision:resnet18", "--bogus")
    assert done.returncode == 2 and "unrecognized arguments: --bogus" in done.stderr
    done = run_cli("capture", f"{USER_MODELS}:build_data_dependent", "--input-shape", "2x4", "--out", str(tmp_path / "x"))
    assert done.returncode == 1
    assert "control flow depends on the values of a tensor" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, message", [
    ([f"{USER_MODELS}:build_mlp"], "--input-shape is required for a model from your own code"),
    ([f"{USER_MODELS}:build_mlp", "--input-shape", "4by16"], "input shape '4by16' is not dimensions joined by x"),
    ([f"{USER_MODELS}:nothing", "--input-shape", "4x16"], "has no callable 'nothing'"),
    ([f"{USER_MODELS}:not_a_model", "--input-shape", "4x16"], "returned a int, not a torch.nn.Module"),
    (["missing.py:build", "--input-shape", "4x16"], "missing.py does not exist"),
    (["torchvision:mobilenet_v9"], "torchvision has no classification model 'mobilenet_v9'"),
    ([f"{USER_MODELS}:build_mlp", "--input-shape", "4x15"], "the model raised RuntimeError when called with float32[4, 15]"),
])
def test_bad_arguments_give_one_message(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(REPO)
    code = main(["capture", *args, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "fix: " in err
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_other_subcommands_go_to_the_toolchain_cli(torchvision_capture):
    if not (REPO / "lib" / "toolchain" / "cli.js").is_file():
        pytest.skip("the TypeScript toolchain is not built (npx tsc -p tsconfig.toolchain.json)")
    bundle = torchvision_capture("squeezenet1_1").path
    done = run_cli("inspect", str(bundle), "--json")
    assert done.returncode == 0, done.stderr
    (result,) = [e for e in events(done.stdout) if e["event"] == "result"]
    assert result["command"] == "inspect" and result["data"]["name"] == "squeezenet1_1"
