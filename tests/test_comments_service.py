"""Comment threads in a room: who may write what, who sees what, and what a bad request
gets (an ``error`` event; the connection stays open and nothing changes). Rooms on
in-memory channels with the real store (tests/rooms_helpers.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_collab.permissions import Role
from jupyter_collab.protocol import encode_event
from jupyter_collab.rooms import Room, RoomRegistry
from jupyter_collab.rooms.comments import CommentLimits

from .fakes import Peer, settle
from .rooms_helpers import make_notebook, running

CELL0 = {"kind": "cell", "cell_id": "cell-0"}


@pytest.fixture
def root(root: Path) -> Path:
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("print(1)", "x = 2")))
    return root


class Class:
    """A room and the people in it."""

    def __init__(self, registry: RoomRegistry, room: Room) -> None:
        self.registry = registry
        self.room = room
        self.peers: list[Peer] = []

    def join(self, username: str, role: Role) -> Peer:
        peer = Peer(self.room.kind, username, role)
        peer.connect(self.room)
        self.peers.append(peer)
        settle(*self.peers)
        return peer

    async def ask(self, peer: Peer, **request: Any) -> dict[str, Any]:
        """Send one request; the one answer addressed to it (by its ``id``)."""
        request.setdefault("id", f"{peer.identity.username}-{len(peer.events)}")
        peer.to_room.append(encode_event(request))
        await self.settled()
        answers = [e for e in peer.events if e.get("id") == request["id"]]
        assert len(answers) == 1, answers
        return answers[0]

    async def settled(self) -> None:
        """Deliver everything, and await what the room spawned (store writes)."""
        settle(*self.peers)
        while self.room._tasks:  # noqa: SLF001 (the spawned store writes)
            # wait() yields to the loop even when every task is done, so their done
            # callbacks (which take them out of the room's set) run
            await asyncio.wait(list(self.room._tasks))  # noqa: SLF001
        settle(*self.peers)

    async def stored(self) -> list[Any]:
        assert self.registry.comments is not None
        return await self.registry.comments.records.threads(self.room.doc_id)


async def open_class(registry: RoomRegistry) -> Class:
    return Class(registry, await registry.open_session("nb.ipynb", "notebook"))


def seen(peer: Peer) -> dict[str, dict[str, Any]]:
    """The threads a client knows, from snapshots and live events, as a UI keeps them."""
    threads: dict[str, dict[str, Any]] = {}
    for event in peer.events:
        if event["type"] == "comments":
            threads = {t["id"]: complete(t) for t in event["threads"]}
        elif event["type"] == "comment":
            threads[event["thread"]["id"]] = event["thread"]
    return threads


# what the snapshot leaves out (null, false, empty), as a client fills it in
THREAD_DEFAULTS: dict[str, Any] = {
    "private": False,
    "resolved_by": None,
    "resolved_at": None,
    "detached": False,
    "suggestion": None,
    "suggestion_state": None,
    "suggestion_decided_by": None,
    "suggestion_decided_at": None,
    "mentioned": [],
    "last_author": None,
    "last_at": None,
}
MESSAGE_DEFAULTS: dict[str, Any] = {
    "mentions": [],
    "edited_at": None,
    "deleted": False,
    "deleted_by": None,
}


def complete(thread: dict[str, Any]) -> dict[str, Any]:
    messages = [{**MESSAGE_DEFAULTS, **m} for m in thread["messages"]]
    return {**THREAD_DEFAULTS, **thread, "messages": messages}


def bodies(thread: dict[str, Any]) -> list[str]:
    return [m["body"] for m in thread["messages"]]


async def test_a_commenter_starts_a_thread_on_a_cell_and_everyone_sees_it(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)

        answer = await c.ask(bob, type="comment.create", anchor=CELL0, body="why **1**?")

        thread = answer["thread"]
        assert answer["type"] == "comment" and thread["author"] == "bob"
        assert bodies(thread) == ["why **1**?"] and thread["status"] == "open"
        assert thread["anchor"] == {**CELL0, "quote": "print(1)"} and not thread["private"]
        assert seen(alice) == {thread["id"]: thread}
        assert [e.get("id") for e in alice.events if e["type"] == "comment"] == [None]
        late = c.join("carol", Role.VIEWER)
        assert seen(late) == {thread["id"]: thread}
        assert [t.thread_id for t in await c.stored()] == [thread["id"]]
        await c.room.save(force=True)
        assert "why" not in (root / "nb.ipynb").read_text()  # never in the file


async def test_threads_are_loaded_again_when_the_room_reopens(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        await c.ask(bob, type="comment.create", anchor=CELL0, body="kept")
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        carol = c.join("carol", Role.VIEWER)  # served at once; the threads follow
        assert registry.comments is not None
        await registry.comments.visible(c.room, "carol", Role.VIEWER)
        await c.settled()
        assert [bodies(t) for t in seen(carol).values()] == [["kept"]]


async def test_a_viewer_reads_but_cannot_write_and_stays_connected(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, carol = c.join("alice", Role.OWNER), c.join("carol", Role.VIEWER)
        thread = (await c.ask(alice, type="comment.create", anchor=CELL0, body="hi"))["thread"]

        for request in (
            {"type": "comment.create", "anchor": CELL0, "body": "me too"},
            {"type": "comment.reply", "thread": thread["id"], "body": "me too"},
            {"type": "comment.resolve", "thread": thread["id"]},
        ):
            answer = await c.ask(carol, **request)
            assert answer["type"] == "error"
            assert "viewers cannot write comments" in answer["reason"]

        assert carol.connected and seen(carol) == seen(alice)
        assert [bodies(t) for t in seen(alice).values()] == [["hi"]]
        assert [len(t.messages) for t in await c.stored()] == [1]


async def test_replies_edits_and_deletes_follow_authorship(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice = c.join("alice", Role.OWNER)
        bob, dan = c.join("bob", Role.COMMENTER), c.join("dan", Role.EDITOR)
        thread = (await c.ask(bob, type="comment.create", anchor=CELL0, body="first"))["thread"]
        tid = thread["id"]
        reply = (await c.ask(dan, type="comment.reply", thread=tid, body="an answer"))["thread"]
        first, answer = (m["id"] for m in reply["messages"])

        edited = await c.ask(bob, type="comment.edit", thread=tid, message=first, body="first!")
        assert bodies(edited["thread"]) == ["first!", "an answer"]
        assert edited["thread"]["messages"][0]["edited_at"] is not None
        not_his = await c.ask(bob, type="comment.edit", thread=tid, message=answer, body="x")
        assert not_his["type"] == "error" and "only its author" in not_his["reason"]
        not_his = await c.ask(bob, type="comment.delete", thread=tid, message=answer)
        assert not_his["type"] == "error" and "author or an owner" in not_his["reason"]

        by_owner = await c.ask(alice, type="comment.delete", thread=tid, message=answer)
        message = by_owner["thread"]["messages"][1]
        assert message["deleted"] and message["body"] == "" and message["deleted_by"] == "alice"
        assert bodies(seen(bob)[tid]) == ["first!", ""]  # a placeholder keeps the thread
        gone = await c.ask(dan, type="comment.edit", thread=tid, message=answer, body="back")
        assert gone["type"] == "error"
        assert bodies(seen(dan)[tid]) == ["first!", ""]


async def test_a_thread_is_resolved_and_reopened(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)
        tid = (await c.ask(alice, type="comment.create", anchor=CELL0, body="fix"))["thread"]["id"]

        resolved = (await c.ask(bob, type="comment.resolve", thread=tid))["thread"]
        assert resolved["status"] == "resolved" and resolved["resolved_by"] == "bob"
        assert seen(alice)[tid]["status"] == "resolved"
        assert seen(c.join("carol", Role.VIEWER))[tid]["status"] == "resolved"
        reopened = (await c.ask(alice, type="comment.reopen", thread=tid))["thread"]
        assert reopened["status"] == "open" and reopened["resolved_by"] is None
        assert seen(bob)[tid]["status"] == "open"
        # joiners get the threads as they are now, not as an earlier joiner got them
        assert seen(c.join("dan", Role.VIEWER))[tid] == reopened


async def test_a_private_thread_is_seen_only_by_its_author_and_the_owners(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice = c.join("alice", Role.OWNER)
        bob, eve = c.join("bob", Role.COMMENTER), c.join("eve", Role.COMMENTER)

        private = await c.ask(
            alice, type="comment.create", anchor=CELL0, body="bob: see me", private=True
        )
        tid = private["thread"]["id"]
        reply = await c.ask(alice, type="comment.reply", thread=tid, body="about cell 1")

        assert reply["thread"]["private"] and tid in seen(alice)
        assert tid not in seen(eve) and tid not in seen(bob)  # bob is not its author
        for request in (
            {"type": "comment.reply", "thread": tid, "body": "let me in"},
            {"type": "comment.resolve", "thread": tid},
        ):
            answer = await c.ask(eve, **request)
            assert answer["type"] == "error" and f"no thread {tid!r}" in answer["reason"]
        assert seen(c.join("owner2", Role.OWNER)).keys() == {tid}
        assert tid not in seen(c.join("late", Role.EDITOR))
        assert [len(t.messages) for t in await c.stored()] == [2]


async def test_bad_requests_get_a_reason_and_change_nothing(root, tmp_path, clock):
    async with running(
        root, tmp_path / "h.db", clock, comment_limits=CommentLimits(max_body_bytes=100)
    ) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)
        cases = [
            ({"anchor": CELL0, "body": "x" * 101}, "longer than 100 bytes"),
            ({"anchor": CELL0, "body": "   "}, "non-empty"),
            ({"anchor": CELL0}, "non-empty"),
            ({"anchor": {"kind": "cell", "cell_id": "nope"}, "body": "hi"}, "no cell 'nope'"),
            ({"anchor": "cell-0", "body": "hi"}, '"anchor" must be'),
            ({"anchor": CELL0, "body": "hi", "private": "yes"}, '"private" must be'),
            ({"anchor": CELL0, "body": "hi", "mentions": "alice"}, '"mentions" must be'),
            ({"anchor": CELL0, "body": "hi", "suggestion": "y" * 101}, "at most 100 bytes"),
            ({"anchor": CELL0, "body": "hi", "suggestion": "print(1)"}, "it would replace"),
        ]
        for request, reason in cases:
            answer = await c.ask(bob, type="comment.create", **request)
            assert answer["type"] == "error" and reason in answer["reason"], (request, answer)
        unknown = await c.ask(bob, type="comment.reply", thread="nope", body="hi")
        assert unknown["type"] == "error" and "no thread 'nope'" in unknown["reason"]

        assert bob.connected and alice.connected
        assert await c.stored() == [] and seen(alice) == {}


async def test_the_author_is_who_sent_it_whatever_the_request_says(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)

        answer = await c.ask(
            bob, type="comment.create", anchor=CELL0, body="hi", author="alice", user="alice"
        )

        assert answer["thread"]["author"] == "bob"
        assert answer["thread"]["messages"][0]["author"] == "bob"
        assert [t.author for t in await c.stored()] == ["bob"]


async def test_mentions_name_only_people_with_a_role_on_the_document(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        registry.access.owners = frozenset({"alice"})
        await registry.access.grant("nb.ipynb", "bob", Role.COMMENTER, by="alice")
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)

        outside = await c.ask(
            bob, type="comment.create", anchor=CELL0, body="@mallory look", mentions=["mallory"]
        )
        assert outside["type"] == "error"
        assert "mallory cannot be mentioned: no role on nb.ipynb" in outside["reason"]
        assert await c.stored() == []

        inside = await c.ask(
            bob, type="comment.create", anchor=CELL0, body="@alice look", mentions=["alice"]
        )
        assert inside["thread"]["messages"][0]["mentions"] == ["alice"]


async def test_a_document_holds_at_most_the_configured_number_of_threads(root, tmp_path, clock):
    async with running(
        root, tmp_path / "h.db", clock, comment_limits=CommentLimits(max_threads=2)
    ) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        for n in range(2):
            await c.ask(bob, type="comment.create", anchor=CELL0, body=f"thread {n}")

        third = await c.ask(bob, type="comment.create", anchor=CELL0, body="one more")

        assert third["type"] == "error" and "has 2 threads" in third["reason"]
        assert len(await c.stored()) == 2


async def test_a_thread_follows_its_cell_through_moves_and_detaches_when_it_is_deleted(
    root, tmp_path, clock
):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)
        tid = (await c.ask(bob, type="comment.create", anchor=CELL0, body="hm"))["thread"]["id"]
        cells = alice.ydoc.ycells

        # JupyterLab moves a cell by deleting it and inserting a copy with the same id
        moved = cells[0].to_py()
        with alice.doc.transaction():
            del cells[0]
            cells.insert(1, alice.ydoc.create_ycell(moved))
        await c.settled()
        assert not seen(bob)[tid]["detached"]

        deleted = cells[1].to_py()
        del cells[1]
        await c.settled()
        assert seen(bob)[tid]["detached"] and seen(alice)[tid]["detached"]
        assert seen(bob)[tid]["anchor"]["quote"] == "print(1)"
        assert [t.detached for t in await c.stored()] == [True]

        cells.insert(0, alice.ydoc.create_ycell(deleted))  # undone: the same id is back
        await c.settled()
        assert not seen(bob)[tid]["detached"]
        assert [t.detached for t in await c.stored()] == [False]


async def test_its_author_or_an_owner_reattaches_a_thread_to_another_cell(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice = c.join("alice", Role.OWNER)
        bob, eve = c.join("bob", Role.COMMENTER), c.join("eve", Role.COMMENTER)
        tid = (await c.ask(bob, type="comment.create", anchor=CELL0, body="hm"))["thread"]["id"]
        del alice.ydoc.ycells[0]
        await c.settled()
        other = {"kind": "cell", "cell_id": "cell-1"}

        refused = await c.ask(eve, type="comment.reattach", thread=tid, anchor=other)
        assert refused["type"] == "error" and "author or an owner" in refused["reason"]
        assert seen(eve)[tid]["detached"]

        moved = (await c.ask(bob, type="comment.reattach", thread=tid, anchor=other))["thread"]
        assert not moved["detached"] and moved["anchor"]["cell_id"] == "cell-1"
        assert seen(alice)[tid] == moved


async def test_a_joining_client_gets_first_messages_and_asks_for_the_rest(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)
        tid = (await c.ask(bob, type="comment.create", anchor=CELL0, body="1"))["thread"]["id"]
        await c.ask(alice, type="comment.reply", thread=tid, body="2 @bob", mentions=["bob"])
        await c.ask(bob, type="comment.reply", thread=tid, body="3")
        full = seen(alice)[tid]

        carol = c.join("carol", Role.VIEWER)
        await registry.comments.visible(c.room, "carol", Role.VIEWER)  # type: ignore[union-attr]
        await c.settled()
        brief = seen(carol)[tid]
        assert bodies(brief) == ["1"] and brief["message_count"] == 3
        assert brief["participants"] == ["bob", "alice"] and brief["mentioned"] == ["bob"]
        assert brief["last_author"] == "bob"
        assert {k: v for k, v in brief.items() if k != "messages"} == {
            k: v for k, v in full.items() if k != "messages"
        }

        before = len(alice.events)
        answer = await c.ask(carol, type="comment.get", thread=tid)
        assert answer["thread"] == full and bodies(answer["thread"]) == ["1", "2 @bob", "3"]
        assert len(alice.events) == before  # the answer went to the asker alone
        hidden = await c.ask(carol, type="comment.get", thread="nope")
        assert hidden["type"] == "error" and "no thread" in hidden["reason"]
