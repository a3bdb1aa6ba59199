"""`capture --recalibrate N`: a random-weight classifier whose answer depends on its input."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from safetensors.numpy import load_file

from capture_helpers import REPO
from edgespec import ModelInputError, validate_bundle
from edgespec.capture.torch.model_source import load_model, randomize_batchnorm
from edgespec.capture.torch.recalibrate import recalibrate, recalibration_inputs

SHAPE = [1, 3, 64, 64]


def seeded_inputs(count, seed=2000):
    return torch.cat([torch.randn(SHAPE, generator=torch.Generator().manual_seed(seed + i)) for i in range(count)])


def resnet18():
    model, _ = load_model("torchvision:resnet18", 0)
    model.eval()
    randomize_batchnorm(model, 0)
    return model


def test_the_answer_depends_on_the_input_only_after_recalibration():
    model = resnet18()
    test = seeded_inputs(32)
    with torch.no_grad():
        before = len(set(model(test).argmax(1).tolist()))
    info = recalibrate(model, [SHAPE], 64, 0)
    with torch.no_grad():
        after = len(set(model(test).argmax(1).tolist()))
    assert before <= 4, "a random-weight model answers nearly one class"
    assert after >= 16, f"only {after} distinct classes over 32 inputs after recalibration"
    assert info == {"recalibration_inputs": 64, "recalibrated_batch_norms": 20, "centred_bias": "fc.bias"}
    assert not model.training and all(m.momentum == 0.1 for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_batch_norm_statistics_are_those_of_the_recalibration_inputs_and_the_mean_logit_is_zero():
    model = resnet18()
    recalibrate(model, [SHAPE], 64, 0)
    inputs = torch.cat([x for (x,) in recalibration_inputs([SHAPE], 64, 0)])
    with torch.no_grad():
        stem = model.conv1(inputs)
        np.testing.assert_allclose(model.bn1.running_mean.numpy(), stem.mean(dim=(0, 2, 3)).numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(model.bn1.running_var.numpy(), stem.var(dim=(0, 2, 3)).numpy(), rtol=1e-3)
        logits = torch.cat([model(x[None]) for x in inputs])
    assert logits.mean(dim=0).abs().max() < 1e-4 * logits.abs().max()


def test_models_it_cannot_recalibrate_get_a_clear_error():
    no_linear = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ModelInputError, match="last nn.Linear"):
        recalibrate(no_linear.eval(), [SHAPE], 8, 0)
    no_bias = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3, bias=False))
    with pytest.raises(ModelInputError, match="has none"):
        recalibrate(no_bias.eval(), [SHAPE], 8, 0)
    with pytest.raises(ModelInputError, match="at least 2"):
        recalibrate(resnet18(), [SHAPE], 1, 0)


def test_capture_cli_writes_the_recalibrated_model(tmp_path):
    out = tmp_path / "recalibrated"
    done = subprocess.run([sys.executable, "-m", "edgespec", "capture", "torchvision:resnet18", "--input-shape", "1x3x64x64",
                           "--recalibrate", "32", "--out", str(out), "--json"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.splitlines()[-1])["data"]
    assert data["recalibrated_batch_norms"] == 20 and data["centred_bias"] == "fc.bias" and data["recalibration_inputs"] == 32
    validate_bundle(out)
    model = resnet18()
    recalibrate(model, [SHAPE], 32, 0)
    stored = load_file(str(out / "weights.safetensors"))
    np.testing.assert_array_equal(stored["fc.bias"], model.fc.bias.detach().numpy())
    np.testing.assert_array_equal(stored["layer4.1.bn2.running_var"], model.layer4[1].bn2.running_var.numpy())


def test_capture_cli_refuses_too_few_inputs_without_a_stack_trace():
    done = subprocess.run([sys.executable, "-m", "edgespec", "capture", "torchvision:resnet18", "--input-shape", "1x3x64x64",
                           "--recalibrate", "1"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "at least 2 inputs" in done.stderr and "Traceback" not in done.stderr
