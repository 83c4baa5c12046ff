from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from pycrdt import Doc, Text

from jupyter_collab.errors import SchemaTooNew
from jupyter_collab.permissions import LinkGuest, Role, ShareLink
from jupyter_collab.store import Store
from jupyter_collab.store.migrations import LATEST_VERSION, MIGRATIONS

from .fakes import FakeClock


def typing_updates(text: str) -> tuple[Doc, list[bytes]]:
    doc = Doc()
    doc["source"] = source = Text()
    updates: list[bytes] = []
    doc.observe(lambda ev: updates.append(ev.update))
    for ch in text:
        source += ch
    return doc, updates


async def opened(path: Path, **kwargs) -> Store:
    store = Store(path, write_interval_seconds=0.001, **kwargs)
    await store.open()
    return store


async def test_a_new_database_is_created_at_the_latest_schema(tmp_path):
    store = await opened(tmp_path / "deep" / "h.sqlite")
    await store.close()
    db = sqlite3.connect(tmp_path / "deep" / "h.sqlite")
    assert db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == LATEST_VERSION


async def test_a_newer_schema_is_refused_and_the_file_left_untouched(tmp_path):
    path = tmp_path / "h.sqlite"
    store = await opened(path)
    await store.close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_migrations VALUES (?, 0)", [LATEST_VERSION + 1])
    db.commit()
    db.close()
    before = path.read_bytes()

    store = Store(path)
    with pytest.raises(SchemaTooNew, match="upgrade jupyter-collab"):
        await store.open()

    assert path.exists() and path.read_bytes() == before


