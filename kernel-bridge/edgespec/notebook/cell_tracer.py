"""Record what a notebook cell did with PyTorch: every top-level nn.Module call (with copies
of its real inputs and outputs) and every ATen op dispatched while the cell ran.

A call is top-level when no other module call is active: calling `model(x)` records
`model`, not its layers. A module called again is counted, not recorded again.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, List, Optional

import torch
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

from ..capture.torch.op_inventory import OpCounter


@dataclass
class ModuleCall:
    module: torch.nn.Module
    inputs: tuple
    input_problem: Optional[str]
    outputs: Any = None
    finished: bool = False
    op_counts: Counter = field(default_factory=Counter)
    calls: int = 1


class CellTracer:
    def __init__(self):
        self.calls: List[ModuleCall] = []
        self._depth = 0
        self._active: Optional[ModuleCall] = None
        self._counter = OpCounter(on_op=self._on_op)
        self._handles: list = []

    @property
    def cell_ops(self) -> Counter:
        return self._counter.counts

    def __enter__(self) -> "CellTracer":
        self._handles = [register_module_forward_pre_hook(self._before_call),
                         register_module_forward_hook(self._after_call, always_call=True)]
        try:
            self._counter.__enter__()
        except BaseException:
            self._remove_hooks()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self._counter.__exit__(*exc_info)
        finally:
            self._remove_hooks()

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _on_op(self, name: str) -> None:
        if self._active is not None:
            self._active.op_counts[name] += 1

    def _before_call(self, module, args) -> None:
        if self._depth == 0 and not isinstance(module, torch.nn.modules.loss._Loss):
            earlier = next((c for c in self.calls if c.module is module), None)
            if earlier is not None:
                earlier.calls += 1
            else:
                inputs, problem = self._copy_inputs(args)
                self._active = ModuleCall(module, inputs, problem)
                self.calls.append(self._active)
        self._depth += 1

    def _after_call(self, module, args, output) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth == 0 and self._active is not None and self._active.module is module:
            self._active.outputs = self._copy(output)
            self._active.finished = True
            self._active = None

    def _copy_inputs(self, args):
        if not args:
            return (), "it was called with keyword arguments only"
        for index, value in enumerate(args):
            if not isinstance(value, torch.Tensor):
                return (), f"its argument {index} is a {type(value).__name__}, not a tensor"
        return self._copy(tuple(args)), None

    def _copy(self, value):
        """Detached copies, so later in-place changes in the cell do not alter the reference."""
        self._counter.paused = True
        try:
            return torch.utils._pytree.tree_map(
                lambda v: v.detach().clone() if isinstance(v, torch.Tensor) else v, value)
        finally:
            self._counter.paused = False
