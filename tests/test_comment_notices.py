"""Notices: someone who is mentioned, or whose thread gets a reply, hears of it in every
JupyterLab window they have open on the server (the presence feed), not only in the
document. Never their own actions, never a thread they may not see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_collab.permissions import Role

from .rooms_helpers import make_notebook, running
from .test_comments_service import CELL0, open_class


@pytest.fixture
def root(root: Path) -> Path:
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("print(1)")))
    return root


def windows(registry: Any, *usernames: str) -> dict[str, list[dict[str, Any]]]:
    """Each person's feed, as a JupyterLab window of theirs receives it: the notices."""
    heard: dict[str, list[dict[str, Any]]] = {}
    for username in usernames:
        inbox = heard.setdefault(username, [])
        registry.presence.subscribe(
            lambda m, inbox=inbox: inbox.append(m) if m["type"] == "notice" else None,
            None,
            username=username,
        )
    return heard


def only_owner_alice(registry: Any) -> None:
    """alice owns the server; everyone else comments (the default of a hub with sharing)."""
    access = registry.comments.access
    access.owners, access.default_role = frozenset({"alice"}), Role.COMMENTER


async def test_mentions_and_replies_reach_the_people_concerned(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        c = await open_class(registry)
        alice, bob = c.join("alice", Role.OWNER), c.join("bob", Role.COMMENTER)
        heard = windows(registry, "alice", "bob", "carol", "dan")

        created = await c.ask(
            bob, type="comment.create", anchor=CELL0, body="@alice why?", mentions=["alice"]
        )
        tid = created["thread"]["id"]
        assert [(n["kind"], n["by"], n["path"], n["thread"]) for n in heard["alice"]] == [
            ("mention", "bob", "nb.ipynb", tid)
        ]
        assert heard["alice"][0]["excerpt"] == "@alice why?"
        assert heard["bob"] == [] and heard["carol"] == []

        await c.ask(alice, type="comment.reply", thread=tid, body="ask @carol", mentions=["carol"])
        assert [n["kind"] for n in heard["bob"]] == ["reply"]
        assert [n["kind"] for n in heard["carol"]] == ["mention"]  # once, not also "reply"
        assert len(heard["alice"]) == 1  # nothing for her own reply

        reply = (await c.ask(bob, type="comment.reply", thread=tid, body="thanks"))["thread"]
        assert [n["kind"] for n in heard["alice"]] == ["mention", "reply"]
        assert [n["kind"] for n in heard["carol"]] == ["mention"]  # carol never wrote in it

        last = reply["messages"][-1]["id"]
        await c.ask(
            bob, type="comment.edit", thread=tid, message=last, body="thanks @dan", mentions=["dan"]
        )
        assert [n["kind"] for n in heard["dan"]] == ["mention"]
        assert [n["kind"] for n in heard["alice"]] == ["mention", "reply"]  # no news for her


async def test_no_notice_about_a_thread_one_may_not_see(root, tmp_path, clock):
    async with running(root, tmp_path / "h.db", clock) as registry:
        only_owner_alice(registry)
        c = await open_class(registry)
        bob = c.join("bob", Role.COMMENTER)
        heard = windows(registry, "alice", "carol")

        await c.ask(
            bob,
            type="comment.create",
            anchor=CELL0,
            body="@carol @alice between us",
            mentions=["carol", "alice"],
            private=True,
        )

        assert [n["kind"] for n in heard["alice"]] == ["mention"]  # an owner sees it
        assert heard["carol"] == []  # a private thread is its author's and the owners'
