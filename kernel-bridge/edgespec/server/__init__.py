"""The edgespec Jupyter server extension: build and run jobs, reports and archives over REST.

Enabled by `etc/jupyter/jupyter_server_config.d/edgespec.json` (installed with the
package): `{"ServerApp": {"jpserver_extensions": {"edgespec.server": true}}}`. The
server loads it through `EdgespecApp._load_jupyter_server_extension` (app.py).
"""
from __future__ import annotations

from typing import Any, Dict, List


def _jupyter_server_extension_points() -> List[Dict[str, Any]]:
    from .app import EdgespecApp

    return [{"module": "edgespec.server", "app": EdgespecApp}]

