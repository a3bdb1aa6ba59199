#!/usr/bin/env python3
"""int8 agreement: top-1 of an int8 image against the fp32 framework over seeded inputs.

    .venv/bin/python scripts/int8-agreement.py [BUNDLE] [--inputs task|randn] [--count 200]
        [--calibration-count 16] [--min-distinct 20] [--qemu 3] [--work DIR]

Without BUNDLE, makes the model first: torchvision's MobileNetV2 trained on the seeded task
of scripts/agreement_task.py (scripts/agreement-model.py, about 6 minutes), checked on
inputs of that task. A random-weight model is no fit: as captured by default it answers one
class for every input (the check is vacuous), and with `capture --recalibrate` its answers
hinge on fine noise (`--inputs randn` with such a bundle shows it; scripts/int8-sensitivity.py
says why).

Builds BUNDLE with `edgespec build --dtype int8` for `host`, calibrated on the bundle's
reference input plus --calibration-count seeded inputs (seeds 100000+i); runs the host
image on --count other seeded inputs (seeds 2000+i; none is a calibration input) and
compares its logits with PyTorch's on the same inputs: the model is rebuilt from
torchvision and loaded with the bundle's own weights. With --qemu N, also builds for
qemu-virt and checks that the first N inputs give bit-identical outputs under
qemu-system-aarch64 (same C code).

Says how input-dependent the fp32 answers are (distinct top-1 classes, the top-1/top-2
margin) and fails loudly when the check is vacuous (fewer than --min-distinct classes, or
one class for more than half the inputs). Prints the table and writes agreement.json into
the work directory; exits 1 below 99 % or when vacuous.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agreement_task import task_input  # noqa: E402
from edgespec.io_file import encode_inputs, first_tensor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EDGESPEC = ROOT / "bin" / "edgespec"


def read_output(path):
    """The first output of an output.bin, as float32."""
    return np.frombuffer(first_tensor(Path(path).read_bytes()), dtype="<f4").copy()


def build(bundle, target, out, calibration):
    subprocess.run([str(EDGESPEC), "build", str(bundle), "--target", target, "--dtype", "int8",
                    "--calibration", str(calibration), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)


TEST_SEED = 2000
CALIBRATION_SEED = 100000
RECALIBRATION_INPUTS = 64


def make_model(model, out, inputs):
    """task: MobileNetV2 trained on the seeded task (scripts/agreement-model.py); randn: seeded
    random weights recalibrated on seeded inputs (edgespec capture --recalibrate)."""
    if inputs == "task":
        if model != "torchvision:mobilenet_v2":
            sys.exit("the task model is MobileNetV2: pass a BUNDLE (and --inputs randn) for other models")
        subprocess.run([sys.executable, str(ROOT / "scripts" / "agreement-model.py"), "--out", str(out)], check=True)
    else:
        subprocess.run([sys.executable, "-m", "edgespec", "capture", model, "--seed", "0",
                        "--recalibrate", str(RECALIBRATION_INPUTS), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)


def seeded_input(kind, seed, shape):
    """One seeded input of the chosen kind, shaped like the model's."""
    if kind == "task":
        return task_input(seed, shape[-1])
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def rounded_to_int8(x):
    """x fake-quantized per tensor to int8 over its own min..max (zero included): the input error of an int8 image."""
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    scale = (hi - lo) / 255
    zero = round(-128 - lo / scale)
    return (torch.clamp(torch.round(x / scale) + zero, -128, 127) - zero) * scale


