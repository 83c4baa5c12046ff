"""Cell locks: owners lock cells; an editor's change to a locked cell's source, type,
metadata or position, or its deletion, is refused before the room applies it; outputs
may still change. Rooms on in-memory channels with the real store."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_collab.errors import CollabError, PermissionDenied
from jupyter_collab.permissions import Role
from jupyter_collab.protocol import encode_event
from jupyter_collab.rooms import Room

from .fakes import Peer, settle
from .rooms_helpers import make_notebook, running


def join(room: Room, username: str, role: Role) -> Peer:
    peer = Peer("notebook", username)
    peer.connect(room)
    room.clients[peer.channel].role = role  # type: ignore[index]
    settle(peer)
    return peer


async def lock(room: Room, owner: Peer, cell_id: str, locked: bool = True) -> None:
    owner.to_room.append(encode_event({"type": "lock", "cell": cell_id, "locked": locked}))
    settle(owner)
    await room.history.flush()
    for task in list(room._tasks):  # noqa: SLF001 (await the spawned store write)
        await task
    settle(owner)


def refused(peer: Peer) -> str:
    """Deliver the peer's pending messages; the reason the room refused them."""
    with pytest.raises(PermissionDenied) as err:
        settle(peer)
    return str(err.value)


def cell(peer: Peer, index: int) -> Any:
    return peer.ydoc.ycells[index]


