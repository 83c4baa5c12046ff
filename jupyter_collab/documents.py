"""Document kinds and their content: build a CRDT from file content, export it back,
and merge a change made on disk into a live document (three-way, never duplicating).

Pure: works on pycrdt docs through jupyter-ydoc's schemas; knows no rooms or I/O.
"""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from jupyter_ydoc import YNotebook, YUnicode
from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Array, Doc, Map, Text

KINDS: dict[str, type[YBaseDoc]] = {"notebook": YNotebook, "file": YUnicode}


def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown document type {kind!r}: expected one of {sorted(KINDS)}")
    return str(kind)


def wrap(kind: str, doc: Doc[Any]) -> YBaseDoc:
    return KINDS[kind](doc)


BUILD_CLIENT_ID = 1


def build(kind: str, content: Any) -> bytes:
    """``content`` as one Yjs update: a fresh history, written by a small fixed client id.

    Every item carries its client id, so a small one makes the state ~10 % smaller than
    a random 53-bit one. Only this build uses it: a document that applies the update
    edits under its own random id, so no two histories ever write as the same client.
    """
    doc: Doc[Any] = Doc(client_id=BUILD_CLIENT_ID)
    wrap(kind, doc).set(content)
    return doc.get_update()


def doc_from_updates(updates: Sequence[bytes]) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    with doc.transaction():
        for update in updates:
            doc.apply_update(update)
    return doc


def export(kind: str, ydoc: YBaseDoc) -> Any:
    """Content to write to disk, as jupyter-ydoc's ``get`` would give it (cell ids are
    dropped for nbformat < 4.5, repeated ids are made unique in the copy), without
    touching the document."""
    content = read(kind, ydoc)
    if kind == "file":
        return content
    old_format = content["nbformat"] == 4 and content["nbformat_minor"] <= 4
    seen: dict[str, dict[str, Any]] = {}
    cells = []
    for cell in content["cells"]:
        cell_id = cell.get("id")
        if isinstance(cell_id, str) and cell_id in seen:
            if seen[cell_id] == cell:
                continue  # the room removes such copies; never write one twice
            cell = {**cell, "id": str(uuid.uuid4())}
        elif isinstance(cell_id, str):
            seen[cell_id] = cell
        if old_format:
            cell.pop("id", None)
        cells.append(cell)
    content["cells"] = cells
    return content


def read(kind: str, ydoc: YBaseDoc) -> Any:
    """The document's content, read in one pass by pycrdt's Rust JSON encoder (about
    six times faster than converting each cell in Python); cell ids are kept."""
    if kind == "file":
        return str(ydoc.ydoc.get("source", type=Text))
    assert isinstance(ydoc, YNotebook)
    meta = json.loads(str(ydoc.ydoc.get("meta", type=Map)) or "{}")
    cells = json.loads(str(ydoc.ycells) or "[]")
    for cell in cells:
        cell.pop("execution_state", None)
        if cell.get("cell_type") in ("markdown", "raw") and not cell.get("attachments", True):
            del cell["attachments"]
    return {
        "cells": _ints(cells),
        "metadata": _ints(meta.get("metadata", {})),
        "nbformat": int(meta.get("nbformat", 4)),
        "nbformat_minor": int(meta.get("nbformat_minor", 5)),
    }


def same_content(kind: str, a: Any, b: Any) -> bool:
    if kind == "file":
        return bool(a == b)
    return bool(_normalize_nb(a) == _normalize_nb(b))


def same_document(kind: str, stored: Any, disk: Any) -> bool:
    """Whether a file that appeared where a deleted document was is that document again
    (restored from the trash, checked out again): the same content, or, for a notebook,
    a version of it (at least half of its cells carry ids of the document's cells: cell
    ids are random, so an unrelated notebook shares none)."""
    if same_content(kind, stored, disk):
        return True
    if kind != "notebook":
        return False
    ours = {cell.get("id") for cell in stored.get("cells", [])}
    theirs = [cell.get("id") for cell in disk.get("cells", []) if cell.get("id")]
    return bool(theirs) and 2 * sum(cell_id in ours for cell_id in theirs) >= len(theirs)


def _normalize_nb(nb: dict[str, Any]) -> dict[str, Any]:
    cells = []
    for cell in nb.get("cells", []):
        c = {k: v for k, v in cell.items() if k not in ("execution_state",)}
        if isinstance(c.get("source"), list):
            c["source"] = "".join(c["source"])
        if not c.get("attachments"):
            c.pop("attachments", None)
        cells.append(_ints(c))
    return {"cells": cells, "metadata": _ints(dict(nb.get("metadata", {})))}


