"""The Python peers' side of the bench's line protocol (src/toolchain/bench/linePeer.ts): each
line `time RUNS WARMUP` on stdin is answered with one JSON line {"event": "times", "times_ms":
[...]}, until `quit` or the end of stdin. Needs only the standard library (it runs in the arm64
sysroot too)."""
from __future__ import annotations

import json
import sys
from typing import Callable, List


def answer_time_requests(time_runs: Callable[[int, int], List[float]]) -> None:
    """time_runs(runs, warmup): WARMUP untimed invokes, then the milliseconds of RUNS timed ones."""
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] != "time" or len(words) != 3:
            print(json.dumps({"event": "error", "message": f"unknown request {line.strip()!r}"}), flush=True)
            continue
        print(json.dumps({"event": "times", "times_ms": time_runs(int(words[1]), int(words[2]))}), flush=True)
