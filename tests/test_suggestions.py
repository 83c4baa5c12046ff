"""Suggested edits: a commenter proposes new text for a cell; people who may edit accept
it (the change is stored as the suggester's), reject it, or undo an accepted one. Every
refusal gets a reason and changes neither the document nor the thread. Rooms on
in-memory channels with the real store (tests/rooms_helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_collab.permissions import Role
from jupyter_collab.protocol import encode_event

from .rooms_helpers import make_notebook, running
from .test_comments_service import Class, open_class, seen

CELL1 = {"kind": "cell", "cell_id": "cell-1"}


@pytest.fixture
def root(root: Path) -> Path:
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("print(1)", "x = 2\ny = x")))
    return root


def source(peer: Any, index: int = 1) -> str:
    return str(peer.ydoc.ycells[index]["source"])


async def suggest(c: Class, peer: Any, new: str, anchor: dict[str, Any] = CELL1) -> str:
    answer = await c.ask(
        peer, type="comment.create", anchor=anchor, body="try this", suggestion=new
    )
    assert answer["type"] == "comment", answer
    return str(answer["thread"]["id"])


async def test_an_editor_accepts_a_suggestion_as_the_suggesters_change_and_undoes_it(
    root, tmp_path, clock
):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob, eve = c.join("bob", Role.COMMENTER), c.join("eve", Role.EDITOR)
        tid = await suggest(c, bob, "x = 3\ny = x")
        proposed = seen(eve)[tid]
        assert proposed["suggestion"] == "x = 3\ny = x" and proposed["suggestion_state"] == "open"
        assert proposed["anchor"]["quote"] == "x = 2\ny = x"  # the whole cell it replaces
        before = len(await registry.history.update_rows(c.room.doc_id))

        accepted = (await c.ask(eve, type="comment.accept", thread=tid))["thread"]

        assert source(bob) == source(eve) == "x = 3\ny = x"
        assert accepted["suggestion_state"] == "accepted"
        assert accepted["suggestion_decided_by"] == "eve" and accepted["status"] == "resolved"
        assert seen(bob)[tid] == accepted
        rows = (await registry.history.update_rows(c.room.doc_id))[before:]
        assert [(r["author"], r["origin"]) for r in rows] == [("bob", "suggestion")]

        undone = (await c.ask(eve, type="comment.undo", thread=tid))["thread"]

        assert source(bob) == source(eve) == "x = 2\ny = x"
        assert undone["suggestion_state"] == "open" and undone["status"] == "open"
        rows = (await registry.history.update_rows(c.room.doc_id))[before + 1 :]
        assert [(r["author"], r["origin"]) for r in rows] == [("eve", "suggestion")]
        await c.room.save(force=True)
        assert "x = 2" in (root / "nb.ipynb").read_text()


async def test_accepting_changes_only_what_differs(root, tmp_path, clock):
    """Text the suggestion keeps is not rewritten: a concurrent edit on it survives."""
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob, eve = c.join("bob", Role.COMMENTER), c.join("eve", Role.EDITOR)
        tid = await suggest(c, bob, "x = 2\ny = x * 2")
        eve.ydoc.ycells[1]["source"].insert(0, "# eve\n")
        changed = await c.ask(eve, type="comment.accept", thread=tid)
        # refused: the text is no longer what the suggestion was made on
        assert changed["type"] == "error" and "text changed since" in changed["reason"]
        assert seen(eve)[tid]["suggestion_state"] == "open"
        assert source(bob) == "# eve\nx = 2\ny = x"
        del eve.ydoc.ycells[1]["source"][0:6]
        await c.settled()

        await c.ask(eve, type="comment.accept", thread=tid)
        eve.ydoc.ycells[1]["source"].insert(0, "# still here\n")
        await c.settled()

        assert source(bob) == source(eve) == "# still here\nx = 2\ny = x * 2"


async def test_a_rejected_suggestion_changes_nothing(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob, alice = c.join("bob", Role.COMMENTER), c.join("alice", Role.OWNER)
        tid = await suggest(c, bob, "x = 3")

        rejected = (await c.ask(alice, type="comment.reject", thread=tid))["thread"]

        assert rejected["suggestion_state"] == "rejected" and rejected["status"] == "resolved"
        assert source(bob) == "x = 2\ny = x"
        late = await c.ask(alice, type="comment.accept", thread=tid)
        assert late["type"] == "error" and "the suggestion is rejected" in late["reason"]
        assert source(bob) == "x = 2\ny = x"


async def test_who_may_decide_and_what_is_refused(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)
        eve, carol = c.join("eve", Role.EDITOR), c.join("carol", Role.VIEWER)
        tid = await suggest(c, bob, "x = 3")
        plain = (await c.ask(bob, type="comment.create", anchor=CELL1, body="hm"))["thread"]

        cases = [
            (bob, {"type": "comment.accept", "thread": tid}, "commenters cannot change"),
            (carol, {"type": "comment.reject", "thread": tid}, "viewers cannot change"),
            (eve, {"type": "comment.undo", "thread": tid}, "the suggestion is open"),
            (eve, {"type": "comment.accept", "thread": plain["id"]}, "suggests no change"),
            (eve, {"type": "comment.accept", "thread": "nope"}, "no thread"),
        ]
        for peer, request, reason in cases:
            answer = await c.ask(peer, **request)
            assert answer["type"] == "error" and reason in answer["reason"], answer
            assert peer.connected

        same = await c.ask(
            bob, type="comment.create", anchor=CELL1, body="no-op", suggestion="x = 2\ny = x"
        )
        assert same["type"] == "error" and "is the text it would replace" in same["reason"]
        huge = await c.ask(bob, type="comment.create", anchor=CELL1, body="b", suggestion=7)
        assert huge["type"] == "error" and "a suggestion must be text" in huge["reason"]

        alice.to_room.append(encode_event({"type": "lock", "cell": "cell-1", "locked": True}))
        await c.settled()
        locked = await c.ask(eve, type="comment.accept", thread=tid)
        assert locked["type"] == "error" and "the cell is locked" in locked["reason"]
        assert source(alice) == "x = 2\ny = x" and seen(alice)[tid]["suggestion_state"] == "open"

        owner = (await c.ask(alice, type="comment.accept", thread=tid))["thread"]
        assert owner["suggestion_state"] == "accepted" and source(bob) == "x = 3"


async def test_a_suggestion_on_a_deleted_cell_cannot_be_accepted(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob, eve = c.join("bob", Role.COMMENTER), c.join("eve", Role.EDITOR)
        tid = await suggest(c, bob, "x = 3")
        del eve.ydoc.ycells[1]
        await c.settled()

        answer = await c.ask(eve, type="comment.accept", thread=tid)

        assert answer["type"] == "error" and "is gone" in answer["reason"]
        assert len(eve.ydoc.ycells) == 1 and seen(bob)[tid]["suggestion_state"] == "open"
