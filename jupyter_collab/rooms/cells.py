"""A notebook's cells as the room follows them: which cells each transaction touched,
where each cell is, and duplicate ids after concurrent moves."""

from __future__ import annotations

import uuid
from typing import Any

from pycrdt import Array


class CellTracker:
    """Observes a notebook's ``cells`` array.

    Args:
        touched: also note which cells each transaction changed. That needs a deep
            observer, which costs ~17 µs per update on a 1000-cell notebook (pycrdt
            builds an event object for every change) against ~2 µs for the shallow one:
            rooms pay it only when a service asked for cells (``RoomHooks.want_cells``).
    """

    def __init__(self, cells: Array[Any], *, touched: bool) -> None:
        self.array = cells
        self.structure_changed = False  # since the last duplicate check
        self._moved = False  # since the last ``take_moved``
        self._touched: set[int] = set()
        self._indexes: dict[str, int] | None = None
        self._ids: list[Any] | None = None  # the id of each cell, by index
        if touched:
            self._subscription = cells.observe_deep(self._on_deep)
        else:
            self._subscription = cells.observe(self._on_structure)

    def _on_structure(self, event: Any) -> None:
        # cells inserted, deleted or moved
        self.structure_changed = self._moved = True
        self._indexes = None
        self._ids = None

    def _on_deep(self, events: list[Any]) -> None:
        for event in events:
            path = event.path
            if path:
                self._touched.add(path[0])
                if len(path) == 1:
                    self._ids = None  # a key of the cell itself changed: maybe its id
            else:
                self._on_structure(event)

    def take_touched(self) -> frozenset[str]:
        """Ids of the cells whose content changed since the last call."""
        if not self._touched:
            return frozenset()
        touched, self._touched = self._touched, set()
        if self._ids is None:
            # read once per structure change: reading one cell's id through pycrdt costs
            # ~15 µs, on every keystroke it was most of what activity tracking cost
            self._ids = [ycell.get("id") for ycell in self.array]
        ids = self._ids
        return frozenset(
            ids[index]
            for index in touched
            if isinstance(index, int) and index < len(ids) and isinstance(ids[index], str)
        )

    def take_moved(self) -> bool:
        moved, self._moved = self._moved, False
        return moved

    def index_of(self, cell_id: str) -> int | None:
        if self._indexes is None:
            indexes: dict[str, int] = {}
            for index, ycell in enumerate(self.array):
                key = ycell.get("id")
                if isinstance(key, str):
                    indexes.setdefault(key, index)
            self._indexes = indexes
        return self._indexes.get(cell_id)

    def ids(self) -> set[Any]:
        return {c.get("id") for c in self.array}

    def fix_duplicates(self) -> int:
        """Make cell ids unique again after concurrent moves; call inside a transaction.

        @jupyter/ydoc moves a cell by deleting it and inserting a copy; two people
        moving the same cell at once leave two copies. The later identical copy is
        removed; a copy that was edited since keeps its content under a new id.
        Returns how many cells were fixed.
        """
        self.structure_changed = False
        self._ids = self._indexes = None  # ids are given below
        first: dict[str, int] = {}
        repeated: list[tuple[int, int]] = []  # (index, index of the first copy)
        for index, ycell in enumerate(self.array):
            cell_id = ycell.get("id")
            if not isinstance(cell_id, str):
                continue
            if cell_id in first:
                repeated.append((index, first[cell_id]))
            else:
                first[cell_id] = index
        duplicates = [
            (index, self.array[index].to_py() == self.array[original].to_py())
            for index, original in repeated
        ]
        for index, identical in reversed(duplicates):
            if identical:
                del self.array[index]
            else:
                self.array[index]["id"] = str(uuid.uuid4())
        return len(duplicates)
