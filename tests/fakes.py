"""In-memory transports and a settable clock for the pure ring of tests.

``Peer`` is a real pycrdt replica wired to a ``Room`` through two queues that the
test delivers explicitly, so delivery order is under the test's control.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, TransactionEvent

from jupyter_collab import documents
from jupyter_collab.permissions import Role
from jupyter_collab.protocol import (
    AwarenessMessage,
    EventMessage,
    SyncKind,
    SyncMessage,
    decode_awareness_update,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
)
from jupyter_collab.rooms import Identity, Room


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeChannel:
    """Records what the room sends and how it closed the connection."""

    def __init__(self) -> None:
        self.outbox: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    def send(self, message: bytes) -> None:
        if self.closed is None:
            self.outbox.append(message)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class Peer:
    """One collaborator's replica, connected to a room by explicit delivery."""

    def __init__(
        self, kind: str, username: str, role: Role = Role.OWNER, *, may_run: bool = True
    ) -> None:
        self.kind = kind
        self.identity = Identity(username=username)
        self.role = role  # what the room admits it as (tests that need less say so)
        self.may_run = may_run
        self.doc = Doc()
        self.ydoc = documents.wrap(kind, self.doc)
        self.channel: FakeChannel | None = None
        self.room: Room | None = None
        self.to_room: list[bytes] = []
        self.events: list[dict[str, Any]] = []
        self.awareness: dict[int, Any] = {}
        self._remote = False
        self.doc.observe(self._on_local)

    def _on_local(self, event: TransactionEvent) -> None:
        if not self._remote:
            # kept while offline too: y-websocket resends via sync step 2 on reconnect
            if self.channel is not None:
                self.to_room.append(encode_sync_update(event.update))

    @property
    def connected(self) -> bool:
        return self.channel is not None and self.channel.closed is None

    def connect(self, room: Room, epoch: str | None = None) -> None:
        self.channel = FakeChannel()
        self.room = room
        self.to_room = [encode_sync_step1(self.doc.get_state())]
        epoch = room.epoch if epoch is None else epoch
        room.join(self.channel, self.identity, epoch, self.role, may_run=self.may_run)

    def disconnect(self) -> None:
        if self.room is not None and self.channel is not None:
            self.room.leave(self.channel)
        self.channel = None
        self.room = None
        self.to_room = []

    def deliver_up(self, index: int = 0) -> None:
        assert self.room is not None and self.channel is not None
        self.room.receive(self.channel, self.to_room.pop(index))

    def deliver_down(self, index: int = 0) -> None:
        assert self.channel is not None
        self.handle(self.channel.outbox.pop(index))

    def handle(self, data: bytes) -> None:
        message = decode_message(data)
        if isinstance(message, SyncMessage):
            if message.kind == SyncKind.STEP1:
                self.to_room.append(encode_sync_step2(self.doc.get_update(message.payload)))
            else:
                self._remote = True
                try:
                    self.doc.apply_update(message.payload)
                finally:
                    self._remote = False
        elif isinstance(message, AwarenessMessage):
            for entry in decode_awareness_update(message.payload):
                self.awareness[entry.client_id] = entry.state
        elif isinstance(message, EventMessage):
            self.events.append(message.event)

    def pending(self) -> int:
        down = len(self.channel.outbox) if self.channel is not None else 0
        return len(self.to_room) + down

    def content(self) -> Any:
        return documents.read(self.kind, self.ydoc)


def settle(*peers: Peer, limit: int = 100_000) -> None:
    """Deliver everything in both directions until nothing is in flight."""
    for _ in range(limit):
        moved = False
        for peer in peers:
            if not peer.connected:
                continue
            while peer.to_room:
                peer.deliver_up()
                moved = True
            assert peer.channel is not None
            while peer.channel.outbox:
                peer.deliver_down()
                moved = True
        if not moved:
            return
    raise AssertionError("messages kept flowing")
