"""The trace summary a traced cell displays: MIME application/vnd.edgespec.trace+json,
with text/plain and text/html renderings for frontends without the edgespec extension."""
from __future__ import annotations

import html
from typing import Any, Dict, List, Optional

TRACE_MIME = "application/vnd.edgespec.trace+json"


def new_summary() -> Dict[str, Any]:
    return {"format": "edgespec.trace", "version": 1, "models": [], "unsupported": []}


def mime_bundle(summary: Dict[str, Any]) -> Dict[str, Any]:
    return {TRACE_MIME: summary, "text/plain": render_text(summary), "text/html": render_html(summary)}


def _shape(io: Dict[str, Any]) -> str:
    return f"{io['dtype']}[{'x'.join(str(d) for d in io['shape'])}]"


def _error_text(error: Dict[str, Any]) -> List[str]:
    lines = [f"  error: {line}" if i == 0 else f"         {line}" for i, line in enumerate(error["message"].splitlines())]
    if error.get("hint"):
        lines.append(f"  fix:   {error['hint']}")
    return lines


def render_text(summary: Dict[str, Any]) -> str:
    models = summary["models"]
    lines = [f"edgespec trace: {len(models)} model{'s' if len(models) != 1 else ''} called in this cell"]
    if summary.get("error"):
        lines += _error_text(summary["error"])
    for model in models:
        lines.append("")
        target = model["bundle"] or "no bundle"
        lines.append(f"{model['name']} ({model['model_class']}, called {model['calls']}x) -> {target}")
        lines.append(f"  inputs:  {', '.join(_shape(i) for i in model['inputs']) or '-'}")
        lines.append(f"  outputs: {', '.join(_shape(o) for o in model['outputs']) or '-'}")
        if model["parameter_bytes"] is not None:
            lines.append(f"  parameters: {model['parameter_bytes']:,} bytes; graph: {model['nodes']} nodes")
        lines += [f"  note: {note}" for note in model.get("notes", [])]
        if model.get("error"):
            lines += _error_text(model["error"])
        if model["ops"]:
            width = max(len(r["framework_op"]) for r in model["ops"])
            lines.append(f"  {'framework op':<{width}}  count  edgespec op")
            for row in model["ops"]:
                op = row["edgespec_op"] or "-"
                mark = "" if row["supported"] else "   <- not supported"
                lines.append(f"  {row['framework_op']:<{width}}  {row['count']:>5}  {op}{mark}")
    return "\n".join(lines)


def render_html(summary: Dict[str, Any]) -> str:
    esc = html.escape
    parts = [f"<div class='edgespec-trace'><b>edgespec trace</b>: {len(summary['models'])} model(s) called in this cell"]
    if summary.get("error"):
        parts.append(_error_html(summary["error"]))
    for model in summary["models"]:
        parts.append(f"<h4>{esc(model['name'])} <small>({esc(model['model_class'])}, called {model['calls']}x)</small></h4>")
        parts.append("<ul>")
        parts.append(f"<li>bundle: <code>{esc(model['bundle'] or 'none')}</code></li>")
        parts.append(f"<li>inputs: {esc(', '.join(_shape(i) for i in model['inputs']) or '-')}; "
                     f"outputs: {esc(', '.join(_shape(o) for o in model['outputs']) or '-')}</li>")
        if model["parameter_bytes"] is not None:
            parts.append(f"<li>parameters: {model['parameter_bytes']:,} bytes; graph: {model['nodes']} nodes</li>")
        parts += [f"<li>note: {esc(note)}</li>" for note in model.get("notes", [])]
        parts.append("</ul>")
        if model.get("error"):
            parts.append(_error_html(model["error"]))
        if model["ops"]:
            parts.append("<table><thead><tr><th>framework op</th><th>count</th><th>edgespec op</th></tr></thead><tbody>")
            for row in model["ops"]:
                style = "" if row["supported"] else " style='color:var(--jp-error-color1, #c00)'"
                parts.append(f"<tr{style}><td><code>{esc(row['framework_op'])}</code></td><td>{row['count']}</td>"
                             f"<td>{esc(row['edgespec_op'] or 'not supported')}</td></tr>")
            parts.append("</tbody></table>")
    parts.append("</div>")
    return "".join(parts)


def _error_html(error: Dict[str, Any]) -> str:
    hint = f"<br>fix: {html.escape(error['hint'])}" if error.get("hint") else ""
    return f"<pre style='white-space:pre-wrap'>error: {html.escape(error['message'])}{hint}</pre>"


def error_dict(error) -> Dict[str, Any]:
    out: Dict[str, Any] = {"code": error.code, "message": error.message}
    if error.hint:
        out["hint"] = error.hint
    return out


def io_list(tensors) -> List[Dict[str, Any]]:
    import torch

    leaves, _ = torch.utils._pytree.tree_flatten(tensors)
    return [{"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
            for t in leaves if isinstance(t, torch.Tensor)]


def model_entry(name: str, call, bundle: Optional[str], result=None, error=None, unsupported_ops=None) -> Dict[str, Any]:
    from .dispatched_ops import inventory_rows

    return {
        "name": name,
        "model_class": type(call.module).__name__,
        "calls": call.calls,
        "bundle": bundle,
        "inputs": io_list(call.inputs),
        "outputs": io_list(call.outputs),
        "parameter_bytes": result.parameter_bytes if result else None,
        "nodes": result.nodes if result else None,
        "ops": inventory_rows(call.op_counts, unsupported_ops),
        **({"notes": list(result.notes)} if result and result.notes else {}),
        **({"error": error_dict(error)} if error else {}),
    }


def variable_name(model, user_ns: Dict[str, Any]) -> Optional[str]:
    """The user's name for a traced model: the first public variable of the cell's namespace bound to it."""
    for key, value in user_ns.items():
        if value is model and not key.startswith("_"):
            return key
    return None


def unique_name(name: str, taken: List[str]) -> str:
    """name, or name_2, name_3, ... when a model of that name is already in this trace (a valid bundle name still)."""
    from ..capture.names import NAME_LIMIT, unique

    return unique(name, taken, NAME_LIMIT)