async def test_consecutive_updates_of_one_author_share_a_row_and_rebuild_exactly(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    base = Doc()
    record = await store.history.create_document(
        "/r", "t.py", "file", base.get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("hello world")
    for u in updates:
        store.history.append(record.doc_id, u, author="alice", client_ids=[doc.client_id])

    rows = await store.history.update_rows(record.doc_id)
    history = await store.history.load(record.doc_id)
    await store.close()

    assert len(rows) == 1 and rows[0]["n_updates"] == len(updates) and rows[0]["author"] == "alice"
    rebuilt = Doc()
    for u in history.updates:
        rebuilt.apply_update(u)
    assert str(rebuilt.get("source", type=Text)) == "hello world"


async def test_authors_get_rows_of_their_own(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("abcd")
    for u, who in zip(updates, ["alice", "alice", "bob", "alice"], strict=True):
        store.history.append(record.doc_id, u, author=who)
    rows = await store.history.update_rows(record.doc_id)
    await store.close()
    assert [r["author"] for r in rows] == ["alice", "bob", "alice"]


async def test_a_row_stops_coalescing_after_the_window(tmp_path):
    clock = FakeClock()
    store = Store(
        tmp_path / "h.sqlite", write_interval_seconds=0.001, coalesce_seconds=5, clock=clock
    )
    await store.open()
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("ab")
    store.history.append(record.doc_id, updates[0], author="alice")
    await store.history.flush()
    clock.advance(6)
    store.history.append(record.doc_id, updates[1], author="alice")
    rows = await store.history.update_rows(record.doc_id)
    await store.close()
    assert len(rows) == 2


async def test_the_document_as_of_a_save_point_can_be_rebuilt(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("saved|later")
    for u in updates[:6]:
        store.history.append(record.doc_id, u, author="alice")
    store.history.mark_saved(
        record.doc_id, store.history.last_seq(record.doc_id), mtime="m1", hash=None
    )
    for u in updates[6:]:
        store.history.append(record.doc_id, u, author="alice")

    saved = await store.history.load(record.doc_id, upto_seq=6)
    await store.close()

    rebuilt = Doc()
    for u in saved.updates:
        rebuilt.apply_update(u)
    assert str(rebuilt.get("source", type=Text)) == "saved|"


async def test_compaction_folds_saved_history_and_keeps_authorship_totals(tmp_path):
    store = await opened(tmp_path / "h.sqlite", coalesce_seconds=0.0, compaction_budget_bytes=None)
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("x" * 300)
    for i, u in enumerate(updates):
        store.history.append(record.doc_id, u, author="alice" if i % 3 else "bob")
    store.history.mark_saved(
        record.doc_id, store.history.last_seq(record.doc_id), mtime=None, hash=None
    )
    totals_before = await store.history.authorship(record.doc_id)

    folded = await store.history.compact(record.doc_id)
    history = await store.history.load(record.doc_id)
    totals_after = await store.history.authorship(record.doc_id)
    await store.close()

    assert folded == 300
    assert history.rows == 1
    assert totals_after == totals_before
    assert {t.author: t.updates for t in totals_after} == {"alice": 200, "bob": 100}
    rebuilt = Doc()
    rebuilt.apply_update(history.updates[0])
    assert str(rebuilt.get("source", type=Text)) == "x" * 300


async def test_compaction_never_folds_past_the_last_save(tmp_path):
    store = await opened(tmp_path / "h.sqlite", coalesce_seconds=0.0, compaction_budget_bytes=None)
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("abcdef")
    for u in updates[:3]:
        store.history.append(record.doc_id, u, author="alice")
    store.history.mark_saved(record.doc_id, 3, mtime=None, hash=None)
    for u in updates[3:]:
        store.history.append(record.doc_id, u, author="alice")

    await store.history.compact(record.doc_id)
    rows = await store.history.update_rows(record.doc_id)
    await store.close()
    assert [r["first_seq"] for r in rows] == [4, 5, 6]


async def test_ten_thousand_keystrokes_stay_small_on_disk(tmp_path):
    async def stored_size(name: str, keystrokes: int) -> int:
        path = tmp_path / name
        store = await opened(path)
        record = await store.history.create_document(
            "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
        )
        doc, updates = typing_updates("k" * keystrokes)
        for u in updates:
            store.history.append(record.doc_id, u, author="alice")
        await store.close()
        return path.stat().st_size + sum(p.stat().st_size for p in tmp_path.glob(f"{name}-*"))

    # growth only: the empty schema (every table and index a page or more) is not typing
    growth = await stored_size("typed.sqlite", 10_000) - await stored_size("empty.sqlite", 0)
    # the incumbent's store grows by ~178 B per keystroke
    assert growth / 10_000 < 20


async def test_renames_follow_files_and_folders(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    a = await store.history.create_document(
        "/r", "a.ipynb", "notebook", Doc().get_update(), mtime=None, hash=None
    )
    b = await store.history.create_document(
        "/r", "dir/b.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    await store.history.rename_path("/r", "a.ipynb", "renamed.ipynb")
    await store.history.rename_path("/r", "dir", "moved")
    found_a = await store.history.find_document("/r", "renamed.ipynb")
    found_b = await store.history.find_document("/r", "moved/b.py")
    gone = await store.history.forget_path("/r", "moved")
    await store.close()
    assert found_a is not None and found_a.doc_id == a.doc_id
    assert found_b is not None and found_b.doc_id == b.doc_id
    assert gone == [b.doc_id]


async def test_documents_of_different_server_roots_do_not_collide(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    one = await store.history.create_document(
        "/one", "a.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    two = await store.history.create_document(
        "/two", "a.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    assert (await store.history.find_document("/one", "a.py")).doc_id == one.doc_id
    assert (await store.history.find_document("/two", "a.py")).doc_id == two.doc_id
    await store.close()


async def test_an_update_accepted_while_a_save_is_written_starts_a_new_row(tmp_path):
    # Room.save: read the seq and seal, await the file write, then mark_saved(seq)
    store = await opened(tmp_path / "h.sqlite")
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("ab")
    store.history.append(record.doc_id, updates[0], author="alice")
    seq = store.history.last_seq(record.doc_id)
    store.history.seal(record.doc_id)
    store.history.append(record.doc_id, updates[1], author="alice")  # arrives during the write
    store.history.mark_saved(record.doc_id, seq, mtime=None, hash=None)

    saved = await store.history.load(record.doc_id, upto_seq=seq)
    await store.close()

    rebuilt = Doc()
    for u in saved.updates:
        rebuilt.apply_update(u)
    assert str(rebuilt.get("source", type=Text)) == "a"


async def test_a_typing_burst_written_over_many_batches_ends_as_one_row(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("many batches")
    for u in updates:
        store.history.append(record.doc_id, u, author="alice")
        await store.history.flush()  # each keystroke durable on its own
    fragments = await store.history.update_rows(record.doc_id)
    await store.close()

    store = await opened(tmp_path / "h.sqlite")
    rows = await store.history.update_rows(record.doc_id)
    history = await store.history.load(record.doc_id)
    await store.close()

    assert len(fragments) == len(updates)
    assert len(rows) == 1 and rows[0]["n_updates"] == len(updates)
    rebuilt = Doc()
    for u in history.updates:
        rebuilt.apply_update(u)
    assert str(rebuilt.get("source", type=Text)) == "many batches"


# -- share links ---------------------------------------------------------------------


def make_link(link_id: str = "l1", **more) -> ShareLink:
    fields = {
        "link_id": link_id,
        "token": f"tok-{link_id}",
        "path": "lesson.ipynb",
        "role": Role.VIEWER,
        "created_by": "4f1c0ffee",
        "created_at": 100.0,
        "expires_at": None,
        "revoked_at": None,
        **more,
    }
    return ShareLink(**fields)


async def test_a_links_label_creator_name_and_guests_are_kept(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    await store.access.create_link(
        "/r", make_link(label="Period 3", created_by_name="Ada Lovelace")
    )
    await store.access.create_link("/r", make_link("l2", created_at=101.0))
    await store.access.add_link_guest("/r", "l1", LinkGuest("g1", "Zoe", 200.0))
    await store.access.add_link_guest("/r", "l1", LinkGuest("g2", "Yann", 300.0))
    await store.close()

    store = await opened(tmp_path / "h.sqlite")
    first, second = await store.access.links("/r")
    await store.close()

    assert (first.label, first.created_by_name) == ("Period 3", "Ada Lovelace")
    assert [(g.name, g.joined_at) for g in first.guests] == [("Zoe", 200.0), ("Yann", 300.0)]
    assert first.last_used_at == 300.0  # a join is a use
    assert (second.label, second.guests, second.last_used_at) == ("", (), None)
    assert second.created_by_name == "4f1c0ffee"  # no display name given: the username


async def test_a_links_label_changes_and_its_last_use_only_moves_forward(tmp_path):
    store = await opened(tmp_path / "h.sqlite")
    await store.access.create_link("/r", make_link())
    assert await store.access.set_link_label("/r", "l1", "Period 4") is True
    assert await store.access.set_link_label("/r", "missing", "x") is False
    await store.access.set_links_used("/r", {"l1": 500.0})
    await store.access.set_links_used("/r", {"l1": 400.0})  # an older time written late
    (link,) = await store.access.links("/r")
    await store.close()

    assert (link.label, link.last_used_at) == ("Period 4", 500.0)


async def test_a_version_4_database_keeps_its_links_and_gains_labels_and_guests(tmp_path):
    path = tmp_path / "h.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
    for version, step in MIGRATIONS[:4]:
        step(sqlite_utils.Database(db))
        db.execute("INSERT INTO schema_migrations VALUES (?, 0)", [version])
    db.execute(
        "INSERT INTO share_links (link_id, token, root, path, role, created_by, created_at, "
        "expires_at, revoked_at) VALUES ('old', 'tok', '/r', 'a.ipynb', 'editor', 'alice', "
        "10, 99999999999, NULL)"
    )
    db.close()

    store = await opened(path)
    try:
        (link,) = await store.access.links("/r")
        assert (link.link_id, link.token, link.role, link.expires_at) == (
            "old",
            "tok",
            Role.EDITOR,
            99999999999,
        )
        assert (link.label, link.created_by_name, link.last_used_at, link.guests) == (
            "",
            "alice",  # all a version 4 link knew of its creator
            None,
            (),
        )
        await store.access.add_link_guest("/r", "old", LinkGuest("g1", "Zoe", 20.0))
        assert await store.access.set_link_label("/r", "old", "Period 3")
        (link,) = await store.access.links("/r")
        assert (link.label, [g.name for g in link.guests]) == ("Period 3", ["Zoe"])
    finally:
        await store.close()
    versions = sqlite3.connect(path).execute("SELECT version FROM schema_migrations").fetchall()
    assert [v for (v,) in versions] == list(range(1, LATEST_VERSION + 1))
