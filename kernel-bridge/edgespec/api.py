"""Python API over the edgespec CLI: `build` a bundle into an image and `run` the image.

Python never re-implements the toolchain (DESIGN.md): each call runs the TypeScript CLI with
`--json` (found and started by edgespec.toolchain: EDGESPEC_CLI, else the repository's
bin/edgespec run with node), relays its progress and log events to `on_event`, and returns
the data of its `result` event as a dict. A failure arrives as the CLI's `error` event and
is raised as a ToolchainError carrying the CLI's code, message and hint.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

from .errors import ToolchainError
from .toolchain import run_cli

__all__ = ["build", "run", "RunFailedError"]

EventHandler = Callable[[Dict[str, Any]], None]
PathLike = Union[str, "os.PathLike[str]"]


class RunFailedError(ToolchainError):
    """The image ran but the run failed (fault, timeout, error) or disagreed with the reference.

    `report` is the run report (run.json) the CLI wrote, with the console log and, where the
    guest faulted, the exception class, address and symbol.
    """

    def __init__(self, message: str, hint: Optional[str], details: Any, code: str, report: Dict[str, Any]):
        super().__init__(message, hint, details, code=code)
        self.report = report


def build(bundle: PathLike, target: str = "qemu-virt", out: Optional[PathLike] = None,
          on_event: Optional[EventHandler] = None, *, dtype: Optional[str] = None,
          calibration: Optional[PathLike] = None, profile: bool = False,
          kernel_variant: Optional[str] = None) -> Dict[str, Any]:
    """Build the bundle directory into an image for `target` (`qemu-virt`, `host` or `linux`).

    As `edgespec build`: `dtype` "float32" or "int8" (post-training static quantization;
    default: float32, or int8 for a bundle captured from an int8 .tflite), `calibration` a
    .safetensors file or a directory of .npy inputs for int8, `profile` counts each layer,
    `kernel_variant` "portable" leaves out the hand-written NEON kernels.
    Returns the build command's result: {"dir": the build directory, "manifest": build.json, "totals": the footprint totals}.
    """
    args = ["build", os.fspath(bundle), "--target", target]
    if out is not None:
        args += ["--out", os.fspath(out)]
    if dtype is not None:
        args += ["--dtype", dtype]
    if calibration is not None:
        args += ["--calibration", os.fspath(calibration)]
    if profile:
        args += ["--profile"]
    if kernel_variant is not None:
        args += ["--kernel-variant", kernel_variant]
    return _call(args, on_event)


def run(build_dir: PathLike, input: Any = None, on_event: Optional[EventHandler] = None,
        timeout: Optional[float] = None) -> Dict[str, Any]:
    """Run a built image and return its run report (run.json) as a dict.

    `input` is None (the bundle's reference input, compared with the reference output), a path
    to a .npy, .safetensors or raw .bin file, or an array (NumPy, or a PyTorch tensor) that is
    saved as .npy for the run. `timeout` in seconds stops a hung guest.
    Raises RunFailedError when the guest faults, hangs, fails or disagrees with the reference.
    """
    args = ["run", os.fspath(build_dir)]
    if timeout is not None:
        args += ["--timeout", str(timeout)]
    with tempfile.TemporaryDirectory(prefix="edgespec-input-") as scratch:
        if input is not None:
            args += ["--input", _input_file(input, Path(scratch))]
        return _call(args, on_event)


def _input_file(value: Any, scratch: Path) -> str:
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if hasattr(value, "detach"):  # a torch.Tensor, without importing torch
        value = value.detach().cpu().numpy()
    import numpy as np

    if not isinstance(value, np.ndarray):
        raise ToolchainError(f"input must be a file path or an array, not {type(value).__name__}",
                             hint="pass a NumPy array, a PyTorch tensor, or the path of a .npy/.safetensors/.bin file")
    path = scratch / "input.npy"
    np.save(path, np.ascontiguousarray(value))
    return str(path)


def _call(args: List[str], on_event: Optional[EventHandler]) -> Dict[str, Any]:
    cli = run_cli(args, on_event, check=False)
    error = next((e for e in reversed(cli.events) if e.get("event") == "error"), None)
    if error is not None:
        message = error.get("message", "the edgespec CLI failed")
        hint, details, code = error.get("hint"), error.get("details"), error.get("code", "toolchain")
        report = cli.result
        if args[0] == "run" and isinstance(report, dict) and report.get("format") == "edgespec.run":
            raise RunFailedError(message, hint, details, code, report)
        raise ToolchainError(message, hint=hint, details=details, code=code)
    if cli.returncode != 0 or not isinstance(cli.result, dict):
        tail = "\n".join(cli.stderr.strip().splitlines()[-20:])
        raise ToolchainError(f"edgespec {args[0]} exited with status {cli.returncode} without a result"
                             + (f":\n{tail}" if tail else ""),
                             hint="run the same command in a terminal with EDGESPEC_DEBUG=1 to see more")
    return cli.result
