"""Thin REST handlers over the job queue and the build directories (src/lab/api.ts).

Every method is authenticated; every error is a JSON body `{message, hint, code}` with a
4xx status for a request the user can fix and 500 for a fault of ours.
"""
from __future__ import annotations

import asyncio
import functools
import json
from typing import Any, Awaitable, Callable

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from . import builds
from .archive import write_archive
from .errors import ApiError
from .files import os_problem
from .request_body import parse_request_body
from .job_queue import JobQueue

QUEUE_SETTING = "edgespec_job_queue"


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run file system work in a worker thread: the event loop serves every kernel and the file browser."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


def json_errors(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Turn an ApiError (or any unexpected failure) into a JSON error response."""

    @functools.wraps(method)
    async def wrapper(self: "EdgespecHandler", *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except ApiError as e:
            self.reply(e.status, e.body())
        except OSError as e:  # the file system refused; say which way, never with the exception's text
            self.log.warning("edgespec: %s %s: %s", self.request.method, self.request.path, e)
            error = os_problem(e, "use", "a file of this request")
            self.reply(error.status, error.body())
        except Exception:  # noqa: BLE001 - the client gets a message instead of a traceback
            self.log.exception("edgespec: %s %s failed", self.request.method, self.request.path)
            self.reply(500, {"message": "The edgespec server extension failed on this request (an internal error).",
                             "hint": "See the Jupyter server log for details; this is a bug worth reporting.",
                             "code": "internal"})

    return wrapper


class EdgespecHandler(APIHandler):
    @property
    def queue(self) -> JobQueue:
        return self.settings[QUEUE_SETTING]

    @property
    def root_dir(self) -> str:
        return self.queue.root_dir

    def reply(self, status: int, data: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors raised before a handler method runs (no login, bad XSRF) get a hint too."""
        hints = {
            401: "Log in to Jupyter: send the server's token (Authorization: token <token>) or its login cookie.",
            403: "Log in to Jupyter: send the server's token (Authorization: token <token>) or its login cookie.",
        }
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": self._reason,
                                "hint": hints.get(status_code, "See the Jupyter server log for details.")}))

    def json_body(self) -> Any:
        return parse_request_body(self.request.body or b"")

    def build_argument(self) -> str:
        value = self.get_query_argument("build", default=None)
        if value is None:
            raise ApiError(400, "The request needs a 'build' query parameter.",
                           "Add ?build=<build directory relative to the server root>.")
        return value


class JobsHandler(EdgespecHandler):
    @tornado.web.authenticated
    @json_errors
    async def get(self) -> None:
        self.reply(200, [job.to_dict() for job in self.queue.list()])

    @tornado.web.authenticated
    @json_errors
    async def post(self) -> None:
        job = await self.queue.submit(self.json_body())
        self.set_header("Location", url_path_join(self.base_url, "edgespec", "jobs", job.id))
        self.reply(201, {"id": job.id})


class JobHandler(EdgespecHandler):
    @tornado.web.authenticated
    @json_errors
    async def get(self, job_id: str) -> None:
        self.reply(200, self.queue.get(job_id).to_dict())

    @tornado.web.authenticated
    @json_errors
    async def delete(self, job_id: str) -> None:
        job = await self.queue.cancel(job_id)
        self.reply(200, job.to_dict())


class BuildsHandler(EdgespecHandler):
    @tornado.web.authenticated
    @json_errors
    async def get(self) -> None:
        known = [job.build for job in self.queue.list() if job.build]
        found = await in_thread(builds.list_builds, self.root_dir, known)
        self.reply(200, found)


class FootprintHandler(EdgespecHandler):
    @tornado.web.authenticated
    @json_errors
    async def get(self) -> None:
        self.reply(200, await in_thread(self._read, self.build_argument()))

    def _read(self, value: str) -> Any:
        build = builds.build_dir(self.root_dir, value)
        return builds.read_report(self.root_dir, build, "footprint.json", "Build the bundle again.")


class RunReportHandler(EdgespecHandler):
    @tornado.web.authenticated
    @json_errors
    async def get(self) -> None:
        self.reply(200, await in_thread(self._read, self.build_argument()))

    def _read(self, value: str) -> Any:
        build = builds.build_dir(self.root_dir, value)
        return builds.read_report(self.root_dir, build, "run.json",
                                  "Run the build in QEMU first (Run in QEMU, or edgespec run BUILD).")


class DivergenceHandler(EdgespecHandler):
    """divergence.json, the per-layer report `edgespec diff BUILD` writes into the build."""

    @tornado.web.authenticated
    @json_errors
    async def get(self) -> None:
        self.reply(200, await in_thread(self._read, self.build_argument()))

    def _read(self, value: str) -> Any:
        build = builds.build_dir(self.root_dir, value)
        return builds.read_report(self.root_dir, build, "divergence.json",
                                  "Find the divergent layer first (the run view's Find divergent layer, "
                                  "or edgespec diff BUILD).")


class ArchiveHandler(EdgespecHandler):
    @tornado.web.authenticated
    @json_errors
    async def post(self) -> None:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object {\"build\": \"<dir>\"}.", "Send the build directory.")
        self.reply(200, await in_thread(self._archive, body.get("build")))

    def _archive(self, value: Any) -> Any:
        return write_archive(self.root_dir, builds.build_dir(self.root_dir, value))


def handlers(base_url: str) -> list:
    def url(*parts: str) -> str:
        return url_path_join(base_url, "edgespec", *parts)

    return [
        (url("jobs"), JobsHandler),
        (url("jobs", r"([0-9a-zA-Z_-]+)"), JobHandler),
        (url("builds"), BuildsHandler),
        (url("footprint"), FootprintHandler),
        (url("run"), RunReportHandler),
        (url("divergence"), DivergenceHandler),
        (url("archive"), ArchiveHandler),
    ]
