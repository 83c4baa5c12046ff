"""The room hook table: what happens in rooms, for the services that react to it.

A room does the few things only it can do (check, apply, store, relay); everything else
(presence, cell locks, saving, disk merges, share link expiry, and next comments,
activity, metrics and the bus between processes) is a service subscribed to this table,
in the spirit of Hocuspocus's hooks. ``docs/ARCHITECTURE.md`` shows who subscribes to
what.

Two kinds of hook, because they fail differently:

* **Notifications** (``Hook``) tell what happened. A subscriber that raises is logged
  and detached: it never breaks the room, the sender or the other subscribers.
* **Gates** (``Gate``, ``AsyncGate``) may refuse what is about to happen. They fail
  closed: a ``CollabError`` refuses with its own reason, any other exception refuses
  as an internal error, and a gate is never detached (a lock check that stopped
  running would let every locked cell be edited).

Commands are the JSON events clients send (``lock``, ``save``, ``name``): one service
handles each type; the room answers an unknown type with an error event.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import CollabError, ProtocolError

if TYPE_CHECKING:
    from .identity import Client
    from .room import Room

log = logging.getLogger(__name__)

E = TypeVar("E")


# -- what happens -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opening:
    """A room was built (from the store or from disk) and is about to be served."""

    room: Room
    from_store: bool


@dataclass(frozen=True, slots=True)
class Joined:
    room: Room
    client: Client


@dataclass(frozen=True, slots=True)
class Synced:
    """A client has the document: the room answered its first sync step 1."""

    room: Room
    client: Client


@dataclass(frozen=True, slots=True)
class Left:
    room: Room
    client: Client


@dataclass(frozen=True, slots=True)
class AwarenessChanged:
    """A client's awareness really changed (not y-protocols' 15 s renewal)."""

    room: Room
    client: Client
    cell_changed: bool  # the cell its awareness says it is in


@dataclass(frozen=True, slots=True)
class Checking:
    """A client's update, before it is applied: gates may refuse it."""

    room: Room
    client: Client
    update: bytes


@dataclass(frozen=True, slots=True)
class UpdateAccepted:
    """One update was applied, stored and relayed.

    ``origin`` is ``client``, ``server`` (the room's own fixes) or ``disk`` (an outside
    change merged); ``client`` is the sender's connection for client updates. ``cells``
    are the ids of the notebook cells whose content the update changed (empty for text
    files, for structure-only changes such as inserting or deleting a cell, and unless
    a service called ``RoomHooks.want_cells``).
    """

    room: Room
    author: str
    origin: str
    update: bytes
    client: Client | None
    cells: frozenset[str]


@dataclass(frozen=True, slots=True)
class UpdateRefused:
    room: Room
    client: Client
    error: CollabError


@dataclass(frozen=True, slots=True)
class EventReceived:
    """A JSON event from a client (every type, handled or not)."""

    room: Room
    client: Client
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClientChanged:
    """A connected client's role or display name changed."""

    room: Room
    client: Client
    what: str  # "role" or "name"


@dataclass(frozen=True, slots=True)
class Woke:
    """A client idle for the room's idle time edited or moved again."""

    room: Room
    client: Client


@dataclass(frozen=True, slots=True)
class CellsMoved:
    """A notebook's cells were inserted, deleted or moved (indexes changed)."""

    room: Room


@dataclass(frozen=True, slots=True)
class Saved:
    room: Room
    seq: int
    fingerprint: str | None
    seconds: float = 0.0  # how long writing the file took


@dataclass(frozen=True, slots=True)
class Renamed:
    room: Room
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Closed:
    room: Room


@dataclass(frozen=True, slots=True)
class Tick:
    """The registry's background tick (every second): time passes without messages."""

    now: float


# -- the two kinds of hook --------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


