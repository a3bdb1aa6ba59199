"""What every Python fuzz target shares: the property a parser must hold, and the atheris setup.

The property: for any bytes, the parser returns, or raises one of the project's own errors
with a message (EdgespecError and its subclasses, or a parser's own error class). Any
other exception (KeyError, IndexError, struct.error, RecursionError, MemoryError, ...)
propagates, and atheris stops, printing the traceback and saving the input as a crash
file. A slow input is caught by libFuzzer's -timeout, a memory hog by -rss_limit_mb
(test/fuzz/run.sh sets both).

A target can also be given files or folders instead of fuzzer flags: `python fuzz_X.py
--replay FILE...` runs each once under the same property (for regression seeds and crash
files), without atheris's coverage instrumentation.
"""
from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Callable, Iterable, Tuple, Type

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "kernel-bridge"))

# messages longer than this are not "one clear message" (e.g. a header that echoes megabytes back)
MAX_MESSAGE_CHARS = 4000


class PropertyViolation(AssertionError):
    """The parser raised a clear error type, but without a usable message."""


def expect_clear(call: Callable[[], object], clear: Tuple[Type[BaseException], ...]) -> None:
    try:
        call()
    except clear as e:
        message = str(e)
        if not message.strip():
            raise PropertyViolation(f"{type(e).__name__} with an empty message") from e
        if len(message) > MAX_MESSAGE_CHARS:
            raise PropertyViolation(f"{type(e).__name__} with a {len(message)}-character message: {message[:300]}...") from e


def scratch_dir() -> Path:
    """A private directory for the inputs written to disk, in memory where the machine has /dev/shm."""
    import tempfile

    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="edgespec-fuzz-", dir=base))


def _replay(paths: Iterable[str], test_one_input: Callable[[bytes], None]) -> None:
    files = []
    for p in map(Path, paths):
        files += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        test_one_input(f.read_bytes())
    print(f"replayed {len(files)} inputs: all held the property")


def replaying() -> bool:
    return len(sys.argv) > 1 and sys.argv[1] == "--replay"


def instrumented(*packages: str):
    """Imports inside this block get coverage instrumentation (when fuzzing, not when replaying)."""
    if replaying():
        import contextlib

        return contextlib.nullcontext()
    import atheris

    return atheris.instrument_imports(include=list(packages))


def run(test_one_input: Callable[[bytes], None], mutate_structure: Callable[[bytes, random.Random], bytes] = None) -> None:
    """Fuzz `test_one_input` with atheris; with a structure-aware mutator, half the mutations are structural."""
    if replaying():
        _replay(sys.argv[2:], test_one_input)
        return
    import atheris

    kwargs = {}
    if mutate_structure is not None:
        def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
            rng = random.Random(seed)
            if rng.random() < 0.5:
                try:
                    mutated = mutate_structure(data, rng)
                    if mutated is not None and len(mutated) <= max_size:
                        return mutated
                except Exception:  # the input is not parseable structure: mutate its bytes instead
                    pass
            return atheris.Mutate(data, max_size)

        kwargs["custom_mutator"] = custom_mutator
    atheris.Setup(sys.argv, test_one_input, **kwargs)
    atheris.Fuzz()
