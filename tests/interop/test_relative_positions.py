"""Interop: Yjs relative positions, as JupyterLab makes them for a comment range, are
read by the server (pycrdt) to the same place, before and after edits, in text with
accents and emoji (Yjs counts UTF-16 units, Python code points); and positions the
server makes (re-anchoring) are read by Yjs to the same place. In ASCII text edited by
several people, Yjs and pycrdt write the very same bytes at every index (pycrdt cannot
make the end of a text with assoc 0, a position no range starts at, and refuses it)."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Assoc, StickyIndex, Text

from jupyter_collab.permissions import Role
from jupyter_collab.rooms import anchors
from tests.fakes import Peer
from tests.rooms_helpers import make_notebook, running
from tests.test_comments_service import open_class

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("relpos.mjs")
NODE = shutil.which("node")
if NODE is None:
    pytest.fail("interop tests need `node` on PATH (as jest and the build do)", pytrace=False)

pytestmark = pytest.mark.interop

SOURCE = "é = '😀'\nprint(é)"  # an accent and an astral emoji before the range


async def yjs(update: bytes, cell: int | None, **request: Any) -> dict[str, Any]:
    config = {"update": base64.b64encode(update).decode(), "cell": cell, **request}
    proc = await asyncio.create_subprocess_exec(
        NODE, str(SCRIPT), json.dumps(config), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    return dict(json.loads(out))


@pytest.fixture
def root(root: Path) -> Path:
    (root / "nb.ipynb").write_text(json.dumps(make_notebook(SOURCE)))
    return root


async def test_a_range_made_by_yjs_is_served_and_followed(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.EDITOR), c.join("bob", Role.COMMENTER)
        start = SOURCE.index("print")
        # Yjs counts the emoji as two units: the range "print(é)" in Yjs's indexes
        units = len(SOURCE[:start].encode("utf-16-le")) // 2
        made = await yjs(bob.doc.get_update(), 0, ranges=[[units, units + len("print(é)")]])
        assert made["text"] == SOURCE
        anchor = {"kind": "range", "cell_id": "cell-0", **made["ranges"][0]}

        answer = await c.ask(bob, type="comment.create", anchor=anchor, body="é?")

        assert answer["type"] == "comment", answer
        assert answer["thread"]["anchor"]["quote"] == "print(é)"
        alice.ydoc.ycells[0]["source"].insert(0, "# 😀 first\n")
        await c.settled()
        found = anchors.resolve(c.room, answer["thread"]["anchor"])
        assert found is not None and str(found.text)[found.start : found.end] == "print(é)"
        # and Yjs reads the same positions to the same place in the edited text
        again = await yjs(
            bob.doc.get_update(),
            0,
            resolve=[anchor["start"], anchor["end"]],
        )
        text = again["text"]
        first = len(text[: text.index("print")].encode("utf-16-le")) // 2
        assert again["resolved"] == [first, first + len("print(é)")]


async def test_positions_the_server_makes_are_read_by_yjs(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        text = c.room.cells.array[0]["source"]  # type: ignore[union-attr]
        start = SOURCE.index("print")
        made = anchors.cover({"kind": "range", "cell_id": "cell-0"}, text, start, len(SOURCE))
        read = await yjs(bob.doc.get_update(), 0, resolve=[made["start"], made["end"]])
        units = len(SOURCE[:start].encode("utf-16-le")) // 2
        assert read["resolved"] == [units, len(SOURCE.encode("utf-16-le")) // 2]
        assert isinstance(bob, Peer)


def concurrent_texts(cell: int | None) -> tuple[list[Any], list[Any]]:
    """Two people's copies of one text (a notebook cell's source, or a file's), each
    edited while apart, then synced: the text is made of both people's items."""
    docs: list[Any] = [YUnicode() if cell is None else YNotebook() for _ in range(2)]
    if cell is None:
        docs[0].set("import os\nprint(os.sep)\n")
    else:
        docs[0].set(json.loads(json.dumps(make_notebook("x = 1", "def f():\n    return 2\n"))))
    docs[1].ydoc.apply_update(docs[0].ydoc.get_update())

    def text(doc: Any) -> Text:
        return doc.ydoc["source"] if cell is None else doc.ycells[cell]["source"]

    texts = [text(d) for d in docs]
    texts[0].insert(0, "# one\n")
    texts[1].insert(len(str(texts[1])) - 1, "  # two")
    del texts[1][2:5]
    sync(docs)
    return docs, texts


def sync(docs: list[Any]) -> None:
    for a in docs:
        for b in docs:
            if a is not b:
                b.ydoc.apply_update(a.ydoc.get_update())


@pytest.mark.parametrize("cell", [1, None], ids=["cell", "file"])
async def test_yjs_and_pycrdt_write_the_same_bytes_and_read_them_alike(cell):
    docs, texts = concurrent_texts(cell)
    whole = str(texts[0])
    assert whole.isascii() and whole == str(texts[1])
    size = len(whole)
    made = await yjs(docs[0].ydoc.get_update(), cell, ranges=[[i, i] for i in range(size + 1)])
    assert made["text"] == whole

    def ours(i: int, assoc: Assoc) -> str:
        return base64.b64encode(texts[1].sticky_index(i, assoc).encode()).decode()

    # every place, both ways of sticking: the same bytes (but for the very end with
    # assoc 0, which pycrdt 0.14 cannot make: no range starts there)
    assert [r["start"] for r in made["ranges"][:size]] == [
        ours(i, Assoc.AFTER) for i in range(size)
    ]
    assert [r["end"] for r in made["ranges"]] == [ours(i, Assoc.BEFORE) for i in range(size + 1)]

    # more edits while apart: Yjs's positions and pycrdt's are read alike by both
    mine = [ours(i, Assoc.AFTER) for i in range(0, size, 3)]
    texts[0].insert(3, "abc")
    del texts[1][size - 6 : size - 2]
    texts[1].insert(0, ">>")
    sync(docs)
    theirs = [r["start"] for r in made["ranges"][0:size:3]]
    read = await yjs(docs[1].ydoc.get_update(), cell, resolve=theirs + mine)
    by_pycrdt = [
        StickyIndex.decode(base64.b64decode(p), texts[0]).get_index() for p in theirs + mine
    ]
    assert read["resolved"] == by_pycrdt
    assert read["resolved"][: len(theirs)] == read["resolved"][len(theirs) :]


async def test_the_end_of_a_cell_as_yjs_writes_it_is_refused_not_a_crash(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        size = len(SOURCE.encode("utf-16-le")) // 2
        # Yjs writes the end of a text with assoc 0 as the text itself (its item id)
        made = await yjs(bob.doc.get_update(), 0, ranges=[[size, size], [0, size]])
        anchor = {"kind": "range", "cell_id": "cell-0", **made["ranges"][1]}
        anchor["start"] = made["ranges"][0]["start"]

        answer = await c.ask(bob, type="comment.create", anchor=anchor, body="?")

        assert answer["type"] == "error" and "outside the document" in answer["reason"]
        assert bob.connected and await c.stored() == []
