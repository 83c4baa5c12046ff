"""Helpers of the in-process room tests: rooms on in-memory channels, with the real
SQLite store and the real FileContentsManager writing to a temporary folder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jupyter_server.services.contents.filemanager import FileContentsManager

from jupyter_collab.access import AccessControl
from jupyter_collab.disk import ContentsFiles
from jupyter_collab.rooms import Room, RoomRegistry
from jupyter_collab.store import Store

from .fakes import FakeClock, Peer, settle


def make_notebook(*sources: str) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "source": s,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for i, s in enumerate(sources)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@asynccontextmanager
async def running(
    root: Path, db: Path, clock: FakeClock, **kwargs: Any
) -> AsyncIterator[RoomRegistry]:
    store = Store(db, write_interval_seconds=0.001, busy_timeout_seconds=0.2)
    await store.open()
    # the server's own users own everything (owners=None), as with a plain token login
    access = AccessControl(store.access, str(root), owners=None, default_role=None)
    options: dict[str, Any] = {
        "save_delay_seconds": None,
        "idle_timeout_seconds": 30.0,
        "disk_poll_interval_seconds": None,
    }
    options.update(kwargs)
    registry = RoomRegistry(
        history=store.history,
        locks=store.locks,
        files=ContentsFiles(FileContentsManager(root_dir=str(root))),
        root=str(root),
        access=access,
        can_execute=lambda username, role: True,
        comments=store.comments,
        clock=clock,
        **options,
    )
    try:
        yield registry
    finally:
        await registry.close_all()
        await store.close()


def joined(room: Room, *usernames: str) -> list[Peer]:
    """Peers of these users, connected to the room and fully synced."""
    peers = [Peer(room.kind, name) for name in usernames]
    for peer in peers:
        peer.connect(room)
    settle(*peers)
    return peers


def disk_sources(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def type_into(peer: Peer, cell: int, at: int, text: str) -> None:
    source = peer.ydoc.ycells[cell]["source"]
    source.insert(at, text)
