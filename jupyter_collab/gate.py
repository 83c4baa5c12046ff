"""What a person who is not an owner may reach on this server: deny by default.

A share link or a role on one notebook must not open the rest of the server. Every
request jupyter_server serves passes ``JupyterHandler.prepare``, which asks the identity
provider for the user before any handler method runs; ``Gate.identify`` answers that
call (``server_hooks.wrap_get_user``): guests first, then the server's own provider, and
once a person is known and is not an owner, ``Gate.check`` decides:

- the handler class must be on ``allowlist.ALLOWLIST`` with the request's method; any
  other handler, of jupyter_server, jupyterlab_server, JupyterLab or any other installed
  extension, answers 403 (a new extension's routes are closed until listed there);
- every path the request names (URL, and the body fields listed for it) is resolved by
  ``paths.canonical_path`` exactly as the ContentsManager will resolve it, and the
  person's role is checked on that resolved path.

The server's token (and a hub's API token) must never reach a non-owner: JupyterLab
pages carry it in their page config and every jupyter_server template page in an
attribute, the 404 page included. ``non_owner_page_config`` gives non-owners a page
config without it, and ``TokenScrub`` removes it from anything else served to someone
not known to be an owner. The Authorizer (``authorizer.py``) still runs behind this gate
for handlers that ask it; the two agree on paths because both use ``canonical_path``.
"""

from __future__ import annotations

import html
import json
import logging
import os
import weakref
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado import httputil, web
from tornado.websocket import WebSocketHandler

from .access import guest_link_id
from .allowlist import ALLOWLIST, STAND_INS, Need, Rule, handler_name
from .errors import PermissionDenied
from .guests import guest_user
from .permissions import Action, Role, allows

if TYPE_CHECKING:
    from jupyter_server.auth.identity import User
    from jupyter_server.serverapp import ServerApp

    from .server_hooks import ServerUser
    from .services import Access, Services

log = logging.getLogger(__name__)


class Refused(web.HTTPError):
    """403 for a non-owner, with the reason in the log and in the JSON error."""

    def __init__(self, reason: str) -> None:
        super().__init__(403, reason)


