"""Live rooms: one pycrdt document per file, its connected clients and their awareness.

``room`` holds the path of a message (check, apply, store, relay); ``registry`` which
rooms are live; ``hooks`` the table of room events the services subscribe to
(``presence``, ``locking``, ``file``, ``people``, and next comments, activity and the bus);
``relay`` how messages reach clients; ``ports`` what rooms need from the rest of the
server. See docs/ARCHITECTURE.md.
"""

from .hooks import RoomHooks
from .identity import DISK_AUTHOR, SERVER_AUTHOR, Client, Identity
from .ports import Access, Channel, HistoryLog, LockRecords
from .registry import RoomRegistry
from .relay import LocalRelay, Relay, send_each
from .room import Room

__all__ = [
    "DISK_AUTHOR",
    "SERVER_AUTHOR",
    "Access",
    "Channel",
    "Client",
    "HistoryLog",
    "Identity",
    "LocalRelay",
    "LockRecords",
    "Relay",
    "Room",
    "RoomHooks",
    "RoomRegistry",
    "send_each",
]
