"""Presence, as a service of the room hook table: what the Collaborators panel shows of
each connection, and when the server-wide feed (``jupyter_collab.presence``) should
look again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..presence import PresenceFeed
from . import hooks as h

if TYPE_CHECKING:
    from .room import Room


def presence_entries(room: Room, now: float) -> list[dict[str, Any]]:
    """One presence feed entry per connection of ``room`` (docs/PROTOCOL.md)."""
    return [
        {
            "id": f"{room.doc_id}/{client.number}",
            "client_id": min(client.awareness_ids) if client.awareness_ids else None,
            "user": client.identity.to_awareness(),
            "path": room.path,
            "type": room.kind,
            "cell": client.cell,
            "cell_index": (
                None
                if client.cell is None or room.cells is None
                else room.cells.index_of(client.cell)
            ),
            "idle": now - client.last_active >= room.idle_after_seconds,
            "role": client.role.label,
        }
        for client in room.clients.values()
    ]


class PresenceService:
    """Tells the feed that entries may have changed: joins, leaves, cell moves, renames,
    role changes, structure changes of a notebook someone is in, idle transitions."""

    def __init__(self, feed: PresenceFeed) -> None:
        self.feed = feed

    def install(self, hooks: h.RoomHooks) -> None:
        changed = self._changed
        hooks.joined.subscribe(changed)
        hooks.left.subscribe(changed)
        hooks.client_changed.subscribe(changed)
        hooks.woke.subscribe(changed)
        hooks.renamed.subscribe(changed)
        hooks.closed.subscribe(changed)
        hooks.awareness_changed.subscribe(self._awareness)
        hooks.cells_moved.subscribe(self._cells_moved)
        hooks.tick.subscribe(self._tick)

    def _changed(self, event: Any) -> None:
        self.feed.changed()

    def _awareness(self, event: h.AwarenessChanged) -> None:
        if event.cell_changed:
            self.feed.changed()

    def _cells_moved(self, event: h.CellsMoved) -> None:
        if any(c.cell is not None for c in event.room.clients.values()):
            self.feed.changed()  # cell numbers shown in the feed moved

    async def _tick(self, event: h.Tick) -> None:
        if self.feed.has_subscribers:
            self.feed.changed()  # people go idle without sending anything
