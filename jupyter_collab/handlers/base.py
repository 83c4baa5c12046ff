"""What every REST handler of ours shares: the path it acts on, resolved once."""

from __future__ import annotations

from typing import Any

from tornado import web

from ..errors import PermissionDenied


def canonical_or_403(collab: Any, raw: str) -> str:
    """The path ``raw`` names once resolved as the ContentsManager resolves it
    (``CollabApp.canonical_path``); 403 when it leaves the root or names a hidden file."""
    try:
        return str(collab.canonical_path(raw))
    except PermissionDenied as err:
        raise web.HTTPError(err.http_status, str(err)) from err
