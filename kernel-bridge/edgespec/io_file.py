"""The edgespec I/O file (kernels/include/edgespec/io_format.h): input.bin and output.bin.

"EDGESPEC", then u32 version, kind, tensor count and a reserved word, one u32 byte size per
tensor, and the tensors, each starting at a 64-byte boundary.
"""
from __future__ import annotations

import struct
from typing import List

IO_MAGIC = b"EDGESPEC"
IO_VERSION = 1
IO_KIND_INPUTS = 1
IO_ALIGN = 64
HEADER_BYTES = 24


def round_up(n: int) -> int:
    return (n + IO_ALIGN - 1) // IO_ALIGN * IO_ALIGN


def file_bytes(tensor_bytes: List[int]) -> int:
    """The size of an I/O file holding tensors of these byte sizes."""
    return round_up(HEADER_BYTES + 4 * len(tensor_bytes)) + sum(round_up(n) for n in tensor_bytes)


def encode_inputs(tensors: List[bytes]) -> bytes:
    """The I/O file of kind `inputs` holding these raw tensors."""
    header = IO_MAGIC + struct.pack("<IIII", IO_VERSION, IO_KIND_INPUTS, len(tensors), 0)
    header += b"".join(struct.pack("<I", len(t)) for t in tensors)
    out = bytearray(header.ljust(round_up(len(header)), b"\0"))
    for tensor in tensors:
        out += tensor.ljust(round_up(len(tensor)), b"\0")
    return bytes(out)


def first_tensor(data: bytes) -> bytes:
    """The raw bytes of the first tensor of an I/O file (e.g. output.bin's first output)."""
    if data[:8] != IO_MAGIC:
        raise ValueError("not an edgespec I/O file (no EDGESPEC magic)")
    count = struct.unpack_from("<I", data, 16)[0]
    size = struct.unpack_from("<I", data, HEADER_BYTES)[0]
    offset = round_up(HEADER_BYTES + 4 * count)
    return data[offset:offset + size]
