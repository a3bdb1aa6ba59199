"""A kernel that imported both PyTorch and TensorFlow can trace either (capture-facts.md:
TensorFlow + triton in one process segfault). Each scenario is a fresh IPython process."""
from __future__ import annotations

import importlib.util
import json

import pytest

from conftest import run_python

TORCH_CELL = """
import torch
from torch import nn
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
net(torch.randn(1, 3, 16, 16))
"""

KERAS_CELL = """
import numpy as np, keras
keras.utils.set_random_seed(0)
kmodel = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
kmodel(np.ones((1, 16, 16, 3), dtype="float32"))
"""

SCENARIO = """
import json, os, sys
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
shell.run_line_magic("load_ext", "edgespec")
magics = shell.magics_manager.registry["EdgespecMagics"]
traces = {{}}
for step in {steps!r}:
    if step.startswith("import "):
        assert shell.run_cell(step).success, step
    else:
        shell.run_cell_magic("edgespec", "trace --out " + os.path.join({out!r}, step), CELLS[step])
        traces[step] = [(m["name"], m["bundle"], m.get("error")) for m in magics.last_trace["models"]]
print("TRACES " + json.dumps(traces))
"""


def _run(steps, tmp_path):
    code = f"CELLS = {{'torch': {TORCH_CELL!r}, 'keras': {KERAS_CELL!r}}}\n" + SCENARIO.format(steps=steps, out=str(tmp_path))
    proc = run_python(code, cwd=tmp_path, timeout=300)
    line = next(line for line in proc.stdout.splitlines() if line.startswith("TRACES "))
    return json.loads(line[len("TRACES "):])


def _assert_captured(traces):
    for step, models in traces.items():
        assert len(models) == 1, (step, models)
        name, bundle, error = models[0]
        assert error is None and bundle, (step, error)


def test_tensorflow_imported_first_then_torch_traced_then_keras(tmp_path):
    traces = _run(["import tensorflow as tf, keras", "import torch, torchvision", "torch", "keras"], tmp_path)
    _assert_captured(traces)


def test_torch_imported_first_then_keras_traced_then_torch(tmp_path):
    traces = _run(["import torch, torchvision", "import tensorflow as tf, keras", "keras", "torch"], tmp_path)
    _assert_captured(traces)


def test_without_edgespec_the_same_imports_crash(tmp_path):
    """The hazard the two tests above guard against is real on this stack (segfault, not an exception)."""
    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed (CPU-only torch): TensorFlow and torch cannot collide this way")
    proc = run_python("import tensorflow, torchvision\nprint('survived')", cwd=tmp_path, check=False, timeout=120)
    assert proc.returncode != 0 and "survived" not in proc.stdout, \
        "importing tensorflow then torchvision no longer crashes: edgespec.capture.tensorflow_coexist may be unnecessary now"
