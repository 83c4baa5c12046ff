"""trust.py: no ``trusted`` mark survives in a shared notebook."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc

from jupyter_collab import documents, trust


def notebook(cell_metadata: dict[str, Any], metadata: dict[str, Any] | None = None) -> Doc[Any]:
    content = {
        "cells": [
            {"cell_type": "markdown", "id": "m", "source": "hi", "metadata": {}},
            {
                "cell_type": "code",
                "id": "c",
                "source": "x",
                "metadata": cell_metadata,
                "outputs": [],
                "execution_count": None,
            },
        ],
        "metadata": metadata or {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return documents.doc_from_updates([documents.build("notebook", content)])


def read(doc: Doc[Any]) -> Any:
    return documents.read("notebook", documents.wrap("notebook", doc))


def test_marks_are_removed_from_cells_and_the_notebook_and_nothing_else():
    doc = notebook({"trusted": True, "tags": ["a"]}, {"trusted": True, "kernelspec": {}})

    with doc.transaction():
        removed = trust.remove(doc)

    assert removed == 2
    content = read(doc)
    assert content["cells"][1]["metadata"] == {"tags": ["a"]}
    assert "trusted" not in content["metadata"]
    assert content["metadata"]["kernelspec"] == {}


def test_a_mark_inside_plain_json_metadata_is_removed_too():
    doc = notebook({})
    cell = documents.wrap("notebook", doc).ycells[1]
    cell["metadata"] = {"trusted": True, "x": 1}

    with doc.transaction():
        removed = trust.remove(doc)

    assert removed == 1
    assert read(doc)["cells"][1]["metadata"] == {"x": 1}


def test_a_notebook_without_marks_is_not_changed():
    doc = notebook({"tags": []})
    before = doc.get_state()

    with doc.transaction():
        removed = trust.remove(doc)

    assert removed == 0
    assert doc.get_state() == before


def test_only_an_update_that_names_the_key_may_add_trust():
    marked = notebook({"trusted": True}).get_update()
    plain = notebook({"tags": ["trust"]}).get_update()

    assert trust.may_add_trust([plain, marked])
    assert not trust.may_add_trust([plain])
