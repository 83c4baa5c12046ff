"""What the store hands out: plain frozen records of stored documents, their history,
and the comment threads kept on them.

Memberships and share links have their records in ``permissions.py``, next to the rules
that read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


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


RunStatus = Literal["running", "ok", "error", "unknown"]


@dataclass(frozen=True)
class Execution:
    """One run of a notebook cell: who started it, when, and how it ended (``unknown``:
    the runner's connection closed before its JupyterLab said)."""

    run_id: int
    doc_id: str
    cell_id: str
    author: str  # a username
    started_at: float
    finished_at: float | None
    status: RunStatus
    ename: str | None = None


ThreadStatus = Literal["open", "resolved"]
SuggestionState = Literal["open", "accepted", "rejected"]


@dataclass(frozen=True)
class Message:
    """One message of a comment thread. A deleted message keeps its place as a
    placeholder (``body`` empty, no mentions), so the thread around it stays readable."""

    message_id: str
    thread_id: str
    author: str  # a username
    body: str  # markdown
    mentions: tuple[str, ...]  # usernames
    created_at: float
    edited_at: float | None = None  # the last edit; None if never edited
    deleted_at: float | None = None
    deleted_by: str | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class Thread:
    """A comment thread on one document, kept by ``doc_id`` (so it follows renames).

    ``anchor`` is where it points in the document, a JSON object the store does not
    read; ``detached`` is set once that place is gone. A ``private`` thread is meant for
    its author and the owners only (the service filters; the store keeps all). A thread
    may carry a ``suggestion``: text proposed in place of what it anchors to, decided
    once by ``suggestion_state``.
    """

    thread_id: str
    doc_id: str
    anchor: dict[str, Any]
    author: str
    created_at: float
    private: bool
    status: ThreadStatus
    resolved_by: str | None
    resolved_at: float | None
    detached: bool
    suggestion: str | None
    suggestion_state: SuggestionState | None  # None exactly when there is no suggestion
    suggestion_decided_by: str | None
    suggestion_decided_at: float | None
    messages: tuple[Message, ...] = ()  # oldest first; the first one opened the thread


@dataclass(frozen=True)
class ThreadView:
    """A thread as clients receive it: its JSON text, with what deciding who may see it
    takes (``CommentRecords.thread_views``)."""

    thread_id: str
    author: str
    private: bool
    json: str
