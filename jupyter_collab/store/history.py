"""The history of every document a server opened: documents, authored updates,
snapshots, authorship totals, and the Yjs client ids seen per document
(``HistoryLog``). Does not know rooms, tornado or Jupyter.

Writes are queued by ``append`` (non-blocking, returns the update's sequence
number) and committed in batches every ``write_interval_seconds`` through the
worker's ``WriteQueue``; ``coalescing.RowWriter`` turns each batch into rows. A
document whose rows outgrow ``compaction_budget_bytes`` is compacted after the batch.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import sqlite_utils
from pycrdt import Doc

from ..contributions import Counts, Tally
from ..errors import Conflict, StoreError
from .coalescing import SEAL_ALL, Append, Op, RowWriter, Saved, Seal
from .migrations import atomic
from .records import AuthorTotals, DocumentRecord, History
from .versions import Version, VersionRepository, retained
from .worker import SQLiteWorker, WriteQueue

log = logging.getLogger(__name__)


class PathFollower(Protocol):
    """Rows kept per path in another repository (memberships, share links) that follow
    a file when it is renamed or deleted. Called on the worker thread, inside the
    history's transaction, so the document and what follows it move together."""

    def rename_sync(self, db: sqlite_utils.Database, root: str, old: str, new: str) -> None: ...

    def forget_sync(self, db: sqlite_utils.Database, root: str, path: str) -> None: ...


