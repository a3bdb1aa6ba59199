"""Small models the server tests capture with `python -m edgespec capture models.py:<factory>`."""
import torch
from torch import nn


def tiny_cnn() -> nn.Module:
    """A few layers, built and run in seconds: input 1x3x16x16."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10),
    ).eval()


def slow_cnn() -> nn.Module:
    """About 10^9 multiply-adds (input 1x48x96x96): seconds in QEMU, time enough to cancel it."""
    layers = []
    for _ in range(5):
        layers += [nn.Conv2d(48, 48, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(48, 4)).eval()
