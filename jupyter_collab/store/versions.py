"""Versions of a document, as stored (``VersionRecords``): named points of its history
that people list, preview, compare and restore.

A version is a sequence number of the document's history (every update up to it, see
``HistoryRepository``) with what people see of it: when, who changed the document since
the version before, a short summary (cells added, changed, removed, moved) and, for
named versions, a name and who gave it. The ``fingerprint`` (a hash per cell, in order)
is what the next version's summary is computed against; nobody sees it.

Retention (``retained``): compaction folds old history into snapshots, and keeps one
snapshot per version it keeps: every version of the last day, then the last of each
hour for a week, then the last of each day; named versions always. The others are
deleted with the history that held them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import sqlite_utils

from .worker import SQLiteWorker

VersionKind = Literal["auto", "named", "restore"]

DAY = 24 * 3600.0
WEEK = 7 * DAY

_COLUMNS = "n, doc_id, seq, created_at, kind, name, by, authors, summary, fingerprint"


@dataclass(frozen=True)
class Version:
    """One version of a document: its content is the history up to ``seq``."""

    version_id: int
    doc_id: str
    seq: int
    created_at: float
    kind: VersionKind
    name: str | None  # named versions, and what a restore restored
    by: str | None  # who named it or restored (automatic ones: nobody)
    authors: tuple[str, ...]  # who changed the document since the version before
    summary: dict[str, int] = field(default_factory=dict)  # added, changed, removed, moved
    fingerprint: dict[str, Any] = field(default_factory=dict, repr=False)


def retained(versions: Sequence[Version], now: float) -> set[int]:
    """The ids of the versions compaction keeps: named ones, every one of the last day,
    the last one of each hour of the last week, the last one of each day before."""
    kept: set[int] = set()
    last_of: dict[tuple[str, int], int] = {}  # (hour|day, number): the latest version
    for version in sorted(versions, key=lambda v: (v.created_at, v.version_id)):
        age = now - version.created_at
        if version.kind == "named" or age < DAY:
            kept.add(version.version_id)
        elif age < WEEK:
            last_of[("hour", int(version.created_at // 3600))] = version.version_id
        else:
            last_of[("day", int(version.created_at // DAY))] = version.version_id
    return kept | set(last_of.values())


class VersionRepository:
    """The versions of every document, in the store's database (implements
    ``VersionRecords``).

    Args:
        worker: the process's one SQLite worker.
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._worker = worker

    async def add(
        self,
        doc_id: str,
        seq: int,
        *,
        created_at: float,
        kind: VersionKind,
        name: str | None = None,
        by: str | None = None,
        authors: Iterable[str] = (),
        summary: dict[str, int] | None = None,
        fingerprint: dict[str, Any] | None = None,
    ) -> Version:
        """Keep a new version of ``doc_id`` at history ``seq``."""
        version = Version(
            0,
            doc_id,
            seq,
            created_at,
            kind,
            name,
            by,
            tuple(sorted(set(authors))),
            dict(summary or {}),
            dict(fingerprint or {}),
        )

        def write() -> int:
            cursor = self._worker.db.execute(
                "INSERT INTO versions (doc_id, seq, created_at, kind, name, by, authors, "
                "summary, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    doc_id,
                    seq,
                    created_at,
                    kind,
                    name,
                    by,
                    json.dumps(version.authors),
                    json.dumps(version.summary),
                    json.dumps(version.fingerprint),
                ],
            )
            return int(cursor.lastrowid or 0)

        n = await self._worker.run(write)
        return replace(version, version_id=n)

    async def versions(self, doc_id: str) -> list[Version]:
        """Every version of a document, oldest first."""
        return await self._worker.run(self.versions_sync, self._worker.db, doc_id)

    async def version(self, doc_id: str, version_id: int) -> Version | None:
        def read() -> Version | None:
            row = self._worker.db.execute(
                f"SELECT {_COLUMNS} FROM versions WHERE doc_id = ? AND n = ?", [doc_id, version_id]
            ).fetchone()
            return None if row is None else _version(row)

        return await self._worker.run(read)

    async def latest(self, doc_id: str) -> Version | None:
        def read() -> Version | None:
            row = self._worker.db.execute(
                f"SELECT {_COLUMNS} FROM versions WHERE doc_id = ? ORDER BY seq DESC, n DESC "
                "LIMIT 1",
                [doc_id],
            ).fetchone()
            return None if row is None else _version(row)

        return await self._worker.run(read)

    # -- for compaction, on the worker thread -------------------------------------------

    @staticmethod
    def versions_sync(db: sqlite_utils.Database, doc_id: str) -> list[Version]:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM versions WHERE doc_id = ? ORDER BY seq, n", [doc_id]
        ).fetchall()
        return [_version(row) for row in rows]

    @staticmethod
    def forget_sync(db: sqlite_utils.Database, version_ids: Iterable[int]) -> None:
        db.conn.executemany("DELETE FROM versions WHERE n = ?", [[n] for n in version_ids])

    @staticmethod
    def move_sync(db: sqlite_utils.Database, version_id: int, seq: int) -> None:
        """A version whose seq fell inside a stored row now stands at the row's end."""
        db.execute("UPDATE versions SET seq = ? WHERE n = ?", [seq, version_id])


def _version(row: Sequence[Any]) -> Version:
    n, doc_id, seq, created_at, kind, name, by, authors, summary, fingerprint = row
    return Version(
        version_id=int(n),
        doc_id=str(doc_id),
        seq=int(seq),
        created_at=float(created_at),
        kind=kind,
        name=name,
        by=by,
        authors=tuple(json.loads(authors)),
        summary=json.loads(summary),
        fingerprint=json.loads(fingerprint),
    )
