"""Names and checksums of the files in a bundle directory."""
from __future__ import annotations

import hashlib
from pathlib import Path

GRAPH_FILE = "graph.json"
WEIGHTS_FILE = "weights.safetensors"
REFERENCE_FILE = "reference.safetensors"
INTERMEDIATES_FILE = "intermediates.safetensors"  # optional: the framework's values of intermediate tensors
BUNDLE_FILES = (GRAPH_FILE, WEIGHTS_FILE, REFERENCE_FILE, INTERMEDIATES_FILE)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
