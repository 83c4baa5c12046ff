"""Roles and what they allow: the one place that answers "may this person do that here".

Four roles, ordered; each includes the rights of the ones below it:

    viewer < commenter < editor < owner
    read     comment     edit     manage (roles, locks, share links)

A membership grants a role to one person on a path: a file, or a folder and everything
inside it (``""`` is the whole server root). The most specific membership decides:
someone's role on a file is the one granted on the file itself, else on the nearest
folder above it, else the default role; so an owner can both share a folder and make one
file in it read-only for someone. Owners of the server are owners everywhere. Pure: no
I/O, no tornado.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Role(enum.IntEnum):
    """A person's role on a document; compare with ``<`` and ``>=``."""

    VIEWER = 1
    COMMENTER = 2
    EDITOR = 3
    OWNER = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        """``"editor"`` -> ``Role.EDITOR``.

        Raises:
            ValueError: for anything that is not a role name.
        """
        try:
            return cls[value.strip().upper()]
        except (KeyError, AttributeError):
            names = ", ".join(r.label for r in cls)
            raise ValueError(f"unknown role {value!r}: expected one of {names}") from None


class Action(enum.Enum):
    READ = "read"
    COMMENT = "comment"
    EDIT = "edit"
    MANAGE = "manage"


_NEEDS = {
    Action.READ: Role.VIEWER,
    Action.COMMENT: Role.COMMENTER,
    Action.EDIT: Role.EDITOR,
    Action.MANAGE: Role.OWNER,
}


def allows(role: Role | None, action: Action) -> bool:
    """Whether ``role`` may do ``action`` (``None``, no access, may do nothing)."""
    return role is not None and role >= _NEEDS[action]


@dataclass(frozen=True)
class Membership:
    """``principal`` holds ``role`` on ``path`` and everything below it."""

    path: str  # relative to the server root, no leading or trailing slash; "" = all
    principal: str  # a username
    role: Role
    granted_by: str
    granted_at: float


MAX_LINK_LABEL = 80


@dataclass(frozen=True)
class LinkGuest:
    """Someone who joined through a share link, with the name they chose."""

    guest_id: str
    name: str
    joined_at: float


@dataclass(frozen=True)
class ShareLink:
    """Whoever holds ``token`` may join as a guest with ``role`` on ``path`` (and below),
    until ``expires_at`` (seconds since the epoch; ``None``: until revoked).

    ``label`` is the owner's name for it ("Period 3"), ``created_by_name`` the creator's
    display name when it was made, ``guests`` who joined through it (oldest first) and
    ``last_used_at`` the last join or request of any of them (``None``: never used).
    """

    link_id: str
    token: str
    path: str
    role: Role
    created_by: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    label: str = ""
    created_by_name: str = ""
    last_used_at: float | None = None
    guests: tuple[LinkGuest, ...] = ()

    def active(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def parse_link_label(value: object) -> str:
    """An owner's label for a link, as stored: whitespace runs made one space, control
    characters dropped.

    Raises:
        ValueError: not a string, or longer than ``MAX_LINK_LABEL`` characters.
    """
    if not isinstance(value, str):
        raise ValueError(f"label must be a string, not {type(value).__name__}")
    label = " ".join("".join(ch for ch in value if ch.isprintable() or ch.isspace()).split())
    if len(label) > MAX_LINK_LABEL:
        raise ValueError(
            f"label is {len(label)} characters long: at most {MAX_LINK_LABEL} are allowed"
        )
    return label


def covers(membership_path: str, path: str) -> bool:
    """Whether a membership on ``membership_path`` applies to ``path``."""
    if membership_path in ("", path):
        return True
    return path.startswith(membership_path + "/")


def ancestors(path: str) -> list[str]:
    """``a/b/c.ipynb`` -> ``["", "a", "a/b", "a/b/c.ipynb"]``: every path a membership
    could be granted on to cover ``path``."""
    parts = [p for p in path.strip("/").split("/") if p]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


def effective_role(
    path: str,
    username: str,
    memberships: Iterable[Membership],
    *,
    is_owner: bool,
    default_role: Role | None,
) -> Role | None:
    """The role of ``username`` on ``path``: owner for the server's owners, else the role
    of the most specific membership covering ``path``, else ``default_role``; ``None``
    for no access at all."""
    if is_owner:
        return Role.OWNER
    nearest: Membership | None = None
    for membership in memberships:
        if membership.principal != username or not covers(membership.path, path):
            continue
        if nearest is None or len(membership.path) > len(nearest.path):
            nearest = membership
    return default_role if nearest is None else nearest.role
