"""The command line that starts the edgespec CLI, as edgespec.toolchain finds it
(EDGESPEC_CLI, else the repository's bin/edgespec, else `edgespec` on PATH)."""
from __future__ import annotations

from typing import List

from ..errors import ToolchainError
from .errors import ApiError


def toolchain_argv() -> List[str]:
    from ..toolchain import find_cli

    try:
        return list(find_cli())
    except ToolchainError as e:
        raise ApiError(500, e.message, e.hint, e.code) from None
