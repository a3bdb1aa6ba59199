"""Read the header of a .safetensors file (names, dtypes, shapes) without loading the data.

Format: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
"""
from __future__ import annotations

import json
import os
import stat
import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any, Dict, List, Tuple

SAFETENSORS_DTYPES = {"F32": "float32", "I8": "int8", "U8": "uint8", "I32": "int32", "I64": "int64", "BOOL": "bool"}
_ITEM_BYTES = {"float32": 4, "int8": 1, "uint8": 1, "int32": 4, "int64": 8, "bool": 1}
_MAX_HEADER = 100 * 1024 * 1024


class SafetensorsFormatError(ValueError):
    pass


@dataclass(frozen=True)
class TensorEntry:
    dtype: str  # edgespec dtype name, or the raw safetensors code when edgespec has none
    shape: List[int]
    begin: int
    end: int


def read_safetensors_header(path: Path) -> Dict[str, TensorEntry]:
    """The header's tensor entries; SafetensorsFormatError (a ValueError) for anything that is not
    a regular safetensors file: every entry has a dtype string, a shape of non-negative integers and
    offsets inside the data section."""
    header_len, header_bytes, size = _read_header_bytes(Path(path))
    try:
        header = json.loads(header_bytes.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise SafetensorsFormatError("header nests too deeply to be a safetensors header") from None
    except ValueError as e:
        raise SafetensorsFormatError(f"header is not valid JSON ({_short(e)})") from None
    if not isinstance(header, dict):
        raise SafetensorsFormatError("header is not a JSON object")
    data_bytes = size - 8 - header_len
    entries: Dict[str, TensorEntry] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        entry = _entry(name, info)
        if not entry.begin <= entry.end <= data_bytes:
            raise SafetensorsFormatError(f"tensor '{_short(name)}' lies outside the file's {data_bytes} data bytes")
        expected = prod(entry.shape) * _ITEM_BYTES.get(entry.dtype, 0)
        if entry.dtype in _ITEM_BYTES and entry.end - entry.begin != expected:
            raise SafetensorsFormatError(f"tensor '{_short(name)}' holds {entry.end - entry.begin} bytes, "
                                         f"its shape and dtype need {expected}")
        entries[name] = entry
    return entries


def _read_header_bytes(path: Path) -> Tuple[int, bytes, int]:
    """(header length, header bytes, file size); refuses what is not a regular file without blocking on it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise SafetensorsFormatError(f"cannot be opened ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise SafetensorsFormatError("is not a regular file")
        size = status.st_size
        prefix = f.read(8)
        if len(prefix) != 8:
            raise SafetensorsFormatError("shorter than the 8-byte header length")
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len > min(size - 8, _MAX_HEADER):
            raise SafetensorsFormatError(f"header length {header_len} runs past the end of the {size}-byte file")
        header_bytes = f.read(header_len)
        if len(header_bytes) != header_len:
            raise SafetensorsFormatError(f"header of {header_len} bytes is cut short (the file changed while read)")
    return header_len, header_bytes, size


def _entry(name: str, info: Any) -> TensorEntry:
    fields = info if isinstance(info, dict) else {}
    dtype, shape, offsets = fields.get("dtype"), fields.get("shape"), fields.get("data_offsets")
    if not isinstance(dtype, str) or not isinstance(shape, list) or not isinstance(offsets, list):
        raise SafetensorsFormatError(f"entry '{_short(name)}' lacks dtype, shape or data_offsets")
    if not all(_is_count(d) for d in shape):
        raise SafetensorsFormatError(f"tensor '{_short(name)}' has shape {_short(shape)}, not a list of "
                                     "non-negative integers")
    if len(offsets) != 2 or not all(_is_count(o) for o in offsets):
        raise SafetensorsFormatError(f"tensor '{_short(name)}' has data_offsets {_short(offsets)}, not "
                                     "[begin, end] with 0 <= begin <= end")
    return TensorEntry(SAFETENSORS_DTYPES.get(dtype, dtype), list(shape), offsets[0], offsets[1])


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0  # not bool, not 1.0


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _short(value: Any, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
