"""Fuzz target: the safetensors header reader (kernel-bridge/edgespec/safetensors_header.py).

Any bytes, as a file: read_safetensors_header returns entries that lie inside the file
with non-negative integer shapes, or raises SafetensorsFormatError with a message.
"""
from __future__ import annotations

import json
import random
import struct

import harness
from mutators import mutate_json_value

with harness.instrumented("edgespec.safetensors_header"):
    from edgespec.safetensors_header import SafetensorsFormatError, read_safetensors_header

SCRATCH = harness.scratch_dir()
FILE = SCRATCH / "input.safetensors"


def test_one_input(data: bytes) -> None:
    FILE.write_bytes(data)
    entries = {}

    def read():
        entries.update(read_safetensors_header(FILE))

    harness.expect_clear(read, (SafetensorsFormatError,))
    data_bytes = len(data) - 8 - (struct.unpack("<Q", data[:8])[0] if entries else 0)
    for name, entry in entries.items():
        if not all(type(d) is int and d >= 0 for d in entry.shape):
            raise harness.PropertyViolation(f"tensor {name!r} accepted with shape {entry.shape}")
        if not 0 <= entry.begin <= entry.end <= data_bytes:
            raise harness.PropertyViolation(f"tensor {name!r} accepted at [{entry.begin}, {entry.end}] "
                                            f"outside {data_bytes} data bytes")


def mutate_structure(data: bytes, rng: random.Random) -> bytes:
    """Change the JSON header, keep the data; usually with a length prefix that fits it."""
    (length,) = struct.unpack("<Q", data[:8])
    header = mutate_json_value(json.loads(data[8:8 + length]), rng)
    text = json.dumps(header).encode()
    prefix = len(text) if rng.random() < 0.9 else rng.choice((0, len(text) + 1, len(text) - 1, 2 ** 63))
    return struct.pack("<Q", max(prefix, 0)) + text + data[8 + length:]


if __name__ == "__main__":
    harness.run(test_one_input, mutate_structure)
