"""Who has which role on which document, on this server: owners, memberships and the
default role, read from the history store (``permissions.py`` holds the rules)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from .permissions import Membership, Role, ancestors, effective_role
from .store import HistoryStore

log = logging.getLogger(__name__)

RoleListener = Callable[[str], Awaitable[None]]


class AccessControl:
    """Roles of this server's users.

    Args:
        store: where memberships live.
        root: the server root; memberships are kept per root.
        owners: usernames that own everything. ``None`` means every user the server
            itself authenticated (the token or password holder: with a single-user
            server they are one person, and they can run code anyway).
        default_role: the role of authenticated users who are not owners and hold no
            membership; ``None`` gives them no access.
    """

    def __init__(
        self,
        store: HistoryStore,
        root: str,
        *,
        owners: frozenset[str] | None,
        default_role: Role | None,
    ) -> None:
        self.store = store
        self.root = root
        self.owners = owners
        self.default_role = default_role
        self._listeners: list[RoleListener] = []
        # every membership of this root, kept in memory once loaded: a few hundred rows
        # at most, read on every join, session call and REST request
        self._cache: list[Membership] | None = None

    async def load(self) -> None:
        """(Re)read the memberships (at start, and after renames and deletes moved them)."""
        self._cache = await self.store.memberships(self.root)

    def is_owner(self, username: str) -> bool:
        return self.owners is None or username in self.owners

    async def role_of(self, username: str, path: str) -> Role | None:
        """The role of ``username`` on ``path`` (``None``: no access)."""
        if self._cache is None:
            await self.load()
        return self.role_now(username, path)

    def role_now(self, username: str, path: str) -> Role | None:
        """``role_of`` from memory (after ``load``); for callers that cannot wait."""
        if self.is_owner(username):
            return Role.OWNER
        return effective_role(
            path.strip("/"),
            username,
            self._cache or [],
            is_owner=False,
            default_role=self.default_role,
        )

    async def memberships(self, path: str | None = None) -> list[Membership]:
        """Memberships on ``path`` and the folders above it, or all of them."""
        if self._cache is None:
            await self.load()
        if path is None:
            return list(self._cache or [])
        wanted = set(ancestors(path))
        return [m for m in self._cache or [] if m.path in wanted]

    async def grant(self, path: str, principal: str, role: Role, *, by: str) -> Membership:
        membership = await self.store.grant(self.root, path, principal, role, granted_by=by)
        await self.load()
        log.info("%s granted %s the %s role on /%s", by, principal, role.label, membership.path)
        await self._changed(membership.path)
        return membership

    async def revoke(self, path: str, principal: str, *, by: str) -> bool:
        removed = await self.store.revoke(self.root, path, principal)
        await self.load()
        if removed:
            log.info("%s revoked the membership of %s on /%s", by, principal, path.strip("/"))
            await self._changed(path.strip("/"))
        return removed

    def on_change(self, listener: RoleListener) -> None:
        """Call ``listener(path)`` after memberships on ``path`` (and below) changed."""
        self._listeners.append(listener)

    async def _changed(self, path: str) -> None:
        for listener in self._listeners:
            await listener(path)
