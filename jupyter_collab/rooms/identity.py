"""Who is behind a connection: the server-authenticated identity and the room's client."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from ..colors import PALETTE
from ..permissions import Role
from .ports import Channel

# the authors of the room's own changes in the history (never a person's username: those
# come from the identity provider, and "server"/"disk" are reserved there by nothing, so
# the history tells them apart by origin too)
SERVER_AUTHOR = "server"
DISK_AUTHOR = "disk"


@dataclass(frozen=True)
class Identity:
    """Who is behind a connection, as the server authenticated them."""

    username: str
    name: str = ""
    display_name: str = ""
    initials: str | None = None
    color: str | None = None
    avatar_url: str | None = None

    def to_awareness(self) -> dict[str, Any]:
        name = self.display_name or self.name or self.username
        initials = self.initials or "".join(p[0] for p in name.split()[:2]).upper() or "?"
        color = (
            self.color
            or PALETTE[int(hashlib.sha1(self.username.encode()).hexdigest(), 16) % len(PALETTE)]
        )
        return {
            "username": self.username,
            "name": self.name or self.username,
            "display_name": name,
            "initials": initials,
            "color": color,
            "avatar_url": self.avatar_url,
        }


_client_numbers = itertools.count(1)


@dataclass(eq=False)
class Client:
    """One connection in a room. ``role`` and ``may_run`` have no defaults: whoever admits
    a connection says what it may do (fail closed)."""

    channel: Channel
    identity: Identity
    role: Role
    # may run code (CollabApp.can_execute): if not, the outputs and execution counts of
    # existing cells are not theirs to change (only a run by someone allowed does that)
    may_run: bool
    joined: float
    synced: bool = False  # the client sent its sync step 1
    awareness_ids: set[int] = field(default_factory=set)  # claimed by its first own state
    number: int = field(default_factory=lambda: next(_client_numbers))  # unique per process
    last_active: float = 0.0  # last edit or awareness change (not the 15 s renewals)
    cell: str | None = None  # the notebook cell its awareness says it is in
