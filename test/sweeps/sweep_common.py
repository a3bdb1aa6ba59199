"""What the sweeps share: the CLI run for build and run, one result row per case, the table."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / "bin" / "edgespec")


@dataclass
class CaseResult:
    name: str
    status: str  # pass | fail | refused
    stage: str = ""  # capture | build | run | compare
    message: str = ""
    detail: Dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0


def cli(args: List[str], timeout: int = 900) -> Tuple[int, List[dict]]:
    env = {k: v for k, v in os.environ.items() if k != "EDGESPEC_TEST_PLANT_FAULT"}
    try:
        proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)
    except subprocess.TimeoutExpired:
        return -1, [{"event": "error", "code": "timeout", "message": f"edgespec {args[0]} took over {timeout} s"}]
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 and not any(e.get("event") == "error" for e in events):
        last = [line for line in proc.stderr.splitlines() if line.strip()][-3:]
        events.append({"event": "error", "message": f"edgespec {args[0]} exited {proc.returncode} without an error event: "
                       + (" / ".join(last) or "no output on stderr")})
    return proc.returncode, events


def error_of(events: List[dict]) -> str:
    errors = [e for e in events if e["event"] == "error"]
    return errors[-1]["message"] if errors else "no result"


def result_of(events: List[dict]) -> Optional[dict]:
    results = [e["data"] for e in events if e["event"] == "result"]
    return results[-1] if results else None


def build_and_run(bundle: Path, target: str, input_file: Optional[Path], timeout: int = 900) -> Tuple[Optional[dict], str, str]:
    """(run.json, failed stage, message): builds BUNDLE for TARGET and runs it, on INPUT_FILE if given."""
    out = bundle / "build" / target
    code, events = cli(["build", str(bundle), "--target", target, "--out", str(out)], timeout)
    if code != 0:
        return None, "build", error_of(events)
    code, events = cli(["run", str(out)] + (["--input", str(input_file)] if input_file else []), timeout)
    report = result_of(events)
    if report is None:
        return None, "run", error_of(events)
    return report, "", ""


def one_line(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def machine_line() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu or platform.processor()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"


def read_json(path: Path) -> List[CaseResult]:
    """The rows an earlier run wrote with write_json (none if the file is missing)."""
    if not path.exists():
        return []
    return [CaseResult(**row) for row in json.loads(path.read_text())]


def head_commit() -> str:
    """The repository's commit, short, so a table assembled over several runs says what each row ran."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO, timeout=30)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def write_json(path: Path, results: List[CaseResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")


def publish(out: str, table: str, results: List[CaseResult], json_path: Optional[str],
            counted: Optional[List[CaseResult]] = None, noun: str = "pass") -> None:
    """A sweep's closing (or its progress so far): the markdown table, the rows as JSON when
    asked, and, given the rows that count, one line with how many of them pass."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(table)
    if json_path:
        write_json(Path(json_path), results)
    if counted is not None:
        print(f"{sum(r.status == 'pass' for r in counted)} of {len(counted)} {noun}; table in {out}")
