"""The presence feed: everyone on the server, the document and cell each is in, idle
state; only differences are sent. Rooms on in-memory channels with the real store."""

from __future__ import annotations

import json
from typing import Any

from jupyter_collab.protocol import AwarenessEntry, encode_awareness, encode_awareness_update

from .fakes import Peer, settle
from .rooms_helpers import make_notebook, running


def say(peer: Peer, state: dict[str, Any] | None, clock: int) -> None:
    """``peer`` publishes its awareness state (y-protocols: a higher clock wins)."""
    entry = AwarenessEntry(peer.doc.client_id, clock, state)
    peer.to_room.append(encode_awareness(encode_awareness_update([entry])))
    settle(peer)


class Listener:
    """A subscriber, as the Collaborators panel sees the feed."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.people: dict[str, dict[str, Any]] = {}

    def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "snapshot":
            self.people = {e["id"]: e for e in message["people"]}
        else:
            self.people.update({e["id"]: e for e in message["set"]})
            for key in message["gone"]:
                self.people.pop(key)

    def of(self, username: str) -> list[dict[str, Any]]:
        return [e for e in self.people.values() if e["user"]["username"] == username]


async def test_the_feed_lists_everyone_with_their_document_and_cell(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x", "y", "z")))
    (root / "notes.py").write_text("print(1)\n")
    async with running(root, tmp_path / "h.db", clock) as registry:
        notebook = await registry.open_session("a.ipynb", "notebook")
        text = await registry.open_session("notes.py", "file")
        alice, bob = Peer("notebook", "alice"), Peer("notebook", "bob")
        carol = Peer("file", "carol")
        for peer, room in ((alice, notebook), (bob, notebook), (carol, text)):
            peer.connect(room)
            settle(peer)
        listener = Listener()
        registry.presence.subscribe(listener, None)

        assert sorted((e["user"]["username"], e["path"]) for e in listener.people.values()) == [
            ("alice", "a.ipynb"),
            ("bob", "a.ipynb"),
            ("carol", "notes.py"),
        ]
        say(alice, {"cell": "cell-2", "user": {"username": "mallory"}}, 1)
        message = registry.presence.refresh()

        assert message is not None and [e["user"]["username"] for e in message["set"]] == [
            "alice"
        ], "only what changed is sent"
        (entry,) = listener.of("alice")
        assert (entry["cell"], entry["cell_index"], entry["type"]) == ("cell-2", 2, "notebook")
        assert entry["role"] == "owner"
        assert entry["client_id"] == alice.doc.client_id
        assert listener.of("mallory") == [], "the feed shows the authenticated identity"
        assert listener.of("carol")[0]["cell"] is None


async def test_inserting_a_cell_above_someone_moves_their_cell_number(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x", "y")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = Peer("notebook", "alice"), Peer("notebook", "bob")
        for peer in (alice, bob):
            peer.connect(room)
        settle(alice, bob)
        listener = Listener()
        registry.presence.subscribe(listener, None)
        say(alice, {"cell": "cell-1"}, 1)
        registry.presence.refresh()
        assert listener.of("alice")[0]["cell_index"] == 1

        bob.ydoc.ycells.insert(0, bob.ydoc.create_ycell({"cell_type": "code", "source": "new"}))
        settle(alice, bob)
        registry.presence.refresh()

        assert listener.of("alice")[0]["cell_index"] == 2


async def test_idle_people_are_marked_and_wake_up_when_they_edit(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock, presence_idle_seconds=60.0) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = Peer("notebook", "alice")
        alice.connect(room)
        settle(alice)
        say(alice, {"cell": "cell-0"}, 1)
        listener = Listener()
        registry.presence.subscribe(listener, None)
        assert listener.of("alice")[0]["idle"] is False

        clock.advance(61)
        say(alice, {"cell": "cell-0"}, 2)  # y-protocols renews the same state every 15 s
        registry.presence.refresh()
        assert listener.of("alice")[0]["idle"] is True, "a renewal is not activity"

        alice.ydoc.ycells[0]["source"].insert(1, "1")
        settle(alice)
        registry.presence.refresh()
        assert listener.of("alice")[0]["idle"] is False


async def test_leaving_and_renames_reach_the_feed(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob = Peer("notebook", "alice"), Peer("notebook", "bob")
        for peer in (alice, bob):
            peer.connect(room)
        settle(alice, bob)
        listener = Listener()
        registry.presence.subscribe(listener, None)
        (gone_id,) = [e["id"] for e in listener.of("bob")]

        bob.disconnect()
        (root / "a.ipynb").rename(root / "b.ipynb")
        await registry.on_renamed("a.ipynb", "b.ipynb")
        message = registry.presence.refresh()

        assert message is not None and message["gone"] == [gone_id]
        assert [e["path"] for e in listener.people.values()] == ["b.ipynb"]
        settle(alice)
        assert alice.events[-1] == {"type": "renamed", "path": "b.ipynb"}


async def test_an_overlong_or_non_string_cell_is_shown_as_none(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = Peer("notebook", "alice")
        alice.connect(room)
        settle(alice)
        listener = Listener()
        registry.presence.subscribe(listener, None)
        for clock_value, bad in enumerate(("x" * 1000, 42, {"id": "cell-0"}), start=1):
            say(alice, {"cell": bad}, clock_value)
            registry.presence.refresh()
            assert listener.of("alice")[0]["cell"] is None
        assert room.content()["cells"][0]["source"] == "x"


async def test_a_broken_subscriber_does_not_silence_the_others(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")

        def broken(message: dict[str, Any]) -> None:
            if message["type"] == "update":
                raise RuntimeError("socket gone")

        registry.presence.subscribe(broken, None)
        listener = Listener()
        registry.presence.subscribe(listener, None)
        alice = Peer("notebook", "alice")
        alice.connect(room)
        settle(alice)
        registry.presence.refresh()

        assert [e["user"]["username"] for e in listener.people.values()] == ["alice"]
