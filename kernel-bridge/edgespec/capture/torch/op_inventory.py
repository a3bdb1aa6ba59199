"""Count every ATen op dispatched while PyTorch code runs eagerly."""
from __future__ import annotations

from collections import Counter
from typing import Callable, Optional

from torch.utils._python_dispatch import TorchDispatchMode


class OpCounter(TorchDispatchMode):
    """A dispatch mode that counts ops by name (e.g. aten.convolution.default) and otherwise changes nothing."""

    def __init__(self, on_op: Optional[Callable[[str], None]] = None):
        super().__init__()
        self.counts: Counter = Counter()
        self.paused = False
        self._on_op = on_op

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if not self.paused:
            name = str(func)
            self.counts[name] += 1
            if self._on_op is not None:
                self._on_op(name)
        return func(*args, **(kwargs or {}))
