"""Domain errors. Each knows its websocket close code and its HTTP status.

Core modules raise these; the edge (``handlers/``) translates them once, into a
close frame or a JSON error. Nothing here knows tornado. The close codes are
``close_codes.CloseCode``'s (also ``protocol.CloseCode``), never numbers written here.
"""

from __future__ import annotations

from .close_codes import CloseCode


class CollabError(Exception):
    """Base of every error jupyter-collab reports to a client."""

    close_code: CloseCode = CloseCode.INTERNAL
    http_status: int = 500


class ProtocolError(CollabError):
    """The client sent bytes that are not a valid message of our protocol."""

    close_code = CloseCode.BAD_MESSAGE
    http_status = 400


class MessageTooLarge(ProtocolError):
    """A single message exceeded ``CollabApp.max_message_bytes``."""

    close_code = CloseCode.TOO_LARGE
    http_status = 413


class RateLimited(ProtocolError):
    """A connection sent messages faster than ``CollabApp.max_messages_per_second``
    allows (after its burst): a runaway client, closed before it starves the room."""

    close_code = CloseCode.TOO_MANY
    http_status = 429


class HandshakeTimeout(ProtocolError):
    """The client never sent its sync step 1 within the handshake timeout."""

    close_code = CloseCode.HANDSHAKE_TIMEOUT
    http_status = 408


class UnreadableFile(CollabError):
    """The file exists but cannot be opened as that type (binary, invalid JSON...)."""

    close_code = CloseCode.BAD_MESSAGE
    http_status = 400


class PermissionDenied(CollabError):
    """The caller's role does not allow the action."""

    close_code = CloseCode.FORBIDDEN
    http_status = 403


class RoomNotFound(CollabError):
    """No document with that id or path is known."""

    close_code = CloseCode.NOT_FOUND
    http_status = 404


class CommentNotFound(CollabError):
    """No comment thread or message with that id is known."""

    close_code = CloseCode.NOT_FOUND
    http_status = 404


class Conflict(CollabError):
    """The request contradicts the state of the room (another view, another type)."""

    close_code = CloseCode.STALE_EPOCH
    http_status = 409


class StaleEpoch(Conflict):
    """The client's document belongs to an older CRDT history and must not be merged."""

    def __init__(self, client_epoch: str, room_epoch: str) -> None:
        super().__init__("stale epoch: the document's history was rebuilt; reload it (not merged)")
        self.client_epoch = client_epoch
        self.room_epoch = room_epoch


class DocumentGone(CollabError):
    """The file behind the room was deleted through Jupyter."""

    close_code = CloseCode.GONE
    http_status = 410


class StoreError(CollabError):
    """The history store could not read or write."""

    close_code = CloseCode.INTERNAL
    http_status = 500


class SchemaTooNew(StoreError):
    """The history database was written by a newer jupyter-collab."""
