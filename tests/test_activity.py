"""The activity book (``jupyter_collab/activity.py``) and the text counter it is fed by
(``rooms/updates.inserted_text``): what a teacher's numbers mean, checked one rule at a
time with a hand-moved clock."""

from __future__ import annotations

from typing import Any

import pycrdt
from jupyter_ydoc import YNotebook

from jupyter_collab.activity import PASTE_CHARS, ActivityBook, Ring
from jupyter_collab.rooms.activity import NUMBERS_SECONDS, _worth_sending
from jupyter_collab.rooms.updates import inserted_text


def updates_of(doc: pycrdt.Doc) -> list[bytes]:
    captured: list[bytes] = []
    doc.observe(lambda event: captured.append(event.update))
    return captured


def test_inserted_text_counts_characters_typed_not_bytes_nor_structure():
    doc: pycrdt.Doc = pycrdt.Doc()
    text = doc.get("source", type=pycrdt.Text)
    updates = updates_of(doc)
    text += "hello"
    text.insert(2, "é😀x")  # code points, as people count them
    del text[0:2]  # a deletion inserts nothing
    assert [inserted_text(u) for u in updates] == [5, 3, 0]
    assert inserted_text(b"\x01\x05garbage") == 0  # malformed: nothing counted, no error


def test_inserting_a_cell_is_not_typing_but_typing_in_it_is():
    notebook = YNotebook()
    updates = updates_of(notebook.ydoc)
    notebook.append_cell({"cell_type": "code", "source": "print(1)", "metadata": {}, "id": "a"})
    notebook.ycells[0]["source"].insert(8, "\nabc")
    assert [inserted_text(u) for u in updates] == [0, 4]


def test_a_ring_keeps_ten_minutes_in_ten_second_buckets():
    ring = Ring(60)
    ring.add(1000.0)
    ring.add(1005.0, 2)
    ring.add(1055.0)
    assert ring.last_minute(1055.0) == 4
    assert ring.last_minute(1061.0) == 1  # the first bucket fell out of the minute
    assert ring.total(1000.0 + 590) == 4
    assert ring.total(1000.0 + 610) == 1  # ten minutes later only the last edit is left
    assert ring.total(1000.0 + 5000) == 0


def test_typing_speed_leaves_out_pastes():
    book = ActivityBook()
    book.edited("d", "bob", 100.0, chars=3, cells=["c1"])
    book.edited("d", "bob", 101.0, chars=PASTE_CHARS + 1, cells=["c1"])
    row = book.person_row(book.people[("bob", "d")], 101.0)
    assert (row["typing_cpm"], row["edits_per_min"], row["cells_edited"]) == (3, 2, 1)
    assert sum(row["spark"]) == 2 and len(row["spark"]) == 20


def test_one_concurrent_episode_per_cell_until_a_quiet_window():
    book = ActivityBook(window_seconds=5.0)
    assert book.edited("d", "alice", 0.0, chars=1, cells=["c1"]) == []
    assert book.edited("d", "bob", 2.0, chars=1, cells=["c1"]) == ["c1"]  # begins
    assert book.edited("d", "alice", 4.0, chars=1, cells=["c1"]) == []  # goes on
    assert book.edited("d", "bob", 8.0, chars=1, cells=["c1"]) == []  # still on
    assert book.edited("d", "bob", 30.0, chars=1, cells=["c1"]) == []  # alone again
    assert book.edited("d", "alice", 60.0, chars=1, cells=["c1"]) == []  # 30 s later
    assert book.edited("d", "bob", 63.0, chars=1, cells=["c1", "c2"]) == ["c1"]  # again
    row = book.document_row("d", 63.0)
    assert row["concurrent"]["count"] == 2
    assert row["concurrent"]["cells"] == {"c1": {"count": 2, "last": 63.0}}
    assert row["concurrent"]["per_min"] == 0.2  # two in the last ten minutes
    assert book.document_row("d", 63.0 + 700)["concurrent"]["cells"] == {}  # forgotten


def test_the_latest_run_decides_whether_someone_is_stuck_on_an_error():
    book = ActivityBook()
    book.ran("d", "bob", 10.0, cell="c1", ok=False, ename="NameError")
    row = book.person_row(book.people[("bob", "d")], 10.0)
    assert row["last_error"] == {"name": "NameError", "cell": "c1", "at": 10.0}
    book.ran("d", "bob", 20.0, cell="c1", ok=True, ename=None)
    row = book.person_row(book.people[("bob", "d")], 20.0)
    assert row["last_error"] is None and row["runs"] == {"ok": 1, "error": 1}


def test_without_per_person_numbers_only_documents_are_counted():
    book = ActivityBook(per_person=False)
    book.edited("d", "alice", 0.0, chars=1, cells=["c1"])
    book.edited("d", "bob", 1.0, chars=1, cells=["c1"])
    book.ran("d", "bob", 2.0, cell="c1", ok=False, ename="E")
    assert book.people == {}
    assert book.document_row("d", 2.0)["concurrent"]["count"] == 1


def test_people_who_left_are_pruned_after_the_window():
    book = ActivityBook()
    book.edited("d", "bob", 0.0, chars=1, cells=[])
    book.prune(500.0, connected=set())
    assert ("bob", "d") in book.people  # left, but worked here lately
    book.prune(700.0, connected={("bob", "d")})
    assert ("bob", "d") in book.people  # still connected
    book.prune(700.0, connected=set())
    assert book.people == {}


def test_a_room_hears_its_numbers_at_most_every_ten_seconds_and_people_at_once():
    def event(active: int, edits: int, count: int = 0, last: float = 0.0) -> dict[str, Any]:
        cells = {"c1": {"count": count, "last": last}} if count else {}
        concurrent = {"count": count, "per_min": count / 10, "cells": cells}
        return {"people_active": active, "edits_per_min": edits, "concurrent": concurrent}

    sent = event(2, 40, 1, last=100.0)
    assert _worth_sending(None, sent, 0.0)
    assert not _worth_sending(sent, event(2, 80, 1, last=101.0), 2.0)  # numbers: wait
    assert _worth_sending(sent, event(2, 80, 1), NUMBERS_SECONDS)
    assert not _worth_sending(sent, event(2, 41, 1, last=100.0), NUMBERS_SECONDS)  # a wobble
    assert _worth_sending(sent, event(2, 40, 1, last=108.0), NUMBERS_SECONDS)  # typed on
    assert _worth_sending(sent, event(3, 40, 1, last=100.0), 0.5)  # someone came
    assert _worth_sending(sent, event(2, 40, 2, last=100.0), 0.5)  # a new concurrent edit
