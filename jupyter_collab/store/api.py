"""The protocols the rest of the server programs against, one per repository.

Rooms append to and load from a ``HistoryLog`` and keep cell locks in ``LockRecords``;
``AccessControl`` keeps memberships and share links in ``AccessRecords``; the comment
service keeps threads in ``CommentRecords``. The SQLite repositories of this package
implement them; tests may pass fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ..permissions import LinkGuest, Membership, Role, ShareLink
from .records import (
    DocumentRecord,
    Execution,
    History,
    Message,
    RunStatus,
    SuggestionState,
    Thread,
    ThreadStatus,
    ThreadView,
)
from .versions import Version, VersionKind


@runtime_checkable
class HistoryLog(Protocol):
    """What rooms need from the history: append and load updates, save points, and the
    documents' records (``history.HistoryRepository`` implements it)."""

    def append(
        self, doc_id: str, update: bytes, *, author: str, origin: str, client_ids: Iterable[int]
    ) -> int: ...

    def seal(self, doc_id: str) -> None: ...

    def mark_saved(self, doc_id: str, seq: int, *, mtime: str | None, hash: str | None) -> None: ...

    def last_seq(self, doc_id: str) -> int: ...

    def is_durable(self, doc_id: str) -> bool: ...

    async def flush(self, *, attempts: int = 1) -> None: ...

    async def load(self, doc_id: str, *, upto_seq: int | None = None) -> History: ...

    async def find_document(self, root: str, path: str) -> DocumentRecord | None: ...

    async def get_document(self, doc_id: str) -> DocumentRecord | None: ...

    async def create_document(
        self,
        root: str,
        path: str,
        kind: str,
        snapshot: bytes,
        *,
        mtime: str | None,
        hash: str | None,
    ) -> DocumentRecord: ...

    async def rename_path(self, root: str, old: str, new: str) -> int: ...

    async def client_authors(self, doc_id: str) -> dict[int, str]: ...

    async def authors_between(self, doc_id: str, after_seq: int, upto_seq: int) -> list[str]: ...

    async def size(self, doc_id: str) -> dict[str, int]: ...

    async def forget_path(self, root: str, path: str) -> list[str]: ...

    async def deleted_at(self, root: str, path: str, kind: str) -> list[DocumentRecord]: ...

    async def revive(self, doc_id: str, path: str) -> DocumentRecord: ...


@runtime_checkable
class LockRecords(Protocol):
    """The locked cells of each notebook (``locks.LockRepository`` implements it)."""

    async def set_lock(self, doc_id: str, cell_id: str, *, locked: bool, by: str) -> None: ...

    async def locks(self, doc_id: str) -> set[str]: ...


@runtime_checkable
class ExecutionRecords(Protocol):
    """Who ran which notebook cell (``executions.ExecutionRepository`` implements it)."""

    async def started(self, doc_id: str, cell_id: str, author: str, at: float) -> int: ...

    async def finished(
        self, run_id: int, at: float, status: RunStatus, ename: str | None
    ) -> None: ...

    async def latest(self, doc_id: str) -> list[Execution]: ...

    async def runs(self, doc_id: str) -> list[Execution]: ...


@runtime_checkable
class VersionRecords(Protocol):
    """The versions of documents (``versions.VersionRepository`` implements it)."""

    async def add(
        self,
        doc_id: str,
        seq: int,
        *,
        created_at: float,
        kind: VersionKind,
        name: str | None = None,
        by: str | None = None,
        authors: Iterable[str] = (),
        summary: dict[str, int] | None = None,
        fingerprint: dict[str, Any] | None = None,
    ) -> Version: ...

    async def versions(self, doc_id: str) -> list[Version]: ...

    async def version(self, doc_id: str, version_id: int) -> Version | None: ...

    async def latest(self, doc_id: str) -> Version | None: ...


@runtime_checkable
class AccessRecords(Protocol):
    """Memberships and share links of each server root, what ``AccessControl`` reads and
    changes (``access.AccessRepository`` implements it)."""

    async def grant(
        self, root: str, path: str, principal: str, role: Role, *, granted_by: str
    ) -> Membership: ...

    async def revoke(self, root: str, path: str, principal: str) -> bool: ...

    async def memberships(self, root: str, *, covering: str | None = None) -> list[Membership]: ...

    async def create_link(self, root: str, link: ShareLink) -> None: ...

    async def revoke_link(self, root: str, link_id: str, when: float) -> bool: ...

    async def set_link_role(self, root: str, link_id: str, role: Role) -> bool: ...

    async def set_link_label(self, root: str, link_id: str, label: str) -> bool: ...

    async def add_link_guest(self, root: str, link_id: str, guest: LinkGuest) -> None: ...

    async def set_links_used(self, root: str, used: dict[str, float]) -> None: ...

    async def links(self, root: str) -> list[ShareLink]: ...


@runtime_checkable
class CommentRecords(Protocol):
    """Comment threads of each document, kept by doc id, with their messages; what the
    comment service records and reads (``comments.CommentRepository`` implements it).
    It refuses unknown ids and impossible states, and checks no roles."""

    async def create_thread(
        self,
        doc_id: str,
        anchor: dict[str, Any],
        *,
        author: str,
        body: str,
        mentions: Sequence[str] = (),
        private: bool = False,
        suggestion: str | None = None,
    ) -> Thread: ...

    async def set_status(self, thread_id: str, status: ThreadStatus, *, by: str) -> Thread: ...

    async def set_anchor(
        self, thread_id: str, anchor: dict[str, Any], *, detached: bool
    ) -> Thread: ...

    async def set_anchors(
        self, doc_id: str, anchors: Mapping[str, tuple[dict[str, Any], bool]]
    ) -> None: ...

    async def decide_suggestion(
        self, thread_id: str, state: SuggestionState, *, by: str
    ) -> Thread: ...

    async def reply(
        self, thread_id: str, *, author: str, body: str, mentions: Sequence[str] = ()
    ) -> Message: ...

    async def edit_message(
        self, message_id: str, *, body: str, mentions: Sequence[str] = ()
    ) -> Message: ...

    async def delete_message(self, message_id: str, *, by: str) -> Message: ...

    async def threads(self, doc_id: str) -> list[Thread]: ...

    async def thread_views(self, doc_id: str) -> list[ThreadView]: ...

    async def thread(self, thread_id: str) -> Thread | None: ...

    async def message(self, message_id: str) -> Message | None: ...

    async def count_threads(self, doc_id: str) -> int: ...
