"""Activity as numbers: who edits, types, runs cells and changes the same cell as
someone else, per person and document, in a bounded window of the last 10 minutes.

The activity service (``rooms/activity.py``) feeds an ``ActivityBook`` from room events;
the book only counts. Counts go into rings of 10-second buckets, so memory per person and
document is fixed (60 buckets of edits, 6 of typed characters) and nothing grows with
the length of a class. Who is connected and since when is not kept here: the rooms know
it, and the service passes it in when it reads the rows.

A **concurrent edit** is two people changing the same notebook cell within
``window_seconds`` of each other. Typing together goes on for a while, so one episode
is counted once: a cell's next concurrent edit counts again only after a quiet
``window_seconds`` with no other person's change.

Pure: no rooms, no I/O; ``now`` is passed in (wall-clock seconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

BUCKET_SECONDS = 10
WINDOW_BUCKETS = 60  # 10 minutes
SPARK_BUCKETS = 3  # one sparkline value per 30 s (``spark`` adds three at a time)
PASTE_CHARS = 50  # an update inserting more is a paste: an edit, not typing


class Ring:
    """Counts per ``BUCKET_SECONDS`` over the last ``size`` buckets."""

    __slots__ = ("counts", "last")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.last = 0  # bucket number of counts[-1]

    def add(self, now: float, amount: int = 1) -> None:
        self._advance(int(now // BUCKET_SECONDS))
        self.counts[-1] += amount

    def values(self, now: float) -> list[int]:
        """The buckets, oldest first, ending with the current one."""
        self._advance(int(now // BUCKET_SECONDS))
        return list(self.counts)

    def last_minute(self, now: float) -> int:
        self._advance(int(now // BUCKET_SECONDS))
        return sum(self.counts[-60 // BUCKET_SECONDS :])

    def total(self, now: float) -> int:
        self._advance(int(now // BUCKET_SECONDS))
        return sum(self.counts)

    def _advance(self, bucket: int) -> None:
        gap = bucket - self.last
        if gap <= 0:
            return
        size = len(self.counts)
        if gap >= size:
            self.counts = [0] * size
        else:
            self.counts = self.counts[gap:] + [0] * gap
        self.last = bucket


def spark(ring: Ring, now: float) -> list[int]:
    """The ring's 10 minutes as 20 values, 30 s each, oldest first."""
    ring._advance(int(now // BUCKET_SECONDS))
    c = ring.counts
    return [c[i] + c[i + 1] + c[i + 2] for i in range(0, len(c), SPARK_BUCKETS)]


@dataclass
class PersonActivity:
    """One person in one document."""

    username: str
    doc_id: str
    edits: Ring = field(default_factory=lambda: Ring(WINDOW_BUCKETS))
    typed: Ring = field(default_factory=lambda: Ring(60 // BUCKET_SECONDS))
    cells: set[str] = field(default_factory=set)  # cells they changed
    runs_ok: int = 0
    runs_error: int = 0
    last_error: dict[str, Any] | None = None  # {"name", "cell", "at"} of the latest run
    last_seen: float = 0.0  # the last edit or run (wall clock)
    version: int = 0  # bumped by every count: a row is made again only when it changed
    marks: int = 0  # bumped when a run ended or a cell was first edited (shown at once)
    row: tuple[tuple[int, int], dict[str, Any]] | None = None  # (version, bucket), row


@dataclass
class DocumentActivity:
    doc_id: str
    edits: Ring = field(default_factory=lambda: Ring(WINDOW_BUCKETS))
    concurrent: Ring = field(default_factory=lambda: Ring(WINDOW_BUCKETS))
    concurrent_total: int = 0  # since the room opened
    last_change: dict[str, tuple[str, float]] = field(default_factory=dict)  # cell: who, when
    episodes: dict[str, dict[str, float]] = field(default_factory=dict)  # cell: count, last


class ActivityBook:
    """The counts of every person and document of one server.

    Args:
        per_person: keep per-person numbers (``CollabApp.activity_per_person``). Off, only
            documents are counted.
        window_seconds: how close two people's changes of one cell count as concurrent.
    """

    def __init__(self, *, per_person: bool = True, window_seconds: float = 5.0) -> None:
        self.per_person = per_person
        self.window_seconds = window_seconds
        self.people: dict[tuple[str, str], PersonActivity] = {}  # (username, doc_id)
        self.documents: dict[str, DocumentActivity] = {}

    def edited(
        self, doc_id: str, username: str, now: float, *, chars: int, cells: Iterable[str]
    ) -> list[str]:
        """Count one accepted edit; returns the cells where it began a concurrent edit."""
        document = self._document(doc_id)
        document.edits.add(now)
        person = self._person(username, doc_id)
        if person is not None:
            person.version += 1
            person.edits.add(now)
            if 0 < chars <= PASTE_CHARS:
                person.typed.add(now, chars)
            person.last_seen = now
        began = []
        for cell in cells:
            if person is not None and cell not in person.cells and len(person.cells) < 10_000:
                person.cells.add(cell)
                person.marks += 1
            if self._concurrent(document, cell, username, now):
                began.append(cell)
        return began

    def ran(
        self, doc_id: str, username: str, now: float, *, cell: str, ok: bool, ename: str | None
    ) -> None:
        """Count how a run this person started ended."""
        person = self._person(username, doc_id)
        if person is None:
            return
        person.last_seen = now
        person.version += 1
        person.marks += 1
        if ok:
            person.runs_ok += 1
            person.last_error = None  # their latest run worked: not stuck on an error
        else:
            person.runs_error += 1
            person.last_error = {"name": ename, "cell": cell, "at": now}

    def forget_document(self, doc_id: str) -> None:
        self.documents.pop(doc_id, None)
        for key in [k for k in self.people if k[1] == doc_id]:
            del self.people[key]

    def prune(self, now: float, connected: set[tuple[str, str]]) -> None:
        """Drop people who left more than the window ago and did nothing since."""
        horizon = now - BUCKET_SECONDS * WINDOW_BUCKETS
        for key, person in list(self.people.items()):
            if key not in connected and person.last_seen < horizon:
                del self.people[key]

    # -- reading ----------------------------------------------------------------------

    def person_row(self, person: PersonActivity, now: float) -> dict[str, Any]:
        """What the owners' feed says of one person in one document (without place and
        state, which the rooms know). Made again only when the person's counts or the
        current bucket changed: the owners' feed asks for every row every 2 s."""
        key = (person.version, int(now // BUCKET_SECONDS))
        if person.row is not None and person.row[0] == key:
            return person.row[1]
        row = {
            "username": person.username,
            "edits_per_min": person.edits.last_minute(now),
            "typing_cpm": person.typed.total(now),
            "spark": spark(person.edits, now),
            "cells_edited": len(person.cells),
            "runs": {"ok": person.runs_ok, "error": person.runs_error},
            "last_error": person.last_error,
        }
        person.row = (key, row)
        return row

    def document_row(self, doc_id: str, now: float) -> dict[str, Any]:
        """A document's own numbers: its edits and concurrent edits (no person named)."""
        document = self._document(doc_id)
        window_minutes = BUCKET_SECONDS * WINDOW_BUCKETS / 60
        horizon = now - BUCKET_SECONDS * WINDOW_BUCKETS
        for cell, episode in list(document.episodes.items()):
            if episode["last"] < horizon:
                del document.episodes[cell]
        return {
            "edits_per_min": document.edits.last_minute(now),
            "spark": spark(document.edits, now),
            "concurrent": {
                "count": document.concurrent.total(now),
                "per_min": round(document.concurrent.total(now) / window_minutes, 2),
                "cells": {
                    cell: {"count": int(e["count"]), "last": e["last"]}
                    for cell, e in document.episodes.items()
                },
            },
        }

    # -- inside -----------------------------------------------------------------------

    def _person(self, username: str, doc_id: str) -> PersonActivity | None:
        if not self.per_person:
            return None
        key = (username, doc_id)
        person = self.people.get(key)
        if person is None:
            person = self.people[key] = PersonActivity(username, doc_id)
        return person

    def _document(self, doc_id: str) -> DocumentActivity:
        document = self.documents.get(doc_id)
        if document is None:
            document = self.documents[doc_id] = DocumentActivity(doc_id)
        return document

    def _concurrent(self, document: DocumentActivity, cell: str, username: str, now: float) -> bool:
        before = document.last_change.get(cell)
        document.last_change[cell] = (username, now)
        if before is None or before[0] == username or now - before[1] > self.window_seconds:
            return False
        episode = document.episodes.get(cell)
        if episode is not None and now - episode["last"] <= self.window_seconds:
            episode["last"] = now  # the same episode goes on
            return False
        if episode is None:
            episode = document.episodes[cell] = {"count": 0, "last": now}
        episode["count"] += 1
        episode["last"] = now
        document.concurrent.add(now)
        document.concurrent_total += 1
        return True
