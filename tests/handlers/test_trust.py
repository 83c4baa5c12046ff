"""Trust is never collaborative (security finding 5), through a real server: a cell an
editor marks ``trusted`` reaches nobody trusted, and the notebook saved with it is not
signed. Alice owns, bob is an editor."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from jupyter_server.utils import ensure_async
from nbformat import from_dict
from pycrdt import Map
from tornado.websocket import WebSocketClientConnection

from tests.clients import YClient

from . import test_roles
from .test_websocket import NOTEBOOK as WEBSOCKET_NOTEBOOK

# a markdown cell above test_websocket's one code cell (c1, "x = 1")
NOTEBOOK = {
    **WEBSOCKET_NOTEBOOK,
    "cells": [
        {"cell_type": "markdown", "id": "m1", "source": "# Results", "metadata": {}},
        *WEBSOCKET_NOTEBOOK["cells"],
    ],
}
PAYLOAD = '<img src=x onerror="window.__pwned=1">'
FORGED = {
    "cell_type": "code",
    "id": "forged",
    "source": "display(HTML(...))",
    "metadata": {"trusted": True},
    "execution_count": 1,
    "outputs": [
        {
            "output_type": "display_data",
            "data": {"text/html": PAYLOAD, "text/plain": "<IPython.core.display.HTML object>"},
            "metadata": {},
        }
    ],
}


as_user = test_roles.as_user  # the fixture: sessions and sockets as alice or bob


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"owners": ["alice"], "default_role": "viewer"}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return test_roles.token_users(jp_server_config)


class Watcher(YClient):
    """A client that checks its document after every update it applies, the way a
    browser builds a cell's model from the state right after one update."""

    def __init__(self) -> None:
        super().__init__()
        self.updates = 0
        self.saw_trust = False

    def _handle(self, ws: WebSocketClientConnection, data: bytes) -> None:
        super()._handle(ws, data)
        self.updates += 1
        self.saw_trust = self.saw_trust or has_trust(self)


def has_trust(client: YClient) -> bool:
    return any("trusted" in (cell.get("metadata") or {}) for cell in client.content()["cells"])


def cell_ids(client: YClient) -> list[str]:
    return [cell["id"] for cell in client.content()["cells"]]


async def owner_and_editor(jp_root_dir, as_user) -> tuple[dict[str, Any], Watcher, YClient]:
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    await as_user("alice").grant("a.ipynb", "bob", "editor")
    session = await as_user("alice").session("a.ipynb")
    alice = Watcher()
    await as_user("alice").reconnect(alice, session)
    bob = await as_user("bob").client(session)
    return session, alice, bob


def forge(client: YClient) -> None:
    with client.doc.transaction():
        client.ydoc.ycells.append(client.ydoc.create_ycell(dict(FORGED)))


async def test_an_editors_forged_trusted_cell_reaches_the_owner_untrusted(
    jp_root_dir, as_user, collab
):
    session, alice, bob = await owner_and_editor(jp_root_dir, as_user)
    room = collab.registry.rooms[session["doc_id"]]

    forge(bob)
    await alice.wait_for(lambda: "forged" in cell_ids(alice), what="the forged cell")

    assert not alice.saw_trust  # not even for one update: the removal came with the cell
    assert alice.content()["cells"][-1]["outputs"][0]["data"]["text/html"] == PAYLOAD
    assert not has_trust(YClient(doc=room.doc))
    await bob.wait_for(lambda: not has_trust(bob), what="the removal at the sender")


async def test_a_notebook_saved_with_a_forged_trusted_cell_is_not_signed(
    jp_root_dir, as_user, collab, jp_serverapp
):
    session, alice, bob = await owner_and_editor(jp_root_dir, as_user)
    room = collab.registry.rooms[session["doc_id"]]

    forge(bob)
    await alice.wait_for(lambda: "forged" in cell_ids(alice), what="the forged cell")
    await room.save(force=True)

    on_disk = json.loads((jp_root_dir / "a.ipynb").read_text())
    assert [c["id"] for c in on_disk["cells"]] == ["m1", "c1", "forged"]
    cm = jp_serverapp.contents_manager
    assert not cm.notary.check_signature(from_dict(on_disk))
    model = await ensure_async(cm.get("a.ipynb"))
    assert model["content"]["cells"][-1]["metadata"]["trusted"] is False


async def test_running_a_cell_marks_it_trusted_in_that_browser_only(jp_root_dir, as_user, collab):
    # JupyterLab writes metadata.trusted when its user runs or trusts a cell: accepted,
    # never refused, and taken out before anyone else sees it
    session, alice, bob = await owner_and_editor(jp_root_dir, as_user)
    bob_watch = Watcher()
    await as_user("bob").reconnect(bob_watch, session)

    metadata = alice.ydoc.ycells[1]["metadata"]
    assert isinstance(metadata, Map)
    metadata["trusted"] = True
    source = alice.ydoc.ycells[1]["source"]
    source.insert(len(str(source)), "\nprint(x)")
    await bob_watch.wait_for(
        lambda: bob_watch.sources()[1].endswith("print(x)"), what="alice's edit"
    )
    await alice.wait_for(lambda: not has_trust(alice), what="the removal at the sender")

    assert not bob_watch.saw_trust
    assert alice.ws is not None and alice.close_code is None
    assert not alice.denied


async def test_an_owners_signed_notebook_opens_untrusted_and_saves(
    jp_root_dir, as_user, collab, jp_serverapp
):
    signed = json.loads(json.dumps(NOTEBOOK))
    signed["cells"][1]["outputs"] = FORGED["outputs"]
    cm = jp_serverapp.contents_manager
    cm.notary.sign(from_dict(signed))
    (jp_root_dir / "a.ipynb").write_text(json.dumps(signed))
    session = await as_user("alice").session("a.ipynb")
    alice = await as_user("alice").client(session)
    room = collab.registry.rooms[session["doc_id"]]

    assert not has_trust(alice)  # each browser decides again, in JupyterLab's own dialog
    alice.ydoc.ycells[0]["source"].insert(0, "(v2) ")
    await alice.wait_for(lambda: "(v2)" in room.content()["cells"][0]["source"], what="the edit")
    await asyncio.wait_for(room.save(force=True), 10)

    assert room.save_error is None
    assert "(v2)" in (jp_root_dir / "a.ipynb").read_text()
