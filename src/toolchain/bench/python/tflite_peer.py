"""A .tflite peer of the bench, kept running so its timing rounds interleave with edgespec's.

    python tflite_peer.py --runtime litert|tflm --model FILE.tflite --input INPUT.bin

- litert: LiteRT's interpreter (ai_edge_litert.interpreter.Interpreter, num_threads=1, its default
  delegate: XNNPACK). Runs natively and, from the arm64 sysroot, under qemu-aarch64.
- tflm: TensorFlow Lite Micro's Python interpreter (tflite_micro.runtime.Interpreter, its
  reference/optimized C++ kernels for the host); its arena through print_allocations().

INPUT.bin holds the model's one input as little-endian float32 real values (the bench bundle's
reference input); an int8 model gets round(x / scale) + zero_point, clipped to int8 (exact when
the values lie on the input's grid, as edgespec's capture makes them).

Prints one JSON line {"event": "ready", ...} (version, input and output dtypes, the output of
one invoke in real values, for tflm the print_allocations text), then answers each line
`time RUNS WARMUP` on stdin with {"event": "times", "times_ms": [...]} (WARMUP untimed invokes,
then RUNS invokes each timed with time.perf_counter_ns) until `quit` or the end of stdin.
Needs only NumPy and the runtime, so the same file runs in the arm64 sysroot.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from line_protocol import answer_time_requests


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:  # noqa: BLE001 (a sysroot without metadata)
        return "unknown"


def _quantized(x: np.ndarray, dtype, scale: float, zero_point: int) -> np.ndarray:
    if dtype == np.float32:
        return x.astype(np.float32)
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def _real(y: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    if y.dtype == np.float32:
        return y.astype(np.float64)
    return (y.astype(np.float64) - zero_point) * scale


class LiteRT:
    def __init__(self, model: str, x: np.ndarray):
        from ai_edge_litert.interpreter import Interpreter
        self.version = _version("ai-edge-litert")
        self.interpreter = Interpreter(model_path=model, num_threads=1)
        self.interpreter.allocate_tensors()
        inp = self.interpreter.get_input_details()[0]
        self.out = self.interpreter.get_output_details()[0]
        scale, zp = inp["quantization"]
        self.input_dtype = np.dtype(inp["dtype"]).name
        self.interpreter.set_tensor(inp["index"], _quantized(x, inp["dtype"], scale, zp).reshape(inp["shape"]))

    def invoke(self) -> None:
        self.interpreter.invoke()

    def output(self) -> np.ndarray:
        scale, zp = self.out["quantization"]
        return _real(self.interpreter.get_tensor(self.out["index"]), scale, zp)

    def extra(self) -> dict:
        return {"output_dtype": np.dtype(self.out["dtype"]).name}


def _params(details: dict):
    q = details.get("quantization_parameters") or {}
    scales, zps = q.get("scales"), q.get("zero_points")
    if scales is None or len(scales) == 0:
        return 0.0, 0
    return float(scales[0]), int(zps[0])


class TFLM:
    def __init__(self, model: str, x: np.ndarray):
        from tflite_micro.python.tflite_micro import runtime
        self.version = _version("tflite-micro")
        self.interpreter = runtime.Interpreter.from_file(model)
        inp = self.interpreter.get_input_details(0)
        self.out = self.interpreter.get_output_details(0)
        scale, zp = _params(inp)
        self.input_dtype = np.dtype(inp["dtype"]).name
        self.interpreter.set_input(_quantized(x, np.dtype(inp["dtype"]).type, scale, zp).reshape(inp["shape"]), 0)

    def invoke(self) -> None:
        self.interpreter.invoke()

    def output(self) -> np.ndarray:
        scale, zp = _params(self.out)
        return _real(np.asarray(self.interpreter.get_output(0)), scale, zp)

    def extra(self) -> dict:
        return {"output_dtype": np.dtype(self.out["dtype"]).name, "allocations": self.allocations()}

    def allocations(self) -> str:
        """print_allocations() writes to the process's stderr from C++: catch fd 2 around it."""
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile(mode="w+b") as caught:
            os.dup2(caught.fileno(), 2)
            try:
                self.interpreter.print_allocations()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            caught.seek(0)
            return caught.read().decode("utf-8", "replace")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtime", choices=["litert", "tflm"], required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    args = ap.parse_args(argv)
    x = np.fromfile(args.input, dtype="<f4")
    peer = (LiteRT if args.runtime == "litert" else TFLM)(args.model, x)
    peer.invoke()
    ready = {"event": "ready", "runtime": args.runtime, "version": peer.version, "input_dtype": peer.input_dtype,
             "machine": os.uname().machine, "output": peer.output().ravel().tolist(), **peer.extra()}
    print(json.dumps(ready), flush=True)

    def time_runs(runs: int, warmup: int):
        for _ in range(warmup):
            peer.invoke()
        times = []
        for _ in range(runs):
            start = time.perf_counter_ns()
            peer.invoke()
            times.append((time.perf_counter_ns() - start) / 1e6)
        return times

    answer_time_requests(time_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
