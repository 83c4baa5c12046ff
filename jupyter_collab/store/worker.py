"""The one SQLite connection of a server process, and the one thread that uses it.

Every repository of the store (history, access, locks) runs its sqlite calls on one
``SQLiteWorker``: ``run`` for reads and short writes, and a ``WriteQueue`` for writes
that must not wait (history appends), committed in batches. The event loop never
blocks on disk, and there is exactly one writer (WAL mode).

The worker is its own thread with its own clock: a ``WriteQueue`` batch is started by
the thread when it falls due, not by a timer on the event loop, and the loop hears of
a commit only when somebody waits for it (``flush``). While one person types, the loop
does no store work but a list append per update (the classroom bench: decision 2).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import sqlite_utils

from .. import metrics
from ..errors import StoreError
from .migrations import apply_migrations

log = logging.getLogger(__name__)
T = TypeVar("T")


class QueuedWrite(Protocol):
    """An operation a ``WriteQueue`` holds: it belongs to one document."""

    @property
    def doc_id(self) -> str: ...


W = TypeVar("W", bound=QueuedWrite)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Resolve ``future`` on its loop (a caller that gave up has cancelled it)."""
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _tell(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], *outcome: Any) -> None:
    """From the worker thread: resolve ``future`` on ``loop``, unless that loop is gone."""
    try:
        loop.call_soon_threadsafe(_settle, future, *outcome)
    except RuntimeError:  # the loop closed: nobody waits any more
        pass


@dataclass(frozen=True)
class _Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]

    def run(self) -> None:
        try:
            result = self.fn(*self.args)
        except BaseException as exc:
            _tell(self.loop, self.future, None, exc)
        else:
            _tell(self.loop, self.future, result, None)


_WAKE = object()  # a write queue's due time moved: look again
_STOP = object()


