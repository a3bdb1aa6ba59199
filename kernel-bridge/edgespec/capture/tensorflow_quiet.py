"""Silence TensorFlow while it converts, and keep what it said for the error message.

The TFLite converter prints hundreds of lines (Python prints of every captured
variable, C++ logs from MLIR and absl) straight to file descriptors 1 and 2, so
redirecting sys.stdout is not enough: the descriptors themselves are pointed at a
temporary file for the duration.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from typing import Iterator, List


class CapturedLog:
    def __init__(self) -> None:
        self.text = ""

    def tail(self, lines: int = 12) -> str:
        kept: List[str] = [line for line in self.text.splitlines() if line.strip()]
        return "\n".join(kept[-lines:])


def quiet_tensorflow_env() -> None:
    """Before TensorFlow is imported: no C++ info/warning logs (only errors)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def captured_output(python_streams: bool = True) -> Iterator[CapturedLog]:
    """Capture fds 1 and 2, and (python_streams) sys.stdout/sys.stderr, which in IPython are not those fds.

    Pass python_streams=False around imports: a logging handler created then (absl's) would keep
    the temporary stream for good.
    """
    log = CapturedLog()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            for fd in (1, 2):
                try:
                    saved.append((fd, os.dup(fd)))
                    os.dup2(sink.fileno(), fd)
                except OSError:  # no such descriptor (some embedded interpreters)
                    pass
            sink_fd = saved[0][0] if saved else sink.fileno()
            streams = (contextlib.redirect_stdout(_TextSink(sink_fd)), contextlib.redirect_stderr(_TextSink(sink_fd))) \
                if python_streams else (contextlib.nullcontext(), contextlib.nullcontext())
            with streams[0], streams[1], warnings.catch_warnings(), _quiet_loggers():
                warnings.simplefilter("ignore")
                yield log
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            log.text = sink.read().decode("utf-8", errors="replace")


class _TextSink:
    """A text stream writing to the sink's descriptor (IPython's sys.stdout is not fd 1)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, text: str) -> int:
        os.write(self._fd, text.encode("utf-8", errors="replace"))
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def _quiet_loggers() -> Iterator[None]:
    names = ["tensorflow", "absl", "keras", "h5py"]
    loggers = [logging.getLogger(n) for n in names]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in levels:
            lg.setLevel(level)
