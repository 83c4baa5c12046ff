"""REST: share links of a file or folder (owners only).

``GET api/collab/links/{path}`` lists them, ``POST`` with ``{"role", "expires_in_seconds",
"label"}`` creates one (201, with its URL), ``PATCH ?id=<link id>`` with ``{"role"}`` and/or
``{"label"}`` changes what it gives (its guests get the new role live) or what it is
called, ``DELETE ?id=<link id>`` revokes one: its guests lose access at once and their
connections are closed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..permissions import Action, Role, ShareLink, allows, parse_link_label
from .base import canonical_or_403

if TYPE_CHECKING:
    from ..services import Services


def link_json(link: ShareLink, base_url: str, now: float) -> dict[str, Any]:
    return {
        "id": link.link_id,
        "path": link.path,
        "role": link.role.label,
        "label": link.label,
        "url": f"{base_url}collab/join/{link.token}",
        "created_by": link.created_by,
        "created_by_name": link.created_by_name or link.created_by,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "active": link.active(now),
        "last_used_at": link.last_used_at,
        "guests": [{"name": g.name, "joined_at": g.joined_at} for g in link.guests],
    }


def read_body(raw: bytes) -> dict[str, Any]:
    """The JSON object a request carries; 400 for anything else."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise web.HTTPError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise web.HTTPError(400, "the body must be a JSON object")
    return body


def read_label(body: dict[str, Any]) -> str:
    try:
        return parse_link_label(body.get("label", ""))
    except ValueError as exc:
        raise web.HTTPError(400, str(exc)) from None


def read_role(body: dict[str, Any]) -> Role:
    try:
        role = Role.parse(body["role"])
    except KeyError:
        raise web.HTTPError(400, 'the body needs a "role"') from None
    except ValueError as exc:
        raise web.HTTPError(400, str(exc)) from None
    if role is Role.OWNER:
        raise web.HTTPError(400, "a share link cannot make guests owners")
    return role


class LinksHandler(APIHandler):
    """``api/collab/links/{path}``: list, create, change and revoke share links."""

    auth_resource = "contents"

    def initialize(self, collab: Services) -> None:
        self.collab = collab

    async def _manage(self, path: str) -> None:
        await self.collab.ready()
        username = self.current_user.username
        role: Role | None = await self.collab.access.role_of(username, path)
        if not allows(role, Action.MANAGE):
            raise web.HTTPError(403, f"only owners share /{path} by link")

    def _json(self, link: ShareLink) -> dict[str, Any]:
        return link_json(link, self.base_url, self.collab.access.clock())

    def _ours(self, path: str, link_id: str) -> ShareLink:
        link: ShareLink
        for link in self.collab.access.links_on(path):
            if link.link_id == link_id:
                return link
        raise web.HTTPError(404, f"no share link {link_id!r} on /{path}")

    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def get(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        await self._manage(path)
        links = self.collab.access.links_on(path)
        self.finish(json.dumps({"path": path, "links": [self._json(x) for x in links]}))

    @web.authenticated
    @authorized("write")  # type: ignore[untyped-decorator]
    async def post(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        await self._manage(path)
        body = read_body(self.request.body)
        role = read_role(body)
        label = read_label(body)
        expires_in = body.get("expires_in_seconds")
        number = isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
        if expires_in is not None and (not number or expires_in <= 0):
            raise web.HTTPError(400, "expires_in_seconds must be a positive number or null")
        if not self.collab.rest_guarded:
            raise web.HTTPError(
                409,
                "share links are disabled: with CollabApp.govern_rest_api off, a guest could "
                "read every file",
            )
        if not await self.collab.contents_exists(path):
            raise web.HTTPError(404, f"no such file or folder: /{path}")
        user = self.current_user
        link = await self.collab.access.create_link(
            path,
            role,
            by=user.username,
            by_name=user.display_name or user.name or user.username,
            expires_in=expires_in,
            label=label,
        )
        self.set_status(201)
        self.finish(json.dumps(self._json(link)))

    @web.authenticated
    @authorized("write")  # type: ignore[untyped-decorator]
    async def patch(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        await self._manage(path)
        link_id = self.get_query_argument("id", "")
        body = read_body(self.request.body)
        if "role" not in body and "label" not in body:
            raise web.HTTPError(400, 'the body needs a "role", a "label" or both')
        role = read_role(body) if "role" in body else None
        label = read_label(body) if "label" in body else None
        link = self._ours(path, link_id)
        by = self.current_user.username
        if role is not None and (
            not link.active(self.collab.access.clock())
            or not await self.collab.access.set_link_role(link_id, role, by=by)
        ):
            raise web.HTTPError(404, f"no active share link {link_id!r} on /{path}")
        if label is not None and label != link.label:
            await self.collab.access.set_link_label(link_id, label, by=by)
        self.finish(json.dumps(self._json(self._ours(path, link_id))))

    @web.authenticated
    @authorized("write")  # type: ignore[untyped-decorator]
    async def delete(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        await self._manage(path)
        link_id = self.get_query_argument("id", "")
        ours = {link.link_id for link in self.collab.access.links_on(path)}
        if link_id not in ours or not await self.collab.access.revoke_link(
            link_id, by=self.current_user.username
        ):
            raise web.HTTPError(404, f"no active share link {link_id!r} on /{path}")
        self.set_status(204)
        self.finish()
