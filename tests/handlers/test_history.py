"""Versions on a real server (issue 13): alice owns the server, bob edits, carol only
reads. Versions are listed, previewed, compared and restored through REST, and a
restore reaches everyone live as the restorer's change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.clients import YClient

from . import test_roles
from .test_activity import NOTEBOOK  # x = 0 and x = 1, ids c1 and c2
from .test_roles import auth, token_users

as_user = test_roles.as_user  # the fixture: sessions and sockets as alice, bob or carol


def settings(**changes: Any) -> dict[str, Any]:
    """alice owns the server, everyone else reads unless given a role; plus ``changes``."""
    return {"owners": ["alice"], "default_role": "viewer", **changes}


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return settings()


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)


@pytest.fixture
def history(jp_fetch):
    """``await history(user, path, **query)`` GETs, ``history(user, path, body=...)`` POSTs."""

    async def call(user: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        response = await jp_fetch(
            "api",
            "collab",
            "history",
            path,
            method="GET" if body is None else "POST",
            body=None if body is None else json.dumps(body),
            params={k: str(v) for k, v in query.items()},
            headers=auth(user),
        )
        return json.loads(response.body)

    return call


async def status_of(call: Any) -> int:
    with pytest.raises(HTTPClientError) as refused:
        await call
    return refused.value.code


async def open_lesson(jp_root_dir: Any, as_user: Any) -> dict[str, Any]:
    (jp_root_dir / "lesson.ipynb").write_text(json.dumps(NOTEBOOK))
    await as_user("alice").grant("lesson.ipynb", "bob", "editor")
    return await as_user("alice").session("lesson.ipynb")


async def type_in(client: YClient, cell: int, text: str, seen_by: YClient) -> None:
    source = client.ydoc.ycells[cell]["source"]
    source.insert(len(str(source)), text)
    want = str(source)
    await seen_by.wait_for(lambda: str(seen_by.ydoc.ycells[cell]["source"]) == want)


async def test_versions_list_with_authors_and_preview_for_every_reader(
    jp_root_dir, as_user, history
):
    session = await open_lesson(jp_root_dir, as_user)
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)
    await type_in(bob, 0, "0  # bob", seen_by=alice)

    named = await history("bob", "lesson.ipynb", body={"type": "version.name", "name": "tried"})
    assert named["version"]["name"] == "tried" and named["version"]["by"] == "bob"
    await alice.wait_for(lambda: any(e["type"] == "version" for e in alice.events))

    listed = await history("carol", "lesson.ipynb")  # a viewer lists and previews
    first, second = listed["versions"]
    assert first["kind"] == "auto" and first["summary"]["added"] == 2  # as first opened
    assert second["authors"] == ["bob"] and second["summary"]["changed"] == 1
    assert listed["size"]["bytes"] > 0
    old = await history("carol", "lesson.ipynb", version=first["id"])
    assert [c["source"] for c in old["content"]["cells"]] == ["x = 0", "x = 1"]
    new = await history("carol", "lesson.ipynb", version=second["id"])
    assert new["content"]["cells"][0]["source"] == "x = 00  # bob"

    # a viewer may not name or restore; a stranger to the file sees nothing
    assert (
        await status_of(
            history("carol", "lesson.ipynb", body={"type": "version.name", "name": "mine"})
        )
        == 403
    )
    restore = {"type": "version.restore", "version": first["id"]}
    assert await status_of(history("carol", "lesson.ipynb", body=restore)) == 403
    assert len((await history("alice", "lesson.ipynb"))["versions"]) == 2  # nothing made
    await alice.disconnect()
    await bob.disconnect()


async def test_a_restore_reaches_everyone_as_the_restorers_change_and_can_be_undone(
    jp_root_dir, as_user, history, collab
):
    session = await open_lesson(jp_root_dir, as_user)
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)
    first = (await history("bob", "lesson.ipynb"))["versions"][0]
    await type_in(bob, 1, "\ny = 2", seen_by=alice)
    with bob.ydoc.ydoc.transaction():
        del bob.ydoc.ycells[0]
    await alice.wait_for(lambda: len(alice.ydoc.ycells) == 1)

    restored = await history(
        "bob", "lesson.ipynb", body={"type": "version.restore", "version": first["id"]}
    )
    assert restored["version"]["kind"] == "restore" and restored["version"]["by"] == "bob"
    await alice.wait_for(lambda: alice.sources() == ["x = 0", "x = 1"], what="the restore")
    rows = await collab.store.history.update_rows(session["doc_id"])
    assert rows[-1]["author"] == "bob" and rows[-1]["origin"] == "restore"

    # the state before the restore is a version: restoring it undoes the restore
    versions = (await history("alice", "lesson.ipynb"))["versions"]
    before = versions[-2]
    assert before["kind"] == "auto" and before["authors"] == ["bob"]
    await history(
        "alice", "lesson.ipynb", body={"type": "version.restore", "version": before["id"]}
    )
    await bob.wait_for(lambda: bob.sources() == ["x = 1\ny = 2"], what="the undo")
    await alice.disconnect()
    await bob.disconnect()


async def test_restoring_one_cell_merges_with_someone_typing_in_another(
    jp_root_dir, as_user, history
):
    session = await open_lesson(jp_root_dir, as_user)
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)
    first = (await history("bob", "lesson.ipynb"))["versions"][0]
    await type_in(bob, 0, " + 41", seen_by=alice)

    # alice types in c2 while bob's restore of c1 is on its way
    alice.ydoc.ycells[1]["source"].insert(5, "0")
    restore = {"type": "version.restore", "version": first["id"], "cell": "c1"}
    await history("bob", "lesson.ipynb", body=restore)
    alice.ydoc.ycells[1]["source"].insert(6, "0")
    want = ["x = 0", "x = 100"]
    await alice.wait_for(lambda: alice.sources() == want, what="both changes")
    await bob.wait_for(lambda: bob.sources() == want, what="both changes")

    assert await status_of(history("bob", "lesson.ipynb", body={**restore, "cell": "nope"})) == 404
    await alice.disconnect()
    await bob.disconnect()


async def test_a_diff_shows_cells_added_and_changed_the_way_nbdime_does(
    jp_root_dir, as_user, history
):
    session = await open_lesson(jp_root_dir, as_user)
    bob = await as_user("bob").client(session)
    first = (await history("bob", "lesson.ipynb"))["versions"][0]
    alice = await as_user("alice").client(session)
    await type_in(bob, 0, "0", seen_by=alice)

    diff = await history("carol", "lesson.ipynb", **{"from": first["id"], "to": "current"})
    (cells,) = [d for d in diff["diff"] if d["key"] == "cells"]
    (patch,) = cells["diff"]
    assert patch["op"] == "patch" and patch["key"] == 0  # the first cell changed
    (source,) = [d for d in patch["diff"] if d["key"] == "source"]
    assert source["op"] == "patch"
    assert diff["base"]["cells"][0]["source"] == "x = 0"
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize("collab_config", [settings(version_pause_seconds=0.2)])
async def test_a_pause_after_typing_makes_a_version_everyone_hears_of(
    jp_root_dir, as_user, history
):
    session = await open_lesson(jp_root_dir, as_user)
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)
    await type_in(bob, 0, "0", seen_by=alice)

    await alice.wait_for(
        lambda: any(e["type"] == "version" for e in alice.events), what="an automatic version"
    )
    (event,) = [e for e in alice.events if e["type"] == "version"]
    assert event["version"]["kind"] == "auto" and event["version"]["authors"] == ["bob"]
    assert event["version"]["summary"] == {"added": 0, "removed": 0, "changed": 1, "moved": 0}
    await alice.disconnect()
    await bob.disconnect()


async def test_bad_requests_are_answered_and_change_nothing(jp_root_dir, as_user, history):
    session = await open_lesson(jp_root_dir, as_user)
    bob = await as_user("bob").client(session)
    (jp_root_dir / "notes.txt").write_text("hello\n")
    await as_user("alice").grant("notes.txt", "bob", "editor")
    await as_user("bob").session("notes.txt", kind="file")

    assert await status_of(history("bob", "lesson.ipynb", version="x")) == 400
    assert await status_of(history("bob", "lesson.ipynb", version=999)) == 404
    assert await status_of(history("bob", "lesson.ipynb", body={"type": "drop"})) == 400
    bad = {"type": "version.restore", "version": "1"}
    assert await status_of(history("bob", "lesson.ipynb", body=bad)) == 400
    name = {"type": "version.name", "name": "x" * 201}
    assert await status_of(history("bob", "lesson.ipynb", body=name)) == 400
    text_version = (await history("bob", "notes.txt"))["versions"][0]
    cell = {"type": "version.restore", "version": text_version["id"], "cell": "c1"}
    assert await status_of(history("bob", "notes.txt", body=cell)) == 400
    assert await status_of(history("bob", "../outside.ipynb")) in (403, 404)
    assert len((await history("bob", "lesson.ipynb"))["versions"]) == 1
    assert bob.sources() == ["x = 0", "x = 1"]
    await bob.disconnect()


async def test_a_diff_reads_outputs_as_a_file_holds_them(jp_root_dir, as_user, history):
    """Multi-line outputs are lists of lines on disk; nbdime compares joined strings."""
    notebook = json.loads(json.dumps(NOTEBOOK))
    notebook["cells"][0]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]},
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "metadata": {},
            "data": {"text/plain": ["1\n", "2"], "text/html": ["<b>1</b>\n", "2"]},
        },
    ]
    (jp_root_dir / "lesson.ipynb").write_text(json.dumps(notebook))
    await as_user("alice").grant("lesson.ipynb", "bob", "editor")
    session = await as_user("alice").session("lesson.ipynb")
    bob = await as_user("bob").client(session)
    alice = await as_user("alice").client(session)
    first = (await history("bob", "lesson.ipynb"))["versions"][0]
    await type_in(bob, 1, "0", seen_by=alice)  # through the server: it has it too

    diff = await history("carol", "lesson.ipynb", **{"from": first["id"], "to": "current"})
    (cells,) = [d for d in diff["diff"] if d["key"] == "cells"]
    assert [(p["op"], p["key"]) for p in cells["diff"]] == [("patch", 1)]  # outputs alike
    assert diff["base"]["cells"][0]["outputs"][0]["text"] == "a\nb\n"
    await alice.disconnect()
    await bob.disconnect()


async def test_a_guest_with_a_viewer_link_previews_but_cannot_restore_or_look_elsewhere(
    jp_root_dir, jp_fetch, jp_ws_fetch, as_user, history
):
    from .test_share_links import Guest, create_link

    session = await open_lesson(jp_root_dir, as_user)
    (jp_root_dir / "other.ipynb").write_text(json.dumps(NOTEBOOK))
    await as_user("alice").session("other.ipynb")
    first = (await history("alice", "lesson.ipynb"))["versions"][0]
    link = await create_link(jp_fetch, "lesson.ipynb", "viewer", expires_in_seconds=3600)
    guest = Guest(jp_fetch, jp_ws_fetch)
    await guest.join(link["url"], "Zoe")

    listed = json.loads((await guest.call("GET", "api", "collab", "history", "lesson.ipynb")).body)
    assert [v["id"] for v in listed["versions"]] == [first["id"]]
    restore = {"type": "version.restore", "version": first["id"]}
    assert await guest.code("POST", "api", "collab", "history", "lesson.ipynb", body=restore) == 403
    name = {"type": "version.name", "name": "mine"}
    assert await guest.code("POST", "api", "collab", "history", "lesson.ipynb", body=name) == 403
    assert await guest.code("GET", "api", "collab", "history", "other.ipynb") == 403
    assert await guest.code("GET", "api", "collab", "history", "lesson.ipynb/../other.ipynb") == 403
    assert len((await history("alice", "lesson.ipynb"))["versions"]) == 1
    assert session["doc_id"]
