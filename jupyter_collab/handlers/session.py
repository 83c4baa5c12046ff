"""REST: open (or create) the room of a file and learn how to connect to it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..documents import KINDS
from ..errors import CollabError, PermissionDenied
from .base import canonical_or_403

if TYPE_CHECKING:
    from ..services import Services


class SessionHandler(APIHandler):
    """``PUT api/collab/session/{path}`` with ``{"type": "notebook" | "file"}``."""

    auth_resource = "contents"

    def initialize(self, collab: Services) -> None:
        self.collab = collab

    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def put(self, path: str) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise web.HTTPError(400, "body must be JSON") from None
        kind = body.get("type") if isinstance(body, dict) else None
        if kind not in KINDS:
            raise web.HTTPError(400, f"unknown type {kind!r}: expected one of {sorted(KINDS)}")
        username = self.current_user.username
        try:
            await self.collab.ready()
            # the file the ContentsManager will open, not the path as written (`..`, symlinks)
            path = canonical_or_403(self.collab, path)
            role = await self.collab.access.role_of(username, path)
            if role is None:
                raise PermissionDenied(f"{username} has no access to {path}")
            room = await self.collab.registry.open_session(path, kind)
        except CollabError as err:
            raise web.HTTPError(err.http_status, str(err)) from err
        self.finish(
            json.dumps(
                {
                    "doc_id": room.doc_id,
                    "room": f"api/collab/room/{room.doc_id}",
                    "epoch": room.epoch,
                    "role": role.label,
                    "can_execute": self.collab.can_execute(username, role),
                    "path": room.path,
                    "type": room.kind,
                }
            )
        )
