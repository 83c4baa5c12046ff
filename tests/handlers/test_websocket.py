from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_collab.protocol import decode_message, encode_sync_update, encode_var_uint
from tests.clients import YClient

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "id": "c1",
            "source": "x = 1",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"max_message_bytes": 4096, "handshake_timeout_seconds": 0.5}


async def pair(jp_root_dir, jp_ws_fetch, open_session):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await open_session("a.ipynb")
    alice, bob = YClient(), YClient()
    for c in (alice, bob):
        await c.connect(jp_ws_fetch, session)
        await c.wait_synced()
    return session, alice, bob


async def room_carries_on(collab, session, bob: YClient, before_rows: int) -> None:
    """The room, the other client and the stored history are untouched and still work."""
    room = collab.registry.rooms[session["doc_id"]]
    assert room.content()["cells"][0]["source"] == "x = 1"
    assert collab.store.history.last_seq(session["doc_id"]) == before_rows
    bob.ydoc.ycells[0]["source"].insert(5, "0")
    await bob.wait_for(
        lambda: room.content()["cells"][0]["source"] == "x = 10",
        what="the room to apply bob's edit",
    )
    assert collab.store.history.last_seq(session["doc_id"]) == before_rows + 1


BAD_INPUTS = {
    "malformed bytes": (b"\x00\x02\xff\xff\xff", 4400),
    "truncated varint": (b"\x00\x80", 4400),
    "update rejected by pycrdt": (encode_sync_update(b"\x05\xff\xff\xff\x01"), 4400),
    "unknown message type": (encode_var_uint(42) + b"\x00", 4400),
    "oversized message": (encode_sync_update(b"\x00" * 5000), 4413),
    "text frame": ("hello", 4400),
    "auth message from a client": (b"\x02\x00\x02no", 4400),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
async def test_bad_input_closes_only_that_connection(
    case, jp_root_dir, jp_ws_fetch, open_session, collab
):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    seq = collab.store.history.last_seq(session["doc_id"])
    data, code = BAD_INPUTS[case]

    alice.send_raw(data)

    assert await alice.wait_closed() == code
    assert alice.close_reason
    await room_carries_on(collab, session, bob, seq)


async def test_a_socket_that_never_sends_sync_step1_is_closed_with_4408(
    jp_root_dir, jp_ws_fetch, open_session, collab
):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    seq = collab.store.history.last_seq(session["doc_id"])
    ws = await jp_ws_fetch(*session["room"].split("/"), params={"epoch": session["epoch"]})
    messages = []
    while True:  # the server's step 1, then the close after the handshake timeout
        message = await ws.read_message()
        if message is None:
            break
        messages.append(message)

    assert ws.close_code == 4408
    assert messages and decode_message(messages[0])
    await room_carries_on(collab, session, bob, seq)


async def test_a_wrong_epoch_is_closed_with_4409_and_a_reload_event(
    jp_root_dir, jp_ws_fetch, open_session, collab
):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    seq = collab.store.history.last_seq(session["doc_id"])
    stale = YClient()
    stale.ydoc.append_cell({"cell_type": "code", "source": "stale", "metadata": {}, "outputs": []})

    await stale.connect(jp_ws_fetch, session, epoch="ffffffffffffffff")

    assert await stale.wait_closed() == 4409
    assert stale.events[0]["type"] == "reload" and stale.events[0]["epoch"] == session["epoch"]
    await room_carries_on(collab, session, bob, seq)


async def test_a_missing_epoch_is_refused(jp_root_dir, jp_ws_fetch, open_session, collab):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    other = YClient()
    await other.connect(jp_ws_fetch, session, epoch="")
    assert await other.wait_closed() == 4400


async def test_two_clients_share_a_notebook(jp_root_dir, jp_ws_fetch, open_session):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    assert alice.sources() == ["x = 1"]

    alice.ydoc.ycells[0]["source"].insert(5, "0")

    await bob.wait_for(lambda: bob.sources() == ["x = 10"])


async def test_an_evicted_room_reopens_without_duplicating_a_returning_client(
    jp_root_dir, jp_ws_fetch, open_session, collab
):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    alice.ydoc.ycells[0]["source"].insert(5, "y")
    await bob.wait_for(lambda: bob.sources() == ["x = 1y"])
    await alice.disconnect()
    await bob.disconnect()
    await collab.registry.rooms[session["doc_id"]].save()
    alice.ydoc.ycells[0]["source"].insert(6, "z")  # offline edit
    collab.registry.idle_timeout_seconds = 0.0

    assert await collab.registry.evict_idle() == [session["doc_id"]]

    await alice.connect(jp_ws_fetch, session)
    await alice.wait_synced()
    carol = YClient()
    await carol.connect(jp_ws_fetch, session)
    await carol.wait_synced()
    await carol.wait_for(lambda: carol.sources() == ["x = 1yz"])
    assert [c["id"] for c in carol.content()["cells"]] == ["c1"]
    assert alice.content() == carol.content()
