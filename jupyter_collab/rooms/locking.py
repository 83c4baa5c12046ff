"""Cell locks, as a service of the room hook table.

Owners lock and unlock cells with a ``lock`` event; locks are stored through
``LockRecords`` and loaded when a room opens; each client learns them on joining and on
every change (a ``locks`` event). The ``checking`` gate runs an update through the
room's ``LockGuard`` (``jupyter_collab.locks``) when its sender is checked: an editor in
a notebook with locked cells, or anyone who may not run code (the outputs and execution
counts of existing cells are not theirs to change).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..errors import PermissionDenied, ProtocolError
from ..locks import LockGuard
from ..permissions import Action, Role, allows
from ..protocol import encode_event
from . import hooks as h
from .ports import LockRecords

if TYPE_CHECKING:
    from .room import Room

log = logging.getLogger(__name__)


def locks_event(room: Room) -> dict[str, Any]:
    return {"type": "locks", "cells": sorted(room.locked)}


class CellLocks:
    def __init__(self, records: LockRecords) -> None:
        self.records = records
        self._guards: dict[str, LockGuard] = {}  # by doc id: rooms with a live shadow

    def install(self, hooks: h.RoomHooks) -> None:
        hooks.opening.subscribe(self._opening)
        hooks.joined.subscribe(self._joined)
        hooks.checking.subscribe(self._check)
        hooks.update_accepted.subscribe(self._follow)
        hooks.update_refused.subscribe(self._refused)
        hooks.closed.subscribe(self._closed)
        hooks.handle("lock", self._lock_requested)

    async def _opening(self, event: h.Opening) -> None:
        room = event.room
        if room.kind == "notebook" and event.from_store:
            room.locked = await self.records.locks(room.doc_id)

    def _joined(self, event: h.Joined) -> None:
        if event.room.locked:
            event.client.channel.send(encode_event(locks_event(event.room)))

    def _check(self, event: h.Checking) -> None:
        """Refuse an update that changes a locked cell (see ``locks.py``).

        Raises:
            PermissionDenied: after the permission-denied message; the handler closes the
                connection (4403) and the browser reloads the document.
        """
        room, client = event.room, event.client
        owner = client.role >= Role.OWNER
        if room.kind != "notebook" or ((owner or not room.locked) and client.may_run):
            return
        guard = self._guards.get(room.doc_id)
        if guard is None:
            guard = self._guards[room.doc_id] = LockGuard(room.doc.get_update())
        try:
            reason = guard.check(
                event.update,
                set() if owner else room.locked,
                room.doc.get_update,
                may_run=client.may_run,
            )
        except Exception as exc:
            self._guards.pop(room.doc_id, None)  # rebuilt from the room on the next check
            raise ProtocolError(f"update rejected: {exc}") from exc
        if reason is not None:
            reason = f"{reason}; the change was not applied: reload to get the shared version"
            raise PermissionDenied(reason)

    def _follow(self, event: h.UpdateAccepted) -> None:
        # the shadow follows every accepted update, the checked ones too (applying an
        # update twice changes nothing)
        guard = self._guards.get(event.room.doc_id)
        if guard is not None:
            guard.follow(event.update)

    def _refused(self, event: h.UpdateRefused) -> None:
        # the shadow may hold what the room refused to apply: rebuilt on the next check
        self._guards.pop(event.room.doc_id, None)

    def _closed(self, event: h.Closed) -> None:
        self._guards.pop(event.room.doc_id, None)

    def _lock_requested(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        cell_id, locked = request.get("cell"), request.get("locked")
        reason = None
        if not allows(client.role, Action.MANAGE):
            reason = f"lock: {client.role.label}s cannot lock cells; owners can"
        elif room.kind != "notebook" or room.cells is None:
            reason = "lock: only notebook cells can be locked"
        elif not isinstance(cell_id, str) or not isinstance(locked, bool):
            reason = 'lock: expected {"cell": <cell id>, "locked": true | false}'
        elif locked and cell_id not in room.cells.ids():
            reason = f"lock: no cell {cell_id!r} in {room.path}"
        if reason is not None:
            room.send_error(client, request.get("id"), reason)
            return
        assert isinstance(cell_id, str) and isinstance(locked, bool)
        username = client.identity.username
        room.spawn(self.set_lock(room, cell_id, locked, username), f"lock {cell_id} by {username}")

    async def set_lock(self, room: Room, cell_id: str, locked: bool, by: str) -> None:
        """Lock or unlock a cell, store it, and tell every client (a ``locks`` event)."""
        await self.records.set_lock(room.doc_id, cell_id, locked=locked, by=by)
        if locked:
            room.locked.add(cell_id)
        else:
            room.locked.discard(cell_id)
        if not room.locked:
            self._guards.pop(room.doc_id, None)  # nothing to check: free the shadow
        room.broadcast_event(locks_event(room))
