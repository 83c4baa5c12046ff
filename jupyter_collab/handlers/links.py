"""REST: share links of a file or folder (owners only).

``GET api/collab/links/{path}`` lists them, ``POST`` with ``{"role", "expires_in_seconds"}``
creates one (201, with its URL), ``PATCH ?id=<link id>`` with ``{"role"}`` changes what it
gives (its guests get the new role live), ``DELETE ?id=<link id>`` revokes one: its guests
lose access at once and their connections are closed.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..permissions import Action, Role, ShareLink, allows
from .base import canonical_or_403


def link_json(link: ShareLink, base_url: str, now: float) -> dict[str, Any]:
    return {
        "id": link.link_id,
        "path": link.path,
        "role": link.role.label,
        "url": f"{base_url}collab/join/{link.token}",
        "created_by": link.created_by,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "active": link.active(now),
    }


class LinksHandler(APIHandler):
    """``api/collab/links/{path}``: list, create and revoke share links."""

    auth_resource = "contents"

    def initialize(self, collab: Any) -> None:
        self.collab = collab

    async def _manage(self, path: str) -> None:
        await self.collab.ready()
        username = self.current_user.username
        role: Role | None = await self.collab.access.role_of(username, path)
        if not allows(role, Action.MANAGE):
            raise web.HTTPError(403, f"only owners share /{path} by link")

    def _json(self, link: ShareLink) -> dict[str, Any]:
        return link_json(link, self.base_url, self.collab.access.clock())

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
        try:
            body = json.loads(self.request.body or b"{}")
            role = Role.parse(body["role"])
            expires_in = body.get("expires_in_seconds")
            if expires_in is not None and (
                not isinstance(expires_in, int | float) or expires_in <= 0
            ):
                raise ValueError("expires_in_seconds must be a positive number or null")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise web.HTTPError(
                400, f'body must be {{"role": <role>, "expires_in_seconds": <s> | null}}: {exc}'
            ) from None
        if role is Role.OWNER:
            raise web.HTTPError(400, "a share link cannot make guests owners")
        if not self.collab.rest_guarded:
            raise web.HTTPError(
                409,
                "share links are disabled: with CollabApp.govern_rest_api off, a guest could "
                "read every file",
            )
        if not await self.collab.contents_exists(path):
            raise web.HTTPError(404, f"no such file or folder: /{path}")
        link = await self.collab.access.create_link(
            path, role, by=self.current_user.username, expires_in=expires_in
        )
        self.set_status(201)
        self.finish(json.dumps(self._json(link)))

    @web.authenticated
    @authorized("write")  # type: ignore[untyped-decorator]
    async def patch(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        await self._manage(path)
        link_id = self.get_query_argument("id", "")
        try:
            role = Role.parse(json.loads(self.request.body or b"{}")["role"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise web.HTTPError(400, f'body must be {{"role": <role>}}: {exc}') from None
        if role is Role.OWNER:
            raise web.HTTPError(400, "a share link cannot make guests owners")
        ours = {link.link_id for link in self.collab.access.links_on(path)}
        if link_id not in ours or not await self.collab.access.set_link_role(
            link_id, role, by=self.current_user.username
        ):
            raise web.HTTPError(404, f"no active share link {link_id!r} on /{path}")
        link = self.collab.access.active_link(link_id)
        self.finish(json.dumps(self._json(link)))

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
