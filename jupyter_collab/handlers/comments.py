"""REST: the comment threads of one document, for panels and scripts.

``GET api/collab/comments/{path}`` lists the threads the caller may see (viewers and
up; private threads only for their author and owners). ``POST`` carries one request in
the shape of a room event (``{"type": "comment.create", "anchor": ..., "body": ...}``,
``comment.reply``, ``comment.edit``, ``comment.delete``, ``comment.resolve``,
``comment.reopen``) and answers ``{"thread": ...}``; the clients connected to the
document hear of it as if it came over the socket. docs/PROTOCOL.md, Comments.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import CollabError
from ..permissions import Role
from ..rooms.comments import Actor, may_see, thread_json
from .base import canonical_or_403, reader_role
from .links import read_body

if TYPE_CHECKING:
    from ..rooms.comments import CommentService
    from ..services import Services


class CommentsHandler(APIHandler):
    """``api/collab/comments/{path}``: list the threads, or change one."""

    auth_resource = "contents"

    def initialize(self, collab: Services) -> None:
        self.collab = collab

    async def _reader(self, path: str) -> tuple[CommentService, Role]:
        role = await reader_role(self.collab, self.current_user.username, path)
        service = self.collab.registry.comments
        if service is None:
            raise web.HTTPError(404, "comments are not served here")
        return service, role

    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def get(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        service, role = await self._reader(path)
        username = self.current_user.username
        registry = self.collab.registry
        room = registry.room_at(path)
        if room is not None:
            threads = await service.visible(room, username, role)
        else:
            record = await registry.history.find_document(registry.root, path)
            stored = [] if record is None else await service.records.threads(record.doc_id)
            threads = [t for t in stored if may_see(t, username, role)]
        self.finish(json.dumps({"path": path, "threads": [thread_json(t) for t in threads]}))

    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def post(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        service, role = await self._reader(path)
        request = read_body(self.request.body)
        registry = self.collab.registry
        room = registry.room_at(path)
        try:
            if room is None:
                kind = "notebook" if path.endswith(".ipynb") else "file"
                room = await registry.open_session(path, kind)
            thread = await service.perform(room, Actor(self.current_user.username, role), request)
        except CollabError as err:
            raise web.HTTPError(err.http_status, str(err)) from err
        self.finish(json.dumps({"thread": thread_json(thread)}))
