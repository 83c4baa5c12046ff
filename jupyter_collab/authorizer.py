"""Jupyter's own REST surface under the same roles as the rooms.

Without this, anyone allowed into a shared server may write any file through the
contents API, open a terminal or run code, whatever their role in a notebook: sharing
one notebook would hand over the whole server. Owners keep every right. Everyone else:

- contents (``api/contents``, ``/files``, ``/view``): reading needs a role on the path
  (or, for a folder, on something inside it, so the file browser can reach a shared
  file); saving needs ``editor``; renaming and deleting need ``owner``;
- terminals: never; kernels and sessions: only with ``CollabApp.editors_can_execute``
  and an ``editor`` role somewhere. Running code is as good as full access (the kernel
  runs as the server's user and can read or write every file), so it is off by default;
- anything else (settings, kernelspecs, ``/api/me``...): read only;
- jupyter-collab's own handlers check roles themselves, per document and per message.

Installed by the extension itself in front of whatever authorizer the server has
(``server_hooks.put_authorizer_in_front``; ``CollabApp.govern_rest_api``), with
``visible_listing`` on the contents manager (``server_hooks.filter_contents_listings``):
jupyter_server reads only ``jpserver_extensions`` from an extension's
``jupyter_server_config.d`` file, so an ``authorizer_class`` there would be ignored.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.utils import ensure_async
from tornado import web

from .errors import PermissionDenied
from .gate import granted_paths, has_role_below, url_path
from .permissions import Action, allows

if TYPE_CHECKING:
    from jupyter_server.auth.identity import User
    from jupyter_server.base.handlers import JupyterHandler

    from .services import Access, Services

# Which entries of a folder listing the current request may see (None: all). Set by the
# authorizer on every contents request, read by ``visible_listing`` below.
LISTING_FILTER: contextvars.ContextVar[Callable[[str], bool] | None] = contextvars.ContextVar(
    "jupyter_collab_listing_filter", default=None
)

log = logging.getLogger(__name__)

_EXECUTE = {"kernels", "sessions"}
_NEVER = {"terminals"}


class CollabAuthorizer(Authorizer):
    """Applies document roles to Jupyter's handlers for users who are not owners.

    ``inner`` is the authorizer the deployment configured (JupyterHub's, a custom one,
    or the default that allows everything): a request passes only if both agree.
    Built by the extension with its ``services``; jupyter_server cannot build one
    itself (as an ``authorizer_class``), since it would not know the roles.
    """

    inner: Authorizer | None = None

    def __init__(self, services: Services | None = None, **kwargs: Any) -> None:
        if services is None:
            # named as ServerApp.authorizer_class: jupyter_server builds it without the
            # extension's services, and an authorizer that cannot check roles must not run
            raise ValueError(
                "jupyter_collab installs CollabAuthorizer itself, in front of the server's "
                "own authorizer: remove `ServerApp.authorizer_class = CollabAuthorizer` from "
                "your configuration (or use CollabApp.govern_rest_api to turn it off)"
            )
        super().__init__(**kwargs)
        self.services = services

    async def is_authorized(
        self, handler: JupyterHandler, user: User, action: str, resource: str
    ) -> bool:
        LISTING_FILTER.set(None)  # every request starts unfiltered
        if not await self._ours(handler, user, action, resource):
            return False
        if self.inner is None:
            return True
        return bool(await ensure_async(self.inner.is_authorized(handler, user, action, resource)))

    async def _ours(self, handler: JupyterHandler, user: User, action: str, resource: str) -> bool:
        services = self.services
        if getattr(handler, "collab", None) is services:
            return True  # one of ours (given these services): it checks roles itself
        await services.ready()  # the store (memberships) opens with the first request
        access = services.access
        username = user.username
        if access.is_owner(username):
            return True
        if resource in _NEVER:
            return False
        if resource in _EXECUTE:
            return await services.can_execute_somewhere(username)
        if resource != "contents":
            return action == "read"
        try:
            path = services.canonical_path(url_path(handler))
        except PermissionDenied as err:
            log.info("%s may not %s %s: %s", username, action, handler.request.path, err)
            return False
        method = (handler.request.method or "").upper()
        if method in ("PATCH", "DELETE") or (method == "POST" and action == "write"):
            needed = Action.MANAGE  # rename, delete, copy or new file in a folder
            if method == "POST" and await _is_folder(handler, path):
                needed = Action.EDIT  # "new file" / upload inside a folder they edit
        elif action == "write":
            needed = Action.EDIT
        else:
            needed = Action.READ
        role = await access.role_of(username, path)
        if needed is Action.READ and await _is_folder(handler, path):
            # a folder: list only what this person may reach (themselves, or the way to it)
            LISTING_FILTER.set(lambda entry: _reachable(access, username, entry))
            return allows(role, needed) or has_role_below(access, username, path)
        if allows(role, needed):
            return True
        log.info(
            "%s (%s) may not %s /%s", username, role.label if role else "no role", action, path
        )
        return False


async def _is_folder(handler: web.RequestHandler, path: str) -> bool:
    contents_manager = handler.settings.get("contents_manager")
    if contents_manager is None:
        return False
    return bool(await ensure_async(contents_manager.dir_exists(path)))


def _reachable(access: Access, username: str, entry: str) -> bool:
    """Whether a listed entry is shown: a role on it, or a granted path inside it."""
    if access.role_now(username, entry) is not None:
        return True
    return any(path.startswith(entry + "/") for path in granted_paths(access, username))


def visible_listing(model: dict[str, Any]) -> dict[str, Any]:
    """A contents model with a folder listing cut to what the current request may reach
    (``LISTING_FILTER``); files, other callers and owners get it unchanged."""
    visible = LISTING_FILTER.get()
    if visible is None or not isinstance(model, dict) or model.get("type") != "directory":
        return model
    if isinstance(model.get("content"), list):
        model["content"] = [e for e in model["content"] if visible(e.get("path", ""))]
    return model