class _Subscribers(Generic[F]):
    """A named list of subscribers; unsubscribing twice (or after a detach) is harmless."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[F] = []

    def subscribe(self, subscriber: F) -> Callable[[], None]:
        """Call ``subscriber`` with every event from now on; returns unsubscribe."""
        self._subscribers.append(subscriber)
        return lambda: self._detach(subscriber)

    def _detach(self, subscriber: F) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    def _failed(self, subscriber: F) -> None:
        log.exception("room hook %s: %r raised; it is detached", self.name, subscriber)
        self._detach(subscriber)

    def __len__(self) -> int:
        return len(self._subscribers)


class Hook(_Subscribers[Callable[[E], None]]):
    """A notification: subscribers are called in order; one that raises is detached."""

    def emit(self, event: E) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                self._failed(subscriber)


class AsyncHook(_Subscribers[Callable[[E], Awaitable[None]]]):
    """A notification whose subscribers are coroutines, awaited in order."""

    async def emit(self, event: E) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                await subscriber(event)
            except Exception:
                self._failed(subscriber)


class Gate(_Subscribers[Callable[[E], None]]):
    """A check: every subscriber must pass; it fails closed and is never detached.

    Raises (from ``check``):
        CollabError: a subscriber refused, with its reason.
        ProtocolError: a subscriber failed unexpectedly (logged): refused all the same.
    """

    def check(self, event: E) -> None:
        for check in self._subscribers:
            try:
                check(event)
            except CollabError:
                raise
            except Exception as exc:
                log.exception("room gate %s: %r failed; refused", self.name, check)
                raise ProtocolError(f"refused: the {self.name} check failed ({exc})") from exc


class AsyncGate(_Subscribers[Callable[[E], Awaitable[None]]]):
    """``Gate`` for checks that must await (a room opens only once each passed)."""

    async def check(self, event: E) -> None:
        for check in self._subscribers:
            await check(event)  # an error refuses the opening; the caller reports it


Command = Callable[["EventReceived"], None]


@dataclass
class RoomHooks:
    """The table. One per registry, shared by its rooms; events carry their room."""

    opening: AsyncGate[Opening] = field(default_factory=lambda: AsyncGate("opening"))
    joined: Hook[Joined] = field(default_factory=lambda: Hook("joined"))
    synced: Hook[Synced] = field(default_factory=lambda: Hook("synced"))
    left: Hook[Left] = field(default_factory=lambda: Hook("left"))
    awareness_changed: Hook[AwarenessChanged] = field(
        default_factory=lambda: Hook("awareness changed")
    )
    checking: Gate[Checking] = field(default_factory=lambda: Gate("update"))
    update_accepted: Hook[UpdateAccepted] = field(default_factory=lambda: Hook("update accepted"))
    update_refused: Hook[UpdateRefused] = field(default_factory=lambda: Hook("update refused"))
    event_received: Hook[EventReceived] = field(default_factory=lambda: Hook("event received"))
    client_changed: Hook[ClientChanged] = field(default_factory=lambda: Hook("client changed"))
    woke: Hook[Woke] = field(default_factory=lambda: Hook("woke"))
    cells_moved: Hook[CellsMoved] = field(default_factory=lambda: Hook("cells moved"))
    saved: Hook[Saved] = field(default_factory=lambda: Hook("saved"))
    renamed: Hook[Renamed] = field(default_factory=lambda: Hook("renamed"))
    closed: Hook[Closed] = field(default_factory=lambda: Hook("closed"))
    tick: AsyncHook[Tick] = field(default_factory=lambda: AsyncHook("tick"))
    commands: dict[str, Command] = field(default_factory=dict)
    cells_wanted: bool = False

    def want_cells(self) -> None:
        """A service reads ``UpdateAccepted.cells``: rooms opened from now on note which
        cells each update touched (a deep observer; see ``cells.CellTracker``). Until
        then ``cells`` is empty, and typing does not pay for it."""
        self.cells_wanted = True

    def handle(self, event_type: str, command: Command) -> None:
        """Make ``command`` the handler of client events of ``event_type``."""
        if event_type in self.commands:
            raise ValueError(f"event type {event_type!r} already has a handler")
        self.commands[event_type] = command
