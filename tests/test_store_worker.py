"""The store's worker thread and its write queue: nothing queued is lost when SQLite
refuses a write, flush does not wait for the interval, and a closed store says so."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from pycrdt import Doc, Text

from jupyter_collab.errors import StoreError
from jupyter_collab.store import Store

from .test_store import typing_updates


async def test_a_locked_database_keeps_every_update_queued_until_it_can_write(tmp_path):
    path = tmp_path / "h.sqlite"
    store = Store(path, write_interval_seconds=0.001, busy_timeout_seconds=0.05)
    await store.open()
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("hello")
    other = sqlite3.connect(path, isolation_level=None)  # another program holds the file
    other.execute("BEGIN EXCLUSIVE")
    try:
        for u in updates:
            store.history.append(record.doc_id, u, author="alice", client_ids=[doc.client_id])
        with pytest.raises(StoreError, match="locked"):
            await asyncio.wait_for(store.history.flush(attempts=2), 30)
        assert not store.history.is_durable(record.doc_id)
        failure = store.history.failure(record.doc_id)
        assert failure is not None and "locked" in str(failure)
        source = doc.get("source", type=Text)
        source += "!"  # typing goes on meanwhile; it queues behind the failed batch
        store.history.append(record.doc_id, updates[-1], author="alice")
    finally:
        other.execute("ROLLBACK")
        other.close()

    await asyncio.wait_for(store.history.flush(), 30)
    history = await store.history.load(record.doc_id)
    await store.close()

    assert store.history.is_durable(record.doc_id)
    assert store.history.failure(record.doc_id) is None
    rebuilt = Doc()
    for u in history.updates:
        rebuilt.apply_update(u)
    assert str(rebuilt.get("source", type=Text)) == "hello!"
    assert history.last_seq == len(updates) == 6


async def test_flush_writes_at_once_even_with_a_long_interval(tmp_path):
    store = Store(tmp_path / "h.sqlite", write_interval_seconds=3600)
    await store.open()
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    doc, updates = typing_updates("hi")
    for u in updates:
        store.history.append(record.doc_id, u, author="alice", client_ids=[doc.client_id])
    assert not store.history.is_durable(record.doc_id)

    await asyncio.wait_for(store.history.flush(), 30)  # an hour would time this out

    assert store.history.is_durable(record.doc_id)
    rows = await store.history.update_rows(record.doc_id)
    await store.close()
    assert sum(r["n_updates"] for r in rows) == len(updates)


async def test_a_closed_store_refuses_work_with_a_clear_error(tmp_path):
    store = Store(tmp_path / "h.sqlite")
    await store.open()
    await store.close()
    await store.worker.close()  # a second close is harmless

    with pytest.raises(StoreError, match="closed"):
        await store.history.find_document("/r", "t.py")
