"""The Jupyter server extension: one JobQueue in the web app's settings, REST handlers.

Configure it like any server option, e.g. in jupyter_server_config.py
`c.EdgespecApp.max_jobs = 2`, or on the command line `jupyter lab --EdgespecApp.max_jobs=2`
(also `max_queued`, `job_timeout`, `cli`).
"""
from __future__ import annotations

from typing import List

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Int, List as ListTrait, Unicode

from .cli_location import toolchain_argv
from .handlers import QUEUE_SETTING, handlers
from .job_queue import DEFAULT_MAX_QUEUED, JobQueue


class EdgespecApp(ExtensionApp):
    name = "edgespec"
    load_other_extensions = True

    max_jobs = Int(1, config=True, help="How many build and run jobs may run at the same time; the rest wait in line.")
    max_queued = Int(DEFAULT_MAX_QUEUED, config=True,
                     help="How many jobs may wait in line; a job submitted beyond that is refused (429) until one starts "
                          "or is cancelled.")
    job_timeout = Float(3600.0, config=True,
                        help="Seconds after which a job that is still running is stopped and marked failed (0: never).")
    cli = ListTrait(Unicode(), config=True,
                    help="The edgespec command line to run jobs with, e.g. ['node', '/opt/edgespec/bin/edgespec']. "
                         "Empty: the EDGESPEC_CLI environment variable, else the repository's bin/edgespec.")

    def initialize_settings(self) -> None:
        if self.max_jobs < 1:
            self.log.warning("edgespec: EdgespecApp.max_jobs=%s is below 1; using 1", self.max_jobs)
        if self.max_queued < 1:
            self.log.warning("edgespec: EdgespecApp.max_queued=%s is below 1; using 1", self.max_queued)
        self.queue = JobQueue(
            root_dir=self.serverapp.root_dir,
            cli_argv=self._cli_argv,
            max_jobs=max(1, self.max_jobs),
            max_queued=max(1, self.max_queued),
            job_timeout=self.job_timeout or None,
            log=self.log,
        )
        self.settings[QUEUE_SETTING] = self.queue
        self.log.info("edgespec: jobs run at most %d at a time, at most %d wait; job list in %s",
                      self.queue.max_jobs, self.queue.max_queued, self.queue.store.path)

    def initialize_handlers(self) -> None:
        self.serverapp.web_app.add_handlers(".*$", handlers(self.serverapp.base_url))

    def _cli_argv(self) -> List[str]:
        return list(self.cli) if self.cli else toolchain_argv()

    async def stop_extension(self) -> None:
        await self.queue.shutdown()
