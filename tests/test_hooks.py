"""The room hook table: services see what happens in rooms, and a broken service never
breaks a room, the sender or the other services."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from jupyter_collab.errors import PermissionDenied, ProtocolError
from jupyter_collab.permissions import Role
from jupyter_collab.protocol import (
    AwarenessEntry,
    MessageKind,
    encode_awareness,
    encode_awareness_update,
    encode_event,
)
from jupyter_collab.rooms import hooks as h

from .fakes import Peer, settle
from .rooms_helpers import joined, make_notebook, running, type_into


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def subscribe_all(hooks: h.RoomHooks, recorder: Recorder) -> None:
    for hook in (
        hooks.joined,
        hooks.left,
        hooks.awareness_changed,
        hooks.update_accepted,
        hooks.update_refused,
        hooks.event_received,
        hooks.client_changed,
        hooks.cells_moved,
        hooks.saved,
        hooks.renamed,
        hooks.closed,
    ):
        hook.subscribe(recorder)


async def test_services_see_joins_updates_with_author_and_cells_events_saves_renames_and_leaves(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        seen = Recorder()
        subscribe_all(registry.hooks, seen)
        registry.hooks.want_cells()
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")
        assert [e.client.identity.username for e in seen.of(h.Joined)] == ["alice", "bob"]

        type_into(alice, 1, 0, "z")
        settle(alice, bob)
        accepted = [e for e in seen.of(h.UpdateAccepted) if e.origin == "client"]
        assert [(e.author, e.cells) for e in accepted] == [("alice", frozenset({"cell-1"}))]
        assert accepted[0].client.identity.username == "alice"
        assert accepted[0].update  # the bytes the history stored and the others received

        alice.ydoc.ycells.append(
            {"cell_type": "markdown", "id": "new", "source": "", "metadata": {}}
        )
        settle(alice, bob)
        assert seen.of(h.CellsMoved), "an inserted cell moves the cells after it"

        bob.to_room.append(encode_event({"type": "unknown-kind", "id": 7}))
        settle(bob)
        assert [e.event["type"] for e in seen.of(h.EventReceived)] == ["unknown-kind"]

        assert await room.save()
        assert [e.seq for e in seen.of(h.Saved)] == [registry.history.last_seq(room.doc_id)]

        await registry.on_renamed("a.ipynb", "b.ipynb")
        assert [(e.old, e.new) for e in seen.of(h.Renamed)] == [("a.ipynb", "b.ipynb")]

        bob.disconnect()
        assert [e.client.identity.username for e in seen.of(h.Left)] == ["bob"]
        assert await registry.evict(room) is False  # alice is still there
        alice.disconnect()
        assert await registry.evict(room)
        assert [e.room for e in seen.of(h.Closed)] == [room]


async def test_a_refused_update_is_announced_with_its_error(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        seen = Recorder()
        registry.hooks.update_refused.subscribe(seen)
        room = await registry.open_session("a.ipynb", "notebook")
        viewer = Peer("notebook", "vera", Role.VIEWER)
        viewer.connect(room)
        settle(viewer)
        type_into(viewer, 0, 0, "!")
        with pytest.raises(PermissionDenied):
            settle(viewer)
        (refusal,) = seen.events
        assert refusal.client.identity.username == "vera"
        assert isinstance(refusal.error, PermissionDenied)
        assert room.content()["cells"][0]["source"] == "x"


async def test_a_subscriber_that_raises_is_detached_and_the_room_and_sender_carry_on(
    root, tmp_path, clock, caplog
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        calls = []

        def broken(event: h.UpdateAccepted) -> None:
            calls.append(event)
            raise RuntimeError("a bug in a service")

        after = Recorder()
        registry.hooks.update_accepted.subscribe(broken)
        registry.hooks.update_accepted.subscribe(after)
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")

        with caplog.at_level(logging.ERROR, logger="jupyter_collab.rooms.hooks"):
            type_into(alice, 0, 1, "1")
            settle(alice, bob)
            type_into(alice, 0, 2, "2")
            settle(alice, bob)

        assert len(calls) == 1, "detached after it raised once"
        assert "is detached" in caplog.text and "a bug in a service" in caplog.text
        assert len([e for e in after.events if e.origin == "client"]) == 2
        assert alice.connected and bob.connected
        assert bob.content()["cells"][0]["source"] == "x12" == room.content()["cells"][0]["source"]
        assert registry.history.last_seq(room.doc_id) >= 2


async def test_a_command_that_raises_is_answered_and_detached(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:

        def broken(event: h.EventReceived) -> None:
            raise KeyError("oops")

        registry.hooks.handle("poke", broken)
        room = await registry.open_session("a.ipynb", "notebook")
        (alice,) = joined(room, "alice")
        for request in (1, 2):
            alice.to_room.append(encode_event({"type": "poke", "id": request}))
            settle(alice)
        errors = [e for e in alice.events if e["type"] == "error"]
        assert [(e["id"], e["reason"]) for e in errors] == [
            (1, "poke: internal error"),
            (2, "unknown event type 'poke'"),
        ]
        assert alice.connected


async def test_a_gate_that_fails_refuses_the_update_and_stays_subscribed(root, tmp_path, clock):
    """Fail closed: a check that crashes must not let the update through, nor stop
    checking the next ones."""
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        checked = []

        def crashing(event: h.Checking) -> None:
            checked.append(event.client.identity.username)
            raise RuntimeError("the check itself is broken")

        registry.hooks.checking.subscribe(crashing)
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")
        seq = registry.history.last_seq(room.doc_id)
        for peer in (alice, bob):
            type_into(peer, 0, 0, "!")
            with pytest.raises(ProtocolError, match="the update check failed"):
                settle(peer)
        assert checked == ["alice", "bob"]
        assert room.content()["cells"][0]["source"] == "x"
        assert registry.history.last_seq(room.doc_id) == seq


async def test_the_relay_is_the_only_way_room_wide_messages_leave(root, tmp_path, clock):
    """The place where a bus between processes plugs in: every update, awareness change
    and event for the whole room goes through ``Relay.broadcast``."""
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        relayed: list[tuple[str, int]] = []
        local = registry.relay

        class Counting:
            def broadcast(self, doc_id: str, message: bytes, channels: Any) -> None:
                relayed.append((doc_id, message[0]))
                local.broadcast(doc_id, message, channels)

        registry.relay = Counting()
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")
        alice.to_room.append(
            encode_awareness(
                encode_awareness_update(
                    [AwarenessEntry(alice.doc.client_id, 1, {"cell": "cell-0"})]
                )
            )
        )
        type_into(alice, 0, 0, "a")
        settle(alice, bob)
        room.broadcast_event({"type": "hello"})
        settle(alice, bob)

        kinds = {kind for doc_id, kind in relayed if doc_id == room.doc_id}
        assert kinds == {MessageKind.SYNC, MessageKind.AWARENESS, MessageKind.EVENT}
        assert bob.content() == room.content()
        assert {"type": "hello"} in bob.events
        assert bob.awareness[alice.doc.client_id]["cell"] == "cell-0"
