"""Who contributed what to a document: characters typed and removed, cells created, per
person, counted while its stored history is replayed; and who wrote each character
still in it, from the Yjs client id of each character and the store's record of which
person each client id belongs to.

Used by compaction (the rows it folds are counted into ``contributions`` first, so the
numbers survive it), by ``jupyter collab export`` and by the History panel's summary.
Pure: works on pycrdt documents; knows no store or rooms.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Assoc, Doc, Map, Text

from .documents import BUILD_CLIENT_ID

UNKNOWN = "(unknown)"  # written before the server kept authors (or by a client it never saw)
FILE = "(file)"  # what the file held when the server first opened it


def _author(authors: Mapping[int, str], client: int) -> str:
    if client == BUILD_CLIENT_ID:
        return FILE
    return authors.get(client, UNKNOWN)


@dataclass
class Counts:
    """One person's changes to one document."""

    chars_added: int = 0
    chars_removed: int = 0
    cells_created: int = 0

    def add(self, other: Counts) -> None:
        self.chars_added += other.chars_added
        self.chars_removed += other.chars_removed
        self.cells_created += other.cells_created

    def as_dict(self) -> dict[str, int]:
        return {
            "chars_added": self.chars_added,
            "chars_removed": self.chars_removed,
            "cells_created": self.cells_created,
        }


class Tally:
    """Counts the changes applying updates makes to ``doc``, for whoever is ``author``
    at the time (set it before each ``apply``)."""

    def __init__(self, doc: Doc[Any], kind: str) -> None:
        self.doc = doc
        self.kind = kind
        self.author = UNKNOWN
        self.counts: dict[str, Counts] = {}

    def apply(self, update: bytes, author: str) -> None:
        self.author = author
        self.doc.apply_update(update)

    def _mine(self) -> Counts:
        counts = self.counts.get(self.author)
        if counts is None:
            counts = self.counts[self.author] = Counts()
        return counts

    def _on_events(self, events: list[Any]) -> None:
        counts = self._mine()
        for event in events:
            target = event.target
            for part in event.delta or ():
                inserted, deleted = part.get("insert"), part.get("delete")
                if isinstance(target, Text):
                    if isinstance(inserted, str):
                        counts.chars_added += len(inserted)
                    elif isinstance(deleted, int):
                        counts.chars_removed += deleted
                elif isinstance(target, Array) and isinstance(inserted, list):
                    if self.kind == "notebook" and not event.path:  # the cells themselves
                        counts.cells_created += len(inserted)
                        counts.chars_added += sum(_source_length(c) for c in inserted)

    def _on_text(self, event: Any) -> None:
        self._on_events([event])

    @contextmanager
    def observing(self) -> Iterator[Tally]:
        if self.kind == "notebook":
            cells = self.doc.get("cells", type=Array)
            subscription = cells.observe_deep(self._on_events)
            try:
                yield self
            finally:
                cells.unobserve(subscription)
        else:
            text = self.doc.get("source", type=Text)
            subscription = text.observe(self._on_text)
            try:
                yield self
            finally:
                text.unobserve(subscription)


def _source_length(cell: Any) -> int:
    if isinstance(cell, Map) and "source" in cell:
        return len(str(cell["source"]))
    return 0


def character_authors(text: Text, authors: Mapping[int, str]) -> list[str]:
    """The author of each character of ``text``, in order (``UNKNOWN`` where the client
    id is not on record). Reads each character's Yjs item id (pycrdt's sticky index)."""
    value = str(text)
    result: list[str] = []
    offset = 0  # pycrdt's Text indexes UTF-8 bytes
    for char in value:
        item = text.sticky_index(offset, Assoc.AFTER).to_json().get("item") or {}
        result.append(_author(authors, int(item.get("client", -1))))
        offset += len(char.encode())
    return result


def stretches(authors: list[str]) -> list[tuple[str, int]]:
    """``["a", "a", "b"]`` as ``[("a", 2), ("b", 1)]``: who wrote each stretch."""
    found: list[tuple[str, int]] = []
    for author in authors:
        if found and found[-1][0] == author:
            found[-1] = (author, found[-1][1] + 1)
        else:
            found.append((author, 1))
    return found


def cell_authorship(doc: Doc[Any], kind: str, authors: Mapping[int, str]) -> list[dict[str, Any]]:
    """Per cell (or the one text of a file): its id, who created it, and who wrote its
    characters, as stretches and as totals per person."""
    rows: list[dict[str, Any]] = []
    if kind == "notebook":
        cells = doc.get("cells", type=Array)
        for i in range(len(cells)):
            cell = cells[i]
            item = cells.sticky_index(i, Assoc.AFTER).to_json().get("item") or {}
            who = character_authors(cell["source"], authors)
            rows.append(
                {
                    "id": str(cell.get("id")),
                    "cell_type": str(cell.get("cell_type", "")),
                    "created_by": _author(authors, int(item.get("client", -1))),
                    "stretches": stretches(who),
                    "chars": _totals(who),
                }
            )
    else:
        who = character_authors(doc.get("source", type=Text), authors)
        rows.append({"id": None, "stretches": stretches(who), "chars": _totals(who)})
    return rows


def _totals(authors: list[str]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for author in authors:
        totals[author] = totals.get(author, 0) + 1
    return totals
