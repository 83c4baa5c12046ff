"""Where a comment thread points in a document, and how it follows the text.

A range anchor is two Yjs relative positions in one ``Text`` (a notebook cell's source,
or a text file's): ``{"kind": "range", "cell_id"?, "start", "end", "quote"}``, each
position standard base64 of ``Y.encodeRelativePosition``. The start sticks to the first
character of the range (assoc 0), the end to its last (assoc -1), so typing just before
or just after a range does not grow it, and a concurrent edit anywhere moves it exactly
as it moves the characters. pycrdt's ``StickyIndex`` reads and writes the same bytes as
Yjs (tests/interop/test_relative_positions.py).

When the positions no longer resolve (JupyterLab moves a cell as a delete and an insert
of a copy: a new ``Text``), or the range collapsed while its cell still has text (a merge
or a "set source" rewrites the whole text), the anchor is made again on the ``quote``,
at the occurrence nearest to where the range last was. Only when the quote is nowhere in
its cell is the thread detached; it attaches by itself again when the quote comes back.

Offsets: Yjs counts UTF-16 units, pycrdt's ``Text`` edits count UTF-8 bytes, Python
strings count code points; everything outside this module is in code points. pycrdt
0.14's sticky indexes count a mix: UTF-8 bytes for the runs of text left of the
position's run, UTF-16 units inside it. That is exact for ASCII text. For other text,
positions are read on a scratch copy of the document whose non-ASCII characters are
deleted (character ids stay the same, so the copy's positions are the document's): exact
on ASCII characters, and to the edge of the run for a position on a non-ASCII one.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pycrdt import Array, Assoc, Doc, StickyIndex, Text

if TYPE_CHECKING:
    from .room import Room


class AnchorError(ValueError):
    """An anchor a client sent that does not point into the document as it is."""


@dataclass(frozen=True)
class Resolved:
    """Where an anchor's text is now: ``str(text)[start:end]``, in code points."""

    text: Text
    start: int
    end: int
    cell_id: str | None = None


def text_of(room: Room, cell_id: str | None) -> Text | None:
    """The ``Text`` a range lives in: a notebook cell's source, or a file's text."""
    if room.kind != "notebook":
        return room.doc.get("source", type=Text) if cell_id is None else None
    if cell_id is None or room.cells is None:
        return None
    index = room.cells.index_of(cell_id)
    if index is None:
        return None
    source = room.cells.array[index].get("source")
    return source if isinstance(source, Text) else None


def parse_range(room: Room, anchor: dict[str, Any], max_quote_chars: int) -> dict[str, Any]:
    """The stored form of a range a client sent, with the ``quote`` it covers now.

    Raises:
        AnchorError: the cell or text does not exist, the positions are not base64 of
            relative positions into that very text, or the range is empty or longer
            than ``max_quote_chars``.
    """
    cell_id = anchor.get("cell_id")
    if room.kind == "notebook" and not isinstance(cell_id, str):
        raise AnchorError('a range in a notebook names its cell: "cell_id"')
    if room.kind != "notebook" and cell_id is not None:
        raise AnchorError('a text file has no cells: leave out "cell_id"')
    text = text_of(room, cell_id)
    if text is None:
        raise AnchorError(f"no cell {cell_id!r} in {room.path}")
    start = _decode(anchor.get("start"), "start")
    end = _decode(anchor.get("end"), "end")
    whole = str(text)
    if not (_in_text(text, start) and _in_text(text, end)):
        raise AnchorError("the range is outside the document (its text changed meanwhile?)")
    first, last = _indexes(cell_id, text, [start, end])
    if first is None or last is None:
        raise AnchorError("the range is outside the document (its text changed meanwhile?)")
    if first >= last:
        raise AnchorError("the range is empty")
    quote = whole[first:last]
    if len(quote) > max_quote_chars:
        raise AnchorError(f"a range covers at most {max_quote_chars} characters")
    stored: dict[str, Any] = {"kind": "range", "start": anchor["start"], "end": anchor["end"]}
    if cell_id is not None:
        stored["cell_id"] = cell_id
    stored["quote"] = quote
    return stored


def resolve(room: Room, anchor: dict[str, Any]) -> Resolved | None:
    """Where a stored anchor's text is now (a cell anchor: the whole cell); ``None`` when
    its cell or its positions are gone. A range whose text was deleted resolves empty."""
    cell_id = anchor.get("cell_id")
    text = text_of(room, cell_id if isinstance(cell_id, str) else None)
    if text is None:
        return None
    whole = str(text)
    if anchor.get("kind") == "cell":
        return Resolved(text, 0, len(whole), cell_id)
    try:
        encoded = [base64.b64decode(anchor["start"]), base64.b64decode(anchor["end"])]
    except (KeyError, TypeError, ValueError):
        return None
    start, end = _indexes(cell_id if isinstance(cell_id, str) else None, text, encoded)
    if start is None or end is None:
        return None
    return Resolved(text, start, max(start, end), cell_id if isinstance(cell_id, str) else None)


