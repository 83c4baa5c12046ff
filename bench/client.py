"""The bench's client side: a small websocket client, y-protocols message helpers,
an HTTP request helper, and a Yjs document client (pycrdt) for writers and openers.

Why a hand-written websocket client: in the fan-out test every reader handles every
update, and the load generator shares 2 cores with the server under test. A reader
here is an ``asyncio.Protocol`` that parses frames in ``data_received`` and calls a
plain function per message: a few microseconds per delivery, where the ``websockets``
or tornado clients add a task or a future per message. It implements exactly what the
two servers use: the HTTP upgrade, unmasked server frames (binary, text, continuation,
ping, close) and masked client frames. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Array, Doc, Text, TransactionEvent

LOOPBACK = "127.0.0.1"

# -- y-protocols messages (lib0 encoding) -----------------------------------------------

SYNC, AWARENESS = 0, 1
EVENT_KIND = 4  # a JSON event (docs/PROTOCOL.md)
STEP1, STEP2, UPDATE = 0, 1, 2
EMPTY_UPDATE = b"\x00\x00"
EMPTY_STATE_VECTOR = b"\x00"


def var_uint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position); raises IndexError on truncated input."""
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    value, shift = b & 0x7F, 7
    while True:
        pos += 1
        b = data[pos]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos + 1
        shift += 7


def sync_message(kind: int, payload: bytes) -> bytes:
    return bytes((SYNC, kind)) + var_uint(len(payload)) + payload


STEP1_EMPTY = sync_message(STEP1, EMPTY_STATE_VECTOR)
STEP2_EMPTY = sync_message(STEP2, EMPTY_UPDATE)


def sync_payload(message: bytes) -> bytes:
    """The update (or state vector) inside a sync message."""
    length, pos = read_var_uint(message, 2)
    return message[pos : pos + length]


def first_struct_id(update: bytes, pos: int = 0) -> tuple[int, int] | None:
    """(client, clock) of the first struct of a Yjs v1 update, None for a delete-only one.

    A single-character insert is one struct whose clock counts the writer's
    insertions, so it names the keystroke without decoding the content.
    """
    groups, pos = read_var_uint(update, pos)
    if not groups:
        return None
    _, pos = read_var_uint(update, pos)  # structs in the first group
    client, pos = read_var_uint(update, pos)
    clock, _ = read_var_uint(update, pos)
    return client, clock


# -- websocket ----------------------------------------------------------------------------

OnMessage = Callable[[bytes, float], None]


class WebSocketError(Exception):
    pass


