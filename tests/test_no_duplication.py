"""No duplicated and no lost cell or character, through real server processes:
restart with the store, eviction, store deleted while a client was away, file
rewritten while a client was away, and SIGKILL mid-typing."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Text

from .clients import YClient
from .servers import ServerProcess


def notebook(*sources: str) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{i}",
                "source": s,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for i, s in enumerate(sources)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def disk_sources(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def cell_ids(client: YClient) -> list[str]:
    return [c["id"] for c in client.content()["cells"]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def make_server() -> Iterator[Callable[..., ServerProcess]]:
    """Server processes that are killed at teardown, whatever the test did."""
    started: list[ServerProcess] = []

    def make(root: Path, db: Path, **collab: Any) -> ServerProcess:
        server = ServerProcess(root, db, **collab)
        started.append(server)
        return server

    yield make
    for server in started:
        proc = server.proc
        if proc is not None and proc.returncode is None:
            os.kill(proc.pid, signal.SIGKILL)


async def connected(
    server: ServerProcess, session: dict[str, Any], client: YClient | None = None
) -> YClient:
    client = client or YClient()
    await client.connect(server.ws_fetch, session)
    await client.wait_synced()
    return client


async def converged(*clients: YClient) -> None:
    target = clients[0]
    for c in clients[1:]:
        await c.wait_for(lambda c=c: c.content() == target.content(), what="convergence")


async def test_a_restart_with_the_store_keeps_every_edit_once(root, tmp_path, make_server):
    (root / "n.ipynb").write_text(json.dumps(notebook("a", "b")))
    db = tmp_path / "state" / "h.sqlite"
    server = make_server(root, db)
    await server.start()
    session = await server.open_session("n.ipynb")
    alice = await connected(server, session)
    bob = await connected(server, session)
    alice.ydoc.ycells[0]["source"].insert(1, "lice")
    bob.ydoc.append_cell(
        {"cell_type": "code", "id": "bob", "source": "bob's", "metadata": {}, "outputs": []}
    )
    await converged(alice, bob)

    await server.stop()
    await alice.wait_closed()
    await bob.wait_closed()
    bob.ydoc.ycells[1]["source"].insert(1, "!")  # made while the server was down
    await server.start()
    try:
        await alice.connect(server.ws_fetch, session)  # same epoch: a silent reconnect
        await bob.connect(server.ws_fetch, session)
        await alice.wait_synced()
        await bob.wait_synced()
        await converged(alice, bob)

        assert alice.sources() == ["alice", "b!", "bob's"]
        assert cell_ids(alice) == ["c0", "c1", "bob"]
        fresh = await connected(server, await server.open_session("n.ipynb"))
        assert fresh.content() == alice.content()
    finally:
        await server.stop()
    assert disk_sources(root / "n.ipynb") == ["alice", "b!", "bob's"]


async def test_a_client_from_before_the_store_was_deleted_is_refused_not_merged(
    root, tmp_path, make_server
):
    (root / "n.ipynb").write_text(json.dumps(notebook("one", "two")))
    db = tmp_path / "state" / "h.sqlite"
    server = make_server(root, db)
    await server.start()
    session = await server.open_session("n.ipynb")
    alice = await connected(server, session)
    alice.ydoc.ycells[0]["source"].insert(3, "!")
    alice.send_event({"type": "save", "id": 1})
    await alice.wait_for(
        lambda: any(e.get("type") == "saved" and e.get("id") == 1 for e in alice.events),
        what="saved",
    )
    await server.stop()
    await alice.wait_closed()
    alice.ydoc.ycells[1]["source"].insert(3, "?")  # unsynced work of the stale client
    shutil.rmtree(db.parent)

    await server.start()
    try:
        await alice.connect(server.ws_fetch, session)
        code = await alice.wait_closed()
        assert code == 4409
        reload = [e for e in alice.events if e["type"] == "reload"]
        assert reload and reload[0]["epoch"] != session["epoch"]

        new_session = await server.open_session("n.ipynb")
        assert new_session["epoch"] != session["epoch"]
        bob = await connected(server, new_session)
        assert bob.sources() == ["one!", "two"]
        assert cell_ids(bob) == ["c0", "c1"]
    finally:
        await server.stop()
    assert disk_sources(root / "n.ipynb") == ["one!", "two"]


async def test_a_file_rewritten_while_a_client_was_away_merges_once(root, tmp_path, make_server):
    (root / "n.ipynb").write_text(json.dumps(notebook("keep", "edit me")))
    db = tmp_path / "state" / "h.sqlite"
    server = make_server(root, db)
    await server.start()
    session = await server.open_session("n.ipynb")
    alice = await connected(server, session)
    alice.ydoc.ycells[0]["source"].insert(4, "!")
    alice.send_event({"type": "save", "id": 1})
    await alice.wait_for(lambda: any(e.get("id") == 1 for e in alice.events), what="saved")
    await server.stop()
    await alice.wait_closed()
    alice.ydoc.ycells[0]["source"].insert(0, ">")  # offline edit by alice

    outside = notebook("keep!", "edited by git")
    outside["cells"].append(
        {"cell_type": "markdown", "id": "new", "source": "# added", "metadata": {}}
    )
    (root / "n.ipynb").write_text(json.dumps(outside))

    await server.start()
    try:
        await alice.connect(server.ws_fetch, session)
        await alice.wait_synced()
        bob = await connected(server, session)
        await converged(alice, bob)
        assert bob.sources() == [">keep!", "edited by git", "# added"]
        assert cell_ids(bob) == ["c0", "c1", "new"]
    finally:
        await server.stop()
    assert disk_sources(root / "n.ipynb") == [">keep!", "edited by git", "# added"]


async def test_sigkill_mid_typing_loses_nothing_a_client_still_holds(root, tmp_path, make_server):
    (root / "t.py").write_text("")
    db = tmp_path / "state" / "h.sqlite"
    server = make_server(root, db)
    await server.start()
    session = await server.open_session("t.py", "file")
    alice = await connected(server, session, YClient("file"))
    bob = await connected(server, session, YClient("file"))
    source = alice.doc.get("source", type=Text)
    typed = ""
    for i in range(300):
        ch = "abcdefghij"[i % 10]
        source.insert(len(typed), ch)
        typed += ch
        if i == 150:
            await bob.wait_for(lambda: len(bob.text()) > 100, what="bob to see some typing")

    await server.kill()
    await alice.wait_closed()
    await bob.wait_closed()
    await server.start()
    try:
        await bob.connect(server.ws_fetch, session)
        await alice.connect(server.ws_fetch, session)
        await bob.wait_synced()
        await alice.wait_synced()
        await converged(alice, bob)
        assert alice.text() == typed
        fresh = await connected(server, await server.open_session("t.py", "file"), YClient("file"))
        assert fresh.text() == typed
    finally:
        await server.stop()
    assert (root / "t.py").read_text() == typed
