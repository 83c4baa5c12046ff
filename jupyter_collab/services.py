"""What the edge uses of the extension: the ``Services`` that handlers, the gate, the
guests' join page and the authorizer are given, and the ``Access`` rules they ask.

Two ``typing.Protocol``s and nothing else: ``CollabApp`` provides ``Services`` and
``access.AccessControl`` provides ``Access`` (mypy checks both at the end of ``app.py``;
tests/test_services.py at run time). Listing exactly what the edge calls keeps it from
reaching into the app for anything else. Imports no tornado and no jupyter_server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .permissions import Membership, Role, ShareLink
from .rooms import RoomRegistry


class Access(Protocol):
    """Who has which role on which path (``access.AccessControl``)."""

    @property
    def clock(self) -> Callable[[], float]:
        """Seconds since the epoch (links' creation, expiry, last use)."""
        ...

    @property
    def default_role(self) -> Role | None:
        """The role of people who are not owners and hold no membership."""
        ...

    def is_owner(self, username: str) -> bool: ...

    def holds_any_role(self, username: str) -> bool: ...

    async def role_of(self, username: str, path: str) -> Role | None: ...

    def role_now(self, username: str, path: str) -> Role | None: ...

    async def memberships(self, path: str | None = None) -> list[Membership]: ...

    def memberships_now(self) -> list[Membership]: ...

    async def grant(self, path: str, principal: str, role: Role, *, by: str) -> Membership: ...

    async def revoke(self, path: str, principal: str, *, by: str) -> bool: ...

    def guest_link(self, username: str) -> ShareLink | None: ...

    def active_link(self, link_id: str) -> ShareLink | None: ...

    def link_for_token(self, token: str) -> ShareLink | None: ...

    def links_on(self, path: str) -> list[ShareLink]: ...

    async def create_link(
        self,
        path: str,
        role: Role,
        *,
        by: str,
        by_name: str = "",
        expires_in: float | None,
        label: str = "",
    ) -> ShareLink: ...

    async def set_link_role(self, link_id: str, role: Role, *, by: str) -> bool: ...

    async def set_link_label(self, link_id: str, label: str, *, by: str) -> bool: ...

    async def revoke_link(self, link_id: str, *, by: str) -> bool: ...

    async def guest_joined(self, link_id: str, guest_id: str, name: str) -> None: ...

    def link_used(self, link_id: str) -> None: ...


class Services(Protocol):
    """What the edge (``handlers/``, ``gate``, ``guests``, ``authorizer``) uses of
    ``CollabApp``."""

    @property
    def access(self) -> Access: ...

    @property
    def registry(self) -> RoomRegistry: ...

    @property
    def rest_guarded(self) -> bool:
        """Whether ``CollabAuthorizer`` governs Jupyter's REST API (share links need it)."""
        ...

    @property
    def max_message_bytes(self) -> int: ...

    @property
    def max_messages_per_second(self) -> float: ...

    @property
    def message_burst(self) -> int: ...

    @property
    def handshake_timeout_seconds(self) -> float | None: ...

    async def ready(self) -> None:
        """Open the store and start background work, once."""
        ...

    def can_execute(self, username: str, role: Role) -> bool: ...

    async def can_execute_somewhere(self, username: str) -> bool: ...

    def canonical_path(self, raw: str) -> str:
        """The path ``raw`` names, resolved as the ContentsManager resolves it.

        Raises:
            PermissionDenied: the path leaves the root or names a hidden file.
        """
        ...

    async def contents_exists(self, path: str) -> bool: ...
