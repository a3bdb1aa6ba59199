"""scripts/int8-agreement.py fails loudly on a model that answers one class, and measures one that does not."""
import json
import subprocess
import sys

from capture_helpers import REPO

SCRIPT = REPO / "scripts" / "int8-agreement.py"


def capture(out, *extra):
    subprocess.run([sys.executable, "-m", "edgespec", "capture", "torchvision:resnet18", "--input-shape", "1x3x64x64",
                    "--seed", "0", "--out", str(out), *extra], cwd=REPO, check=True, capture_output=True, timeout=300)


def agreement(bundle, work):
    done = subprocess.run([sys.executable, str(SCRIPT), str(bundle), "--model", "torchvision:resnet18", "--count", "12",
                           "--calibration-count", "4", "--min-distinct", "5", "--work", str(work)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    return done, json.loads((work / "agreement.json").read_text())


def test_a_random_weight_model_is_reported_vacuous_and_a_recalibrated_one_is_not(tmp_path):
    capture(tmp_path / "random")
    done, result = agreement(tmp_path / "random", tmp_path / "work-random")
    assert done.returncode == 1
    assert "VACUOUS" in done.stderr and result["vacuous"]
    assert result["distinct_fp32_top1_classes"] < 5

    capture(tmp_path / "recalibrated", "--recalibrate", "32")
    _, result = agreement(tmp_path / "recalibrated", tmp_path / "work-recalibrated")
    assert not result["vacuous"] and result["distinct_fp32_top1_classes"] >= 5
    assert result["test_seeds"] == "2000..2011" and result["input_kind"] == "randn"
    assert len(result["per_input"]) == 12
