"""Ops the capture computes itself because their result is known before the model runs: SHAPE of
a tensor (every shape is static once captured), and the small integer arithmetic a converter
writes around it when the model was saved with a dynamic batch dimension (Keras' Flatten and
Reshape: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE). Their results become constants, which the
rules of the ops that read them (RESHAPE's shape, a slice's bounds) take as they take any other.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

from .flatbuffer import FbOperator

# constants this large are weights, not shape arithmetic: left to the ops' own rules
_MAX_FOLDED_ELEMENTS = 1 << 16


def _strided_slice(op: FbOperator, x: np.ndarray, begin, end, strides) -> Optional[np.ndarray]:
    o = op.options
    if o.get("ellipsisMask") or o.get("newAxisMask") or o.get("offset"):
        return None
    index = []
    for axis in range(len(begin)):
        b = None if (o.get("beginMask", 0) >> axis) & 1 else int(begin[axis])
        e = None if (o.get("endMask", 0) >> axis) & 1 else int(end[axis])
        s = int(strides[axis]) if strides is not None else 1
        if (o.get("shrinkAxisMask", 0) >> axis) & 1:
            index.append(int(begin[axis]))
        else:
            index.append(slice(b, e, s))
    return np.asarray(x[tuple(index)])


def _pack(op: FbOperator, *values: np.ndarray) -> np.ndarray:
    return np.stack(values, axis=int(op.options.get("axis", 0)))


def _concatenation(op: FbOperator, *values: np.ndarray) -> np.ndarray:
    return np.concatenate(values, axis=int(op.options.get("axis", 0)))


def _gather(op: FbOperator, x: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return np.take(x, indices, axis=int(op.options.get("axis", 0)))


def _reduce(fn: Callable) -> Callable:
    def reduce(op: FbOperator, x: np.ndarray, axes: np.ndarray) -> np.ndarray:
        return fn(x, axis=tuple(int(a) for a in np.atleast_1d(axes)), keepdims=bool(op.options.get("keepDims", False)))
    return reduce


def _binary(fn: Callable) -> Callable:
    def binary(op: FbOperator, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return fn(a, b).astype(np.result_type(a, b))
    return binary


_FOLDERS: Dict[str, Callable[..., Optional[np.ndarray]]] = {
    "STRIDED_SLICE": lambda op, x, b, e, s=None: _strided_slice(op, x, b, e, s),
    "SLICE": lambda op, x, b, n: x[tuple(slice(int(i), None if int(k) < 0 else int(i) + int(k)) for i, k in zip(b, n))],
    "PACK": _pack,
    "CONCATENATION": _concatenation,
    "GATHER": _gather,
    "RESHAPE": lambda op, x, shape=None: None,  # its output shape is static: folded below
    "SQUEEZE": lambda op, x: None,
    "EXPAND_DIMS": lambda op, x, axis: None,
    "CAST": lambda op, x: None,
    "ADD": _binary(np.add),
    "SUB": _binary(np.subtract),
    "MUL": _binary(np.multiply),
    "FLOOR_DIV": _binary(np.floor_divide),
    "MAXIMUM": _binary(np.maximum),
    "MINIMUM": _binary(np.minimum),
    "REDUCE_PROD": _reduce(np.prod),
    "SUM": _reduce(np.sum),
    "FILL": lambda op, dims, value: np.full([int(d) for d in dims], value),
    "RANGE": lambda op, start, limit, delta: np.arange(start, limit, delta),
}

# ops whose result is their input's values in the output tensor's static shape and dtype
_RESHAPING = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "CAST"}


def fold_constant_op(low, op: FbOperator) -> bool:
    """Computes `op` into low.constants when its result is known now; True if it did."""
    if op.op == "SHAPE":
        if len(op.inputs) != 1 or op.inputs[0] < 0 or len(op.outputs) != 1:
            return False
        out = low.tensor(op.outputs[0])
        dtype = np.int64 if out.type_name == "int64" else np.int32
        low.constants[op.outputs[0]] = np.asarray(low.shape(op.inputs[0]), dtype=dtype)
        return True
    folder = _FOLDERS.get(op.op)
    inputs: List[int] = [i for i in op.inputs if i >= 0]
    if folder is None or len(op.outputs) != 1 or not inputs or not all(low.is_constant(i) for i in inputs):
        return False
    # fold only shape arithmetic, and its float cousins of the same size (a constant scale of a shape)
    values = [low.constants[i] for i in inputs]
    if any(v.size > _MAX_FOLDED_ELEMENTS for v in values):
        return False
    if not any(v.dtype.kind in "iu" for v in values) or any(low.tensor(i).quantized for i in inputs):
        return False
    out = low.tensor(op.outputs[0])
    try:
        if op.op in _RESHAPING:
            result = values[0]
        else:
            result = folder(op, *values)
    except (ValueError, IndexError, TypeError):
        return False
    if result is None:
        return False
    result = np.asarray(result)
    if result.size != int(np.prod(out.shape, dtype=np.int64)) and out.shape:
        return False
    target = {"int32": np.int32, "int64": np.int64, "float32": np.float32}.get(out.type_name)
    if target is None:
        return False
    low.constants[op.outputs[0]] = result.astype(target).reshape(out.shape)
    return True
