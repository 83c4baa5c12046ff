"""``api/collab/presence`` on a real server: a snapshot, then only what changed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.clients import YClient

from .test_websocket import NOTEBOOK


async def next_message(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.read_message(), timeout)
    assert isinstance(raw, str), f"expected a JSON text frame, got {raw!r}"
    return dict(json.loads(raw))


async def test_the_feed_sends_a_snapshot_then_cell_moves(jp_root_dir, jp_ws_fetch, open_session):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await open_session("a.ipynb")
    alice = YClient()
    await alice.connect(jp_ws_fetch, session)
    await alice.wait_synced()
    feed = await jp_ws_fetch("api", "collab", "presence")

    snapshot = await next_message(feed)
    assert snapshot["type"] == "snapshot"
    (entry,) = snapshot["people"]
    assert (entry["path"], entry["cell"], entry["idle"]) == ("a.ipynb", None, False)
    assert entry["user"]["username"] and entry["client_id"] is None  # no awareness yet

    alice.set_awareness({"cell": "c1"})
    update = await next_message(feed)
    assert update["type"] == "update" and update["gone"] == []
    assert [(e["cell"], e["cell_index"]) for e in update["set"]] == [("c1", 0)]

    await alice.disconnect()
    update = await next_message(feed)
    assert update == {"type": "update", "set": [], "gone": [entry["id"]]}
    feed.close()


async def test_a_message_to_the_feed_closes_only_that_feed(
    jp_root_dir, jp_ws_fetch, open_session, collab
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await open_session("a.ipynb")
    alice = YClient()
    await alice.connect(jp_ws_fetch, session)
    await alice.wait_synced()
    noisy = await jp_ws_fetch("api", "collab", "presence")
    quiet = await jp_ws_fetch("api", "collab", "presence")
    await next_message(noisy)
    await next_message(quiet)

    noisy.write_message("hello")
    assert await asyncio.wait_for(noisy.read_message(), 10) is None
    assert noisy.close_code == 4400 and "takes no messages" in (noisy.close_reason or "")

    alice.set_awareness({"cell": "c1"})
    update = await next_message(quiet)
    assert [e["cell"] for e in update["set"]] == ["c1"]
    alice.ydoc.ycells[0]["source"].insert(5, "0")
    room = collab.registry.rooms[session["doc_id"]]
    await alice.wait_for(lambda: room.content()["cells"][0]["source"] == "x = 10")
    quiet.close()
    await alice.disconnect()