class Gate:
    """Checks one request of a person who is not an owner (see the module docstring).

    ``govern`` (``CollabApp.govern_rest_api``) off leaves identities and routes as the
    server has them (no guests, no checks); owners are still told apart, so the token
    is still kept from everyone else.
    """

    def __init__(self, services: Services, *, govern: bool) -> None:
        self.services = services
        self.govern = govern
        # the open sockets of non-owners (presence feed, rooms, kernels) and what each
        # needed, closed when their access ends: a revoked link must not leave a feed or
        # a kernel open
        self._sockets: dict[str, weakref.WeakKeyDictionary[WebSocketHandler, Need | None]] = {}

    async def identify(self, handler: web.RequestHandler, server_user: ServerUser) -> User | None:
        """Who a request comes from (the identity provider's ``get_user``): a guest by
        their cookie, else whoever the server's own provider says. A non-owner's
        request that the gate refuses is answered 403 here (``web.Finish``)."""
        access = self.services.access
        user = guest_user(handler, access) if self.govern else None
        if user is None:
            user = await server_user()
        if user is None:
            return None
        owner = access.is_owner(user.username)
        if owner:
            _OWNER_REQUESTS.add(handler.request)  # TokenScrub and the page config read it
        if self.govern and not owner:
            await self.services.ready()  # roles live in the store
            try:
                await self.check(handler, user.username)
            except Refused as err:
                log.info("refused %s: %s", user.username, err.log_message)
                refuse(handler, str(err.log_message))
        return user

    async def check(self, handler: web.RequestHandler, username: str) -> None:
        """Raises ``Refused`` unless the allowlist and this person's roles allow it."""
        method = (handler.request.method or "").upper()
        name = handler_name(type(handler))
        rule = ALLOWLIST.get(name)
        need = None if rule is None else rule.methods.get(method)
        try:
            if rule is None or need is None:
                raise Refused(f"{method} {handler.request.path} is for the server's owners only")
            await self._check_need(handler, username, rule, need)
        except Refused:
            stand_in = STAND_INS.get((name, method))
            if stand_in is None:
                raise
            stand_in(handler)  # answers (web.Finish) or turns the handler harmless
        if isinstance(handler, WebSocketHandler):  # need is None for a stand-in's socket
            self._sockets.setdefault(username, weakref.WeakKeyDictionary())[handler] = need

    async def access_changed(self, path: str) -> None:
        """Roles or links changed: close the sockets of people who lost what they need."""
        access = self.services.access
        for username, sockets in list(self._sockets.items()):
            if not sockets:
                del self._sockets[username]
                continue
            admitted = access.holds_any_role(username)
            executes = admitted and await self.services.can_execute_somewhere(username)
            for handler, need in list(sockets.items()):
                if admitted and (need is not Need.EXECUTE or executes):
                    continue
                del sockets[handler]
                if handler.ws_connection is not None:
                    log.info("closing a socket of %s: their access ended", username)
                    handler.close(PermissionDenied.close_code, "your access to this server ended")

    async def _check_need(
        self, handler: web.RequestHandler, username: str, rule: Rule, need: Need
    ) -> None:
        if need in (Need.PUBLIC, Need.SIGNED_IN, Need.OWN_CHECKS):
            return
        if need is Need.ACCOUNT:
            if guest_link_id(username) is not None:
                raise Refused("guests keep the name they joined with")
            return
        if need is Need.EXECUTE:
            if not await self.services.can_execute_somewhere(username):
                raise Refused(f"{username} may not run code on this server")
        else:
            await self._check_path(handler, username, url_path(handler), need)
        for field in rule.body_paths:
            raw = _body_field(handler, field)
            if raw is not None:
                await self._check_path(handler, username, raw, rule.body_need)

    async def _check_path(
        self, handler: web.RequestHandler, username: str, raw: str, need: Need
    ) -> None:
        try:
            path = self.services.canonical_path(raw)
        except PermissionDenied as err:
            raise Refused(str(err)) from None
        access = self.services.access
        role = await access.role_of(username, path)
        action = Action.EDIT if need in (Need.EDIT, Need.EXECUTE) else Action.READ
        if allows(role, action):
            return
        if action is Action.READ and handler.request.method == "GET":
            # a folder on the way to something shared: listed, filtered (authorizer.py)
            if await _is_folder(handler, path) and has_role_below(access, username, path):
                return
        held = role.label if role is not None else "no role"
        raise Refused(f"{username} holds {held} on /{path}: cannot {action.value} it")


def url_path(handler: web.RequestHandler) -> str:
    """The contents path a handler was routed with, decoded once by tornado exactly as
    the handler will use it (``(?P<path>...)``, else the first group)."""
    path = (getattr(handler, "path_kwargs", None) or {}).get("path")
    if path is None:
        args = getattr(handler, "path_args", None) or []
        path = args[0] if args else ""
    return path if isinstance(path, str) else ""


def _body_field(handler: web.RequestHandler, field: str) -> str | None:
    body = handler.request.body
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # the handler answers 400 for a body it cannot read
    value = data.get(field) if isinstance(data, dict) else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refused(f"{field} must be a path")
    return value


async def _is_folder(handler: web.RequestHandler, path: str) -> bool:
    manager = handler.settings.get("contents_manager")
    return manager is not None and bool(await ensure_async(manager.dir_exists(path)))


def granted_paths(access: Access, username: str) -> list[str]:
    """Every path ``username`` holds a role on by membership or share link."""
    paths = [m.path for m in access.memberships_now() if m.principal == username]
    link = access.guest_link(username)
    if link is not None:
        paths.append(link.path)
    return paths


def has_role_below(access: Access, username: str, folder: str) -> bool:
    prefix = folder + "/" if folder else ""
    return any(path.startswith(prefix) for path in granted_paths(access, username))


