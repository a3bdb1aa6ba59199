"""`python -m edgespec`: `capture` runs here; any other subcommand goes to the TypeScript CLI."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from typing import List, Optional

from ..errors import EdgespecError
from ..capture.staging import Stopped, stop_on_signals
from ..capture.user_code import os_error_text
from . import capture_command
from .reporter import Reporter

PYTHON_COMMANDS = {"capture"}


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m edgespec",
                     description="edgespec: capture a model here; build, run, inspect and doctor are served by the "
                                 "toolchain CLI (bin/edgespec), which this command forwards to.")
    subparsers = parser.add_subparsers(dest="command", parser_class=_Parser)
    capture_command.add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command is not None and command not in PYTHON_COMMANDS:
        return _forward(argv)
    reporter = Reporter("--json" in argv)
    try:
        with stop_on_signals():
            args = build_parser().parse_args(argv)
            if args.command is None:
                build_parser().print_help()
                return 0
            return capture_command.run(args, reporter)
    except UsageError as e:
        reporter.error("usage", str(e))
        return 2
    except EdgespecError as e:
        reporter.error(e.code, e.message, e.hint, e.details)
        return 1
    except (Stopped, KeyboardInterrupt) as e:
        stopped = e if isinstance(e, Stopped) else Stopped(signal.SIGINT)
        reporter.error("interrupted", f"capture stopped by {stopped.signal_name} before it finished; nothing "
                                      "half-written was left behind",
                       "run the capture again")
        return stopped.exit_code
    except OSError as e:  # the file system or the machine, not edgespec: say which path and why
        where = f" at {e.filename}" if e.filename else ""
        reporter.error("os_error", f"{os_error_text(e)}{where}",
                       "check that the path exists and can be read and written, and that its disk has space")
        return 1
    except MemoryError:
        reporter.error("out_of_memory", "the capture ran out of memory",
                       "capture with a smaller --input-shape, or on a machine with more memory")
        return 1
    except Exception as e:  # anything else is our bug: one line for the user, the stack on request
        reporter.error("internal", f"unexpected failure: {type(e).__name__}: {e}",
                       "this is a bug in edgespec; run again with EDGESPEC_DEBUG=1 and report the output")
        if os.environ.get("EDGESPEC_DEBUG"):
            traceback.print_exc()
        return 1


def _forward(argv: List[str]) -> int:
    from ..toolchain import exec_cli

    try:
        return exec_cli(argv)
    except EdgespecError as e:
        Reporter("--json" in argv).error(e.code, e.message, e.hint)
        return 1
