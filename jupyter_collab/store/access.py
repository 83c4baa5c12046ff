"""Who may reach what, as stored: memberships (a role given on a path) and share links
with the guests who joined through them. ``AccessControl`` (``jupyter_collab/access.py``)
reads and changes them through the ``AccessRecords`` protocol.

Both are kept per server root and per path, so they follow a file (or a folder) when it
is renamed through Jupyter, and go when it is deleted: the history repository calls
``rename_sync`` and ``forget_sync`` inside its own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlite_utils

from ..permissions import LinkGuest, Membership, Role, ShareLink, ancestors
from .migrations import atomic
from .worker import SQLiteWorker

PATH_TABLES = ("memberships", "share_links")


class AccessRepository:
    """Memberships and share links in the store's database (implements ``AccessRecords``).

    Args:
        worker: the process's one SQLite worker.
        clock: the time stamped on grants and on revocations at a delete.
    """

    def __init__(self, worker: SQLiteWorker, *, clock: Callable[[], float] = time.time) -> None:
        self._worker = worker
        self._clock = clock

    # -- memberships --------------------------------------------------------------------

    async def grant(
        self, root: str, path: str, principal: str, role: Role, *, granted_by: str
    ) -> Membership:
        """Give ``principal`` ``role`` on ``path`` (replacing what they had there)."""
        membership = Membership(path.strip("/"), principal, role, granted_by, self._clock())

        def write() -> None:
            m = membership
            self._worker.db.execute(
                "INSERT OR REPLACE INTO memberships "
                "(root, path, principal, role, granted_by, granted_at) VALUES (?, ?, ?, ?, ?, ?)",
                [root, m.path, m.principal, m.role.label, m.granted_by, m.granted_at],
            )

        await self._worker.run(write)
        return membership

    async def revoke(self, root: str, path: str, principal: str) -> bool:
        """Remove ``principal``'s membership on exactly ``path``; False if there was none."""

        def revoke() -> bool:
            cur = self._worker.db.execute(
                "DELETE FROM memberships WHERE root = ? AND path = ? AND principal = ?",
                [root, path.strip("/"), principal],
            )
            return bool(cur.rowcount)

        return await self._worker.run(revoke)

    async def memberships(self, root: str, *, covering: str | None = None) -> list[Membership]:
        """Memberships of ``root``: all of them, or those that apply to ``covering``
        (granted on it or on a folder above it)."""

        def read() -> list[Membership]:
            sql = (
                "SELECT path, principal, role, granted_by, granted_at FROM memberships "
                "WHERE root = ?"
            )
            args: list[Any] = [root]
            if covering is not None:
                paths = ancestors(covering)
                sql += f" AND path IN ({', '.join('?' * len(paths))})"
                args += paths
            rows = self._worker.db.execute(sql + " ORDER BY path, principal", args).fetchall()
            return [Membership(p, who, Role.parse(r), by, at) for p, who, r, by, at in rows]

        return await self._worker.run(read)

    # -- share links --------------------------------------------------------------------

    async def create_link(self, root: str, link: ShareLink) -> None:
        def write() -> None:
            self._worker.db.execute(
                "INSERT INTO share_links (link_id, token, root, path, role, created_by, "
                "created_at, expires_at, revoked_at, label, created_by_name, last_used_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    link.link_id,
                    link.token,
                    root,
                    link.path,
                    link.role.label,
                    link.created_by,
                    link.created_at,
                    link.expires_at,
                    link.revoked_at,
                    link.label,
                    link.created_by_name,
                    link.last_used_at,
                ],
            )

        await self._worker.run(write)

    async def revoke_link(self, root: str, link_id: str, when: float) -> bool:
        def write() -> bool:
            cur = self._worker.db.execute(
                "UPDATE share_links SET revoked_at = ? "
                "WHERE root = ? AND link_id = ? AND revoked_at IS NULL",
                [when, root, link_id],
            )
            return bool(cur.rowcount)

        return await self._worker.run(write)

    async def set_link_role(self, root: str, link_id: str, role: Role) -> bool:
        def write() -> bool:
            cur = self._worker.db.execute(
                "UPDATE share_links SET role = ? WHERE root = ? AND link_id = ?",
                [role.label, root, link_id],
            )
            return bool(cur.rowcount)

        return await self._worker.run(write)

    async def set_link_label(self, root: str, link_id: str, label: str) -> bool:
        def write() -> bool:
            cur = self._worker.db.execute(
                "UPDATE share_links SET label = ? WHERE root = ? AND link_id = ?",
                [label, root, link_id],
            )
            return bool(cur.rowcount)

        return await self._worker.run(write)

    async def add_link_guest(self, root: str, link_id: str, guest: LinkGuest) -> None:
        """Record that ``guest`` joined through a link (which counts as using it)."""

        def write() -> None:
            db = self._worker.db
            with atomic(db):
                db.execute(
                    "INSERT OR REPLACE INTO share_link_guests (link_id, guest_id, name, "
                    "joined_at) VALUES (?, ?, ?, ?)",
                    [link_id, guest.guest_id, guest.name, guest.joined_at],
                )
                self._use_links_sync(db, root, {link_id: guest.joined_at})

        await self._worker.run(write)

    async def set_links_used(self, root: str, used: dict[str, float]) -> None:
        """Move links' ``last_used_at`` forward (never back) to the given times."""

        def write() -> None:
            db = self._worker.db
            with atomic(db):
                self._use_links_sync(db, root, used)

        await self._worker.run(write)

    @staticmethod
    def _use_links_sync(db: sqlite_utils.Database, root: str, used: dict[str, float]) -> None:
        db.conn.executemany(
            "UPDATE share_links SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) "
            "WHERE root = ? AND link_id = ?",
            [(when, root, link_id) for link_id, when in used.items()],
        )

    async def links(self, root: str) -> list[ShareLink]:
        """Every share link of ``root``, revoked and expired ones included, each with the
        guests who joined through it."""

        def read() -> list[ShareLink]:
            db = self._worker.db
            guests: dict[str, list[LinkGuest]] = {}
            for link_id, guest_id, name, joined_at in db.execute(
                "SELECT g.link_id, g.guest_id, g.name, g.joined_at FROM share_link_guests g "
                "JOIN share_links l ON l.link_id = g.link_id WHERE l.root = ? "
                "ORDER BY g.joined_at",
                [root],
            ):
                guests.setdefault(link_id, []).append(LinkGuest(guest_id, name, joined_at))
            rows = db.execute(
                "SELECT link_id, token, path, role, created_by, created_at, expires_at, "
                "revoked_at, label, created_by_name, last_used_at FROM share_links "
                "WHERE root = ? ORDER BY created_at",
                [root],
            ).fetchall()
            return [
                ShareLink(
                    lid,
                    token,
                    path,
                    Role.parse(role),
                    by,
                    at,
                    exp,
                    rev,
                    label=label,
                    created_by_name=by_name or by,
                    last_used_at=used,
                    guests=tuple(guests.get(lid, ())),
                )
                for lid, token, path, role, by, at, exp, rev, label, by_name, used in rows
            ]

        return await self._worker.run(read)

    # -- following files (on the worker thread, inside the history's transaction) ---------

    def rename_sync(self, db: sqlite_utils.Database, root: str, old: str, new: str) -> None:
        """Memberships and share links follow the file (or folder) they were given on."""
        prefix = old + "/"
        for table in PATH_TABLES:
            db.execute(
                f"UPDATE OR REPLACE {table} SET path = ? WHERE root = ? AND path = ?",
                [new, root, old],
            )
            db.execute(
                f"UPDATE OR REPLACE {table} SET path = ? || substr(path, ?) "
                "WHERE root = ? AND substr(path, 1, ?) = ?",
                [new + "/", len(prefix) + 1, root, len(prefix), prefix],
            )

    def forget_sync(self, db: sqlite_utils.Database, root: str, path: str) -> None:
        """A new file at ``path`` later must not inherit who could see the old one: drop
        the memberships on it (or under it) and revoke its share links."""
        prefix = path + "/"
        where = "root = ? AND (path = ? OR substr(path, 1, ?) = ?)"
        args = [root, path, len(prefix), prefix]
        db.execute(f"DELETE FROM memberships WHERE {where}", args)
        db.execute(
            f"UPDATE share_links SET revoked_at = ? WHERE revoked_at IS NULL AND {where}",
            [self._clock(), *args],
        )
