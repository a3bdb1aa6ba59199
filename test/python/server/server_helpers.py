"""Helpers of the server tests: capture real bundles, talk to the server, wait for jobs."""
from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

MODELS = Path(__file__).with_name("models.py")
REPO = Path(__file__).resolve().parents[3]


def capture(factory: str, input_shape: str, out: Path) -> Path:
    """A real bundle from `python -m edgespec capture models.py:<factory>`."""
    completed = subprocess.run(
        [sys.executable, "-m", "edgespec", "capture", f"{MODELS}:{factory}", "--input-shape", input_shape,
         "--seed", "0", "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, f"capture of {factory} failed:\n{completed.stdout}\n{completed.stderr}"
    return out


def place(bundle: Path, root: Path, rel: str) -> str:
    """Copy a bundle under the server root; returns its root-relative path."""
    shutil.copytree(bundle, root / rel)
    return rel


async def request(jp_fetch: Callable, method: str, *parts: str, body: Any = None,
                  params: Optional[Dict[str, str]] = None, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    """(status, JSON body) of a request (authenticated unless `headers` say otherwise); no raise on 4xx/5xx."""
    kwargs: Dict[str, Any] = {"method": method, "raise_error": False, "headers": headers}
    if body is not None:
        kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
    elif method == "POST":
        kwargs["body"] = b""
    response = await jp_fetch(*parts, params=params, **kwargs)
    text = response.body.decode("utf-8") if response.body else ""
    try:
        return response.code, (json.loads(text) if text else None)
    except ValueError:
        return response.code, text


async def submit(jp_fetch: Callable, payload: Dict[str, Any]) -> str:
    status, body = await request(jp_fetch, "POST", "edgespec", "jobs", body=payload)
    assert status == 201, body
    return body["id"]


async def get_job(jp_fetch: Callable, job_id: str) -> Dict[str, Any]:
    status, job = await request(jp_fetch, "GET", "edgespec", "jobs", job_id)
    assert status == 200, job
    return job


async def wait_for(jp_fetch: Callable, job_id: str, condition: Callable[[Dict[str, Any]], bool],
                   timeout: float = 240.0, on_poll: Optional[Callable[[], Awaitable[Any]]] = None) -> Dict[str, Any]:
    """Poll GET /edgespec/jobs/<id> until `condition(job)`; fails with the job's log on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        job = await get_job(jp_fetch, job_id)
        if on_poll is not None:
            await on_poll()
        if condition(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s; log:\n" + "\n".join(job["log"]))
        await asyncio.sleep(0.2)


def finished(job: Dict[str, Any]) -> bool:
    return job["status"] not in ("queued", "running")


def render_footprint_html(footprint: Dict[str, Any]) -> str:
    """footprint.html as `edgespec build` draws it (src/common/report/footprintHtml.ts, compiled into lib/)."""
    renderer = REPO / "lib" / "common" / "report" / "footprintHtml.js"
    script = ("const {footprintReportDocument} = require(process.argv[1]); let s = '';"
              "process.stdin.on('data', d => s += d).on('end', () => process.stdout.write(footprintReportDocument(JSON.parse(s))));")
    completed = subprocess.run(["node", "-e", script, str(renderer)], input=json.dumps(footprint), capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout
