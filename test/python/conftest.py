"""Shared fixtures of the capture tests: each torchvision model is built, seeded and captured
once per session; one IPython shell with the extension loaded."""
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _isolate_this_session() -> None:
    """Tests run in several pytest-xdist workers at once. Each worker tags the processes it
    starts (the tag is inherited by the CLI, its guard and QEMU) and gets a TMPDIR of its own,
    so a check for leftover guests or run directories sees only what this worker started."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # a worker's own tag, not the one it inherits from the xdist controller that started it
    if worker != "main" or "EDGESPEC_TEST_TAG" not in os.environ:
        os.environ["EDGESPEC_TEST_TAG"] = f"{worker}-{os.getpid()}"
    if worker != "main" and "EDGESPEC_TEST_TMPDIR" not in os.environ:
        private = tempfile.mkdtemp(prefix=f"edgespec-tests-{worker}-")
        os.environ["EDGESPEC_TEST_TMPDIR"] = os.environ["TMPDIR"] = private
        tempfile.tempdir = None
        atexit.register(shutil.rmtree, private, True)


_isolate_this_session()

from capture_helpers import SEED, Captured  # noqa: E402


@pytest.fixture(scope="session")
def torchvision_capture(tmp_path_factory) -> Callable[[str], Captured]:
    """torchvision model NAME (weights=None, seed 0, batch norms randomized) captured into a bundle."""
    import torch

    import edgespec
    from edgespec.capture.torch.model_source import load_model, randomize_batchnorm

    root = tmp_path_factory.mktemp("torchvision")
    cache = {}

    def get(name: str) -> Captured:
        if name not in cache:
            model, _ = load_model(f"torchvision:{name}", SEED)
            model.eval()
            randomize_batchnorm(model, SEED)
            x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(SEED + 1000))
            result = edgespec.capture(model, x, name=name, out=root / name, entry=f"torchvision:{name}")
            cache[name] = Captured(model, (x,), result)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def ipython_shell():
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "edgespec")
    return shell
