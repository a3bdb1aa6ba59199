"""Build a model from a command-line spec: `torchvision:NAME` or `path/to/file.py:factory` (or `package.module:factory`)."""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import torch

from .. import input_shape
from ...errors import ModelInputError
from ..user_code import exception_text, readable_file, syntax_error, user_location


def parse_shape(text: str) -> List[int]:
    """'1x3x224x224' -> [1, 3, 224, 224] (bounded: input_shape.parse_shape)."""
    return input_shape.parse_shape(text, "1x3x224x224")


def load_model(spec: str, seed: int) -> Tuple[torch.nn.Module, str]:
    """The model named by `spec`, built after seeding torch; returns (model, default bundle name)."""
    torch.manual_seed(seed)
    if spec.startswith("torchvision:"):
        return _torchvision_model(spec.split(":", 1)[1]), spec.split(":", 1)[1]
    if ":" not in spec:
        raise ModelInputError(f"model '{spec}' is neither torchvision:NAME nor FILE.py:FACTORY",
                              hint="for example torchvision:mobilenet_v2 or my_model.py:build")
    location, factory_name = spec.rsplit(":", 1)
    module = _import(location)
    factory = getattr(module, factory_name, None)
    if factory is None or not callable(factory):
        raise ModelInputError(f"{location} has no callable '{factory_name}'",
                              hint="name a function (or class) that returns the model, e.g. my_model.py:build")
    model = _call_factory(factory, factory_name, getattr(module, "__file__", None))
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
        path = readable_file(location, "the Python file that defines the model").resolve()
        module_name = f"edgespec_user_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.path.insert(0, str(path.parent))  # let the file import its neighbours
        try:
            with _users_code(f"importing {location}", location, str(path)):
                spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
        return module
    try:
        with _users_code(f"importing {location}", location, None):
            return importlib.import_module(location)
    except ModuleNotFoundError as e:  # only the module itself: _users_code reports failures inside it
        raise ModelInputError(f"cannot import {location}: {e}",
                              hint="give FILE.py:FACTORY or an importable module") from None


class _users_code:
    """Turns an exception of the user's code (import or factory call) into a ModelInputError naming file:line."""

    def __init__(self, doing: str, importing: str, user_file: Optional[str]):
        self.doing, self.importing, self.user_file = doing, importing, user_file

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if e is None or isinstance(e, (KeyboardInterrupt, ModelInputError)) or not isinstance(e, (Exception, SystemExit)):
            return False
        if isinstance(e, ModuleNotFoundError) and self.user_file is None and e.name and \
                (self.importing == e.name or self.importing.startswith(e.name + ".")):
            return False  # the module itself is missing: _import says so
        if isinstance(e, SyntaxError):
            raise syntax_error(e, self.doing) from None
        where = user_location(tb, self.user_file)
        at = f" at {where}" if where else ""
        if isinstance(e, SystemExit):
            raise ModelInputError(f"{self.doing} called sys.exit({e.code!r}){at}",
                                  hint="keep script code under `if __name__ == \"__main__\":` so that importing the "
                                       "file only defines the model") from None
        raise ModelInputError(f"{self.doing} raised {exception_text(e)}{at}",
                              hint=f"fix the error{at or ' in your code'}; capture runs it to build the model") from None


def _call_factory(factory, name: str, user_file: Optional[str]) -> torch.nn.Module:
    with _users_code(f"calling your factory {name}()", "", user_file):
        return factory()


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
