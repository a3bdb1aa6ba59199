"""edgespec: capture a model from a notebook cell into a bundle, and drive the toolchain
that builds it into a purpose-built bare-metal ARM64 image.

Importing this package imports no framework: PyTorch loads when a capture needs it.
"""
from __future__ import annotations

from .api import RunFailedError, build, run
# Importing the capture subpackage here, before `def capture` below, keeps `edgespec.capture` the
# function: a submodule binds its name on the package only when it is first imported.
from .capture.bundle_validation import validate_bundle
from .capture.tensorflow_coexist import protect as _protect_torch_tensorflow_coexistence
from .errors import (BundleError, CaptureError, DataDependentControlFlowError, EdgespecError, ExportFailedError,
                     ModelInputError, NoModelCallError, ToolchainError, TrainingModeError, UnsupportedOp,
                     UnsupportedOpsError)
from .version import __version__

# A kernel may import both PyTorch and TensorFlow: keep triton out once TensorFlow is in (see capture/tensorflow_coexist.py).
_protect_torch_tensorflow_coexistence()

__all__ = ["capture", "build", "run", "RunFailedError", "validate_bundle", "load_ipython_extension", "CaptureResult", "EdgespecError", "CaptureError",
           "BundleError", "DataDependentControlFlowError", "ExportFailedError", "ModelInputError", "NoModelCallError",
           "ToolchainError", "TrainingModeError", "UnsupportedOp", "UnsupportedOpsError", "__version__"]


def capture(model, example_inputs, *, name=None, out=None, entry=None, progress=None):
    """Capture a PyTorch model called on example_inputs into a bundle directory; see capture/torch/capture.py.
    A Keras model goes to capture/keras/capture.py (capture_keras) (example_inputs: an array or a list of arrays)."""
    import sys

    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, getattr(keras, "Model", ())):
        from .capture.keras.capture import capture_keras

        return capture_keras(model, example_inputs, name=name, out=out, entry=entry, progress=progress)
    from .capture.torch.capture import capture as capture_torch

    return capture_torch(model, example_inputs, name=name, out=out, entry=entry, progress=progress)


def load_ipython_extension(ipython) -> None:
    """`%load_ext edgespec` registers the `%%edgespec` cell magic."""
    from .notebook.magic import register_magics

    register_magics(ipython)


def __getattr__(name):
    if name == "CaptureResult":
        from .capture.result import CaptureResult

        return CaptureResult
    raise AttributeError(f"module 'edgespec' has no attribute {name!r}")
