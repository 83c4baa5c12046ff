"""Who has which role on which document, on this server: owners, memberships and the
default role, read from the store's access records (``permissions.py`` holds the rules)."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from .permissions import (
    LinkGuest,
    Membership,
    Role,
    ShareLink,
    ancestors,
    covers,
    effective_role,
)
from .store.api import AccessRecords

GUEST_PREFIX = "guest:"  # guest:<link id>:<guest id>; no hub or PAM name holds a colon


# a link's last use is kept in memory and written at most this often (and on joins)
USAGE_WRITE_SECONDS = 60.0


def guest_link_id(username: str) -> str | None:
    """The share link a guest came in through, or ``None`` for everyone else."""
    if not username.startswith(GUEST_PREFIX):
        return None
    parts = username.split(":")
    return parts[1] if len(parts) == 3 and parts[1] else None


log = logging.getLogger(__name__)

RoleListener = Callable[[str], Awaitable[None]]


class AccessControl:
    """Roles of this server's users.

    Args:
        store: where memberships and share links live.
        root: the server root; memberships are kept per root.
        owners: usernames that own everything. ``None`` means every user the server
            itself authenticated (the token or password holder: with a single-user
            server they are one person, and they can run code anyway).
        default_role: the role of authenticated users who are not owners and hold no
            membership; ``None`` gives them no access.
    """

    def __init__(
        self,
        store: AccessRecords,
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
        self._links: dict[str, ShareLink] = {}
        self._expired: set[str] = set()  # links whose expiry was already acted on
        # last use of each link by its guests, newer than the store's until written
        self._used: dict[str, float] = {}
        self._unwritten: set[str] = set()
        self._usage_written = 0.0
        self.clock: Callable[[], float] = time.time

    async def load(self) -> None:
        """(Re)read memberships and share links (at start, after renames and deletes)."""
        self._cache = await self.store.memberships(self.root)
        self._links = {link.link_id: link for link in await self.store.links(self.root)}

    def is_owner(self, username: str) -> bool:
        if guest_link_id(username) is not None:
            return False  # guests come through a link, never as the server's owner
        return self.owners is None or username in self.owners

    def holds_any_role(self, username: str) -> bool:
        """Whether ``username`` may still reach anything here (from memory): an owner, a
        guest whose link is active, or someone with the default role or a membership."""
        if guest_link_id(username) is not None:
            return self.guest_link(username) is not None
        if self.is_owner(username) or self.default_role is not None:
            return True
        return any(m.principal == username for m in self._cache or [])

    async def role_of(self, username: str, path: str) -> Role | None:
        """The role of ``username`` on ``path`` (``None``: no access)."""
        if self._cache is None:
            await self.load()
        return self.role_now(username, path)

    def role_now(self, username: str, path: str) -> Role | None:
        """``role_of`` from memory (after ``load``); for callers that cannot wait."""
        link_id = guest_link_id(username)
        if link_id is not None:
            # a guest holds exactly what their link gives, while it is active
            link = self.active_link(link_id)
            return link.role if link is not None and covers(link.path, path.strip("/")) else None
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

    def memberships_now(self) -> list[Membership]:
        """Every membership, from memory."""
        return list(self._cache or [])

    def guest_link(self, username: str) -> ShareLink | None:
        """The active link a guest came through (``None`` for everyone else)."""
        link_id = guest_link_id(username)
        return None if link_id is None else self.active_link(link_id)

    # -- share links --------------------------------------------------------------------

    def active_link(self, link_id: str) -> ShareLink | None:
        link = self._links.get(link_id)
        return link if link is not None and link.active(self.clock()) else None

    def link_for_token(self, token: str) -> ShareLink | None:
        """The active link whose URL carries ``token``."""
        for link in self._links.values():
            if secrets.compare_digest(link.token, token) and link.active(self.clock()):
                return link
        return None

    def links_on(self, path: str) -> list[ShareLink]:
        """The links given on exactly ``path``, revoked and expired ones included, with
        their latest use."""
        return [
            self._with_use(link) for link in self._links.values() if link.path == path.strip("/")
        ]

    def _with_use(self, link: ShareLink) -> ShareLink:
        used = self._used.get(link.link_id)
        if used is None or (link.last_used_at is not None and link.last_used_at >= used):
            return link
        return replace(link, last_used_at=used)

    async def create_link(
        self,
        path: str,
        role: Role,
        *,
        by: str,
        by_name: str = "",
        expires_in: float | None,
        label: str = "",
    ) -> ShareLink:
        if role is Role.OWNER:
            raise ValueError("a share link cannot make guests owners")
        now = self.clock()
        link = ShareLink(
            link_id=uuid.uuid4().hex[:12],
            token=secrets.token_urlsafe(24),
            path=path.strip("/"),
            role=role,
            created_by=by,
            created_at=now,
            expires_at=None if expires_in is None else now + expires_in,
            revoked_at=None,
            label=label,
            created_by_name=by_name or by,
        )
        await self.store.create_link(self.root, link)
        await self.load()
        log.info("%s created a %s share link on /%s", by, role.label, link.path)
        return link

    async def set_link_label(self, link_id: str, label: str, *, by: str) -> bool:
        """Rename a link (any link, active or not: its label is only for its owners)."""
        link = self._links.get(link_id)
        if link is None or not await self.store.set_link_label(self.root, link_id, label):
            return False
        await self.load()
        log.info("%s labelled share link %s on /%s %r", by, link_id, link.path, label)
        return True

    async def guest_joined(self, link_id: str, guest_id: str, name: str) -> None:
        """Record a guest who joined through a link (written at once)."""
        now = self.clock()
        await self.store.add_link_guest(self.root, link_id, LinkGuest(guest_id, name, now))
        self._used[link_id] = max(now, self._used.get(link_id, 0.0))
        await self.load()

    def link_used(self, link_id: str) -> None:
        """A guest of this link made a request: remember when, in memory only (``tick``
        writes it within ``USAGE_WRITE_SECONDS``)."""
        self._used[link_id] = self.clock()
        self._unwritten.add(link_id)

    async def write_usage(self) -> None:
        """Write the links' last uses not written yet (at shutdown, and from ``tick``)."""
        self._usage_written = self.clock()
        if not self._unwritten:
            return
        used = {link_id: self._used[link_id] for link_id in self._unwritten}
        self._unwritten.clear()
        try:
            await self.store.set_links_used(self.root, used)
        except Exception:
            # only a "last used" time: keep it in memory and try again on the next write
            log.warning("could not write the last use of share links", exc_info=True)
            self._unwritten.update(used)

    async def set_link_role(self, link_id: str, role: Role, *, by: str) -> bool:
        """Change what a link gives; its connected guests get the new role at once."""
        if role is Role.OWNER:
            raise ValueError("a share link cannot make guests owners")
        link = self.active_link(link_id)
        if link is None or not await self.store.set_link_role(self.root, link_id, role):
            return False
        await self.load()
        log.info("%s made share link %s on /%s give %s", by, link_id, link.path, role.label)
        await self._changed(link.path)
        return True

    async def revoke_link(self, link_id: str, *, by: str) -> bool:
        """Revoke a link; its guests lose their role at once (and are disconnected)."""
        link = self._links.get(link_id)
        if link is None or not await self.store.revoke_link(self.root, link_id, self.clock()):
            return False
        await self.load()
        log.info("%s revoked the share link %s on /%s", by, link_id, link.path)
        await self._changed(link.path)
        return True

    async def tick(self) -> None:
        """Act on links that expired since the last tick: their guests lose access. Write
        links' last uses every ``USAGE_WRITE_SECONDS``."""
        now = self.clock()
        if now - self._usage_written >= USAGE_WRITE_SECONDS:
            await self.write_usage()
        for link in list(self._links.values()):
            expired = link.expires_at is not None and link.expires_at <= now
            if expired and link.revoked_at is None and link.link_id not in self._expired:
                self._expired.add(link.link_id)
                log.info("share link %s on /%s expired", link.link_id, link.path)
                await self._changed(link.path)

    def on_change(self, listener: RoleListener) -> None:
        """Call ``listener(path)`` after memberships on ``path`` (and below) changed."""
        self._listeners.append(listener)

    async def _changed(self, path: str) -> None:
        for listener in self._listeners:
            await listener(path)
