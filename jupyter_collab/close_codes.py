"""Websocket close codes, declared once: ours (``CloseCode``) and the standard ones of
RFC 6455 that we send or read (``StandardCloseCode``).

A leaf module so that both ``errors.py`` (each error's close code) and ``protocol.py``
(which re-exports both enums, and whose decoders raise those errors) can read it.
``src/protocol.ts`` mirrors ``CloseCode``; docs/PROTOCOL.md lists both.
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """Our close codes: 4000 plus the nearest HTTP status.

    y-websocket does not reconnect on 4400-4499, and does reconnect otherwise.
    """

    BAD_MESSAGE = 4400
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    HANDSHAKE_TIMEOUT = 4408
    STALE_EPOCH = 4409
    GONE = 4410
    TOO_LARGE = 4413
    TOO_MANY = 4429
    INTERNAL = 4500


class StandardCloseCode(IntEnum):
    """RFC 6455 section 7.4.1 codes that jupyter-collab sends or reads."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server shuts down (clients reconnect)
    TOO_BIG = 1009  # tornado's code for a message over max_message_size
