"""Threads on a range of text: the anchor follows the text through everyone's edits and
cell moves, is detached when its text is deleted (and attached again when it is back),
and a bad anchor is refused with a reason, changing nothing. Rooms on in-memory
channels with the real store; the clients make their positions with pycrdt, whose bytes
are Yjs's (tests/interop/test_relative_positions.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Assoc, Text, UndoManager

from jupyter_collab.permissions import Role
from jupyter_collab.rooms import anchors

from .fakes import Peer
from .rooms_helpers import make_notebook, running
from .test_comments_service import Class, open_class, seen


@pytest.fixture
def root(root: Path) -> Path:
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("x = 1\nprint(x)", "y = 2")))
    (root / "t.py").write_text("import os\nprint(os.sep)\n")
    return root


def source(peer: Peer, index: int) -> Text:
    return peer.ydoc.ycells[index]["source"]


def position(text: Text, index: int, assoc: Assoc) -> str:
    return base64.b64encode(text.sticky_index(index, assoc).encode()).decode()


def range_on(text: Text, start: int, end: int, cell_id: str | None = "cell-0") -> dict[str, Any]:
    """A range as JupyterLab sends it: the start sticks to the first character, the end
    to the last."""
    anchor = {
        "kind": "range",
        "start": position(text, start, Assoc.AFTER),
        "end": position(text, end, Assoc.BEFORE),
    }
    if cell_id is not None:
        anchor["cell_id"] = cell_id
    return anchor


def covered(c: Class, thread: dict[str, Any]) -> str | None:
    """The text a thread's anchor covers in the room now (None: gone)."""
    found = anchors.resolve(c.room, thread["anchor"])
    return None if found is None else str(found.text)[found.start : found.end]


async def comment_on(c: Class, peer: Peer, start: int, end: int) -> str:
    """``peer`` comments on characters ``start``..``end`` of the first cell; the thread id."""
    answer = await c.ask(
        peer, type="comment.create", anchor=range_on(source(peer, 0), start, end), body="?"
    )
    return str(answer["thread"]["id"])


async def checked(c: Class) -> None:
    """Run the room's range check now (it runs 200 ms after edits) and deliver."""
    await c.settled()
    assert c.registry.comments is not None
    c.registry.comments.check_ranges(c.room)
    await c.settled()


