"""A real Yjs client in Python (pycrdt) speaking y-protocols over a tornado websocket.

Waiting is done on conditions under a timeout, re-checked after every message the
client receives, never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, TransactionEvent
from tornado.websocket import WebSocketClientConnection

from jupyter_collab import documents
from jupyter_collab.protocol import (
    AuthMessage,
    AwarenessEntry,
    AwarenessMessage,
    EventMessage,
    SyncKind,
    SyncMessage,
    decode_awareness_update,
    decode_message,
    encode_awareness,
    encode_awareness_update,
    encode_event,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
)


class YClient:
    """One collaborator: a document replica plus a websocket to a room."""

    def __init__(self, kind: str = "notebook", doc: Doc | None = None) -> None:
        self.kind = kind
        self.doc = doc or Doc()
        self.ydoc = documents.wrap(kind, self.doc)
        self.ws: WebSocketClientConnection | None = None
        self.events: list[dict[str, Any]] = []
        self.denied: list[str] = []  # reasons of y-protocols permission-denied messages
        self.awareness: dict[int, dict[str, Any] | None] = {}
        self.synced = False
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.offline: list[bytes] = []  # local updates made while disconnected
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._remote = False
        self.doc.observe(self._on_local)

    # -- connection ---------------------------------------------------------------------

    async def connect(
        self, ws_fetch: Any, session: dict[str, Any], *, epoch: str | None = None, **kwargs: Any
    ) -> None:
        epoch = session["epoch"] if epoch is None else epoch
        params = {"epoch": epoch} if epoch else {}
        self.ws = await ws_fetch(*session["room"].split("/"), params=params, **kwargs)
        self.synced = False
        self.close_code = None
        self._reader = asyncio.ensure_future(self._read_loop(self.ws))
        self.ws.write_message(encode_sync_step1(self.doc.get_state()), binary=True)

    async def _read_loop(self, ws: WebSocketClientConnection) -> None:
        while True:
            data = await ws.read_message()
            if data is None:
                self.close_code, self.close_reason = ws.close_code, ws.close_reason
                if self.ws is ws:
                    self.ws = None
                self._changed.set()
                return
            assert isinstance(data, bytes)
            self._handle(ws, data)
            self._changed.set()

    def _handle(self, ws: WebSocketClientConnection, data: bytes) -> None:
        message = decode_message(data)
        if isinstance(message, SyncMessage):
            if message.kind == SyncKind.STEP1:
                ws.write_message(
                    encode_sync_step2(self.doc.get_update(message.payload)), binary=True
                )
            else:
                self._remote = True
                try:
                    self.doc.apply_update(message.payload)
                finally:
                    self._remote = False
                if message.kind == SyncKind.STEP2:
                    self.synced = True
        elif isinstance(message, AwarenessMessage):
            for entry in decode_awareness_update(message.payload):
                self.awareness[entry.client_id] = entry.state
        elif isinstance(message, EventMessage):
            self.events.append(message.event)
        elif isinstance(message, AuthMessage):
            self.denied.append(message.reason)

    def _on_local(self, event: TransactionEvent) -> None:
        if self._remote:
            return
        update = event.update
        if self.ws is not None:
            self.ws.write_message(encode_sync_update(update), binary=True)
        else:
            self.offline.append(update)

    def send_raw(self, data: bytes | str) -> None:
        assert self.ws is not None
        self.ws.write_message(data, binary=isinstance(data, bytes))

    def send_event(self, event: dict[str, Any]) -> None:
        self.send_raw(encode_event(event))

    def set_awareness(
        self, state: dict[str, Any] | None, clock: int = 1, client_id: int | None = None
    ) -> None:
        cid = self.doc.client_id if client_id is None else client_id
        self.send_raw(
            encode_awareness(encode_awareness_update([AwarenessEntry(cid, clock, state)]))
        )

    async def disconnect(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            ws.close()
            if self._reader is not None:
                await asyncio.wait_for(self._reader, 10)

    # -- waiting ------------------------------------------------------------------------

    async def wait_for(
        self, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
    ) -> None:
        """Wait until ``condition()`` holds: re-checked after every message this client
        receives, and at least every 50 ms for conditions on server state."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.05)
            except asyncio.TimeoutError:
                pass  # re-check: the condition may depend on the server, not on a message

    async def wait_synced(self) -> None:
        await self.wait_for(lambda: self.synced, what="sync step 2")

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        await self.wait_for(
            lambda: self.close_code is not None or self.ws is None, timeout, "close"
        )
        return self.close_code

    # -- content ------------------------------------------------------------------------

    def content(self) -> Any:
        return documents.read(self.kind, self.ydoc)

    def text(self) -> str:
        assert self.kind == "file"
        return str(self.content())

    def sources(self) -> list[str]:
        return [c["source"] for c in self.content()["cells"]]