async def test_an_owner_locks_a_cell_and_everyone_learns_it(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        bob = join(room, "bob", Role.EDITOR)

        await lock(room, alice, "cell-0")
        settle(bob)

        assert {"type": "locks", "cells": ["cell-0"]} in bob.events
        assert await registry.lock_records.locks(room.doc_id) == {"cell-0"}
        late = join(room, "carol", Role.EDITOR)
        assert {"type": "locks", "cells": ["cell-0"]} in late.events

        bob.to_room.append(encode_event({"type": "lock", "cell": "cell-1", "locked": True}))
        settle(bob)
        assert bob.events[-1]["type"] == "error" and "owners can" in bob.events[-1]["reason"]


async def test_an_editor_cannot_change_a_locked_cell_but_may_run_it(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-0")
        before = room.content()["cells"][0]

        attempts = {
            "source": lambda p: cell(p, 0)["source"].insert(0, "# "),
            "metadata": lambda p: cell(p, 0)["metadata"].__setitem__("tags", ["x"]),
            "cell_type": lambda p: cell(p, 0).__setitem__("cell_type", "markdown"),
            "deleted": lambda p: p.ydoc.ycells.__delitem__(0),
        }
        for what, attempt in attempts.items():
            bob = join(room, "bob", Role.EDITOR)
            attempt(bob)
            reason = refused(bob)
            assert "cell cell-0 is locked" in reason and what in reason
            assert bob.channel.outbox[-1][0] == 2  # y-protocols permission denied
            bob.disconnect()
            assert room.content()["cells"][0] == before
            settle(alice)
            assert alice.content()["cells"][0] == before

        bob = join(room, "bob", Role.EDITOR)
        cell(bob, 0)["execution_count"] = 7  # running it
        cell(bob, 1)["source"].insert(0, "z")  # an unlocked cell
        settle(bob, alice)
        assert room.content()["cells"][0]["execution_count"] == 7
        assert alice.content()["cells"][1]["source"] == "zy = 2"
        cell(alice, 0)["source"].insert(0, "# owner: ")  # owners may edit it
        settle(alice, bob)
        assert bob.content()["cells"][0]["source"] == "# owner: x = 1"


async def test_a_locked_cell_cannot_be_moved_but_cells_may_be_added_around_it(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-1")
        bob = join(room, "bob", Role.EDITOR)

        bob.ydoc.ycells.insert(0, bob.ydoc.create_ycell({"cell_type": "code", "source": "new"}))
        settle(bob, alice)
        assert [c["source"] for c in room.content()["cells"]] == ["new", "x = 1", "y = 2"]

        with bob.doc.transaction():  # how @jupyter/ydoc moves a cell: delete, re-insert
            moved = cell(bob, 2).to_py()
            del bob.ydoc.ycells[2]
            bob.ydoc.ycells.insert(0, bob.ydoc.create_ycell(moved))
        assert "cannot be moved" in refused(bob)
        assert [c["source"] for c in room.content()["cells"]] == ["new", "x = 1", "y = 2"]


async def test_unlocking_lets_editors_change_it_again_and_locks_survive_a_restart(
    root, tmp_path, clock
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-0")
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        assert room.locked == {"cell-0"}
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-0", locked=False)
        bob = join(room, "bob", Role.EDITOR)
        cell(bob, 0)["source"].insert(0, "# ")
        settle(bob)
        assert room.content()["cells"][0]["source"] == "# x = 1"


REIDS = ("cell-1", "cell-0", "fresh-id")


def split_cell(peer: Peer, index: int) -> None:
    """JupyterLab's split at the cursor: the cell keeps the head, a new cell the tail."""
    with peer.doc.transaction():
        source = peer.ydoc.ycells[index]["source"]
        text = str(source)
        half = len(text) // 2
        del source[half:]
        tail = peer.ydoc.create_ycell({"cell_type": "code", "source": text[half:]})
        peer.ydoc.ycells.insert(index + 1, tail)


def merge_cells(peer: Peer, index: int) -> None:
    """JupyterLab's merge: the first cell takes both sources, the second is deleted."""
    with peer.doc.transaction():
        cells = peer.ydoc.ycells
        cells[index]["source"].insert(
            len(cells[index]["source"]), "\n" + str(cells[index + 1]["source"])
        )
        del cells[index + 1]


@pytest.mark.parametrize("one_update", [False, True])
async def test_no_cell_takes_a_locked_cells_place(root, tmp_path, clock, one_update):
    """Issue 8, finding 4: insert a cell, give it the locked cell's id, delete the
    original. Each step that touches the locked id is refused; the locked cell stays."""
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-0")
        before = room.content()["cells"][0]
        bob = join(room, "bob", Role.EDITOR)

        with bob.doc.transaction() if one_update else contextlib.nullcontext():
            bob.ydoc.ycells.insert(
                0, bob.ydoc.create_ycell({"cell_type": "code", "source": "evil"})
            )
            if not one_update:
                settle(bob)  # a new cell of their own is fine
            bob.ydoc.ycells[0]["id"] = "cell-0"
            del bob.ydoc.ycells[1]

        assert "cell cell-0 is locked" in refused(bob)
        cells = room.content()["cells"]
        assert [c["id"] for c in cells].count("cell-0") == 1
        assert next(c for c in cells if c["id"] == "cell-0") == before


@pytest.mark.parametrize(
    "attempt, reason",
    [
        (lambda p: p.ydoc.ycells[0].__setitem__("id", "mine"), "no cell may take its id"),
        (lambda p: p.ydoc.ycells[1].__setitem__("id", "cell-0"), "no cell may take its id"),
        (
            lambda p: p.ydoc.ycells.insert(
                2, p.ydoc.create_ycell({"cell_type": "code", "id": "cell-0", "source": ""})
            ),
            "cannot be moved or copied",
        ),
        (lambda p: split_cell(p, 0), "its source cannot change"),
        (lambda p: merge_cells(p, 0), "its source cannot change"),
        (lambda p: merge_cells(p, 1) if len(p.ydoc.ycells) > 2 else None, None),
    ],
    ids=[
        "re-id the locked cell",
        "re-id another cell to it",
        "a twin",
        "split",
        "merge",
        "merge others",
    ],
)
async def test_a_locked_cell_cannot_be_re_ided_copied_split_or_merged(
    root, tmp_path, clock, attempt, reason
):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2", "z = 3")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-0")
        before = room.content()["cells"]
        bob = join(room, "bob", Role.EDITOR)

        attempt(bob)

        if reason is None:  # merging two unlocked cells is fine
            settle(bob)
            assert room.content()["cells"][0] == before[0]
            assert len(room.content()["cells"]) == 2
        else:
            assert reason in refused(bob)
            assert room.content()["cells"] == before


async def test_no_editor_step_sequence_changes_a_locked_cell(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2", "z = 3")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-1")
        locked_before = room.content()["cells"][1]

        text = st.text(alphabet="ab =\n", max_size=4)
        steps = st.lists(
            st.one_of(
                st.tuples(st.just("type"), st.integers(0, 4), text),
                st.tuples(st.just("erase"), st.integers(0, 4)),
                st.tuples(st.just("add"), st.integers(0, 4), text),
                st.tuples(st.just("drop"), st.integers(0, 4)),
                st.tuples(st.just("move"), st.integers(0, 4), st.integers(0, 4)),
                st.tuples(st.just("outputs"), st.integers(0, 4)),
                st.tuples(st.just("twin"), st.integers(0, 4)),  # a new cell with a locked id
                st.tuples(st.just("reid"), st.integers(0, 4), st.sampled_from(REIDS)),
                st.tuples(st.just("type"), st.integers(0, 4), st.just("retype")),
                st.tuples(st.just("split"), st.integers(0, 4)),
                st.tuples(st.just("merge"), st.integers(0, 4)),
            ),
            max_size=8,
        )

        @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
        @given(steps=steps)
        def editor_session(steps: list[tuple[Any, ...]]) -> None:
            bob = join(room, "bob", Role.EDITOR)
            for step in steps:
                cells = bob.ydoc.ycells
                n = len(cells)
                kind = step[0]
                if kind == "type" and step[2] != "retype" and n:
                    cells[step[1] % n]["source"].insert(0, step[2])
                elif kind == "erase" and n and len(cells[step[1] % n]["source"]):
                    del cells[step[1] % n]["source"][0:1]
                elif kind == "add":
                    new = bob.ydoc.create_ycell({"cell_type": "code", "source": step[2]})
                    cells.insert(min(step[1], n), new)
                elif kind == "drop" and n:
                    del cells[step[1] % n]
                elif kind == "move" and n:
                    with bob.doc.transaction():
                        moved = cells[step[1] % n].to_py()
                        del cells[step[1] % n]
                        cells.insert(min(step[2], n - 1), bob.ydoc.create_ycell(moved))
                elif kind == "outputs" and n:
                    cells[step[1] % n]["execution_count"] = step[1]
                elif kind == "twin":
                    twin = bob.ydoc.create_ycell(
                        {"cell_type": "code", "id": "cell-1", "source": ""}
                    )
                    cells.insert(min(step[1], n), twin)
                elif kind == "reid" and n:
                    cells[step[1] % n]["id"] = step[2]
                elif kind == "type" and step[-1] == "retype" and n:
                    cells[step[1] % n]["cell_type"] = "markdown"
                elif kind == "split" and n:
                    split_cell(bob, step[1] % n)
                elif kind == "merge" and n > 1:
                    merge_cells(bob, step[1] % (n - 1))
                try:
                    settle(bob)
                except CollabError:
                    break  # refused: the handler closes the connection
                finally:
                    ids = [c["id"] for c in room.content()["cells"]]
                    assert ids.count("cell-1") == 1
                    kept = next(c for c in room.content()["cells"] if c["id"] == "cell-1")
                    assert {k: v for k, v in kept.items() if k != "execution_count"} == {
                        k: v for k, v in locked_before.items() if k != "execution_count"
                    }
            bob.disconnect()

        editor_session()
        settle(alice)
        assert alice.content() == room.content()


async def test_collapsing_a_locked_cells_view_is_not_a_change_to_it(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice = join(room, "alice", Role.OWNER)
        await lock(room, alice, "cell-0")
        bob = join(room, "bob", Role.EDITOR)

        cell(bob, 0)["metadata"]["jupyter"] = {"outputs_hidden": True}
        cell(bob, 0)["metadata"]["scrolled"] = True
        settle(bob)
        assert room.content()["cells"][0]["metadata"]["jupyter"] == {"outputs_hidden": True}

        cell(bob, 0)["metadata"]["tags"] = ["mine"]  # what the cell is: still locked
        assert "its metadata cannot change" in refused(bob)


async def test_outputs_change_only_through_someone_who_may_run_code(root, tmp_path, clock):
    """Issue 9: an editor who may not run code cannot clear or forge outputs or execution
    counts of existing cells, whatever their client sends; new cells bring their own."""
    notebook = make_notebook("x = 1", "y = 2")
    notebook["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    notebook["cells"][0]["execution_count"] = 1
    (root / "a.ipynb").write_text(json.dumps(notebook))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        before = room.content()["cells"]
        attempts = {
            "cleared": lambda p: cell(p, 0)["outputs"].clear(),
            "count": lambda p: cell(p, 0).__setitem__("execution_count", None),
            "forged": lambda p: cell(p, 1).__setitem__("execution_count", 99),
        }
        for what, attempt in attempts.items():
            bob = join(room, "bob", Role.EDITOR)
            room.clients[bob.channel].may_run = False  # type: ignore[index]
            attempt(bob)
            assert "only people who may run code" in refused(bob), what
            bob.disconnect()
            assert room.content()["cells"] == before

        bob = join(room, "bob", Role.EDITOR)
        room.clients[bob.channel].may_run = False  # type: ignore[index]
        cell(bob, 1)["source"].insert(0, "z")  # editing is still theirs
        pasted = {"cell_type": "code", "source": "p", "execution_count": 3, "outputs": []}
        bob.ydoc.ycells.append(bob.ydoc.create_ycell(pasted))  # a pasted cell keeps its count
        settle(bob)
        assert [c["source"] for c in room.content()["cells"]] == ["x = 1", "zy = 2", "p"]
        carol = join(room, "carol", Role.EDITOR)  # may run (the registry's default)
        cell(carol, 0)["execution_count"] = 2
        settle(carol)
        assert room.content()["cells"][0]["execution_count"] == 2
