"""A build or run job as the REST API shows it (src/lab/api.ts `Job`), and its JSON file.

The job list lives in `<root>/.edgespec/jobs.json` so the builds panel survives a page
reload, and a restarted server still lists the jobs that finished before it stopped.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

from .files import write_atomically

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
MAX_LOG_LINES = 1000
MAX_STORED_JOBS = 200


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_job_id() -> str:
    return secrets.token_hex(6)


@dataclass
class Job:
    id: str
    kind: str
    target: str
    bundle: Optional[str]
    build: Optional[str]
    # float32 or int8; None for a build that leaves it to the CLI (until it reports what it
    # built) and for jobs saved before the field existed
    dtype: Optional[str] = None
    status: str = "queued"
    progress: Optional[Dict[str, Any]] = None
    log: List[str] = field(default_factory=list)
    result: Any = None
    error: Optional[Dict[str, Any]] = None
    created: str = field(default_factory=utc_now)
    started: Optional[str] = None
    finished: Optional[str] = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def add_log(self, line: str) -> None:
        """Append a line; beyond MAX_LOG_LINES the oldest give way to one '… N earlier lines dropped'."""
        self.log.append(line)
        if len(self.log) > MAX_LOG_LINES:
            previously = int(self.log[0].split()[1]) if self.log[0].startswith("… ") else 0
            body = self.log[1:] if previously else self.log
            excess = len(body) - (MAX_LOG_LINES - 1)
            self.log = [f"… {previously + excess} earlier lines dropped"] + body[excess:]

    def finish(self, status: str, error: Optional[Dict[str, Any]] = None) -> None:
        self.status = status
        self.error = error
        self.finished = utc_now()

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Job":
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


class JobStore:
    """Reads and atomically rewrites the job list file."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> List[Job]:
        """The stored jobs, oldest first; jobs a stopped server left active become failed."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            jobs = [Job.from_dict(item) for item in data.get("jobs", [])]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, AttributeError):
            # A damaged file must not stop the server; start over and keep the bad copy.
            damaged = self.path.with_name(self.path.name + ".damaged")
            os.replace(self.path, damaged)
            return []
        for job in jobs:
            if job.active:
                job.finish("failed", {
                    "message": f"The Jupyter server stopped while this job was {job.status}.",
                    "hint": "Start the job again.",
                })
        return jobs

    def save(self, jobs: List[Job]) -> None:
        kept = jobs[-MAX_STORED_JOBS:]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"format": "edgespec.jobs", "version": 1, "jobs": [j.to_dict() for j in kept]})
        write_atomically(self.path, lambda f: f.write(data.encode("utf-8")), ".jobs-")
