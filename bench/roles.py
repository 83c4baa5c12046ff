"""What enforcing roles on every message costs, in-process (no sockets).

    python bench/roles.py

Prints, for notebooks of 100, 1000 and 5000 cells after 1000 deletions:
- a keystroke from an editor: the whole ``Room.receive`` (check, apply, store, relay),
  without and with a locked cell in the notebook (then each update is first applied to
  the room's shadow copy, see locks.py);
- the same keystroke from an editor who may not run code (the default): it goes through
  the shadow copy too, which refuses changes to existing cells' outputs;
- a keystroke from a viewer: refused (checked, permission-denied sent, nothing applied);
- a viewer's reconnect (its sync step 2 carries the whole delete set and nothing new):
  proven harmless and let through.
jupyter-collaboration has no per-message check to compare with (decision 4): a
read-only user's updates are applied there.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from notebooks import write_notebook  # noqa: E402

from jupyter_collab.access import AccessControl  # noqa: E402
from jupyter_collab.disk import ContentsFiles  # noqa: E402
from jupyter_collab.errors import PermissionDenied  # noqa: E402
from jupyter_collab.permissions import Role  # noqa: E402
from jupyter_collab.protocol import encode_sync_step2, encode_sync_update  # noqa: E402
from jupyter_collab.rooms import Identity, RoomRegistry  # noqa: E402
from jupyter_collab.store import Store  # noqa: E402


class Sink:
    def send(self, message: bytes) -> None:
        pass

    def close(self, code: int, reason: str) -> None:
        pass


def per_call_us(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e6


async def measure(n_cells: int, tmp: Path) -> dict[str, float]:
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from pycrdt import Array, Doc

    root = tmp / f"root{n_cells}"
    write_notebook(root / "nb.ipynb", n_cells)
    store = Store(tmp / f"h{n_cells}.sqlite")
    await store.open()
    registry = RoomRegistry(
        history=store.history,
        locks=store.locks,
        files=ContentsFiles(FileContentsManager(root_dir=str(root))),
        root=str(root),
        access=AccessControl(store.access, str(root), owners=None, default_role=None),
        can_execute=lambda username, role: True,
        save_delay_seconds=None,
        idle_timeout_seconds=None,
        disk_poll_interval_seconds=None,
    )
    room = await registry.open_session("nb.ipynb", "notebook")
    editor, viewer = Sink(), Sink()
    room.join(editor, Identity("alice"), room.epoch, Role.EDITOR, may_run=True)
    room.join(viewer, Identity("bob"), room.epoch, Role.VIEWER, may_run=False)

    # 1000 deletions, so that every reconnect carries a real delete set
    source = room.ydoc.ycells[0]["source"]
    for _ in range(1000):
        source.insert(0, "ab")
        del source[0:1]
    room.commit("alice", "client")

    def replica_typing(n: int) -> tuple[Doc, list[bytes]]:
        replica: Doc = Doc()
        replica.apply_update(room.doc.get_update())
        cells = replica.get("cells", type=Array)
        updates: list[bytes] = []
        replica.observe(lambda event: updates.append(event.update))
        for _ in range(n):
            cells[1]["source"].insert(0, "x")
        return replica, [encode_sync_update(u) for u in updates]

    _, keystrokes = replica_typing(400)
    it = iter(keystrokes)
    edit_us = per_call_us(lambda: room.receive(editor, next(it)), 400)

    # the same typing in a notebook with a locked cell: each update goes through the shadow
    room.locked = {str(room.ydoc.ycells[0].get("id"))}
    _, keystrokes = replica_typing(400)
    it = iter(keystrokes)
    locked_us = per_call_us(lambda: room.receive(editor, next(it)), 400)
    room.locked = set()

    # an editor who may not run code (the default): each update goes through the shadow
    room.clients[editor].may_run = False
    _, keystrokes = replica_typing(400)
    it = iter(keystrokes)
    no_run_us = per_call_us(lambda: room.receive(editor, next(it)), 400)
    room.clients[editor].may_run = True

    _, forbidden = replica_typing(1)

    def refused() -> None:
        try:
            room.receive(viewer, forbidden[0])
        except PermissionDenied:
            pass  # the handler would close the socket; the room is untouched

    refuse_us = per_call_us(refused, 200)

    synced: Doc = Doc()
    synced.apply_update(room.doc.get_update())
    reconnect = encode_sync_step2(synced.get_update(room.doc.get_state()))
    reconnect_us = per_call_us(lambda: room.receive(viewer, reconnect), 50)
    await registry.close_all()
    await store.close()
    return {
        "edit": edit_us,
        "locked": locked_us,
        "no_run": no_run_us,
        "refused": refuse_us,
        "reconnect": reconnect_us,
    }


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(
            "| cells | editor keystroke (µs) | ... with a locked cell (µs) | "
            "... editor who may not run code (µs) | "
            "refused viewer keystroke (µs) | viewer reconnect check (µs) |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for n in (100, 1000, 5000):
            r = await measure(n, Path(tmp))
            print(
                f"| {n} | {r['edit']:.0f} | {r['locked']:.0f} | {r['no_run']:.0f} "
                f"| {r['refused']:.0f} "
                f"| {r['reconnect']:.0f} |"
            )


if __name__ == "__main__":
    asyncio.run(main())
