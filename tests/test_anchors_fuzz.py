"""Hypothesis: a range thread through random concurrent edits by several people, cell
moves, splits, merges and deletions (as JupyterLab makes them), against a reference
model.

The text is made of unique tokens (``<17>``, some with an accent or an emoji inside:
``<18é>``), inserted and deleted whole, so the model can name every character. Between
two checks of the room's ranges, with the text the thread covered at the first check:

* the tokens of it that survive are all still covered, in one contiguous run of the
  cell's text; if its first and last tokens survive, exactly the text between them is;
* nothing that was outside it is covered (only tokens typed since may join it, where its
  first or last token was deleted and someone typed at that very place);
* when none of it survives, or its cell's text was replaced (a move, a split, a merge),
  the thread covers exactly that text wherever it is again (its cell first, else the
  nearest cell), else its quote, else it is detached.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_collab.permissions import Role
from jupyter_collab.rooms import anchors
from jupyter_collab.rooms.comments import CROSS_CELL_CHARS

from .fakes import FakeClock, Peer
from .rooms_helpers import make_notebook, running
from .test_anchors import range_on
from .test_comments_service import Class, open_class

# new tokens carry an accent or an emoji now and then: ranges are then read through the
# non-ASCII path of anchors.py; a token's edges (where positions stick) stay ASCII
TOKEN = re.compile(r"<\d+(?:é|😀)?>")
PEOPLE = 3

step = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, PEOPLE - 1), st.integers(0, 9), st.integers(0, 99)),
    st.tuples(
        st.just("delete"),
        st.integers(0, PEOPLE - 1),
        st.integers(0, 9),
        st.integers(0, 99),
        st.integers(1, 2),
    ),
    st.tuples(st.just("sync")),
    st.tuples(st.just("move"), st.integers(0, PEOPLE - 1), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("split"), st.integers(0, PEOPLE - 1), st.integers(0, 9), st.integers(0, 99)),
    st.tuples(st.just("merge"), st.integers(0, PEOPLE - 1), st.integers(0, 9)),
    st.tuples(st.just("remove"), st.integers(0, PEOPLE - 1), st.integers(0, 9)),
)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


class Fuzz:
    def __init__(self, c: Class, peers: list[Peer]) -> None:
        self.c = c
        self.peers = peers
        self.next = 100

    def new_token(self) -> str:
        self.next += 1
        return f"<{self.next}{['', 'é', '', '😀'][self.next % 4]}>"

    def next_id(self) -> int:
        self.next += 1
        return self.next

    def cells(self, peer: Peer) -> Any:
        return peer.ydoc.ycells

    def texts(self) -> list[tuple[str, str]]:
        """(cell id, text) of the room's cells."""
        assert self.c.room.cells is not None
        return [(str(cell["id"]), str(cell["source"])) for cell in self.c.room.cells.array]

    def apply(self, op: tuple[Any, ...]) -> None:
        kind, who = op[0], self.peers[op[1]] if len(op) > 1 else None
        if kind in ("insert", "delete"):
            assert who is not None
            cells = self.cells(who)
            if len(cells) == 0:
                return
            text = cells[op[2] % len(cells)]["source"]
            parts = tokens(str(text))
            at = op[3] % (len(parts) + 1)
            offset = sum(len(t.encode()) for t in parts[:at])
            if kind == "insert":
                text.insert(offset, self.new_token())
            elif parts:
                at = min(at, len(parts) - 1)
                offset = sum(len(t.encode()) for t in parts[:at])
                size = sum(len(t.encode()) for t in parts[at : at + op[4]])
                del text[offset : offset + size]

    def structural(self, op: tuple[Any, ...]) -> None:
        """A move, split, merge or cell deletion as JupyterLab makes it, by one person."""
        who = self.peers[op[1]]
        cells = self.cells(who)
        n = len(cells)
        if n == 0:
            return
        i = op[2] % n
        with who.doc.transaction():
            if op[0] == "move":
                j = op[3] % n
                copy = cells[i].to_py()
                del cells[i]
                cells.insert(j, who.ydoc.create_ycell(copy))
            elif op[0] == "split":
                source = cells[i]["source"]
                parts = tokens(str(source))
                cut = sum(len(t) for t in parts[: op[3] % (len(parts) + 1)])
                whole = str(source)
                first = {"cell_type": "code", "source": whole[:cut], "metadata": {}}
                first["id"] = f"split-{self.next_id()}"
                cells.insert(i, who.ydoc.create_ycell(first))
                # the original cell keeps the rest: @jupyter/ydoc's setSource (pycrdt
                # counts UTF-8 bytes)
                del source[0 : len(whole.encode())]
                source.insert(0, whole[cut:])
            elif op[0] == "merge" and i + 1 < n:
                joined = str(cells[i]["source"]) + str(cells[i + 1]["source"])
                merged = {"cell_type": "code", "source": joined, "metadata": {}}
                merged["id"] = f"merged-{self.next_id()}"  # JupyterLab: a new id
                del cells[i]
                cells.insert(i, who.ydoc.create_ycell(merged))
                del cells[i + 1]
            elif op[0] == "remove":
                del cells[i]


