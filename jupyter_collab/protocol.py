"""Bytes <-> messages for the room websocket: y-protocols sync, awareness and auth,
plus our JSON events on one extra message kind. Pure: no I/O, no pycrdt documents.

Every decoder is strict: truncated varints, lengths that run past the end,
trailing bytes and invalid UTF-8 or JSON raise ``ProtocolError``, never anything
else (see tests/test_protocol.py for the fuzz contract). docs/PROTOCOL.md is the
specification; ``src/protocol.ts`` mirrors the numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .close_codes import CloseCode as CloseCode  # re-exported: part of the protocol
from .close_codes import StandardCloseCode as StandardCloseCode
from .errors import ProtocolError


class MessageKind(IntEnum):
    """First varUint of every websocket message."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3
    EVENT = 4


class SyncKind(IntEnum):
    """Second varUint of a SYNC message."""

    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class AuthKind(IntEnum):
    PERMISSION_DENIED = 0


# -- varints and strings (lib0 encoding) ------------------------------------------------

_MAX_VARUINT_BYTES = 10  # 64 bits; lib0 writes at most 8 for JS safe integers


def encode_var_uint(n: int) -> bytes:
    if n < 0:
        raise ValueError(f"varUint must be >= 0, got {n}")
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_var_bytes(data: bytes) -> bytes:
    return encode_var_uint(len(data)) + data


def encode_var_string(text: str) -> bytes:
    """lib0 ``writeVarString``: the UTF-8 byte length, then the bytes."""
    return encode_var_bytes(text.encode("utf-8"))


class Reader:
    """A cursor over one message; every read checks bounds."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read_var_uint(self) -> int:
        result = shift = 0
        for _ in range(_MAX_VARUINT_BYTES):
            if self.pos >= len(self.data):
                raise ProtocolError("truncated varint")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
        raise ProtocolError("varint longer than 64 bits")

    def read_var_bytes(self) -> bytes:
        length = self.read_var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError(
                f"declared length {length} runs past the end of the message "
                f"({len(self.data) - self.pos} bytes left)"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def read_var_string(self) -> str:
        raw = self.read_var_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not valid UTF-8") from exc

    def expect_end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError(f"{len(self.data) - self.pos} unexpected trailing bytes")


# -- messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncMessage:
    kind: SyncKind
    payload: bytes  # a state vector for STEP1, a Yjs v1 update otherwise


@dataclass(frozen=True)
class AwarenessMessage:
    payload: bytes  # an awareness update, see decode_awareness_update


@dataclass(frozen=True)
class AuthMessage:
    reason: str


@dataclass(frozen=True)
class QueryAwarenessMessage:
    pass


@dataclass(frozen=True)
class EventMessage:
    event: dict[str, Any]


Message = SyncMessage | AwarenessMessage | AuthMessage | QueryAwarenessMessage | EventMessage


def decode_message(data: bytes) -> Message:
    """Parse one websocket message.

    Raises:
        ProtocolError: for anything that is not exactly one valid message.
    """
    reader = Reader(data)
    kind = reader.read_var_uint()
    message: Message
    if kind == MessageKind.SYNC:
        sub = reader.read_var_uint()
        try:
            sync_kind = SyncKind(sub)
        except ValueError:
            raise ProtocolError(f"unknown sync message kind {sub}") from None
        message = SyncMessage(sync_kind, reader.read_var_bytes())
    elif kind == MessageKind.AWARENESS:
        message = AwarenessMessage(reader.read_var_bytes())
    elif kind == MessageKind.AUTH:
        sub = reader.read_var_uint()
        if sub != AuthKind.PERMISSION_DENIED:
            raise ProtocolError(f"unknown auth message kind {sub}")
        message = AuthMessage(reader.read_var_string())
    elif kind == MessageKind.QUERY_AWARENESS:
        message = QueryAwarenessMessage()
    elif kind == MessageKind.EVENT:
        message = EventMessage(decode_event_json(reader.read_var_string()))
    else:
        raise ProtocolError(f"unknown message kind {kind}")
    reader.expect_end()
    return message


def sync_update_payload(data: bytes) -> bytes | None:
    """The update carried by ``data`` if it is a sync update shorter than 128 bytes (one
    keystroke, the commonest message by far), else ``None``: then ``decode_message``
    reads it. The same strict reading as ``decode_message``, without its objects."""
    if len(data) > 3 and data[0] == 0 and data[1] == 2 and data[2] < 0x80:
        if data[2] == len(data) - 3:  # a one-byte length, and nothing after the update
            return data[3:]
    return None


def decode_event_json(text: str) -> dict[str, Any]:
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("event is not valid JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ProtocolError('event must be a JSON object with a string "type"')
    return event


def encode_sync_step1(state_vector: bytes) -> bytes:
    return bytes((MessageKind.SYNC, SyncKind.STEP1)) + encode_var_bytes(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    return bytes((MessageKind.SYNC, SyncKind.STEP2)) + encode_var_bytes(update)


def encode_sync_update(update: bytes) -> bytes:
    return bytes((MessageKind.SYNC, SyncKind.UPDATE)) + encode_var_bytes(update)


def encode_awareness(payload: bytes) -> bytes:
    return bytes((MessageKind.AWARENESS,)) + encode_var_bytes(payload)


def encode_auth_denied(reason: str) -> bytes:
    return bytes((MessageKind.AUTH, AuthKind.PERMISSION_DENIED)) + encode_var_string(reason)


def encode_query_awareness() -> bytes:
    return bytes((MessageKind.QUERY_AWARENESS,))


def encode_event(event: dict[str, Any]) -> bytes:
    return encode_event_text(json.dumps(event, separators=(",", ":"), ensure_ascii=False))


def encode_event_text(text: str) -> bytes:
    """An event message from JSON text the caller wrote (a JSON object with a ``type``)."""
    return bytes((MessageKind.EVENT,)) + encode_var_string(text)


# -- awareness updates ------------------------------------------------------------------


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict[str, Any] | None  # None: the client left


def decode_awareness_update(payload: bytes) -> list[AwarenessEntry]:
    """Parse y-protocols' awareness update: count, then (client, clock, JSON) triples.

    Raises:
        ProtocolError: if the payload is malformed or a state is not a JSON object.
    """
    reader = Reader(payload)
    entries = []
    for _ in range(reader.read_var_uint()):
        client_id = reader.read_var_uint()
        clock = reader.read_var_uint()
        raw = reader.read_var_string()
        try:
            state = json.loads(raw)
        except ValueError as exc:
            raise ProtocolError("awareness state is not valid JSON") from exc
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("awareness state must be a JSON object or null")
        entries.append(AwarenessEntry(client_id, clock, state))
    reader.expect_end()
    return entries


def encode_awareness_update(entries: list[AwarenessEntry]) -> bytes:
    out = [encode_var_uint(len(entries))]
    for entry in entries:
        text = json.dumps(entry.state, separators=(",", ":"), ensure_ascii=False)
        out += [encode_var_uint(entry.client_id), encode_var_uint(entry.clock)]
        out.append(encode_var_string(text))
    return b"".join(out)


def decode_state_vector(data: bytes) -> dict[int, int]:
    """Parse a Yjs state vector: count, then (client, clock) pairs."""
    reader = Reader(data)
    result = {}
    for _ in range(reader.read_var_uint()):
        client = reader.read_var_uint()
        result[client] = reader.read_var_uint()
    reader.expect_end()
    return result
