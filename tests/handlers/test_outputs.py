"""Issue 9, through a real server: outputs change only through a run by someone allowed
to run code. An editor the owner did not allow to run code (the default) cannot clear a
cell's outputs or execution count, even with a hand-made update."""

from __future__ import annotations

import json

from .test_roles import (  # noqa: F401 (fixtures)
    as_user,
    collab_config,
    jp_server_config,
)
from .test_websocket import NOTEBOOK


async def test_an_editor_who_may_not_run_code_cannot_clear_outputs(
    jp_root_dir,
    as_user,  # noqa: F811
    collab,
):
    notebook = json.loads(json.dumps(NOTEBOOK))
    notebook["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    notebook["cells"][0]["execution_count"] = 1
    (jp_root_dir / "a.ipynb").write_text(json.dumps(notebook))
    owner = as_user("alice")
    await owner.grant("a.ipynb", "bob", "editor")
    session = await as_user("bob").session("a.ipynb")
    assert session["can_execute"] is False
    bob = await as_user("bob").client(session)
    room = collab.registry.rooms[session["doc_id"]]
    before = room.content()["cells"]

    bob.ydoc.ycells[0]["outputs"].clear()
    bob.ydoc.ycells[0]["execution_count"] = None

    assert await bob.wait_closed() == 4403
    assert bob.denied and "only people who may run code" in bob.denied[0]
    assert room.content()["cells"] == before
