"""The registry: which rooms are live, opening and loading them, admitting connections,
following the contents service (renames, deletes, outside saves), eviction and shutdown.

It also owns the room hook table and installs the built-in services on it (presence,
cell locks, saving and disk merges, display names, share link expiry); the app adds
more through ``registry.hooks``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from pycrdt import Doc

from .. import documents
from ..disk import Files
from ..errors import Conflict, DocumentGone, PermissionDenied, RoomNotFound, StaleEpoch
from ..permissions import Role, covers
from ..presence import PresenceFeed
from ..protocol import StandardCloseCode, encode_event
from ..store import DocumentRecord
from . import hooks as h
from .activity import ActivityService, ActivitySettings
from .comments import CommentLimits, CommentService
from .file import FileService
from .identity import Identity
from .locking import CellLocks
from .people import NameService
from .ports import (
    Access,
    Channel,
    CommentRecords,
    ExecutionRecords,
    HistoryLog,
    LockRecords,
    VersionRecords,
)
from .presence import PresenceService
from .relay import LocalRelay, Relay
from .room import Room
from .versions import VersionService

log = logging.getLogger(__name__)


class _Replaced(Exception):
    """Internal: the document's path now belongs to a rebuilt history."""

    def __init__(self, doc_id: str, path: str) -> None:
        super().__init__(doc_id)
        self.doc_id, self.path = doc_id, path


