"""The PyTorch side of `npm run bench`: time one torchvision model eagerly on one thread
and export it to ONNX for the onnxruntime peer.

Run by src/toolchain/bench (not imported): it writes one JSON object to --result, or with
--serve prints it as the line {"event": "ready", ...} and then answers `time RUNS WARMUP` lines
on stdin with {"event": "times", "times_ms": [...]} until `quit` (the protocol of
src/toolchain/bench/linePeer.ts), so its timing rounds interleave with edgespec's.
The model is torchvision's builder with the bundle's weights loaded by state_dict name, so
PyTorch, onnxruntime and edgespec all compute the same function on the same input.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from line_protocol import answer_time_requests


def load_bundle_weights(model, bundle: Path):
    """Loads every state_dict tensor the bundle holds under the same name and shape."""
    import torch
    from safetensors.torch import load_file

    stored = load_file(str(bundle / "weights.safetensors"))
    state = model.state_dict()
    wanted = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    found = {k: stored[k] for k, v in wanted.items() if k in stored and tuple(stored[k].shape) == tuple(v.shape)}
    if len(found) != len(wanted):
        missing = sorted(set(wanted) - set(found))
        return f"the model's own initialisation: {len(missing)} of {len(wanted)} state_dict tensors are not in the bundle (e.g. {missing[0]})"
    with torch.no_grad():
        model.load_state_dict({**state, **found}, strict=True)
    return "the bundle's weights.safetensors, by state_dict name"


def reference_tensors(bundle: Path):
    from safetensors.torch import load_file

    graph = json.loads((bundle / "graph.json").read_text())
    reference = load_file(str(bundle / "reference.safetensors"))
    inputs = [reference[name] for name in graph["reference"]["inputs"]]
    outputs = [reference[name] for name in graph["reference"]["outputs"]]
    return inputs, outputs


def time_runs(model, inputs, runs: int, warmup: int):
    import torch

    with torch.inference_mode():
        for _ in range(warmup):
            model(*inputs)
        times_ms = []
        for _ in range(runs):
            start = time.perf_counter_ns()
            model(*inputs)
            times_ms.append((time.perf_counter_ns() - start) / 1e6)
    return times_ms


def export_onnx(model, inputs, destination: Path) -> float:
    """Exports with the dynamo exporter into a temporary name, then renames; returns seconds taken."""
    import torch

    start = time.perf_counter()
    temporary = destination.with_name(destination.name + f".tmp-{os.getpid()}")
    program = torch.onnx.export(model, tuple(inputs), dynamo=True, verbose=False)
    program.save(str(temporary))
    os.replace(temporary, destination)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="torchvision builder name, e.g. mobilenet_v2")
    parser.add_argument("--bundle", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--onnx", type=Path, help="export the model here unless the file exists")
    parser.add_argument("--result", type=Path, help="write the result here (one-shot mode)")
    parser.add_argument("--serve", action="store_true", help="print the result as a ready line and answer timing requests on stdin")
    args = parser.parse_args()
    if (args.result is None) == (not args.serve):
        parser.error("give exactly one of --result and --serve")

    import torch
    import torchvision

    torch.set_num_threads(1)
    model = torchvision.models.get_model(args.model, weights=None).eval()
    weights = load_bundle_weights(model, args.bundle)
    inputs, references = reference_tensors(args.bundle)

    with torch.inference_mode():
        output = model(*inputs)
    outputs = output if isinstance(output, (tuple, list)) else [output]
    max_abs_error = max(float((o - r).abs().max()) for o, r in zip(outputs, references))

    result = {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "weights": weights,
        "max_abs_error_vs_reference": max_abs_error,
    }
    if args.serve:
        if args.onnx is not None and not args.onnx.exists():
            result["onnx_export_s"] = export_onnx(model, inputs, args.onnx)
        print(json.dumps({"event": "ready", **result}), flush=True)
        serve(model, inputs)
        return 0
    times_ms = time_runs(model, inputs, args.runs, args.warmup)
    result.update({"runs": args.runs, "warmup": args.warmup, "median_ms": statistics.median(times_ms), "min_ms": min(times_ms)})
    if args.onnx is not None and not args.onnx.exists():
        result["onnx_export_s"] = export_onnx(model, inputs, args.onnx)
    args.result.write_text(json.dumps(result))
    return 0


def serve(model, inputs) -> None:
    answer_time_requests(lambda runs, warmup: time_runs(model, inputs, runs, warmup))


if __name__ == "__main__":
    sys.exit(main())
