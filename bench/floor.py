#!/usr/bin/env python
"""The floor: the cheapest Python relay of our room contract, as a bench server.

It exists only to be measured beside ours: whatever a delivery costs here is what
tornado + pycrdt + the kernel cost, so ours can be judged against it in the same run.
What it does, and nothing more:

* ``GET /api/status`` answers 200 (the bench's readiness probe).
* ``PUT /api/collab/session/{path}`` answers ``{"room": "floor/room/{path}", "epoch": "0"}``,
  the same shape as ours, so the bench connects to both the same way.
* ``/floor/room/{path}`` is a websocket speaking y-protocols' sync messages: on connect the
  server sends sync step 1 (its state vector); a client's step 1 gets step 2 (what it
  lacks); every update (or non-empty step 2) is applied to the room's one pycrdt ``Doc``
  and relayed as a sync update to every other client; awareness messages are relayed
  as they came.
* A relayed message is framed once (one unmasked binary websocket frame) and written to
  each socket with one ``socket.send`` when that socket's tornado stream has nothing
  pending; otherwise it goes through ``IOStream.write``, which keeps the order.
* TCP_NODELAY on every socket, no compression, no persistence, no roles, no saving,
  ``gc.freeze()`` after start-up. Every request must carry ``Authorization: token …``.

The document of a room is built from its file (a notebook, through jupyter-ydoc's
schema) the first time a socket asks for it, and lives until the process ends.

    python bench/floor.py --port P --root DIR --token T
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import struct
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

# lib0 / y-protocols helpers shared with the bench's clients (this script's folder is on
# sys.path when it runs); nothing from jupyter_collab: the floor must not be our code
from client import (  # noqa: E402
    AWARENESS,
    STEP1,
    STEP2,
    SYNC,
    UPDATE,
    read_var_uint,
)
from client import EMPTY_UPDATE as NOTHING  # noqa: E402
from client import sync_message as sync  # noqa: E402
from pycrdt import Doc
from tornado import web
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketHandler


def frame_of(message: bytes) -> bytes:
    """``message`` as one final, unmasked, binary websocket frame."""
    n = len(message)
    if n < 126:
        return bytes((0x82, n)) + message
    if n < 65536:
        return struct.pack("!BBH", 0x82, 126, n) + message
    return struct.pack("!BBQ", 0x82, 127, n) + message


class Room:
    def __init__(self, doc: Doc[Any]) -> None:
        self.doc = doc
        self.sockets: list[RoomSocket] = []

    def relay(self, message: bytes, sender: RoomSocket) -> None:
        frame = frame_of(message)
        for sock in self.sockets:
            if sock is not sender:
                sock.put(frame)


class Floor:
    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.token = token
        self.rooms: dict[str, Room] = {}

    def allowed(self, handler: web.RequestHandler) -> bool:
        return handler.request.headers.get("Authorization", "") == f"token {self.token}"

    def room(self, path: str) -> Room:
        room = self.rooms.get(path)
        if room is None:
            from jupyter_ydoc import YNotebook, YUnicode

            file = self.root / path
            doc: Doc[Any] = Doc()
            if path.endswith(".ipynb"):
                YNotebook(doc).set(json.loads(file.read_text(encoding="utf-8")))
            else:
                YUnicode(doc).set(file.read_text(encoding="utf-8"))
            room = self.rooms[path] = Room(doc)
        return room


class Status(web.RequestHandler):
    def initialize(self, floor: Floor) -> None:
        self.floor = floor

    def get(self) -> None:
        if not self.floor.allowed(self):
            raise web.HTTPError(403)
        self.finish({"started": True})


class Session(web.RequestHandler):
    def initialize(self, floor: Floor) -> None:
        self.floor = floor

    def check_xsrf_cookie(self) -> None:
        pass

    def put(self, path: str) -> None:
        if not self.floor.allowed(self):
            raise web.HTTPError(403)
        path = unquote(path)
        if not (self.floor.root / path).is_file():
            raise web.HTTPError(404)
        self.finish({"room": f"floor/room/{quote(path)}", "epoch": "0", "path": path})


class RoomSocket(WebSocketHandler):
    def initialize(self, floor: Floor) -> None:
        self.floor = floor
        self.room: Room | None = None
        self.stream: Any = None
        self.sock: Any = None

    def check_origin(self, origin: str) -> bool:
        return True

    def get_compression_options(self) -> None:
        return None

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if not self.floor.allowed(self):
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    def open(self, path: str) -> None:  # type: ignore[override]
        self.set_nodelay(True)
        assert self.ws_connection is not None
        self.stream = self.ws_connection.stream
        self.sock = self.stream.socket
        room = self.room = self.floor.room(unquote(path))
        room.sockets.append(self)
        self.put(frame_of(sync(STEP1, room.doc.get_state())))

    def on_message(self, message: str | bytes) -> None:
        room = self.room
        if room is None or not isinstance(message, bytes) or len(message) < 2:
            return
        if message[0] == SYNC:
            kind = message[1]
            length, pos = read_var_uint(message, 2)
            payload = message[pos : pos + length]
            if kind == STEP1:
                self.put(frame_of(sync(STEP2, room.doc.get_update(payload))))
            elif payload != NOTHING:
                room.doc.apply_update(payload)
                room.relay(message if kind == UPDATE else sync(UPDATE, payload), self)
        elif message[0] == AWARENESS:
            room.relay(message, self)

    def on_close(self) -> None:
        if self.room is not None and self in self.room.sockets:
            self.room.sockets.remove(self)
        self.room = None

    def put(self, frame: bytes) -> None:
        """Write one frame: straight to the kernel when nothing waits before it."""
        stream = self.stream
        if stream is None or stream.closed():
            return
        if not stream.writing():
            try:
                sent = self.sock.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                return  # the connection is going; on_close follows
            if sent == len(frame):
                return
            frame = frame[sent:]
        try:
            stream.write(frame)  # queued behind what is pending; tornado sends it in order
        except StreamClosedError:
            pass


async def serve(port: int, root: Path, token: str) -> None:
    floor = Floor(root, token)
    app = web.Application(
        [
            (r"/api/status", Status, {"floor": floor}),
            (r"/api/collab/session/(.+)", Session, {"floor": floor}),
            (r"/floor/room/(.+)", RoomSocket, {"floor": floor}),
        ],
        websocket_ping_interval=0,
    )
    app.listen(port, address="127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    gc.collect()
    gc.freeze()
    await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.root.resolve(), args.token))


if __name__ == "__main__":
    main()
