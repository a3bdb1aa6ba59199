"""Inputs bound to a constant at capture (`--input-value sr=16000`).

A model file may take an input that only selects what it computes (Silero VAD's rank-0 int64
sample rate `sr`, tested with an If). Bound to one value, the input becomes a constant of the
model: constant folding then settles what depended on it (the If's condition, so the If takes
its branch), and the input is no longer an input of the image. The bundle says which inputs were
bound (graph.json source.bound_inputs) and the capture's summary says it in a note.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, Optional, Sequence

import numpy as np

from ..errors import ModelInputError

_NUMBER = r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
_EXAMPLE = "--input-value sr=16000"


def parse_input_values(texts: Optional[Iterable[str]]) -> Dict[str, float]:
    """['sr=16000', 'scale=0.5'] -> {'sr': 16000, 'scale': 0.5} (whole numbers stay int)."""
    values: Dict[str, float] = {}
    for text in texts or ():
        shown = text if len(text) <= 80 else text[:80] + "..."
        name, equals, value = text.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or not re.fullmatch(_NUMBER, value):
            raise ModelInputError(f"--input-value '{shown}' is not NAME=NUMBER", hint=f"write it like {_EXAMPLE}")
        if name in values:
            raise ModelInputError(f"--input-value gives input '{name}' twice", hint="give each input one value")
        values[name] = int(value) if re.fullmatch(r"[-+]?\d+", value) else float(value)
    return values


def check_known_inputs(values: Dict[str, float], names: Sequence[str], what: str) -> None:
    """Every bound name must be one of the model's inputs."""
    unknown = [name for name in values if name not in names]
    if unknown:
        raise ModelInputError(f"--input-value names {', '.join(repr(n) for n in unknown)}, which {what} does not take "
                              f"as an input", hint=f"its inputs are {', '.join(names) or 'none'}")


def bound_array(name: str, value: float, dtype, shape: Sequence[int]) -> np.ndarray:
    """The value filled into the input's shape and dtype; refused when the dtype cannot hold it exactly."""
    dtype = np.dtype(dtype)
    if any(int(d) <= 0 for d in shape):
        raise ModelInputError(f"input '{name}' has a free dimension ({list(shape)}); a bound value fills a fixed shape",
                              hint="bind inputs of a fixed shape (a rank-0 switch such as a sample rate)")
    if dtype.kind in "iu" and not (float(value).is_integer() and np.iinfo(dtype).min <= value <= np.iinfo(dtype).max):
        raise ModelInputError(f"input '{name}' is {dtype}, which cannot hold {value}",
                              hint=f"give it a value of its type, e.g. {_EXAMPLE}")
    return np.full([int(d) for d in shape], value, dtype=dtype)


def bound_note(values: Dict[str, float]) -> str:
    shown = ", ".join(f"'{name}' = {value}" for name, value in values.items())
    plural = "s" if len(values) != 1 else ""
    return (f"input{plural} {shown} bound at capture (--input-value): a constant of the model, no longer an input of "
            f"the image")
