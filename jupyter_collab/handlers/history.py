"""REST: the versions of one document, for the History panel, scripts and grading.

``GET api/collab/history/{path}`` lists the versions, oldest first, with the history's
size in the store. ``?version=N`` answers what the document was at version ``N``
(notebook JSON, or the text of a file), for a read-only preview. ``?from=N&to=M`` (``M``
may be ``current``) answers the difference: for notebooks nbdime's diff (cells added,
removed, moved and changed, with the text diff inside each cell and outputs), for text
files the lines that changed. Anyone who may read the document may do all of this.

``POST`` carries one request: ``{"type": "version.name", "name": "before refactor"}``
names the document as it is now; ``{"type": "version.restore", "version": N}`` puts
version ``N`` back, ``"cell": id`` only one cell of it, as the caller's change. Both
need a role that may edit; restoring a locked cell needs an owner. docs/PROTOCOL.md,
History.
"""

from __future__ import annotations

import asyncio
import copy
import difflib
import json
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import documents
from ..errors import CollabError
from ..permissions import Action, Role, allows
from ..rooms.versions import VersionService, version_json
from .base import canonical_or_403, reader_role
from .links import read_body

if TYPE_CHECKING:
    from ..rooms.room import Room
    from ..services import Services
    from ..store import DocumentRecord


class HistoryHandler(APIHandler):
    """``api/collab/history/{path}``: list, preview and compare versions; name one, or
    restore one."""

    auth_resource = "contents"

    def initialize(self, collab: Services) -> None:
        self.collab = collab

    async def _reader(self, path: str) -> tuple[VersionService, Role]:
        role = await reader_role(self.collab, self.current_user.username, path)
        service = self.collab.registry.versions
        if service is None:
            raise web.HTTPError(404, "versions are not kept here")
        return service, role

    async def _record(self, path: str) -> DocumentRecord:
        registry = self.collab.registry
        record = await registry.history.find_document(registry.root, path)
        if record is None:
            raise web.HTTPError(404, f"/{path} has no history yet: open it first")
        return record

    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def get(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        service, _ = await self._reader(path)
        record = await self._record(path)
        try:
            if self.get_argument("version", None) is not None:
                version = await service.find(record.doc_id, _number(self, "version"))
                content = await service.content(record.doc_id, record.kind, version)
                self.finish(
                    json.dumps(
                        {
                            "path": path,
                            "type": record.kind,
                            "version": version_json(version),
                            "content": content,
                        }
                    )
                )
                return
            if self.get_argument("from", None) is not None:
                self.finish(json.dumps(await self._diff(service, path, record)))
                return
        except CollabError as err:
            raise web.HTTPError(err.http_status, str(err)) from err
        room = self.collab.registry.room_at(path)
        if room is not None:
            await service.ready(room)
        versions = await service.versions.versions(record.doc_id)
        size = await self.collab.registry.history.size(record.doc_id)
        self.finish(
            json.dumps(
                {
                    "path": path,
                    "type": record.kind,
                    "versions": [version_json(v) for v in versions],
                    "size": size,
                }
            )
        )

    async def _diff(
        self, service: VersionService, path: str, record: DocumentRecord
    ) -> dict[str, Any]:
        before = await service.find(record.doc_id, _number(self, "from"))
        old = await service.content(record.doc_id, record.kind, before)
        to = self.get_argument("to", "current")
        if to == "current":
            new, after = await self._current(path, record), None
        else:
            after = await service.find(record.doc_id, _number(self, "to"))
            new = await service.content(record.doc_id, record.kind, after)
        answer: dict[str, Any] = {
            "path": path,
            "type": record.kind,
            "from": version_json(before),
            "to": None if after is None else version_json(after),
        }
        if record.kind == "notebook":
            # off the event loop: 260 ms for 1000 cells, and the first import takes ~1 s
            answer["base"], answer["diff"] = await asyncio.to_thread(_notebook_diff, old, new)
        else:
            answer["diff"] = list(
                difflib.unified_diff(
                    old.splitlines(keepends=True), new.splitlines(keepends=True), n=3
                )
            )
        return answer

    async def _current(self, path: str, record: DocumentRecord) -> Any:
        room = self.collab.registry.room_at(path)
        if room is not None:
            return documents.read(room.kind, room.ydoc)
        history = await self.collab.registry.history.load(record.doc_id)
        doc = documents.doc_from_updates(history.updates)
        return documents.read(record.kind, documents.wrap(record.kind, doc))

    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def post(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        service, role = await self._reader(path)
        request = read_body(self.request.body)
        kind = request.get("type")
        if kind not in ("version.name", "version.restore"):
            raise web.HTTPError(400, "type is version.name or version.restore")
        if not allows(role, Action.EDIT):
            raise web.HTTPError(
                403, f"{role.label}s may list and preview versions, not name or restore them"
            )
        username = self.current_user.username
        try:
            room = await self._room(path)
            if kind == "version.name":
                name = request.get("name")
                if not isinstance(name, str):
                    raise web.HTTPError(400, "name is the version's name")
                version = await service.name(room, name, username)
            else:
                number = request.get("version")
                cell = request.get("cell")
                if not isinstance(number, int) or isinstance(number, bool):
                    raise web.HTTPError(400, "version is a version's id")
                if cell is not None and not isinstance(cell, str):
                    raise web.HTTPError(400, "cell is a cell's id")
                version = await service.restore(room, number, username, role, cell=cell)
        except CollabError as err:
            raise web.HTTPError(err.http_status, str(err)) from err
        self.finish(json.dumps({"version": version_json(version)}))

    async def _room(self, path: str) -> Room:
        registry = self.collab.registry
        room = registry.room_at(path)
        if room is None:
            kind = "notebook" if path.endswith(".ipynb") else "file"
            room = await registry.open_session(path, kind)
        return room


def _notebook_diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """nbdime's diff of two notebooks, and the base it applies to. Both are read as
    nbformat reads a file first: multi-line strings joined (sources, outputs' text and
    data), which nbdime expects."""
    import nbformat
    from nbdime import diff_notebooks  # type: ignore[import-untyped]  # loads a lot
    from nbformat.v4.rwbase import rejoin_lines

    base = rejoin_lines(nbformat.from_dict(copy.deepcopy(old)))  # type: ignore[no-untyped-call]
    new = rejoin_lines(nbformat.from_dict(copy.deepcopy(new)))  # type: ignore[no-untyped-call]
    return base, diff_notebooks(base, new)


def _number(handler: web.RequestHandler, name: str) -> int:
    raw = handler.get_argument(name)
    try:
        return int(raw)
    except ValueError:
        raise web.HTTPError(400, f"{name} is a version's id, not {raw!r}") from None
