"""What every REST handler of ours shares: the path it acts on, resolved once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tornado import web

from ..errors import PermissionDenied
from ..permissions import Action, Role, allows

if TYPE_CHECKING:
    from ..services import Services


def canonical_or_403(collab: Services, raw: str) -> str:
    """The path ``raw`` names once resolved as the ContentsManager resolves it
    (``CollabApp.canonical_path``); 403 when it leaves the root or names a hidden file."""
    try:
        return collab.canonical_path(raw)
    except PermissionDenied as err:
        raise web.HTTPError(err.http_status, str(err)) from err


async def reader_role(collab: Services, username: str, path: str) -> Role:
    """The role of ``username`` on the (canonical) ``path``, once the store is open; 403
    unless it may at least read there."""
    await collab.ready()
    role = await collab.access.role_of(username, path)
    if role is None or not allows(role, Action.READ):
        raise web.HTTPError(403, f"no role on /{path}")
    return role
