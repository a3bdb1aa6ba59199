"""The fast subset of the two sweeps (npm run zoo, npm run conformance) that CI runs: the same
code paths as the full sweeps, on cases that stand for their families."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sweeps"))

import onnx_conformance  # noqa: E402
import torchvision_zoo  # noqa: E402

CONFORMANCE_SUBSET = ["test_Conv2d_depthwise_strided", "test_Conv2d_groups", "test_MaxPool2d_stride_padding_dilation", "test_PixelShuffle",
                      "test_LogSoftmax", "test_operator_chunk", "test_operator_reduced_mean_keepdim", "test_operator_permute2"]


@pytest.mark.parametrize("case", CONFORMANCE_SUBSET)
def test_onnx_backend_case_agrees_with_its_expected_output(case, tmp_path):
    [path] = onnx_conformance.all_cases(f"^{case}$")
    result = onnx_conformance.run_case(path, tmp_path)
    assert result.status == "pass", (result.stage, result.message)


def test_the_conformance_table_counts_cases_that_are_not_3d():
    results = [onnx_conformance.CaseResult("a/test_Conv2d", "pass"), onnx_conformance.CaseResult("a/test_Conv3d", "fail", "capture", "3-D")]
    table = onnx_conformance.markdown(results, {"a/test_Conv3d"}, 1.0)
    assert "**1 of 1 cases that are not 3-D pass (100 %)**" in table and "| a/test_Conv3d | yes | fail | capture | 3-D |" in table


@pytest.mark.parametrize("name", ["squeezenet1_1"])
def test_torchvision_zoo_model_agrees(name, tmp_path):
    result = torchvision_zoo.run_model("classification", name, tmp_path)
    assert result.status == "pass", (result.stage, result.message)
    assert result.detail["input"] == [1, 3, 224, 224]
