"""Cell locks: which changes a locked cell refuses, checked before the room applies them.

A Yjs update cannot be inspected without integrating it, and an integrated change cannot
be taken back. So a room with locked cells keeps a shadow copy of its document: an
editor's update is applied to the shadow first, its effects on locked cells are read
from the shadow's change events, and only an allowed update reaches the room's document.
A refused one leaves the shadow ahead of the room; the shadow is then rebuilt from the
room (rare: the browser makes locked cells read-only, so only a stale or hostile client
gets here).

A locked cell refuses changes to its source, type, metadata and attachments, and being
deleted or moved (@jupyter/ydoc moves by deleting and re-inserting). Its outputs and
execution count may still change: running a locked cell is allowed where execution is.
Owners are not checked (``Room`` skips the guard for them).

A lock holds the cell object, not its id string: the id is how the store, the file and
the browser name the cell, so nothing else may ever carry it. A cell inserted with a
locked id, and any cell whose ``id`` is changed to or from a locked id, is refused; with
deletion and moves refused too, the one map that carried the id when it was locked is
the only one that ever does (insert a twin, re-id it, delete the original: each step is
refused). Splitting or merging a locked cell changes its source or deletes it: refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Array, ArrayEvent, Doc, Map, MapEvent

# what running a cell writes: allowed on locked cells
RUN_KEYS = frozenset({"outputs", "execution_count", "execution_state"})
# cell metadata JupyterLab writes for how a cell is shown (collapsed input or outputs,
# scrolled outputs, folded headings) or when it runs: no change to what the cell is
VIEW_METADATA = frozenset({"collapsed", "scrolled", "jupyter", "heading_collapsed", "execution"})


class LockGuard:
    """The shadow of one notebook room, answering "may this update be applied?"."""

    def __init__(self, state: bytes) -> None:
        self._load(state)

    def _load(self, state: bytes) -> None:
        self.shadow: Doc[Any] = Doc()
        self.shadow.apply_update(state)
        self.cells: Array[Any] = self.shadow.get("cells", type=Array)
        # reading every cell's id costs ~100 µs per cell through pycrdt: keep the list,
        # and read it again only after cells were inserted, deleted or moved
        self._id_list: list[Any] | None = None
        self.cells.observe(self._structure_changed)
        self._events: list[Any] = []
        self.cells.observe_deep(self._on_deep)  # once: subscribing costs too

    def _structure_changed(self, event: Any) -> None:
        self._id_list = None

    def _on_deep(self, events: list[Any]) -> None:
        self._events.extend(events)
        for event in events:
            # a cell's id changed: the cached id list is stale too
            if len(list(event.path)) == 1 and "id" in getattr(event, "keys", {}):
                self._id_list = None

    def follow(self, update: bytes) -> None:
        """Keep up with an update the room applied (from anyone, the server included)."""
        self.shadow.apply_update(update)
        self._events.clear()

    def check(
        self,
        update: bytes,
        locked: set[str],
        room_state: Callable[[], bytes],
        *,
        may_run: bool = True,
    ) -> str | None:
        """Apply ``update`` to the shadow; the reason it is refused, or ``None``.

        Args:
            update: the candidate update.
            locked: the ids of the locked cells.
            room_state: gives the room's document as one update, to rebuild the shadow
                from when the candidate is refused (called only then).
            may_run: whether the sender may run code; if not, the outputs and execution
                count of cells already in the document are not theirs to change.
        """
        before = self._ids()
        self._events.clear()
        self.shadow.apply_update(update)
        events, self._events[:] = list(self._events), []
        reason = self._violation(events, before, locked)
        if reason is None and not may_run:
            reason = self._run_change(events, before)
        if reason is not None:
            self._load(room_state())
        return reason

    def _ids(self) -> list[Any]:
        if self._id_list is None:
            self._id_list = [cell.get("id") for cell in self.cells]
        return self._id_list

    def _run_change(self, events: list[Any], before: list[Any]) -> str | None:
        """A change to what running writes (outputs, execution count) in a cell that was
        in the document before this update; a cell inserted now may bring its own."""
        for event in events:
            path = list(event.path)
            if not path:
                continue
            ids = self._ids()
            cell_id = ids[path[0]] if path[0] < len(ids) else None
            if cell_id not in before:
                continue  # inserted by this update (paste, type change): its own content
            if len(path) > 1:
                touched = {path[1]}
            elif isinstance(event, MapEvent):
                touched = set(getattr(event, "keys", {}))
            else:
                touched = set()
            if touched & (RUN_KEYS - {"execution_state"}):
                return f"cell {cell_id}: only people who may run code change its outputs"
        return None

    def _violation(self, events: list[Any], before: list[Any], locked: set[str]) -> str | None:
        structural = self._id_list is None
        for event in events:
            path = list(event.path)
            if not path:  # the cells array itself: inserts, deletes, moves
                if isinstance(event, ArrayEvent):
                    for change in getattr(event, "delta", []):
                        for cell in change.get("insert", []):
                            cell_id = cell.get("id") if isinstance(cell, Map) else None
                            if cell_id in locked:
                                # the locked cell re-inserted (a move), or a twin
                                return f"cell {cell_id} is locked: it cannot be moved or copied"
                continue
            if len(path) == 1 and isinstance(event, MapEvent):
                change = getattr(event, "keys", {}).get("id")
                if change is not None:
                    taken = {change.get("oldValue"), change.get("newValue")} & locked
                    if taken:
                        return f"cell {sorted(taken)[0]} is locked: no cell may take its id"
            ids = self._ids()  # current: re-read only if this update moved cells
            cell_id = ids[path[0]] if path[0] < len(ids) else None
            if cell_id not in locked:
                continue
            if path[1:] == ["metadata"] and isinstance(event, MapEvent):
                if set(getattr(event, "keys", {})) <= VIEW_METADATA:
                    continue  # collapsing or scrolling a locked cell's view is fine
                key = "metadata"
            elif len(path) > 1:
                key = path[1]
            elif isinstance(event, MapEvent):
                keys = set(getattr(event, "keys", {})) - RUN_KEYS
                if not keys:
                    continue
                key = sorted(keys)[0]
            else:
                key = "content"
            if key not in RUN_KEYS:
                return f"cell {cell_id} is locked: its {key} cannot change"
        if not structural:
            return None  # no cell was inserted, deleted or moved
        after = set(self._ids())
        for cell_id in before:
            if cell_id in locked and cell_id not in after:
                return f"cell {cell_id} is locked: it cannot be deleted"
        return None
