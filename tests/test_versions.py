"""Versions in the store (compaction keeps a thinned set, each still readable) and the
pure parts: fingerprints, summaries, restoring a notebook with as few moves as can be."""

from __future__ import annotations

from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Doc, Text

from jupyter_collab import documents, versioning
from jupyter_collab.store.versions import DAY, Version, retained

from .test_store import opened, typing_updates

HOUR = 3600.0


def version(n: int, age_hours: float, kind: str = "auto", now: float = 100 * DAY) -> Version:
    return Version(n, "d", n, now - age_hours * HOUR, kind, None, None, ())  # type: ignore[arg-type]


def test_retention_keeps_the_last_day_then_hourly_then_daily_and_every_named_one():
    now = 100 * DAY
    versions = [
        version(1, 24 * 30),  # a month ago
        version(2, 24 * 30 - 1),  # an hour later, same day: the day keeps only the later
        version(3, 24 * 30 - 2, "named"),  # named: always
        version(4, 48.5),  # two days ago, its hour alone
        version(5, 48.2),  # the same hour as 4, later: kept instead
        version(6, 47.0),  # another hour
        version(7, 23.0),  # within the day: all
        version(8, 22.9),
    ]
    assert retained(versions, now) == {3, 5, 6, 7, 8} | {2}


async def test_compaction_keeps_a_snapshot_per_kept_version_and_drops_the_others(tmp_path):
    clock = [10 * DAY]
    store = await opened(tmp_path / "h.sqlite", coalesce_seconds=0.0, compaction_budget_bytes=None)
    store.history._clock = lambda: clock[0]
    record = await store.history.create_document(
        "/r", "t.py", "file", Doc().get_update(), mtime=None, hash=None
    )
    _, updates = typing_updates("abcdefghij")
    texts: dict[int, str] = {}
    for i, update in enumerate(updates):
        store.history.append(record.doc_id, update, author="alice")
        if i in (1, 3, 5, 8):  # versions after "ab", "abcd", "abcdef", "abcdefghi"
            store.history.seal(record.doc_id)
            seq = store.history.last_seq(record.doc_id)
            age = {1: 3 * DAY, 3: 3 * DAY - 60, 5: 3 * DAY - 120, 8: 60}[i]
            kind = "named" if i == 1 else "auto"
            added = await store.versions.add(
                record.doc_id,
                seq,
                created_at=clock[0] - age,
                kind=kind,  # type: ignore[arg-type]
            )
            texts[added.version_id] = "abcdefghij"[: i + 1]
    store.history.mark_saved(
        record.doc_id, store.history.last_seq(record.doc_id), mtime=None, hash=None
    )

    await store.history.compact(record.doc_id)
    kept = await store.versions.versions(record.doc_id)
    rows = await store.history.update_rows(record.doc_id)
    contents = {}
    for v in kept:
        history = await store.history.load(record.doc_id, upto_seq=v.seq)
        doc = documents.doc_from_updates(history.updates)
        contents[v.version_id] = str(doc.get("source", type=Text))
    whole = await store.history.load(record.doc_id)
    folded = await store.history.contributions(record.doc_id)
    await store.close()

    # three days old: the named one stays, of two automatic ones in one hour the later
    ids = sorted(texts)
    assert [v.version_id for v in kept] == [ids[0], ids[2], ids[3]]
    assert rows == []  # every row folded, and what alice typed in them counted first
    assert {a: c.as_dict() for a, c in folded.items()} == {
        "alice": {"chars_added": 10, "chars_removed": 0, "cells_created": 0}
    }
    assert contents == {n: texts[n] for n in (ids[0], ids[2], ids[3])}
    assert str(documents.doc_from_updates(whole.updates).get("source", type=Text)) == "abcdefghij"


def notebook(*cells: tuple[str, str]) -> dict[str, Any]:
    return {
        "cells": [
            {"cell_type": "code", "id": i, "source": s, "metadata": {}, "outputs": []}
            for i, s in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def live(content: dict[str, Any]) -> YNotebook:
    ynb = YNotebook(Doc())
    ynb.set(content)
    return ynb


def test_a_summary_counts_cells_added_removed_changed_and_moved():
    before = versioning.fingerprint("notebook", live(notebook(("a", "1"), ("b", "2"), ("c", "3"))))
    after = versioning.fingerprint(
        "notebook", live(notebook(("c", "3"), ("a", "1"), ("b", "two"), ("d", "4")))
    )
    assert versioning.summarize(before, after) == {
        "added": 1,
        "removed": 0,
        "changed": 1,
        "moved": 1,
    }
    assert versioning.summarize({}, after)["added"] == 4


def test_restoring_moves_as_few_cells_as_can_be_and_edits_text_in_place():
    ynb = live(notebook(("c", "3"), ("a", "1"), ("b", "two"), ("d", "4")))
    kept_a, kept_b = ynb.ycells[1], ynb.ycells[2]
    typed: list[Any] = []
    _subscription = kept_b["source"].observe(  # kept: a dropped one stops observing
        lambda event: typed.append(event.delta)
    )

    target = notebook(("a", "1"), ("b", "2"), ("c", "3"))
    with ynb.ydoc.transaction():
        versioning.restore_notebook(ynb, target)

    assert [(c["id"], c["source"]) for c in ynb.get()["cells"]] == [
        ("a", "1"),
        ("b", "2"),
        ("c", "3"),
    ]
    # a and b kept their shared objects (someone typing in them loses nothing); only c
    # moved, and b's text changed by a diff, not a rewrite
    assert ynb.ycells[0] is not None and str(ynb.ycells[0]["id"]) == str(kept_a["id"])
    assert typed == [[{"delete": 3}, {"insert": "2"}]]


def test_one_cell_comes_back_after_the_cell_before_it_in_the_version():
    ynb = live(notebook(("a", "1"), ("c", "3")))
    target = notebook(("a", "1"), ("b", "2"), ("c", "3"))
    with ynb.ydoc.transaction():
        assert versioning.restore_one_cell(ynb, target, "b")
        assert not versioning.restore_one_cell(ynb, target, "zz")
    assert [c["id"] for c in ynb.get()["cells"]] == ["a", "b", "c"]


def test_a_restored_cell_gets_back_its_outputs_metadata_and_type():
    old = notebook(("a", "print(1)"))
    old["cells"][0].update(
        outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}],
        metadata={"tags": ["keep"]},
        execution_count=3,
    )
    ynb = live(notebook(("a", "# now markdown")))
    with ynb.ydoc.transaction():
        ynb.ycells[0]["cell_type"] = "markdown"
        versioning.restore_one_cell(ynb, old, "a")
    (cell,) = ynb.get()["cells"]
    assert (cell["cell_type"], cell["source"], cell["execution_count"]) == ("code", "print(1)", 3)
    assert cell["metadata"] == {"tags": ["keep"]}
    assert cell["outputs"][0]["text"] == "1\n"
