"""edgespec.toolchain finds the TypeScript CLI and relays its --json events."""
import shutil

import pytest

from capture_helpers import REPO
from edgespec import ToolchainError
from edgespec.toolchain import find_cli, run_cli

needs_built_cli = pytest.mark.skipif(not (REPO / "lib" / "toolchain" / "cli.js").is_file(),
                                     reason="the TypeScript toolchain is not built (npx tsc -p tsconfig.toolchain.json)")


def test_edgespec_cli_env_must_name_a_file(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGESPEC_CLI", str(tmp_path / "nope"))
    with pytest.raises(ToolchainError, match="EDGESPEC_CLI is .*nope, which is not a file") as caught:
        find_cli()
    assert "unset it" in caught.value.hint


def test_the_repository_cli_is_found_and_run_with_node(monkeypatch):
    monkeypatch.delenv("EDGESPEC_CLI", raising=False)
    command = find_cli()
    assert command[-1] == str(REPO / "bin" / "edgespec")
    assert command[0] == shutil.which("node")


@needs_built_cli
def test_both_sides_validate_a_captured_bundle(torchvision_capture):
    bundle = torchvision_capture("resnet18").path
    seen = []
    run = run_cli(["inspect", str(bundle)], on_event=seen.append)
    assert run.returncode == 0 and seen == run.events
    assert run.result["name"] == "resnet18"
    assert run.result["node_count"] == 69


@needs_built_cli
def test_a_toolchain_error_becomes_a_toolchain_error(tmp_path, torchvision_capture):
    bundle = tmp_path / "tampered"
    shutil.copytree(torchvision_capture("squeezenet1_1").path, bundle)
    weights = bundle / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ToolchainError) as caught:
        run_cli(["inspect", str(bundle)])
    assert "weights.safetensors" in caught.value.message
    assert caught.value.code != "toolchain"  # the CLI's own error code came through
    run = run_cli(["inspect", str(bundle)], check=False)
    assert run.returncode == 1 and run.events[-1]["event"] == "error"


@needs_built_cli
def test_both_sides_validate_a_user_model_bundle(tmp_path):
    import torch

    import edgespec
    import user_models

    bundle = edgespec.capture(user_models.build_small_cnn().eval(), torch.randn(1, 3, 20, 20), out=tmp_path / "cnn").path
    run = run_cli(["inspect", str(bundle)])
    assert run.result["name"] == "smallcnn" and run.result["node_count"] == len(edgespec.validate_bundle(bundle)["nodes"])


def test_a_timed_out_command_is_stopped_with_everything_it_started(monkeypatch, tmp_path):
    # A stand-in CLI that starts a long child (as `edgespec run` starts QEMU) and never finishes.
    import os
    import time

    child_pid_file = tmp_path / "child.pid"
    script = tmp_path / "slow-cli"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {child_pid_file}\nwait\n")
    script.chmod(0o755)
    monkeypatch.setenv("EDGESPEC_CLI", str(script))
    started = time.monotonic()
    with pytest.raises(ToolchainError, match="did not finish in time"):
        run_cli(["run", "somewhere"], timeout=1.5)
    assert time.monotonic() - started < 15
    child = int(child_pid_file.read_text())
    for _ in range(50):  # the kill is sent; give the kernel a moment to reap
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the CLI's child {child} outlived the timeout")
