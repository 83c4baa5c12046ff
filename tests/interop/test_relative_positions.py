"""Interop: Yjs relative positions, as JupyterLab makes them for a comment range, are
read by the server (pycrdt) to the same place, before and after edits, in text with
accents and emoji (Yjs counts UTF-16 units, Python code points); and positions the
server makes (re-anchoring) are read by Yjs to the same place."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

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
