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
(``install``; ``CollabApp.govern_rest_api``): jupyter_server reads only
``jpserver_extensions`` from an extension's ``jupyter_server_config.d`` file, so an
``authorizer_class`` there would be ignored.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.utils import ensure_async

from .errors import PermissionDenied
from .gate import granted_paths, has_role_below, url_path
from .permissions import Action, allows

# Which entries of a folder listing the current request may see (None: all). Set by the
# authorizer on every contents request, read by the contents manager wrapper below.
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
    """

    inner: Authorizer | None = None

    async def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        LISTING_FILTER.set(None)  # every request starts unfiltered
        if not await self._ours(handler, user, action, resource):
            return False
        if self.inner is None:
            return True
        return bool(await ensure_async(self.inner.is_authorized(handler, user, action, resource)))

    async def _ours(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        collab = _collab_app(self)
        if collab is None or getattr(handler, "collab", None) is not None:
            return True  # not loaded yet, or one of ours: it checks roles itself
        await collab.ready()  # the store (memberships) opens with the first request
        access = collab.access
        username = user.username
        if access.is_owner(username):
            return True
        if resource in _NEVER:
            return False
        if resource in _EXECUTE:
            return bool(await collab.can_execute_somewhere(username))
        if resource != "contents":
            return action == "read"
        try:
            path = collab.canonical_path(url_path(handler))
        except PermissionDenied as err:
            log.info("%s may not %s %s: %s", username, action, handler.request.path, err)
            return False
        method = handler.request.method.upper()
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


def _collab_app(authorizer: Authorizer) -> Any:
    serverapp = authorizer.parent
    manager = getattr(serverapp, "extension_manager", None)
    extension = manager.extensions.get("jupyter_collab") if manager is not None else None
    if extension is None:
        return None
    app = extension.extension_points["jupyter_collab"].app
    return app if getattr(app, "access", None) is not None else None


async def _is_folder(handler: Any, path: str) -> bool:
    contents_manager = handler.settings.get("contents_manager")
    if contents_manager is None:
        return False
    return bool(await ensure_async(contents_manager.dir_exists(path)))


def _reachable(access: Any, username: str, entry: str) -> bool:
    """Whether a listed entry is shown: a role on it, or a granted path inside it."""
    if access.role_now(username, entry) is not None:
        return True
    return any(path.startswith(entry + "/") for path in granted_paths(access, username))


def filter_listings(contents_manager: Any) -> None:
    """Wrap ``contents_manager.get`` so folder listings hold only what the current
    request may reach (``LISTING_FILTER``); files and other callers are unaffected."""
    if getattr(contents_manager, "_collab_filtered", False):
        return
    inner = contents_manager.get

    def keep(model: Any) -> Any:
        visible = LISTING_FILTER.get()
        if visible is None or not isinstance(model, dict) or model.get("type") != "directory":
            return model
        if isinstance(model.get("content"), list):
            model["content"] = [e for e in model["content"] if visible(e.get("path", ""))]
        return model

    if asyncio.iscoroutinefunction(inner):

        async def get_async(*args: Any, **kwargs: Any) -> Any:
            return keep(await inner(*args, **kwargs))

        contents_manager.get = get_async
    else:

        def get_sync(*args: Any, **kwargs: Any) -> Any:
            return keep(inner(*args, **kwargs))

        contents_manager.get = get_sync
    contents_manager._collab_filtered = True


def install(serverapp: Any) -> CollabAuthorizer:
    """Put a ``CollabAuthorizer`` in front of the server's authorizer (once)."""
    current = serverapp.authorizer
    if isinstance(current, CollabAuthorizer):
        return current
    wrapped = CollabAuthorizer(parent=serverapp, identity_provider=serverapp.identity_provider)
    wrapped.inner = current
    serverapp.authorizer = wrapped
    if getattr(serverapp, "web_app", None) is not None:
        serverapp.web_app.settings["authorizer"] = wrapped  # what handlers read
    return wrapped
