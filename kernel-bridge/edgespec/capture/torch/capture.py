"""edgespec.capture for PyTorch: model + example inputs -> a validated bundle directory."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Tuple

import torch

from ...version import __version__
from .lowering import lower_exported_program, torch_dtype_name
from .attention import ATTENTION_RULES
from .rules import RULES
from ..bundle import write_bundle
from ...errors import ModelInputError, TrainingModeError
from ..names import derived_bundle_name, resolve_bundle_name
from .op_inventory import OpCounter
from ..result import CaptureResult
from ..user_code import user_location
from .export import METHOD, export_core_aten
from .intermediates import torch_intermediates

Progress = Callable[[str, int, int], None]
_STAGES = ("run", "export", "lower", "intermediates", "write")


def capture(model: torch.nn.Module, example_inputs, *, name: Optional[str] = None, out=None,
            entry: Optional[str] = None, progress: Optional[Progress] = None) -> CaptureResult:
    """Capture `model` called on `example_inputs` (a tensor or a tuple of tensors) into a bundle.

    The model runs once eagerly under torch.no_grad (its output is the reference, and
    every ATen op it dispatches is counted), then it is exported with torch.export and
    lowered onto the edgespec op vocabulary; the exported program runs once more to keep
    its value of every intermediate tensor (torch/intermediates.py). The bundle goes to `out` (default:
    edgespec-bundles/<name>); `progress(stage, done, total)` hears about each stage.

    Raises a CaptureError subclass with a message and a hint: UnsupportedOpsError (listing
    every op outside the vocabulary with its module path and source line),
    DataDependentControlFlowError, TrainingModeError, ModelInputError, ExportFailedError.
    """
    inputs = as_input_tuple(example_inputs)
    check_capturable(model, inputs)
    _report(progress, "run")
    reference_inputs = tuple(t.detach().clone() for t in inputs)
    counter = OpCounter()
    try:
        with torch.no_grad(), counter:
            outputs = model(*inputs)
    except Exception as e:  # the model's own failure, e.g. inputs of the wrong shape
        shapes = ", ".join(f"{str(t.dtype).replace('torch.', '')}{list(t.shape)}" for t in inputs)
        message = str(e).strip().splitlines()[0] if str(e).strip() else ""
        where = user_location(e.__traceback__)
        raise ModelInputError(f"the model raised {type(e).__name__} when called with {shapes}: {message}"
                              + (f" (at {where})" if where else ""),
                              hint="check the example inputs (--input-shape on the command line): the model must "
                                   "run on them eagerly") from None
    return capture_call(model, reference_inputs, outputs, counter.counts, name=name, out=out, entry=entry,
                        progress=progress)


def capture_call(model: torch.nn.Module, inputs: Sequence[torch.Tensor], outputs: Any, op_inventory: Mapping[str, int],
                 *, name: Optional[str] = None, out=None, entry: Optional[str] = None,
                 progress: Optional[Progress] = None) -> CaptureResult:
    """Capture a call that has already run: its inputs, outputs and dispatched-op counts are the reference."""
    inputs = as_input_tuple(inputs)
    check_capturable(model, inputs)
    flat_outputs = _flat_outputs(outputs)
    name, name_note = resolve_bundle_name(name, type(model).__name__.lower())
    _report(progress, "export")
    program = export_core_aten(model, inputs)
    _report(progress, "lower")
    lowered = lower_exported_program(program, {**RULES, **ATTENTION_RULES})
    builder = lowered.builder
    _check_outputs_agree(builder.outputs, flat_outputs)
    source = {"framework": "pytorch", "framework_version": torch.__version__, "method": METHOD,
              "producer": f"edgespec {__version__}", "model_class": f"{type(model).__module__}.{type(model).__qualname__}"}
    if entry:
        source["entry"] = entry
    graph = builder.document(name, source, dict(Counter(op_inventory)))
    _report(progress, "intermediates")
    intermediates = torch_intermediates(program, inputs, builder)
    _report(progress, "write")
    written = write_bundle(Path(out) if out is not None else default_bundle_dir(name), graph, builder.weights,
                           {f"input.{i}": _array(t) for i, t in enumerate(inputs)},
                           {f"output.{i}": _array(t) for i, t in enumerate(flat_outputs)}, intermediates.arrays)
    return CaptureResult.of_bundle(name, written.path, graph["op_inventory"], builder,
                                   ([name_note] if name_note else []) + builder.notes + intermediates.notes
                                   + written.notes)


def default_bundle_dir(name: str) -> Path:
    return Path.cwd() / "edgespec-bundles" / name


def bundle_name(wanted: str) -> str:
    """A valid bundle name made from a variable, class or file name (names.derived_bundle_name)."""
    return derived_bundle_name(wanted)[0]


def as_input_tuple(example_inputs) -> Tuple[torch.Tensor, ...]:
    inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else tuple(example_inputs)
    if not inputs:
        raise ModelInputError("no example inputs were given", hint="pass the tensor(s) the model is called with")
    for index, value in enumerate(inputs):
        if not isinstance(value, torch.Tensor):
            raise ModelInputError(f"example input {index} is a {type(value).__name__}, not a tensor",
                                  hint="pass the model's inputs as a tensor or a tuple of tensors")
        if torch_dtype_name(value.dtype) is None:
            raise ModelInputError(f"example input {index} is {str(value.dtype).replace('torch.', '')}",
                                  hint="use float32 inputs (x.float()) and a float32 model (model.float())")
        if value.device.type != "cpu":
            raise ModelInputError(f"example input {index} is on {value.device}", hint="capture on the CPU: x.cpu(), model.cpu()")
    return inputs


def check_capturable(model, inputs: Sequence[torch.Tensor]) -> None:
    if not isinstance(model, torch.nn.Module):
        raise ModelInputError(f"expected a torch.nn.Module, got a {type(model).__name__}",
                              hint="pass the model object (an nn.Module instance)")
    training = [path for path, module in model.named_modules() if module.training]
    if training:
        label = type(model).__name__
        which = f"the model {label}" if "" in training else f"submodules of {label} ({', '.join(training[:5])})"
        raise TrainingModeError(
            f"{which} {'is' if '' in training else 'are'} in training mode; capture needs inference behaviour "
            "(batch norm with running statistics, no dropout)",
            hint="call model.eval() before capturing")
    for param in list(model.parameters())[:1] + list(model.buffers())[:1]:
        if param.device.type != "cpu":
            raise ModelInputError(f"the model's weights are on {param.device}", hint="capture on the CPU: model.cpu()")


def _flat_outputs(outputs) -> list:
    leaves, _ = torch.utils._pytree.tree_flatten(outputs)
    for index, leaf in enumerate(leaves):
        if not isinstance(leaf, torch.Tensor):
            raise ModelInputError(f"output {index} of the model is a {type(leaf).__name__}, not a tensor",
                                  hint="capture a module that returns tensors (or a tuple/list/dict of tensors)")
    if not leaves:
        raise ModelInputError("the model returned no tensors", hint="capture a module that returns its result")
    return leaves


def _check_outputs_agree(graph_outputs, flat_outputs) -> None:
    if len(graph_outputs) != len(flat_outputs):
        raise ModelInputError(f"the exported graph has {len(graph_outputs)} outputs but the model returned {len(flat_outputs)}",
                              hint="the model must return the same structure on every call")
    for io, tensor in zip(graph_outputs, flat_outputs):
        if list(tensor.shape) != io["shape"]:
            raise ModelInputError(f"{io['name']} is {list(tensor.shape)} eagerly but {io['shape']} in the exported graph",
                                  hint="the model must compute the same shapes on every call")


def _array(tensor: torch.Tensor):
    return tensor.detach().to("cpu").contiguous().numpy().copy()


def _report(progress: Optional[Progress], stage: str) -> None:
    if progress is not None:
        progress(stage, _STAGES.index(stage) + 1, len(_STAGES))
