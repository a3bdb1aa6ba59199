"""Give a random-weight classifier an answer that depends on its input (`capture --recalibrate N`).

A torchvision model built with weights=None (batch norms randomized or not) answers the
same class for nearly every input: its logits are a large input-independent part plus an
input-dependent one a million times smaller (MobileNetV2: 2.5e-7 of max|logit|), so
"same top-1 as the framework" is true of any image that computes roughly the right
constant. Two data-driven steps, the ones a trained network's statistics would give, make
the input-dependent part carry the answer:

1. every batch norm's running mean and variance become the statistics of its input over
   N seeded inputs (batch norms alone in train mode with a cumulative average, the rest of
   the model in eval mode), so each layer's output is normalized as in training;
2. the bias of the last linear layer loses the mean logit over the same N inputs, so no
   class wins by its input-independent offset.

The weights stay the seeded ones; only batch-norm statistics and the last bias change.
"""
from __future__ import annotations

from typing import List, Sequence

import torch

from ...errors import ModelInputError

BATCH = 16
# The recalibration inputs come from their own stream, apart from the reference input's
# (seed + 1000) and from the seeded sets scripts/int8-agreement.py evaluates and calibrates on.
RECALIBRATION_SEED_OFFSET = 5000


def recalibration_inputs(shapes: Sequence[Sequence[int]], count: int, seed: int) -> List[tuple]:
    """`count` seeded standard-normal inputs (one tuple of tensors each, batch dimension 1)."""
    generator = torch.Generator().manual_seed(seed + RECALIBRATION_SEED_OFFSET)
    return [tuple(torch.randn(list(shape), generator=generator) for shape in shapes) for _ in range(count)]


def _last_linear(model: torch.nn.Module, example: tuple) -> torch.nn.Linear:
    """The linear layer whose output is the model's output, or a clear error."""
    calls = []
    hooks = [m.register_forward_hook(lambda m, _i, out: calls.append((m, out)))
             for m in model.modules() if isinstance(m, torch.nn.Linear)]
    try:
        with torch.no_grad():
            output = model(*example)
    finally:
        for h in hooks:
            h.remove()
    if not calls or not isinstance(output, torch.Tensor) or not torch.equal(calls[-1][1], output):
        raise ModelInputError("--recalibrate needs a classifier whose output is its last nn.Linear's output",
                              hint="capture this model without --recalibrate")
    layer = calls[-1][0]
    if layer.bias is None:
        raise ModelInputError("--recalibrate centres the last linear layer's bias, and this one has none",
                              hint="capture this model without --recalibrate")
    return layer


def recalibrate(model: torch.nn.Module, shapes: Sequence[Sequence[int]], count: int, seed: int) -> dict:
    """Steps 1 and 2 of the module's docstring on `count` seeded inputs; returns what changed."""
    if count < 2:
        raise ModelInputError(f"--recalibrate {count}: batch statistics need at least 2 inputs",
                              hint="give 64 or more, e.g. --recalibrate 64")
    inputs = recalibration_inputs(shapes, count, seed)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
             and m.track_running_stats]
    momenta = [norm.momentum for norm in norms]
    model.eval()
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over every batch
        norm.train()
    with torch.no_grad():
        for start in range(0, count, BATCH):
            chunk = inputs[start:start + BATCH]
            model(*(torch.cat(parts) for parts in zip(*chunk)))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    model.eval()
    last = _last_linear(model, inputs[0])
    with torch.no_grad():
        mean = torch.cat([model(*x) for x in inputs]).mean(dim=0)
        last.bias -= mean
    return {"recalibration_inputs": count, "recalibrated_batch_norms": len(norms),
            "centred_bias": next(n for n, m in model.named_modules() if m is last) + ".bias"}
