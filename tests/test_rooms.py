"""Rooms on in-memory channels, with the real SQLite store and the real
FileContentsManager writing to a temporary folder."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.services.contents.filemanager import FileContentsManager

from jupyter_collab.access import AccessControl
from jupyter_collab.disk import ContentsFiles
from jupyter_collab.errors import Conflict, ProtocolError, RoomNotFound, StaleEpoch
from jupyter_collab.permissions import Role
from jupyter_collab.protocol import (
    AwarenessEntry,
    encode_awareness,
    encode_awareness_update,
    encode_event,
    encode_sync_update,
)
from jupyter_collab.rooms import Room, RoomRegistry
from jupyter_collab.store import Store

from .fakes import FakeClock, Peer, settle


def make_notebook(*sources: str) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "source": s,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for i, s in enumerate(sources)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@asynccontextmanager
async def running(
    root: Path, db: Path, clock: FakeClock, **kwargs: Any
) -> AsyncIterator[RoomRegistry]:
    store = Store(db, write_interval_seconds=0.001, busy_timeout_seconds=0.2)
    await store.open()
    # the server's own users own everything (owners=None), as with a plain token login
    access = AccessControl(store.access, str(root), owners=None, default_role=None)
    options: dict[str, Any] = {
        "save_delay_seconds": None,
        "idle_timeout_seconds": 30.0,
        "disk_poll_interval_seconds": None,
    }
    options.update(kwargs)
    registry = RoomRegistry(
        history=store.history,
        locks=store.locks,
        files=ContentsFiles(FileContentsManager(root_dir=str(root))),
        root=str(root),
        access=access,
        can_execute=lambda username, role: True,
        clock=clock,
        **options,
    )
    try:
        yield registry
    finally:
        await registry.close_all()
        await store.close()


def joined(room: Room, *usernames: str) -> list[Peer]:
    """Peers of these users, connected to the room and fully synced."""
    peers = [Peer(room.kind, name) for name in usernames]
    for peer in peers:
        peer.connect(room)
    settle(*peers)
    return peers


def disk_sources(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def type_into(peer: Peer, cell: int, at: int, text: str) -> None:
    source = peer.ydoc.ycells[cell]["source"]
    source.insert(at, text)


async def test_an_update_reaches_every_other_client_and_is_not_echoed(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob, carol = (
            Peer("notebook", "alice"),
            Peer("notebook", "bob"),
            Peer("notebook", "carol"),
        )
        for p in (alice, bob, carol):
            p.connect(room)
        settle(alice, bob, carol)

        type_into(alice, 0, 5, "0")
        alice.deliver_up()

        assert alice.channel.outbox == []
        assert len(bob.channel.outbox) == 1 and bob.channel.outbox == carol.channel.outbox
        settle(alice, bob, carol)
        assert [c["source"] for c in bob.content()["cells"]] == ["x = 10"]


async def test_accepted_updates_are_stored_with_their_author_and_client_id(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")

        type_into(alice, 0, 0, "a")
        type_into(bob, 0, 0, "b")
        settle(alice, bob)

        rows = await registry.history.update_rows(room.doc_id)
        assert {(r["author"], r["origin"]) for r in rows} == {
            ("alice", "client"),
            ("bob", "client"),
        }
        authors = await registry.history.client_authors(room.doc_id)
        assert authors[alice.doc.client_id] == "alice"
        assert authors[bob.doc.client_id] == "bob"


async def test_a_restarted_server_loads_the_room_from_the_store_in_a_few_rows(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        epoch = room.epoch
        (alice,) = joined(room, "alice")
        for i in range(200):
            type_into(alice, 0, 1 + i, "y")
            settle(alice)

    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        history = await registry.history.load(room.doc_id)
        assert room.epoch == epoch
        assert room.content()["cells"][0]["source"] == "x" + "y" * 200
        assert history.rows <= 3  # snapshot + coalesced rows, not 200 replays


async def test_the_saved_file_equals_the_document(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        (alice,) = joined(room, "alice")
        type_into(alice, 1, 5, "0")
        settle(alice)
        assert room.unsaved

        assert await room.save()

        assert disk_sources(root / "a.ipynb") == ["x = 1", "y = 20"]
        assert [c["id"] for c in json.loads((root / "a.ipynb").read_text())["cells"]] == [
            "cell-0",
            "cell-1",
        ]
        assert not room.unsaved


async def test_the_file_is_saved_when_the_last_client_leaves(root, tmp_path, clock):
    (root / "t.py").write_text("print(1)\n")
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("t.py", "file")
        (alice,) = joined(room, "alice")
        alice.doc.get("source", type=type(alice.ydoc.ydoc["source"])).insert(0, "# hi\n")
        settle(alice)

        alice.disconnect()
        await room.save()  # waits for the save the departure started (same lock)

        assert (root / "t.py").read_text() == "# hi\nprint(1)\n"


async def test_an_outside_edit_is_merged_as_the_disk_author_and_unsaved_edits_survive(
    root, tmp_path, clock
):
    (root / "t.py").write_text("line one\nline two\nline three\n")
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("t.py", "file")
        (alice,) = joined(room, "alice")
        text = alice.ydoc.ydoc["source"]
        text.insert(len("line one"), " (alice)")  # unsaved collaborative edit
        settle(alice)

        (root / "t.py").write_text("line one\nline two\nline three\nline four (git pull)\n")
        assert await room.check_disk()
        settle(alice)

        expected = "line one (alice)\nline two\nline three\nline four (git pull)\n"
        assert str(text) == expected
        assert (root / "t.py").read_text() == expected
        rows = await registry.history.update_rows(room.doc_id)
        assert "disk" in {r["author"] for r in rows}


async def test_an_outside_edit_repeating_our_unsaved_change_is_not_duplicated(
    root, tmp_path, clock
):
    (root / "t.py").write_text("a\nb\n")
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("t.py", "file")
        (alice,) = joined(room, "alice")
        alice.ydoc.ydoc["source"].insert(2, "X\n")
        settle(alice)

        (root / "t.py").write_text("a\nX\nb\n")  # e.g. the same fix arrived through git
        await room.check_disk()

        assert str(room.ydoc.ydoc["source"]) == "a\nX\nb\n"


async def test_an_idle_room_is_saved_then_evicted(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock, idle_timeout_seconds=30.0) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        (alice,) = joined(room, "alice")
        type_into(alice, 0, 1, "yz")
        settle(alice)
        alice.disconnect()

        clock.advance(10)
        assert await registry.evict_idle() == []
        clock.advance(25)
        assert await registry.evict_idle() == [room.doc_id]

        assert room.doc_id not in registry.rooms
        assert disk_sources(root / "a.ipynb") == ["xyz"]


async def test_a_room_whose_store_write_fails_is_kept_and_retried(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    db = tmp_path / "h.db"
    async with running(root, db, clock, idle_timeout_seconds=1.0) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        (alice,) = joined(room, "alice")
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database
        try:
            type_into(alice, 0, 1, "y")
            settle(alice)
            alice.disconnect()
            clock.advance(5)

            assert await registry.evict_idle() == []
            assert room.doc_id in registry.rooms
            assert not room.durable
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()

        await registry.history.flush(attempts=3)
        assert room.durable
        assert await registry.evict_idle() == [room.doc_id]

    async with running(root, db, clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        assert room.content()["cells"][0]["source"] == "xy"


async def test_a_client_from_another_epoch_is_told_to_reload_and_not_merged(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        stale = Peer("notebook", "mallory")

        with pytest.raises(StaleEpoch):
            stale.connect(room, epoch="0123456789abcdef")

        assert stale.channel.outbox, "the reload event is sent before the close"
        stale.handle(stale.channel.outbox[0])
        assert stale.events == [
            {"type": "reload", "reason": stale.events[0]["reason"], "epoch": room.epoch}
        ]
        assert room.clients == {}


async def test_a_rejected_update_leaves_the_room_and_others_untouched(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")
        before = room.doc.get_update()
        seq = registry.history.last_seq(room.doc_id)

        with pytest.raises(ProtocolError):
            room.receive(alice.channel, encode_sync_update(b"\x05\xff\xff\xff"))

        assert room.doc.get_update() == before
        assert registry.history.last_seq(room.doc_id) == seq
        assert bob.channel.outbox == []


async def test_awareness_carries_the_server_identity_and_only_the_senders_own_state(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")
        forged = {"user": {"name": "Bob"}, "cursor": 3}
        alice.to_room.append(
            encode_awareness(
                encode_awareness_update([AwarenessEntry(alice.doc.client_id, 1, forged)])
            )
        )
        settle(alice, bob)
        bob.to_room.append(
            encode_awareness(encode_awareness_update([AwarenessEntry(bob.doc.client_id, 1, {})]))
        )
        # bob tries to speak for alice too
        bob.to_room.append(
            encode_awareness(
                encode_awareness_update([AwarenessEntry(alice.doc.client_id, 9, None)])
            )
        )
        settle(alice, bob)

        seen = bob.awareness[alice.doc.client_id]
        assert seen["user"]["username"] == "alice" and seen["cursor"] == 3
        assert alice.awareness[bob.doc.client_id]["user"]["username"] == "bob"

        alice.disconnect()
        settle(bob)
        assert bob.awareness[alice.doc.client_id] is None


async def test_one_file_never_gets_two_rooms_of_different_types(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        Peer("notebook", "alice").connect(room)

        with pytest.raises(Conflict, match="open as a notebook"):
            await registry.open_session("a.ipynb", "file")


async def test_opening_a_missing_file_is_not_found(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        with pytest.raises(RoomNotFound):
            await registry.open_session("nope.ipynb", "notebook")


async def test_unknown_events_are_answered_and_the_connection_stays(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        (alice,) = joined(room, "alice")

        alice.to_room.append(encode_event({"type": "dance", "id": 4}))
        settle(alice)

        assert alice.events == [{"type": "error", "id": 4, "reason": "unknown event type 'dance'"}]
        assert alice.connected


async def test_arbitrary_bytes_from_a_client_never_change_the_document(root, tmp_path, clock):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from jupyter_collab.rooms import Identity

    from .fakes import FakeChannel

    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        (witness,) = joined(room, "alice")
        before = room.content()
        seq = registry.history.last_seq(room.doc_id)

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            data=st.one_of(
                st.binary(max_size=80),
                st.binary(max_size=60).map(lambda b: b"\x00\x02" + bytes([len(b)]) + b),
            )
        )
        def feed(data: bytes) -> None:
            channel = FakeChannel()
            room.join(channel, Identity("mallory"), room.epoch, Role.OWNER, may_run=True)
            try:
                room.receive(channel, data)
            except ProtocolError:
                pass
            finally:
                room.leave(channel)
            assert room.content() == before

        feed()
        assert registry.history.last_seq(room.doc_id) == seq
        settle(witness)
        assert witness.content() == before


async def test_a_client_whose_first_awareness_only_echoes_peers_can_still_claim_its_own(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")
        mine = [AwarenessEntry(alice.doc.client_id, 1, {"cursor": 1})]
        alice.to_room.append(encode_awareness(encode_awareness_update(mine)))
        settle(alice, bob)

        echo = [AwarenessEntry(alice.doc.client_id, 1, {"cursor": 1})]
        bob.to_room.append(encode_awareness(encode_awareness_update(echo)))  # an echo first
        own = [AwarenessEntry(bob.doc.client_id, 1, {"cursor": 7})]
        bob.to_room.append(encode_awareness(encode_awareness_update(own)))
        settle(alice, bob)

        assert alice.awareness[bob.doc.client_id]["cursor"] == 7
        assert alice.awareness[bob.doc.client_id]["user"]["username"] == "bob"
        assert bob.awareness[alice.doc.client_id]["user"]["username"] == "alice"


async def test_a_path_reopened_as_another_type_tells_old_clients_to_reload(root, tmp_path, clock):
    from jupyter_collab.protocol import decode_message
    from jupyter_collab.rooms import Identity

    from .fakes import FakeChannel

    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        notebook_room = await registry.open_session("a.ipynb", "notebook")
        old_id, old_epoch = notebook_room.doc_id, notebook_room.epoch
        assert await registry.evict(notebook_room)
        text_room = await registry.open_session("a.ipynb", "file")
        channel = FakeChannel()

        with pytest.raises(StaleEpoch):
            await registry.join(old_id, channel, Identity("alice"), old_epoch)

        event = decode_message(channel.outbox[0]).event
        assert event["type"] == "reload" and event["doc_id"] == text_room.doc_id
        assert text_room.epoch != old_epoch


async def test_the_build_client_id_never_writes_after_the_build(root, tmp_path, clock):
    from jupyter_collab.documents import BUILD_CLIENT_ID

    (root / "t.py").write_text("a\n")
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("t.py", "file")
        (root / "t.py").write_text("a\nb\n")
        await room.check_disk()  # a server-side edit, by the disk author

        rows = await registry.history.update_rows(room.doc_id)
        assert room.doc.client_id != BUILD_CLIENT_ID
        assert all(BUILD_CLIENT_ID not in json.loads(r["client_ids"]) for r in rows)
        assert [r["author"] for r in rows] == ["disk"]


async def test_an_awareness_id_stays_with_its_person_when_they_leave_and_come_back(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = joined(room, "alice", "bob")
        mine = alice.doc.client_id
        alice.to_room.append(
            encode_awareness(encode_awareness_update([AwarenessEntry(mine, 1, {"cursor": 1})]))
        )
        settle(alice, bob)
        alice.disconnect()
        settle(bob)

        # bob's first awareness re-sends alice's last state (y-websocket re-sends what it
        # applied): it must not become "bob" at alice's cursor
        echo = [AwarenessEntry(mine, 2, {"cursor": 1})]
        bob.to_room.append(encode_awareness(encode_awareness_update(echo)))
        carol = joined(room, "carol")[0]
        settle(bob, carol)
        assert carol.awareness.get(mine) is None

        alice.connect(room)
        alice.to_room.append(
            encode_awareness(encode_awareness_update([AwarenessEntry(mine, 3, {"cursor": 5})]))
        )
        settle(alice, bob, carol)
        for peer in (bob, carol):
            assert peer.awareness[mine]["user"]["username"] == "alice"
            assert peer.awareness[mine]["cursor"] == 5


async def test_an_id_that_wrote_to_the_document_is_never_claimed_by_someone_else(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        (alice,) = joined(room, "alice")
        alice.ydoc.ycells[0]["source"].insert(1, "y")
        settle(alice)
        alice.disconnect()
        await registry.history.flush()
        assert await registry.evict(room)
        room = await registry.get_room(room.doc_id)  # loaded again from the store

        (bob,) = joined(room, "bob")
        forged = [AwarenessEntry(alice.doc.client_id, 1, {"cursor": 2})]
        bob.to_room.append(encode_awareness(encode_awareness_update(forged)))
        (carol,) = joined(room, "carol")
        settle(bob, carol)

        assert carol.awareness.get(alice.doc.client_id) is None


async def test_a_new_display_name_shows_at_once_in_every_room_of_that_person(root, tmp_path, clock):
    for name in ("a.ipynb", "b.ipynb"):
        (root / name).write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        a = await registry.open_session("a.ipynb", "notebook")
        b = await registry.open_session("b.ipynb", "notebook")
        alice, bob = joined(a, "alice", "bob")
        alice_b, carol = joined(b, "alice", "carol")
        for peer in (alice, bob, alice_b, carol):
            entry = AwarenessEntry(peer.doc.client_id, 1, {"cursor": 4})
            peer.to_room.append(encode_awareness(encode_awareness_update([entry])))
        settle(alice, bob)
        settle(alice_b, carol)

        alice.to_room.append(encode_event({"type": "name", "display_name": "  Ms  Smith "}))
        settle(alice, bob)
        settle(alice_b, carol)

        for peer, mine in ((bob, alice), (carol, alice_b), (alice, alice)):
            user = peer.awareness[mine.doc.client_id]["user"]
            assert (user["display_name"], user["initials"]) == ("Ms Smith", "MS")
            assert peer.awareness[mine.doc.client_id]["cursor"] == 4
        assert {e["user"]["display_name"] for e in registry.presence_entries()} >= {"Ms Smith"}
        assert alice.events == [] and bob.awareness[bob.doc.client_id]["user"]["username"] == "bob"

        # the next awareness message from alice keeps the new name
        entry = AwarenessEntry(alice.doc.client_id, 3, {"cursor": 5})
        alice.to_room.append(encode_awareness(encode_awareness_update([entry])))
        settle(alice, bob)
        assert bob.awareness[alice.doc.client_id]["user"]["display_name"] == "Ms Smith"


async def test_guests_and_empty_or_long_names_are_refused_with_an_error_event(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, guest = joined(room, "alice", "guest:link1:g1")
        for name in ("   ", "x" * 61, 7):
            alice.to_room.append(encode_event({"type": "name", "display_name": name, "id": 1}))
        guest.to_room.append(encode_event({"type": "name", "display_name": "Boss", "id": 2}))
        settle(alice, guest)

        assert [e["type"] for e in alice.events] == ["error"] * 3
        assert guest.events == [
            {"type": "error", "id": 2, "reason": "name: guests keep the name they joined with"}
        ]
        assert {e["user"]["display_name"] for e in room.presence()} == {"alice", "guest:link1:g1"}