def intact(room: Room, anchor: dict[str, Any]) -> bool | None:
    """Whether a range still covers text, without reading which (cheap: pycrdt's own
    indexes keep the order of positions in one text, whatever they count). ``False``:
    it does, and its text is not ASCII (reading it exactly costs a copy of the
    document); ``True``: it does, in ASCII text; ``None``: it collapsed or is gone."""
    cell_id = anchor.get("cell_id")
    text = text_of(room, cell_id if isinstance(cell_id, str) else None)
    if text is None or anchor.get("kind") != "range":
        return None
    try:
        start = _raw(text, base64.b64decode(anchor["start"]))
        end = _raw(text, base64.b64decode(anchor["end"]))
    except (KeyError, TypeError, ValueError):
        return None
    if start is None or end is None or start >= end:
        return None
    return str(text).isascii()


def cover(anchor: dict[str, Any], text: Text, start: int, end: int) -> dict[str, Any]:
    """``anchor`` made again on ``text[start:end]`` (code points, ``start < end``); its
    quote is kept."""
    whole = str(text)
    if whole.isascii():
        first, last = text.sticky_index(start, Assoc.AFTER), text.sticky_index(end, Assoc.BEFORE)
    else:
        cell_id = anchor.get("cell_id")
        own = cell_id if isinstance(cell_id, str) else None
        update = text.doc.get_update()  # the document, encoded once for both ends
        first = _on_character(text, update, own, start, Assoc.AFTER)
        last = _on_character(text, update, own, end - 1, Assoc.BEFORE)
    return {
        **anchor,
        "start": base64.b64encode(first.encode()).decode(),
        "end": base64.b64encode(last.encode()).decode(),
    }


def _on_character(
    text: Text, update: bytes, cell_id: str | None, index: int, assoc: Assoc
) -> StickyIndex:
    """A position on the character at ``index`` (code points) of ``text``: made on a
    scratch copy of the document (``update``: its whole state) where that character is
    all that is left of the text, so pycrdt's index is exact there (see the module's note
    on offsets); character ids are the document's. ``Assoc.BEFORE`` sticks to the
    character (an end)."""
    whole = str(text)
    scratch: Doc[Any] = Doc()
    scratch.apply_update(update)
    copy = _same_text(scratch, cell_id)
    lo, hi = len(whole[:index].encode()), len(whole[: index + 1].encode())
    with scratch.transaction():
        del copy[hi:]
        del copy[:lo]
    return copy.sticky_index(0 if assoc == Assoc.AFTER else _utf16(whole[index], 1), assoc)


def find_quote(whole: str, quote: str, near: int) -> int | None:
    """Where ``quote`` is in ``whole``, the occurrence starting nearest to ``near``."""
    if not quote:
        return None
    best: int | None = None
    at = whole.find(quote)
    while at >= 0:
        if best is None or abs(at - near) < abs(best - near):
            best = at
        at = whole.find(quote, at + 1)
    return best


# -- positions --------------------------------------------------------------------------


