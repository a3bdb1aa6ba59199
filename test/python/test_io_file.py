"""edgespec.io_file writes and reads the I/O file of kernels/include/edgespec/io_format.h."""
import struct

import pytest

from edgespec.io_file import encode_inputs, file_bytes, first_tensor


def test_inputs_are_aligned_and_sized_as_the_header_says():
    tensors = [b"\x01" * 12, b"\x02" * 70]
    data = encode_inputs(tensors)
    assert data[:8] == b"EDGESPEC" and struct.unpack_from("<4I", data, 8) == (1, 1, 2, 0)
    assert struct.unpack_from("<2I", data, 24) == (12, 70)
    assert len(data) == file_bytes([12, 70]) == 64 + 64 + 128
    assert data[64:76] == tensors[0] and data[128:198] == tensors[1]
    assert first_tensor(data) == tensors[0]


def test_a_file_without_the_magic_is_refused():
    with pytest.raises(ValueError, match="EDGESPEC"):
        first_tensor(b"NOTEDGES" + bytes(64))
