"""The service behind the REST handlers: a queue of build, run and diff jobs.

At most `max_jobs` jobs run at once (first come, first served), and never two on the
same build directory (a diff job also holds its debug twin, `<build>-debug`). Each job is
one edgespec CLI command (cli_process.py); its events become the job's progress, log,
result and error, and every change is saved to the job file so a reloaded page or a
restarted server still sees it.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from ..contracts import build_dir_name, targets
from .cli_process import CliOutcome, CliProcess
from .errors import ApiError
from .files import named_files_in_root, os_problem, read_json_in_root, refuse_links_out_of_root
from .jobs import MAX_STORED_JOBS, Job, JobStore, new_job_id, utc_now
from .paths import PathOutsideRoot, contained_in_root, relative_to_root, resolve_in_root, shown

# The CLI's targets and dtypes, and where a build goes: src/common/targets.json
TARGETS = tuple(targets()["targets"])
DEFAULT_TARGET = targets()["default_target"]
DTYPES = tuple(targets()["dtypes"])
SAVE_DELAY_SECONDS = 0.5
DEFAULT_MAX_QUEUED = 100
REBUILD_HINT = "Build the bundle again (the Build action, or edgespec build BUNDLE)."
SHUTDOWN_ERROR = {"message": "Stopped by the Jupyter server's shutdown while it was running; its process was stopped.",
                  "hint": "Start the job again once the server is back.", "code": "server-shutdown"}
# `edgespec diff BUILD` builds and runs its debug twin in this sibling of BUILD.
DEBUG_BUILD_SUFFIX = "-debug"
RECAPTURE_HINT = "Keep the bundle's files inside the Jupyter root directory: copy them instead of linking, or capture the model again."


class JobQueue:
    def __init__(self, root_dir: str, cli_argv: Callable[[], List[str]], max_jobs: int = 1,
                 job_timeout: Optional[float] = None, log: Optional[logging.Logger] = None,
                 max_queued: int = DEFAULT_MAX_QUEUED):
        if max_jobs < 1:
            raise ValueError("max_jobs must be at least 1")
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self.max_queued = max_queued
        self.root_dir = root_dir
        self.cli_argv = cli_argv
        self.max_jobs = max_jobs
        self.job_timeout = job_timeout
        self.log = log or logging.getLogger("edgespec.server")
        self.store = JobStore(Path(root_dir) / ".edgespec" / "jobs.json")
        self._jobs: Dict[str, Job] = {job.id: job for job in self.store.load()}
        self._processes: Dict[str, CliProcess] = {}
        self._tasks: Dict[str, asyncio.Task] = {}
        self._cancel_requested: set = set()
        self._stopped_by_shutdown: set = set()
        self._shutting_down = False
        self._save_handle: Optional[asyncio.TimerHandle] = None
        if self._jobs:
            self.store.save(list(self._jobs.values()))

    # -- what the handlers call -------------------------------------------------------

    async def submit(self, request: Any) -> Job:
        """Queue the job a request asks for. Its paths and files are checked in a worker thread,
        so a slow file system (or a hostile path) never holds up the server's event loop."""
        if not isinstance(request, dict):
            raise ApiError(400, "The request body must be a JSON object.",
                           "Send {\"kind\": \"build\", \"bundle\": \"<dir>\"}, {\"kind\": \"run\", \"build\": \"<dir>\"} "
                           "or {\"kind\": \"diff\", \"build\": \"<dir>\"}.")
        self._refuse_when_full()
        job = await asyncio.get_running_loop().run_in_executor(None, self._new_job, request)
        self._refuse_when_full()  # others may have been queued while this one was checked
        self._jobs[job.id] = job
        self._forget_oldest()
        self._save_now()
        self._start_what_fits()
        return job

    def _refuse_when_full(self) -> None:
        waiting = sum(job.status == "queued" for job in self._jobs.values())
        if waiting >= self.max_queued:
            raise ApiError(429, f"{waiting} jobs are already waiting to run, as many as the queue holds "
                                f"(EdgespecApp.max_queued = {self.max_queued}).",
                           "Wait for a job to finish or cancel one that waits, then submit again; or raise "
                           "EdgespecApp.max_queued in the Jupyter server config.", "queue-full")

    def _forget_oldest(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if not job.active]
        for job_id in finished[:max(0, len(self._jobs) - MAX_STORED_JOBS)]:
            del self._jobs[job_id]

    def list(self) -> List[Job]:
        """Newest first (the dict keeps submission order)."""
        return list(reversed(self._jobs.values()))

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"There is no job '{job_id}'.", "List the jobs with GET /edgespec/jobs.")
        return job

    async def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if not job.active:
            raise ApiError(409, f"Job {job_id} has already finished ({job.status}); there is nothing to cancel.",
                           "Start a new job instead.")
        if job.status == "queued":
            job.finish("cancelled", {"message": "Cancelled before it started."})
            self._save_now()
            return job
        self._cancel_requested.add(job_id)
        process = self._processes.get(job_id)
        if process is not None:
            await process.stop()
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.wait({task}, timeout=10)
        return job

    async def shutdown(self) -> None:
        """Stop every running job (the server is stopping) and save the final state.

        Jobs stopped here say so: a shutdown is not the user's cancel, and the job failed
        only because the server went away."""
        self._shutting_down = True  # no queued job starts from here on
        for job_id in self._tasks:
            if job_id not in self._cancel_requested:
                self._stopped_by_shutdown.add(job_id)
        await asyncio.gather(*(process.stop() for process in list(self._processes.values())))
        if self._tasks:
            await asyncio.wait(set(self._tasks.values()), timeout=10)
        for job in self._jobs.values():
            if job.status == "queued":
                job.finish("failed", {"message": "The Jupyter server shut down before this job started.",
                                      "hint": "Start the job again once the server is back.", "code": "server-shutdown"})
            elif job.active:
                job.finish("failed", dict(SHUTDOWN_ERROR))
        self._save_now()

    # -- submission ------------------------------------------------------------------------

    def _target(self, request: Dict[str, Any], default: str) -> str:
        target = request.get("target") or default
        if target not in TARGETS:
            raise ApiError(400, f"Unknown target {target!r}.", f"Use one of: {', '.join(TARGETS)}.")
        return target

    def _dtype(self, request: Dict[str, Any]) -> Optional[str]:
        """The requested arithmetic, or None: the CLI then picks (float32, or int8 for a bundle
        with its own quantization, e.g. from an int8 .tflite)."""
        dtype = request.get("dtype")
        if dtype is None:
            return None
        if dtype not in DTYPES:
            raise ApiError(400, f"Unknown dtype {dtype!r}.",
                           f"Use one of: {', '.join(DTYPES)}, or leave it out for the bundle's own default.")
        return dtype

    def _new_job(self, request: Dict[str, Any]) -> Job:
        """The job a request asks for, checked against the file system (runs in a worker thread)."""
        kind = request.get("kind")
        if kind == "build":
            return self._new_build_job(request)
        if kind == "run":
            return self._new_run_job(request)
        if kind == "diff":
            return self._new_diff_job(request)
        raise ApiError(400, f"Unknown job kind {str(kind)[:40]!r}.",
                       "Use kind 'build' (needs 'bundle'), 'run' or 'diff' (each needs 'build').")

    def _new_build_job(self, request: Dict[str, Any]) -> Job:
        bundle = resolve_in_root(self.root_dir, request.get("bundle"), "bundle")
        if not (bundle / "graph.json").is_file():
            raise ApiError(404, f"No bundle at '{shown(request['bundle'])}': it has no graph.json.",
                           "Trace the model first (%%edgespec trace in a cell, or python -m edgespec capture).")
        target = self._target(request, DEFAULT_TARGET)
        dtype = self._dtype(request)
        out = bundle / targets()["builds_dir"] / build_dir_name(target, dtype)
        try:
            real_out = contained_in_root(self.root_dir, out, "build")
        except PathOutsideRoot:
            shown_out = f"{relative_to_root(self.root_dir, bundle)}/build".lstrip("/")
            raise ApiError(403, f"The bundle's build directory {shown_out} leads outside the Jupyter root directory "
                                "(through a symbolic link); edgespec does not write there.",
                           f"Remove the link ({shown_out}, or the {build_dir_name(target, dtype)} link inside it) "
                           "or make it point inside the root, then build again.", "link-outside-root") from None
        self._check_bundle_files(bundle)
        return Job(id=new_job_id(), kind="build", target=target, dtype=dtype,
                   bundle=relative_to_root(self.root_dir, bundle),
                   build=relative_to_root(self.root_dir, real_out))

    def _new_run_job(self, request: Dict[str, Any], kind: str = "run") -> Job:
        build = resolve_in_root(self.root_dir, request.get("build"), "build")
        manifest = read_build_manifest(self.root_dir, build)
        if manifest is None:
            raise ApiError(404, f"No build at '{shown(request['build'])}': it has no build.json.",
                           "Build the bundle first (the Build action, or edgespec build BUNDLE).")
        target = self._target(request, str(manifest.get("target") or DEFAULT_TARGET))
        dtype = manifest.get("dtype") if manifest.get("dtype") in DTYPES else "float32"
        # What the CLI reads for a run: build.json, the image and the bundle it names.
        refuse_links_out_of_root(self.root_dir, build, REBUILD_HINT)
        named_files_in_root(self.root_dir, build, [manifest.get("image")], REBUILD_HINT)
        named_bundle = manifest.get("bundle")
        if isinstance(named_bundle, str) and named_bundle:
            try:
                bundle = contained_in_root(self.root_dir, build / named_bundle, "bundle")
            except PathOutsideRoot:
                raise ApiError(403, "The bundle this build's build.json names lies outside the Jupyter root directory; "
                                    "edgespec does not read it.", "Build the bundle again inside the Jupyter root directory.",
                               "path-outside-root") from None
            if (bundle / "graph.json").is_file():
                self._check_bundle_files(bundle)
        return Job(id=new_job_id(), kind=kind, target=target, dtype=dtype, bundle=self._bundle_of(build, manifest),
                   build=relative_to_root(self.root_dir, build))

    def _new_diff_job(self, request: Dict[str, Any]) -> Job:
        """`edgespec diff BUILD`: what a run reads, and a debug twin beside BUILD that must stay in the root."""
        # the diff diagnoses the build as it was built: its own target, whatever the request says
        job = self._new_run_job({key: value for key, value in request.items() if key != "target"}, kind="diff")
        build = Path(self.root_dir) / job.build
        twin = debug_build_of(build)
        try:
            contained_in_root(self.root_dir, twin, "debug build")
        except PathOutsideRoot:
            shown_twin = debug_build_of(Path(job.build)).as_posix() if job.build else twin.name
            raise ApiError(403, f"The debug build {shown(shown_twin)} that edgespec diff writes beside the build lies "
                                "outside the Jupyter root directory; edgespec does not write there.",
                           "Build into a folder inside the Jupyter root directory (and not the root itself), or remove "
                           f"the link {shown(shown_twin)}, then start the diff again.", "link-outside-root") from None
        return job

    def _check_bundle_files(self, bundle: Path) -> None:
        """Refuse a bundle whose files (or the files its graph.json names) lead outside the root."""
        refuse_links_out_of_root(self.root_dir, bundle, RECAPTURE_HINT)
        try:
            graph = read_json_in_root(self.root_dir, bundle / "graph.json", RECAPTURE_HINT)
        except FileNotFoundError:
            return
        except ApiError as e:
            if e.code == "invalid-json":
                return  # the CLI says what is wrong with the user's graph.json
            raise
        if isinstance(graph, dict):
            named = [part.get("file") for part in (graph.get("weights"), graph.get("reference")) if isinstance(part, dict)]
            named_files_in_root(self.root_dir, bundle, named, RECAPTURE_HINT)

    def _bundle_of(self, build: Path, manifest: Dict[str, Any]) -> Optional[str]:
        """The bundle a build came from, when the manifest names it or the default layout shows it."""
        candidates = []
        named = manifest.get("bundle")
        if isinstance(named, str):
            candidates.append(build / named)
        candidates.append(build.parent.parent)
        for candidate in candidates:
            try:
                path = contained_in_root(self.root_dir, candidate, "bundle")
            except ApiError:
                continue
            if (path / "graph.json").is_file():
                return relative_to_root(self.root_dir, path)
        return None

    # -- running -----------------------------------------------------------------------------

    def _start_what_fits(self) -> None:
        if self._shutting_down:
            return
        busy_builds = {path for i in self._tasks for path in directories_of(self._jobs[i])}
        for job in list(self._jobs.values()):
            if len(self._tasks) >= self.max_jobs:
                break
            if job.status == "queued" and not busy_builds.intersection(directories_of(job)):
                busy_builds.update(directories_of(job))
                job.status = "running"
                job.started = utc_now()
                self._tasks[job.id] = asyncio.ensure_future(self._run(job))
        self._save_now()

    def _argv(self, job: Job) -> List[str]:
        root = Path(self.root_dir)
        if job.kind == "build":
            dtype = ["--dtype", job.dtype] if job.dtype else []
            return [*self.cli_argv(), "build", str(root / job.bundle), "--target", job.target, *dtype,
                    "--out", str(root / job.build), "--json"]
        if job.kind == "diff":
            return [*self.cli_argv(), "diff", str(root / job.build), "--json"]
        return [*self.cli_argv(), "run", str(root / job.build), "--json"]

    async def _run(self, job: Job) -> None:
        try:
            outcome = await self._run_process(job)
            self._finish(job, outcome)
        except OSError as e:  # e.g. the CLI cannot be started in the root directory
            self.log.warning("edgespec job %s could not run: %s", job.id, e)
            job.finish("failed", os_problem(e, "start the edgespec command in", "the Jupyter root directory",
                                            "See the Jupyter server log.").body())
        except Exception:  # a fault of ours must still end the job, with a reason
            self.log.exception("edgespec job %s failed", job.id)
            job.finish("failed", {"message": "The job could not run because of an internal error of the edgespec "
                                             "server extension.",
                                  "hint": "See the Jupyter server log for details; this is a bug worth reporting.",
                                  "code": "internal"})
        finally:
            self._processes.pop(job.id, None)
            self._tasks.pop(job.id, None)
            self._cancel_requested.discard(job.id)
            self._stopped_by_shutdown.discard(job.id)
            self._save_now()
            self._start_what_fits()

    async def _run_process(self, job: Job) -> Optional[CliOutcome]:
        try:
            argv = self._argv(job)
        except ApiError as e:  # the CLI is missing or not built
            job.finish("failed", e.body())
            return None
        process = CliProcess(argv, self.root_dir, lambda event: self._on_event(job, event))
        self._processes[job.id] = process
        job.add_log("$ " + " ".join(argv))
        if job.id in self._cancel_requested or job.id in self._stopped_by_shutdown:
            return CliOutcome(exit_code=None)
        try:
            return await process.run(self.job_timeout)
        except FileNotFoundError:
            job.finish("failed", {"message": f"Cannot start '{argv[0]}': it is not installed or not on PATH.",
                                  "hint": "Install Node.js 20 or newer, or set EDGESPEC_CLI to the edgespec command."})
            return None

    def _on_event(self, job: Job, event: Dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "progress":
            job.progress = {k: event[k] for k in ("stage", "done", "total", "message") if k in event}
        elif kind == "log":
            level = event.get("level", "info")
            message = str(event.get("message", ""))
            if level != "debug":
                job.add_log(message if level == "info" else f"{level}: {message}")
        elif kind == "error":
            job.add_log(f"error: {event.get('message', '')}")
            if event.get("hint"):
                job.add_log(f"  fix: {event['hint']}")
        self._save_soon()

    def _finish(self, job: Job, outcome: Optional[CliOutcome]) -> None:
        if outcome is None:
            return
        job.result = outcome.result
        succeeded = outcome.exit_code == 0 and outcome.error is None and not outcome.timed_out
        if job.id in self._stopped_by_shutdown and not succeeded:
            job.finish("failed", dict(SHUTDOWN_ERROR))
        elif job.id in self._cancel_requested:
            job.finish("cancelled", {"message": "Cancelled while running; its process was stopped."})
        elif outcome.timed_out:
            job.finish("failed", {"message": f"The job ran longer than {self.job_timeout:g} s and was stopped.",
                                  "hint": "Raise EdgespecApp.job_timeout in the Jupyter server config if it needs longer."})
        elif outcome.exit_code == 0 and outcome.error is None:
            if job.kind == "build" and job.dtype is None:
                job.dtype = built_dtype(outcome.result)
            job.finish("done")
        elif outcome.error is not None:  # the CLI's own message, hint and code, as it printed them
            job.finish("failed", {"hint": "Read the job's log for the full output.", **outcome.error})
        else:
            detail = "; ".join(outcome.stderr_tail[-3:])
            job.finish("failed", {"message": f"edgespec {job.kind} exited with status {outcome.exit_code}"
                                             + (f": {detail}" if detail else "."),
                                  "hint": "Read the job's log for the full output."})

    # -- saving ------------------------------------------------------------------------------

    def _save_soon(self) -> None:
        if self._save_handle is None:
            loop = asyncio.get_event_loop()
            self._save_handle = loop.call_later(SAVE_DELAY_SECONDS, self._save_now)

    def _save_now(self) -> None:
        if self._save_handle is not None:
            self._save_handle.cancel()
            self._save_handle = None
        try:
            self.store.save(list(self._jobs.values()))
        except OSError as e:
            self.log.warning("edgespec: cannot save the job list to %s: %s", self.store.path, e)


def debug_build_of(build: Path) -> Path:
    """Where `edgespec diff BUILD` puts BUILD's debug twin: the sibling `<name>-debug`."""
    return build.with_name(build.name + DEBUG_BUILD_SUFFIX)


def directories_of(job: Job) -> List[Optional[str]]:
    """The build directories a job writes (root-relative): two jobs sharing one never run at once."""
    if job.kind == "diff" and job.build:
        return [job.build, debug_build_of(Path(job.build)).as_posix()]
    return [job.build]


def built_dtype(result: Any) -> Optional[str]:
    """The dtype a finished build's result event reports (its build.json manifest), if any."""
    manifest = result.get("manifest") if isinstance(result, dict) else None
    dtype = manifest.get("dtype") if isinstance(manifest, dict) else None
    return dtype if dtype in DTYPES else None


def read_build_manifest(root: str, build: Path) -> Optional[Dict[str, Any]]:
    """build.json of a build directory, or None when there is none."""
    try:
        data = read_json_in_root(root, build / "build.json", REBUILD_HINT)
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise ApiError(422, f"build.json in '{build.name}' is not a JSON object.", "Build the bundle again.")
    return data
