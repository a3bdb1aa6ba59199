"""Let PyTorch and TensorFlow live in one process (a notebook kernel that imported both).

Measured (torch 2.14.1 CUDA build, tensorflow-cpu 2.21.0): once TensorFlow is imported,
anything that loads triton (torchvision, torch.export, torch._dynamo) kills the process
with a segfault, because the two bring different copies of LLVM. Loading triton *before*
TensorFlow is safe, and so is never loading triton after it: with
`sys.modules['triton'] = None` torch treats triton as absent and torch.export,
torchvision and the edgespec capture work unchanged (triton only serves GPU kernels).

So the rule is: when TensorFlow is being imported and triton is not loaded yet, block
triton for the rest of the process. `protect()` applies the rule now (TensorFlow already
imported) and installs an import hook that applies it the moment TensorFlow is imported
later. It never imports either framework itself.
"""
from __future__ import annotations

import importlib.abc
import sys
from typing import Optional

_TENSORFLOW_PACKAGES = ("tensorflow", "keras", "tf_keras")


def block_triton_if_tensorflow_loaded() -> bool:
    """Apply the rule now; True when triton is (now) blocked."""
    if any(name in sys.modules for name in _TENSORFLOW_PACKAGES):
        return _block_triton()
    return sys.modules.get("triton", False) is None


def block_triton_before_tensorflow_import() -> None:
    """Call right before edgespec itself imports TensorFlow."""
    _block_triton()


def _block_triton() -> bool:
    if "triton" in sys.modules:
        return sys.modules["triton"] is None  # already loaded before TensorFlow: safe as it is
    sys.modules["triton"] = None
    return True


class _TensorFlowImportWatcher(importlib.abc.MetaPathFinder):
    """Finds nothing; only notices that TensorFlow (or Keras, which imports it) is about to load."""

    def find_spec(self, fullname: str, path, target=None) -> Optional[object]:
        if fullname in _TENSORFLOW_PACKAGES:
            _block_triton()
        return None


def protect() -> None:
    block_triton_if_tensorflow_loaded()
    if not any(isinstance(finder, _TensorFlowImportWatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowImportWatcher())
