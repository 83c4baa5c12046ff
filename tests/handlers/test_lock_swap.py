"""Issue 8, finding 4, through a real server: an editor cannot make another cell stand in
for a locked one (a new cell, re-id'd to the locked cell's id, then the original deleted)."""

from __future__ import annotations

import json

from .test_roles import (  # noqa: F401 (fixtures)
    as_user,
    collab_config,
    jp_server_config,
)
from .test_websocket import NOTEBOOK


async def test_an_editor_cannot_swap_a_locked_cell_for_a_cell_of_their_own(
    jp_root_dir,
    as_user,  # noqa: F811
    collab,
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    owner = as_user("alice")
    session = await owner.session("a.ipynb")
    alice = await owner.client(session)
    locked_id = alice.content()["cells"][0]["id"]
    alice.send_event({"type": "lock", "cell": locked_id, "locked": True})
    await alice.wait_for(lambda: {"type": "locks", "cells": [locked_id]} in alice.events)
    await owner.grant("a.ipynb", "bob", "editor")
    bob = await as_user("bob").client(await as_user("bob").session("a.ipynb"))
    room = collab.registry.rooms[session["doc_id"]]
    before = room.content()["cells"]

    # the swap, in three updates as an attacker sends them: a new cell, re-id'd to the
    # locked cell's id, then the original deleted
    bob.ydoc.ycells.insert(0, bob.ydoc.create_ycell({"cell_type": "code", "source": "evil()"}))
    bob.ydoc.ycells[0]["id"] = locked_id
    del bob.ydoc.ycells[1]

    assert await bob.wait_closed() == 4403  # at the re-id
    assert bob.denied and "locked" in bob.denied[0]
    cells = room.content()["cells"]
    assert [c["id"] for c in cells].count(locked_id) == 1
    assert next(c for c in cells if c["id"] == locked_id) == before[0]
    assert [c["source"] for c in cells] == ["evil()", "x = 1"]  # the new cell stays itself
    await alice.wait_for(lambda: alice.content()["cells"] == cells)
