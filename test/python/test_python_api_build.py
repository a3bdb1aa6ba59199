"""edgespec.build / edgespec.run from Python pass the build options a notebook user needs."""
import json

import numpy as np
import pytest
import torch
import torch.nn as nn

import edgespec
from capture_helpers import REPO
from edgespec import ToolchainError

pytestmark = pytest.mark.skipif(not (REPO / "lib" / "toolchain" / "cli.js").is_file(),
                                reason="the TypeScript toolchain is not built (npx tsc -p tsconfig.toolchain.json)")


def small_classifier():
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 1), nn.ReLU6(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)).eval()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "bundle"
    return edgespec.capture(small_classifier(), torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)),
                            out=out, name="small_classifier").path


def test_an_int8_host_build_with_calibration_and_profile_runs_and_agrees(bundle, tmp_path):
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    for i in range(4):
        np.save(calibration / f"{i}.npy", torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(100 + i)).numpy())
    events = []
    built = edgespec.build(bundle, target="host", out=tmp_path / "int8", dtype="int8", calibration=calibration,
                           profile=True, on_event=events.append)
    manifest = json.loads((tmp_path / "int8" / "build.json").read_text())
    assert built["manifest"]["dtype"] == manifest["dtype"] == "int8"
    assert any(e.get("stage") == "calibrate" for e in events if e.get("event") == "progress")
    report = edgespec.run(built["dir"])
    assert report["status"] == "ok" and report["agreement"]["top1_match"] and report["dtype"] == "int8"
    assert report["profile"]["steps"], "a profiling build reports per-step counts"


def test_the_portable_kernel_variant_is_recorded(bundle, tmp_path):
    built = edgespec.build(bundle, out=tmp_path / "portable", kernel_variant="portable")
    assert built["manifest"]["kernel_variant"] == "portable"


def test_a_bad_dtype_is_the_cli_s_clear_error(bundle, tmp_path):
    with pytest.raises(ToolchainError, match="int16"):
        edgespec.build(bundle, target="host", out=tmp_path / "bad", dtype="int16")
    assert not (tmp_path / "bad").exists()
