"""Composition root: every config trait, the objects they build, and the routes.

Nothing imports this module; it imports everything.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import ensure_async
from traitlets import Bool, Float, Int, List, TraitError, Unicode, default, validate

from . import metrics, server_hooks
from .access import AccessControl
from .authorizer import CollabAuthorizer, visible_listing
from .disk import ContentsFiles
from .gate import Gate, TokenScrub, credentials, edits_somewhere, non_owner_page_config
from .handlers import route_table
from .handlers.websocket import fanout_frames
from .paths import canonical_path
from .permissions import Role
from .rooms import LocalRelay, RoomRegistry
from .rooms.activity import ActivitySettings
from .rooms.comments import CommentLimits
from .store import Store

CONTENTS_SCHEMA = "https://events.jupyter.org/jupyter_server/contents_service/v1"


class CollabApp(ExtensionApp):
    """The jupyter-collab server extension."""

    name = "jupyter_collab"

    history_db_path = Unicode(
        config=True,
        help=(
            "The SQLite file holding every document's authored history. Default: "
            "<jupyter data dir>/collab/history.sqlite (e.g. ~/.local/share/jupyter/collab), "
            "which survives restarts and is never the server's working directory. Put it on "
            "a local disk: SQLite locking is unreliable on NFS home directories."
        ),
    )

    @default("history_db_path")
    def _default_db_path(self) -> str:
        return str(Path(jupyter_data_dir()) / "collab" / "history.sqlite")

    save_delay_seconds = Float(
        1.0,
        allow_none=True,
        config=True,
        help=(
            "How long edits must pause before the file is written to disk, in seconds "
            "(see save_max_delay_seconds for continuous editing). Default 1.0. None writes "
            "only when the last client leaves, on request and at shutdown."
        ),
    )
    save_max_delay_seconds = Float(
        10.0,
        config=True,
        help=(
            "While edits go on without a pause of save_delay_seconds, the file is still "
            "written at least this often, in seconds. Default 10. Every edit is in the "
            "history store at once; the file on disk is an export of it."
        ),
    )
    owners = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        config=True,
        help=(
            "Usernames that own every document (all roles, and they grant roles to others). "
            "Default: under JupyterHub, the server's owner (JUPYTERHUB_USER); on a standalone "
            "server, everyone the server authenticates (the holder of its token or password)."
        ),
    )
    default_role = Unicode(
        "viewer",
        allow_none=True,
        config=True,
        help=(
            "The role of authenticated users who are not owners and hold no membership for a "
            "document: viewer (default), commenter, editor or owner; None gives them no access "
            "until an owner grants one. Roles are checked by the server on every message."
        ),
    )
    editors_can_execute = Bool(
        False,
        config=True,
        help=(
            "Whether users who are not owners but hold the editor role may start kernels and "
            "run code. Off by default: code runs as the server's user and can read or write "
            "every file, so executing is as good as owning the server."
        ),
    )
    govern_rest_api = Bool(
        True,
        config=True,
        help=(
            "Whether roles also govern Jupyter's own REST API (files, kernels, terminals) "
            "through CollabAuthorizer, placed in front of the server's authorizer. Turning "
            "it off leaves that API open to every authenticated user and disables share "
            "links."
        ),
    )
    presence_idle_seconds = Float(
        60.0,
        config=True,
        help=(
            "After how many seconds without an edit or a cursor move someone is shown as "
            "idle in the Collaborators panel. Default 60."
        ),
    )
    metrics_enabled = Bool(
        True,
        config=True,
        help=(
            "Count the jupyter_collab_* Prometheus metrics (served on jupyter_server's own "
            "/metrics, to owners). Off: none of this server's rooms are counted."
        ),
    )
    activity_tracking = Bool(
        True,
        config=True,
        help=(
            "Count activity: edits, typing, concurrent edits (two people changing one cell "
            "within seconds), per document and (see activity_per_person) per person, in "
            "memory over the last 10 minutes. Off: no activity numbers anywhere and no "
            "concurrent-edit metric; who ran which cell and presenting still work."
        ),
    )
    activity_per_person = Bool(
        True,
        config=True,
        help=(
            "Keep activity numbers per person (edits per minute, typing speed, cells run "
            "and their errors, active/idle/away), shown to the server's owners only: the "
            "class dashboard and the Collaborators panel's sparklines. Off: only per-document "
            "numbers are kept (people active, edits per minute, concurrent edits); who ran "
            "which cell is still shown on the cell and kept in the history store."
        ),
    )
    activity_interval_seconds = Float(
        2.0, config=True, help="How often activity numbers are sent, when they changed."
    )
    activity_away_seconds = Float(
        300.0,
        config=True,
        help="After how many seconds without an edit or a move someone is 'away' (not 'idle').",
    )
    activity_concurrent_window_seconds = Float(
        5.0,
        config=True,
        help="Two people changing one cell this close together is a concurrent edit.",
    )
    version_pause_seconds = Float(
        60.0,
        config=True,
        help=(
            "A document quiet for this many seconds after changes gets an automatic "
            "version (the History panel lists versions)."
        ),
    )
    version_stretch_seconds = Float(
        600.0,
        config=True,
        help=(
            "A document changing this long without such a pause gets an automatic version "
            "all the same (a class typing for an hour)."
        ),
    )
    room_idle_timeout_seconds = Float(
        60.0,
        allow_none=True,
        config=True,
        help=(
            "How long a room without clients stays in memory before it is saved and "
            "closed, in seconds. Default 60. None keeps rooms until shutdown."
        ),
    )
    disk_poll_interval_seconds = Float(
        2.0,
        allow_none=True,
        config=True,
        help=(
            "How often open files are checked for changes made by other programs, in "
            "seconds; changes are merged as edits by the 'disk' author. Default 2.0. "
            "None disables polling (changes made through Jupyter are still followed)."
        ),
    )
    max_message_bytes = Int(
        32 * 1024 * 1024,
        config=True,
        help=(
            "Largest websocket message a client may send, in bytes. Default 32 MiB. "
            "A larger one closes that connection with code 4413."
        ),
    )
    max_messages_per_second = Float(
        200.0,
        config=True,
        help=(
            "How many messages a second one room connection may send on average. Typing "
            "sends a few dozen at most; a client past this (after message_burst) is closed "
            "with code 4429, the room and the others carry on. Default 200."
        ),
    )
    message_burst = Int(
        2000,
        config=True,
        help=(
            "How many messages one room connection may send at once before "
            "max_messages_per_second applies (a reconnect, a paste of many cells). Default 2000."
        ),
    )
    handshake_timeout_seconds = Float(
        10.0,
        allow_none=True,
        config=True,
        help=(
            "How long a new connection may take to send its sync step 1, in seconds. "
            "Default 10. None waits forever."
        ),
    )
    store_write_interval_seconds = Float(
        0.1,
        config=True,
        help=(
            "How long accepted updates wait before they are committed together, in seconds: "
            "a batch is written at the first update after this interval (once that update "
            "is relayed), and at the latest after twice the interval. Updates are relayed "
            "before the commit; a crash loses at most twice this much from the store "
            "(clients send it again when they reconnect)."
        ),
    )
    history_coalesce_seconds = Float(
        10.0,
        config=True,
        help=(
            "Consecutive updates of one author within this many seconds share one "
            "history row (merged). Default 10. 0 stores every update as its own row."
        ),
    )
    history_compaction_budget_bytes = Int(
        1024 * 1024,
        allow_none=True,
        config=True,
        help=(
            "When a document's stored updates exceed this many bytes, those up to its "
            "last save are folded into one snapshot (authorship totals are kept). "
            "Default 1 MiB. None keeps every update row."
        ),
    )
    comment_max_body_bytes = Int(
        10 * 1024,
        config=True,
        help=(
            "The longest comment message (or suggested text) anyone may post, in bytes of "
            "UTF-8. Default 10 KiB; longer ones are refused with a message saying so."
        ),
    )
    comment_max_threads = Int(
        2000,
        config=True,
        help=(
            "How many comment threads (open and resolved) one document may hold. Default "
            "2000; a new thread past it is refused."
        ),
    )
    freeze_gc_after_start = Int(
        1,
        config=True,
        help=(
            "1 moves the objects alive after start-up out of the garbage collector's "
            "reach (gc.freeze), which removes the ~100 ms full collections that "
            "otherwise show up as latency spikes under heavy typing. 0 leaves gc alone."
        ),
    )

    @validate("max_message_bytes")
    def _check_max_message(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 1024:
            raise TraitError(f"CollabApp.max_message_bytes must be at least 1024, got {value}")
        return value

    @validate("default_role")
    def _valid_role(self, proposal: Any) -> Any:
        if proposal["value"] is not None:
            try:
                Role.parse(proposal["value"])
            except ValueError as exc:
                raise TraitError(f"CollabApp.default_role: {exc}") from None
        return proposal["value"]

    def _owner_names(self) -> frozenset[str] | None:
        if self.owners is not None:
            return frozenset(self.owners)
        hub_user = os.environ.get("JUPYTERHUB_USER")
        return frozenset({hub_user}) if hub_user else None

    def initialize_settings(self) -> None:
        assert self.serverapp is not None  # set by the extension manager before this runs
        # our modules log through the server's logger (same handlers, same level)
        package_log = logging.getLogger("jupyter_collab")
        package_log.parent = self.log
        package_log.setLevel(logging.NOTSET)
        self.store = Store(
            self.history_db_path,
            write_interval_seconds=self.store_write_interval_seconds,
            coalesce_seconds=self.history_coalesce_seconds,
            compaction_budget_bytes=self.history_compaction_budget_bytes,
        )
        root = os.path.abspath(os.path.expanduser(self.serverapp.root_dir))
        self.root = root
        self.access = AccessControl(
            self.store.access,
            root,
            owners=self._owner_names(),
            default_role=None if self.default_role is None else Role.parse(self.default_role),
        )
        self.registry = RoomRegistry(
            history=self.store.history,
            locks=self.store.locks,
            files=ContentsFiles(self.serverapp.contents_manager),
            root=root,
            relay=LocalRelay(fanout_frames),
            save_delay_seconds=self.save_delay_seconds,
            save_max_delay_seconds=self.save_max_delay_seconds,
            idle_timeout_seconds=self.room_idle_timeout_seconds,
            disk_poll_interval_seconds=self.disk_poll_interval_seconds,
            presence_idle_seconds=self.presence_idle_seconds,
            access=self.access,
            can_execute=self.can_execute,
            comments=self.store.comments,
            comment_limits=CommentLimits(
                max_body_bytes=self.comment_max_body_bytes, max_threads=self.comment_max_threads
            ),
            executions=self.store.executions,
            activity=ActivitySettings(
                tracking=self.activity_tracking,
                per_person=self.activity_per_person,
                interval_seconds=self.activity_interval_seconds,
                away_seconds=self.activity_away_seconds,
                concurrent_window_seconds=self.activity_concurrent_window_seconds,
            ),
            versions=self.store.versions,
            version_pause_seconds=self.version_pause_seconds,
            version_stretch_seconds=self.version_stretch_seconds,
        )
        self.access.on_change(self.registry.refresh_roles)
        if self.metrics_enabled:
            metrics.install(self.registry)  # jupyter_collab_* on the server's /metrics
        self.gate = Gate(self, govern=self.govern_rest_api)
        self.access.on_change(self.gate.access_changed)  # after the rooms: they say why
        # every wrapper of a jupyter_server part is in server_hooks.py
        server_hooks.wrap_get_user(self.serverapp.identity_provider, self.gate.identify)
        TokenScrub.secrets = credentials(self.serverapp)
        server_hooks.add_output_transform(self.serverapp.web_app, TokenScrub)
        server_hooks.wrap_page_config_hook(self.serverapp.web_app, non_owner_page_config)
        server_hooks.filter_contents_listings(self.serverapp.contents_manager, visible_listing)
        if self.govern_rest_api:
            front = CollabAuthorizer(
                self, parent=self.serverapp, identity_provider=self.serverapp.identity_provider
            )
            # ExtensionApp copies these settings over the web app's after this method
            self.settings["authorizer"] = server_hooks.put_authorizer_in_front(
                self.serverapp, front
            )
        self.rest_guarded = isinstance(self.serverapp.authorizer, CollabAuthorizer)
        if not self.rest_guarded:
            self.log.warning(
                "jupyter-collab: CollabApp.govern_rest_api is off: roles hold in shared "
                "documents, but Jupyter's own API (files, kernels, terminals) is open to every "
                "authenticated user, and share links are disabled."
            )
        self._ready: asyncio.Future[None] | None = None
        assert self.serverapp.event_logger is not None
        self.serverapp.event_logger.add_listener(
            schema_id=CONTENTS_SCHEMA, listener=self._on_contents_event
        )
        if "jupyter_server_ydoc" in self.serverapp.extension_manager.extensions:
            self.log.warning(
                "jupyter-collab: jupyterlab/jupyter-collaboration is also installed; both would "
                "write the same files. jupyter-collab is active for api/collab; disable the other "
                "with `jupyter server extension disable jupyter_server_ydoc`."
            )

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table(self))

    async def ready(self) -> None:
        """Open the store and start background work, once (handlers await this)."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._start())
        await asyncio.shield(self._ready)

    async def _start(self) -> None:
        assert self.serverapp is not None
        # again now that every extension has loaded: JupyterHub's sets its own hook
        server_hooks.wrap_page_config_hook(self.serverapp.web_app, non_owner_page_config)
        await self.store.open()
        await self.access.load()
        self.registry.start()
        self.log.info("jupyter-collab: history in %s", self.history_db_path)
        if self.freeze_gc_after_start:
            gc.collect()
            gc.freeze()

    def can_execute(self, username: str, role: Role) -> bool:
        """Whether this person may run code (start kernels) beside this document: owners
        always; editors when ``editors_can_execute``. Mirrors ``CollabAuthorizer``."""
        if self.access.is_owner(username):
            return True
        return bool(self.editors_can_execute) and role >= Role.EDITOR

    async def can_execute_somewhere(self, username: str) -> bool:
        """Whether this person may start kernels at all (the REST side of ``can_execute``)."""
        if self.access.is_owner(username):
            return True
        return bool(self.editors_can_execute) and await edits_somewhere(self.access, username)

    def canonical_path(self, raw: str) -> str:
        """``paths.canonical_path`` on this server's root and ContentsManager.

        Raises:
            PermissionDenied: the path leaves the root or names a hidden file.
        """
        assert self.serverapp is not None
        manager = self.serverapp.contents_manager
        allow_hidden = bool(getattr(manager, "allow_hidden", False))
        return canonical_path(self.root, raw, allow_hidden=allow_hidden)

    async def contents_exists(self, path: str) -> bool:
        """Whether ``path`` is a file or folder of this server (what a link may share)."""
        assert self.serverapp is not None
        cm = self.serverapp.contents_manager
        for check in (cm.file_exists, cm.dir_exists):  # sync or async, per manager
            if await ensure_async(check(path)):  # type: ignore[no-untyped-call]
                return True
        return False

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        try:
            await self.ready()
        except Exception as exc:
            # logged with its cause (e.g. a newer schema); handlers answer 500 with it
            self.log.error("jupyter-collab could not start: %s", exc)

    async def _on_contents_event(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        if self._ready is None or not self._ready.done() or self._ready.exception():
            return
        action, path = data.get("action"), data.get("path", "")
        if action == "rename" and data.get("source_path") is not None:
            await self.registry.on_renamed(data["source_path"], path)
            await self.access.load()  # memberships moved with the files
        elif action == "delete":
            await self.registry.on_deleted(path)
            await self.access.load()
        elif action in ("save", "upload"):
            await self.registry.on_saved_externally(path)

    async def stop_extension(self) -> None:
        if self._ready is None:
            return
        if self._ready.done() and self._ready.exception() is None:
            await self.registry.close_all()
            await self.access.write_usage()  # links' last uses kept in memory
            await self.store.close()
        else:
            self._ready.cancel()


if TYPE_CHECKING:  # mypy checks here that the edge gets what it uses (services.py)
    from .services import Access, Services

    _services: type[Services] = CollabApp
    _access: type[Access] = AccessControl
