"""Build a model from a command-line spec: `torchvision:NAME` or `path/to/file.py:factory` (or `package.module:factory`)."""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import List, Tuple

import torch

from .errors import ModelInputError


def parse_shape(text: str) -> List[int]:
    """'1x3x224x224' -> [1, 3, 224, 224]."""
    if not re.fullmatch(r"\d+(x\d+)*", text.strip()):
        raise ModelInputError(f"input shape '{text}' is not dimensions joined by x",
                              hint="write it like 1x3x224x224")
    dims = [int(d) for d in text.strip().split("x")]
    if any(d == 0 for d in dims):
        raise ModelInputError(f"input shape '{text}' has a zero dimension", hint="every dimension must be at least 1")
    return dims


def load_model(spec: str, seed: int) -> Tuple[torch.nn.Module, str]:
    """The model named by `spec`, built after seeding torch; returns (model, default bundle name)."""
    torch.manual_seed(seed)
    if spec.startswith("torchvision:"):
        return _torchvision_model(spec.split(":", 1)[1]), spec.split(":", 1)[1]
    if ":" not in spec:
        raise ModelInputError(f"model '{spec}' is neither torchvision:NAME nor FILE.py:FACTORY",
                              hint="for example torchvision:mobilenet_v2 or my_model.py:build")
    location, factory_name = spec.rsplit(":", 1)
    factory = getattr(_import(location), factory_name, None)
    if factory is None or not callable(factory):
        raise ModelInputError(f"{location} has no callable '{factory_name}'",
                              hint="name a function (or class) that returns the model, e.g. my_model.py:build")
    model = factory()
    if not isinstance(model, torch.nn.Module):
        raise ModelInputError(f"{spec} returned a {type(model).__name__}, not a torch.nn.Module",
                              hint="the factory must return the model instance")
    return model, factory_name


def _torchvision_model(name: str) -> torch.nn.Module:
    try:
        import torchvision
    except ImportError:
        raise ModelInputError("torchvision is not installed", hint="pip install torchvision") from None
    available = torchvision.models.list_models(module=torchvision.models)
    if name not in available:
        close = [m for m in available if name.split("_")[0] in m][:5]
        raise ModelInputError(f"torchvision has no classification model '{name}'",
                              hint=f"choose one of torchvision.models.list_models(), e.g. {', '.join(close or available[:5])}")
    return torchvision.models.get_model(name, weights=None)


def _import(location: str):
    if location.endswith(".py"):
        path = Path(location).resolve()
        if not path.is_file():
            raise ModelInputError(f"{location} does not exist", hint="give the path of the Python file that defines the model")
        module_name = f"edgespec_user_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.path.insert(0, str(path.parent))  # let the file import its neighbours
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
        return module
    try:
        return importlib.import_module(location)
    except ImportError as e:
        raise ModelInputError(f"cannot import {location}: {e}", hint="give FILE.py:FACTORY or an importable module") from None


def randomize_batchnorm(model: torch.nn.Module, seed: int) -> int:
    """Give every batch norm seeded, non-trivial statistics and affine parameters; returns how many.

    A model built with weights=None has batch norms that are identities (mean 0, var 1,
    weight 1, bias 0). A bundle of such a model cannot show a wrong batch-norm fold or a
    misread eps: any bug there would still give the right answer. The ranges keep
    activations of deep networks in a sane range.
    """
    generator = torch.Generator().manual_seed(seed + 1)
    count = 0
    with torch.no_grad():
        for module in model.modules():
            if not isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                continue
            channels = module.num_features
            uniform = lambda low, high: low + (high - low) * torch.rand(channels, generator=generator)  # noqa: E731
            if module.running_mean is not None:
                module.running_mean.copy_(0.1 * torch.randn(channels, generator=generator))
                module.running_var.copy_(uniform(0.5, 1.5))
            if module.affine:
                module.weight.copy_(uniform(0.5, 1.5))
                module.bias.copy_(0.1 * torch.randn(channels, generator=generator))
            count += 1
    return count


# The input is drawn from its own stream so that it does not depend on how many random
# numbers the model's construction consumed.
DEFAULT_SEED_OFFSET = 1000
