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
