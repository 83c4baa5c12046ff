"""What a person who is not an owner may reach on this server, as data: ``ALLOWLIST``
(handler classes, their methods, and what each method needs) and ``STAND_INS`` (empty,
honest answers for what a non-owner's JupyterLab asks by itself but may not have).

``gate.Gate`` applies both; ``audit.py`` prints the first for a deployment. A handler
class that is not listed here is refused to non-owners.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tornado import web

from .server_hooks import silence_event_socket


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
    "jupyter_collab.handlers.comments.CommentsHandler": Rule(
        {"GET": Need.OWN_CHECKS, "POST": Need.OWN_CHECKS}
    ),
    "jupyter_collab.handlers.history.HistoryHandler": Rule(
        {"GET": Need.OWN_CHECKS, "POST": Need.OWN_CHECKS}
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


def _answer(handler: web.RequestHandler, status: int, body: Any = None) -> None:
    handler.clear()
    handler.set_status(status)
    if body is not None:
        handler.set_header("Content-Type", "application/json")
    web.RequestHandler.finish(handler, None if body is None else json.dumps(body))
    raise web.Finish()


def _empty_workspace(handler: web.RequestHandler) -> None:
    name = (getattr(handler, "path_kwargs", None) or {}).get("space_name")
    if not name:
        _answer(handler, 200, {"workspaces": {"ids": [], "values": []}})
    _answer(handler, 200, {"data": {}, "metadata": {"id": name}})


StandIn = Callable[[web.RequestHandler], None]
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
    ("jupyter_server.services.events.handlers.SubscribeWebsocket", "GET"): silence_event_socket,
}


def handler_name(handler_class: type) -> str:
    return f"{handler_class.__module__}.{handler_class.__qualname__}"
