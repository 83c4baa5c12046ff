"""Convergence under churn: a Hypothesis state machine with five collaborators.

Rules: text edits, cell inserts, deletes and moves (the way @jupyter/ydoc moves:
delete plus a copy), delivery of one message from a random client in either
direction, disconnects, reconnects, evictions, clean restarts and crashes (the
store loses what it had not committed). The room, the store and the file are real;
only the transport is in memory, so delivery order is the machine's to choose.

Invariant once everything is delivered: every client, the server document, a
document rebuilt from the store and the saved file agree, and no cell id repeats.

CI runs the fixed-seed "ci" profile; `python bench/convergence.py` runs "extensive".
"""

from __future__ import annotations

import asyncio
import gc
import json
import uuid
from collections.abc import Coroutine
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from jupyter_server.services.contents.filemanager import FileContentsManager
from pycrdt import Text

from jupyter_collab import documents
from jupyter_collab.access import AccessControl
from jupyter_collab.disk import ContentsFiles
from jupyter_collab.errors import StaleEpoch
from jupyter_collab.rooms import Room, RoomRegistry
from jupyter_collab.store import Store

from .fakes import FakeClock, Peer, settle

T = TypeVar("T")
CLIENTS = 5
clients = st.integers(min_value=0, max_value=CLIENTS - 1)
words = st.text(alphabet="abcxyz é😀\n", min_size=1, max_size=4)


