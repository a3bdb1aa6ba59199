#!/usr/bin/env python3
"""int8 agreement: top-1 of an int8 image against the fp32 framework over seeded inputs.

    .venv/bin/python scripts/int8-agreement.py BUNDLE [--model torchvision:mobilenet_v2]
        [--count 200] [--calibration-count 16] [--qemu 3] [--work DIR]

Builds BUNDLE with `edgespec build --dtype int8` for `host` (calibrated on the bundle's
reference input plus --calibration-count seeded inputs that are not among the evaluated
ones), runs the host image on --count seeded inputs (torch.randn, seeds 1000+i) and compares
its logits with PyTorch's on the same inputs: the model is rebuilt from torchvision and
loaded with the bundle's own weights. With --qemu N, also builds for qemu-virt and checks
that the first N inputs give bit-identical outputs under qemu-system-aarch64 (same C code).
Prints the table and writes agreement.json into the work directory; exits 1 below 99 %.
"""
import argparse
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parent.parent
EDGESPEC = ROOT / "bin" / "edgespec"


def input_file(tensors):
    """input.bin (kernels/include/edgespec/io_format.h)."""
    up = lambda n: (n + 63) // 64 * 64  # noqa: E731
    sizes = [t.nbytes for t in tensors]
    head = b"EDGESPEC" + struct.pack("<4I", 1, 1, len(tensors), 0) + struct.pack(f"<{len(sizes)}I", *sizes)
    out = head + b"\0" * (up(len(head)) - len(head))
    for t in tensors:
        b = np.ascontiguousarray(t, dtype="<f4").tobytes()
        out += b + b"\0" * (up(len(b)) - len(b))
    return out


