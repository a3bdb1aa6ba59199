#!/usr/bin/env python3
"""The model scripts/int8-agreement.py checks: torchvision MobileNetV2 trained on a seeded task.

    .venv/bin/python scripts/agreement-model.py --out BUNDLE [--steps 200] [--steps-224 60]

A MobileNetV2 with random weights is no fit for an int8 agreement check: it answers one class
for every input, or, with recalibrated batch norms (capture --recalibrate), answers that
fine noise decides (rounding only its input to 256 levels changes most top-1 answers). This
trains torchvision's MobileNetV2 (weights=None, seed 0, 1000 outputs) on the seeded task of
scripts/agreement_task.py: --steps of SGD at 64x64 (cheap), then --steps-224 at 224x224, batch
norms in train mode, one thread. Then it captures the model at 1x3x224x224 into BUNDLE with a
seeded task input as the reference (seed 1000), and prints its accuracy on the task, the
distinct answers and how much input noise they survive. About 6 minutes on one core.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agreement_task import task_batch, task_input, templates  # noqa: E402

REFERENCE_SEED = 1000
TRAIN_SEED = 10 ** 7  # training batches: seeds TRAIN_SEED + step, apart from every checked input


def train(model, steps, size, batch, lr, seed_base, log):
    patterns = templates(size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=4e-5)
    model.train()
    start = time.perf_counter()
    for step in range(steps):
        x, y = task_batch(seed_base + step, batch, size, patterns)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 20 == 0 or step == steps - 1:
            log(f"  {size}x{size} step {step + 1}/{steps}: loss {loss.item():.3f} ({time.perf_counter() - start:.0f} s)")
    model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=200, help="SGD steps at 64x64, batch 32")
    ap.add_argument("--steps-224", type=int, default=60, help="SGD steps at 224x224, batch 16")
    args = ap.parse_args()
    import torchvision

    import edgespec

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torchvision.models.get_model("mobilenet_v2", weights=None)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    train(model, args.steps, 64, 32, 0.05, TRAIN_SEED, log)
    train(model, args.steps_224, 224, 16, 0.02, TRAIN_SEED + args.steps, log)

    x, y = task_batch(2 * TRAIN_SEED, 200, 224)
    with torch.no_grad():
        out = model(x)
        noisy = model(x + 1e-2 * torch.randn(x.shape, generator=torch.Generator().manual_seed(7)))
    top2 = -np.sort(-out.numpy(), axis=1)[:, :2]
    margin = (top2[:, 0] - top2[:, 1]) / out.numpy().std(axis=1)
    print(f"task accuracy {(out.argmax(1) == y).float().mean().item():.3f} on 200 new inputs, "
          f"{len(set(out.argmax(1).tolist()))} distinct answers, top-1/top-2 margin / logit std median {np.median(margin):.2f}, "
          f"top-1 kept under input noise of std 1e-2: {int((noisy.argmax(1) == out.argmax(1)).sum())}/200")
    result = edgespec.capture(model, task_input(REFERENCE_SEED, 224), name="mobilenet_v2", out=args.out,
                              entry="torchvision:mobilenet_v2")
    print(f"captured into {args.out} ({result.parameter_bytes} parameter bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
