"""The HTTP and websocket edge: authenticate, authorize, adapt tornado to the core,
and translate domain errors into close codes and JSON errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tornado import web

from ..guests import JoinHandler
from .comments import CommentsHandler
from .history import HistoryHandler
from .links import LinksHandler
from .members import MembersHandler
from .presence import PresenceWebSocketHandler
from .session import SessionHandler
from .websocket import RoomWebSocketHandler

if TYPE_CHECKING:
    from ..services import Services


def route_table(
    collab: Services,
) -> list[tuple[str, type[web.RequestHandler], dict[str, Services]]]:
    """Routes relative to the server's base_url (ExtensionApp prepends it); every
    handler gets ``collab``, the services the edge may use."""
    kwargs = {"collab": collab}
    return [
        (r"/api/collab/session/(.*)", SessionHandler, kwargs),
        (r"/api/collab/room/([^/]+)", RoomWebSocketHandler, kwargs),
        (r"/api/collab/presence", PresenceWebSocketHandler, kwargs),
        (r"/api/collab/members/?(.*)", MembersHandler, kwargs),
        (r"/api/collab/links/?(.*)", LinksHandler, kwargs),
        (r"/api/collab/comments/?(.*)", CommentsHandler, kwargs),
        (r"/api/collab/history/?(.*)", HistoryHandler, kwargs),
        (r"/collab/join/([^/]+)", JoinHandler, kwargs),
    ]
