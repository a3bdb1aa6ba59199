"""Fuzz target: graph.json through the bundle validator (kernel-bridge/edgespec/capture/bundle_validation.py).

Any bytes as graph.json, beside the fixture bundle's valid weights.safetensors and
reference.safetensors: validate_bundle returns the graph, or raises BundleError (an
EdgespecError) with a message.
"""
from __future__ import annotations

import random
import shutil

import harness
from mutators import mutate_json_bytes

with harness.instrumented("edgespec.capture.bundle_validation", "edgespec.safetensors_header", "edgespec.vocabulary"):
    from edgespec.capture.bundle_validation import validate_bundle
    from edgespec.errors import EdgespecError

BUNDLE = harness.scratch_dir() / "bundle"
shutil.copytree(harness.HERE / "fixture_bundle", BUNDLE)
GRAPH = BUNDLE / "graph.json"


def test_one_input(data: bytes) -> None:
    GRAPH.write_bytes(data)
    harness.expect_clear(lambda: validate_bundle(BUNDLE), (EdgespecError,))


def mutate_structure(data: bytes, rng: random.Random) -> bytes:
    return mutate_json_bytes(data, rng)


if __name__ == "__main__":
    harness.run(test_one_input, mutate_structure)
