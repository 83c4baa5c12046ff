"""jupyter-collab: live collaboration for Jupyter notebooks and files.

This module only holds the extension entry points and the version; everything
else lives in the modules named after their concept (rooms, store, protocol...).
"""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built by hatch
    __version__ = "0.0.0+unknown"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import CollabApp

    return [{"module": "jupyter_collab", "app": CollabApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-collab"}]
