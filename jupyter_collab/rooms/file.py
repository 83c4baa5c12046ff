"""The file behind a room: saving it (debounced) and merging changes other programs made.

The history store holds every accepted update; the file on disk is an export, so it need
not follow each keystroke. ``RoomFile`` is one room's file state (the last saved point,
the file's fingerprint, the save timer); ``FileService`` decides when to save and when to
look at the disk, from the room hook table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from .. import documents
from ..disk import Files
from ..errors import CollabError, DocumentGone
from ..permissions import Action, allows
from ..protocol import encode_event
from . import hooks as h
from .identity import DISK_AUTHOR, SERVER_AUTHOR
from .ports import HistoryLog

if TYPE_CHECKING:
    from .room import Room

log = logging.getLogger(__name__)


class RoomFile:
    def __init__(
        self,
        room: Room,
        files: Files,
        history: HistoryLog,
        *,
        save_delay_seconds: float | None,
        save_max_delay_seconds: float,
        saved_seq: int,
        fingerprint: str | None,
    ) -> None:
        self.room = room
        self.files = files
        self.history = history
        self.save_delay_seconds = save_delay_seconds
        self.save_max_delay_seconds = save_max_delay_seconds
        self.saved_seq = saved_seq
        self.fingerprint = fingerprint
        self.save_error: BaseException | None = None
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._last_change = self._first_unsaved = 0.0

    @property
    def unsaved(self) -> bool:
        """True while the file on disk lags behind the document."""
        return self.history.last_seq(self.room.doc_id) > self.saved_seq

    def saved_event(self, request_id: Any = None) -> dict[str, Any]:
        return {
            "type": "saved",
            "id": request_id,
            "path": self.room.path,
            "fingerprint": self.fingerprint,
        }

    # -- saving -------------------------------------------------------------------------

    def schedule(self) -> None:
        """Debounce: write once changes pause for ``save_delay_seconds``, and at least every
        ``save_max_delay_seconds`` while they go on."""
        if self.save_delay_seconds is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._last_change = now
        if self._timer is None:
            self._first_unsaved = now
            self._timer = loop.call_later(self.save_delay_seconds, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        assert self.save_delay_seconds is not None
        loop = asyncio.get_running_loop()
        now = loop.time()
        quiet_at = self._last_change + self.save_delay_seconds
        deadline = self._first_unsaved + max(self.save_max_delay_seconds, self.save_delay_seconds)
        if now < quiet_at and now < deadline:
            self._timer = loop.call_at(min(quiet_at, deadline), self._timer_fired)
            return
        self.room.spawn(self.save(), "debounced save")

    async def save(self, *, force: bool = False) -> bool:
        """Write the document to disk if it changed since the last save; True if written."""
        async with self._lock:
            return await self._save_locked(force=force)

    async def _save_locked(self, *, force: bool = False) -> bool:
        room = self.room
        if room.closed or (not force and not self.unsaved):
            return False
        with room.doc.transaction(origin=SERVER_AUTHOR):
            content = documents.export(room.kind, room.ydoc)
        room.commit(SERVER_AUTHOR, "server")  # export may have fixed duplicate cell ids
        seq = self.history.last_seq(room.doc_id)
        self.history.seal(room.doc_id)  # updates accepted during the write start a new row
        started = time.perf_counter()
        try:
            fingerprint = await self.files.write(room.path, room.kind, content)
        except Exception as exc:
            self.save_error = exc
            log.error("room %s: saving %s failed, will retry: %s", room.doc_id, room.path, exc)
            self.schedule()
            raise
        self.save_error = None
        self.saved_seq, self.fingerprint = seq, fingerprint
        self.history.mark_saved(room.doc_id, seq, mtime=fingerprint, hash=None)
        room.broadcast_event(self.saved_event())
        room.hooks.saved.emit(h.Saved(room, seq, fingerprint, time.perf_counter() - started))
        log.debug("room %s: saved %s at seq %d", room.doc_id, room.path, seq)
        return True

    # -- merging outside changes -----------------------------------------------------------

    async def check_disk(self) -> bool:
        """Merge a change another program made to the file; True if the doc changed."""
        async with self._lock:
            room = self.room
            if room.closed:
                return False
            current = await self.files.stat(room.path)
            if current is None or current == self.fingerprint:
                return False
            disk = await self.files.read(room.path, room.kind)
            return await self._merge_locked(disk.content, disk.fingerprint)

    async def _merge_locked(self, theirs: Any, fingerprint: str) -> bool:
        room = self.room
        if documents.same_content(room.kind, room.content(), theirs):
            changed = 0
        else:
            history = await self.history.load(room.doc_id, upto_seq=self.saved_seq)
            base_doc = documents.doc_from_updates(history.updates)
            base = documents.read(room.kind, documents.wrap(room.kind, base_doc))
            room.discard_pending()
            with room.doc.transaction(origin=DISK_AUTHOR):
                documents.merge_disk_change(room.kind, room.ydoc, base, theirs)
            changed = room.commit(DISK_AUTHOR, "disk")
            room.after_structure_change()
            log.info(
                "room %s: merged an outside change of %s (%d updates)",
                room.doc_id,
                room.path,
                changed,
            )
        self.fingerprint = fingerprint
        if documents.same_content(room.kind, room.content(), theirs):
            # the disk holds exactly the document: that is a save point, no rewrite needed
            self.saved_seq = self.history.last_seq(room.doc_id)
            self.history.mark_saved(room.doc_id, self.saved_seq, mtime=fingerprint, hash=None)
        else:
            await self._save_locked(force=True)
        return changed > 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class FileService:
    """When to save and when to look at the disk, as subscribers of the hook table:

    * an accepted update schedules a debounced save;
    * the last client leaving saves at once;
    * a ``save`` event from someone who may edit saves now and answers ``saved``;
    * a room loaded from the store merges what changed on disk meanwhile;
    * every ``poll_seconds`` of ticks, each open file is checked for outside changes.
    """

    def __init__(self, rooms: dict[str, Room], *, poll_seconds: float | None) -> None:
        self.rooms = rooms
        self.poll_seconds = poll_seconds
        self._last_poll: float | None = None

    def install(self, hooks: h.RoomHooks) -> None:
        hooks.update_accepted.subscribe(self._changed)
        hooks.left.subscribe(self._left)
        hooks.handle("save", self._save_requested)
        hooks.opening.subscribe(self._opening)
        hooks.tick.subscribe(self._tick)

    def _changed(self, event: h.UpdateAccepted) -> None:
        event.room.file.schedule()

    def _left(self, event: h.Left) -> None:
        room = event.room
        if not room.clients and room.unsaved:
            room.spawn(room.file.save(), "save after the last client left")

    def _save_requested(self, event: h.EventReceived) -> None:
        room, client, request_id = event.room, event.client, event.event.get("id")
        if not allows(client.role, Action.EDIT):
            room.send_error(
                client, request_id, f"save: {client.role.label}s cannot save {room.path}"
            )
            return
        room.spawn(self._save_for(room, client.channel, request_id), "save requested by a client")

    async def _save_for(self, room: Room, channel: Any, request_id: Any) -> None:
        try:
            if not await room.file.save(force=True):
                raise DocumentGone(f"{room.path} is closed")
        except Exception as exc:
            error = {"type": "error", "id": request_id, "reason": f"save failed: {exc}"}
            channel.send(encode_event(error))
            raise
        channel.send(encode_event(room.file.saved_event(request_id)))

    async def _opening(self, event: h.Opening) -> None:
        if not event.from_store:
            return
        room = event.room
        try:
            await room.file.check_disk()
        except CollabError:
            raise
        except Exception as exc:
            # The stored document is intact; the outside change is merged on a later poll.
            log.warning("room %s: checking %s on disk failed: %s", room.doc_id, room.path, exc)

    async def _tick(self, event: h.Tick) -> None:
        if self.poll_seconds is None:
            return
        if self._last_poll is None:
            self._last_poll = event.now  # the first poll comes one interval after start
        if event.now - self._last_poll < self.poll_seconds:
            return
        self._last_poll = event.now
        await self.poll()

    async def poll(self) -> None:
        for room in list(self.rooms.values()):
            try:
                await room.file.check_disk()
            except Exception as exc:
                # that file stays as it is; the next poll tries again
                log.warning("room %s: disk check of %s failed: %s", room.doc_id, room.path, exc)
