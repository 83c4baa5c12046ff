"""Awareness in rooms: the server's identity on every state, who may claim an awareness
client id, display names (in-memory channels, the real SQLite store)."""

from __future__ import annotations

import json

from jupyter_collab.protocol import (
    AwarenessEntry,
    encode_awareness,
    encode_awareness_update,
    encode_event,
)

from .fakes import settle
from .rooms_helpers import joined, make_notebook, running


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
