"""The rooms follow what happens to files through Jupyter and on disk."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.clients import YClient


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"disk_poll_interval_seconds": 0.1}


async def joined(jp_ws_fetch, session, kind="file") -> YClient:
    client = YClient(kind)
    await client.connect(jp_ws_fetch, session)
    await client.wait_synced()
    return client


async def test_a_rename_through_jupyter_keeps_the_doc_id_and_the_room(
    jp_root_dir, jp_fetch, jp_ws_fetch, open_session, collab
):
    (jp_root_dir / "old.py").write_text("a = 1\n")
    session = await open_session("old.py", "file")
    alice = await joined(jp_ws_fetch, session)

    await jp_fetch("api", "contents", "old.py", method="PATCH", body=json.dumps({"path": "new.py"}))
    await alice.wait_for(
        lambda: collab.registry.rooms[session["doc_id"]].path == "new.py", what="the room to follow"
    )
    alice.ydoc.ydoc["source"].insert(0, "# renamed\n")
    alice.send_event({"type": "save", "id": 1})
    await alice.wait_for(
        lambda: any(e.get("id") == 1 and e["type"] == "saved" for e in alice.events), what="saved"
    )

    assert (jp_root_dir / "new.py").read_text() == "# renamed\na = 1\n"
    assert not (jp_root_dir / "old.py").exists()
    again = await open_session("new.py", "file")
    assert (again["doc_id"], again["epoch"]) == (session["doc_id"], session["epoch"])


async def test_a_folder_rename_moves_the_documents_inside(jp_root_dir, jp_fetch, open_session):
    (jp_root_dir / "dir").mkdir()
    (jp_root_dir / "dir" / "n.py").write_text("")
    session = await open_session("dir/n.py", "file")

    await jp_fetch("api", "contents", "dir", method="PATCH", body=json.dumps({"path": "moved"}))

    again = await open_session("moved/n.py", "file")
    assert again["doc_id"] == session["doc_id"]


async def test_deleting_the_file_closes_its_room_with_4410(
    jp_root_dir, jp_fetch, jp_ws_fetch, open_session
):
    (jp_root_dir / "gone.py").write_text("x")
    session = await open_session("gone.py", "file")
    alice = await joined(jp_ws_fetch, session)

    await jp_fetch("api", "contents", "gone.py", method="DELETE")

    assert await alice.wait_closed() == 4410
    assert not (jp_root_dir / "gone.py").exists()


async def test_a_change_by_another_program_reaches_connected_clients(
    jp_root_dir, jp_ws_fetch, open_session
):
    (jp_root_dir / "t.py").write_text("one\n")
    session = await open_session("t.py", "file")
    alice = await joined(jp_ws_fetch, session)

    (jp_root_dir / "t.py").write_text("one\ntwo\n")

    await alice.wait_for(lambda: alice.text() == "one\ntwo\n", what="the outside change")


async def test_the_same_file_as_notebook_and_as_text_is_refused_while_open(
    jp_root_dir, jp_ws_fetch, open_session
):
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (jp_root_dir / "n.ipynb").write_text(json.dumps(nb))
    session = await open_session("n.ipynb", "notebook")
    await joined(jp_ws_fetch, session, "notebook")

    with pytest.raises(HTTPClientError) as err:
        await open_session("n.ipynb", "file")

    assert err.value.code == 409
    assert b"open as a notebook" in err.value.response.body