class HistoryRepository:
    """Documents and their authored history in the store's database (``HistoryLog``).

    Args:
        worker: the process's one SQLite worker.
        write_interval_seconds: how long appended updates may wait before commit.
        coalesce_seconds: how long one author's consecutive updates share a row.
        coalesce_max_bytes: a row stops growing past this size.
        compaction_budget_bytes: once a document's rows exceed this, the rows up to
            its last save point are folded into a snapshot. ``None`` disables it.
        followers: repositories whose rows follow a file's renames and deletes.
    """

    def __init__(
        self,
        worker: SQLiteWorker,
        *,
        write_interval_seconds: float = 0.02,
        coalesce_seconds: float = 10.0,
        coalesce_max_bytes: int = 64 * 1024,
        compaction_budget_bytes: int | None = 1024 * 1024,
        followers: Sequence[PathFollower] = (),
        versions: VersionRepository | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._worker = worker
        self._versions = versions  # compaction keeps a snapshot per version it keeps
        self.compaction_budget_bytes = compaction_budget_bytes
        self._followers = tuple(followers)
        self._clock = clock
        # event-loop side
        self._writes: WriteQueue[Op] = worker.write_queue(
            self._write_sync, interval_seconds=write_interval_seconds
        )
        self._last_seq: dict[str, int] = {}
        # worker-thread side
        self._rows = RowWriter(
            coalesce_seconds=coalesce_seconds, coalesce_max_bytes=coalesce_max_bytes
        )
        self._history_bytes: dict[str, int] = {}

    async def close(self) -> None:
        """Seal every open row and commit everything queued (before the worker closes).

        Raises:
            StoreError: if that write fails.
        """
        self._writes.put(Seal(SEAL_ALL))
        await self.flush()

    # -- documents ----------------------------------------------------------------------

    async def find_document(self, root: str, path: str) -> DocumentRecord | None:
        return await self._worker.run(self._find_sync, "root = ? AND path = ?", [root, path])

    async def get_document(self, doc_id: str) -> DocumentRecord | None:
        return await self._worker.run(self._find_sync, "doc_id = ?", [doc_id])

    def _find_sync(self, where: str, args: list[Any]) -> DocumentRecord | None:
        row = self._worker.db.execute(
            "SELECT doc_id, root, path, kind, epoch, saved_seq, saved_mtime, saved_hash, "
            f"replaced_by FROM documents WHERE {where}",
            args,
        ).fetchone()
        return DocumentRecord(*row) if row else None

    async def create_document(
        self,
        root: str,
        path: str,
        kind: str,
        snapshot: bytes,
        *,
        mtime: str | None,
        hash: str | None,
    ) -> DocumentRecord:
        """Record a document built from disk, with a new epoch; committed on return.

        If a record already exists for (root, path) its history is replaced (a new
        epoch): callers do this only when that history cannot be used (another kind).
        """
        await self.flush()
        record = DocumentRecord(
            doc_id=str(uuid.uuid4()),
            root=root,
            path=path,
            kind=kind,
            epoch=uuid.uuid4().hex[:16],
            saved_seq=0,
            saved_mtime=mtime,
            saved_hash=hash,
        )
        await self._worker.run(self._create_sync, record, snapshot)
        self._last_seq[record.doc_id] = 0
        return record

    def _create_sync(self, record: DocumentRecord, snapshot: bytes) -> None:
        db = self._worker.db
        with atomic(db):
            old = db.execute(
                "SELECT doc_id FROM documents WHERE root = ? AND path = ?",
                [record.root, record.path],
            ).fetchone()
            if old is not None:
                # Keep the old history for inspection, detached from the path.
                db.execute(
                    "UPDATE documents SET path = NULL, replaced_by = ? WHERE doc_id = ?",
                    [record.doc_id, old[0]],
                )
            db.execute(
                "INSERT INTO documents (doc_id, root, path, kind, epoch, created, saved_seq, "
                "saved_mtime, saved_hash) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                [
                    record.doc_id,
                    record.root,
                    record.path,
                    record.kind,
                    record.epoch,
                    self._clock(),
                    record.saved_mtime,
                    record.saved_hash,
                ],
            )
            db.execute(
                "INSERT INTO snapshots (doc_id, upto_seq, time, data) VALUES (?, 0, ?, ?)",
                [record.doc_id, self._clock(), snapshot],
            )
        self._history_bytes[record.doc_id] = 0

    async def rename_path(self, root: str, old: str, new: str) -> int:
        """Follow a rename made through Jupyter: a file, or a folder and all inside."""
        return await self._worker.run(self._rename_sync, root, old.strip("/"), new.strip("/"))

    def _rename_sync(self, root: str, old: str, new: str) -> int:
        db = self._worker.db
        with atomic(db):
            cur = db.execute(
                "UPDATE documents SET path = ? WHERE root = ? AND path = ?", [new, root, old]
            )
            count = cur.rowcount
            prefix = old + "/"
            cur = db.execute(
                "UPDATE documents SET path = ? || substr(path, ?) "
                "WHERE root = ? AND substr(path, 1, ?) = ?",
                [new + "/", len(prefix) + 1, root, len(prefix), prefix],
            )
            count += cur.rowcount
            for follower in self._followers:
                follower.rename_sync(db, root, old, new)
        return int(count)

    async def forget_path(self, root: str, path: str) -> list[str]:
        """Detach documents at ``path`` (or under it) after a delete; return their ids."""
        return await self._worker.run(self._forget_sync, root, path.strip("/"))

    def _forget_sync(self, root: str, path: str) -> list[str]:
        db = self._worker.db
        prefix = path + "/"
        where = "root = ? AND (path = ? OR substr(path, 1, ?) = ?)"
        args = [root, path, len(prefix), prefix]
        with atomic(db):
            ids = [r[0] for r in db.execute(f"SELECT doc_id FROM documents WHERE {where}", args)]
            db.execute(
                f"UPDATE documents SET last_path = path, path = NULL, deleted = ? WHERE {where}",
                [self._clock(), *args],
            )
            for follower in self._followers:
                follower.forget_sync(db, root, path)
        return ids

    async def deleted_at(self, root: str, path: str, kind: str) -> list[DocumentRecord]:
        """The documents of this kind whose file at ``path`` was deleted through Jupyter,
        most recently deleted first (``revive`` one to give it its path back)."""

        def read() -> list[DocumentRecord]:
            rows = self._worker.db.execute(
                "SELECT doc_id, root, last_path, kind, epoch, saved_seq, saved_mtime, "
                "saved_hash, replaced_by FROM documents WHERE root = ? AND last_path = ? "
                "AND kind = ? AND path IS NULL AND deleted IS NOT NULL "
                "AND replaced_by IS NULL ORDER BY deleted DESC",
                [root, path, kind],
            )
            return [DocumentRecord(*row) for row in rows]

        return await self._worker.run(read)

    async def revive(self, doc_id: str, path: str) -> DocumentRecord:
        """Give a deleted document its path back: the file it was is there again.

        Raises:
            Conflict: another document holds that path, or this one is not deleted.
        """

        def write() -> DocumentRecord:
            db = self._worker.db
            with atomic(db):
                row = db.execute(
                    "SELECT root FROM documents WHERE doc_id = ? AND path IS NULL "
                    "AND deleted IS NOT NULL",
                    [doc_id],
                ).fetchone()
                if row is None:
                    raise Conflict(f"document {doc_id} is not a deleted one")
                taken = db.execute(
                    "SELECT doc_id FROM documents WHERE root = ? AND path = ?", [row[0], path]
                ).fetchone()
                if taken is not None:
                    raise Conflict(f"{path} already has document {taken[0]}")
                db.execute(
                    "UPDATE documents SET path = ?, last_path = NULL, deleted = NULL "
                    "WHERE doc_id = ?",
                    [path, doc_id],
                )
            found = self._find_sync("doc_id = ?", [doc_id])
            assert found is not None
            return found

        return await self._worker.run(write)

    # -- history: writing ---------------------------------------------------------------

    def append(
        self,
        doc_id: str,
        update: bytes,
        *,
        author: str,
        origin: str = "client",
        client_ids: Iterable[int] = (),
    ) -> int:
        """Queue one accepted update; return its sequence number. Never blocks."""
        seq = self._last_seq.get(doc_id, 0) + 1
        self._last_seq[doc_id] = seq
        op = Append(doc_id, seq, self._clock(), author, origin, tuple(client_ids), update)
        self._writes.put(op)
        return seq

    def last_seq(self, doc_id: str) -> int:
        return self._last_seq.get(doc_id, 0)

    def seal(self, doc_id: str) -> None:
        """End the document's open row: a save point must fall between rows."""
        self._writes.put(Seal(doc_id))

    def mark_saved(self, doc_id: str, seq: int, *, mtime: str | None, hash: str | None) -> None:
        """Record that the file on disk now holds the document as of ``seq``."""
        self._writes.put(Seal(doc_id))
        self._writes.put(Saved(doc_id, seq, mtime, hash))

    def is_durable(self, doc_id: str) -> bool:
        """True when nothing of this document waits to be written or failed to be."""
        return self._writes.is_durable(doc_id)

    def failure(self, doc_id: str) -> BaseException | None:
        return self._writes.failure(doc_id)

    async def flush(self, *, attempts: int = 1) -> None:
        """Wait until everything queued so far is committed.

        Raises:
            StoreError: if the write failed ``attempts`` times in a row.
        """
        await self._writes.flush(attempts=attempts)

    def _write_sync(self, batch: list[Op]) -> None:
        grown = self._rows.write(self._worker.db, batch)
        for doc_id, delta in grown.items():
            if doc_id in self._history_bytes:
                self._history_bytes[doc_id] += delta
            total = self._history_bytes_sync(doc_id)  # queried (after the commit) if unknown
            if self.compaction_budget_bytes is not None and total > self.compaction_budget_bytes:
                self._compact_sync(doc_id)

    # -- history: reading and compaction -----------------------------------------------

    async def load(self, doc_id: str, *, upto_seq: int | None = None) -> History:
        """Read the newest snapshot and the rows after it (up to ``upto_seq``)."""
        await self.flush()
        history = await self._worker.run(self._load_sync, doc_id, upto_seq)
        if upto_seq is None:
            self._last_seq[doc_id] = max(self._last_seq.get(doc_id, 0), history.last_seq)
        return history

    def _load_sync(self, doc_id: str, upto_seq: int | None) -> History:
        db = self._worker.db
        limit = upto_seq if upto_seq is not None else 2**62
        snap = _newest_snapshot(db, doc_id, limit)
        if snap is None:
            raise StoreError(f"document {doc_id}: no snapshot at or before seq {limit}")
        base_seq, updates = snap[0], [snap[1]]
        last_seq = base_seq
        for last, data in db.execute(
            "SELECT last_seq, data FROM updates WHERE doc_id = ? AND first_seq > ? "
            "AND last_seq <= ? ORDER BY first_seq",
            [doc_id, base_seq, limit],
        ):
            updates.append(data)
            last_seq = last
        return History(updates=updates, last_seq=last_seq, rows=len(updates))

    def _history_bytes_sync(self, doc_id: str) -> int:
        if doc_id not in self._history_bytes:
            row = self._worker.db.execute(
                "SELECT COALESCE(SUM(length(data)), 0) FROM updates WHERE doc_id = ?", [doc_id]
            ).fetchone()
            self._history_bytes[doc_id] = int(row[0])
        return self._history_bytes[doc_id]

    async def compact(self, doc_id: str) -> int:
        """Fold the rows up to the last save point into one snapshot; return rows folded."""
        await self.flush()
        return await self._worker.run(self._compact_sync, doc_id)

    def _compact_sync(self, doc_id: str) -> int:
        db = self._worker.db
        row = db.execute("SELECT saved_seq FROM documents WHERE doc_id = ?", [doc_id]).fetchone()
        if row is None:
            return 0
        target = int(row[0])
        open_since = self._rows.open_since(doc_id)
        if open_since is not None and open_since <= target:
            target = open_since - 1
        base = _newest_snapshot(db, doc_id, target)
        if base is None:
            return 0
        rows = db.execute(
            "SELECT last_seq, data, author FROM updates WHERE doc_id = ? AND first_seq > ? "
            "AND last_seq <= ? ORDER BY first_seq",
            [doc_id, base[0], target],
        ).fetchall()
        if not rows:
            return 0
        last_seq = int(rows[-1][0])
        kind = str(
            db.execute("SELECT kind FROM documents WHERE doc_id = ?", [doc_id]).fetchone()[0]
        )
        # the versions this compaction reaches: those kept get a snapshot of their own
        # (the rows that held them are deleted), the others go
        snapshots = {
            int(s)
            for (s,) in db.execute("SELECT upto_seq FROM snapshots WHERE doc_id = ?", [doc_id])
        }
        versions = [] if self._versions is None else self._versions.versions_sync(db, doc_id)
        reached = [v for v in versions if v.seq <= last_seq]
        kept = retained(reached, self._clock())
        dropped = [v.version_id for v in reached if v.version_id not in kept]
        wanted = sorted(
            (v for v in reached if v.version_id in kept and v.seq not in snapshots),
            key=lambda v: v.seq,
        )
        doc: Doc[Any] = Doc()
        doc.apply_update(base[1])
        new_snapshots: list[tuple[int, bytes]] = []
        moved: list[tuple[int, int]] = []
        tally = Tally(doc, str(kind))  # what each person changed, before the rows go
        with tally.observing():
            for last, data, author in rows:
                tally.apply(data, str(author))
                self._snapshot_versions(doc, int(last), wanted, base, dropped, moved, new_snapshots)
        if not new_snapshots or new_snapshots[-1][0] != last_seq:
            new_snapshots.append((last_seq, doc.get_update()))
        keep_seqs = (
            {v.seq for v in reached if v.version_id in kept}
            | {seq for seq, _ in moved}
            | {seq for seq, _ in new_snapshots}
        )
        now = self._clock()
        with atomic(db):
            db.conn.executemany(
                "INSERT OR REPLACE INTO snapshots (doc_id, upto_seq, time, data) VALUES (?,?,?,?)",
                [[doc_id, seq, now, data] for seq, data in new_snapshots],
            )
            db.conn.executemany(
                "DELETE FROM snapshots WHERE doc_id = ? AND upto_seq = ?",
                [[doc_id, seq] for seq in snapshots if seq < last_seq and seq not in keep_seqs],
            )
            db.execute("DELETE FROM updates WHERE doc_id = ? AND last_seq <= ?", [doc_id, last_seq])
            db.conn.executemany(
                "INSERT INTO contributions (doc_id, author, chars_added, chars_removed, "
                "cells_created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (doc_id, author) DO UPDATE "
                "SET chars_added = chars_added + excluded.chars_added, "
                "chars_removed = chars_removed + excluded.chars_removed, "
                "cells_created = cells_created + excluded.cells_created",
                [
                    [doc_id, author, c.chars_added, c.chars_removed, c.cells_created]
                    for author, c in tally.counts.items()
                ],
            )
            if self._versions is not None:
                for version_id, seq in moved:
                    self._versions.move_sync(db, version_id, seq)
                self._versions.forget_sync(db, dropped)
        self._history_bytes.pop(doc_id, None)
        try:
            db.execute("PRAGMA incremental_vacuum")
        except sqlite3.Error as exc:
            # Only free pages stay allocated; the data is compacted and committed.
            log.warning("history store %s: incremental vacuum failed: %s", self._worker.path, exc)
        log.info(
            "history store: document %s compacted %d rows into %d snapshots up to seq %d"
            " (%d versions kept, %d dropped)",
            doc_id,
            len(rows),
            len(new_snapshots),
            last_seq,
            len(kept),
            len(dropped),
        )
        return len(rows)

    @staticmethod
    def _snapshot_versions(
        doc: Doc[Any],
        last: int,
        wanted: list[Version],
        base: Any,
        dropped: list[int],
        moved: list[tuple[int, int]],
        new_snapshots: list[tuple[int, bytes]],
    ) -> None:
        """After the row ending at ``last`` is applied: snapshot the versions it reaches."""
        while wanted and wanted[0].seq <= last:
            version = wanted.pop(0)
            if version.seq < int(base[0]):
                dropped.append(version.version_id)  # compacted before versions were kept
                continue
            if version.seq != last:
                moved.append((version.version_id, last))  # inside a merged row
            if not new_snapshots or new_snapshots[-1][0] != last:
                new_snapshots.append((last, doc.get_update()))

    async def contributions(self, doc_id: str) -> dict[str, Counts]:
        """What each person changed in the rows compaction folded (the rows still stored
        are not counted here: replay them, see ``contributions.Tally``)."""

        def read() -> dict[str, Counts]:
            rows = self._worker.db.execute(
                "SELECT author, chars_added, chars_removed, cells_created FROM contributions "
                "WHERE doc_id = ?",
                [doc_id],
            ).fetchall()
            return {str(a): Counts(int(x), int(y), int(z)) for a, x, y, z in rows}

        await self.flush()
        return await self._worker.run(read)

    async def size(self, doc_id: str) -> dict[str, int]:
        """What a document's history takes in the store, in bytes: rows and snapshots."""

        def read() -> dict[str, int]:
            db = self._worker.db
            updates = db.execute(
                "SELECT COALESCE(SUM(length(data)), 0), COUNT(*) FROM updates WHERE doc_id = ?",
                [doc_id],
            ).fetchone()
            snaps = db.execute(
                "SELECT COALESCE(SUM(length(data)), 0), COUNT(*) FROM snapshots WHERE doc_id = ?",
                [doc_id],
            ).fetchone()
            return {
                "bytes": int(updates[0]) + int(snaps[0]),
                "rows": int(updates[1]),
                "snapshots": int(snaps[1]),
            }

        await self.flush()
        return await self._worker.run(read)

    async def authors_between(self, doc_id: str, after_seq: int, upto_seq: int) -> list[str]:
        """Who changed the document between two seqs (rows still stored; not ``server``)."""

        def read() -> list[str]:
            rows = self._worker.db.execute(
                "SELECT DISTINCT author FROM updates WHERE doc_id = ? AND last_seq > ? "
                "AND first_seq <= ? AND origin != 'server' ORDER BY author",
                [doc_id, after_seq, upto_seq],
            ).fetchall()
            return [str(a) for (a,) in rows]

        await self.flush()
        return await self._worker.run(read)

    async def authorship(self, doc_id: str) -> list[AuthorTotals]:
        def read() -> list[AuthorTotals]:
            rows = self._worker.db.execute(
                "SELECT author, updates, bytes, first_time, last_time FROM authorship "
                "WHERE doc_id = ? ORDER BY author",
                [doc_id],
            ).fetchall()
            return [AuthorTotals(*r) for r in rows]

        await self.flush()
        return await self._worker.run(read)

    async def client_authors(self, doc_id: str) -> dict[int, str]:
        def read() -> dict[int, str]:
            rows = self._worker.db.execute(
                "SELECT client_id, author FROM clients WHERE doc_id = ?", [doc_id]
            ).fetchall()
            return {int(c): a for c, a in rows}

        await self.flush()
        return await self._worker.run(read)

    async def update_rows(self, doc_id: str) -> list[dict[str, Any]]:
        """The stored rows of a document, newest last (for tests and the history UI)."""

        def read() -> list[dict[str, Any]]:
            cur = self._worker.db.execute(
                "SELECT first_seq, last_seq, author, origin, client_ids, n_updates, length(data) "
                "FROM updates WHERE doc_id = ? ORDER BY first_seq",
                [doc_id],
            )
            keys = ["first_seq", "last_seq", "author", "origin", "client_ids", "n_updates", "bytes"]
            return [dict(zip(keys, r, strict=True)) for r in cur]

        await self.flush()
        return await self._worker.run(read)


def _newest_snapshot(db: sqlite_utils.Database, doc_id: str, upto: int) -> Any:
    """(upto_seq, data) of the newest snapshot at or before ``upto``, or ``None``."""
    return db.execute(
        "SELECT upto_seq, data FROM snapshots WHERE doc_id = ? AND upto_seq <= ? "
        "ORDER BY upto_seq DESC LIMIT 1",
        [doc_id, upto],
    ).fetchone()
