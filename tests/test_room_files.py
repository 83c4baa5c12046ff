"""Rooms and their files: saving, merging edits made on disk, eviction of idle rooms
(in-memory channels, the real SQLite store, the real FileContentsManager)."""

from __future__ import annotations

import json
import sqlite3

from .fakes import settle
from .rooms_helpers import disk_sources, joined, make_notebook, running, type_into


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
