"""Durable state in one SQLite file (through sqlite-utils), as five repositories on one
worker: ``history`` (documents and their authored updates), ``access`` (memberships and
share links), ``locks`` (locked cells), ``comments`` (comment threads by document) and
``executions`` (who ran which cell).

``SQLiteWorker`` owns the only connection and the only thread that touches it; every
repository runs its sqlite calls there, so the event loop never blocks on disk and there
is exactly one writer. Consumers type against the protocols in ``api.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .access import AccessRepository
from .api import (
    AccessRecords,
    CommentRecords,
    ExecutionRecords,
    HistoryLog,
    LockRecords,
    VersionRecords,
)
from .comments import CommentRepository
from .executions import ExecutionRepository
from .history import HistoryRepository
from .locks import LockRepository
from .records import (
    AuthorTotals,
    DocumentRecord,
    Execution,
    History,
    Message,
    RunStatus,
    SuggestionState,
    Thread,
    ThreadStatus,
    ThreadView,
)
from .versions import Version, VersionKind, VersionRepository
from .worker import SQLiteWorker

__all__ = [
    "AccessRecords",
    "AccessRepository",
    "AuthorTotals",
    "CommentRecords",
    "CommentRepository",
    "DocumentRecord",
    "Execution",
    "ExecutionRecords",
    "ExecutionRepository",
    "History",
    "HistoryLog",
    "HistoryRepository",
    "LockRecords",
    "LockRepository",
    "Message",
    "RunStatus",
    "SQLiteWorker",
    "Store",
    "SuggestionState",
    "Thread",
    "ThreadStatus",
    "ThreadView",
    "Version",
    "VersionKind",
    "VersionRecords",
    "VersionRepository",
]

if TYPE_CHECKING:  # mypy checks here that each repository satisfies its protocol
    _history: type[HistoryLog] = HistoryRepository
    _access: type[AccessRecords] = AccessRepository
    _locks: type[LockRecords] = LockRepository
    _comments: type[CommentRecords] = CommentRepository
    _executions: type[ExecutionRecords] = ExecutionRepository
    _versions: type[VersionRecords] = VersionRepository


class Store:
    """One process's store: one worker and the repositories that share it.

    Args:
        path: database file; its folder is created. ``":memory:"`` for tests.
        write_interval_seconds: how long appended updates may wait before commit.
        coalesce_seconds: how long one author's consecutive updates share a row.
        coalesce_max_bytes: a history row stops growing past this size.
        compaction_budget_bytes: once a document's rows exceed this, the rows up to
            its last save point are folded into a snapshot. ``None`` disables it.
        busy_timeout_seconds: how long sqlite waits on a lock before failing.
        clock: the time stamped on updates, grants, locks and comments.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        write_interval_seconds: float = 0.1,
        coalesce_seconds: float = 10.0,
        coalesce_max_bytes: int = 64 * 1024,
        compaction_budget_bytes: int | None = 1024 * 1024,
        busy_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.worker = SQLiteWorker(path, busy_timeout_seconds=busy_timeout_seconds)
        self.access = AccessRepository(self.worker, clock=clock)
        self.locks = LockRepository(self.worker, clock=clock)
        # kept by doc_id: they follow renames with the document, and need no follower
        self.comments = CommentRepository(self.worker, clock=clock)
        self.executions = ExecutionRepository(self.worker)  # who ran which cell
        self.versions = VersionRepository(self.worker)  # kept through compaction (history)
        self.history = HistoryRepository(
            self.worker,
            write_interval_seconds=write_interval_seconds,
            coalesce_seconds=coalesce_seconds,
            coalesce_max_bytes=coalesce_max_bytes,
            compaction_budget_bytes=compaction_budget_bytes,
            followers=[self.access],  # memberships and links follow renames and deletes
            versions=self.versions,
            clock=clock,
        )

    @property
    def path(self) -> str:
        return self.worker.path

    async def open(self) -> None:
        """Create or migrate the database. Raises SchemaTooNew for a newer schema."""
        await self.worker.open()

    async def close(self) -> None:
        """Commit everything queued, then close. Raises StoreError if that fails (the
        connection is closed all the same)."""
        try:
            await self.history.close()
        finally:
            await self.worker.close()
