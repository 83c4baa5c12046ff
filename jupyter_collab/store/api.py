"""The protocols the rest of the server programs against, one per repository.

Rooms append to and load from a ``HistoryLog`` and keep cell locks in ``LockRecords``;
``AccessControl`` keeps memberships and share links in ``AccessRecords``. The SQLite
repositories of this package implement them; tests may pass fakes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ..permissions import LinkGuest, Membership, Role, ShareLink
from .records import DocumentRecord, History


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

    async def forget_path(self, root: str, path: str) -> list[str]: ...


@runtime_checkable
class LockRecords(Protocol):
    """The locked cells of each notebook (``locks.LockRepository`` implements it)."""

    async def set_lock(self, doc_id: str, cell_id: str, *, locked: bool, by: str) -> None: ...

    async def locks(self, doc_id: str) -> set[str]: ...


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
