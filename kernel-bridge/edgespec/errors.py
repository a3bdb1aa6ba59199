"""Errors a person can act on: what went wrong (message) and what to do (hint).

The CLI and the IPython magic print these as one clear message, never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional


class EdgespecError(Exception):
    code = "error"

    def __init__(self, message: str, hint: Optional[str] = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        return self.message + (f"\n  fix: {self.hint}" if self.hint else "")

    def to_event(self) -> Dict[str, Any]:
        event: Dict[str, Any] = {"event": "error", "code": self.code, "message": self.message}
        if self.hint:
            event["hint"] = self.hint
        if self.details is not None:
            event["details"] = self.details
        return event


class CaptureError(EdgespecError):
    """Capture could not turn the model into a bundle."""

    code = "capture_failed"


@dataclass(frozen=True)
class UnsupportedOp:
    framework_op: str
    module: str
    source: Optional[str]
    reason: Optional[str] = None
    count: int = 1

    def describe(self) -> str:
        where = f"module '{self.module}'" if self.module else "the model's own forward"
        text = f"{self.framework_op} in {where}"
        if self.source:
            text += f" at {self.source}"
        if self.count > 1:
            text += f" ({self.count} times)"
        if self.reason:
            text += f": {self.reason}"
        return text

    def to_dict(self) -> Dict[str, Any]:
        return {"framework_op": self.framework_op, "module": self.module, "source": self.source,
                "reason": self.reason, "count": self.count}


class UnsupportedOpsError(CaptureError):
    code = "unsupported_ops"

    def __init__(self, ops: List[UnsupportedOp]):
        self.ops = ops
        lines = [f"{len(ops)} operation{'s' if len(ops) != 1 else ''} outside the edgespec op vocabulary:"]
        lines += [f"  - {op.describe()}" for op in ops]
        super().__init__(
            "\n".join(lines),
            hint="rewrite these parts of the model with ops from the vocabulary (src/common/ops.json, docs/ops.md), "
                 "or keep them outside the captured module",
            details=[op.to_dict() for op in ops],
        )


class DataDependentControlFlowError(CaptureError):
    code = "data_dependent"


class TrainingModeError(CaptureError):
    code = "training_mode"


class NoModelCallError(CaptureError):
    code = "no_model_call"


class ModelInputError(CaptureError):
    """The model or its example inputs are not something capture can take."""

    code = "bad_input"


class ExportFailedError(CaptureError):
    code = "export_failed"


class BundleError(CaptureError):
    """A bundle on disk is missing, malformed, truncated or tampered with."""

    code = "invalid_bundle"


class BundleWriteError(BundleError):
    """The file system refused the bundle: no space, read-only, no permission; the message names the path and errno."""

    code = "write_failed"


class ToolchainError(EdgespecError):
    """The TypeScript toolchain CLI is missing or reported an error."""

    code = "toolchain"

    def __init__(self, message: str, hint: Optional[str] = None, details: Any = None, code: Optional[str] = None):
        super().__init__(message, hint, details)
        if code:
            self.code = code
