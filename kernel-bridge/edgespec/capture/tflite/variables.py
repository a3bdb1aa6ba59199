"""A streaming .tflite's resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE) become the
graph's `state`: what a variable holds when an invocation starts is a tensor of kind `state`, what it holds at the
end is the tensor last assigned to it, and the image carries the one into the other between invocations.

The walk follows TFLite's order: a read before any assignment in the invocation reads the state; a read after an
assignment reads the assigned tensor itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

import numpy as np

from .flatbuffer import FbOperator, variable_key
from ..lowering_base import Unmappable


@dataclass
class Variables:
    handles: Dict[int, str] = field(default_factory=dict)  # resource tensor index -> variable key
    current: Dict[str, str] = field(default_factory=dict)  # variable key -> the graph tensor it holds now
    reads: Dict[str, str] = field(default_factory=dict)  # variable key -> its state tensor (read before assigned)


def var_handle(low, op: FbOperator) -> None:
    for index in op.outputs:
        low.variables.handles[index] = variable_key(op.options)


def call_once(low, op: FbOperator) -> None:
    """The initialization subgraph it runs is read by flatbuffer.variable_initials; nothing runs per invocation."""


def _variable(low, op: FbOperator) -> str:
    resource = op.inputs[0] if op.inputs else -1
    if resource not in low.variables.handles:
        raise Unmappable("its resource does not come from a VAR_HANDLE in the main graph")
    return low.variables.handles[resource]


def read_variable(low, op: FbOperator) -> None:
    key = _variable(low, op)
    current = low.variables.current.get(key)
    if current is None:
        tensor = low.tensor(op.outputs[0])
        if tensor.type_name != "float32":
            raise Unmappable(f"its variable is {tensor.type_name}; edgespec keeps float32 state only")
        if key not in low.model.variable_initials:
            raise Unmappable("its variable has no initial value (no CALL_ONCE subgraph assigns it a constant)")
        current = low.builder.add_tensor(f"{tensor.name}.state", tensor.shape, "float32", "state")
        low.variables.reads[key] = current
        low.variables.current[key] = current
    low.alias(op.outputs[0], current)


def assign_variable(low, op: FbOperator) -> None:
    key = _variable(low, op)
    low.variables.current[key] = low.value(op.inputs[1])


def read_tensor_variable(low, index: int, shape) -> str:
    """A variable tensor (a fused LSTM's or RNN's h and c state): TFLite keeps what the op writes into it for the
    next invocation, so it is state too; zero before the first invocation unless its buffer says otherwise."""
    key = f"tensor {index}"
    if key not in low.variables.current:
        tensor = low.tensor(index)
        initial = low.real_constant(index, "state") if low.is_constant(index) else np.zeros(shape, np.float32)
        low.model.variable_initials[key] = np.broadcast_to(initial, shape).astype(np.float32)
        read = low.builder.add_tensor(f"{tensor.name}.state", shape, "float32", "state")
        low.variables.reads[key] = read
        low.variables.current[key] = read
    return low.variables.current[key]


def assign_tensor_variable(low, index: int, value: str) -> None:
    low.variables.current[f"tensor {index}"] = value


def add_state(low) -> None:
    """After the walk: one state record per variable the invocation reads before assigning it."""
    for key, read in low.variables.reads.items():
        written = low.variables.current[key]
        initial = low.model.variable_initials[key].astype("float32").reshape(low.builder.tensors[read]["shape"])
        low.builder.add_state(key, read, written, initial)


RULES = {
    "VAR_HANDLE": var_handle,
    "CALL_ONCE": call_once,
    "READ_VARIABLE": read_variable,
    "ASSIGN_VARIABLE": assign_variable,
}
