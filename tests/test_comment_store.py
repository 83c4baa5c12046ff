"""The comment repository on a real SQLite file: threads and messages as recorded, kept by
document id (through renames and deletes), refusals that change nothing, and the schema
step that adds them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlite_utils
from pycrdt import Doc

from jupyter_collab.errors import CommentNotFound, Conflict, RoomNotFound
from jupyter_collab.permissions import Role
from jupyter_collab.store import Store
from jupyter_collab.store.migrations import LATEST_VERSION, MIGRATIONS

from .fakes import FakeClock

CELL = {"kind": "cell", "cell_id": "c1"}
RANGE = {"kind": "range", "cell_id": "c2", "start": "AQID", "end": "BAUG", "quote": "x = 1"}


@asynccontextmanager
async def open_store(path: Path, clock: FakeClock | None = None) -> AsyncIterator[Store]:
    store = Store(path, write_interval_seconds=0.001, clock=clock or FakeClock())
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def make_document(store: Store, path: str = "a.ipynb", root: str = "/r") -> str:
    record = await store.history.create_document(
        root, path, "notebook", Doc().get_update(), mtime=None, hash=None
    )
    return record.doc_id


async def test_a_new_thread_is_read_back_with_its_first_message(tmp_path):
    async with open_store(tmp_path / "h.sqlite", FakeClock(100.0)) as store:
        doc = await make_document(store)

        made = await store.comments.create_thread(
            doc, RANGE, author="alice", body="Why **1**?", mentions=["bob"]
        )
        (found,) = await store.comments.threads(doc)

    assert found == made
    assert (found.doc_id, found.anchor, found.author, found.created_at) == (
        doc,
        RANGE,
        "alice",
        100.0,
    )
    assert (found.status, found.private, found.detached) == ("open", False, False)
    assert (found.resolved_by, found.resolved_at) == (None, None)
    assert (found.suggestion, found.suggestion_state) == (None, None)
    (first,) = found.messages
    assert (first.author, first.body, first.mentions, first.created_at) == (
        "alice",
        "Why **1**?",
        ("bob",),
        100.0,
    )
    assert (first.thread_id, first.edited_at, first.deleted_at, first.deleted) == (
        found.thread_id,
        None,
        None,
        False,
    )
    assert len(found.thread_id) == 32 and found.thread_id != first.message_id


async def test_replies_follow_the_first_message_in_order(tmp_path):
    clock = FakeClock(100.0)
    async with open_store(tmp_path / "h.sqlite", clock) as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, CELL, author="alice", body="one")

        clock.advance(5)
        reply = await store.comments.reply(thread.thread_id, author="bob", body="two")
        await store.comments.reply(thread.thread_id, author="carol", body="three", mentions=["al"])
        found = await store.comments.thread(thread.thread_id)

    assert (reply.thread_id, reply.author, reply.body, reply.created_at) == (
        thread.thread_id,
        "bob",
        "two",
        105.0,
    )
    assert found is not None
    assert [(m.author, m.body, m.mentions) for m in found.messages] == [
        ("alice", "one", ()),
        ("bob", "two", ()),
        ("carol", "three", ("al",)),
    ]
    assert found.messages[1] == reply


async def test_an_edited_message_keeps_its_place_and_says_when_it_was_edited(tmp_path):
    clock = FakeClock(100.0)
    async with open_store(tmp_path / "h.sqlite", clock) as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, CELL, author="alice", body="tpyo")
        await store.comments.reply(thread.thread_id, author="bob", body="?")

        clock.advance(30)
        edited = await store.comments.edit_message(
            thread.messages[0].message_id, body="typo, @carol", mentions=["carol"]
        )
        found = await store.comments.thread(thread.thread_id)

    assert (edited.body, edited.mentions, edited.created_at, edited.edited_at) == (
        "typo, @carol",
        ("carol",),
        100.0,
        130.0,
    )
    assert found is not None
    assert [m.body for m in found.messages] == ["typo, @carol", "?"]
    assert found.messages[1].edited_at is None


async def test_a_deleted_message_stays_as_a_placeholder_and_the_thread_reads_on(tmp_path):
    clock = FakeClock(100.0)
    async with open_store(tmp_path / "h.sqlite", clock) as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(
            doc, CELL, author="alice", body="secret @bob", mentions=["bob"]
        )
        await store.comments.reply(thread.thread_id, author="bob", body="noted")

        clock.advance(10)
        deleted = await store.comments.delete_message(thread.messages[0].message_id, by="owner")
        found = await store.comments.thread(thread.thread_id)

    assert (deleted.body, deleted.mentions, deleted.deleted_at, deleted.deleted_by) == (
        "",
        (),
        110.0,
        "owner",
    )
    assert deleted.deleted and deleted.author == "alice"
    assert found is not None
    assert [(m.author, m.body, m.deleted) for m in found.messages] == [
        ("alice", "", True),
        ("bob", "noted", False),
    ]


async def test_a_deleted_message_can_be_neither_edited_nor_deleted_again(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, CELL, author="alice", body="x")
        message_id = thread.messages[0].message_id
        await store.comments.delete_message(message_id, by="alice")
        before = await store.comments.threads(doc)

        with pytest.raises(Conflict, match="was deleted: it cannot be edited"):
            await store.comments.edit_message(message_id, body="back from the dead")
        with pytest.raises(Conflict, match="was deleted: it cannot be deleted again"):
            await store.comments.delete_message(message_id, by="owner")

        assert await store.comments.threads(doc) == before


async def test_a_thread_is_resolved_and_reopened_and_reopening_forgets_who_resolved_it(
    tmp_path,
):
    clock = FakeClock(100.0)
    async with open_store(tmp_path / "h.sqlite", clock) as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, CELL, author="alice", body="x")

        clock.advance(60)
        resolved = await store.comments.set_status(thread.thread_id, "resolved", by="bob")
        reopened = await store.comments.set_status(thread.thread_id, "open", by="carol")
        (found,) = await store.comments.threads(doc)

    assert (resolved.status, resolved.resolved_by, resolved.resolved_at) == (
        "resolved",
        "bob",
        160.0,
    )
    assert (reopened.status, reopened.resolved_by, reopened.resolved_at) == ("open", None, None)
    assert found == reopened
    assert found.messages == thread.messages


async def test_a_suggestion_starts_open_and_its_decision_records_who_and_when(tmp_path):
    clock = FakeClock(100.0)
    async with open_store(tmp_path / "h.sqlite", clock) as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(
            doc, RANGE, author="alice", body="shorter?", suggestion="x=1"
        )

        clock.advance(7)
        accepted = await store.comments.decide_suggestion(thread.thread_id, "accepted", by="bob")
        undone = await store.comments.decide_suggestion(thread.thread_id, "open", by="bob")
        rejected = await store.comments.decide_suggestion(thread.thread_id, "rejected", by="eve")
        found = await store.comments.thread(thread.thread_id)

    assert (thread.suggestion, thread.suggestion_state) == ("x=1", "open")
    assert (thread.suggestion_decided_by, thread.suggestion_decided_at) == (None, None)
    assert (accepted.suggestion_state, accepted.suggestion_decided_by) == ("accepted", "bob")
    assert accepted.suggestion_decided_at == 107.0
    assert (undone.suggestion_state, undone.suggestion_decided_by) == ("open", None)
    assert (rejected.suggestion_state, rejected.suggestion_decided_by) == ("rejected", "eve")
    assert found == rejected and found.suggestion == "x=1"


async def test_a_thread_without_a_suggestion_has_nothing_to_decide(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, CELL, author="alice", body="x")

        with pytest.raises(Conflict, match="carries no suggestion"):
            await store.comments.decide_suggestion(thread.thread_id, "accepted", by="bob")

        assert await store.comments.thread(thread.thread_id) == thread


async def test_an_anchor_moves_and_a_thread_whose_place_is_gone_is_detached(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, RANGE, author="alice", body="x")
        moved_to = {**RANGE, "cell_id": "c9"}

        moved = await store.comments.set_anchor(thread.thread_id, moved_to, detached=False)
        gone = await store.comments.set_anchor(thread.thread_id, {"kind": "none"}, detached=True)
        found = await store.comments.thread(thread.thread_id)

    assert (moved.anchor, moved.detached) == (moved_to, False)
    assert (gone.anchor, gone.detached) == ({"kind": "none"}, True)
    assert found == gone and found.messages == thread.messages


async def test_many_anchors_move_together_and_one_unknown_thread_stops_them_all(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc, other = await make_document(store), await make_document(store, "b.ipynb")
        one = await store.comments.create_thread(doc, CELL, author="alice", body="1")
        two = await store.comments.create_thread(doc, RANGE, author="bob", body="2")
        elsewhere = await store.comments.create_thread(other, CELL, author="bob", body="3")

        await store.comments.set_anchors(
            doc,
            {
                one.thread_id: ({"kind": "cell", "cell_id": "c7"}, False),
                two.thread_id: (RANGE, True),
            },
        )
        after = await store.comments.threads(doc)
        for stray in ("no-such-thread", elsewhere.thread_id):
            with pytest.raises(CommentNotFound, match="nothing re-anchored"):
                await store.comments.set_anchors(
                    doc, {one.thread_id: (CELL, True), stray: (CELL, True)}
                )

        assert await store.comments.threads(doc) == after
        assert await store.comments.threads(other) == [elsewhere]
    assert [(t.anchor, t.detached) for t in after] == [
        ({"kind": "cell", "cell_id": "c7"}, False),
        (RANGE, True),
    ]


async def test_a_private_thread_is_kept_private(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        await store.comments.create_thread(doc, CELL, author="alice", body="note", private=True)
        await store.comments.create_thread(doc, CELL, author="bob", body="public")

        found = await store.comments.threads(doc)

    assert [(t.author, t.private) for t in found] == [("alice", True), ("bob", False)]


async def test_a_document_lists_only_its_own_threads_and_counts_them(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        a, b = await make_document(store), await make_document(store, "b.ipynb")
        for body in ("a1", "a2", "a3"):
            await store.comments.create_thread(a, CELL, author="alice", body=body)
        await store.comments.create_thread(b, CELL, author="alice", body="b1")

        on_a, on_b = await store.comments.threads(a), await store.comments.threads(b)
        counts = [await store.comments.count_threads(d) for d in (a, b, "unknown")]
        nowhere = await store.comments.threads("unknown")

    assert [t.messages[0].body for t in on_a] == ["a1", "a2", "a3"]
    assert [t.messages[0].body for t in on_b] == ["b1"]
    assert counts == [3, 1, 0] and nowhere == []


async def test_threads_follow_their_document_through_a_rename(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store, "dir/a.ipynb")
        thread = await store.comments.create_thread(doc, CELL, author="alice", body="x")

        await store.history.rename_path("/r", "dir/a.ipynb", "dir/renamed.ipynb")
        await store.history.rename_path("/r", "dir", "moved")
        record = await store.history.find_document("/r", "moved/renamed.ipynb")
        assert record is not None

        assert await store.comments.threads(record.doc_id) == [thread]


async def test_a_deleted_files_threads_stay_with_its_document_id(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, CELL, author="alice", body="x")
        await store.access.grant("/r", "a.ipynb", "bob", Role.EDITOR, granted_by="alice")

        assert await store.history.forget_path("/r", "a.ipynb") == [doc]

        assert await store.history.find_document("/r", "a.ipynb") is None
        assert await store.access.memberships("/r") == []  # what follows the path went
        assert await store.comments.threads(doc) == [thread]  # what follows the document did not
        assert await store.comments.count_threads(doc) == 1


async def test_unknown_threads_and_messages_are_refused_by_name_and_change_nothing(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, RANGE, author="alice", body="x")
        before = await store.comments.threads(doc)

        refusals = [
            lambda: store.comments.reply("nope", author="bob", body="hello?"),
            lambda: store.comments.set_status("nope", "resolved", by="bob"),
            lambda: store.comments.set_anchor("nope", CELL, detached=True),
            lambda: store.comments.decide_suggestion("nope", "accepted", by="bob"),
            lambda: store.comments.edit_message("nope", body="y"),
            lambda: store.comments.delete_message("nope", by="bob"),
        ]
        for refused in refusals:
            with pytest.raises(CommentNotFound, match="no comment (thread|message) nope"):
                await refused()
        with pytest.raises(RoomNotFound, match="no document gone: cannot comment on it"):
            await store.comments.create_thread("gone", CELL, author="bob", body="hi")

        assert await store.comments.threads(doc) == before
        assert await store.comments.count_threads("gone") == 0
        assert await store.comments.thread("nope") is None
        assert await store.comments.message("nope") is None
        assert await store.comments.message(thread.messages[0].message_id) == thread.messages[0]


async def test_impossible_values_are_refused_before_anything_is_written(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(doc, RANGE, author="alice", body="x")
        tid = thread.thread_id

        with pytest.raises(ValueError, match="'open' or 'resolved', not 'closed'"):
            await store.comments.set_status(tid, "closed", by="bob")
        with pytest.raises(ValueError, match="not 'maybe'"):
            await store.comments.decide_suggestion(tid, "maybe", by="bob")
        with pytest.raises(TypeError, match="an anchor is a JSON object"):
            await store.comments.set_anchor(tid, ["c1"], detached=False)
        with pytest.raises(TypeError, match="mentions are a list of usernames"):
            await store.comments.reply(tid, author="bob", body="hi @al", mentions="al")
        with pytest.raises(TypeError, match="an anchor is a JSON object"):
            await store.comments.set_anchors(doc, {tid: ("c1", True)})

        assert await store.comments.threads(doc) == [thread]


async def test_everything_is_still_there_after_the_store_is_closed_and_opened_again(tmp_path):
    path = tmp_path / "h.sqlite"
    async with open_store(path) as store:
        doc = await make_document(store)
        thread = await store.comments.create_thread(
            doc, RANGE, author="alice", body="x", private=True, suggestion="y"
        )
        reply = await store.comments.reply(
            thread.thread_id, author="bob", body="ok", mentions=["a"]
        )
        await store.comments.edit_message(reply.message_id, body="ok!", mentions=["al"])
        await store.comments.delete_message(thread.messages[0].message_id, by="alice")
        await store.comments.decide_suggestion(thread.thread_id, "rejected", by="bob")
        await store.comments.set_anchor(thread.thread_id, CELL, detached=True)
        last = await store.comments.set_status(thread.thread_id, "resolved", by="bob")

    async with open_store(path) as store:
        assert await store.comments.threads(doc) == [last]
    assert last.private and last.detached and last.status == "resolved"
    assert [(m.body, m.mentions, m.deleted) for m in last.messages] == [
        ("", (), True),
        ("ok!", ("al",), False),
    ]


async def test_a_thousand_threads_load_with_all_their_messages_in_two_queries(tmp_path):
    async with open_store(tmp_path / "h.sqlite") as store:
        doc = await make_document(store)
        for i in range(1000):
            thread = await store.comments.create_thread(
                doc, {"kind": "cell", "cell_id": f"c{i}"}, author="alice", body=f"q{i}"
            )
            await store.comments.reply(thread.thread_id, author="bob", body=f"a{i}")
        queries: list[str] = []
        await store.worker.run(lambda: store.worker.db.conn.set_trace_callback(queries.append))

        found = await store.comments.threads(doc)

        await store.worker.run(lambda: store.worker.db.conn.set_trace_callback(None))
    assert len(found) == 1000
    assert [t.anchor["cell_id"] for t in found] == [f"c{i}" for i in range(1000)]
    assert all([m.body for m in t.messages] == [f"q{i}", f"a{i}"] for i, t in enumerate(found))
    assert len(queries) == 2 and all(q.startswith("SELECT") for q in queries)


async def test_a_version_5_database_keeps_everything_and_gains_comment_threads(tmp_path):
    path = tmp_path / "h.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
    for version, step in MIGRATIONS[:5]:
        step(sqlite_utils.Database(db))
        db.execute("INSERT INTO schema_migrations VALUES (?, 0)", [version])
    db.execute(
        "INSERT INTO documents (doc_id, root, path, kind, epoch, created) "
        "VALUES ('d1', '/r', 'a.ipynb', 'notebook', 'e1', 0)"
    )
    db.execute("INSERT INTO memberships VALUES ('/r', 'a.ipynb', 'bob', 'editor', 'alice', 1)")
    db.execute("INSERT INTO locks VALUES ('d1', 'c1', 'alice', 2)")
    db.execute(
        "INSERT INTO share_links (link_id, token, root, path, role, created_by, created_at, "
        "label) VALUES ('l1', 'tok', '/r', 'a.ipynb', 'viewer', 'alice', 3, 'Period 3')"
    )
    db.close()

    async with open_store(path) as store:
        record = await store.history.find_document("/r", "a.ipynb")
        memberships = await store.access.memberships("/r")
        (link,) = await store.access.links("/r")
        locks = await store.locks.locks("d1")
        before = await store.comments.threads("d1")
        thread = await store.comments.create_thread("d1", CELL, author="bob", body="hi")
        after = await store.comments.threads("d1")

    assert record is not None and record.doc_id == "d1"
    assert [(m.principal, m.role) for m in memberships] == [("bob", Role.EDITOR)]
    assert (link.token, link.label) == ("tok", "Period 3")
    assert locks == {"c1"}
    assert before == [] and after == [thread]
    versions = sqlite3.connect(path).execute("SELECT version FROM schema_migrations").fetchall()
    assert [v for (v,) in versions] == list(range(1, LATEST_VERSION + 1)) and LATEST_VERSION >= 6


async def test_thread_views_are_the_threads_as_clients_receive_them(tmp_path):
    """The snapshot SQLite writes is the service's brief ``thread_json`` of every thread,
    in order, for every shape a thread takes (a joining client and a live event agree)."""
    from jupyter_collab.rooms.comments import thread_json

    clock = FakeClock(1764900000.123456)
    async with open_store(tmp_path / "h.db", clock) as store:
        doc_id = await make_document(store)
        other = await make_document(store, "b.ipynb")
        comments = store.comments
        plain = await comments.create_thread(doc_id, CELL, author="bob", body='say "hi"\n<b>é</b>')
        clock.advance(0.0004)
        private = await comments.create_thread(
            doc_id, RANGE, author="eve", body="psst", mentions=["bob", "ann"], private=True
        )
        suggested = await comments.create_thread(
            doc_id, RANGE, author="bob", body="try", suggestion="x = 2\n"
        )
        await comments.create_thread(other, CELL, author="bob", body="elsewhere")
        reply = await comments.reply(plain.thread_id, author="ann", body="ok", mentions=["bob"])
        clock.advance(1.5)
        await comments.edit_message(reply.message_id, body="ok!", mentions=[])
        await comments.delete_message(plain.messages[0].message_id, by="ann")
        await comments.set_status(plain.thread_id, "resolved", by="ann")
        await comments.decide_suggestion(suggested.thread_id, "accepted", by="ann")
        await comments.set_anchor(private.thread_id, {**RANGE, "quote": "ü"}, detached=True)

        views = await comments.thread_views(doc_id)
        threads = await comments.threads(doc_id)

    assert (
        [v.thread_id for v in views]
        == [t.thread_id for t in threads]
        == [
            plain.thread_id,
            private.thread_id,
            suggested.thread_id,
        ]
    )
    assert [(v.author, v.private) for v in views] == [("bob", False), ("eve", True), ("bob", False)]
    for view, thread in zip(views, threads, strict=True):
        assert json.loads(view.json) == thread_json(thread, brief=True)
    first = json.loads(views[0].json)
    assert first["messages"][0]["deleted"] and first["messages"][0]["body"] == ""
    assert len(first["messages"]) == 1 and first["message_count"] == 2
    assert first["participants"] == ["bob", "ann"] and first["status"] == "resolved"
    assert first["last_author"] == "ann" and first["resolved_by"] == "ann"
    # what is null, false or empty is left out; a client reads it as such
    assert not {"mentioned", "private", "detached", "suggestion"} & first.keys()
    assert not {"mentions", "edited_at"} & first["messages"][0].keys()
    second = json.loads(views[1].json)
    assert second["mentioned"] == ["bob", "ann"] and second["private"] and second["detached"]
    assert second["anchor"]["quote"] == "ü"


async def test_a_version_7_database_gains_what_each_threads_messages_add_up_to(tmp_path):
    """Threads written before the summaries were kept get theirs when the store opens."""
    from jupyter_collab.rooms.comments import thread_json

    path = tmp_path / "h.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
    for version, step in MIGRATIONS[:7]:
        step(sqlite_utils.Database(db))
        db.execute("INSERT INTO schema_migrations VALUES (?, 0)", [version])
    db.execute(
        "INSERT INTO documents (doc_id, root, path, kind, epoch, created) "
        "VALUES ('d1', '/r', 'a.ipynb', 'notebook', 'e1', 0)"
    )
    db.execute(
        "INSERT INTO comment_threads (thread_id, doc_id, anchor, author, created_at) "
        """VALUES ('t1', 'd1', '{"kind": "cell", "cell_id": "c1"}', 'bob', 1)"""
    )
    for n, (author, mentions) in enumerate([("bob", '["ann"]'), ("ann", "[]"), ("bob", "[]")]):
        db.execute(
            "INSERT INTO comment_messages (message_id, thread_id, author, body, mentions, "
            "created_at) VALUES (?, 't1', ?, 'hi', ?, ?)",
            [f"m{n}", author, mentions, 2 + n],
        )
    db.close()

    async with open_store(path) as store:
        (view,) = await store.comments.thread_views("d1")
        (thread,) = await store.comments.threads("d1")

    assert json.loads(view.json) == thread_json(thread, brief=True)
    summary = json.loads(view.json)
    assert summary["message_count"] == 3 and summary["participants"] == ["bob", "ann"]
    assert summary["mentioned"] == ["ann"] and summary["last_at"] == 4
