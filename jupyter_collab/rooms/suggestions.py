"""Suggested edits: text a commenter proposes in place of what a thread anchors to.

People who may edit accept a suggestion (the server makes the change, stored in the
history as the suggester's, with who accepted it on the thread), reject it, or undo an
accepted one (the server puts the old text back, as the undoer's change). The change
touches only what differs between the old and the new text, so the cursors, comment
anchors and concurrent typing on the text they share stay where they are.

Offsets here are Python string offsets; pycrdt's ``Text`` counts UTF-8 bytes, so they
are converted at the last moment (``_byte_offset``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pycrdt import Text


@dataclass(frozen=True)
class Target:
    """Where a thread's text is now: ``text[start:end]`` of a pycrdt ``Text``, in
    characters; ``cell_id`` for a notebook cell."""

    text: Text
    start: int
    end: int
    cell_id: str | None = None

    def current(self) -> str:
        return str(self.text)[self.start : self.end]


def replace(target: Target, new: str) -> tuple[int, int]:
    """Replace what ``target`` covers by ``new``, changing only the part that differs;
    the caller holds the document's transaction. Returns where ``new`` now is, in
    characters (``start``, ``start + len(new)``)."""
    whole = str(target.text)
    old = whole[target.start : target.end]
    prefix = _common_prefix(old, new)
    suffix = _common_prefix(old[prefix:][::-1], new[prefix:][::-1])
    cut_from, cut_to = target.start + prefix, target.end - suffix
    inserted = new[prefix : len(new) - suffix]
    byte_from = _byte_offset(whole, cut_from)
    if cut_to > cut_from:
        del target.text[byte_from : _byte_offset(whole, cut_to)]
    if inserted:
        target.text.insert(byte_from, inserted)
    return target.start, target.start + len(new)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())
