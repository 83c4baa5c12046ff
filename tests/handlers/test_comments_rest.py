"""Comments over REST on a real server (token login, three people): the same rules as
on the room socket, and a change made over REST reaches the people in the document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from .test_rest_roles import grant  # noqa: F401 (a fixture: alice grants a role)
from .test_roles import as_user, auth, token_users  # noqa: F401 (a fixture)
from .test_websocket import NOTEBOOK

CELL = {"kind": "cell", "cell_id": "c1"}


@pytest.fixture
def collab_config() -> dict[str, Any]:
    # alice owns the server; bob and carol hold only what alice grants them
    return {"owners": ["alice"], "default_role": None}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)


@pytest.fixture
def comments(jp_fetch: Any) -> Any:
    async def call(user: str, path: str, request: dict[str, Any] | None = None) -> Any:
        if request is None:
            response = await jp_fetch("api", "collab", "comments", path, headers=auth(user))
        else:
            response = await jp_fetch(
                "api",
                "collab",
                "comments",
                path,
                method="POST",
                body=json.dumps(request),
                headers=auth(user),
            )
        return json.loads(response.body)

    return call


async def status_of(call: Any) -> int:
    with pytest.raises(HTTPClientError) as err:
        await call
    return err.value.code


async def test_a_commenter_posts_and_a_viewer_reads(
    jp_root_dir,
    grant,  # noqa: F811 (the fixture imported above)
    comments,
    collab,
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    await grant("a.ipynb", "bob", "commenter")
    await grant("a.ipynb", "carol", "viewer")
    assert (await comments("carol", "a.ipynb"))["threads"] == []

    posted = await comments(
        "bob", "a.ipynb", {"type": "comment.create", "anchor": CELL, "body": "ok?"}
    )

    thread = posted["thread"]
    assert thread["author"] == "bob" and [m["body"] for m in thread["messages"]] == ["ok?"]
    listed = await comments("carol", "a.ipynb")
    assert listed == {"path": "a.ipynb", "threads": [thread]}
    # the room closes and the list comes from the store
    await collab.registry.close_all()
    assert (await comments("alice", "a.ipynb"))["threads"] == [thread]
    assert "ok?" not in (jp_root_dir / "a.ipynb").read_text()


async def test_rest_refuses_what_the_role_does_not_allow_and_stores_nothing(
    jp_root_dir,
    grant,  # noqa: F811 (the fixture imported above)
    comments,
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    await grant("a.ipynb", "carol", "viewer")
    create = {"type": "comment.create", "anchor": CELL, "body": "hi"}

    assert await status_of(comments("carol", "a.ipynb", create)) == 403
    assert await status_of(comments("bob", "a.ipynb")) == 403  # no role at all
    assert await status_of(comments("bob", "a.ipynb", create)) == 403
    assert await status_of(comments("alice", "../a.ipynb")) in (403, 404)
    bad = {"type": "comment.create", "anchor": {"kind": "cell", "cell_id": "zz"}, "body": "hi"}
    assert await status_of(comments("alice", "a.ipynb", bad)) == 400
    assert await status_of(comments("alice", "a.ipynb", {"type": "comment.fly"})) == 400
    assert (await comments("alice", "a.ipynb"))["threads"] == []


async def test_a_private_thread_is_listed_only_for_its_author_and_owners(
    jp_root_dir,
    grant,  # noqa: F811 (the fixture imported above)
    comments,
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    await grant("a.ipynb", "bob", "commenter")
    await grant("a.ipynb", "carol", "commenter")
    private = {"type": "comment.create", "anchor": CELL, "body": "for alice", "private": True}

    thread = (await comments("bob", "a.ipynb", private))["thread"]

    assert [t["id"] for t in (await comments("alice", "a.ipynb"))["threads"]] == [thread["id"]]
    assert [t["id"] for t in (await comments("bob", "a.ipynb"))["threads"]] == [thread["id"]]
    assert (await comments("carol", "a.ipynb"))["threads"] == []
    reply = {"type": "comment.reply", "thread": thread["id"], "body": "let me see"}
    assert await status_of(comments("carol", "a.ipynb", reply)) == 400


async def test_a_comment_posted_over_rest_reaches_the_people_in_the_document(
    jp_root_dir,
    grant,  # noqa: F811 (the fixture imported above)
    comments,
    as_user,  # noqa: F811 (the fixture imported above)
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    await grant("a.ipynb", "carol", "viewer")
    carol = await as_user("carol").client(await as_user("carol").session("a.ipynb"))

    thread = (
        await comments("alice", "a.ipynb", {"type": "comment.create", "anchor": CELL, "body": "x"})
    )["thread"]

    await carol.wait_for(lambda: any(e.get("type") == "comment" for e in carol.events))
    event = next(e for e in carol.events if e.get("type") == "comment")
    assert event == {"type": "comment", "id": None, "thread": thread}
