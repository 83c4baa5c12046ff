from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Text

from jupyter_collab import documents
from jupyter_collab.documents import apply_text_diff, merge3

texts = st.text(alphabet="ab\né😀 ", max_size=40)


@given(old=texts, new=texts)
def test_a_text_diff_turns_the_crdt_text_into_the_new_text(old, new):
    doc = Doc()
    doc["t"] = t = Text(old)
    apply_text_diff(t, old, new)
    assert str(t) == new


def test_a_text_diff_keeps_unchanged_text_in_place():
    doc = Doc()
    doc["t"] = t = Text("keep this line\nchange me\n")
    events = []
    t.observe(lambda ev: events.append(ev.delta))
    apply_text_diff(t, str(t), "keep this line\nchanged me\n")
    assert events[0][0] == {"retain": len("keep this line\nchange")}


@given(base=texts, ours=texts)
def test_merge3_takes_a_one_sided_change(base, ours):
    assert merge3(base, ours, base) == ours
    assert merge3(base, base, ours) == ours


@given(base=texts, change=texts)
def test_merge3_takes_the_same_change_once(base, change):
    assert merge3(base, change, change) == change


def test_merge3_combines_changes_in_different_places():
    base = "one\ntwo\nthree\n"
    assert merge3(base, "ONE\ntwo\nthree\n", "one\ntwo\nTHREE\n") == "ONE\ntwo\nTHREE\n"


def test_merge3_combines_changes_in_different_places_of_one_line():
    assert merge3("x = 1 + 2", "x = 10 + 2", "x = 1 + 20") == "x = 10 + 20"


def test_merge3_keeps_both_sides_of_a_true_conflict():
    merged = merge3("a\nb\nc\n", "a\nours\nc\n", "a\ntheirs\nc\n")
    assert "ours" in merged and "theirs" in merged and merged.count("a\n") == 1


def notebook(*cells):
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": cid,
                "source": src,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for cid, src in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def live(nb) -> YNotebook:
    return documents.wrap("notebook", documents.doc_from_updates([documents.build("notebook", nb)]))


def sources(ynb):
    return [(c["id"], c["source"]) for c in documents.read("notebook", ynb)["cells"]]


def test_a_disk_change_to_a_cell_merges_with_an_unsaved_edit_of_another():
    base = notebook(("a", "alpha"), ("b", "beta"))
    ynb = live(base)
    ynb.ycells[0]["source"].insert(5, "!")  # unsaved edit
    theirs = notebook(("a", "alpha"), ("b", "BETA"))

    documents.merge_disk_change("notebook", ynb, base, theirs)

    assert sources(ynb) == [("a", "alpha!"), ("b", "BETA")]


def test_cells_added_and_deleted_on_disk_follow_and_edited_ones_survive():
    base = notebook(("a", "alpha"), ("b", "beta"), ("c", "gamma"))
    ynb = live(base)
    ynb.ycells[2]["source"].insert(0, "#")  # unsaved edit to a cell deleted on disk
    theirs = notebook(("new", "inserted"), ("a", "alpha"))

    documents.merge_disk_change("notebook", ynb, base, theirs)

    assert sources(ynb) == [("new", "inserted"), ("a", "alpha"), ("c", "#gamma")]


def test_old_notebooks_without_cell_ids_match_cells_by_position():
    base = notebook(("a", "alpha"), ("b", "beta"))
    ynb = live(base)
    theirs = {
        **notebook(),
        "cells": [
            {
                "cell_type": "code",
                "source": "alpha",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            },
            {
                "cell_type": "code",
                "source": "beta 2",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            },
        ],
    }

    documents.merge_disk_change("notebook", ynb, base, theirs)

    assert sources(ynb) == [("a", "alpha"), ("b", "beta 2")]
