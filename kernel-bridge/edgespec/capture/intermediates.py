"""The framework's own values of a graph's intermediate tensors, kept in intermediates.safetensors.

`edgespec diff` compares an image's tensors, step by step, with these. Each framework's
capture runs its model once more on the reference input and reads the value of every
graph tensor the lowering tied to a framework value (GraphBuilder.origins): a torch FX
node's output (torch/intermediates.py), a TFLite tensor (tflite/capture.py), an ONNX
value (onnx/capture.py). Only tensors of kind activation or output whose framework value
has exactly the graph tensor's shape and dtype are kept; a tensor the lowering invented
(one framework op became several nodes) has no framework value and is left out.

Kept only while their total is at most MAX_BYTES (EDGESPEC_INTERMEDIATES_MAX_BYTES
overrides it); over that, the bundle keeps none and a capture note says so.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional

from ..errors import ModelInputError

MAX_BYTES = 256 << 20
MAX_BYTES_VARIABLE = "EDGESPEC_INTERMEDIATES_MAX_BYTES"
KINDS = ("activation", "output")

if TYPE_CHECKING:
    import numpy as np  # imported where used: the CLI reads MAX_BYTES for its help without NumPy


@dataclass
class Intermediates:
    """What capture keeps: `arrays` by graph tensor name (None when none are kept), and why not."""

    arrays: Optional[Dict[str, np.ndarray]]
    notes: List[str] = field(default_factory=list)


def max_bytes() -> int:
    """The cap on the intermediates' total bytes (the one place that reads EDGESPEC_INTERMEDIATES_MAX_BYTES)."""
    text = os.environ.get(MAX_BYTES_VARIABLE, "").strip()
    if not text:
        return MAX_BYTES
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ModelInputError(f"{MAX_BYTES_VARIABLE}={text!r} is not a number of bytes",
                              hint=f"set it to a whole number of bytes (e.g. {MAX_BYTES}) or unset it")
    return value


def wanted_origins(tensors: Mapping[str, Dict[str, Any]], origins: Mapping[str, Any]) -> Dict[str, Any]:
    """Graph tensor -> framework value, for the tensors whose framework value capture keeps."""
    return {name: origin for name, origin in origins.items()
            if name in tensors and tensors[name]["kind"] in KINDS}


def select(tensors: Mapping[str, Dict[str, Any]], values: Mapping[str, Any],
           limit: Optional[int] = None) -> Intermediates:
    """The values (graph tensor -> array) that match their graph tensor exactly, within the cap."""
    import numpy as np

    limit = max_bytes() if limit is None else limit
    kept: Dict[str, np.ndarray] = {}
    for name, value in values.items():
        tensor = tensors.get(name)
        if tensor is None or tensor["kind"] not in KINDS or value is None:
            continue
        array = np.asarray(value)
        if list(array.shape) != tensor["shape"] or str(array.dtype) != tensor["dtype"]:
            continue  # e.g. a value the framework computes in another layout: left out, never guessed
        kept[name] = array if array.flags.c_contiguous else array.copy(order="C")
    if not kept:
        return none_kept("the framework gave a value of none of the graph's tensors in their declared shapes")
    total = sum(a.nbytes for a in kept.values())
    if total > limit:
        return Intermediates(None, [_over_cap(len(kept), total, limit)])
    return Intermediates(kept)


def none_kept(reason: str) -> Intermediates:
    """The framework could not give its intermediate values: the capture goes on without them, and says so."""
    return Intermediates(None, [f"the bundle keeps no intermediate tensors ({reason}): edgespec diff cannot "
                                "compare this model layer by layer"])


def collect(tensors: Mapping[str, Dict[str, Any]], origins: Mapping[str, Any],
            read: Callable[[Dict[str, Any]], Mapping[Any, Any]], framework: str) -> Intermediates:
    """The kept values: `read(graph tensor -> origin)` runs the framework and returns origin -> value.

    The cap is checked on the declared shapes first, so a model over it is not run again. A
    framework that fails here costs the bundle its intermediates, not the capture (a note says why).
    """
    limit = max_bytes()
    wanted = wanted_origins(tensors, origins)
    declared = declared_bytes(tensors, origins)
    if declared > limit:
        return Intermediates(None, [_over_cap(len(wanted), declared, limit)])
    try:
        by_origin = read(wanted) if wanted else {}
    except Exception as e:  # the model already ran once for the reference; say why, keep the capture
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
        return none_kept(f"{framework} could not compute them: {type(e).__name__}" + (f": {first}" if first else ""))
    return select(tensors, {name: by_origin.get(origin) for name, origin in wanted.items()}, limit)


def declared_bytes(tensors: Mapping[str, Dict[str, Any]], origins: Mapping[str, Any]) -> int:
    """The bytes the kept values would take at most, from the declared shapes (before running anything)."""
    return sum(_tensor_bytes(tensors[name]) for name in wanted_origins(tensors, origins))


def within_cap(tensors: Mapping[str, Dict[str, Any]], origins: Mapping[str, Any]) -> bool:
    return declared_bytes(tensors, origins) <= max_bytes()


def _tensor_bytes(tensor: Dict[str, Any]) -> int:
    import numpy as np

    count = 1
    for d in tensor["shape"]:
        count *= int(d)
    return count * np.dtype(tensor["dtype"]).itemsize


def _over_cap(count: int, total: int, limit: int) -> str:
    return (f"the framework's values of the {count} intermediate tensors take {_size(total)}, more than the "
            f"{_size(limit)} capture keeps ({MAX_BYTES_VARIABLE}), so the bundle keeps none: edgespec diff cannot "
            "compare this model layer by layer")


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB" if count >= 1 << 20 else f"{count} bytes"
