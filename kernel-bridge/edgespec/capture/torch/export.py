"""torch.export a model and decompose it to core ATen, with export failures made readable."""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import traceback
import warnings
from typing import Iterator, Optional, Sequence

import torch

from ...errors import DataDependentControlFlowError, ExportFailedError
from ..provenance import short_path, stack_frames

# Kept whole: the vocabulary has these ops and the kernels compute them in one pass.
KEPT_WHOLE = ("hardswish", "hardsigmoid", "silu", "gelu", "softplus", "mish", "_prelu_kernel",
              "upsample_nearest2d", "_upsample_nearest_exact2d", "upsample_bilinear2d",
              "reflection_pad1d", "reflection_pad2d", "replication_pad1d", "replication_pad2d",
              "scaled_dot_product_attention")

_DATA_DEPENDENT_ERRORS = {"GuardOnDataDependentSymNode", "DataDependentOutputException",
                          "DynamicOutputShapeException", "PendingUnbackedSymbolNotFound"}

METHOD = "torch.export+core_aten"


def export_core_aten(model: torch.nn.Module, inputs: Sequence[torch.Tensor]):
    with _quiet_torch():
        try:
            program = torch.export.export(model, tuple(inputs))
        except Exception as e:  # torch raises many types here; each becomes one clear message
            raise translate_export_error(e) from None
        table = torch.export.default_decompositions()
        for name in KEPT_WHOLE:
            packet = getattr(torch.ops.aten, name)
            for overload in packet.overloads():
                table.pop(getattr(packet, overload), None)
        return program.run_decompositions(table)


def translate_export_error(error: Exception) -> Exception:
    text = str(error)
    where = _failing_call(text) or _innermost_model_frame(error)
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & _DATA_DEPENDENT_ERRORS or "data-dependent" in text or "data dependent" in text:
        location = f" at {where}" if where else ""
        return DataDependentControlFlowError(
            f"the model's control flow depends on the values of a tensor{location}; "
            "edgespec captures one fixed graph, so branches and loops may depend on shapes but not on data",
            hint="compute both branches and select with torch.where, or move the data-dependent decision "
                 "out of the captured module",
            details={"source": where, "torch_error": type(error).__name__},
        )
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    location = f" (at {where})" if where else ""
    full = f"\n{text}" if os.environ.get("EDGESPEC_DEBUG") else ""
    return ExportFailedError(
        f"torch.export could not trace the model{location}: {first_line}{full}",
        hint="the model must be traceable by torch.export (see https://pytorch.org/docs/stable/export.html); "
             "set EDGESPEC_DEBUG=1 for torch's full message",
        details={"source": where, "torch_error": type(error).__name__, "torch_message": text[:4000]},
    )


def _failing_call(text: str) -> Optional[str]:
    section = text.split("The following call raised this error:", 1)
    frames = stack_frames(section[1] if len(section) > 1 else "")
    if not frames:
        return None
    path, line, _ = frames[-1]
    code = re.search(rf'line {line}, in [^\n]+\n\s+([^\n]+)', section[1])
    return f"{short_path(path)}:{line}" + (f" ({code.group(1).strip()})" if code else "")


def _innermost_model_frame(error: Exception) -> Optional[str]:
    """file:line of the deepest frame of the failure that is model code rather than torch."""
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep  # edgespec
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(f.filename).startswith((torch_dir, here))]
    return f"{short_path(frames[-1].filename)}:{frames[-1].lineno}" if frames else None


@contextlib.contextmanager
def _quiet_torch() -> Iterator[None]:
    """torch.export logs, warns and prints partial graphs to stderr while it works; the user sees
    our messages instead (EDGESPEC_DEBUG=1 lets torch speak)."""
    if os.environ.get("EDGESPEC_DEBUG"):
        yield
        return
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict) if n.startswith("torch")]
    loggers.append(logging.getLogger("torch"))
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in levels:
            lg.setLevel(level)