class WebSocket(asyncio.Protocol):
    """One client connection. ``on_message(payload, t)`` gets every complete data
    message with the monotonic time its last bytes arrived (one clock read per read
    from the socket)."""

    def __init__(self, on_message: OnMessage) -> None:
        self.on_message = on_message
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.bytes_received = 0
        self._buf = bytearray()
        self._need = 0  # bytes _buf must hold before the frame at its start is complete
        self._upgraded = False
        self._parts: list[bytes] | None = None  # a fragmented message being assembled

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(
                WebSocketError(f"connection lost during the handshake: {exc}")
            )
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        t = time.monotonic()
        self.bytes_received += len(data)
        if not self._upgraded:
            self._buf += data
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buf[:end]).decode("latin-1")
            rest = bytes(self._buf[end + 4 :])
            self._buf.clear()
            status = head.split("\r\n", 1)[0]
            if " 101 " not in status + " ":
                self.handshake.set_exception(
                    WebSocketError(f"upgrade refused: {status} {rest[:300]!r}")
                )
                self.transport.close()  # type: ignore[union-attr]
                return
            self._upgraded = True
            self.handshake.set_result(None)
            data = rest
            if not data:
                return
        if self._buf:
            self._buf += data
            if len(self._buf) < self._need:
                return  # a large message still arriving: copy it once, when complete
            data = bytes(self._buf)
            self._buf.clear()
        self._parse(data, t)

    def _parse(self, data: bytes, t: float) -> None:
        pos, n = 0, len(data)
        need = 2
        while n - pos >= 2:
            b0, b1 = data[pos], data[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    need = 4
                    break
                length, head = (data[pos + 2] << 8) | data[pos + 3], 4
            elif length == 127:
                if n - pos < 10:
                    need = 10
                    break
                length, head = int.from_bytes(data[pos + 2 : pos + 10], "big"), 10
            if b1 & 0x80:
                raise WebSocketError("the server sent a masked frame")
            end = pos + head + length
            if end > n:
                need = end - pos
                break
            payload = data[pos + head : end]
            pos = end
            opcode = b0 & 0x0F
            if opcode == 0x2 or opcode == 0x1:
                if b0 & 0x80:
                    self.on_message(payload, t)
                else:
                    self._parts = [payload]
            elif opcode == 0x0:
                if self._parts is None:
                    raise WebSocketError("continuation frame without a first frame")
                self._parts.append(payload)
                if b0 & 0x80:
                    whole, self._parts = b"".join(self._parts), None
                    self.on_message(whole, t)
            elif opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.close_reason = payload[2:].decode("utf-8", "replace")
                self.close()
                return
        if pos < n:
            self._buf += data[pos:]
            self._need = need

    # sending

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        if n:
            key = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
            payload = (int.from_bytes(payload, "little") ^ key).to_bytes(n, "little")
        transport.write(head + mask + payload)

    def send(self, payload: bytes) -> None:
        self._send_frame(0x2, payload)

    def close(self, code: int = 1000) -> None:
        """Send a close frame (if still open) and drop the connection."""
        if self.transport is not None and not self.transport.is_closing():
            self._send_frame(0x8, struct.pack("!H", code))
            self.transport.close()


async def connect(
    port: int,
    path: str,
    headers: dict[str, str],
    on_message: OnMessage,
    timeout: float = 30.0,
    bind: Callable[[WebSocket], None] | None = None,
) -> WebSocket:
    """Open a websocket. ``bind(ws)`` runs before any message can arrive: the server's
    first message may come in the same read as the upgrade response."""
    loop = asyncio.get_running_loop()
    ws = WebSocket(on_message)
    if bind is not None:
        bind(ws)
    transport, _ = await asyncio.wait_for(
        loop.create_connection(lambda: ws, LOOPBACK, port), timeout
    )
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {LOOPBACK}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    try:
        await asyncio.wait_for(ws.handshake, timeout)
    except BaseException:
        transport.close()
        raise
    return ws


# -- HTTP ---------------------------------------------------------------------------------


async def http_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    timeout: float = 60.0,
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a fresh connection (``Connection: close``): (status, body)."""

    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        try:
            lines = [
                f"{method} {path} HTTP/1.1",
                f"Host: {LOOPBACK}:{port}",
                "Connection: close",
                f"Content-Length: {len(body)}",
                *(f"{k}: {v}" for k, v in headers.items()),
            ]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            raw = await reader.read()
        finally:
            writer.close()
        head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if b"transfer-encoding: chunked" in head.lower():
            rest = _unchunk(rest)
        return status, rest

    return await asyncio.wait_for(go(), timeout)


def _unchunk(data: bytes) -> bytes:
    out, pos = [], 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[eol + 2 : eol + 2 + size])
        pos = eol + 4 + size


async def put_json(port: int, path: str, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    status, body = await http_request(port, "PUT", path, headers, json.dumps(payload).encode())
    if status >= 300:
        raise RuntimeError(f"PUT {path} answered {status}: {body[:300]!r}")
    return dict(json.loads(body))


# -- a Yjs document client ---------------------------------------------------------------


class DocClient:
    """A pycrdt replica on one websocket: syncs, then (as a writer) sends local edits.

    Updates arriving after the initial sync are counted but not applied: in these
    scenarios this client is the only writer, and the incumbent echoes its own
    updates back to it.
    """

    def __init__(self) -> None:
        self.doc = Doc()
        self.ws: WebSocket | None = None
        self.synced: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.step2_bytes = 0
        self.step2_arrived = 0.0  # when its last bytes arrived, before applying it
        self.phases: dict[str, float] = {}
        self.later_updates = 0
        self.sent: list[tuple[int | None, float]] = []  # (clock of the first struct, send time)
        self._remote = False
        self._sub = self.doc.observe(self._on_local)

    async def connect(self, port: int, path: str, headers: dict[str, str]) -> None:
        ws = await connect(port, path, headers, self._on_message, bind=self._bind)
        ws.send(STEP1_EMPTY)

    def _bind(self, ws: WebSocket) -> None:
        self.ws = ws

    def _on_message(self, message: bytes, t: float) -> None:
        if not message or message[0] != SYNC:
            return  # awareness and server events are not part of these scenarios
        kind = message[1]
        if kind == STEP1:
            assert self.ws is not None
            self.ws.send(sync_message(STEP2, self.doc.get_update(sync_payload(message))))
        elif kind == STEP2 and not self.synced.done():
            self.step2_arrived = t
            update = sync_payload(message)
            self._remote = True
            try:
                self.doc.apply_update(update)
            finally:
                self._remote = False
            self.step2_bytes = len(message)
            self.synced.set_result(time.monotonic())
        else:
            self.later_updates += 1

    def _on_local(self, event: TransactionEvent) -> None:
        if self._remote or self.ws is None:
            return
        update = event.update
        ident = first_struct_id(update)
        t = time.monotonic()
        self.ws.send(sync_message(UPDATE, update))
        self.sent.append((ident[1] if ident else None, t))

    def cell_source(self, index: int = 0) -> Text:
        cells = self.doc.get("cells", type=Array)
        return cells[index]["source"]

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
