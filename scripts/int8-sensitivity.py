#!/usr/bin/env python3
"""Why an int8 image of a torchvision model disagrees with fp32: how sensitive the fp32 model is.

    .venv/bin/python scripts/int8-sensitivity.py BUNDLE [--model torchvision:mobilenet_v2]
        [--inputs randn|task] [--count 100] [--per-layer]

All in PyTorch, on the bundle's weights, over the seeded inputs scripts/int8-agreement.py
evaluates (seeds 2000+i) and the calibration set it builds with (the bundle's reference
input and seeds 100000..100015). Prints the top-1 kept (of the fp32 answers) and the
logit error (std of the difference / std of the logits, median over inputs) when
  - the input gets Gaussian noise of std 1e-4, 1e-3 and 1e-2 (the inputs have std 1);
  - every conv/linear weight is rounded to per-channel symmetric int8;
  - every activation (each conv block's output, each projection and residual sum, the
    logits) is fake-quantized to per-tensor int8 over its min..max on the calibration set;
  - with --per-layer, one activation at a time (slow: one pass over the inputs per layer),
    the eight that cost most.
A model whose top-1 already moves under noise far below one int8 step cannot reach 99 %
agreement with any int8 arithmetic; the per-layer list says where the loss enters.
"""
import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file


def fake_quant(x, lo, hi):
    scale = (hi - lo) / 255
    zero = round(-128 - lo / scale)
    return (torch.clamp(torch.round(x / scale) + zero, -128, 127) - zero) * scale


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--model", default="torchvision:mobilenet_v2")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--inputs", choices=["randn", "task"], default="randn",
                    help="the kind of seeded inputs, as in scripts/int8-agreement.py")
    ap.add_argument("--per-layer", action="store_true")
    args = ap.parse_args()
    import torchvision
    from torchvision.models.mobilenetv2 import InvertedResidual
    from torchvision.ops.misc import Conv2dNormActivation

    torch.set_num_threads(1)
    model = torchvision.models.get_model(args.model.split(":", 1)[1], weights=None)
    weights = load_file(str(args.bundle / "weights.safetensors"))
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()}, strict=False)
    model.eval()
    reference = load_file(str(args.bundle / "reference.safetensors"))
    reference_input = torch.from_numpy(next(v for k, v in reference.items() if k.startswith("input")))
    shape = list(reference_input.shape)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from agreement_task import task_input

    def seeded(seed):
        if args.inputs == "task":
            return task_input(seed, shape[-1])
        return torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    calibration = torch.cat([reference_input] + [seeded(100000 + i) for i in range(16)])
    test = torch.cat([seeded(2000 + i) for i in range(args.count)])
    with torch.no_grad():
        clean = model(test)

    def compare(out):
        kept = int((out.argmax(1) == clean.argmax(1)).sum())
        return kept, float(((out - clean).std(1) / clean.std(1)).median())

    points = [(n, m) for n, m in model.named_modules()
              if isinstance(m, (Conv2dNormActivation, InvertedResidual))
              or (isinstance(m, torch.nn.BatchNorm2d) and n.rsplit(".", 1)[-1] in ("2", "3") and ".conv." in n)
              or isinstance(m, torch.nn.Linear)]
    ranges = {}

    def record(name):
        def hook(_m, _i, out):
            lo, hi = ranges.get(name, (0.0, 0.0))
            ranges[name] = (min(lo, float(out.min())), max(hi, float(out.max())))
        return hook

    hooks = [m.register_forward_hook(record(n)) for n, m in points]
    with torch.no_grad():
        model(calibration)
    for h in hooks:
        h.remove()

    def quantized(names):
        hooks = [m.register_forward_hook(lambda _m, _i, out, n=n: fake_quant(out, *ranges[n])) for n, m in points if n in names]
        with torch.no_grad():
            out = model(test)
        for h in hooks:
            h.remove()
        return out

    n = args.count
    print(f"{args.model} from {args.bundle}, {n} seeded inputs: top-1 kept of the fp32 answers, logit error / logit std")
    with torch.no_grad():
        for std in (1e-4, 1e-3, 1e-2):
            kept, err = compare(model(test + std * torch.randn(test.shape, generator=torch.Generator().manual_seed(7))))
            print(f"  input + Gaussian noise of std {std:g}: {kept}/{n}, {err:.3f}")
        rounded = copy.deepcopy(model)
        for m in rounded.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                scale = m.weight.abs().amax(dim=tuple(range(1, m.weight.dim())), keepdim=True) / 127
                m.weight.copy_(torch.round(m.weight / scale).clamp(-127, 127) * scale)
        kept, err = compare(rounded(test))
        print(f"  weights rounded to per-channel int8 (batch norms not folded): {kept}/{n}, {err:.3f}")
    kept, err = compare(quantized({name for name, _ in points}))
    print(f"  all {len(points)} activations fake-quantized to per-tensor int8 (min..max over 17 calibration inputs): {kept}/{n}, {err:.3f}")
    if args.per_layer:
        single = sorted(((*compare(quantized({name})), name) for name, _ in points), key=lambda r: -r[1])
        print("  one activation at a time, the eight that cost most (kept, error, layer, calibrated range):")
        for kept, err, name in single[:8]:
            print(f"    {kept}/{n} {err:.3f} {name} [{ranges[name][0]:.2f}, {ranges[name][1]:.2f}]")
        print(f"    median over the {len(single)} activations: error {np.median([s[1] for s in single]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
