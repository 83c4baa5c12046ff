"""Trust is never collaborative: a shared notebook never holds a ``trusted`` mark.

JupyterLab trusts a cell whose metadata says ``trusted: true`` when it builds the cell's
model, and writes that mark into the shared model when its user runs or trusts a cell;
jupyter_server signs a saved notebook whose cells all carry it. In a shared document the
mark would be one person's decision taken for everybody, so the room takes it out of
every update (``remove``). Pure: works on pycrdt docs; knows no rooms or I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Array, Doc, Map

KEY = "trusted"
_KEY_BYTES = KEY.encode()


def may_add_trust(updates: Iterable[bytes]) -> bool:
    """Whether any of these Yjs v1 updates could set a ``trusted`` key.

    A map entry's key, and a key inside a JSON value, is written into the update as its
    UTF-8 text, so an update without those bytes cannot add the mark. Pass what a
    transaction committed (not what a client sent): a struct that was pending until now
    is part of the committed update too.
    """
    return any(_KEY_BYTES in update for update in updates)


def remove(doc: Doc[Any]) -> int:
    """Take ``trusted`` out of the notebook's metadata and every cell's; return how many
    marks were removed. Call inside a transaction; a doc without cells is left alone."""
    removed = 0
    meta = doc.get("meta", type=Map)
    notebook_metadata = meta.get("metadata")
    if notebook_metadata is not None and _holds_mark(notebook_metadata):
        removed += _remove_from(meta, "metadata")
    for ycell in doc.get("cells", type=Array):
        if isinstance(ycell, Map) and _holds_mark(ycell.get("metadata")):
            removed += _remove_from(ycell, "metadata")
    return removed


def _holds_mark(metadata: Any) -> bool:
    if isinstance(metadata, Map):
        return KEY in metadata
    return isinstance(metadata, dict) and KEY in metadata


def _remove_from(parent: Map[Any], field: str) -> int:
    metadata = parent[field]
    if isinstance(metadata, Map):
        del metadata[KEY]
    else:
        # a plain JSON value: JupyterLab expects a map there, but keep what else it says
        parent[field] = {k: v for k, v in metadata.items() if k != KEY}
    return 1
