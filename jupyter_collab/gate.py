"""What a person who is not an owner may reach on this server: deny by default.

A share link or a role on one notebook must not open the rest of the server. Every
request jupyter_server serves passes ``JupyterHandler.prepare``, which asks the identity
provider for the user before any handler method runs; ``install`` wraps that call, so
once a person is known and is not an owner, ``Gate.check`` decides:

- the handler class must be on ``ALLOWLIST`` with the request's method; any other
  handler, of jupyter_server, jupyterlab_server, JupyterLab or any other installed
  extension, answers 403 (a new extension's routes are closed until listed here);
- every path the request names (URL, and the body fields listed for it) is resolved by
  ``paths.canonical_path`` exactly as the ContentsManager will resolve it, and the
  person's role is checked on that resolved path.

The server's token (and a hub's API token) must never reach a non-owner: JupyterLab
pages carry it in their page config and every jupyter_server template page in an
attribute, the 404 page included. ``install`` gives non-owners a page config without
it, and ``TokenScrub`` removes it from anything else served to someone not known to be
an owner. The Authorizer (``authorizer.py``) still runs behind this gate for handlers
that ask it; the two agree on paths because both use ``canonical_path``.
"""

from __future__ import annotations

import enum
import html
import json
import logging
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado import httputil, web
from tornado.websocket import WebSocketHandler

from .access import guest_link_id
from .errors import PermissionDenied
from .guests import guest_user
from .paths import canonical_path
from .permissions import Action, Role, allows

log = logging.getLogger(__name__)


class Need(enum.Enum):
    """What a non-owner needs for one method of one handler."""

    PUBLIC = "public"  # anyone, signed in or not (static files, login, join page)
    SIGNED_IN = "signed in"  # any person the server knows (JupyterLab's pages and boot data)
    ACCOUNT = "an account"  # signed in and not a guest (their own name: guests keep theirs)
    OWN_CHECKS = "own checks"  # jupyter-collab's handlers: they check roles per document
    READ = "read the path"
    EDIT = "edit the path"
    EXECUTE = "run code"  # CollabApp.editors_can_execute and an editor role somewhere


@dataclass(frozen=True)
class Rule:
    """The methods of one handler class that non-owners may call, and what each needs.

    ``body_paths`` names JSON body fields holding paths the request reads (a contents
    copy's ``copy_from``) or writes (a kernel session's ``path``): each is resolved and
    needs ``body_need``.
    """

    methods: dict[str, Need]
    body_paths: tuple[str, ...] = ()
    body_need: Need = Need.READ


_PAGE = Rule({"GET": Need.SIGNED_IN})
_STATIC = Rule({"GET": Need.PUBLIC, "HEAD": Need.PUBLIC})

