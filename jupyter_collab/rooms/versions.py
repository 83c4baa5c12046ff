"""Versions: points of a document's history that people list, preview, compare and
restore, as a service of the room hook table.

- **Automatic versions** come from activity: once a document has been quiet for
  ``pause_seconds`` after changes, or has changed for ``stretch_seconds`` without such a
  pause (a class typing for an hour still gets versions), or when its last person left.
  The first time a document is seen it gets a version of what it was then.
- **Named versions** are made by people who may edit (``name``: "before refactor").
- **Restores** put a version back, or one cell of it, as a forward change authored by
  the restorer: everyone sees it live, the history keeps everything before it, and the
  state just before is a version too (restoring that one undoes the restore).

Nothing here runs per update: the service reads the history's sequence number once a
tick and compares it with the one it saw (decision 9 measured what per-update work
costs a typing class). Each version's summary is computed against the version before
from fingerprints (``versioning.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_ydoc import YNotebook

from .. import documents, versioning
from ..close_codes import CloseCode
from ..errors import CollabError, PermissionDenied, ProtocolError
from ..permissions import Role
from ..store.versions import Version, VersionKind
from . import hooks as h
from .ports import HistoryLog, VersionRecords
from .tasks import Tasks

if TYPE_CHECKING:
    from .room import Room

log = logging.getLogger(__name__)

MAX_NAME = 200


class VersionRefused(ProtocolError):
    """A version request that cannot be carried out (over REST, HTTP 400); nothing
    changed."""

    http_status = 400


class VersionNotFound(CollabError):
    """No such version, or no such cell in it (over REST, HTTP 404)."""

    close_code = CloseCode.NOT_FOUND
    http_status = 404


@dataclass
class _Track:
    """What the service knows of one live document."""

    seen_seq: int  # the history's seq at the last tick
    version_seq: int = -1  # seq of the latest version (-1: not read yet)
    fingerprint: dict[str, Any] = field(default_factory=dict)
    changed_at: float = 0.0  # when seen_seq last moved
    since: float | None = None  # the first change after the latest version
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready: asyncio.Future[None] | None = None


def version_json(version: Version) -> dict[str, Any]:
    """A version as clients get it (the REST list, ``version`` events)."""
    return {
        "id": version.version_id,
        "seq": version.seq,
        "created_at": version.created_at,
        "kind": version.kind,
        "name": version.name,
        "by": version.by,
        "authors": list(version.authors),
        "summary": version.summary,
    }


class VersionService:
    """Versions of the documents of one registry.

    Args:
        rooms: the registry's live rooms, by doc id.
        history: the history log (sequence numbers, seals, loading, authors).
        versions: where versions are kept.
        pause_seconds: quiet this long after changes makes an automatic version.
        stretch_seconds: changes going on this long without a pause make one too.
        clock: wall-clock time, stamped on versions.
    """

    def __init__(
        self,
        rooms: Mapping[str, Room],
        history: HistoryLog,
        versions: VersionRecords,
        *,
        pause_seconds: float = 60.0,
        stretch_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rooms = rooms
        self.history = history
        self.versions = versions
        self.pause_seconds = pause_seconds
        self.stretch_seconds = stretch_seconds
        self._clock = clock
        self._tracks: dict[str, _Track] = {}
        self._tasks = Tasks("versions: making a version")

    def install(self, hooks: h.RoomHooks) -> None:
        hooks.synced.subscribe(self._synced)
        hooks.left.subscribe(self._left)
        hooks.closed.subscribe(self._closed)
        hooks.tick.subscribe(self._tick)

    # -- automatic versions -------------------------------------------------------------

    def _synced(self, event: h.Synced) -> None:
        self._track(event.room)

    def _track(self, room: Room) -> _Track:
        track = self._tracks.get(room.doc_id)
        if track is None:
            track = self._tracks[room.doc_id] = _Track(self.history.last_seq(room.doc_id))
            track.ready = self._tasks.spawn(self._load(room, track))
        return track

    async def _load(self, room: Room, track: _Track) -> None:
        latest = await self.versions.latest(room.doc_id)
        if latest is not None:
            track.version_seq, track.fingerprint = latest.seq, latest.fingerprint
            if track.seen_seq > latest.seq:
                track.since = track.changed_at = self._clock()  # changed before a restart
            return
        if not room.closed:  # what the document was when first seen: the first version
            await self.create(room, "auto")

    async def _tick(self, event: h.Tick) -> None:
        now = self._clock()
        for doc_id, track in list(self._tracks.items()):
            room = self.rooms.get(doc_id)
            if room is None or room.closed or track.version_seq < 0:
                continue
            seq = self.history.last_seq(doc_id)
            if seq != track.seen_seq:
                track.seen_seq, track.changed_at = seq, now
                if track.since is None:
                    track.since = now
            if seq <= track.version_seq or track.since is None or track.lock.locked():
                continue
            if (
                now - track.changed_at >= self.pause_seconds
                or now - track.since >= self.stretch_seconds
            ):
                self._tasks.spawn(self.create(room, "auto"))

    def _left(self, event: h.Left) -> None:
        room = event.room
        track = self._tracks.get(room.doc_id)
        if room.clients or track is None or track.version_seq < 0:
            return
        if self.history.last_seq(room.doc_id) > track.version_seq:
            self._tasks.spawn(self.create(room, "auto"))  # the last person left: a version now

    def _closed(self, event: h.Closed) -> None:
        self._tracks.pop(event.room.doc_id, None)

    # -- making versions ----------------------------------------------------------------

    async def create(
        self,
        room: Room,
        kind: VersionKind,
        *,
        name: str | None = None,
        by: str | None = None,
    ) -> Version | None:
        """Make a version of the live document as it is now; ``None`` when an automatic
        one would show nothing new (the changes since the last one undid themselves)."""
        track = self._track(room)
        async with track.lock:
            self.history.seal(room.doc_id)  # the version ends a stored row
            seq = self.history.last_seq(room.doc_id)
            fingerprint = versioning.fingerprint(room.kind, room.ydoc)
            first = track.version_seq < 0 and not track.fingerprint
            if kind == "auto" and not first and fingerprint == track.fingerprint:
                track.version_seq, track.since = seq, None
                return None
            after = max(track.version_seq, 0)
            authors = await self.history.authors_between(room.doc_id, after, seq)
            version = await self.versions.add(
                room.doc_id,
                seq,
                created_at=self._clock(),
                kind=kind,
                name=name,
                by=by,
                authors=[a for a in authors if a != "server"],
                summary=versioning.summarize(track.fingerprint, fingerprint),
                fingerprint=fingerprint,
            )
            track.version_seq, track.fingerprint, track.since = seq, fingerprint, None
        if not room.closed and not first:  # the first says nothing new to anyone there
            room.broadcast_event({"type": "version", "version": version_json(version)})
        return version

    async def name(self, room: Room, name: str, by: str) -> Version:
        """A named version of the document as it is now (people who may edit)."""
        if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME:
            raise VersionRefused(f"a version's name is 1 to {MAX_NAME} characters")
        await self.ready(room)
        version = await self.create(room, "named", name=name.strip(), by=by)
        assert version is not None  # only automatic versions may be skipped
        return version

    # -- reading ------------------------------------------------------------------------

    async def content(self, doc_id: str, kind: str, version: Version) -> Any:
        """What the document was at ``version``: notebook JSON, or the text of a file."""
        history = await self.history.load(doc_id, upto_seq=version.seq)
        doc = documents.doc_from_updates(history.updates)
        return documents.read(kind, documents.wrap(kind, doc))

    async def find(self, doc_id: str, version_id: int) -> Version:
        version = await self.versions.version(doc_id, version_id)
        if version is None:
            raise VersionNotFound(f"no version {version_id} of this document")
        return version

    # -- restoring ----------------------------------------------------------------------

    async def restore(
        self, room: Room, version_id: int, by: str, role: Role, *, cell: str | None = None
    ) -> Version:
        """Put a version back (or one cell of it) as ``by``'s change, live for everyone;
        the state just before becomes a version first. Returns the restore's version.

        Raises:
            PermissionDenied: ``role`` may not edit, or the restore would change a locked
                cell and ``by`` is not an owner.
        """
        if role < Role.EDITOR:
            raise PermissionDenied(f"{role.label}s may preview versions but not restore them")
        await self.ready(room)
        version = await self.find(room.doc_id, version_id)
        if cell is not None and room.kind != "notebook":
            raise VersionRefused("only notebooks have cells to restore")
        target = await self.content(room.doc_id, room.kind, version)
        if role < Role.OWNER and room.locked:
            self._check_locks(room, target, cell)
        await self.create(room, "auto")  # what it was before: restoring it undoes this
        if room.closed:
            raise VersionRefused("the document closed while it was being restored")
        label = version.name or f"version {version.version_id}"
        with room.doc.transaction():
            if cell is not None:
                assert isinstance(room.ydoc, YNotebook)
                if not versioning.restore_one_cell(room.ydoc, target, cell):
                    raise VersionNotFound(f"{label} has no cell {cell!r}")
            elif room.kind == "notebook":
                assert isinstance(room.ydoc, YNotebook)
                versioning.restore_notebook(room.ydoc, target)
            else:
                versioning.restore_text(room.ydoc, target)
        room.commit(by, "restore")
        what = f"cell {cell} of {label}" if cell is not None else label
        restored = await self.create(room, "restore", name=f"restored {what}", by=by)
        assert restored is not None
        return restored

    def _check_locks(self, room: Room, target: dict[str, Any], cell: str | None) -> None:
        """Refuse a restore that would change a locked cell (only owners change those)."""
        wanted = {str(c.get("id")): c for c in target.get("cells", [])}
        live = versioning.fingerprint(room.kind, room.ydoc)["cells"]
        theirs = versioning.fingerprint_cells(list(wanted.values()))
        for locked in room.locked & set(live):
            if cell is not None and locked != cell:
                continue
            if live[locked] != theirs.get(locked):
                raise PermissionDenied(f"cell {locked} is locked; only owners change it")

    async def ready(self, room: Room) -> None:
        """Wait until the service knows the live document's latest version (and kept a
        first one if it had none): listing right after opening shows it."""
        track = self._track(room)
        if track.ready is not None:
            await track.ready

    async def drain(self) -> None:
        """Wait for the versions being made (tests, shutdown)."""
        await self._tasks.drain()
