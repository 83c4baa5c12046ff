"""Display names, as a service of the room hook table: a ``name`` event from a person
shows their new name in every room at once (JupyterLab's ``api/me`` keeps it for their
next connection). Guests keep the name they joined with."""

from __future__ import annotations

from typing import Protocol

from ..access import guest_link_id
from . import hooks as h

MAX_NAME = 60  # characters of a display name set through a ``name`` event


class Renamer(Protocol):
    def rename_person(self, username: str, display_name: str) -> None: ...


class NameService:
    def __init__(self, rooms: Renamer) -> None:
        self.rooms = rooms

    def install(self, hooks: h.RoomHooks) -> None:
        hooks.handle("name", self._name_requested)

    def _name_requested(self, event: h.EventReceived) -> None:
        room, client = event.room, event.client
        name = event.event.get("display_name")
        username = client.identity.username
        reason = None
        if guest_link_id(username) is not None:
            reason = "name: guests keep the name they joined with"
        elif not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            reason = f'name: expected {{"display_name": <1 to {MAX_NAME} characters>}}'
        if reason is not None:
            room.send_error(client, event.event.get("id"), reason)
            return
        assert isinstance(name, str)
        self.rooms.rename_person(username, " ".join(name.split()))
