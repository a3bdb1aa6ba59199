"""The int8 onnxruntime peer of `npm run bench`: statically quantize the fp32 ONNX export.

Run by src/toolchain/bench (not imported): onnxruntime.quantization.quantize_static in QDQ
format, per-channel symmetric int8 weights, int8 activations, calibrated on the bundle's
reference input: the same calibration set `edgespec build --dtype int8` uses by default.
Writes the model to a temporary name and renames it, then one JSON object to --result.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def reference_inputs(bundle: Path):
    from safetensors.numpy import load_file

    graph = json.loads((bundle / "graph.json").read_text())
    reference = load_file(str(bundle / "reference.safetensors"))
    return [reference[name] for name in graph["reference"]["inputs"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--onnx", required=True, type=Path, help="the fp32 model (torch.onnx.export)")
    parser.add_argument("--bundle", required=True, type=Path, help="its bundle: the calibration input")
    parser.add_argument("--out", required=True, type=Path, help="where the int8 QDQ model goes")
    parser.add_argument("--result", required=True, type=Path)
    args = parser.parse_args()

    try:
        import onnxruntime
        from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as e:
        print(f"the int8 onnxruntime peer needs the Python package onnxruntime ({e}); install it with: pip install onnxruntime", file=sys.stderr)
        return 2

    start = time.perf_counter()
    inputs = reference_inputs(args.bundle)
    with tempfile.TemporaryDirectory(prefix="edgespec-ort-quantize-") as work:
        prepared = Path(work) / "prepared.onnx"
        # shape inference and graph folding first, as onnxruntime's quantization guide advises
        quant_pre_process(str(args.onnx), str(prepared))
        names = [i.name for i in onnxruntime.InferenceSession(str(prepared), providers=["CPUExecutionProvider"]).get_inputs()]
        if len(names) != len(inputs):
            print(f"{args.onnx} has {len(names)} inputs but the bundle has {len(inputs)}", file=sys.stderr)
            return 2

        class ReferenceInput(CalibrationDataReader):
            def __init__(self):
                self.sets = iter([dict(zip(names, inputs))])

            def get_next(self):
                return next(self.sets, None)

        temporary = args.out.with_name(args.out.name + f".tmp-{os.getpid()}")
        quantize_static(
            str(prepared),
            str(temporary),
            ReferenceInput(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        os.replace(temporary, args.out)
    args.result.write_text(json.dumps({
        "onnxruntime_version": onnxruntime.__version__,
        "quantize_s": time.perf_counter() - start,
        "bytes": args.out.stat().st_size,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
