"""The JSON body of a request, bounded in size and nesting before it is parsed.

Every request of the extension is a small flat object ({kind, bundle, target, dtype} or
{build}); a body far larger, or nested deeper, than that is refused with a message
instead of being parsed (Python's parser recurses once per level and fails deep inside).
"""
from __future__ import annotations

import json
from typing import Any

from .errors import ApiError

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
SHAPE = 'Send a JSON object such as {"kind": "build", "bundle": "<dir>"} or {"build": "<dir>"}.'


def parse_request_body(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"The request body is {len(raw)} bytes; edgespec's requests are at most {MAX_BODY_BYTES} bytes.",
                       SHAPE + " Paths are at most 4096 bytes.", "body-too-large")
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(400, f"The request body is not UTF-8 text (a bad byte at offset {e.start}).", SHAPE, "invalid-json")
    depth = nesting_depth(text, MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        raise ApiError(400, f"The request body nests JSON more than {MAX_JSON_DEPTH} levels deep.", SHAPE, "json-too-deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ApiError(400, f"The request body is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}).",
                       SHAPE, "invalid-json") from None
    except RecursionError:  # not reachable within MAX_JSON_DEPTH, kept as a guard
        raise ApiError(400, "The request body nests JSON too deeply.", SHAPE, "json-too-deep") from None


def nesting_depth(text: str, stop_above: int) -> int:
    """How deep arrays and objects nest in JSON text (brackets inside strings do not count);
    stops counting once past `stop_above`."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        elif char in "]}":
            depth -= 1
    return deepest
