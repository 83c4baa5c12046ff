"""What a version says of a document, and how one is put back: fingerprints (a hash per
cell, in order), the summary between two of them, restoring a whole notebook or text,
and one cell, as forward changes of the live document.

Pure: works on pycrdt documents through jupyter-ydoc's schemas and on plain content;
knows no rooms, store or I/O.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
from typing import Any

from jupyter_ydoc import YNotebook
from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Array, Map, Text

from .documents import apply_text_diff, youtput

Fingerprint = dict[str, Any]


def _hash(*parts: str) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def fingerprint(kind: str, ydoc: YBaseDoc) -> Fingerprint:
    """The live document's fingerprint: per cell of a notebook its id and a hash of its
    type and source, in order; of a text file, a hash of the text and its lines."""
    if kind == "notebook":
        assert isinstance(ydoc, YNotebook)
        order: list[str] = []
        cells: dict[str, str] = {}
        for ycell in ydoc.ycells:
            cell_id = str(ycell.get("id"))
            order.append(cell_id)
            cells[cell_id] = _hash(str(ycell.get("cell_type", "")), str(ycell.get("source", "")))
        return {"order": order, "cells": cells}
    text = str(ydoc.ydoc.get("source", type=Text))
    return {"text": _hash(text), "lines": [_hash(line) for line in text.splitlines()]}


def fingerprint_cells(cells: list[dict[str, Any]]) -> dict[str, str]:
    """The hash of each cell of notebook JSON, by id (as ``fingerprint`` hashes them)."""
    hashes = {}
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        hashes[str(cell.get("id"))] = _hash(str(cell.get("cell_type", "")), source)
    return hashes


def summarize(before: Fingerprint, after: Fingerprint) -> dict[str, int]:
    """What changed from ``before`` to ``after`` (empty ``before``: everything added):
    cells added, removed, changed and moved; of text, lines added and removed."""
    if "order" in after or "order" in before:
        old, new = before.get("cells", {}), after.get("cells", {})
        shared = [c for c in before.get("order", []) if c in new]
        return {
            "added": sum(1 for c in new if c not in old),
            "removed": sum(1 for c in old if c not in new),
            "changed": sum(1 for c in new if c in old and old[c] != new[c]),
            "moved": len(shared) - len(_stay(shared, after.get("order", []))),
        }
    old_lines, new_lines = before.get("lines", []), after.get("lines", [])
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    common = sum(block.size for block in matcher.get_matching_blocks())
    return {"lines_added": len(new_lines) - common, "lines_removed": len(old_lines) - common}


def _stay(live_ids: list[str], target_ids: list[str]) -> set[str]:
    """The cells that keep their place when the live order becomes the target's: the
    longest run of live cells already in the target's order. The others are moved."""
    position = {cell_id: i for i, cell_id in enumerate(target_ids)}
    shared = [c for c in live_ids if c in position]
    # longest increasing subsequence of target positions, with its members
    tails: list[int] = []  # index into shared of the smallest tail of each length
    before: list[int] = [-1] * len(shared)
    tail_values: list[int] = []
    for i, cell_id in enumerate(shared):
        value = position[cell_id]
        at = bisect.bisect_left(tail_values, value)
        if at > 0:
            before[i] = tails[at - 1]
        if at == len(tails):
            tails.append(i)
            tail_values.append(value)
        else:
            tails[at] = i
            tail_values[at] = value
    stay: set[str] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        stay.add(shared[i])
        i = before[i]
    return stay


_CELL_KEYS = ("cell_type", "metadata", "outputs", "execution_count", "attachments")


def restore_cell_fields(ynb: YNotebook, ycell: Map[Any], cell: dict[str, Any]) -> None:
    """Make a live cell say what ``cell`` says, changing only what differs (its source
    as a text diff, so cursors and others' typing elsewhere in it stay)."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    ytext = ycell["source"]
    current = str(ytext)
    if current != source:
        apply_text_diff(ytext, current, source)
    live = ynb._cell_to_py(ycell)
    for key in _CELL_KEYS:
        want = cell.get(key)
        if want == live.get(key):
            continue
        if want is None:
            if key in ycell:
                del ycell[key]
        elif key == "metadata":
            ycell[key] = Map(dict(want))
        elif key == "outputs":
            ycell[key] = Array([youtput(o) for o in want])
        else:
            ycell[key] = want


def restore_notebook(ynb: YNotebook, target: dict[str, Any]) -> None:
    """Make the live notebook the ``target`` notebook (a version's content): cells it
    lacks are deleted, cells it has are put back or changed in place, its order is
    restored by moving as few cells as can be. Call inside a transaction."""
    cells = [dict(c) for c in target.get("cells", [])]
    target_ids = [str(c.get("id")) for c in cells]
    ycells = ynb.ycells
    live_ids = [str(ycells[i].get("id")) for i in range(len(ycells))]
    stay = _stay(live_ids, target_ids)
    for i in range(len(live_ids) - 1, -1, -1):
        if live_ids[i] not in stay:
            del ycells[i]  # not in the version, or out of its order (put back below)
    for i, cell in enumerate(cells):
        if target_ids[i] in stay:
            restore_cell_fields(ynb, ycells[i], cell)
        else:
            ycells.insert(i, ynb.create_ycell(cell))
    metadata = target.get("metadata", {})
    ymeta = ynb.ydoc.get("meta", type=Map)
    current = ymeta.get("metadata")
    current_py = current.to_py() if isinstance(current, Map) else current
    if current_py != metadata:
        ymeta["metadata"] = Map(dict(metadata))


def restore_one_cell(ynb: YNotebook, target: dict[str, Any], cell_id: str) -> bool:
    """Put one cell of a version back as it was there: changed in place if the live
    notebook has it, else inserted after the cell before it in the version (or first).
    Returns False when the version has no such cell. Call inside a transaction."""
    cells = [dict(c) for c in target.get("cells", [])]
    index = next((i for i, c in enumerate(cells) if str(c.get("id")) == cell_id), None)
    if index is None:
        return False
    ycells = ynb.ycells
    live = {str(ycells[i].get("id")): i for i in range(len(ycells))}
    if cell_id in live:
        restore_cell_fields(ynb, ycells[live[cell_id]], cells[index])
        return True
    at = 0
    for earlier in reversed(cells[:index]):
        if str(earlier.get("id")) in live:
            at = live[str(earlier.get("id"))] + 1
            break
    ycells.insert(at, ynb.create_ycell(cells[index]))
    return True


def restore_text(ydoc: YBaseDoc, text: str) -> None:
    """Make a live text file say ``text``, changing only what differs."""
    ytext = ydoc.ydoc.get("source", type=Text)
    current = str(ytext)
    if current != text:
        apply_text_diff(ytext, current, text)