async def test_a_range_follows_edits_above_it_and_around_it(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        anchor = range_on(source(bob, 0), 6, 14)  # "print(x)"
        answer = await c.ask(bob, type="comment.create", anchor=anchor, body="why?")
        thread = answer["thread"]
        assert thread["anchor"]["quote"] == "print(x)" and not thread["detached"]

        text = source(alice, 0)
        text.insert(0, "# setup\n")  # above it
        text.insert(len(str(text)), "  # done")  # right after its last character
        await checked(c)

        assert str(source(bob, 0)) == "# setup\nx = 1\nprint(x)  # done"
        assert covered(c, seen(bob)[thread["id"]]) == "print(x)"
        assert not seen(alice)[thread["id"]]["detached"]


async def test_a_range_whose_text_is_deleted_is_detached_and_comes_back_with_it(
    root, tmp_path, clock
):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        tid = await comment_on(c, bob, 6, 14)

        text = source(alice, 0)
        del text[6:14]  # ASCII: bytes are characters
        await checked(c)
        assert seen(bob)[tid]["detached"] and seen(alice)[tid]["detached"]
        assert seen(bob)[tid]["anchor"]["quote"] == "print(x)"
        assert [t.detached for t in await c.stored()] == [True]

        text.insert(6, "print(x)")  # undone: new characters, the same text
        await checked(c)
        assert not seen(bob)[tid]["detached"]
        assert covered(c, seen(bob)[tid]) == "print(x)"


async def test_a_partly_deleted_range_keeps_what_is_left(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        tid = await comment_on(c, bob, 6, 14)
        del source(alice, 0)[6:12]  # "print(" of "print(x)"
        await checked(c)
        assert covered(c, seen(bob)[tid]) == "x)" and not seen(bob)[tid]["detached"]


async def test_a_range_follows_its_cell_when_it_is_moved(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        tid = (
            await c.ask(bob, type="comment.create", anchor=range_on(source(bob, 0), 0, 5), body="?")
        )["thread"]["id"]
        cells = alice.ydoc.ycells
        # JupyterLab moves a cell by deleting it and inserting a copy with the same id
        moved = cells[0].to_py()
        with alice.doc.transaction():
            del cells[0]
            cells.insert(1, alice.ydoc.create_ycell(moved))
        await checked(c)

        thread = seen(bob)[tid]
        assert not thread["detached"] and covered(c, thread) == "x = 1"
        assert anchors.resolve(c.room, thread["anchor"]).cell_id == "cell-0"  # type: ignore[union-attr]
        source(alice, 1).insert(0, ">>")
        await checked(c)
        assert covered(c, seen(bob)[tid]) == "x = 1"


async def test_a_range_in_a_text_file(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("t.py", "file")
        c = Class(registry, room)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        text = bob.doc.get("source", type=Text)
        anchor = range_on(text, 10, 23, cell_id=None)  # "print(os.sep)"
        tid = (await c.ask(bob, type="comment.create", anchor=anchor, body="?"))["thread"]["id"]
        alice.doc.get("source", type=Text).insert(0, "import sys\n")
        await checked(c)
        assert covered(c, seen(bob)[tid]) == "print(os.sep)"


async def test_bad_anchors_are_refused_by_name_and_change_nothing(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        text, other = source(bob, 0), source(bob, 1)
        good = range_on(text, 0, 5)
        cases = [
            ({**good, "start": "not base64!"}, "not base64"),
            ({**good, "start": 7}, "relative position in base64"),
            ({**good, "end": range_on(other, 0, 3, "cell-1")["end"]}, "outside the document"),
            ({**good, "cell_id": "cell-9"}, "no cell 'cell-9'"),
            ({k: v for k, v in good.items() if k != "cell_id"}, 'names its cell: "cell_id"'),
            (range_on(text, 4, 4), "empty"),
            ({**good, "start": base64.b64encode(b"\x07\x01").decode()}, "outside the document"),
        ]
        for anchor, reason in cases:
            answer = await c.ask(bob, type="comment.create", anchor=anchor, body="?")
            assert answer["type"] == "error" and reason in answer["reason"], (anchor, answer)
        long = await running_with_short_quotes(root, tmp_path)
        assert "at most 3 characters" in long
        assert bob.connected and await c.stored() == []


async def running_with_short_quotes(root: Path, tmp_path: Path) -> str:
    from jupyter_collab.rooms.comments import CommentLimits

    from .fakes import FakeClock

    async with running(
        root, tmp_path / "short.db", FakeClock(), comment_limits=CommentLimits(max_quote_chars=3)
    ) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        answer = await c.ask(
            bob, type="comment.create", anchor=range_on(source(bob, 0), 0, 5), body="?"
        )
        assert answer["type"] == "error"
        return str(answer["reason"])


async def test_a_suggestion_on_a_range_is_accepted_and_undone(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob, eve = c.join("bob", Role.COMMENTER), c.join("eve", Role.EDITOR)
        anchor = range_on(source(bob, 0), 6, 14)  # "print(x)"
        tid = (
            await c.ask(
                bob, type="comment.create", anchor=anchor, body="f", suggestion="print(x * 2)"
            )
        )["thread"]["id"]
        source(eve, 0).insert(0, "# eve\n")  # unrelated text before it: still acceptable
        await c.settled()

        accepted = (await c.ask(eve, type="comment.accept", thread=tid))["thread"]

        assert str(source(bob, 0)) == "# eve\nx = 1\nprint(x * 2)"
        assert accepted["suggestion_state"] == "accepted"
        assert covered(c, accepted) == "print(x * 2)"
        await c.ask(eve, type="comment.undo", thread=tid)
        assert str(source(bob, 0)) == "# eve\nx = 1\nprint(x)"


async def test_a_range_follows_its_text_through_a_change_made_on_disk(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        tid = await comment_on(c, bob, 6, 14)
        await c.room.save(force=True)
        # another program adds a line above the range and changes the other cell
        on_disk = json.loads((root / "nb.ipynb").read_text())
        on_disk["cells"][0]["source"] = "import math\nx = 1\nprint(x)"
        on_disk["cells"][1]["source"] = "y = 3"
        (root / "nb.ipynb").write_text(json.dumps(on_disk))

        assert await c.room.file.check_disk()
        await checked(c)

        assert str(source(bob, 0)) == "import math\nx = 1\nprint(x)"
        assert covered(c, seen(bob)[tid]) == "print(x)" and not seen(bob)[tid]["detached"]


async def test_a_range_on_the_last_word_of_a_text_without_ascii_after_it(root, tmp_path, clock):
    # pycrdt makes no position at the very end of a text after its last character; a
    # range starting in the trailing run of non-ASCII text needs none
    (root / "ru.md").write_text("Привет мир")
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("ru.md", "file")
        c = Class(registry, room)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        text = bob.doc.get("source", type=Text)
        # one run of text: pycrdt counts UTF-16 units in it, as Yjs does
        anchor = range_on(text, 7, 10, cell_id=None)
        answer = await c.ask(bob, type="comment.create", anchor=anchor, body="?")
        assert answer["type"] == "comment", answer
        assert answer["thread"]["anchor"]["quote"] == "мир"

        alice.doc.get("source", type=Text).insert(0, "# ")
        await checked(c)
        assert covered(c, seen(bob)[answer["thread"]["id"]]) == "мир"


async def test_a_position_past_the_end_of_a_text_is_refused_by_name(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("t.py", "file")
        c = Class(registry, room)
        bob = c.join("bob", Role.COMMENTER)
        text = bob.doc.get("source", type=Text)
        # how Yjs writes the end of a root text with assoc 0: the text's name
        past_end = base64.b64encode(b"\x01\x06source\x00").decode()
        anchor = {**range_on(text, 0, 6, cell_id=None), "start": past_end}
        answer = await c.ask(bob, type="comment.create", anchor=anchor, body="?")
        assert answer["type"] == "error" and "outside the document" in answer["reason"]
        assert bob.connected and await c.stored() == []


def split(peer: Peer, index: int, offset: int, new_id: str) -> None:
    """JupyterLab's split at ``offset``: the text before it goes to a new cell above
    (its edge newlines trimmed), the cell keeps the rest by ``setSource`` (its whole
    text deleted and inserted again)."""
    cells = peer.ydoc.ycells
    text = cells[index]["source"]
    whole = str(text)
    above = {"cell_type": "code", "id": new_id, "source": whole[:offset].strip("\n")}
    with peer.doc.transaction():
        cells.insert(index, peer.ydoc.create_ycell({**above, "metadata": {}}))
        del text[0 : len(whole.encode())]
        text.insert(0, whole[offset:].strip("\n"))


def merge(peer: Peer, index: int, new_id: str) -> None:
    """JupyterLab's merge of a cell with the next: one new cell (a new id) whose text is
    theirs joined by a newline, in place of both."""
    cells = peer.ydoc.ycells
    joined = str(cells[index]["source"]) + "\n" + str(cells[index + 1]["source"])
    cell = {"cell_type": "code", "id": new_id, "source": joined, "metadata": {}}
    with peer.doc.transaction():
        del cells[index]
        cells.insert(index, peer.ydoc.create_ycell(cell))
        del cells[index + 1]


async def test_ranges_follow_their_text_when_jupyterlab_splits_their_cell(root, tmp_path, clock):
    (root / "s.ipynb").write_text(json.dumps(make_notebook("value = 1\nprint(value)\nx = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = Class(registry, await registry.open_session("s.ipynb", "notebook"))
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        first = await comment_on(c, bob, 0, 9)  # "value = 1": 9 characters, moves up
        second = await comment_on(c, bob, 10, 22)  # "print(value)": stays in its cell
        short = await comment_on(c, bob, 23, 28)  # "x = 2": stays
        one = await comment_on(c, bob, 8, 9)  # "1": moves up, too short to follow it
        equals = await comment_on(c, bob, 6, 7)  # "=": moves up; its cell has another

        split(alice, 0, 10, "above")
        await checked(c)

        threads = seen(bob)
        assert threads[first]["anchor"]["cell_id"] == "above"
        assert covered(c, threads[first]) == "value = 1"
        for tid, text in [(second, "print(value)"), (short, "x = 2")]:
            assert threads[tid]["anchor"]["cell_id"] == "cell-0"
            assert covered(c, threads[tid]) == text and not threads[tid]["detached"]
        # too short to be looked for in other cells: detached, with its quote
        assert threads[one]["detached"] and threads[one]["anchor"]["quote"] == "1"
        # unless its own cell has the same text: the rule takes it (the "=" of "x = 2")
        assert covered(c, threads[equals]) == "=" and not threads[equals]["detached"]
        assert threads[equals]["anchor"]["cell_id"] == "cell-0"


async def test_ranges_follow_their_text_when_jupyterlab_merges_their_cells(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        long = await comment_on(c, bob, 6, 14)  # "print(x)": 8 characters
        answer = await c.ask(
            bob, type="comment.create", anchor=range_on(source(bob, 1), 0, 5, "cell-1"), body="?"
        )
        short = answer["thread"]["id"]  # "y = 2" in the second cell

        merge(alice, 0, "merged")
        await checked(c)

        assert str(source(bob, 0)) == "x = 1\nprint(x)\ny = 2"
        threads = seen(bob)
        assert threads[long]["anchor"]["cell_id"] == "merged"
        assert covered(c, threads[long]) == "print(x)" and not threads[long]["detached"]
        assert threads[short]["detached"] and threads[short]["anchor"]["quote"] == "y = 2"


async def test_an_undone_deletion_attaches_its_range_again(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        tid = await comment_on(c, bob, 6, 14)
        undo = UndoManager(scopes=[source(alice, 0)], capture_timeout_millis=0)
        del source(alice, 0)[5:14]  # "\nprint(x)"
        await checked(c)
        assert seen(bob)[tid]["detached"]

        assert undo.undo()  # Yjs undo inserts the text again as new characters
        await checked(c)

        assert str(source(bob, 0)) == "x = 1\nprint(x)"
        assert not seen(bob)[tid]["detached"] and covered(c, seen(bob)[tid]) == "print(x)"


async def test_a_range_thread_is_reattached_by_its_author_only(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        carol = c.join("carol", Role.COMMENTER)
        tid = await comment_on(c, bob, 6, 14)
        del source(alice, 0)[5:14]
        await checked(c)
        assert all(seen(p)[tid]["detached"] for p in (alice, bob, carol))
        elsewhere = range_on(source(carol, 1), 0, 5, "cell-1")

        refused = await c.ask(carol, type="comment.reattach", thread=tid, anchor=elsewhere)
        assert refused["type"] == "error" and "only its author or an owner" in refused["reason"]
        bad = {**elsewhere, "cell_id": "cell-0"}  # positions of another cell
        refused = await c.ask(bob, type="comment.reattach", thread=tid, anchor=bad)
        assert refused["type"] == "error" and "outside the document" in refused["reason"]
        assert seen(carol)[tid]["detached"]

        await c.ask(bob, type="comment.reattach", thread=tid, anchor=elsewhere)

        for peer in (alice, bob, carol):
            thread = seen(peer)[tid]
            assert not thread["detached"] and thread["anchor"]["quote"] == "y = 2"
        source(alice, 1).insert(0, "# y\n")
        await checked(c)
        assert covered(c, seen(carol)[tid]) == "y = 2"


def move_first_cell(peer: Peer) -> None:
    """JupyterLab's move: a delete, and an insert of a copy with the same id."""
    cells = peer.ydoc.ycells
    moved = cells[0].to_py()
    with peer.doc.transaction():
        del cells[0]
        cells.insert(1, peer.ydoc.create_ycell(moved))


async def test_text_typed_inside_an_accented_range_moves_with_its_cell(root, tmp_path, clock):
    (root / "fr.ipynb").write_text(json.dumps(make_notebook("x = 'Résumé'\ny = 1", "z = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = Class(registry, await registry.open_session("fr.ipynb", "notebook"))
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        # "'Résumé'" (one run of text: pycrdt counts UTF-16 units in it)
        tid = await comment_on(c, bob, 4, 12)
        await checked(c)  # read once: later checks skip a range that still covers text
        source(alice, 0).insert(len("x = 'Ré".encode()), "sumé ré")  # inside the range
        await checked(c)
        assert covered(c, seen(bob)[tid]) == "'Résumé résumé'"

        move_first_cell(alice)  # its text is a new one: made again on what it covered
        await checked(c)

        thread = seen(bob)[tid]
        assert not thread["detached"] and covered(c, thread) == "'Résumé résumé'"


async def test_a_range_made_again_keeps_its_non_ascii_edges(root, tmp_path, clock):
    (root / "fr.ipynb").write_text(json.dumps(make_notebook("# Résumé\ny = 1", "z = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = Class(registry, await registry.open_session("fr.ipynb", "notebook"))
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        tid = await comment_on(c, bob, 2, 8)  # "Résumé": ends on an "é"
        move_first_cell(alice)
        await checked(c)
        assert covered(c, seen(bob)[tid]) == "Résumé"
