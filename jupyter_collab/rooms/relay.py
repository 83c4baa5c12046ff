"""Relaying: how a message reaches the clients of a room.

Rooms never write to a set of channels themselves; they hand each room-wide message to
a ``Relay``. The local relay fans out to this process's connections (the websocket
edge frames the message once for all of them). A relay between server processes (the
bus of a scaled-out deployment) plugs in here: it forwards the message to the other
processes' clients of the same document as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from .ports import Channel

Fanout = Callable[[bytes, Iterable[Channel]], None]


class Relay(Protocol):
    def broadcast(self, doc_id: str, message: bytes, channels: Sequence[Channel]) -> None:
        """Deliver ``message`` (one encoded y-protocols or event message) of document
        ``doc_id`` to ``channels``, this process's connections that should get it."""
        ...


def send_each(message: bytes, channels: Iterable[Channel]) -> None:
    for channel in channels:
        channel.send(message)


class LocalRelay:
    """Fan-out within this process through ``fanout`` (``handlers.websocket.fanout_frames``
    in the server, plain ``send`` per channel elsewhere)."""

    def __init__(self, fanout: Fanout = send_each) -> None:
        self.fanout = fanout

    def broadcast(self, doc_id: str, message: bytes, channels: Sequence[Channel]) -> None:
        if channels:
            self.fanout(message, channels)
