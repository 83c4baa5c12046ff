"""How a batch of queued history operations is written, in one transaction: update
rows, authorship totals, the Yjs client ids seen, and save points.

Consecutive updates of one author share a row for up to ``coalesce_seconds`` (merged
with Yjs' ``merge_updates``) and up to ``coalesce_max_bytes``; a seal (a save point)
always ends a row, so the document as of any save can be rebuilt exactly. Runs on the
store's worker thread only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import sqlite_utils
from pycrdt import merge_updates

from .migrations import atomic


@dataclass(frozen=True)
class Append:
    doc_id: str
    seq: int
    time: float
    author: str
    origin: str
    client_ids: tuple[int, ...]
    data: bytes


@dataclass(frozen=True)
class Seal:
    doc_id: str


@dataclass(frozen=True)
class Saved:
    doc_id: str
    seq: int
    mtime: str | None
    hash: str | None


Op = Append | Seal | Saved
SEAL_ALL = "*"  # a Seal of every document (at close: fold every open window)


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


class RowWriter:
    """The coalescing windows of every document, and the batch write that moves them on.

    Args:
        coalesce_seconds: how long one author's consecutive updates share a row.
        coalesce_max_bytes: a row stops growing past this size.
    """

    def __init__(self, *, coalesce_seconds: float, coalesce_max_bytes: int) -> None:
        self.coalesce_seconds = coalesce_seconds
        self.coalesce_max_bytes = coalesce_max_bytes
        self.open_rows: dict[str, _OpenRow] = {}

    def open_since(self, doc_id: str) -> int | None:
        """The first seq of the document's open row (``None``: no open row)."""
        row = self.open_rows.get(doc_id)
        return None if row is None else row.first_seq

    def write(self, db: sqlite_utils.Database, batch: list[Op]) -> dict[str, int]:
        """Commit ``batch`` in one transaction; return how many bytes each document's
        rows grew by (negative when fragments were folded)."""
        open_rows = {
            k: replace(
                v, client_ids=set(v.client_ids), parts=list(v.parts), fragments=list(v.fragments)
            )
            for k, v in self.open_rows.items()
        }
        fresh: dict[tuple[str, int], list[Append]] = {}  # (doc, window first_seq) -> new updates
        windows: dict[tuple[str, int], _OpenRow] = {}
        closed: list[tuple[str, _OpenRow]] = []
        totals: dict[tuple[str, str], list[float]] = {}
        clients: dict[tuple[str, int], str] = {}
        saved: list[Saved] = []

        def close(doc_id: str) -> None:
            row = open_rows.pop(doc_id, None)
            if row is not None:
                closed.append((doc_id, row))

        for op in batch:
            if isinstance(op, Seal):
                for doc_id in list(open_rows) if op.doc_id == SEAL_ALL else [op.doc_id]:
                    close(doc_id)
                continue
            if isinstance(op, Saved):
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
        self.open_rows = open_rows
        return grown