def _decode(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise AnchorError(f'"{name}" must be a Yjs relative position in base64')
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AnchorError(f'"{name}" is not base64') from exc


def _raw(text: Text, encoded: bytes) -> int | None:
    """pycrdt's index of a position (see the module's note on offsets); ``None`` when it
    does not resolve (the text holding it was deleted) or is not a position at all."""
    with _refused_by_pycrdt():
        return int(StickyIndex.decode(encoded, text).get_index())
    return None


def _sticky(text: Text, index: int, assoc: Assoc) -> bytes | None:
    """The position pycrdt makes at ``index`` (its own count); ``None`` where it makes
    none: pycrdt 0.14 panics at the very end of a text with ``Assoc.AFTER``, a place
    Yjs writes as the text itself (a position only a start of an empty range has)."""
    with _refused_by_pycrdt():
        return bytes(text.sticky_index(index, assoc).encode())
    return None


@contextmanager
def _refused_by_pycrdt() -> Iterator[None]:
    """Swallow what pycrdt raises on a position it cannot make or read (the caller
    then has ``None``): a ``ValueError``, or a Rust panic, which pycrdt 0.14 raises on
    a position whose text was deleted (a moved cell) and on making one at the very end
    of a text with ``Assoc.AFTER``. ``PanicException`` derives from ``BaseException``;
    nothing else is caught."""
    try:
        yield
    except ValueError:
        pass
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise


def _in_text(text: Text, encoded: bytes) -> bool:
    """Whether a new position points into ``text`` itself: made again at its index, it
    is the same position (pycrdt resolves a position in whatever text holds its
    character, so a position from another cell would pass otherwise)."""
    raw = _raw(text, encoded)
    return raw is not None and _sticky(text, raw, _assoc(encoded)) == encoded


def _indexes(cell_id: str | None, text: Text, encoded: list[bytes]) -> list[int | None]:
    """The code point index of each position in ``text`` (``None``: gone)."""
    whole = str(text)
    raws = [_raw(text, e) for e in encoded]
    if whole.isascii():
        return [None if r is None else min(r, len(whole)) for r in raws]
    with _ascii_copy(text, cell_id) as (copy, ascii_at):
        found: list[int | None] = []
        for raw, e in zip(raws, encoded, strict=True):
            if raw is None:
                found.append(None)
                continue
            k = _raw(copy, e)
            if k is None:
                found.append(None)
            elif _sticky(copy, k, _assoc(e)) == e:  # on an ASCII character
                found.append(_ascii_index(ascii_at, k, _assoc(e), len(whole)))
            else:  # on a non-ASCII character (or a deleted one): the edge of its run
                found.append(_run_edge(ascii_at, k, _assoc(e), len(whole)))
        return found


def _ascii_index(ascii_at: list[int], k: int, assoc: Assoc, size: int) -> int:
    """The index in the document of the copy's index ``k`` (of ASCII characters only)."""
    if assoc == Assoc.BEFORE:  # sticks to the character before k
        return ascii_at[k - 1] + 1 if 0 < k <= len(ascii_at) else 0
    return ascii_at[k] if k < len(ascii_at) else size


def _run_edge(ascii_at: list[int], k: int, assoc: Assoc, size: int) -> int:
    """For a position on a non-ASCII character: the run of them after the k-th ASCII
    character; a start goes to the run's start, an end to its end."""
    if assoc == Assoc.BEFORE:
        return ascii_at[k] if k < len(ascii_at) else size
    return ascii_at[k - 1] + 1 if k > 0 else 0


# scratch copies by document, while the document is unchanged: (its state vector, the
# copy, per cell: the cell's text when copied, its ASCII-only text in the copy, and where
# those characters are in the original). A state vector does not change on deletions,
# so a cell's entry also holds its text: a deletion in it changes that.
_Cell = tuple[str, Text, list[int]]
_COPIES: OrderedDict[int, tuple[bytes, Doc[Any], dict[str | None, _Cell]]] = OrderedDict()
_MAX_COPIES = 8


@contextmanager
def _ascii_copy(text: Text, cell_id: str | None) -> Iterator[tuple[Text, list[int]]]:
    """A scratch copy of ``text``'s document with every non-ASCII character of ``text``
    deleted: its Text, and where each remaining character is in the original. One copy
    per document state serves every range of a check (a copy costs a full update)."""
    doc = text.doc
    state = doc.get_state()
    whole = str(text)
    known = _COPIES.get(id(doc))
    stale = known is not None and cell_id in known[2] and known[2][cell_id][0] != whole
    if known is None or known[0] != state or stale:
        scratch: Doc[Any] = Doc()
        scratch.apply_update(doc.get_update())
        known = (state, scratch, {})
        _COPIES[id(doc)] = known
        while len(_COPIES) > _MAX_COPIES:
            _COPIES.popitem(last=False)
    _COPIES.move_to_end(id(doc))
    cells = known[2]
    if cell_id not in cells:
        copy = _same_text(known[1], cell_id)
        with known[1].transaction():
            j = len(whole)
            while j > 0:  # delete from the end: earlier byte offsets stay right
                if whole[j - 1].isascii():
                    j -= 1
                    continue
                run_end = j
                while j > 0 and not whole[j - 1].isascii():
                    j -= 1
                del copy[len(whole[:j].encode()) : len(whole[:run_end].encode())]
        cells[cell_id] = (whole, copy, [j for j, char in enumerate(whole) if char.isascii()])
    yield cells[cell_id][1], cells[cell_id][2]


def _same_text(scratch: Doc[Any], cell_id: str | None) -> Text:
    """In a copy of a document, the text of cell ``cell_id`` (or of the file)."""
    if cell_id is None:
        text: Text = scratch.get("source", type=Text)
        return text
    for cell in scratch.get("cells", type=Array):
        source = cell.get("source")
        if cell.get("id") == cell_id and isinstance(source, Text):
            return source
    raise AnchorError(f"no cell {cell_id!r}")  # the copy is of a document that has it


def _assoc(encoded: bytes) -> Assoc:
    # the last byte of a v1 relative position is its assoc as a signed varint
    # (0 = after, 0x41 = -1 = before)
    return Assoc.BEFORE if encoded and encoded[-1] == 0x41 else Assoc.AFTER


def _utf16(whole: str, index: int) -> int:
    return len(whole[:index].encode("utf-16-le")) // 2
