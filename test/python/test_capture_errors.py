"""Bad input gives one clear error naming the op or tensor, the module and the source line,
and what to do; no partial bundle is left behind."""
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import edgespec
import user_models
from capture_helpers import source_of
from edgespec import (DataDependentControlFlowError, ModelInputError, TrainingModeError, UnsupportedOpsError,
                      validate_bundle)

USER_MODELS = Path(user_models.__file__)


def test_ops_outside_the_vocabulary_are_all_listed_with_module_and_line(tmp_path):
    with pytest.raises(UnsupportedOpsError) as caught:
        edgespec.capture(user_models.build_sort_head().eval(), torch.randn(1, 3, 8, 8), out=tmp_path / "sort")
    error = caught.value
    found = {(op.framework_op, op.module, op.source) for op in error.ops}
    assert found == {("aten.sort.default", "", source_of(USER_MODELS, "torch.sort(")),
                     ("aten.cumsum.default", "", source_of(USER_MODELS, "torch.cumsum("))}
    assert "2 operations outside the edgespec op vocabulary" in error.message
    assert "aten.sort.default" in error.message and "aten.cumsum.default" in error.message
    assert "vocabulary" in error.hint
    assert not tmp_path.joinpath("sort").exists() and list(tmp_path.iterdir()) == []


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        # bicubic upsampling and a 3-D convolution stay outside the vocabulary
        self.up = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Upsample(scale_factor=2, mode="bicubic"), nn.Unflatten(1, (1, 4)),
                                nn.Conv3d(1, 2, 1))

    def forward(self, x):
        return self.up(x)


def test_unsupported_ops_inside_submodules_name_the_module_path(tmp_path):
    with pytest.raises(UnsupportedOpsError) as caught:
        edgespec.capture(Decoder().eval(), torch.randn(1, 3, 4, 4), out=tmp_path / "decoder")
    by_module = {op.module: op for op in caught.value.ops}
    assert set(by_module) == {"up.1", "up.3"}
    assert "aten.index.Tensor" in {op.framework_op for op in caught.value.ops if op.module == "up.1"}
    assert by_module["up.3"].framework_op == "aten.convolution.default"
    assert by_module["up.3"].reason == "3-D convolution; the vocabulary has 1-D and 2-D convolution only"
    assert "module 'up.3'" in caught.value.message


def test_data_dependent_control_flow_names_the_line(tmp_path):
    with pytest.raises(DataDependentControlFlowError) as caught:
        edgespec.capture(user_models.build_data_dependent().eval(), torch.randn(2, 4), out=tmp_path / "dd")
    assert f"{source_of(USER_MODELS, 'if y.sum() > 0')} (if y.sum() > 0:)" in caught.value.message
    assert "torch.where" in caught.value.hint
    assert list(tmp_path.iterdir()) == []


def test_data_dependent_shapes_are_refused(tmp_path):
    class Masked(nn.Module):
        def forward(self, x):
            return x[x > 0] * 2

    with pytest.raises(DataDependentControlFlowError) as caught:
        edgespec.capture(Masked().eval(), torch.randn(8), out=tmp_path / "masked")
    assert "depends on the values in a tensor" in caught.value.message
    assert source_of(Path(__file__), "return x[x > 0] * 2") in caught.value.message


def test_a_model_in_training_mode_is_refused(tmp_path):
    with pytest.raises(TrainingModeError) as caught:
        edgespec.capture(user_models.build_untrained_mode(), torch.randn(2, 16), out=tmp_path / "train")
    assert "the model MLP is in training mode" in caught.value.message
    assert caught.value.hint == "call model.eval() before capturing"

    model = user_models.build_mlp().eval()
    model.body[2].train()
    with pytest.raises(TrainingModeError) as caught:
        edgespec.capture(model, torch.randn(2, 16), out=tmp_path / "train")
    assert "submodules of MLP (body.2) are in training mode" in caught.value.message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("inputs, message", [
    (([1.0, 2.0],), "example input 0 is a list, not a tensor"),
    ((torch.randn(2, 16, dtype=torch.float64),), "example input 0 is float64"),
    ((torch.randn(2, 15),), "the model raised RuntimeError when called with float32[2, 15]"),
])
def test_bad_example_inputs(tmp_path, inputs, message):
    with pytest.raises(ModelInputError) as caught:
        edgespec.capture(user_models.build_mlp().eval(), inputs, out=tmp_path / "bad")
    assert message in caught.value.message


def test_not_a_module(tmp_path):
    with pytest.raises(ModelInputError, match="expected a torch.nn.Module, got a function"):
        edgespec.capture(lambda x: x, torch.randn(2), out=tmp_path / "fn")


def test_a_failed_capture_leaves_an_earlier_bundle_untouched(tmp_path):
    out = tmp_path / "model"
    first = edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(UnsupportedOpsError):
        edgespec.capture(user_models.build_sort_head().eval(), torch.randn(1, 3, 8, 8), out=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    validate_bundle(first.path)


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path, monkeypatch):
    from edgespec.capture import bundle as bundle_module

    def failing_validation(path):
        assert (Path(path) / "weights.safetensors").is_file()  # the files were written when it failed
        raise edgespec.BundleError("injected failure after writing")

    monkeypatch.setattr(bundle_module, "validate_bundle", failing_validation)
    with pytest.raises(edgespec.BundleError, match="injected"):
        edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_capture_refuses_to_overwrite_a_directory_with_other_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(edgespec.BundleError, match=r"already holds files that are not part of a bundle \(notes.txt\)"):
        edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_capture_again_replaces_an_earlier_bundle_and_the_builds_made_from_it(tmp_path):
    out = tmp_path / "model"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    host = out / "build" / "host"
    host.mkdir(parents=True)
    (host / "build.json").write_text('{"format": "edgespec.build", "bundle": "../.."}')
    (host / "image.elf").write_bytes(b"stale image of the old bundle")
    again = edgespec.capture(user_models.build_mlp().eval(), torch.ones(2, 16), out=out)  # another reference
    assert not (out / "build").exists()
    assert any("build/host" in note and "removed" in note for note in again.notes)
    validate_bundle(out)
    (out / "build").write_text("a file named build is not the build stage's")
    with pytest.raises(edgespec.BundleError, match=r"holds build, which is not the directory of its builds"):
        edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)


def test_other_export_failures_name_the_line(tmp_path):
    class ThroughNumpy(nn.Module):
        def forward(self, x):
            return torch.from_numpy(x.numpy() * 2)

    with pytest.raises(edgespec.ExportFailedError) as caught:
        edgespec.capture(ThroughNumpy().eval(), torch.randn(3), out=tmp_path / "np")
    where = source_of(Path(__file__), "torch.from_numpy(x.numpy() * 2)")
    assert caught.value.message.startswith(f"torch.export could not trace the model (at {where}): ")
    assert "torch.export" in caught.value.hint
    assert list(tmp_path.iterdir()) == []
