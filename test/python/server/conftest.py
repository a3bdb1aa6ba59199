"""A real Jupyter server with the edgespec extension, and real bundles to build in it.

pytest-jupyter's fixtures are imported here (not via `pytest_plugins`, which only a
top-level conftest may set); they start a ServerApp on a free port with a temporary root
directory and a token, and `jp_fetch` sends authenticated requests to it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F401,F403 - fixtures and the async test hooks

from server_helpers import capture

REPO = Path(__file__).resolve().parents[3]
CLI_JS = REPO / "lib" / "toolchain" / "cli.js"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "notebook: executes examples/walkthrough.ipynb end to end (minutes)")


@pytest.fixture
def jp_server_config(request: Any) -> Dict[str, Any]:
    """The extension enabled, unauthenticated access off; a test may override settings with
    `@pytest.mark.parametrize("jp_server_config", [{"ServerApp": {...}}], indirect=True)`."""
    overrides = getattr(request, "param", {})
    return {
        "ServerApp": {
            "jpserver_extensions": {"edgespec.server": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
            **overrides.get("ServerApp", {}),
        },
        "EdgespecApp": {"max_jobs": 1, **overrides.get("EdgespecApp", {})},
    }


@pytest.fixture(scope="session")
def toolchain_built() -> None:
    if not CLI_JS.is_file():
        pytest.fail(f"the toolchain CLI is not built ({CLI_JS} is missing): run `npx tsc -p tsconfig.toolchain.json` in {REPO}")


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: Any) -> Path:
    return capture("tiny_cnn", "1x3x16x16", tmp_path_factory.mktemp("bundles") / "tiny")


@pytest.fixture(scope="session")
def slow_bundle(tmp_path_factory: Any) -> Path:
    return capture("slow_cnn", "1x48x96x96", tmp_path_factory.mktemp("bundles") / "slow")
