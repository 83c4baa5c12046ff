"""Durable history in SQLite (through sqlite-utils): documents, authored updates,
snapshots, authorship totals, and the Yjs client ids seen per document.

Does not know rooms, tornado or Jupyter. All sqlite calls run on one worker
thread that owns the only connection, so the event loop never blocks on disk
and there is exactly one writer (WAL mode).

Writes are queued by ``append`` (non-blocking, returns the update's sequence
number) and committed in batches every ``write_interval_seconds``. Consecutive
updates of one author are coalesced into one row (merged with Yjs'
``merge_updates``) for up to ``coalesce_seconds``; a save point (``seal``)
always ends a row, so the document as of any save can be rebuilt exactly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from pycrdt import Doc, merge_updates

from .errors import StoreError
from .migrations import apply_migrations, atomic
from .permissions import LinkGuest, Membership, Role, ShareLink, ancestors

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    root: str
    path: str | None
    kind: str
    epoch: str
    saved_seq: int
    saved_mtime: str | None
    saved_hash: str | None
    replaced_by: str | None = None  # set when another history took over this path


@dataclass(frozen=True)
class History:
    """What ``load`` returns: apply ``updates`` in order to rebuild the document."""

    updates: list[bytes]
    last_seq: int  # seq of the newest update included
    rows: int  # number of stored rows read (snapshot included)


@dataclass(frozen=True)
class AuthorTotals:
    author: str
    updates: int
    bytes: int
    first_time: float
    last_time: float


@dataclass(frozen=True)
class _Append:
    doc_id: str
    seq: int
    time: float
    author: str
    origin: str
    client_ids: tuple[int, ...]
    data: bytes


@dataclass(frozen=True)
class _Seal:
    doc_id: str


@dataclass(frozen=True)
class _Saved:
    doc_id: str
    seq: int
    mtime: str | None
    hash: str | None


_Op = _Append | _Seal | _Saved
_ALL = "*"  # a _Seal of every document (at close: fold every open window)


@dataclass
class _OpenRow:
    """A document's coalescing window: one author's recent updates.

    Each batch writes the window's new updates as one small fragment row (durable at
    once, cheap to write); when the window closes, its fragments are folded into one
    row, so a typing burst costs one merge and one rewrite instead of one per batch.
    """

    first_seq: int
    last_seq: int
    first_time: float
    last_time: float
    author: str
    origin: str
    client_ids: set[int]
    n_updates: int
    parts: list[bytes] = field(default_factory=list)  # every update of the window
    size: int = 0
    fragments: list[int] = field(default_factory=list)  # first_seq of its stored rows


class HistoryStore:
    """SQLite history of every document a server has opened.

    Args:
        path: database file; its folder is created. ``":memory:"`` for tests.
        write_interval_seconds: how long appended updates may wait before commit.
        coalesce_seconds: how long one author's consecutive updates share a row.
        coalesce_max_bytes: a row stops growing past this size.
        compaction_budget_bytes: once a document's rows exceed this, the rows up to
            its last save point are folded into a snapshot. ``None`` disables it.
        busy_timeout_seconds: how long sqlite waits on a lock before failing.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        write_interval_seconds: float = 0.02,
        coalesce_seconds: float = 10.0,
        coalesce_max_bytes: int = 64 * 1024,
        compaction_budget_bytes: int | None = 1024 * 1024,
        busy_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self.write_interval_seconds = write_interval_seconds
        self.coalesce_seconds = coalesce_seconds
        self.coalesce_max_bytes = coalesce_max_bytes
        self.compaction_budget_bytes = compaction_budget_bytes
        self.busy_timeout_seconds = busy_timeout_seconds
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-store")
        self._db: sqlite_utils.Database | None = None  # touched only on the worker thread
        # event-loop side
        self._queue: list[_Op] = []
        self._inflight: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_seq: dict[str, int] = {}
        self._failed: dict[str, BaseException] = {}  # doc_id -> last write error
        self._retry_seconds = 0.5
        # worker-thread side
        self._open_rows: dict[str, _OpenRow] = {}
        self._history_bytes: dict[str, int] = {}

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self) -> None:
        """Create or migrate the database. Raises SchemaTooNew for a newer schema."""
        await self._run(self._open_sync)

    def _open_sync(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_seconds * 1000)}")
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            # only possible before the first table exists
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # batches are small and frequent: checkpoint often and keep the -wal file small
        conn.execute("PRAGMA wal_autocheckpoint = 256")
        conn.execute("PRAGMA journal_size_limit = 1048576")
        db = sqlite_utils.Database(conn)
        try:
            apply_migrations(db, db_path=self.path)
        except BaseException:
            conn.close()
            raise
        self._db = db

    async def close(self) -> None:
        """Commit everything queued, then close. Raises StoreError if that fails."""
        try:
            self._enqueue(_Seal(_ALL))
            await self.flush()
        finally:
            await self._run(self._close_sync)
            self._executor.shutdown(wait=True)

    def _close_sync(self) -> None:
        if self._db is not None:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                # The data is committed in the WAL already; a later open checkpoints it.
                log.warning("history store %s: checkpoint at close failed: %s", self.path, exc)
            self._db.conn.close()
            self._db = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            raise StoreError("history store is not open")
        return self._db

    # -- documents ----------------------------------------------------------------------

    async def find_document(self, root: str, path: str) -> DocumentRecord | None:
        return await self._run(self._find_sync, "root = ? AND path = ?", [root, path])

    async def get_document(self, doc_id: str) -> DocumentRecord | None:
        return await self._run(self._find_sync, "doc_id = ?", [doc_id])

    def _find_sync(self, where: str, args: list[Any]) -> DocumentRecord | None:
        row = self.db.execute(
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
        await self._run(self._create_sync, record, snapshot)
        self._last_seq[record.doc_id] = 0
        return record

    def _create_sync(self, record: DocumentRecord, snapshot: bytes) -> None:
        db = self.db
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
        return await self._run(self._rename_sync, root, old.strip("/"), new.strip("/"))

    def _rename_sync(self, root: str, old: str, new: str) -> int:
        db = self.db
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
            # memberships and share links follow the file (or folder) they were given on
            for table in ("memberships", "share_links"):
                db.execute(
                    f"UPDATE OR REPLACE {table} SET path = ? WHERE root = ? AND path = ?",
                    [new, root, old],
                )
                db.execute(
                    f"UPDATE OR REPLACE {table} SET path = ? || substr(path, ?) "
                    "WHERE root = ? AND substr(path, 1, ?) = ?",
                    [new + "/", len(prefix) + 1, root, len(prefix), prefix],
                )
        return count

    # -- memberships --------------------------------------------------------------------

    async def grant(
        self, root: str, path: str, principal: str, role: Role, *, granted_by: str
    ) -> Membership:
        """Give ``principal`` ``role`` on ``path`` (replacing what they had there)."""
        membership = Membership(path.strip("/"), principal, role, granted_by, self._clock())
        await self._run(self._grant_sync, root, membership)
        return membership

    def _grant_sync(self, root: str, m: Membership) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO memberships "
            "(root, path, principal, role, granted_by, granted_at) VALUES (?, ?, ?, ?, ?, ?)",
            [root, m.path, m.principal, m.role.label, m.granted_by, m.granted_at],
        )

    async def revoke(self, root: str, path: str, principal: str) -> bool:
        """Remove ``principal``'s membership on exactly ``path``; False if there was none."""

        def revoke() -> bool:
            cur = self.db.execute(
                "DELETE FROM memberships WHERE root = ? AND path = ? AND principal = ?",
                [root, path.strip("/"), principal],
            )
            return bool(cur.rowcount)

        return await self._run(revoke)

    async def memberships(self, root: str, *, covering: str | None = None) -> list[Membership]:
        """Memberships of ``root``: all of them, or those that apply to ``covering``
        (granted on it or on a folder above it)."""

        def read() -> list[Membership]:
            sql = (
                "SELECT path, principal, role, granted_by, granted_at FROM memberships "
                "WHERE root = ?"
            )
            args: list[Any] = [root]
            if covering is not None:
                paths = ancestors(covering)
                sql += f" AND path IN ({', '.join('?' * len(paths))})"
                args += paths
            rows = self.db.execute(sql + " ORDER BY path, principal", args).fetchall()
            return [Membership(p, who, Role.parse(r), by, at) for p, who, r, by, at in rows]

        return await self._run(read)

    # -- share links --------------------------------------------------------------------

    async def create_link(self, root: str, link: ShareLink) -> None:
        def write() -> None:
            self.db.execute(
                "INSERT INTO share_links (link_id, token, root, path, role, created_by, "
                "created_at, expires_at, revoked_at, label, created_by_name, last_used_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    link.link_id,
                    link.token,
                    root,
                    link.path,
                    link.role.label,
                    link.created_by,
                    link.created_at,
                    link.expires_at,
                    link.revoked_at,
                    link.label,
                    link.created_by_name,
                    link.last_used_at,
                ],
            )

        await self._run(write)

    async def revoke_link(self, root: str, link_id: str, when: float) -> bool:
        def write() -> bool:
            cur = self.db.execute(
                "UPDATE share_links SET revoked_at = ? "
                "WHERE root = ? AND link_id = ? AND revoked_at IS NULL",
                [when, root, link_id],
            )
            return bool(cur.rowcount)

        return await self._run(write)

    async def set_link_role(self, root: str, link_id: str, role: Role) -> bool:
        def write() -> bool:
            cur = self.db.execute(
                "UPDATE share_links SET role = ? WHERE root = ? AND link_id = ?",
                [role.label, root, link_id],
            )
            return bool(cur.rowcount)

        return await self._run(write)

    async def set_link_label(self, root: str, link_id: str, label: str) -> bool:
        def write() -> bool:
            cur = self.db.execute(
                "UPDATE share_links SET label = ? WHERE root = ? AND link_id = ?",
                [label, root, link_id],
            )
            return bool(cur.rowcount)

        return await self._run(write)

    async def add_link_guest(self, root: str, link_id: str, guest: LinkGuest) -> None:
        """Record that ``guest`` joined through a link (which counts as using it)."""

        def write() -> None:
            with atomic(self.db):
                self.db.execute(
                    "INSERT OR REPLACE INTO share_link_guests (link_id, guest_id, name, "
                    "joined_at) VALUES (?, ?, ?, ?)",
                    [link_id, guest.guest_id, guest.name, guest.joined_at],
                )
                self._use_links_sync(root, {link_id: guest.joined_at})

        await self._run(write)

    async def set_links_used(self, root: str, used: dict[str, float]) -> None:
        """Move links' ``last_used_at`` forward (never back) to the given times."""

        def write() -> None:
            with atomic(self.db):
                self._use_links_sync(root, used)

        await self._run(write)

    def _use_links_sync(self, root: str, used: dict[str, float]) -> None:
        self.db.conn.executemany(
            "UPDATE share_links SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) "
            "WHERE root = ? AND link_id = ?",
            [(when, root, link_id) for link_id, when in used.items()],
        )

    async def links(self, root: str) -> list[ShareLink]:
        """Every share link of ``root``, revoked and expired ones included, each with the
        guests who joined through it."""

        def read() -> list[ShareLink]:
            guests: dict[str, list[LinkGuest]] = {}
            for link_id, guest_id, name, joined_at in self.db.execute(
                "SELECT g.link_id, g.guest_id, g.name, g.joined_at FROM share_link_guests g "
                "JOIN share_links l ON l.link_id = g.link_id WHERE l.root = ? "
                "ORDER BY g.joined_at",
                [root],
            ):
                guests.setdefault(link_id, []).append(LinkGuest(guest_id, name, joined_at))
            rows = self.db.execute(
                "SELECT link_id, token, path, role, created_by, created_at, expires_at, "
                "revoked_at, label, created_by_name, last_used_at FROM share_links "
                "WHERE root = ? ORDER BY created_at",
                [root],
            ).fetchall()
            return [
                ShareLink(
                    lid,
                    token,
                    path,
                    Role.parse(role),
                    by,
                    at,
                    exp,
                    rev,
                    label=label,
                    created_by_name=by_name or by,
                    last_used_at=used,
                    guests=tuple(guests.get(lid, ())),
                )
                for lid, token, path, role, by, at, exp, rev, label, by_name, used in rows
            ]

        return await self._run(read)

    # -- cell locks ---------------------------------------------------------------------

    async def set_lock(self, doc_id: str, cell_id: str, *, locked: bool, by: str) -> None:
        """Lock (or unlock) one cell of a notebook."""

        def write() -> None:
            if locked:
                self.db.execute(
                    "INSERT OR REPLACE INTO locks (doc_id, cell_id, locked_by, locked_at) "
                    "VALUES (?, ?, ?, ?)",
                    [doc_id, cell_id, by, self._clock()],
                )
            else:
                self.db.execute(
                    "DELETE FROM locks WHERE doc_id = ? AND cell_id = ?", [doc_id, cell_id]
                )

        await self._run(write)

    async def locks(self, doc_id: str) -> set[str]:
        """The ids of the locked cells of a notebook."""

        def read() -> set[str]:
            rows = self.db.execute("SELECT cell_id FROM locks WHERE doc_id = ?", [doc_id])
            return {row[0] for row in rows}

        return await self._run(read)

    async def forget_path(self, root: str, path: str) -> list[str]:
        """Detach documents at ``path`` (or under it) after a delete; return their ids."""
        return await self._run(self._forget_sync, root, path.strip("/"))

    def _forget_sync(self, root: str, path: str) -> list[str]:
        db = self.db
        prefix = path + "/"
        where = "root = ? AND (path = ? OR substr(path, 1, ?) = ?)"
        args = [root, path, len(prefix), prefix]
        with atomic(db):
            ids = [r[0] for r in db.execute(f"SELECT doc_id FROM documents WHERE {where}", args)]
            db.execute(
                f"UPDATE documents SET path = NULL, deleted = ? WHERE {where}",
                [self._clock(), *args],
            )
            # a new file at that path later must not inherit who could see the old one
            db.execute(f"DELETE FROM memberships WHERE {where}", args)
            db.execute(
                f"UPDATE share_links SET revoked_at = ? WHERE revoked_at IS NULL AND {where}",
                [self._clock(), *args],
            )
        return ids

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
        op = _Append(doc_id, seq, self._clock(), author, origin, tuple(client_ids), update)
        self._enqueue(op)
        return seq

    def last_seq(self, doc_id: str) -> int:
        return self._last_seq.get(doc_id, 0)

    def seal(self, doc_id: str) -> None:
        """End the document's open row: a save point must fall between rows."""
        self._enqueue(_Seal(doc_id))

    def mark_saved(self, doc_id: str, seq: int, *, mtime: str | None, hash: str | None) -> None:
        """Record that the file on disk now holds the document as of ``seq``."""
        self._enqueue(_Seal(doc_id))
        self._enqueue(_Saved(doc_id, seq, mtime, hash))

    def is_durable(self, doc_id: str) -> bool:
        """True when nothing of this document waits to be written or failed to be."""
        if doc_id in self._failed:
            return False
        return not any(op.doc_id == doc_id for op in self._queue) and self._inflight is None

    def failure(self, doc_id: str) -> BaseException | None:
        return self._failed.get(doc_id)

    def _enqueue(self, op: _Op) -> None:
        self._queue.append(op)
        if self._timer is None and self._inflight is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.write_interval_seconds, self._start_write)

    def _start_write(self) -> None:
        self._timer = None
        if self._inflight is not None or not self._queue:
            return
        batch, self._queue = self._queue, []
        loop = asyncio.get_running_loop()
        # resolved by _write_done once the outcome is recorded, so waiters never see
        # a finished write whose bookkeeping has not happened yet
        done: asyncio.Future[None] = loop.create_future()
        done.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: logged below
        self._inflight = done
        work = loop.run_in_executor(self._executor, self._write_sync, batch)
        work.add_done_callback(lambda f: self._write_done(f, batch, done))

    def _write_done(
        self, work: asyncio.Future[None], batch: list[_Op], done: asyncio.Future[None]
    ) -> None:
        self._inflight = None
        docs = {op.doc_id for op in batch}
        exc = work.exception()
        if exc is None:
            for doc_id in docs:
                self._failed.pop(doc_id, None)
            delay = self.write_interval_seconds
            done.set_result(None)
        else:
            # Keep the batch, in order, ahead of anything queued since: nothing is dropped.
            self._queue = batch + self._queue
            for doc_id in docs:
                self._failed[doc_id] = exc
            log.error(
                "history store %s: writing %d updates of %s failed, retrying in %.1fs: %s",
                self.path,
                len(batch),
                sorted(docs),
                self._retry_seconds,
                exc,
            )
            delay = self._retry_seconds
            done.set_exception(exc)
        if self._queue and self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(delay, self._start_write)

    async def flush(self, *, attempts: int = 1) -> None:
        """Wait until everything queued so far is committed.

        Raises:
            StoreError: if the write failed ``attempts`` times in a row.
        """
        failures = 0
        while self._queue or self._inflight is not None:
            if self._inflight is None:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                self._start_write()
            assert self._inflight is not None
            inflight = self._inflight
            try:
                await asyncio.shield(inflight)
            except Exception as exc:
                failures += 1
                if failures >= attempts:
                    raise StoreError(f"history store {self.path}: write failed: {exc}") from exc

    def _write_sync(self, batch: list[_Op]) -> None:
        db = self.db
        open_rows = {
            k: replace(
                v, client_ids=set(v.client_ids), parts=list(v.parts), fragments=list(v.fragments)
            )
            for k, v in self._open_rows.items()
        }
        fresh: dict[tuple[str, int], list[_Append]] = {}  # (doc, window first_seq) -> new updates
        windows: dict[tuple[str, int], _OpenRow] = {}
        closed: list[tuple[str, _OpenRow]] = []
        totals: dict[tuple[str, str], list[float]] = {}
        clients: dict[tuple[str, int], str] = {}
        saved: list[_Saved] = []

        def close(doc_id: str) -> None:
            row = open_rows.pop(doc_id, None)
            if row is not None:
                closed.append((doc_id, row))

        for op in batch:
            if isinstance(op, _Seal):
                for doc_id in list(open_rows) if op.doc_id == _ALL else [op.doc_id]:
                    close(doc_id)
                continue
            if isinstance(op, _Saved):
                saved.append(op)
                continue
            row = open_rows.get(op.doc_id)
            if row is not None and (
                row.author != op.author
                or row.origin != op.origin
                or op.time - row.first_time > self.coalesce_seconds
                or row.size >= self.coalesce_max_bytes
            ):
                close(op.doc_id)
                row = None
            if row is None:
                row = _OpenRow(
                    first_seq=op.seq,
                    last_seq=op.seq,
                    first_time=op.time,
                    last_time=op.time,
                    author=op.author,
                    origin=op.origin,
                    client_ids=set(),
                    n_updates=0,
                )
                open_rows[op.doc_id] = row
            row.parts.append(op.data)
            row.size += len(op.data)
            row.last_seq, row.last_time = op.seq, op.time
            row.n_updates += 1
            row.client_ids.update(op.client_ids)
            fresh.setdefault((op.doc_id, row.first_seq), []).append(op)
            windows[(op.doc_id, row.first_seq)] = row
            t = totals.setdefault((op.doc_id, op.author), [0, 0, op.time, op.time])
            t[0] += 1
            t[1] += len(op.data)
            t[3] = op.time
            for cid in op.client_ids:
                clients[(op.doc_id, cid)] = op.author

        grown: dict[str, int] = {}
        insert = (
            "INSERT OR REPLACE INTO updates (doc_id, first_seq, last_seq, first_time, last_time, "
            "author, origin, client_ids, n_updates, data) VALUES (?,?,?,?,?,?,?,?,?,?)"
        )
        with atomic(db):
            for (doc_id, _), ops in fresh.items():
                row = windows[(doc_id, _)]
                data = ops[0].data if len(ops) == 1 else merge_updates(*(o.data for o in ops))
                ids = sorted({cid for o in ops for cid in o.client_ids})
                db.execute(
                    insert,
                    [
                        doc_id,
                        ops[0].seq,
                        ops[-1].seq,
                        ops[0].time,
                        ops[-1].time,
                        row.author,
                        row.origin,
                        json.dumps(ids),
                        len(ops),
                        data,
                    ],
                )
                row.fragments.append(ops[0].seq)
                grown[doc_id] = grown.get(doc_id, 0) + len(data)
            for doc_id, row in closed:
                if len(row.fragments) <= 1:
                    continue
                data = merge_updates(*row.parts)
                marks = ",".join("?" * len(row.fragments))
                removed = db.execute(
                    f"SELECT COALESCE(SUM(length(data)), 0) FROM updates "
                    f"WHERE doc_id = ? AND first_seq IN ({marks})",
                    [doc_id, *row.fragments],
                ).fetchone()[0]
                db.execute(
                    f"DELETE FROM updates WHERE doc_id = ? AND first_seq IN ({marks})",
                    [doc_id, *row.fragments],
                )
                db.execute(
                    insert,
                    [
                        doc_id,
                        row.first_seq,
                        row.last_seq,
                        row.first_time,
                        row.last_time,
                        row.author,
                        row.origin,
                        json.dumps(sorted(row.client_ids)),
                        row.n_updates,
                        data,
                    ],
                )
                grown[doc_id] = grown.get(doc_id, 0) + len(data) - int(removed)
            for (doc_id, author), (n, nbytes, t0, t1) in totals.items():
                db.execute(
                    "INSERT INTO authorship (doc_id, author, updates, bytes, first_time, "
                    "last_time) VALUES (?,?,?,?,?,?) ON CONFLICT (doc_id, author) DO UPDATE SET "
                    "updates = updates + excluded.updates, bytes = bytes + excluded.bytes, "
                    "last_time = excluded.last_time",
                    [doc_id, author, int(n), int(nbytes), t0, t1],
                )
            for (doc_id, cid), author in clients.items():
                db.execute(
                    "INSERT OR IGNORE INTO clients (doc_id, client_id, author) VALUES (?,?,?)",
                    [doc_id, cid, author],
                )
            for op in saved:
                db.execute(
                    "UPDATE documents SET saved_seq = ?, saved_mtime = ?, saved_hash = ? "
                    "WHERE doc_id = ? AND saved_seq <= ?",
                    [op.seq, op.mtime, op.hash, op.doc_id, op.seq],
                )
        # only now that the transaction committed does the coalescing state move on
        self._open_rows = open_rows
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
        history = await self._run(self._load_sync, doc_id, upto_seq)
        if upto_seq is None:
            self._last_seq[doc_id] = max(self._last_seq.get(doc_id, 0), history.last_seq)
        return history

    def _load_sync(self, doc_id: str, upto_seq: int | None) -> History:
        db = self.db
        limit = upto_seq if upto_seq is not None else 2**62
        snap = db.execute(
            "SELECT upto_seq, data FROM snapshots WHERE doc_id = ? AND upto_seq <= ? "
            "ORDER BY upto_seq DESC LIMIT 1",
            [doc_id, limit],
        ).fetchone()
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
            row = self.db.execute(
                "SELECT COALESCE(SUM(length(data)), 0) FROM updates WHERE doc_id = ?", [doc_id]
            ).fetchone()
            self._history_bytes[doc_id] = int(row[0])
        return self._history_bytes[doc_id]

    async def compact(self, doc_id: str) -> int:
        """Fold the rows up to the last save point into one snapshot; return rows folded."""
        await self.flush()
        return await self._run(self._compact_sync, doc_id)

    def _compact_sync(self, doc_id: str) -> int:
        db = self.db
        row = db.execute("SELECT saved_seq FROM documents WHERE doc_id = ?", [doc_id]).fetchone()
        if row is None:
            return 0
        target = int(row[0])
        open_row = self._open_rows.get(doc_id)
        if open_row is not None and open_row.first_seq <= target:
            target = open_row.first_seq - 1
        history = self._load_sync(doc_id, target)
        if history.rows <= 1:
            return 0
        doc: Doc[Any] = Doc()
        for update in history.updates:
            doc.apply_update(update)
        snapshot = doc.get_update()
        with atomic(db):
            db.execute(
                "INSERT OR REPLACE INTO snapshots (doc_id, upto_seq, time, data) VALUES (?,?,?,?)",
                [doc_id, history.last_seq, self._clock(), snapshot],
            )
            db.execute(
                "DELETE FROM snapshots WHERE doc_id = ? AND upto_seq < ?",
                [doc_id, history.last_seq],
            )
            db.execute(
                "DELETE FROM updates WHERE doc_id = ? AND last_seq <= ?", [doc_id, history.last_seq]
            )
        self._history_bytes.pop(doc_id, None)
        try:
            db.execute("PRAGMA incremental_vacuum")
        except sqlite3.Error as exc:
            # Only free pages stay allocated; the data is compacted and committed.
            log.warning("history store %s: incremental vacuum failed: %s", self.path, exc)
        log.info(
            "history store: document %s compacted %d rows into a snapshot at seq %d",
            doc_id,
            history.rows - 1,
            history.last_seq,
        )
        return history.rows - 1

    async def authorship(self, doc_id: str) -> list[AuthorTotals]:
        def read() -> list[AuthorTotals]:
            rows = self.db.execute(
                "SELECT author, updates, bytes, first_time, last_time FROM authorship "
                "WHERE doc_id = ? ORDER BY author",
                [doc_id],
            ).fetchall()
            return [AuthorTotals(*r) for r in rows]

        await self.flush()
        return await self._run(read)

    async def client_authors(self, doc_id: str) -> dict[int, str]:
        def read() -> dict[int, str]:
            rows = self.db.execute(
                "SELECT client_id, author FROM clients WHERE doc_id = ?", [doc_id]
            ).fetchall()
            return {int(c): a for c, a in rows}

        await self.flush()
        return await self._run(read)

    async def update_rows(self, doc_id: str) -> list[dict[str, Any]]:
        """The stored rows of a document, newest last (for tests and the history UI)."""

        def read() -> list[dict[str, Any]]:
            cur = self.db.execute(
                "SELECT first_seq, last_seq, author, origin, client_ids, n_updates, length(data) "
                "FROM updates WHERE doc_id = ? ORDER BY first_seq",
                [doc_id],
            )
            keys = ["first_seq", "last_seq", "author", "origin", "client_ids", "n_updates", "bytes"]
            return [dict(zip(keys, r, strict=True)) for r in cur]

        await self.flush()
        return await self._run(read)
