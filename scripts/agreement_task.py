"""The seeded task the agreement model is trained on, and the inputs it is checked with.

Class c of CLASSES is a coarse colour pattern: a seeded 3x4x4 grid upsampled bilinearly to
the input size and scaled to unit standard deviation. An input of class c is that pattern
plus Gaussian pixel noise of std NOISE. A network trained to tell the classes apart answers
by the coarse pattern and is insensitive to fine perturbations, as a trained image
classifier is; its answers are what int8 arithmetic must keep.
"""
import torch

CLASSES = 50
NOISE = 0.5
TEMPLATE_SEED = 123
GRID = 4


def templates(size: int) -> torch.Tensor:
    """[CLASSES, 3, size, size]."""
    grid = torch.randn(CLASSES, 3, GRID, GRID, generator=torch.Generator().manual_seed(TEMPLATE_SEED))
    up = torch.nn.functional.interpolate(grid, size=(size, size), mode="bilinear", align_corners=False)
    return up / up.std(dim=(1, 2, 3), keepdim=True)


def task_batch(seed: int, count: int, size: int, patterns: torch.Tensor = None):
    """`count` seeded inputs of random classes and their classes."""
    patterns = templates(size) if patterns is None else patterns
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (count,), generator=generator)
    return patterns[labels] + NOISE * torch.randn(count, 3, size, size, generator=generator), labels


def task_input(seed: int, size: int) -> torch.Tensor:
    """One seeded input, batch dimension 1."""
    return task_batch(seed, 1, size)[0]