def read_output(path):
    data = Path(path).read_bytes()
    count = struct.unpack_from("<I", data, 16)[0]
    size = struct.unpack_from("<I", data, 24)[0]
    offset = (24 + 4 * count + 63) // 64 * 64
    return np.frombuffer(data, dtype="<f4", count=size // 4, offset=offset)


def build(bundle, target, out, calibration):
    subprocess.run([str(EDGESPEC), "build", str(bundle), "--target", target, "--dtype", "int8",
                    "--calibration", str(calibration), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--model", default="torchvision:mobilenet_v2")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--calibration-count", type=int, default=16)
    ap.add_argument("--qemu", type=int, default=0, help="inputs to also run on qemu-virt (bit-exact with host)")
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="edgespec-int8-agreement-"))
    work.mkdir(parents=True, exist_ok=True)

    graph = json.loads((args.bundle / "graph.json").read_text())
    shape = graph["inputs"][0]["shape"]
    import torchvision  # noqa: F401  (the model's factory)
    model = torchvision.models.get_model(args.model.split(":", 1)[1], weights=None)
    weights = {k: torch.from_numpy(v.copy()) for k, v in load_file(str(args.bundle / "weights.safetensors")).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        sys.exit(f"the bundle's weights do not fit {args.model}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    reference = load_file(str(args.bundle / "reference.safetensors"))
    with torch.no_grad():
        check = model(torch.from_numpy(reference[graph["reference"]["inputs"][0]])).numpy()
    ref_out = reference[graph["reference"]["outputs"][0]]
    if np.abs(check - ref_out).max() > 1e-4 * np.abs(ref_out).max():
        sys.exit(f"{args.model} with the bundle's weights does not reproduce the bundle's reference output")

    calibration = work / "calibration"
    calibration.mkdir(exist_ok=True)
    for i in range(args.calibration_count):
        g = torch.Generator().manual_seed(100000 + i)
        np.save(calibration / f"{i:03d}.npy", torch.randn(shape, generator=g).numpy())
    build(args.bundle, "host", work / "host", calibration)
    if args.qemu:
        build(args.bundle, "qemu-virt", work / "qemu-virt", calibration)

    agree = 0
    rel_errors = []
    fp32_all, int8_all = [], []
    qemu_identical = 0
    rows = []
    for i in range(args.count):
        g = torch.Generator().manual_seed(1000 + i)
        x = torch.randn(shape, generator=g)
        with torch.no_grad():
            fp32 = model(x).numpy().reshape(-1)
        (work / "input.bin").write_bytes(input_file([x.numpy()]))
        subprocess.run([str(work / "host" / "image.elf"), str(work / "input.bin"), str(work / "output.bin")],
                       check=True, stdout=subprocess.DEVNULL)
        int8 = read_output(work / "output.bin").copy()
        fp32_all.append(fp32)
        int8_all.append(int8)
        same = int(np.argmax(int8)) == int(np.argmax(fp32))
        agree += same
        rel_errors.append(float(np.abs(int8 - fp32).max() / np.abs(fp32).max()))
        rows.append({"seed": 1000 + i, "top1_fp32": int(np.argmax(fp32)), "top1_int8": int(np.argmax(int8)),
                     "max_abs_error_over_max_ref": rel_errors[-1]})
        if i < args.qemu:
            subprocess.run(["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-m", "1G", "-nodefaults",
                            "-display", "none", "-monitor", "none", "-serial", "none", "-chardev", "stdio,id=console",
                            "-semihosting-config", "enable=on,target=native,chardev=console",
                            "-kernel", str(work / "qemu-virt" / "image.elf"),
                            "-device", f"loader,file={work / 'input.bin'},addr=0x70000000,force-raw=on"],
                           cwd=work, check=True, stdout=subprocess.DEVNULL, timeout=120)
            qemu_identical += int(
                np.array_equal(read_output(work / "output.bin"), int8))
    # A randomly initialised network answers nearly the same class for every input: its
    # logits are a large input-independent part plus a small input-dependent one. Top-1 of
    # the logits minus their mean over the evaluated inputs tests the input-dependent part.
    fp32_all, int8_all = np.array(fp32_all), np.array(int8_all)
    mean = fp32_all.mean(axis=0)
    centered_agree = int((np.argmax(fp32_all - mean, axis=1) == np.argmax(int8_all - mean, axis=1)).sum())
    distinct = len(set(np.argmax(fp32_all, axis=1).tolist()))
    corr = [float(np.corrcoef(a - mean, b - mean)[0, 1]) for a, b in zip(fp32_all, int8_all)]
    spread = float(fp32_all.std(axis=0).mean() / np.abs(fp32_all).max())
    result = {
        "model": graph["name"], "inputs": args.count, "calibration_inputs": 1 + args.calibration_count,
        "top1_agreement": agree / args.count,
        "distinct_fp32_top1_classes": distinct,
        "input_dependent_spread": spread,
        "centered_top1_agreement": centered_agree / args.count,
        "centered_logit_correlation": {"median": float(np.median(corr)), "min": float(np.min(corr))},
        "max_abs_error_over_max_ref": {"median": float(np.median(rel_errors)), "max": float(np.max(rel_errors))},
        **({"qemu_virt_bit_identical": f"{qemu_identical}/{args.qemu}"} if args.qemu else {}),
        "per_input": rows,
    }
    (work / "agreement.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"{graph['name']} int8 (host) vs PyTorch fp32 over {args.count} seeded inputs "
          f"(calibration: reference input + {args.calibration_count} others)")
    print(f"  top-1 agreement   {agree}/{args.count} = {100 * agree / args.count:.1f} %")
    print(f"  distinct fp32 top-1 classes {distinct} (random weights: nearly input-independent logits)")
    print(f"  input-dependent spread of the fp32 logits (std over inputs / max|logit|) {spread:.2e}"
          f"{' : a few float32 ulps of the logits (6e-8 relative), so the centered metrics below measure rounding noise, not the model' if spread < 1e-6 else ''}")
    print(f"  centered top-1 (logits minus their mean over the inputs) {centered_agree}/{args.count} = {100 * centered_agree / args.count:.1f} %")
    print(f"  correlation of centered logits: median {np.median(corr):.4f}, min {np.min(corr):.4f}")
    print(f"  max|int8 - fp32| / max|fp32|: median {np.median(rel_errors):.4f}, worst {np.max(rel_errors):.4f}")
    if args.qemu:
        print(f"  qemu-virt outputs bit-identical to host: {qemu_identical}/{args.qemu}")
    print(f"  report {work / 'agreement.json'}")
    return 0 if agree / args.count >= 0.99 and qemu_identical == args.qemu else 1


if __name__ == "__main__":
    sys.exit(main())
