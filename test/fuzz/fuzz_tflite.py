"""Fuzz target: .tflite files through the flatbuffer reader and the lowering
(edgespec.capture.tflite: flatbuffer.read_flatbuffer, capture.lower_tflite).

Any bytes as a .tflite model: lower_tflite returns the lowered graph, or raises an
EdgespecError (ModelInputError, UnsupportedOpsError, ...) with a message. The
structural mutator edits the model through TFLite's flatbuffer object API (shapes,
buffer and tensor indices, opcodes, options) so inputs get past the flatbuffer decoder.
"""
from __future__ import annotations

import random

import harness
from mutators import mutate_object_tree

# TensorFlow itself is imported first, uninstrumented, as edgespec imports it (capture.tflite.capture.import_tensorflow),
# without importing the capture modules, which the block below imports instrumented
from edgespec.capture.tensorflow_coexist import block_triton_before_tensorflow_import  # noqa: E402
from edgespec.capture.tensorflow_quiet import quiet_tensorflow_env  # noqa: E402

block_triton_before_tensorflow_import()
quiet_tensorflow_env()
import tensorflow  # noqa: E402,F401
with harness.instrumented("edgespec", "tensorflow.lite.tools.flatbuffer_utils", "tensorflow.lite.python.schema_py_generated",
                          "flatbuffers"):
    from tensorflow.lite.tools import flatbuffer_utils

    from edgespec.capture.tflite import flatbuffer, int8, lowering, rules  # noqa: F401
    from edgespec.capture.tflite.capture import lower_tflite
    from edgespec.errors import EdgespecError


def test_one_input(data: bytes) -> None:
    harness.expect_clear(lambda: lower_tflite(data), (EdgespecError,))


def mutate_structure(data: bytes, rng: random.Random) -> bytes:
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    return bytes(flatbuffer_utils.convert_object_to_bytearray(mutate_object_tree(model, rng)))


if __name__ == "__main__":
    harness.run(test_one_input, mutate_structure)