class SQLiteWorker:
    """The database file, its connection, and the thread that alone touches it.

    Args:
        path: database file; its folder is created. ``":memory:"`` for tests.
        busy_timeout_seconds: how long sqlite waits on a lock before failing.
    """

    def __init__(self, path: str | Path, *, busy_timeout_seconds: float = 5.0) -> None:
        self.path = str(path)
        self.busy_timeout_seconds = busy_timeout_seconds
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._queues: list[WriteQueue[Any]] = []
        self._thread: threading.Thread | None = None
        self._closed = False
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
        if self._closed:
            return
        await self.run(self._close_sync)
        self._closed = True
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, thread.join)

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
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._start()
        self._jobs.put(_Call(fn, args, loop, future))
        return future

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
        writes = WriteQueue(self, write, interval_seconds=interval_seconds)
        self._queues.append(writes)
        return writes

    # -- the thread -------------------------------------------------------------------

    def wake(self) -> None:
        """A write queue's due time moved earlier: the thread looks again."""
        if not self._closed:  # after close, what is queued stays queued, unwritten
            self._start()
            self._jobs.put(_WAKE)

    def _start(self) -> None:
        if self._closed:
            raise StoreError(f"history store {self.path} is closed")
        if self._thread is None:
            # a daemon: a store nobody closed must not keep the process from exiting
            self._thread = threading.Thread(target=self._serve, name="collab-store", daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        while True:
            now = time.monotonic()
            due: float | None = None
            for writes in self._queues:
                try:
                    writes.write_if_due(now)
                except Exception:
                    # a bug, not a failed write (those are kept and retried inside): the
                    # thread must live on, or every later call would wait forever
                    log.exception("history store %s: the write queue failed", self.path)
                at = writes.due_at
                if at is not None and (due is None or at < due):
                    due = at
            timeout = None if due is None else max(0.0, due - time.monotonic())
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                continue
            if job is _STOP:
                return
            if isinstance(job, _Call):
                job.run()


class WriteQueue(Generic[W]):
    """Writes that must not wait: the durability machinery.

    ``put`` queues an operation and returns at once. Everything queued is handed to
    ``write`` as one batch, on the worker thread, where it is committed in one
    transaction: once ``interval_seconds`` have passed since the batch's first operation,
    at the first ``put`` after that (when the loop has finished the callback that put it,
    so the write does not contend for the GIL with the fan-out of the update just put),
    and at the latest after twice that interval. A batch that fails stays queued, in
    order, ahead of anything queued since, and is tried again after ``retry_seconds``:
    nothing is dropped. Until then its documents are not durable and ``failure`` tells why.

    Shared between the event loop (``put``, ``flush``, the questions) and the worker
    thread (``write_if_due``); every field below is read and changed under ``_lock``.
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
        self._lock = threading.Lock()
        self._queue: list[W] = []
        self._inflight: list[W] | None = None  # the batch being written
        self._ready: float | None = None  # from then on, the loop may start the batch
        self._due: float | None = None  # then the worker starts it by itself
        self._nudging = False  # a call to _nudge is scheduled on the loop
        self._queued = 0  # operations ever put
        self._written = 0  # operations committed (a prefix of those put)
        self._failed: dict[str, BaseException] = {}  # doc_id -> last write error
        # flush() callers: (operations that must be committed, their loop, their future)
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def put(self, op: W) -> None:
        """Queue ``op``; it is written within twice ``interval_seconds``. Never blocks."""
        now = time.monotonic()
        with self._lock:
            self._queue.append(op)
            self._queued += 1
            if self._ready is None and self._inflight is None:  # a new batch
                self._ready = now + self.interval_seconds
                self._due = self._ready + self.interval_seconds
            elif self._ready is None or now < self._ready:
                return
            if self._nudging:
                return
            self._nudging = True
        # the worker hears of it after the current callback: an update is put before
        # it is relayed, and a worker woken now would take the GIL during the fan-out
        try:
            asyncio.get_running_loop().call_soon(self._nudge)
        except RuntimeError:  # no loop (tests, shutdown): at once
            self._nudge()

    def _nudge(self) -> None:
        with self._lock:
            self._nudging = False
            if self._ready is not None and time.monotonic() >= self._ready:
                self._due = 0.0
        self._worker.wake()

    @property
    def due_at(self) -> float | None:
        """When the next batch starts (monotonic), or ``None`` when nothing is queued."""
        return self._due

    def is_durable(self, doc_id: str) -> bool:
        """True when nothing of this document waits to be written or failed to be."""
        with self._lock:
            if doc_id in self._failed:
                return False
            waiting = self._queue if self._inflight is None else self._inflight + self._queue
            return not any(op.doc_id == doc_id for op in waiting)

    def failure(self, doc_id: str) -> BaseException | None:
        with self._lock:
            return self._failed.get(doc_id)

    async def flush(self, *, attempts: int = 1) -> None:
        """Wait until everything queued so far is committed (written now, not at the
        next interval).

        Raises:
            StoreError: if the write failed ``attempts`` times in a row.
        """
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            with self._lock:
                target = self._queued
                if self._written >= target:
                    return
                done: asyncio.Future[None] = loop.create_future()
                self._waiters.append((target, loop, done))
                if self._inflight is None:
                    self._due = 0.0  # at once, even while a failed batch waits to retry
            self._worker.wake()
            try:
                await done
            except Exception as exc:
                failures += 1
                if failures >= attempts:
                    raise StoreError(
                        f"history store {self._worker.path}: write failed: {exc}"
                    ) from exc

    def abandon(self) -> None:
        """What a SIGKILL does to the queue: what waits is lost; a batch being written
        lands. For crash tests."""
        with self._lock:
            self._queued -= len(self._queue)
            self._queue = []
            self._ready = self._due = None

    # -- the worker thread ------------------------------------------------------------

    def write_if_due(self, now: float) -> None:
        """On the worker thread: write the queued batch if it is due."""
        with self._lock:
            if self._due is None or now < self._due:
                return
            batch, self._queue = self._queue, []
            self._ready = self._due = None
            if not batch:
                return
            self._inflight = batch
        started = time.perf_counter()
        try:
            self._write(batch)
            metrics.STORE_WRITE_SECONDS.observe(time.perf_counter() - started)
        except Exception as exc:
            self._written_or_failed(batch, exc)
        else:
            self._written_or_failed(batch, None)

    def _written_or_failed(self, batch: list[W], exc: Exception | None) -> None:
        docs = {op.doc_id for op in batch}
        with self._lock:
            self._inflight = None
            if exc is None:
                self._written += len(batch)
                for doc_id in docs:
                    self._failed.pop(doc_id, None)
                told = [w for w in self._waiters if w[0] <= self._written]
                self._waiters = [w for w in self._waiters if w[0] > self._written]
                now = time.monotonic()
                if self._waiters:  # a flush still waiting wants the rest at once
                    ready = due = now
                else:
                    ready = now + self.interval_seconds
                    due = ready + self.interval_seconds
            else:
                # Keep the batch, in order, ahead of anything queued since: nothing is dropped.
                self._queue = batch + self._queue
                for doc_id in docs:
                    self._failed[doc_id] = exc
                told, self._waiters = self._waiters, []  # each flush decides on a retry
                ready = due = time.monotonic() + self.retry_seconds
            if self._queue:
                self._ready, self._due = ready, due
        if exc is not None:
            log.error(
                "history store %s: writing %d updates of %s failed, retrying in %.1fs: %s",
                self._worker.path,
                len(batch),
                sorted(docs),
                self.retry_seconds,
                exc,
            )
        for _, loop, done in told:
            _tell(loop, done, None, exc)
