"""Models defined the way a user would write them, for the capture tests and as
FILE.py:FACTORY targets of the command line."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, features=16, hidden=32, classes=5):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(0.2),
                                  nn.Linear(hidden, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        return torch.softmax(self.head(self.body(x)), dim=-1)


class SmallCNN(nn.Module):
    """Touches most of the vocabulary: strided, dilated and grouped convolution, batch norm,
    the activations, both pools with ceil_mode, padding, concat, chunk, transpose, matmul."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.dilated = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.branch_a = nn.Sequential(nn.Conv2d(8, 8, 1), nn.Hardswish())
        self.branch_b = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.SiLU())
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 16, 1), nn.Hardsigmoid())
        self.grid = nn.AdaptiveAvgPool2d((2, 3))
        self.project = nn.Linear(16, 16)
        self.classifier = nn.Linear(16 * 6, classes)
        self.register_buffer("offset", torch.linspace(-1, 1, 16), persistent=False)

    def forward(self, x):
        x = self.stem(x)
        x = F.gelu(self.dilated(x)) + x
        x = self.pool(x)
        a, b = torch.chunk(x, 2, dim=1)
        x = torch.cat([self.branch_a(a), self.branch_b(b)], dim=1)
        x = x * self.gate(x)
        x = F.pad(x, (1, 0, 2, 1), value=0.5)
        x = self.avg(x)
        x = torch.sigmoid(x) - 0.25 * torch.tanh(x)
        g = self.grid(x)                                  # [N, 16, 2, 3]
        tokens = g.flatten(2).transpose(1, 2)             # [N, 6, 16]
        tokens = F.gelu(self.project(tokens), approximate="tanh") + self.offset
        attention = torch.softmax(tokens @ tokens.transpose(1, 2) / 4.0, dim=-1)
        mixed = attention @ tokens
        return self.classifier((1 - mixed).flatten(1))


class SortHead(nn.Module):
    """Uses torch.sort and torch.cumsum, which are outside the vocabulary."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        y = self.head(self.features(x).mean(dim=(2, 3)))
        ranked, _ = torch.sort(y, dim=-1)
        return torch.cumsum(ranked, dim=-1)


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        y = self.linear(x)
        if y.sum() > 0:
            return y * 2
        return y


def build_mlp():
    torch.manual_seed(1)
    return MLP()


def build_small_cnn():
    torch.manual_seed(2)
    return SmallCNN()


def build_sort_head():
    return SortHead()


def build_data_dependent():
    return DataDependent()


def build_untrained_mode():
    torch.manual_seed(3)
    return MLP().train()


def not_a_model():
    return 42