def margins(logits):
    """Per input: (top-1 minus top-2 logit) / the standard deviation of that input's logits."""
    top2 = -np.sort(-logits, axis=1)[:, :2]
    return (top2[:, 0] - top2[:, 1]) / logits.std(axis=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=Path, nargs="?", help="default: train the task model into WORK/bundle")
    ap.add_argument("--model", default="torchvision:mobilenet_v2")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--calibration-count", type=int, default=16)
    ap.add_argument("--min-distinct", type=int, default=20,
                    help="fewest distinct fp32 top-1 classes over the inputs for the check to mean anything")
    ap.add_argument("--inputs", choices=["task", "randn"], default=None,
                    help="task: seeded inputs of scripts/agreement_task.py (the default without BUNDLE); "
                         "randn: torch.randn (the default with BUNDLE)")
    ap.add_argument("--qemu", type=int, default=0, help="inputs to also run on qemu-virt (bit-exact with host)")
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="edgespec-int8-agreement-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.bundle is None:
        args.inputs = args.inputs or "task"
        args.bundle = work / "bundle"
        if not (args.bundle / "graph.json").exists():
            make_model(args.model, args.bundle, args.inputs)
    args.inputs = args.inputs or "randn"

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
    reference_input = reference[graph["reference"]["inputs"][0]]
    with torch.no_grad():
        check = model(torch.from_numpy(reference_input)).numpy()
    ref_out = reference[graph["reference"]["outputs"][0]]
    if np.abs(check - ref_out).max() > 1e-4 * np.abs(ref_out).max():
        sys.exit(f"{args.model} with the bundle's weights does not reproduce the bundle's reference output")

    calibration = work / "calibration"
    calibration.mkdir(exist_ok=True)
    for i in range(args.calibration_count):
        np.save(calibration / f"{i:03d}.npy", seeded_input(args.inputs, CALIBRATION_SEED + i, shape).numpy())
    build(args.bundle, "host", work / "host", calibration)
    if args.qemu:
        build(args.bundle, "qemu-virt", work / "qemu-virt", calibration)

    fp32_all, int8_all, rounded_all = [], [], []
    qemu_identical = 0
    for i in range(args.count):
        x = seeded_input(args.inputs, TEST_SEED + i, shape)
        if np.array_equal(x.numpy(), reference_input):
            sys.exit(f"test input {TEST_SEED + i} is the bundle's reference input, which the int8 build calibrates on")
        with torch.no_grad():
            fp32_all.append(model(x).numpy().reshape(-1))
            rounded_all.append(model(rounded_to_int8(x)).numpy().reshape(-1))
        (work / "input.bin").write_bytes(encode_inputs([np.ascontiguousarray(x.numpy(), dtype="<f4").tobytes()]))
        subprocess.run([str(work / "host" / "image.elf"), str(work / "input.bin"), str(work / "output.bin")],
                       check=True, stdout=subprocess.DEVNULL)
        int8_all.append(read_output(work / "output.bin"))
        if i < args.qemu:
            subprocess.run(["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-m", "1G", "-nodefaults",
                            "-display", "none", "-monitor", "none", "-serial", "none", "-chardev", "stdio,id=console",
                            "-semihosting-config", "enable=on,target=native,chardev=console",
                            "-kernel", str(work / "qemu-virt" / "image.elf"),
                            "-device", f"loader,file={work / 'input.bin'},addr=0x70000000,force-raw=on"],
                           cwd=work, check=True, stdout=subprocess.DEVNULL, timeout=120)
            qemu_identical += int(np.array_equal(read_output(work / "output.bin"), int8_all[-1]))
    fp32_all, int8_all = np.array(fp32_all), np.array(int8_all)
    top1_fp32, top1_int8 = fp32_all.argmax(axis=1), int8_all.argmax(axis=1)
    input_rounding_keeps = int((np.array(rounded_all).argmax(axis=1) == top1_fp32).sum())
    same = top1_fp32 == top1_int8
    agree = int(same.sum())
    top5_fp32 = np.argsort(-fp32_all, axis=1)[:, :5]
    int8_in_fp32_top5 = int(sum(t in row for t, row in zip(top1_int8, top5_fp32)))
    distinct = len(set(top1_fp32.tolist()))
    most_common = int(np.bincount(top1_fp32).max())
    margin = margins(fp32_all)
    rel_errors = np.abs(int8_all - fp32_all).max(axis=1) / np.abs(fp32_all).max(axis=1)
    # the int8 error in the units of the margin: an input flips when it exceeds about 1
    logit_error = np.abs(int8_all - fp32_all).std(axis=1) / fp32_all.std(axis=1)
    corr = [float(np.corrcoef(a, b)[0, 1]) for a, b in zip(fp32_all, int8_all)]
    vacuous = distinct < args.min_distinct or most_common > args.count // 2
    pct = lambda v: {"median": float(np.median(v)), "p10": float(np.percentile(v, 10)), "min": float(np.min(v))}  # noqa: E731
    result = {
        "model": graph["name"], "bundle": str(args.bundle), "inputs": args.count, "input_kind": args.inputs,
        "test_seeds": f"{TEST_SEED}..{TEST_SEED + args.count - 1}",
        "calibration": f"the bundle's reference input + seeds {CALIBRATION_SEED}..{CALIBRATION_SEED + args.calibration_count - 1}",
        "top1_agreement": agree / args.count,
        "int8_top1_in_fp32_top5": int8_in_fp32_top5 / args.count,
        "fp32_top1_kept_with_input_rounded_to_int8": input_rounding_keeps / args.count,
        "distinct_fp32_top1_classes": distinct,
        "most_common_fp32_top1_inputs": most_common,
        "vacuous": vacuous,
        "fp32_margin_over_logit_std": pct(margin),
        "fp32_margin_over_logit_std_where_disagreeing": sorted(float(m) for m in margin[~same]),
        "int8_error_std_over_logit_std": pct(logit_error) | {"max": float(np.max(logit_error))},
        "logit_correlation": {"median": float(np.median(corr)), "min": float(np.min(corr))},
        "max_abs_error_over_max_ref": {"median": float(np.median(rel_errors)), "max": float(np.max(rel_errors))},
        **({"qemu_virt_bit_identical": f"{qemu_identical}/{args.qemu}"} if args.qemu else {}),
        "per_input": [{"seed": TEST_SEED + i, "top1_fp32": int(top1_fp32[i]), "top1_int8": int(top1_int8[i]),
                       "fp32_margin_over_logit_std": float(margin[i]),
                       "max_abs_error_over_max_ref": float(rel_errors[i])} for i in range(args.count)],
    }
    (work / "agreement.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"{graph['name']} int8 (host) vs PyTorch fp32 over {args.count} seeded {args.inputs} inputs (seeds {result['test_seeds']}; "
          f"calibration: {result['calibration']})")
    print(f"  top-1 agreement   {agree}/{args.count} = {100 * agree / args.count:.1f} %")
    print(f"  int8 top-1 among the fp32 top-5: {int8_in_fp32_top5}/{args.count}")
    print(f"  fp32 on the input rounded to 256 levels (its own min..max; the first thing any int8 image does) "
          f"keeps top-1 on {input_rounding_keeps}/{args.count}")
    print(f"  input dependence: {distinct} distinct fp32 top-1 classes, the most common one on {most_common} inputs")
    print(f"  fp32 top-1/top-2 margin / logit std: median {np.median(margin):.3f}, p10 {np.percentile(margin, 10):.3f}, "
          f"min {np.min(margin):.4f}; on the {int((~same).sum())} inputs where int8 disagrees: "
          f"{f'median {np.median(margin[~same]):.3f}, max {np.max(margin[~same]):.3f}' if (~same).any() else 'none'}")
    print(f"  int8 logit error (std of int8 - fp32) / logit std: median {np.median(logit_error):.3f}, max {np.max(logit_error):.3f}")
    print(f"  logit correlation int8 vs fp32: median {np.median(corr):.4f}, min {np.min(corr):.4f}")
    print(f"  max|int8 - fp32| / max|fp32|: median {np.median(rel_errors):.4f}, worst {np.max(rel_errors):.4f}")
    if args.qemu:
        print(f"  qemu-virt outputs bit-identical to host: {qemu_identical}/{args.qemu}")
    if vacuous:
        print(f"  VACUOUS: the fp32 model answers {distinct} distinct classes ({most_common} of {args.count} inputs one "
              f"class; need at least {args.min_distinct}, none on more than half): any image computing roughly the "
              f"right constant agrees. Run without BUNDLE for a model whose answer depends on the input.", file=sys.stderr)
    print(f"  report {work / 'agreement.json'}")
    return 0 if agree / args.count >= 0.99 and qemu_identical == args.qemu and not vacuous else 1


if __name__ == "__main__":
    sys.exit(main())