def notebook() -> dict[str, Any]:
    cells = [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "source": f"cell {i}",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for i in range(2)
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


class Collaboration(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = TemporaryDirectory()
        base = Path(self.tmp.name)
        self.root = base / "root"
        self.root.mkdir()
        self.db = base / "history.sqlite"
        (self.root / "n.ipynb").write_text(json.dumps(notebook()))
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.peers = [Peer("notebook", f"user{i}") for i in range(CLIENTS)]
        self.store: Store | None = None
        self.registry: RoomRegistry | None = None
        self.room: Room | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    async def _start(self) -> None:
        self.store = Store(self.db, write_interval_seconds=0.001)
        await self.store.open()
        files = ContentsFiles(FileContentsManager(root_dir=str(self.root)))
        self.registry = RoomRegistry(
            history=self.store.history,
            locks=self.store.locks,
            files=files,
            root=str(self.root),
            access=AccessControl(self.store.access, str(self.root), owners=None, default_role=None),
            can_execute=lambda username, role: True,
            clock=self.clock,
            save_delay_seconds=None,
            idle_timeout_seconds=0.0,
            disk_poll_interval_seconds=None,
        )

    async def _room(self) -> Room:
        assert self.registry is not None
        self.room = await self.registry.open_session("n.ipynb", "notebook")
        return self.room

    @initialize()
    def start(self) -> None:
        self.run(self._start())
        self.run(self._room())

    def teardown(self) -> None:
        try:
            if self.registry is not None:
                self.run(self.registry.close_all())
                assert self.store is not None
                self.run(self.store.close())
        finally:
            self.loop.close()
            self.tmp.cleanup()

    # -- edits --------------------------------------------------------------------------

    @rule(who=clients, cell=st.integers(0, 20), at=st.integers(0, 40), text=words)
    def type_text(self, who: int, cell: int, at: int, text: str) -> None:
        peer = self.peers[who]
        cells = peer.ydoc.ycells
        if len(cells) == 0:
            return
        source = cells[cell % len(cells)]["source"]
        value = str(source)
        at = at % (len(value) + 1)
        source.insert(len(value[:at].encode()), text)

    @rule(who=clients, cell=st.integers(0, 20), at=st.integers(0, 40), length=st.integers(1, 5))
    def delete_text(self, who: int, cell: int, at: int, length: int) -> None:
        cells = self.peers[who].ydoc.ycells
        if len(cells) == 0:
            return
        source: Text = cells[cell % len(cells)]["source"]
        value = str(source)
        if not value:
            return
        at = at % len(value)
        end = min(len(value), at + length)
        start_b, end_b = len(value[:at].encode()), len(value[:end].encode())
        del source[start_b:end_b]

    @rule(who=clients, at=st.integers(0, 20), text=words)
    def insert_cell(self, who: int, at: int, text: str) -> None:
        ynb = self.peers[who].ydoc
        cell = {
            "cell_type": "code",
            "id": uuid.uuid4().hex,
            "source": text,
            "metadata": {},
            "outputs": [],
        }
        ynb.ycells.insert(at % (len(ynb.ycells) + 1), ynb.create_ycell(cell))

    @rule(who=clients, at=st.integers(0, 20))
    def delete_cell(self, who: int, at: int) -> None:
        cells = self.peers[who].ydoc.ycells
        if len(cells) > 0:
            del cells[at % len(cells)]

    @rule(who=clients, src=st.integers(0, 20), dst=st.integers(0, 20))
    def move_cell(self, who: int, src: int, dst: int) -> None:
        ynb = self.peers[who].ydoc
        cells = ynb.ycells
        if len(cells) < 2:
            return
        src, dst = src % len(cells), dst % len(cells)
        copy = documents._cell_to_py(cells[src])
        with ynb.ydoc.transaction():
            del cells[src]
            cells.insert(dst, ynb.create_ycell(copy))

    # -- network ------------------------------------------------------------------------

    @rule(who=clients, up=st.booleans())
    def deliver_one(self, who: int, up: bool) -> None:
        peer = self.peers[who]
        if not peer.connected:
            return
        assert peer.channel is not None
        if up and peer.to_room:
            self.run(self._async(peer.deliver_up))
        elif not up and peer.channel.outbox:
            peer.deliver_down()

    @rule(who=clients)
    def disconnect(self, who: int) -> None:
        peer = self.peers[who]
        if peer.connected:
            self.run(self._async(peer.disconnect))

    @rule(who=clients)
    def connect(self, who: int) -> None:
        peer = self.peers[who]
        if not peer.connected:
            self.run(self._connect(who))

    async def _connect(self, who: int) -> None:
        room = self.room if self.room is not None and not self.room.closed else await self._room()
        peer = self.peers[who]
        try:
            peer.connect(room)
        except StaleEpoch:  # pragma: no cover - the store is never wiped here
            raise AssertionError("the epoch changed although the store was kept") from None

    async def _async(self, fn: Any) -> None:
        fn()

    # -- server life --------------------------------------------------------------------

    @precondition(lambda self: self.room is not None and not any(p.connected for p in self.peers))
    @rule()
    def evict(self) -> None:
        assert self.registry is not None and self.room is not None
        evicted = self.run(self.registry.evict(self.room))
        assert evicted, "an idle, saved room must be evictable"
        self.room = None

    @rule()
    def restart(self) -> None:
        for peer in self.peers:
            peer.channel = None  # the socket died with the server
        assert self.registry is not None
        self.run(self.registry.close_all())
        assert self.store is not None
        self.run(self.store.close())
        self.run(self._start())
        self.run(self._room())

    @rule()
    def crash(self) -> None:
        """SIGKILL: nothing saved, queued history writes lost (a batch in flight lands)."""
        for peer in self.peers:
            peer.channel = None
        assert self.registry is not None and self.store is not None
        self.store.history._writes.abandon()  # noqa: SLF001 (a kill loses what is queued)
        self.run(self.store.worker.close())  # no flush: a batch in flight lands, no more
        for room in list(self.registry.rooms.values()):
            self.run(room.close())
        self.run(self._start())
        self.run(self._room())

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def the_server_never_has_duplicate_cell_ids_once_settled(self) -> None:
        if self.room is None or self.room.closed:
            return
        ids = [c["id"] for c in self.room.content()["cells"]]
        pending = any(p.pending() for p in self.peers if p.connected)
        if not pending:
            assert len(ids) == len(set(ids)), ids

    def teardown_check(self) -> None:
        room = self.run(self._room()) if self.room is None or self.room.closed else self.room
        for who, peer in enumerate(self.peers):
            if not peer.connected:
                self.run(self._connect(who))
        self.run(self._async(lambda: settle(*self.peers)))
        expected = room.content()
        ids = [c["id"] for c in expected["cells"]]
        assert len(ids) == len(set(ids)), f"duplicated cells {ids}"
        for peer in self.peers:
            assert peer.content() == expected
        assert self.registry is not None
        assert self.store is not None
        history = self.run(self.store.history.load(room.doc_id))
        rebuilt = documents.read(
            "notebook", documents.wrap("notebook", documents.doc_from_updates(history.updates))
        )
        assert rebuilt == expected
        self.run(room.save(force=True))
        on_disk = json.loads((self.root / "n.ipynb").read_text())
        assert documents.same_content("notebook", on_disk, expected)


class CheckedCollaboration(Collaboration):
    def teardown(self) -> None:
        try:
            self.teardown_check()
        finally:
            super().teardown()


class TestCollaboration(CheckedCollaboration.TestCase):  # type: ignore[name-defined,misc]
    def runTest(self) -> None:  # noqa: N802 (unittest's name)
        # CPython 3.11 can raise "SystemError: AST constructor recursion depth mismatch"
        # when a garbage collection runs finalizers in the middle of ast.parse, which
        # Hypothesis calls (inspect.getsource) before the machine starts. Collect the
        # previous tests' garbage first and keep the collector out of this run.
        gc.collect()
        gc.disable()
        try:
            super().runTest()
        finally:
            gc.enable()
