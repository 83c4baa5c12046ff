"""The one SQLite connection of a server process, and the one thread that uses it.

Every repository of the store (history, access, locks) runs its sqlite calls on one
``SQLiteWorker``: ``run`` for reads and short writes, and a ``WriteQueue`` for writes
that must not wait (history appends), committed in batches. The event loop never
blocks on disk, and there is exactly one writer (WAL mode).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import sqlite_utils

from ..errors import StoreError
from .migrations import apply_migrations

log = logging.getLogger(__name__)
T = TypeVar("T")


class QueuedWrite(Protocol):
    """An operation a ``WriteQueue`` holds: it belongs to one document."""

    @property
    def doc_id(self) -> str: ...


W = TypeVar("W", bound=QueuedWrite)


class SQLiteWorker:
    """The database file, its connection, and the thread that alone touches it.

    Args:
        path: database file; its folder is created. ``":memory:"`` for tests.
        busy_timeout_seconds: how long sqlite waits on a lock before failing.
    """

    def __init__(self, path: str | Path, *, busy_timeout_seconds: float = 5.0) -> None:
        self.path = str(path)
        self.busy_timeout_seconds = busy_timeout_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-store")
        self._db: sqlite_utils.Database | None = None  # touched only on the worker thread

    async def open(self) -> None:
        """Create or migrate the database. Raises SchemaTooNew for a newer schema."""
        await self.run(self._open_sync)

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
        """Checkpoint the WAL, close the connection and stop the thread. Whatever a
        ``WriteQueue`` still holds is not written: flush it first."""
        await self.run(self._close_sync)
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

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on the worker thread, after everything submitted before."""
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the worker thread; ``fn`` may use ``db``."""
        return await self.submit(fn, *args)

    @property
    def db(self) -> sqlite_utils.Database:
        """The connection; only for functions running on the worker thread."""
        if self._db is None:
            raise StoreError("history store is not open")
        return self._db

    def write_queue(
        self, write: Callable[[list[W]], None], *, interval_seconds: float
    ) -> WriteQueue[W]:
        """A queue whose batches ``write`` commits on this worker (one transaction each)."""
        return WriteQueue(self, write, interval_seconds=interval_seconds)


class WriteQueue(Generic[W]):
    """Writes that must not wait: the durability machinery.

    ``put`` queues an operation and returns at once. At most ``interval_seconds`` later
    everything queued is handed to ``write`` as one batch, on the worker thread, where it
    is committed in one transaction. A batch that fails stays queued, in order, ahead of
    anything queued since, and is tried again after ``retry_seconds``: nothing is dropped.
    Until then its documents are not durable and ``failure`` tells why.
    """

    def __init__(
        self,
        worker: SQLiteWorker,
        write: Callable[[list[W]], None],
        *,
        interval_seconds: float,
        retry_seconds: float = 0.5,
    ) -> None:
        self._worker = worker
        self._write = write
        self.interval_seconds = interval_seconds
        self.retry_seconds = retry_seconds
        self._queue: list[W] = []
        self._inflight: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._failed: dict[str, BaseException] = {}  # doc_id -> last write error

    def put(self, op: W) -> None:
        """Queue ``op``; it is written within ``interval_seconds``. Never blocks."""
        self._queue.append(op)
        if self._timer is None and self._inflight is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.interval_seconds, self._start_write)

    def is_durable(self, doc_id: str) -> bool:
        """True when nothing of this document waits to be written or failed to be."""
        if doc_id in self._failed:
            return False
        return not any(op.doc_id == doc_id for op in self._queue) and self._inflight is None

    def failure(self, doc_id: str) -> BaseException | None:
        return self._failed.get(doc_id)

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
                    raise StoreError(
                        f"history store {self._worker.path}: write failed: {exc}"
                    ) from exc

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
        work = self._worker.submit(self._write, batch)
        work.add_done_callback(lambda f: self._write_done(f, batch, done))

    def _write_done(
        self, work: asyncio.Future[None], batch: list[W], done: asyncio.Future[None]
    ) -> None:
        self._inflight = None
        docs = {op.doc_id for op in batch}
        exc = work.exception()
        if exc is None:
            for doc_id in docs:
                self._failed.pop(doc_id, None)
            delay = self.interval_seconds
            done.set_result(None)
        else:
            # Keep the batch, in order, ahead of anything queued since: nothing is dropped.
            self._queue = batch + self._queue
            for doc_id in docs:
                self._failed[doc_id] = exc
            log.error(
                "history store %s: writing %d updates of %s failed, retrying in %.1fs: %s",
                self._worker.path,
                len(batch),
                sorted(docs),
                self.retry_seconds,
                exc,
            )
            delay = self.retry_seconds
            done.set_exception(exc)
        if self._queue and self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(delay, self._start_write)
