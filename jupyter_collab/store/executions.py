"""Who ran which notebook cell, as stored (``ExecutionRecords``): one row per run, so a
cell's latest run survives restarts and the history of runs is there for grading."""

from __future__ import annotations

from .records import Execution, RunStatus
from .worker import SQLiteWorker

_COLUMNS = "n, doc_id, cell_id, author, started_at, finished_at, status, ename"


class ExecutionRepository:
    """Runs of notebook cells in the store's database (implements ``ExecutionRecords``).

    Args:
        worker: the process's one SQLite worker.
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._worker = worker

    async def started(self, doc_id: str, cell_id: str, author: str, at: float) -> int:
        """Record that ``author`` started running a cell; returns the run's id."""

        def write() -> int:
            cursor = self._worker.db.execute(
                "INSERT INTO executions (doc_id, cell_id, author, started_at, status) "
                "VALUES (?, ?, ?, ?, 'running')",
                [doc_id, cell_id, author, at],
            )
            return int(cursor.lastrowid or 0)

        return await self._worker.run(write)

    async def finished(self, run_id: int, at: float, status: RunStatus, ename: str | None) -> None:
        """Record how a run ended (a run that already ended keeps its first end)."""

        def write() -> None:
            self._worker.db.execute(
                "UPDATE executions SET finished_at = ?, status = ?, ename = ? "
                "WHERE n = ? AND status = 'running'",
                [at, status, ename, run_id],
            )

        await self._worker.run(write)

    async def latest(self, doc_id: str) -> list[Execution]:
        """The latest run of every cell of a document that was ever run."""

        def read() -> list[Execution]:
            rows = self._worker.db.execute(
                f"SELECT {_COLUMNS} FROM executions WHERE n IN "
                "(SELECT max(n) FROM executions WHERE doc_id = ? GROUP BY cell_id) ORDER BY n",
                [doc_id],
            ).fetchall()
            return [_execution(row) for row in rows]

        return await self._worker.run(read)

    async def runs(self, doc_id: str) -> list[Execution]:
        """Every run of a document, oldest first (for exports and tests)."""

        def read() -> list[Execution]:
            rows = self._worker.db.execute(
                f"SELECT {_COLUMNS} FROM executions WHERE doc_id = ? ORDER BY n", [doc_id]
            ).fetchall()
            return [_execution(row) for row in rows]

        return await self._worker.run(read)


def _execution(row: tuple[object, ...]) -> Execution:
    n, doc_id, cell_id, author, started, finished, status, ename = row
    return Execution(
        run_id=int(n),  # type: ignore[call-overload]
        doc_id=str(doc_id),
        cell_id=str(cell_id),
        author=str(author),
        started_at=float(started),  # type: ignore[arg-type]
        finished_at=None if finished is None else float(finished),  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        ename=None if ename is None else str(ename),
    )
