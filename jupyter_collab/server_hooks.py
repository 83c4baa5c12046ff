"""Every place where jupyter-collab wraps or replaces a part of jupyter_server (and of
the tornado and jupyterlab_server under it), each as one small named function.

These functions only do the plumbing: what to decide is passed in (``gate.Gate``,
``authorizer.CollabAuthorizer``, ``authorizer.visible_listing``). Each relies on a
signature or a call of another package, listed in ``WRITTEN_FOR`` and ``CALLS_RELIED_ON``;
tests/test_server_hooks.py compares them with the installed packages and names the
module to re-check when one changes. Imports nothing of ours at run time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jupyter_server.utils import ensure_async

if TYPE_CHECKING:
    from jupyter_server.auth.identity import IdentityProvider, User
    from jupyter_server.serverapp import ServerApp
    from jupyter_server.services.contents.manager import ContentsManager
    from tornado import web

    from .authorizer import CollabAuthorizer

_HOOKED = "_jupyter_collab_hooked"  # set on what we wrapped, so it is wrapped once

# a handler's own get_user, awaited: (handler) -> the user the server knows, or None
ServerUser = Callable[[], Awaitable["User | None"]]
Identify = Callable[["web.RequestHandler", ServerUser], Awaitable["User | None"]]
PageConfigHook = Callable[["web.RequestHandler", dict[str, Any]], dict[str, Any]]
Model = dict[str, Any]  # a ContentsManager model: raw JSON


@dataclass(frozen=True)
class Signature:
    """A function of another package, as a wrapper or override of ours expects it:
    parameters without annotations, and whether it is a coroutine function."""

    target: str  # "module:Qualified.name"
    parameters: str
    coroutine: bool
    relied_on_by: str  # our module to re-check when it changes


WRITTEN_FOR = (
    Signature(
        "jupyter_server.auth.identity:IdentityProvider.get_user",
        "(self, handler)",
        False,
        "jupyter_collab/server_hooks.py (wrap_get_user)",
    ),
    Signature(
        "jupyter_server.auth.authorizer:Authorizer.is_authorized",
        "(self, handler, user, action, resource)",
        False,
        "jupyter_collab/authorizer.py (CollabAuthorizer.is_authorized)",
    ),
    *(
        Signature(
            f"jupyter_server.services.contents.{module}:{cls}.get",
            "(self, path, content=True, type=None, format=None, require_hash=False)",
            cls.startswith("Async"),
            "jupyter_collab/server_hooks.py (filter_contents_listings)",
        )
        for module, cls in (
            ("manager", "ContentsManager"),
            ("manager", "AsyncContentsManager"),
            ("filemanager", "FileContentsManager"),
            ("filemanager", "AsyncFileContentsManager"),
        )
    ),
    *(
        Signature(
            f"jupyter_server.services.events.handlers:SubscribeWebsocket.{name}",
            "(self)",
            name == "pre_get",
            "jupyter_collab/server_hooks.py (silence_event_socket)",
        )
        for name in ("pre_get", "open", "on_close")
    ),
    Signature(
        "tornado.web:OutputTransform.__init__",
        "(self, request)",
        False,
        "jupyter_collab/gate.py (TokenScrub)",
    ),
    Signature(
        "tornado.web:OutputTransform.transform_first_chunk",
        "(self, status_code, headers, chunk, finishing)",
        False,
        "jupyter_collab/gate.py (TokenScrub)",
    ),
    Signature(
        "tornado.web:OutputTransform.transform_chunk",
        "(self, chunk, finishing)",
        False,
        "jupyter_collab/gate.py (TokenScrub)",
    ),
    Signature(
        "tornado.websocket:WebSocketProtocol13.close",
        "(self, code=None, reason=None)",
        False,
        "jupyter_collab/handlers/websocket.py (_Protocol.close)",
    ),
)

# calls inside another package that a hook depends on: (function, text of the call)
CALLS_RELIED_ON = (
    # every request asks the identity provider in prepare(): where the gate runs
    (
        "jupyter_server.base.handlers:JupyterHandler.prepare",
        "self.identity_provider.get_user(self)",
        "jupyter_collab/server_hooks.py (wrap_get_user), jupyter_collab/gate.py",
    ),
    (
        "jupyterlab_server.handlers:LabHandler.get_page_config",
        "page_config_hook(self, page_config)",
        "jupyter_collab/server_hooks.py (wrap_page_config_hook)",
    ),
)


def wrap_get_user(provider: IdentityProvider, identify: Identify) -> None:
    """Make ``identify(handler, server_user)`` answer who every request comes from, where
    ``server_user()`` asks the provider's own ``get_user`` (sync or async). Once per
    provider."""
    if getattr(provider, _HOOKED, False):
        return
    inner = provider.get_user

    async def get_user(handler: web.RequestHandler) -> User | None:
        async def server_user() -> User | None:
            return await ensure_async(inner(handler))

        return await identify(handler, server_user)

    provider.get_user = get_user  # type: ignore[method-assign]
    setattr(provider, _HOOKED, True)


def put_authorizer_in_front(serverapp: ServerApp, front: CollabAuthorizer) -> CollabAuthorizer:
    """Make ``front`` the server's authorizer, with the one it had as ``front.inner``
    (asked after it). Once: an authorizer of ``front``'s class already in front stays."""
    current = serverapp.authorizer
    if isinstance(current, type(front)):
        return current
    front.inner = current
    serverapp.authorizer = front
    if serverapp.web_app is not None:
        serverapp.web_app.settings["authorizer"] = front  # what handlers read
    return front