class RoomRegistry:
    """Owns room creation, loading, renames, eviction and shutdown.

    Args:
        history: where every accepted update goes (the only way to persistence).
        locks: where cell locks are kept.
        access: who may do what; required (without one nobody gets in).
        can_execute: whether a person with a role may run code; required.
        root: the server's root folder, to tell documents of different servers apart
            in a shared store.
        relay: how room-wide messages reach clients (local fan-out by default).
        idle_timeout_seconds: a room without clients for this long is saved and
            closed. ``None`` keeps rooms until shutdown.
        disk_poll_interval_seconds: how often open files are checked for changes
            made by other programs. ``None`` disables polling.
        comments: where comment threads are kept; ``None`` serves no comments.
        comment_limits: what one document's comments may hold.
        executions: where runs of cells are kept; ``None`` keeps no runs and serves no
            activity, runs or presenting.
        activity: how activity is counted (``ActivitySettings``).
        versions: where versions are kept; ``None`` makes no versions.
        version_pause_seconds, version_stretch_seconds: when automatic versions are
            made (``VersionService``).
    """

    def __init__(
        self,
        *,
        history: HistoryLog,
        locks: LockRecords,
        files: Files,
        root: str,
        access: Access,
        can_execute: Callable[[str, Role], bool],
        relay: Relay | None = None,
        save_delay_seconds: float | None = 1.0,
        save_max_delay_seconds: float = 10.0,
        idle_timeout_seconds: float | None = 60.0,
        disk_poll_interval_seconds: float | None = 2.0,
        presence_idle_seconds: float = 60.0,
        comments: CommentRecords | None = None,
        comment_limits: CommentLimits | None = None,
        executions: ExecutionRecords | None = None,
        activity: ActivitySettings | None = None,
        versions: VersionRecords | None = None,
        version_pause_seconds: float = 60.0,
        version_stretch_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.history = history
        self.lock_records = locks
        self.access = access
        self.can_execute = can_execute
        self.files = files
        self.root = root
        self.relay: Relay = relay if relay is not None else LocalRelay()
        self.save_delay_seconds = save_delay_seconds
        self.save_max_delay_seconds = save_max_delay_seconds
        self.idle_timeout_seconds = idle_timeout_seconds
        self._clock = clock
        self.rooms: dict[str, Room] = {}  # by doc_id
        self._by_path: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self.presence_idle_seconds = presence_idle_seconds
        self.presence = PresenceFeed(self.presence_entries)
        self.hooks = h.RoomHooks()
        PresenceService(self.presence).install(self.hooks)
        self.cell_locks = CellLocks(locks)
        self.cell_locks.install(self.hooks)
        self.file_service = FileService(self.rooms, poll_seconds=disk_poll_interval_seconds)
        self.file_service.install(self.hooks)
        NameService(self).install(self.hooks)
        self.comments: CommentService | None = None
        if comments is not None:
            self.comments = CommentService(
                comments, access, comment_limits, notify=self.presence.notify
            )
            self.comments.install(self.hooks)
        self.activity: ActivityService | None = None
        if executions is not None:
            settings = activity or ActivitySettings()
            self.activity = ActivityService(
                self.rooms,
                self.presence,
                executions,
                tracking=settings.tracking,
                per_person=settings.per_person,
                interval_seconds=settings.interval_seconds,
                away_seconds=settings.away_seconds,
                window_seconds=settings.concurrent_window_seconds,
                monotonic=clock,
            )
            self.activity.install(self.hooks)
        self.versions: VersionService | None = None
        if versions is not None:
            self.versions = VersionService(
                self.rooms,
                history,
                versions,
                pause_seconds=version_pause_seconds,
                stretch_seconds=version_stretch_seconds,
            )
            self.versions.install(self.hooks)
        self.hooks.tick.subscribe(self._expire_links)
        self.hooks.tick.subscribe(self._evict_on_tick)

    # -- opening ------------------------------------------------------------------------

    async def open_session(self, path: str, kind: str) -> Room:
        """The room for ``path`` opened as ``kind``, loading or creating it.

        Raises:
            RoomNotFound: no such file.
            Conflict: the file is open as another kind right now.
            UnreadableFile: the file cannot be read as that kind.
        """
        path = path.strip("/")
        documents.check_kind(kind)
        room = self._by_path.get(path)
        if room is not None:
            if room.kind != kind:
                raise Conflict(
                    f"{path} is open as a {room.kind} by {len(room.clients)} client(s); "
                    f"close it there or open it as a {room.kind}"
                )
            return room
        return await self._once(f"path:{path}", lambda: self._load_path(path, kind))

    def room_at(self, path: str) -> Room | None:
        """The open room of ``path`` (canonical), if any."""
        return self._by_path.get(path.strip("/"))

    async def get_room(self, doc_id: str) -> Room:
        """The live room for ``doc_id``, reloading it from the store if needed.

        Raises:
            RoomNotFound: unknown document, or its file was deleted.
        """
        room = self.rooms.get(doc_id)
        if room is not None:
            return room
        record = await self.history.get_document(doc_id)
        if record is None or record.root != self.root:
            raise RoomNotFound(f"no document {doc_id}")
        if record.replaced_by is not None:
            successor = await self.history.get_document(record.replaced_by)
            if successor is not None and successor.path is not None:
                raise _Replaced(successor.doc_id, successor.path)
        if record.path is None:
            raise DocumentGone(f"document {doc_id} was deleted")
        path = record.path
        return await self._once(f"path:{path}", lambda: self._load_path(path, record.kind))

    async def join(
        self, doc_id: str, channel: Channel, identity: Identity, epoch: str | None
    ) -> Room:
        """Admit a connection to the room of ``doc_id`` with the role ``access`` gives
        its person (see ``Room.join``).

        A document id this server has no history for is a stale epoch too (the store
        was reset or deleted): the client is told to reload, never merged.

        Raises:
            PermissionDenied: the person holds no role on the document.
        """
        try:
            room = await self.get_room(doc_id)
        except RoomNotFound:
            reason = (
                f"this server has no history for document {doc_id} (its history store was "
                "reset): reload the document; local changes are not merged"
            )
            channel.send(encode_event({"type": "reload", "reason": reason, "epoch": None}))
            raise StaleEpoch(epoch or "", "") from None
        except _Replaced as replaced:
            reason = (
                f"{replaced.path} was reopened as another type, which rebuilt its history: "
                "reload it; local changes are not merged"
            )
            event = {"type": "reload", "reason": reason, "epoch": None, "doc_id": replaced.doc_id}
            channel.send(encode_event(event))
            raise StaleEpoch(epoch or "", "") from None
        role = await self.access.role_of(identity.username, room.path)
        if role is None:
            raise PermissionDenied(f"{identity.username} has no access to {room.path}")
        may_run = self.can_execute(identity.username, role)
        room.join(channel, identity, epoch, role, may_run=may_run)
        return room

    async def refresh_roles(self, path: str) -> None:
        """Memberships on ``path`` (a file, or a folder and all inside) changed: give
        every connected client of the rooms there its new role at once."""
        for room in list(self.rooms.values()):
            if not covers(path, room.path):
                continue
            for channel, client in list(room.clients.items()):
                username = client.identity.username
                role = await self.access.role_of(username, room.path)
                may_run = role is not None and self.can_execute(username, role)
                room.set_role(channel, role, may_run=may_run)
        self.presence.resync()  # who may see whom in the Collaborators panel changed too

    async def _once(self, key: str, load: Callable[[], Coroutine[Any, Any, Room]]) -> Room:
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            room = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it
            raise
        else:
            future.set_result(room)
            return room
        finally:
            del self._loading[key]

    async def _load_path(self, path: str, kind: str) -> Room:
        live = self._by_path.get(path)
        if live is not None:
            if live.kind != kind:
                raise Conflict(f"{path} is open as a {live.kind}")
            return live
        record = await self.history.find_document(self.root, path)
        disk = None
        if record is None:
            disk = await self.files.read(path, kind)
            record = await self._revive(path, kind, disk.content)
        if record is not None and record.kind == kind:
            room = await self._load_from_store(record)
        else:
            disk = disk or await self.files.read(path, kind)
            snapshot = documents.build(kind, disk.content)
            record = await self.history.create_document(
                self.root, path, kind, snapshot, mtime=disk.fingerprint, hash=None
            )
            doc = documents.doc_from_updates([snapshot])
            room = self._make_room(record, doc, saved_seq=0, fingerprint=disk.fingerprint)
            await self.hooks.opening.check(h.Opening(room, from_store=False))
            log.info(
                "room %s: built %s as a %s from disk, epoch %s",
                record.doc_id,
                path,
                kind,
                record.epoch,
            )
        self.rooms[room.doc_id] = room
        self._by_path[path] = room
        return room

    async def _revive(self, path: str, kind: str, content: Any) -> DocumentRecord | None:
        """The document a file deleted through Jupyter was, when that file is back at its
        path (``documents.same_document``): it takes its history and comment threads
        again, and the room merges what differs on disk as any outside change. Roles and
        share links on the old path are not revived: they went with the delete."""
        for candidate in (await self.history.deleted_at(self.root, path, kind))[:1]:
            history = await self.history.load(candidate.doc_id)
            stored = documents.read(
                kind, documents.wrap(kind, documents.doc_from_updates(history.updates))
            )
            if documents.same_document(kind, stored, content):
                log.info("room %s: %s is back; it takes its history again", candidate.doc_id, path)
                return await self.history.revive(candidate.doc_id, path)
        return None

    async def _load_from_store(self, record: DocumentRecord) -> Room:
        history = await self.history.load(record.doc_id)
        doc = documents.doc_from_updates(history.updates)
        room = self._make_room(
            record, doc, saved_seq=record.saved_seq, fingerprint=record.saved_mtime
        )
        if record.kind == "notebook":
            room.remove_trust()  # a history from before trust was kept out of documents
        room.id_owners.update(await self.history.client_authors(record.doc_id))
        await self.hooks.opening.check(h.Opening(room, from_store=True))
        log.info(
            "room %s: loaded %s from %d stored rows, epoch %s",
            record.doc_id,
            record.path,
            history.rows,
            record.epoch,
        )
        return room

    def _make_room(
        self, record: DocumentRecord, doc: Doc[Any], *, saved_seq: int, fingerprint: str | None
    ) -> Room:
        return Room(
            record=record,
            doc=doc,
            history=self.history,
            files=self.files,
            relay=self.relay,
            hooks=self.hooks,
            save_delay_seconds=self.save_delay_seconds,
            save_max_delay_seconds=self.save_max_delay_seconds,
            saved_seq=saved_seq,
            fingerprint=fingerprint,
            clock=self._clock,
            idle_after_seconds=self.presence_idle_seconds,
            color_hint=self.color_of,
        )

    def color_of(self, username: str) -> str | None:
        """The colour ``username`` holds in some live room, if any."""
        for room in self.rooms.values():
            color = room.colors.of(username)
            if color is not None:
                return color
        return None

    def rename_person(self, username: str, display_name: str) -> None:
        """``username`` set a new display name: show it in every room at once."""
        for room in list(self.rooms.values()):
            room.rename_person(username, display_name)

    def presence_entries(self) -> list[dict[str, Any]]:
        """Everyone connected to any room, one entry per connection."""
        now = self._clock()
        return [entry for room in self.rooms.values() for entry in room.presence(now)]

    # -- following the contents service ------------------------------------------------

    async def on_renamed(self, old: str, new: str) -> None:
        old, new = old.strip("/"), new.strip("/")
        await self.history.rename_path(self.root, old, new)
        for path, room in list(self._by_path.items()):
            if path == old or path.startswith(old + "/"):
                moved = new + path[len(old) :]
                del self._by_path[path]
                room.path = moved
                self._by_path[moved] = room
                room.broadcast_event({"type": "renamed", "path": moved})
                self.hooks.renamed.emit(h.Renamed(room, path, moved))

    async def on_deleted(self, path: str) -> None:
        path = path.strip("/")
        await self.history.forget_path(self.root, path)
        for room_path, room in list(self._by_path.items()):
            if room_path == path or room_path.startswith(path + "/"):
                await self._drop(room)
                room.close_clients(DocumentGone.close_code, f"{room_path} was deleted")

    async def on_saved_externally(self, path: str) -> None:
        room = self._by_path.get(path.strip("/"))
        if room is not None:
            await room.check_disk()

    async def poll_disk(self) -> None:
        """Check every open file for changes other programs made, now."""
        await self.file_service.poll()

    # -- background work ----------------------------------------------------------------

    def start(self, tick_seconds: float = 1.0) -> None:
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick_forever(tick_seconds))

    async def _tick_forever(self, tick_seconds: float) -> None:
        while True:
            await asyncio.sleep(tick_seconds)
            await self.hooks.tick.emit(h.Tick(self._clock()))

    async def _expire_links(self, event: h.Tick) -> None:
        try:
            await self.access.tick()  # share links expire without a request
        except Exception:
            # logged and retried next second: expiry must not stop for good
            log.exception("room registry: acting on expired share links failed")

    async def _evict_on_tick(self, event: h.Tick) -> None:
        await self.evict_idle()

    async def evict_idle(self) -> list[str]:
        """Save and close rooms idle past the timeout; keep any that could not be saved."""
        if self.idle_timeout_seconds is None:
            return []
        now = self._clock()
        evicted = []
        for room in list(self.rooms.values()):
            if room.clients or now - room.last_activity < self.idle_timeout_seconds:
                continue
            if await self.evict(room):
                evicted.append(room.doc_id)
        return evicted

    async def evict(self, room: Room) -> bool:
        """Save, flush and close one room; False (room kept) if anything failed."""
        try:
            await room.save()
            await self.history.flush()
        except Exception as exc:
            # kept in memory with its unsaved content; the next tick retries
            log.error("room %s: not evicted, saving failed: %s", room.doc_id, exc)
            return False
        if room.clients or room.unsaved or not room.durable:
            return False
        await self._drop(room)
        log.info("room %s: evicted %s", room.doc_id, room.path)
        return True

    async def _drop(self, room: Room) -> None:
        self.rooms.pop(room.doc_id, None)
        if self._by_path.get(room.path) is room:
            del self._by_path[room.path]
        await room.close()

    async def close_all(self) -> None:
        """Shutdown: save every room, flush the store, close clients."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        for room in list(self.rooms.values()):
            try:
                await room.save()
            except Exception as exc:
                # the history store still holds every update; the file catches up on next open
                log.error("room %s: final save of %s failed: %s", room.doc_id, room.path, exc)
            room.close_clients(StandardCloseCode.GOING_AWAY, "server shutting down")
            await self._drop(room)
        self.presence.close()
        await self.history.flush()
