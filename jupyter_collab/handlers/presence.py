"""The presence feed websocket: who is connected to which document and cell.

``GET api/collab/presence`` upgrades to a websocket that only the server writes to:
one ``snapshot`` text message, then ``update`` messages with what changed
(``presence.PresenceFeed``). The feed is JSON in text frames because it is small, rare
and read by the panel's code, not by Yjs. A client that sends anything is closed with
4400: the feed takes no input, and silently ignoring it would hide a client bug.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..protocol import CloseCode

if TYPE_CHECKING:
    from ..services import Services

log = logging.getLogger(__name__)


class PresenceWebSocketHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """``GET api/collab/presence``: JSON presence snapshots and updates."""

    auth_resource = "contents"

    def initialize(self, collab: Services) -> None:
        self.collab = collab
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def max_message_size(self) -> int:
        return 4096  # the feed takes no input; anything bigger is surely not for us

    def get_compression_options(self) -> dict[str, Any] | None:
        return {}  # repeated JSON keys compress well; the feed is not latency-bound

    @ws_authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def get(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        await super().get(*args, **kwargs)

    async def open(self) -> None:
        super().open()  # WebSocketMixin: keep-alive pings
        await self.collab.ready()
        if self.ws_connection is None:
            return  # closed while the store opened
        username = self.current_user.username
        access = self.collab.access
        visible = None
        owner = access.is_owner(username)
        if not owner:
            # people only learn who is in documents they may read themselves
            def visible(entry: dict[str, Any]) -> bool:
                return access.role_now(username, entry["path"]) is not None

        self._unsubscribe = self.collab.registry.presence.subscribe(
            self._send, visible, username=username, owner=owner
        )

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.write_message(json.dumps(message, separators=(",", ":")))
        except WebSocketClosedError:
            self._stop()

    def on_message(self, message: str | bytes) -> None:
        self.close(CloseCode.BAD_MESSAGE, "the presence feed takes no messages")

    def on_close(self) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