def add_output_transform(web_app: web.Application, transform: type[web.OutputTransform]) -> None:
    """Run ``transform`` on every response, first (before gzip: it sees plain bytes)."""
    if transform not in web_app.transforms:
        web_app.transforms.insert(0, transform)


def wrap_page_config_hook(web_app: web.Application, adjust: PageConfigHook) -> None:
    """Pass JupyterLab's page config through ``adjust`` after any hook already set
    (JupyterHub's sets one). Call again after other extensions loaded: a hook set after
    ours is then wrapped too."""
    inner: PageConfigHook | None = web_app.settings.get("page_config_hook")
    if getattr(inner, _HOOKED, False):
        return

    def page_config_hook(handler: web.RequestHandler, page_config: dict[str, Any]) -> Model:
        if inner is not None:
            page_config = inner(handler, page_config)
        return adjust(handler, page_config)

    setattr(page_config_hook, _HOOKED, True)
    web_app.settings["page_config_hook"] = page_config_hook


def filter_contents_listings(
    contents_manager: ContentsManager, keep: Callable[[Model], Model]
) -> None:
    """Pass every model ``contents_manager.get`` returns through ``keep`` (sync or async
    manager alike). Once per manager."""
    if getattr(contents_manager, _HOOKED, False):
        return
    inner: Callable[..., Any] = contents_manager.get
    if asyncio.iscoroutinefunction(inner):

        async def get_async(*args: Any, **kwargs: Any) -> Model:
            return keep(await inner(*args, **kwargs))

        contents_manager.get = get_async  # type: ignore[method-assign]
    else:

        def get_sync(*args: Any, **kwargs: Any) -> Model:
            return keep(inner(*args, **kwargs))

        contents_manager.get = get_sync  # type: ignore[method-assign]
    setattr(contents_manager, _HOOKED, True)


def silence_event_socket(handler: web.RequestHandler) -> None:
    """Let jupyter_server's event bus socket (``SubscribeWebsocket``) open without its
    own check and never subscribe it: it then hears nothing (gate.py's stand-in for
    non-owners, whose JupyterLab would otherwise reconnect forever)."""

    async def no_check() -> None:
        return None

    handler.pre_get = no_check  # type: ignore[attr-defined]
    handler.open = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    handler.on_close = lambda: None  # type: ignore[attr-defined]
