"""A standalone HTML footprint report: one file with its CSS, script and data inline.

It opens from disk with no server and no network (the archive ships it next to the
image), drawing a zoomable icicle chart of footprint.json with breadcrumbs, tooltips, a
flash/RAM switch, a searchable table and the comparison with a generic stack.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any, Dict

PLACEHOLDER = "__FOOTPRINT_JSON__"


def render_footprint_report(footprint: Dict[str, Any]) -> str:
    template = resources.files(__package__).joinpath("footprint_report.html").read_text(encoding="utf-8")
    # "<" only occurs inside JSON strings, where \u003c means the same; so no "</script>"
    # or "<!--" in the data can end or confuse the script element.
    payload = json.dumps(footprint, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return template.replace(PLACEHOLDER, payload, 1)
