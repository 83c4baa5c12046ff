"""What one thread may hold: past the limit a reply is refused with a reason, and the
thread and the connection stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_collab.permissions import Role
from jupyter_collab.rooms.comments import CommentLimits

from .rooms_helpers import make_notebook, running
from .test_comments_service import CELL0, bodies, open_class, seen


@pytest.fixture
def root(root: Path) -> Path:
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("print(1)")))
    return root


async def test_a_thread_holds_at_most_the_configured_number_of_messages(root, tmp_path, clock):
    limits = CommentLimits(max_messages=3)
    async with running(root, tmp_path / "h.db", clock, comment_limits=limits) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)
        tid = (await c.ask(bob, type="comment.create", anchor=CELL0, body="1"))["thread"]["id"]
        await c.ask(alice, type="comment.reply", thread=tid, body="2")
        await c.ask(bob, type="comment.reply", thread=tid, body="3")

        refused = await c.ask(alice, type="comment.reply", thread=tid, body="4")

        assert refused["type"] == "error" and "start a new thread" in refused["reason"]
        assert alice.connected and bodies(seen(bob)[tid]) == ["1", "2", "3"]
        assert [len(t.messages) for t in await c.stored()] == [3]
