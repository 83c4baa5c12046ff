"""What rooms need from the rest of the server, as Protocols.

The room package imports no storage, transport or identity code: the history store, the
lock records, the access control and client connections arrive through these.
"""

from __future__ import annotations

from typing import Protocol

from ..permissions import Role
from ..store import CommentRecords, ExecutionRecords, HistoryLog, LockRecords, VersionRecords

__all__ = [
    "Access",
    "Channel",
    "CommentRecords",
    "ExecutionRecords",
    "HistoryLog",
    "LockRecords",
    "VersionRecords",
]


class Access(Protocol):
    """Who may do what (``access.AccessControl`` implements it)."""

    async def role_of(self, username: str, path: str) -> Role | None:
        """The role of ``username`` on ``path``; ``None``: no access at all."""
        ...

    async def tick(self) -> None:
        """Time passed: act on share links that expired."""
        ...


class Channel(Protocol):
    """One client connection, as the room sees it."""

    def send(self, message: bytes) -> None: ...

    def close(self, code: int, reason: str) -> None: ...