async def check(c: Class) -> dict[str, Any]:
    await c.settled()
    service = c.registry.comments
    assert service is not None
    service.check_ranges(c.room)
    await c.settled()
    (thread,) = service._threads[c.room.doc_id].values()  # noqa: SLF001
    return {"anchor": thread.anchor, "detached": thread.detached}


def covered_text(c: Class, state: dict[str, Any]) -> str | None:
    if state["detached"]:
        return None
    found = anchors.resolve(c.room, state["anchor"])
    assert found is not None, "an attached thread resolves"
    return str(found.text)[found.start : found.end]


def expect_found_again(
    texts: list[tuple[str, str]], own: str | None, needles: list[str]
) -> str | None:
    """The rule of re-anchoring: the first needle found in its own cell, or (long enough)
    in any cell; None when none is anywhere."""
    for needle in needles:
        for cell_id, text in texts:
            if needle and needle in text and (cell_id == own or len(needle) >= CROSS_CELL_CHARS):
                return needle
    return None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(step, min_size=1, max_size=14))
def test_a_range_follows_its_text_as_the_model_predicts(ops, root: Path, tmp_path: Path):
    asyncio.run(run(ops, root, tmp_path))


async def run(ops: list[tuple[Any, ...]], root: Path, tmp_path: Path) -> None:
    (root / "nb.ipynb").write_text(
        json.dumps(make_notebook("<1><2><3><4><5><6>", "<7><8><9>", "<10><11>"))
    )
    db = tmp_path / f"fuzz-{len(list(tmp_path.iterdir()))}.db"
    async with running(root, db, FakeClock()) as registry:
        c = await open_class(registry)
        peers = [c.join(f"p{i}", Role.EDITOR) for i in range(PEOPLE)]
        text = peers[0].ydoc.ycells[0]["source"]
        answer = await c.ask(
            peers[0], type="comment.create", anchor=range_on(text, 3, 12), body="?"
        )
        quote = answer["thread"]["anchor"]["quote"]
        assert quote == "<2><3><4>"
        fuzz = Fuzz(c, peers)
        state = await check(c)
        before = covered_text(c, state)
        outside_before = {t for _, txt in fuzz.texts() for t in tokens(txt)} - set(
            tokens(before or "")
        )

        for op in [*ops, ("sync",)]:
            if op[0] in ("insert", "delete"):
                fuzz.apply(op)
                continue
            replaced = op[0] != "sync"
            if replaced:
                fuzz.structural(op)
            state = await check(c)
            now = covered_text(c, state)
            texts = fuzz.texts()
            own = state["anchor"].get("cell_id")
            if before is None:
                # detached: attached again only if its text or quote came back
                assert now is None or now in (quote,)
            elif replaced:
                expected = expect_found_again(texts, own, [before, quote])
                alive = [t for t in tokens(before) if any(t in txt for _, txt in texts)]
                if expected is not None and now != expected:
                    # the cell's text was not replaced (a move of another cell): it
                    # follows by its positions, as for an edit
                    assert now is not None and all(t in now for t in alive)
                elif expected is None and alive:
                    # its text is split over cells, or grew since the last check: what
                    # is left of it where it is, never text that was outside it
                    assert now is None or not (set(tokens(now)) & outside_before)
                elif expected is None:
                    assert now is None
            else:
                old = tokens(before)
                here = [t for _, txt in texts for t in tokens(txt)]
                alive = [t for t in old if t in here]
                if not alive:
                    expected = expect_found_again(texts, own, [before, quote])
                    assert now == expected
                else:
                    assert now is not None, (before, texts)
                    got = tokens(now)
                    assert all(t in got for t in alive), (before, now, texts)
                    cell_text = next(txt for _, txt in texts if now in txt)
                    assert now in cell_text
                    assert not (set(got) & outside_before), (before, now)
                    if old[0] in here and old[-1] in here:
                        start = cell_text.index(old[0])
                        end = cell_text.index(old[-1]) + len(old[-1])
                        assert now == cell_text[start:end]
            before = now
            outside_before = {t for _, txt in texts for t in tokens(txt)} - set(
                tokens(before or "")
            )
