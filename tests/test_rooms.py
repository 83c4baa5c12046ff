"""Rooms on in-memory channels, with the real SQLite store and the real
FileContentsManager writing to a temporary folder: relay, storage, rejected input, one
room per file. Saving and disk merges: test_room_files.py; awareness and display names:
test_room_awareness.py."""

from __future__ import annotations

import json

import pytest

from jupyter_collab.errors import Conflict, ProtocolError, RoomNotFound, StaleEpoch
from jupyter_collab.permissions import Role
from jupyter_collab.protocol import encode_event, encode_sync_update

from .fakes import Peer, settle
from .rooms_helpers import joined, make_notebook, running, type_into


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