async def edits_somewhere(access: Access, username: str) -> bool:
    """Whether ``username`` holds the editor role on anything (the condition, with
    ``CollabApp.editors_can_execute``, for running code)."""
    link = access.guest_link(username)
    if link is not None or guest_link_id(username) is not None:
        # a guest holds only their link's role: the default role is not theirs
        return link is not None and link.role >= Role.EDITOR
    if access.default_role is not None and access.default_role >= Role.EDITOR:
        return True
    return any(
        m.principal == username and m.role >= Role.EDITOR for m in await access.memberships()
    )


# -- credentials ----------------------------------------------------------------------

# the requests whose user is known to be an owner; everyone else is served no credential
_OWNER_REQUESTS: weakref.WeakSet[httputil.HTTPServerRequest] = weakref.WeakSet()


def credentials(serverapp: ServerApp) -> list[bytes]:
    """The secrets that let their holder act as the server's owner."""
    secrets = [str(serverapp.identity_provider.token or "")]
    secrets.append(os.environ.get("JUPYTERHUB_API_TOKEN", ""))
    return [s.encode() for s in secrets if len(s) >= 8]


class TokenScrub(web.OutputTransform):
    """Removes the server's credentials from every response to someone not known to be
    an owner: a template page (the 404 page too) carries the token in an attribute,
    and an extension's page might carry it anywhere. The secret is replaced by as many
    ``*``, so lengths and JSON stay valid. Installed by ``server_hooks.add_output_transform``."""

    secrets: list[bytes] = []

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        self.request = request

    def _scrub(self, chunk: bytes) -> bytes:
        if self.request in _OWNER_REQUESTS:
            return chunk
        for secret in self.secrets:
            if secret in chunk:
                chunk = chunk.replace(secret, b"*" * len(secret))
        return chunk

    def transform_first_chunk(
        self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        if self.request not in _OWNER_REQUESTS:
            for name, value in list(headers.get_all()):
                scrubbed = self._scrub(value.encode("latin-1")).decode("latin-1")
                if scrubbed != value:
                    headers[name] = scrubbed
        return status_code, headers, self._scrub(chunk)

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return self._scrub(chunk)


def refuse(handler: web.RequestHandler, reason: str) -> None:
    """Answer 403 with ``reason`` and end the request (``web.Finish``).

    Written here rather than through the handler's ``send_error``: handlers override
    ``write_error`` and ``finish`` (jupyterlab_server's licenses handler needs an extra
    argument, and answered nothing at all), and a template error page is one more place
    a token could hide.
    """
    handler.clear()
    handler.set_status(403)
    page = "text/html" in handler.request.headers.get("Accept", "")
    if isinstance(handler, APIHandler) or not page:
        handler.set_header("Content-Type", "application/json")
        body = json.dumps({"message": reason, "reason": "Forbidden"})
    else:
        handler.set_header("Content-Type", "text/html; charset=utf-8")
        body = (
            "<!doctype html><title>403 Forbidden</title><h1>403 Forbidden</h1>"
            f"<p>{html.escape(reason)}</p>"
        )
    web.RequestHandler.finish(handler, body)
    raise web.Finish()


# JupyterLab plugins a non-owner's page runs without: the news and update announcements
# (their toast asks to change a server-wide setting they may not write)
NON_OWNER_DISABLED_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)


def non_owner_page_config(
    handler: web.RequestHandler, page_config: dict[str, Any]
) -> dict[str, Any]:
    """JupyterLab's page config for someone not known to be an owner: no token, and
    nothing offered that they may not use (``server_hooks.wrap_page_config_hook``)."""
    if handler.request in _OWNER_REQUESTS:
        return page_config
    # a copy: the dict is the server's shared settings["page_config_data"]
    return {
        **page_config,
        "token": "",
        # what they may not use is not offered (and not polled: no 403s to log)
        "terminalsAvailable": False,
        "buildAvailable": False,
        "buildCheck": False,
        "disabledExtensions": [
            *page_config.get("disabledExtensions", []),
            *NON_OWNER_DISABLED_PLUGINS,
        ],
    }
