"""Where a command reports what it does; the same events as the TypeScript CLI (DESIGN.md "CLI events").

With --json every event is one JSON object on its own stdout line; otherwise progress and
logs go to stderr for a person and the result is printed readably on stdout.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Optional, TextIO


class Reporter:
    def __init__(self, json_mode: bool, out: TextIO = None, err: TextIO = None):
        self.json = json_mode
        self._out = out or sys.stdout
        self._err = err or sys.stderr

    def _emit(self, event: dict) -> None:
        self._out.write(json.dumps(event) + "\n")
        self._out.flush()

    def progress(self, stage: str, done: int, total: int, message: Optional[str] = None) -> None:
        if self.json:
            self._emit({"event": "progress", "stage": stage, "done": done, "total": total,
                        **({"message": message} if message else {})})
        else:
            self._err.write(f"[{stage}] {done}/{total}{' ' + message if message else ''}\n")

    def log(self, message: str, level: str = "info") -> None:
        if self.json:
            self._emit({"event": "log", "level": level, "message": message})
        elif level != "debug" or os.environ.get("EDGESPEC_DEBUG"):
            self._err.write(message + "\n")

    def result(self, command: str, data: Any, human: Optional[Callable[[], str]] = None) -> None:
        if self.json:
            self._emit({"event": "result", "command": command, "data": data})
        else:
            self._out.write((human() if human else json.dumps(data, indent=2)) + "\n")

    def capture_result(self, result, extra: dict) -> None:
        """A capture's notes (names changed, builds kept or removed) as log events, then its result."""
        if self.json:
            for note in result.notes:
                self.log(note, "warn")
        self.result("capture", {**result.to_dict(), **extra}, result.summary)

    def error(self, code: str, message: str, hint: Optional[str] = None, details: Any = None) -> None:
        if self.json:
            self._emit({"event": "error", "code": code, "message": message, **({"hint": hint} if hint else {}),
                        **({"details": details} if details is not None else {})})
        else:
            self._err.write(f"edgespec: error: {message}" + (f"\n  fix: {hint}" if hint else "") + "\n")