# Handler classes by module and name. Anything not here is refused to non-owners.
ALLOWLIST: dict[str, Rule] = {
    # jupyter-collab
    "jupyter_collab.handlers.session.SessionHandler": Rule({"PUT": Need.OWN_CHECKS}),
    "jupyter_collab.handlers.websocket.RoomWebSocketHandler": Rule({"GET": Need.OWN_CHECKS}),
    "jupyter_collab.handlers.presence.PresenceWebSocketHandler": Rule({"GET": Need.OWN_CHECKS}),
    "jupyter_collab.handlers.members.MembersHandler": Rule(
        {"GET": Need.OWN_CHECKS, "PUT": Need.OWN_CHECKS, "DELETE": Need.OWN_CHECKS}
    ),
    "jupyter_collab.handlers.links.LinksHandler": Rule(
        {m: Need.OWN_CHECKS for m in ("GET", "POST", "PATCH", "DELETE")}
    ),
    "jupyter_collab.guests.JoinHandler": Rule({"GET": Need.PUBLIC, "POST": Need.PUBLIC}),
    # JupyterLab's pages and what they load at start (no secrets: see TokenScrub)
    "jupyterlab_server.handlers.LabHandler": _PAGE,
    "jupyterlab_server.handlers.NotFoundHandler": _PAGE,
    "jupyterlab_server.settings_handler.SettingsHandler": _PAGE,  # writes: owners only
    "jupyterlab_server.translations_handler.TranslationsHandler": _PAGE,
    "jupyterlab_server.themes_handler.ThemesHandler": _PAGE,
    "jupyter_server.base.handlers.FileFindHandler": _STATIC,
    "jupyter_server.base.handlers.PublicStaticFileHandler": _STATIC,
    "jupyter_server.base.handlers.MainHandler": _PAGE,
    "jupyter_server.base.handlers.Template404": Rule(
        {m: Need.SIGNED_IN for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")}
    ),
    # a plain tornado handler (never asks who is calling): redirects to the URL without
    # the trailing slash, where the gate applies
    "jupyter_server.base.handlers.TrailingSlashHandler": Rule(
        {m: Need.PUBLIC for m in ("GET", "HEAD", "POST", "PUT")}
    ),
    "jupyter_server.base.handlers.APIVersionHandler": _PAGE,
    "jupyter_server.auth.login.LoginFormHandler": Rule({"GET": Need.PUBLIC, "POST": Need.PUBLIC}),
    "jupyter_server.auth.logout.LogoutHandler": Rule({"GET": Need.PUBLIC}),
    "jupyter_server.services.api.handlers.IdentityHandler": Rule(
        {"GET": Need.SIGNED_IN, "PATCH": Need.ACCOUNT}
    ),
    "jupyter_server.services.config.handlers.ConfigHandler": _PAGE,
    "jupyter_server.services.security.handlers.CSPReportHandler": Rule({"POST": Need.SIGNED_IN}),
    "jupyter_server.services.kernelspecs.handlers.MainKernelSpecHandler": _PAGE,
    "jupyter_server.services.kernelspecs.handlers.KernelSpecHandler": _PAGE,
    "jupyter_server.kernelspecs.handlers.KernelSpecResourceHandler": _STATIC,
    "jupyter_server.services.nbconvert.handlers.NbconvertRootHandler": _PAGE,
    # files: a role on the resolved path
    "jupyter_server.services.contents.handlers.ContentsHandler": Rule(
        {"GET": Need.READ, "PUT": Need.EDIT, "POST": Need.EDIT},
        body_paths=("copy_from",),
        body_need=Need.READ,
    ),
    "jupyter_server.services.contents.handlers.CheckpointsHandler": Rule(
        {"GET": Need.READ, "POST": Need.EDIT}
    ),
    "jupyter_server.services.contents.handlers.ModifyCheckpointsHandler": Rule({"POST": Need.EDIT}),
    "jupyter_server.base.handlers.AuthenticatedFileHandler": Rule(
        {"GET": Need.READ, "HEAD": Need.READ}
    ),
    "jupyter_server.view.handlers.ViewHandler": Rule({"GET": Need.READ}),
    "jupyter_server.nbconvert.handlers.NbconvertFileHandler": Rule({"GET": Need.READ}),
    # kernels: running code is as good as owning the server (CollabApp.editors_can_execute)
    "jupyter_server.services.kernels.handlers.MainKernelHandler": Rule(
        {"GET": Need.EXECUTE, "POST": Need.EXECUTE}
    ),
    "jupyter_server.services.kernels.handlers.KernelHandler": Rule(
        {"GET": Need.EXECUTE, "DELETE": Need.EXECUTE}
    ),
    "jupyter_server.services.kernels.handlers.KernelActionHandler": Rule({"POST": Need.EXECUTE}),
    "jupyter_server.services.kernels.websocket.KernelWebsocketHandler": Rule({"GET": Need.EXECUTE}),
    "jupyter_server.services.sessions.handlers.SessionRootHandler": Rule(
        {"GET": Need.EXECUTE, "POST": Need.EXECUTE}, body_paths=("path",), body_need=Need.EDIT
    ),
    "jupyter_server.services.sessions.handlers.SessionHandler": Rule(
        {"GET": Need.EXECUTE, "PATCH": Need.EXECUTE, "DELETE": Need.EXECUTE},
        body_paths=("path",),
        body_need=Need.EDIT,
    ),
}


# -- stand-ins -------------------------------------------------------------------------
# What a non-owner's JupyterLab asks for by itself at start and while idle, but may not
# have: a 403 there would only fill their console with errors (issue 9). Each is answered
# with an empty, honest answer that reveals nothing of the owner's (no workspaces, no
# kernels they may use, no news), instead of refusing. Writes are still refused.


def _answer(handler: Any, status: int, body: Any = None) -> None:
    handler.clear()
    handler.set_status(status)
    if body is not None:
        handler.set_header("Content-Type", "application/json")
    web.RequestHandler.finish(handler, None if body is None else json.dumps(body))
    raise web.Finish()


def _empty_workspace(handler: Any) -> None:
    name = (getattr(handler, "path_kwargs", None) or {}).get("space_name")
    if not name:
        _answer(handler, 200, {"workspaces": {"ids": [], "values": []}})
    _answer(handler, 200, {"data": {}, "metadata": {"id": name}})


def _silent_events(handler: Any) -> None:
    """The event bus names files and kernels across the whole server: a non-owner's
    socket opens (JupyterLab reconnects forever otherwise) and never hears anything."""

    async def no_check() -> None:
        return None

    handler.pre_get = no_check
    handler.open = lambda *args, **kwargs: None
    handler.on_close = lambda: None


StandIn = Callable[[Any], None]
STAND_INS: dict[tuple[str, str], StandIn] = {
    ("jupyterlab_server.workspaces_handler.WorkspacesHandler", "GET"): _empty_workspace,
    # a non-owner's layout is not kept (the owner's workspaces are the owner's)
    ("jupyterlab_server.workspaces_handler.WorkspacesHandler", "PUT"): lambda h: _answer(h, 204),
    ("jupyter_server.services.kernels.handlers.MainKernelHandler", "GET"): lambda h: _answer(
        h, 200, []
    ),
    ("jupyter_server.services.sessions.handlers.SessionRootHandler", "GET"): lambda h: _answer(
        h, 200, []
    ),
    ("jupyter_server_terminals.api_handlers.TerminalRootHandler", "GET"): lambda h: _answer(
        h, 200, []
    ),
    ("jupyter_lsp.handlers.LanguageServersHandler", "GET"): lambda h: _answer(
        h, 200, {"version": 2, "sessions": {}, "specs": {}}
    ),
    ("jupyterlab.handlers.build_handler.BuildHandler", "GET"): lambda h: _answer(
        h, 200, {"status": "stable", "message": ""}
    ),
    ("jupyterlab.handlers.announcements.CheckForUpdateHandler", "GET"): lambda h: _answer(
        h, 200, {"notification": None}
    ),
    ("jupyterlab.handlers.announcements.NewsHandler", "GET"): lambda h: _answer(
        h, 200, {"news": []}
    ),
    ("jupyter_server.services.events.handlers.SubscribeWebsocket", "GET"): _silent_events,
}


def handler_name(handler_class: type) -> str:
    return f"{handler_class.__module__}.{handler_class.__qualname__}"


class Refused(web.HTTPError):
    """403 for a non-owner, with the reason in the log and in the JSON error."""

    def __init__(self, reason: str) -> None:
        super().__init__(403, reason)


class Gate:
    """Checks one request of a person who is not an owner (see the module docstring)."""

    def __init__(self, collab: Any) -> None:
        self.collab = collab
        # the open sockets of non-owners (presence feed, rooms, kernels), closed when
        # their access ends: a revoked link must not leave a feed or a kernel open
        self._sockets: dict[str, weakref.WeakSet[Any]] = {}

    async def check(self, handler: Any, username: str) -> None:
        """Raises ``Refused`` unless the allowlist and this person's roles allow it."""
        method = handler.request.method.upper()
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
        if isinstance(handler, WebSocketHandler):
            handler._collab_need = need  # type: ignore[attr-defined]
            self._sockets.setdefault(username, weakref.WeakSet()).add(handler)

    async def access_changed(self, path: str) -> None:
        """Roles or links changed: close the sockets of people who lost what they need."""
        access = self.collab.access
        for username, sockets in list(self._sockets.items()):
            if not sockets:
                del self._sockets[username]
                continue
            admitted = access.holds_any_role(username)
            executes = admitted and await self.collab.can_execute_somewhere(username)
            for handler in list(sockets):
                if admitted and (handler._collab_need is not Need.EXECUTE or executes):
                    continue
                sockets.discard(handler)
                if handler.ws_connection is not None:
                    log.info("closing a socket of %s: their access ended", username)
                    handler.close(PermissionDenied.close_code, "your access to this server ended")

    async def _check_need(self, handler: Any, username: str, rule: Rule, need: Need) -> None:
        if need in (Need.PUBLIC, Need.SIGNED_IN, Need.OWN_CHECKS):
            return
        if need is Need.ACCOUNT:
            if guest_link_id(username) is not None:
                raise Refused("guests keep the name they joined with")
            return
        if need is Need.EXECUTE:
            if not await self.collab.can_execute_somewhere(username):
                raise Refused(f"{username} may not run code on this server")
        else:
            await self._check_path(handler, username, url_path(handler), need)
        for field in rule.body_paths:
            raw = _body_field(handler, field)
            if raw is not None:
                await self._check_path(handler, username, raw, rule.body_need)

    async def _check_path(self, handler: Any, username: str, raw: str, need: Need) -> None:
        try:
            path = self.canonical(raw)
        except PermissionDenied as err:
            raise Refused(str(err)) from None
        access = self.collab.access
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

    def canonical(self, raw: str) -> str:
        manager = self.collab.serverapp.contents_manager
        return canonical_path(
            self.collab.root, raw, allow_hidden=bool(getattr(manager, "allow_hidden", False))
        )


def url_path(handler: Any) -> str:
    """The contents path a handler was routed with, decoded once by tornado exactly as
    the handler will use it (``(?P<path>...)``, else the first group)."""
    path = (getattr(handler, "path_kwargs", None) or {}).get("path")
    if path is None:
        args = getattr(handler, "path_args", None) or []
        path = args[0] if args else ""
    return path if isinstance(path, str) else ""


def _body_field(handler: Any, field: str) -> str | None:
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


async def _is_folder(handler: Any, path: str) -> bool:
    manager = handler.settings.get("contents_manager")
    return manager is not None and bool(await ensure_async(manager.dir_exists(path)))


def granted_paths(access: Any, username: str) -> list[str]:
    """Every path ``username`` holds a role on by membership or share link."""
    paths = [m.path for m in access.memberships_now() if m.principal == username]
    link = access.guest_link(username)
    if link is not None:
        paths.append(link.path)
    return paths


def has_role_below(access: Any, username: str, folder: str) -> bool:
    prefix = folder + "/" if folder else ""
    return any(path.startswith(prefix) for path in granted_paths(access, username))


async def edits_somewhere(access: Any, username: str) -> bool:
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

_OWNER_FLAG = "_collab_owner"  # set on the tornado request once its user is known


def credentials(serverapp: Any) -> list[bytes]:
    """The secrets that let their holder act as the server's owner."""
    secrets = [str(serverapp.identity_provider.token or "")]
    secrets.append(os.environ.get("JUPYTERHUB_API_TOKEN", ""))
    return [s.encode() for s in secrets if len(s) >= 8]


class TokenScrub(web.OutputTransform):
    """Removes the server's credentials from every response to someone not known to be
    an owner: a template page (the 404 page too) carries the token in an attribute,
    and an extension's page might carry it anywhere. The secret is replaced by as many
    ``*``, so lengths and JSON stay valid."""

    secrets: list[bytes] = []

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        self.request = request

    def _scrub(self, chunk: bytes) -> bytes:
        if getattr(self.request, _OWNER_FLAG, False):
            return chunk
        for secret in self.secrets:
            if secret in chunk:
                chunk = chunk.replace(secret, b"*" * len(secret))
        return chunk

    def transform_first_chunk(
        self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        if not getattr(self.request, _OWNER_FLAG, False):
            for name, value in list(headers.get_all()):
                scrubbed = self._scrub(value.encode("latin-1")).decode("latin-1")
                if scrubbed != value:
                    headers[name] = scrubbed
        return status_code, headers, self._scrub(chunk)

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return self._scrub(chunk)


def refuse(handler: Any, reason: str) -> None:
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


def install(serverapp: Any, collab: Any, *, govern: bool = True) -> Gate:
    """Wrap the server's identity provider (guests first, then the gate), give
    non-owners a page config without the token, and scrub credentials from responses
    to anyone not known to be an owner. Idempotent.

    ``govern`` (``CollabApp.govern_rest_api``) off leaves identities and routes as the
    server has them (no guests, no gate); credentials are still kept from non-owners.
    """
    gate = Gate(collab)
    provider = serverapp.identity_provider
    if not getattr(provider, "_collab_gated", False):
        inner = provider.get_user

        async def get_user(handler: Any) -> Any:
            user = guest_user(handler, collab.access) if govern else None
            if user is None:
                user = await ensure_async(inner(handler))
            if user is None:
                return None
            owner = collab.access.is_owner(user.username)
            setattr(handler.request, _OWNER_FLAG, owner)  # TokenScrub reads it
            if govern and not owner:
                await collab.ready()  # roles live in the store
                try:
                    await gate.check(handler, user.username)
                except Refused as err:
                    log.info("refused %s: %s", user.username, err.log_message)
                    refuse(handler, str(err.log_message))
            return user

        provider.get_user = get_user
        provider._collab_gated = True
    web_app = serverapp.web_app
    TokenScrub.secrets = credentials(serverapp)
    if TokenScrub not in web_app.transforms:
        web_app.transforms.insert(0, TokenScrub)  # before gzip: it must see plain bytes
    install_page_config_hook(web_app)
    return gate


# JupyterLab plugins a non-owner's page runs without: the news and update announcements
# (their toast asks to change a server-wide setting they may not write)
NON_OWNER_DISABLED_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)


def install_page_config_hook(web_app: Any) -> None:
    """Give non-owners JupyterLab's page config without the token. Called at load and
    again at start, because an extension loaded after ours (JupyterHub's) may set its
    own hook: ours then wraps it."""
    inner_hook: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = web_app.settings.get(
        "page_config_hook"
    )
    if getattr(inner_hook, "_collab", False):
        return

    def page_config_hook(handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
        if inner_hook is not None:
            page_config = inner_hook(handler, page_config)
        if getattr(handler.request, _OWNER_FLAG, False):
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

    page_config_hook._collab = True  # type: ignore[attr-defined]
    web_app.settings["page_config_hook"] = page_config_hook
