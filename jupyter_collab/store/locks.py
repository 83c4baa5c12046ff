"""Which cells of a notebook are locked, as stored (``LockRecords``). The rules of a lock
live in ``jupyter_collab/locks.py``; a room reads its locks here when it loads."""

from __future__ import annotations

import time
from collections.abc import Callable

from .worker import SQLiteWorker


class LockRepository:
    """Cell locks in the store's database (implements ``LockRecords``).

    Args:
        worker: the process's one SQLite worker.
        clock: the time stamped on a lock.
    """

    def __init__(self, worker: SQLiteWorker, *, clock: Callable[[], float] = time.time) -> None:
        self._worker = worker
        self._clock = clock

    async def set_lock(self, doc_id: str, cell_id: str, *, locked: bool, by: str) -> None:
        """Lock (or unlock) one cell of a notebook."""

        def write() -> None:
            if locked:
                self._worker.db.execute(
                    "INSERT OR REPLACE INTO locks (doc_id, cell_id, locked_by, locked_at) "
                    "VALUES (?, ?, ?, ?)",
                    [doc_id, cell_id, by, self._clock()],
                )
            else:
                self._worker.db.execute(
                    "DELETE FROM locks WHERE doc_id = ? AND cell_id = ?", [doc_id, cell_id]
                )

        await self._worker.run(write)

    async def locks(self, doc_id: str) -> set[str]:
        """The ids of the locked cells of a notebook."""

        def read() -> set[str]:
            rows = self._worker.db.execute("SELECT cell_id FROM locks WHERE doc_id = ?", [doc_id])
            return {row[0] for row in rows}

        return await self._worker.run(read)