def _ints(value: Any) -> Any:
    # Yjs hands numbers back as floats; compare 1 and 1.0 as equal
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def _cell_to_py(ycell: Map[Any]) -> dict[str, Any]:
    cell = ycell.to_py() or {}
    cell.pop("execution_state", None)
    return dict(_ints(cell))


# -- text edits -------------------------------------------------------------------------


def apply_text_diff(ytext: Text, old: str, new: str) -> None:
    """Turn ``ytext`` (currently ``old``) into ``new`` with small edits.

    Unchanged text keeps its CRDT identity, so concurrent edits and cursors around
    it survive. pycrdt indexes text by UTF-8 bytes, hence the offsets below.
    """
    if old == new:
        return
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    mid_old, mid_new = old[start:end_old], new[start:end_new]
    base = len(old[:start].encode("utf-8"))
    ops = _line_opcodes(mid_old, mid_new)
    # apply from the end so earlier offsets stay valid
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "equal":
            continue
        at = base + len(mid_old[:i1].encode("utf-8"))
        if i2 > i1:
            del ytext[at : at + len(mid_old[i1:i2].encode("utf-8"))]
        if j2 > j1:
            ytext.insert(at, mid_new[j1:j2])


def _line_opcodes(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """Opcodes in character offsets, from a line diff refined per changed block."""
    if not a or not b:
        return [("replace", 0, len(a), 0, len(b))]
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    offs_a = _offsets(la)
    offs_b = _offsets(lb)
    out: list[tuple[str, int, int, int, int]] = []
    matcher = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        a1, a2, b1, b2 = offs_a[i1], offs_a[i2], offs_b[j1], offs_b[j2]
        if tag == "replace" and (a2 - a1) * (b2 - b1) <= 250_000:
            inner = difflib.SequenceMatcher(None, a[a1:a2], b[b1:b2], autojunk=False)
            for t, x1, x2, y1, y2 in inner.get_opcodes():
                out.append((t, a1 + x1, a1 + x2, b1 + y1, b1 + y2))
        else:
            out.append((tag, a1, a2, b1, b2))
    return out


def _offsets(lines: list[str]) -> list[int]:
    offs = [0]
    for line in lines:
        offs.append(offs[-1] + len(line))
    return offs


# -- three-way merge of text ------------------------------------------------------------


def merge3(base: str, ours: str, theirs: str) -> str:
    """Merge two edits of ``base``: changes made on one side only are taken, the
    same change made on both sides is taken once, and where both sides changed the
    same place differently both versions are kept (ours first): nothing is lost and
    nothing is repeated."""
    if ours == theirs or theirs == base:
        return ours
    if ours == base:
        return theirs
    merged, _ = _merge3_seq(
        base.splitlines(keepends=True),
        ours.splitlines(keepends=True),
        theirs.splitlines(keepends=True),
        refine=True,
    )
    return "".join(merged)


def _matches(a: Sequence[str], b: Sequence[str]) -> dict[int, int]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            out[block.a + k] = block.b + k
    return out


def _merge3_seq(
    b: Sequence[str], o: Sequence[str], t: Sequence[str], *, refine: bool
) -> tuple[list[str], bool]:
    om, tm = _matches(b, o), _matches(b, t)
    out: list[str] = []
    clean = True
    bi = oi = ti = 0

    def chunk(b_part: Sequence[str], o_part: Sequence[str], t_part: Sequence[str]) -> None:
        nonlocal clean
        if list(o_part) == list(b_part):
            out.extend(t_part)
        elif list(t_part) == list(b_part) or list(o_part) == list(t_part):
            out.extend(o_part)
        elif refine:
            inner, ok = _merge3_seq(
                list("".join(b_part)), list("".join(o_part)), list("".join(t_part)), refine=False
            )
            if ok:
                out.append("".join(inner))
            else:
                clean = False
                out.extend(o_part)
                out.extend(t_part)
        else:
            clean = False
            out.extend(o_part)
            out.extend(t_part)

    for i in range(len(b)):
        if i in om and i in tm and om[i] >= oi and tm[i] >= ti:
            chunk(b[bi:i], o[oi : om[i]], t[ti : tm[i]])
            out.append(o[om[i]])
            bi, oi, ti = i + 1, om[i] + 1, tm[i] + 1
    chunk(b[bi:], o[oi:], t[ti:])
    return out, clean


# -- merging a disk change into a live document -----------------------------------------


def merge_disk_change(kind: str, ydoc: YBaseDoc, base: Any, theirs: Any) -> None:
    """Apply what changed on disk (``base`` -> ``theirs``) to the live document,
    keeping its unsaved changes. Call inside a transaction."""
    if kind == "file":
        ytext = ydoc.ydoc.get("source", type=Text)
        ours = str(ytext)
        apply_text_diff(ytext, ours, merge3(base, ours, theirs))
        return
    assert isinstance(ydoc, YNotebook)
    _merge_notebook(ydoc, base, theirs)


_CELL_KEYS_FROM_DISK = ("cell_type", "metadata", "outputs", "execution_count", "attachments")


def _merge_notebook(ynb: YNotebook, base: dict[str, Any], theirs: dict[str, Any]) -> None:
    base_cells = [_ints(dict(c)) for c in base.get("cells", [])]
    their_cells = _assign_ids(base_cells, [_ints(dict(c)) for c in theirs.get("cells", [])])
    base_by_id = {c["id"]: c for c in base_cells if "id" in c}
    their_ids = {c["id"] for c in their_cells}
    ycells = ynb.ycells

    def our_index() -> dict[str, int]:
        return {str(ycells[i].get("id")): i for i in range(len(ycells))}

    # cells deleted on disk: delete unless they carry unsaved changes of ours
    for cell_id, i in sorted(our_index().items(), key=lambda kv: -kv[1]):
        if cell_id in base_by_id and cell_id not in their_ids:
            if _source(_cell_to_py(ycells[i])) == _source(base_by_id[cell_id]):
                del ycells[i]

    # cells changed or added on disk
    previous: str | None = None
    for cell in their_cells:
        cell_id = cell["id"]
        index = our_index()
        if cell_id in index:
            ycell = ycells[index[cell_id]]
            _merge_cell(ycell, base_by_id.get(cell_id), cell)
        elif cell_id not in base_by_id:
            at = index[previous] + 1 if previous in index else 0
            ycells.insert(at, ynb.create_ycell(cell))
        else:
            continue  # we deleted it and disk kept it: our deletion stands
        previous = cell_id

    their_meta, base_meta = theirs.get("metadata", {}), base.get("metadata", {})
    if _ints(dict(their_meta)) != _ints(dict(base_meta)):
        ymeta = ynb.ydoc.get("meta", type=Map)
        ymeta["metadata"] = Map(dict(their_meta))
    for key in ("nbformat", "nbformat_minor"):
        if key in theirs and theirs.get(key) != base.get(key):
            ynb.ydoc.get("meta", type=Map)[key] = theirs[key]


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _merge_cell(ycell: Map[Any], base: dict[str, Any] | None, theirs: dict[str, Any]) -> None:
    ours = _cell_to_py(ycell)
    base = base if base is not None else ours
    b_src, o_src, t_src = _source(base), _source(ours), _source(theirs)
    if t_src != b_src:
        ytext = ycell["source"]
        apply_text_diff(ytext, o_src, merge3(b_src, o_src, t_src))
    for key in _CELL_KEYS_FROM_DISK:
        t_val, b_val = theirs.get(key), base.get(key)
        if t_val == b_val or t_val == ours.get(key):
            continue
        if t_val is None:
            if key in ycell:
                del ycell[key]
        elif key == "metadata":
            ycell[key] = Map(dict(t_val))
        elif key == "outputs":
            ycell[key] = Array([youtput(o) for o in t_val])
        else:
            ycell[key] = t_val


def youtput(output: dict[str, Any]) -> Map[Any]:
    out = dict(output)
    if out.get("output_type") == "stream":
        text = out.get("text", "")
        out["text"] = Text("".join(text) if isinstance(text, list) else text)
    return Map(out)


def _assign_ids(
    base_cells: list[dict[str, Any]], their_cells: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Disk cells without ids (nbformat < 4.5) take the id of the base cell they match,
    by position within runs of changed cells; unmatched ones get new ids."""
    if all("id" in c for c in their_cells):
        return their_cells

    def key(cell: dict[str, Any]) -> tuple[str, str]:
        return (cell.get("cell_type", ""), _source(cell))

    matcher = difflib.SequenceMatcher(
        None, [key(c) for c in base_cells], [key(c) for c in their_cells], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace"):
            for bi, ti in zip(range(i1, i2), range(j1, j2), strict=False):
                their_cells[ti].setdefault("id", base_cells[bi].get("id", str(uuid.uuid4())))
    for cell in their_cells:
        cell.setdefault("id", str(uuid.uuid4()))
    return their_cells
