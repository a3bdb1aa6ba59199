"""Where an exported graph node came from: its module path and the model source line."""
from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from typing import List, Optional, Tuple

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in ([^\n]+)')


def module_path(node) -> str:
    """The innermost module path of the node (e.g. features.3.conv.1); "" for the root module."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path = list(stack.values())[-1][0]
    return _clean_module_path(path)


def _clean_module_path(path: str) -> str:
    # Strict export can spell paths as L['self'].features or getattr(L['self'].features, '0').
    path = re.sub(r"getattr\((.*?), '([^']*)'\)", r"\1.\2", path)
    path = re.sub(r"^L\['self'\]\.?", "", path)
    return path


def source_line(node) -> Optional[str]:
    return source_from_stack_trace(node.meta.get("stack_trace"))


def source_from_stack_trace(stack_trace: Optional[str]) -> Optional[str]:
    """file:line of the innermost frame in model code (outside torch itself), where known."""
    frames = stack_frames(stack_trace)
    if not frames:
        return None
    torch_dir = _torch_dir()
    for path, line, _ in reversed(frames):
        if not (torch_dir and os.path.abspath(path).startswith(torch_dir)):
            return f"{short_path(path)}:{line}"
    path, line, _ = frames[-1]
    return f"{short_path(path)}:{line}"


def stack_frames(text: Optional[str]) -> List[Tuple[str, int, str]]:
    if not text:
        return []
    return [(m.group(1), int(m.group(2)), m.group(3).strip()) for m in _FRAME.finditer(text)]


def short_path(path: str) -> str:
    """Notebook cells as In[N]; paths inside site-packages from the package on; paths under the
    working directory relative to it."""
    cell = _notebook_cell(path)
    if cell:
        return cell
    marker = "site-packages" + os.sep
    if marker in path:
        return path.split(marker, 1)[1]
    try:
        cwd = os.getcwd()
        if os.path.isabs(path) and os.path.commonpath([cwd, path]) == cwd:
            return os.path.relpath(path, cwd)
    except (ValueError, OSError):
        pass
    return path


def _notebook_cell(path: str) -> Optional[str]:
    if "IPython" not in sys.modules:
        return None
    shell = sys.modules["IPython"].get_ipython()
    number = getattr(getattr(shell, "compile", None), "_filename_map", {}).get(path) if shell else None
    return f"In[{number}]" if number is not None else None


@lru_cache(maxsize=None)
def _torch_dir() -> Optional[str]:
    try:
        import torch
    except ImportError:
        return None
    return os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
