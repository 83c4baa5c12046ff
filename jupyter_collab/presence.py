"""Who is where, server-wide: the feed behind the Collaborators panel.

Rooms know who is connected to one document. People also want to see everyone on the
server (a teacher wants the class), the document and cell each one is in, and who has
gone idle. Rooms report that something changed (``changed()``); the feed recomputes
one entry per connection at most every ``delay_seconds`` and sends subscribers only
what differs (``set`` and ``gone``), so a class of 300 moving between cells costs
a few small JSON messages, never a full list per move.

An entry (docs/PROTOCOL.md, "The presence feed")::

    {"id": "<doc_id>/<n>", "client_id": 123, "user": {...}, "path": "a.ipynb",
     "type": "notebook", "cell": "<cell id>" | null, "cell_index": 3 | null,
     "idle": false}

Typing does not change an entry (no timestamps in it): only joins, leaves, cell moves,
renames, structure changes of a notebook and idle transitions do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Entry = dict[str, Any]
Subscriber = Callable[[dict[str, Any]], None]


class PresenceFeed:
    """Batches presence changes and sends each subscriber the difference.

    Args:
        entries: computes the current entries (``RoomRegistry.presence_entries``).
        delay_seconds: changes within this window are sent as one message.
    """

    def __init__(self, entries: Callable[[], Iterable[Entry]], delay_seconds: float = 0.2):
        self._entries = entries
        self.delay_seconds = delay_seconds
        self._current: dict[str, Entry] = {}
        self._subscribers: list[Subscriber] = []
        self._personal: dict[str, list[Subscriber]] = {}  # username -> its windows
        self._owners: list[Subscriber] = []  # the server's owners' feeds (activity)
        self._timer: asyncio.TimerHandle | None = None
        # what an owner's feed gets right after its snapshot (the activity service's rows,
        # which later ``to_owners`` messages change)
        self.owner_greeting: Callable[[], dict[str, Any] | None] | None = None

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    @property
    def has_owners(self) -> bool:
        return bool(self._owners)

    def subscribe(
        self,
        subscriber: Subscriber,
        visible: Callable[[Entry], bool] | None,
        *,
        username: str | None = None,
        owner: bool = False,
    ) -> Callable[[], None]:
        """Send ``subscriber`` a snapshot now and every change after, limited to the
        entries ``visible`` accepts (people in documents it may read); returns
        unsubscribe. ``visible`` is required: ``None`` (everyone, for owners) must be
        said, not forgotten. ``username``: whose notices it also gets (``notify``).
        ``owner``: the server's owner, who also gets ``activity`` (``to_owners``); the
        snapshot says which (``"owner"``)."""
        if not self._subscribers:
            # nobody listened, so nothing kept the last state fresh
            self._current = self._compute()
        personal = subscriber
        subscriber = _Stamped(subscriber, owner)
        if visible is not None:
            subscriber = _Filtered(subscriber, visible)
        self._subscribers.append(subscriber)
        if username is not None:
            self._personal.setdefault(username, []).append(personal)
        if owner:
            self._owners.append(personal)
        subscriber({"type": "snapshot", "people": list(self._current.values())})
        greeting = self.owner_greeting() if owner and self.owner_greeting is not None else None
        if greeting is not None:
            personal(greeting)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)
            if personal in self._owners:
                self._owners.remove(personal)
            mine = self._personal.get(username or "", [])
            if personal in mine:
                mine.remove(personal)
                if not mine:
                    del self._personal[username or ""]

        return unsubscribe

    def notify(self, username: str, notice: dict[str, Any]) -> int:
        """Send one person's JupyterLab windows a notice (someone mentioned them or
        answered their thread), wherever they are on the server; returns how many
        windows got it. The caller decides whether they may know of it."""
        sent = 0
        for subscriber in list(self._personal.get(username, ())):
            try:
                subscriber({"type": "notice", **notice})
                sent += 1
            except Exception:
                log.exception("presence: a subscriber failed")
        return sent

    def to_owners(self, message: dict[str, Any]) -> int:
        """Send every owner's feed a message (``activity``); returns how many got it."""
        sent = 0
        for subscriber in list(self._owners):
            try:
                subscriber(message)
                sent += 1
            except Exception:
                log.exception("presence: a subscriber failed")
        return sent

    def changed(self) -> None:
        """Someone joined, left, moved or went idle; send it within ``delay_seconds``."""
        if not self._subscribers or self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.delay_seconds, self.refresh)

    def refresh(self) -> dict[str, Any] | None:
        """Compute now and send the difference; returns the message sent, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._subscribers:
            return None
        after = self._compute()
        before = self._current
        self._current = after
        changed = [entry for key, entry in after.items() if before.get(key) != entry]
        gone = [key for key in before if key not in after]
        if not changed and not gone:
            return None
        message = {"type": "update", "set": changed, "gone": gone}
        for subscriber in list(self._subscribers):
            try:
                subscriber(message)
            except Exception:
                # one broken subscriber must not keep the others uninformed
                log.exception("presence: a subscriber failed")
        return message

    def resync(self) -> None:
        """Send every subscriber a fresh snapshot (what each may see changed: roles)."""
        if not self._subscribers:
            return
        self._current = self._compute()
        snapshot = {"type": "snapshot", "people": list(self._current.values())}
        for subscriber in list(self._subscribers):
            try:
                subscriber(snapshot)
            except Exception:
                log.exception("presence: a subscriber failed")

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._subscribers.clear()
        self._personal.clear()
        self._owners.clear()

    def _compute(self) -> dict[str, Entry]:
        return {entry["id"]: entry for entry in self._entries()}


class _Stamped:
    """A subscriber whose snapshots say whether it is an owner's (the class dashboard)."""

    def __init__(self, subscriber: Subscriber, owner: bool) -> None:
        self.subscriber = subscriber
        self.owner = owner

    def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "snapshot":
            message = {**message, "owner": self.owner}
        self.subscriber(message)


class _Filtered:
    """A subscriber that only hears of the entries it may see. An entry that stops being
    visible (a lost role, a rename out of reach) is reported gone."""

    def __init__(self, subscriber: Subscriber, visible: Callable[[Entry], bool]) -> None:
        self.subscriber = subscriber
        self.visible = visible
        self.sent: set[str] = set()

    def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "snapshot":
            people = [e for e in message["people"] if self.visible(e)]
            self.sent = {e["id"] for e in people}
            self.subscriber({"type": "snapshot", "people": people})
            return
        shown = [e for e in message["set"] if self.visible(e)]
        hidden = [e["id"] for e in message["set"] if e["id"] in self.sent and e not in shown]
        gone = [key for key in message["gone"] if key in self.sent] + hidden
        self.sent = (self.sent - set(gone)) | {e["id"] for e in shown}
        if shown or gone:
            self.subscriber({"type": "update", "set": shown, "gone": gone})
