"""The room websocket: an adapter between tornado and ``rooms.Room``.

Why an adapter: the room knows nothing of tornado, so it can be tested on plain
in-memory channels, and this class only does what needs a socket: authenticate
the upgrade, join the room with the caller's identity and epoch, feed it bytes,
write what it sends, and turn a ``CollabError`` into a close code with a reason.

Writes bypass ``write_message``: a relayed update is framed once for all clients
(``fanout_frames``) and written straight to each socket when nothing is pending
on it, which is what keeps fan-out cheap (bench/README.md, section 2: Fan-out).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado.iostream import IOStream, StreamClosedError
from tornado.websocket import WebSocketHandler, WebSocketProtocol, WebSocketProtocol13

from .. import metrics
from ..errors import CollabError, HandshakeTimeout, MessageTooLarge, RateLimited
from ..protocol import CloseCode, StandardCloseCode
from ..rooms import Channel, Client, Identity, Room

if TYPE_CHECKING:
    from ..services import Services

log = logging.getLogger(__name__)


def encode_frame(payload: bytes) -> bytes:
    """One unmasked, final, binary websocket frame (RFC 6455 section 5.2)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x82, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x82, 126, n)
    else:
        head = struct.pack("!BBQ", 0x82, 127, n)
    return head + payload


def fanout_frames(message: bytes, channels: Iterable[Channel]) -> None:
    """Send one message to many channels, framing it once for all websockets.

    This loop runs once per update per reader, so each websocket's write is inlined
    here (what ``RoomWebSocketHandler.write_frame`` does, without a call per reader):
    one ``socket.send`` when nothing is pending on its stream, else the stream's queue.
    bench/README.md (section 5, the classroom) compares it with the floor relay.
    """
    frame: bytes | None = None
    size = 0
    for channel in channels:
        # the exact type test is a pointer comparison; isinstance only for others
        if type(channel) is RoomWebSocketHandler or isinstance(channel, RoomWebSocketHandler):
            stream = channel._stream
            if stream is None:
                continue  # not open yet, or closing: nothing more goes out on it
            if frame is None:
                frame = encode_frame(message)
                size = len(frame)
            if stream.writing():
                _queue(stream, frame)
                continue
            try:
                sent = channel._send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                continue  # the peer is gone; on_close follows
            if sent != size:
                _queue(stream, frame[sent:])
        else:
            channel.send(message)


def _queue(stream: IOStream, data: bytes) -> None:
    """Append ``data`` behind what the stream already holds; tornado writes it in order."""
    try:
        stream.write(data).add_done_callback(_ignore_closed)
    except StreamClosedError:
        pass


class _Protocol(WebSocketProtocol13):
    """Tornado's protocol, closing oversized messages with our named code."""

    limit = 0

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        # no data frame may follow our close frame (tornado's own closes come here too:
        # an oversized message, a missed pong, the reply to the client's close)
        handler = self.handler
        if isinstance(handler, RoomWebSocketHandler):
            handler._stop_writes()
        if code == StandardCloseCode.TOO_BIG:  # tornado's own: the handler's close is not called
            code = MessageTooLarge.close_code
            reason = f"message larger than {self.limit} bytes (CollabApp.max_message_bytes)"
            metrics.connection_closed(code)
        super().close(code, reason)


class RoomWebSocketHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """``GET api/collab/room/{doc_id}?epoch=...``: y-protocols over a websocket."""

    auth_resource = "contents"

    # the write path (see fanout_frames): the connection's stream while frames may go
    # out on it, and its socket's send; set when it opens, None once it is closing
    _stream: IOStream | None = None
    _send: Callable[[bytes], int]

    def initialize(self, collab: Services) -> None:
        self.collab = collab
        self.room: Room | None = None
        self.client: Client | None = None
        self._handshake_timer: asyncio.TimerHandle | None = None
        self._closing = False
        # a token bucket of messages: message_burst at once, then the rate on average
        self._tokens = float(collab.message_burst)
        self._refilled = time.monotonic()

    @property
    def max_message_size(self) -> int:
        return self.collab.max_message_bytes

    def get_compression_options(self) -> None:
        return None  # frames are built once per update and shared by every client

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        protocol = super().get_websocket_protocol()
        if isinstance(protocol, WebSocketProtocol13):
            protocol.__class__ = _Protocol
            protocol.limit = self.max_message_size  # type: ignore[attr-defined]
        return protocol

    @ws_authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def get(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        await super().get(*args, **kwargs)

    async def open(self, doc_id: str) -> None:
        super().open()  # WebSocketMixin: keep-alive pings
        # Updates are small frames written one by one: without this, Nagle's algorithm
        # and delayed ACKs hold them back (bench: p50 18 ms -> 0.5 ms at 500 updates/s).
        self.set_nodelay(True)
        self._start_writes()
        user = self.current_user
        identity = Identity(
            username=user.username,
            name=user.name,
            display_name=user.display_name,
            initials=user.initials,
            color=user.color,
            avatar_url=user.avatar_url,
        )
        try:
            await self.collab.ready()
            epoch = self.get_query_argument("epoch", None)
            room = await self.collab.registry.join(doc_id, self, identity, epoch)
            self.room, self.client = room, room.clients[self]
            if self._closing:  # the peer left while the room was loading
                room.leave(self)
                return
        except CollabError as err:
            self.close(err.close_code, str(err))
            return
        except Exception:
            # the room (if any) is untouched; the client learns it was our fault
            log.exception("room %s: unexpected error while joining", doc_id)
            self.close(CloseCode.INTERNAL, "internal error")
            return
        timeout = self.collab.handshake_timeout_seconds
        if timeout is not None:
            loop = asyncio.get_running_loop()
            self._handshake_timer = loop.call_later(timeout, self._check_handshake)

    def _check_handshake(self) -> None:
        self._handshake_timer = None
        if self.client is not None and not self.client.synced:
            err = HandshakeTimeout("no sync step 1 received within the handshake timeout")
            self.close(err.close_code, str(err))

    def on_message(self, message: str | bytes) -> None:
        if self.room is None or self._closing:
            return
        if isinstance(message, str):
            self.close(
                CloseCode.BAD_MESSAGE, "text frames are not part of the protocol: send binary"
            )
            return
        try:
            self._take_token()
            self.room.receive(self, message)
        except CollabError as err:
            log.info(
                "room %s: closing a connection of %s: %s",
                self.room.doc_id,
                self.current_user.username,
                err,
            )
            self.close(err.close_code, str(err))
        except Exception:
            # An exception escaping on_message would abort the socket with 1006;
            # the room is untouched (receive applies nothing it could not accept).
            log.exception("room %s: unexpected error on a message", self.room.doc_id)
            self.close(CloseCode.INTERNAL, "internal error")

    def _take_token(self) -> None:
        """Raises RateLimited when this connection sent more than it may (its burst,
        then ``max_messages_per_second``)."""
        now = time.monotonic()
        rate = self.collab.max_messages_per_second
        self._tokens = min(
            float(self.collab.message_burst), self._tokens + (now - self._refilled) * rate
        )
        self._refilled = now
        if self._tokens < 1:
            metrics.RATE_LIMITED.inc()
            raise RateLimited(
                f"more than {rate:g} messages a second (CollabApp.max_messages_per_second)"
            )
        self._tokens -= 1

    def on_close(self) -> None:
        if not self._closing and self.close_code is None:
            metrics.DROPPED.inc()  # no closing handshake: the network or the browser went away
        self._closing = True
        self._stop_writes()
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
        if self.room is not None:
            self.room.leave(self)

    # -- Channel ------------------------------------------------------------------------

    def send(self, message: bytes) -> None:
        self.write_frame(encode_frame(message))

    def write_frame(self, frame: bytes) -> None:
        """Write one frame: straight to the kernel when nothing is pending on the stream
        (the order is then safe), else behind what is pending."""
        stream = self._stream
        if stream is None:
            return
        if not stream.writing():
            try:
                sent = self._send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                return  # the peer is gone; on_close follows
            if sent == len(frame):
                return
            frame = frame[sent:]
        _queue(stream, frame)

    def _start_writes(self) -> None:
        connection = self.ws_connection
        stream = None if connection is None else connection.stream
        if stream is None or stream.closed() or stream.socket is None:
            return
        self._send = stream.socket.send
        self._stream = stream

    def _stop_writes(self) -> None:
        self._stream = None

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self._closing:
            return
        self._closing = True
        metrics.connection_closed(code)
        if self.room is not None:
            self.room.leave(self)
        super().close(code, _fit_reason(reason))


def _fit_reason(reason: str | None) -> str | None:
    """A close reason must fit in 123 UTF-8 bytes (RFC 6455 section 5.5)."""
    if reason is None:
        return None
    raw = reason.encode("utf-8")
    if len(raw) <= 123:
        return reason
    return raw[:120].decode("utf-8", errors="ignore") + "..."


def _ignore_closed(future: Any) -> None:
    exc = future.exception()
    if exc is not None and not isinstance(exc, StreamClosedError):
        log.warning("websocket write failed: %s", exc)
