"""Awareness in a room: each connection speaks only for its own client ids, stamped with
the identity the server authenticated.

y-websocket re-sends peers' states it has seen, and any client could send a state
claiming another person's name. So a connection owns the ids of the first message in
which it names a live state nobody else owns (y-websocket's first is exactly its own
client id), every later entry for other ids is dropped, and the ``user`` field of each
accepted state is replaced by the server's. An id also stays with the person who first
used it in this document, through its awareness or its edits (``owners``, seeded from
the store when the room loads): nobody else can take it, not even after they left.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..protocol import AwarenessEntry
from .identity import Client

MAX_CELL_ID = 200  # longer "cell" awareness values are not cell ids: shown as none


class AwarenessBook:
    def __init__(self) -> None:
        self.states: dict[int, AwarenessEntry] = {}
        # whose each Yjs client id is, for the life of the room
        self.owners: dict[int, str] = {}

    def claim(
        self, client: Client, entries: list[AwarenessEntry], others: Iterable[Client]
    ) -> None:
        """On a connection's first awareness message, give it the ids it may speak for."""
        if client.awareness_ids:
            return
        taken = {cid for other in others if other is not client for cid in other.awareness_ids}
        username = client.identity.username
        client.awareness_ids = {
            e.client_id
            for e in entries
            if e.client_id not in taken
            and e.state is not None
            and self.owners.get(e.client_id, username) == username
        }
        for cid in client.awareness_ids:
            self.owners[cid] = username

    def accept(
        self, client: Client, entries: list[AwarenessEntry]
    ) -> tuple[list[AwarenessEntry], bool]:
        """Apply the entries ``client`` may speak for; return them as stamped, and whether
        any state really changed (not y-protocols' 15 s renewal)."""
        user = client.identity.to_awareness()
        accepted = []
        moved = False
        for entry in entries:
            if entry.client_id not in client.awareness_ids:
                continue
            current = self.states.get(entry.client_id)
            if current is not None and entry.clock < current.clock:
                continue
            state = None if entry.state is None else {**entry.state, "user": user}
            if current is None or state != current.state:
                moved = True
            stamped = AwarenessEntry(entry.client_id, entry.clock, state)
            if state is None:
                self.states.pop(entry.client_id, None)
            else:
                self.states[entry.client_id] = stamped
            accepted.append(stamped)
        return accepted, moved

    def forget(self, client: Client) -> list[AwarenessEntry]:
        """A connection left: remove its states; return their removal entries."""
        gone = []
        for cid in client.awareness_ids:
            entry = self.states.pop(cid, None)
            if entry is not None:
                gone.append(AwarenessEntry(cid, entry.clock + 1, None))
        return gone

    def restamp(self, client: Client) -> list[AwarenessEntry]:
        """Stamp ``client``'s states again with its (renamed) identity, a newer clock."""
        user = client.identity.to_awareness()
        restamped = []
        for cid in sorted(client.awareness_ids):
            entry = self.states.get(cid)
            if entry is None or entry.state is None:
                continue
            stamped = AwarenessEntry(cid, entry.clock + 1, {**entry.state, "user": user})
            self.states[cid] = stamped
            restamped.append(stamped)
        return restamped

    def cell_of(self, client: Client) -> str | None:
        """The notebook cell ``client``'s awareness says it is in."""
        for cid in sorted(client.awareness_ids):
            entry = self.states.get(cid)
            cell: Any = None if entry is None or entry.state is None else entry.state.get("cell")
            if isinstance(cell, str) and 0 < len(cell) <= MAX_CELL_ID:
                return cell
        return None
