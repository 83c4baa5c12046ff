"""What the store hands out: plain frozen records of stored documents and their history.

Memberships and share links have their records in ``permissions.py``, next to the rules
that read them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    root: str
    path: str | None
    kind: str
    epoch: str
    saved_seq: int
    saved_mtime: str | None
    saved_hash: str | None
    replaced_by: str | None = None  # set when another history took over this path


@dataclass(frozen=True)
class History:
    """What ``load`` returns: apply ``updates`` in order to rebuild the document."""

    updates: list[bytes]
    last_seq: int  # seq of the newest update included
    rows: int  # number of stored rows read (snapshot included)


@dataclass(frozen=True)
class AuthorTotals:
    author: str
    updates: int
    bytes: int
    first_time: float
    last_time: float
