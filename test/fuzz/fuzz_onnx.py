"""Fuzz target: .onnx files through loading and lowering (edgespec.capture.onnx.capture: load_onnx, lower_onnx).

Any bytes as an .onnx file: loading and lowering it (shape inference included) returns the
lowered graph, or raises an EdgespecError (ModelInputError, UnsupportedOpsError, ...)
with a message. The structural mutator edits the decoded ModelProto (dims, attributes,
names, initializers, nodes) so inputs get past the protobuf decoder.
"""
from __future__ import annotations

import random

import harness
from mutators import mutate_message

import onnx  # noqa: E402  (the protobuf classes and shape inference are C++; not instrumented)

with harness.instrumented("edgespec", "onnx.helper", "onnx.numpy_helper"):
    from edgespec.capture.onnx import lowering, rules  # noqa: F401
    from edgespec.capture.onnx.capture import load_onnx, lower_onnx
    from edgespec.errors import EdgespecError

MODEL = harness.scratch_dir() / "model.onnx"


def test_one_input(data: bytes) -> None:
    MODEL.write_bytes(data)
    harness.expect_clear(lambda: lower_onnx(load_onnx(MODEL)), (EdgespecError,))


def mutate_structure(data: bytes, rng: random.Random) -> bytes:
    model = onnx.ModelProto.FromString(data)
    graph = model.graph
    names = sorted({n for node in graph.node for n in [*node.input, *node.output]} |
                   {t.name for t in graph.initializer})
    mutate_message(model, rng, names)
    return model.SerializeToString()


if __name__ == "__main__":
    harness.run(test_one_input, mutate_structure)
