from __future__ import annotations

import json

from tests.clients import YClient


async def test_two_clients_share_a_notebook(jp_root_dir, jp_ws_fetch, open_session):
    nb = {"cells": [{"cell_type": "code", "id": "c1", "source": "x = 1", "metadata": {}, "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (jp_root_dir / "a.ipynb").write_text(json.dumps(nb))
    session = await open_session("a.ipynb")
    alice, bob = YClient(), YClient()
    await alice.connect(jp_ws_fetch, session)
    await bob.connect(jp_ws_fetch, session)
    await alice.wait_synced()
    await bob.wait_synced()
    assert alice.sources() == ["x = 1"]
    src = alice.ydoc.ycells[0]["source"]
    src.insert(5, "0")
    await bob.wait_for(lambda: bob.sources() == ["x = 10"])


async def test_an_evicted_room_reopens_without_duplicating_a_returning_client(jp_root_dir, jp_ws_fetch, open_session, collab):
    nb = {"cells": [{"cell_type": "code", "id": "c0", "source": "x", "metadata": {}, "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (jp_root_dir / "n.ipynb").write_text(json.dumps(nb))
    session = await open_session("n.ipynb")
    alice, bob = YClient(), YClient()
    await alice.connect(jp_ws_fetch, session)
    await bob.connect(jp_ws_fetch, session)
    await alice.wait_synced()
    await bob.wait_synced()
    alice.ydoc.ycells[0]["source"].insert(1, "y")
    await bob.wait_for(lambda: bob.sources() == ["xy"])
    await alice.disconnect()
    await bob.disconnect()
    await collab.registry.rooms[session["doc_id"]].save()
    alice.ydoc.ycells[0]["source"].insert(2, "z")  # offline edit
    collab.registry.idle_timeout_seconds = 0.0

    assert await collab.registry.evict_idle() == [session["doc_id"]]

    await alice.connect(jp_ws_fetch, session)
    await alice.wait_synced()
    carol = YClient()
    await carol.connect(jp_ws_fetch, session)
    await carol.wait_synced()
    await carol.wait_for(lambda: carol.sources() == ["xyz"])
    assert [c["id"] for c in carol.content()["cells"]] == ["c0"]
    assert alice.content() == carol.content()
