"""Input shapes from the command line (`--input-shape 1x3x224x224`) and from model files, bounded.

Capture draws a seeded float32 input of each shape and runs the model on it; a shape whose
input would not fit in memory (a typo such as 1x3x224000x224000) is refused with its size
and the limit, instead of failing deep inside the framework.
"""
from __future__ import annotations

import math
import re
from typing import List, Sequence

from ..errors import ModelInputError

MAX_RANK = 8
MAX_INPUT_BYTES = 1 << 30  # 1 GiB of float32 values: far above any model an edge image runs
FLOAT32_BYTES = 4


def parse_shape(text: str, example: str = "1x3x224x224") -> List[int]:
    """'1x3x224x224' -> [1, 3, 224, 224]."""
    shown = text if len(text) <= 80 else text[:80] + "..."
    if not re.fullmatch(r"\d+(x\d+)*", text.strip()):
        raise ModelInputError(f"input shape '{shown}' is not dimensions joined by x", hint=f"write it like {example}")
    # a dimension of more than 18 digits is beyond any limit (and int() refuses thousands of digits)
    dims = [int(d) if len(d.lstrip("0")) <= 18 else 10 ** 18 for d in text.strip().split("x")]
    if any(d == 0 for d in dims):
        raise ModelInputError(f"input shape '{shown}' has a zero dimension", hint="every dimension must be at least 1")
    check_input_size(dims, f"input shape '{shown}'", example)
    return dims


def check_input_size(shape: Sequence[int], what: str, example: str = "1x3x224x224") -> None:
    """Refuse a shape of more than MAX_RANK dimensions or more than MAX_INPUT_BYTES of float32."""
    if len(shape) > MAX_RANK:
        raise ModelInputError(f"{what} has {len(shape)} dimensions; capture takes inputs of at most {MAX_RANK}",
                              hint=f"give the shape the model is called with, e.g. {example}")
    size = math.prod(int(d) for d in shape) * FLOAT32_BYTES
    if size > MAX_INPUT_BYTES:
        raise ModelInputError(
            f"{what} is {_bytes(size)} of float32 values, more than the {_bytes(MAX_INPUT_BYTES)} an input may hold",
            hint=f"give the shape the model is called with, e.g. {example} "
                 f"(at most {MAX_INPUT_BYTES // FLOAT32_BYTES:,} values per input)")


def _bytes(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            value = count / size
            return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{count} bytes"
