"""REST: who holds which role on a file or folder, and granting or revoking it.

``GET api/collab/members/{path}``: the caller's role there and the memberships that
apply (on the path and on the folders above it). ``PUT`` with ``{"principal", "role"}``
grants; ``DELETE ?principal=`` revokes. Changing memberships takes the ``manage``
right (owners); connected clients get their new role within the request.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..permissions import Action, Membership, Role, allows
from .base import canonical_or_403

if TYPE_CHECKING:
    from ..services import Services


def membership_json(m: Membership) -> dict[str, Any]:
    return {
        "path": m.path,
        "principal": m.principal,
        "role": m.role.label,
        "granted_by": m.granted_by,
        "granted_at": m.granted_at,
    }


class MembersHandler(APIHandler):
    """``api/collab/members/{path}``: list, grant and revoke roles."""

    auth_resource = "contents"

    def initialize(self, collab: Services) -> None:
        self.collab = collab

    async def _require(self, path: str, action: Action) -> Role:
        await self.collab.ready()
        username = self.current_user.username
        role: Role | None = await self.collab.access.role_of(username, path)
        if not allows(role, action):
            held = role.label if role is not None else "no role"
            raise web.HTTPError(403, f"{username} has {held} on /{path}: cannot {action.value}")
        assert role is not None
        return role

    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def get(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        role = await self._require(path, Action.READ)
        members = await self.collab.access.memberships(path)
        self.finish(
            json.dumps(
                {
                    "path": path,
                    "role": role.label,
                    "members": [membership_json(m) for m in members],
                }
            )
        )

    @web.authenticated
    @authorized("write")  # type: ignore[untyped-decorator]
    async def put(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        await self._require(path, Action.MANAGE)
        try:
            body = json.loads(self.request.body or b"{}")
            principal = body["principal"]
            role = Role.parse(body["role"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise web.HTTPError(
                400, f'body must be {{"principal": <username>, "role": <role>}}: {exc}'
            ) from None
        if not isinstance(principal, str) or not 0 < len(principal.strip()) <= 200:
            raise web.HTTPError(400, "principal must be a username of 1 to 200 characters")
        membership = await self.collab.access.grant(
            path, principal.strip(), role, by=self.current_user.username
        )
        self.finish(json.dumps(membership_json(membership)))

    @web.authenticated
    @authorized("write")  # type: ignore[untyped-decorator]
    async def delete(self, path: str) -> None:
        path = canonical_or_403(self.collab, path)
        await self._require(path, Action.MANAGE)
        principal = self.get_query_argument("principal", "")
        if not principal:
            raise web.HTTPError(400, "principal query parameter required")
        if not await self.collab.access.revoke(path, principal, by=self.current_user.username):
            raise web.HTTPError(404, f"{principal} holds no membership on /{path}")
        self.set_status(204)
        self.finish()
