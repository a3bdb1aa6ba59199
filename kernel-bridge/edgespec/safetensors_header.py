"""Read the header of a .safetensors file (names, dtypes, shapes) without loading the data.

Format: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Dict, List

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
    size = path.stat().st_size
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) != 8:
            raise SafetensorsFormatError("shorter than the 8-byte header length")
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len > min(size - 8, _MAX_HEADER):
            raise SafetensorsFormatError(f"header length {header_len} runs past the end of the {size}-byte file")
        try:
            header = json.loads(f.read(header_len))
        except ValueError as e:
            raise SafetensorsFormatError(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorsFormatError("header is not a JSON object")
    data_bytes = size - 8 - header_len
    entries: Dict[str, TensorEntry] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = SAFETENSORS_DTYPES.get(info["dtype"], info["dtype"])
            shape = [int(d) for d in info["shape"]]
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorsFormatError(f"entry '{name}' lacks dtype, shape or data_offsets") from None
        if not 0 <= begin <= end <= data_bytes:
            raise SafetensorsFormatError(f"tensor '{name}' lies outside the file's {data_bytes} data bytes")
        expected = prod(shape) * _ITEM_BYTES.get(dtype, 0)
        if dtype in _ITEM_BYTES and end - begin != expected:
            raise SafetensorsFormatError(f"tensor '{name}' holds {end - begin} bytes, its shape and dtype need {expected}")
        entries[name] = TensorEntry(dtype, shape, begin, end)
    return entries
