"""The one error type handlers turn into a JSON response `{message, hint, code}`."""
from __future__ import annotations

from typing import Any, Dict, Optional


class ApiError(Exception):
    def __init__(self, status: int, message: str, hint: Optional[str] = None, code: Optional[str] = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.code = code

    def body(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {"message": self.message}
        if self.hint:
            body["hint"] = self.hint
        if self.code:
            body["code"] = self.code
        return body
