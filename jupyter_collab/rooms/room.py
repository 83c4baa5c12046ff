"""One live document: its pycrdt Doc, its clients, and the path of each message.

A room checks each message (gates on the hook table may refuse an update), applies it,
appends accepted updates with their author to the history, relays them (encoded once)
through the ``Relay`` to every other client, and tells the services on the hook table
what happened. Does not import tornado or jupyter_server: transports arrive as
``Channel``s and the registry is driven by the edge.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from pycrdt import Array, Doc, TransactionEvent, merge_updates

from .. import documents, metrics, trust
from ..colors import ColorBook
from ..disk import Files
from ..errors import CollabError, DocumentGone, PermissionDenied, ProtocolError, StaleEpoch
from ..permissions import Action, Role, allows
from ..protocol import (
    AuthMessage,
    AwarenessMessage,
    EventMessage,
    QueryAwarenessMessage,
    SyncKind,
    SyncMessage,
    decode_awareness_update,
    decode_message,
    decode_state_vector,
    encode_auth_denied,
    encode_awareness,
    encode_awareness_update,
    encode_event,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
    sync_update_payload,
)
from ..store import DocumentRecord
from . import hooks as h
from .awareness import AwarenessBook
from .cells import CellTracker
from .file import RoomFile
from .identity import SERVER_AUTHOR, Client, Identity
from .ports import Channel, HistoryLog
from .presence import presence_entries
from .relay import Relay
from .updates import adds_nothing, client_ids

log = logging.getLogger(__name__)


class Room:
    """One live document. Create rooms through ``RoomRegistry``."""

    def __init__(
        self,
        *,
        record: DocumentRecord,
        doc: Doc[Any],
        history: HistoryLog,
        files: Files,
        relay: Relay,
        hooks: h.RoomHooks,
        save_delay_seconds: float | None = 1.0,
        save_max_delay_seconds: float = 10.0,
        saved_seq: int = 0,
        fingerprint: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        idle_after_seconds: float = 60.0,
        color_hint: Callable[[str], str | None] = lambda username: None,
    ) -> None:
        self.doc_id = record.doc_id
        self.path: str = record.path or ""
        self.kind = record.kind
        self.epoch = record.epoch
        self.doc = doc
        self.ydoc = documents.wrap(self.kind, doc)
        self.history = history
        self.relay = relay
        self.hooks = hooks
        self.clients: dict[Channel, Client] = {}
        # one colour per person present, never shared while the palette lasts; the hint
        # is the colour they hold in another room, so they look the same everywhere
        self.colors = ColorBook()
        self._color_hint = color_hint
        self.awareness = AwarenessBook()
        self.closed = False
        self._clock = clock
        self.last_activity = clock()
        self.idle_after_seconds = idle_after_seconds
        self.locked: set[str] = set()  # ids of locked cells (kept by the cell lock service)
        self._pending: list[bytes] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._subscriptions = [doc.observe(self._on_transaction)]
        self.cells = (
            CellTracker(doc.get("cells", type=Array), touched=hooks.cells_wanted)
            if self.kind == "notebook"
            else None
        )
        self.file = RoomFile(
            self,
            files,
            history,
            save_delay_seconds=save_delay_seconds,
            save_max_delay_seconds=save_max_delay_seconds,
            saved_seq=saved_seq,
            fingerprint=fingerprint,
        )

    @property
    def id_owners(self) -> dict[int, str]:
        """Whose each Yjs client id is (its awareness or its edits): never passes on."""
        return self.awareness.owners

    # -- state --------------------------------------------------------------------------

    def _on_transaction(self, event: TransactionEvent) -> None:
        # runs at commit; the event dies with this callback, so copy the bytes now
        self._pending.append(event.update)

    def discard_pending(self) -> None:
        """Forget transactions not committed yet (before a change the caller commits)."""
        self._pending.clear()

    @property
    def unsaved(self) -> bool:
        """True while the file on disk lags behind the document."""
        return self.file.unsaved

    @property
    def durable(self) -> bool:
        """True when every accepted update is committed to the history store."""
        return self.history.is_durable(self.doc_id)

    @property
    def save_error(self) -> BaseException | None:
        return self.file.save_error

    def content(self) -> Any:
        return documents.read(self.kind, self.ydoc)

    async def save(self, *, force: bool = False) -> bool:
        """Write the document to disk if it changed since the last save; True if written."""
        return await self.file.save(force=force)

    async def check_disk(self) -> bool:
        """Merge a change another program made to the file; True if the doc changed."""
        return await self.file.check_disk()

    def presence(self, now: float | None = None) -> list[dict[str, Any]]:
        """One presence feed entry per connection (see ``presence.py``), as of ``now``."""
        return presence_entries(self, self._clock() if now is None else now)

    # -- clients ------------------------------------------------------------------------

    def join(
        self, channel: Channel, identity: Identity, epoch: str | None, role: Role, *, may_run: bool
    ) -> Client:
        """Admit a connection whose document belongs to ``epoch``, with ``role``.

        Raises:
            ProtocolError: without an epoch.
            StaleEpoch: for another epoch; the client was sent a ``reload`` event.
            DocumentGone: if the room was closed because its file was deleted.
        """
        if self.closed:
            raise DocumentGone(f"{self.path} was closed")
        if not epoch:
            raise ProtocolError("missing epoch query parameter: open a session first")
        if epoch != self.epoch:
            reason = (
                f"the history of {self.path} was rebuilt since this copy was loaded (epoch "
                f"{epoch}, now {self.epoch}): reload it; local changes are not merged"
            )
            channel.send(encode_event({"type": "reload", "reason": reason, "epoch": self.epoch}))
            raise StaleEpoch(epoch, self.epoch)
        now = self._clock()
        username = identity.username
        identity = replace(identity, color=self.colors.assign(username, self._color_hint(username)))
        client = Client(channel, identity, role, may_run, joined=now, last_active=now)
        self.clients[channel] = client
        self.last_activity = now
        channel.send(encode_sync_step1(self.doc.get_state()))
        self.hooks.joined.emit(h.Joined(self, client))
        if self.awareness.states:
            states = list(self.awareness.states.values())
            channel.send(encode_awareness(encode_awareness_update(states)))
        log.debug("room %s: %s joined (%d clients)", self.doc_id, username, len(self.clients))
        return client

    def leave(self, channel: Channel) -> None:
        client = self.clients.pop(channel, None)
        if client is None:
            return
        self.last_activity = self._clock()
        username = client.identity.username
        if all(c.identity.username != username for c in self.clients.values()):
            self.colors.release(username)
        gone = self.awareness.forget(client)
        if gone and self.clients:
            message = encode_awareness(encode_awareness_update(gone))
            self.relay.broadcast(self.doc_id, message, list(self.clients))
        self.hooks.left.emit(h.Left(self, client))

    def receive(self, channel: Channel, data: bytes) -> None:
        """Handle one message from a joined client.

        Raises:
            ProtocolError: for anything malformed or rejected; the caller closes only
                that connection. The document is untouched by a rejected message.
        """
        client = self.clients.get(channel)
        if client is None:
            raise ProtocolError("not joined")
        self.last_activity = self._clock()
        update = sync_update_payload(data)
        if update is not None:
            self._update(client, update)
            return
        message = decode_message(data)
        if isinstance(message, SyncMessage):
            if message.kind == SyncKind.STEP1:
                decode_state_vector(message.payload)
                try:
                    reply = self.doc.get_update(message.payload)
                except Exception as exc:
                    raise ProtocolError(f"invalid state vector: {exc}") from exc
                first = not client.synced
                client.synced = True
                channel.send(encode_sync_step2(reply))
                if first:
                    self.hooks.synced.emit(h.Synced(self, client))
            else:
                self._update(client, message.payload)
        elif isinstance(message, AwarenessMessage):
            self._on_awareness(client, message.payload)
        elif isinstance(message, QueryAwarenessMessage):
            states = list(self.awareness.states.values())
            channel.send(encode_awareness(encode_awareness_update(states)))
        elif isinstance(message, EventMessage):
            self._on_event(client, message.event)
        elif isinstance(message, AuthMessage):
            raise ProtocolError("clients may not send auth messages")

    # -- updates ------------------------------------------------------------------------

    def _update(self, client: Client, update: bytes) -> None:
        """A client's document update: applied if its role and every gate allow it.

        Raises:
            PermissionDenied: refused (after y-protocols' permission-denied message).
            ProtocolError: not a valid update. Either way nothing was applied.
        """
        if update == b"\x00\x00":
            return
        try:
            if not allows(client.role, Action.EDIT):
                self._refuse_edit(client, update)
                return
            self.hooks.checking.check(h.Checking(self, client, update))
            self._pending.clear()
            try:
                with self.doc.transaction(origin=client):
                    self.doc.apply_update(update)
            except Exception as exc:
                self._pending.clear()
                raise ProtocolError(f"update rejected: {exc}") from exc
        except CollabError as error:
            if isinstance(error, PermissionDenied):
                client.channel.send(encode_auth_denied(str(error)))
            log.info(
                "room %s: refused an edit by %s (%s): %s",
                self.doc_id,
                client.identity.username,
                client.role.label,
                error,
            )
            self.hooks.update_refused.emit(h.UpdateRefused(self, client, error))
            raise
        self._touch(client)
        if self.kind == "notebook" and trust.may_add_trust(self._pending):
            self._commit_untrusted(client)
        else:
            self.commit(client.identity.username, "client", sender=client)
        self.after_structure_change()

    def _refuse_edit(self, client: Client, update: bytes) -> None:
        """A reader sent an update: nothing is applied, stored or relayed.

        y-websocket answers our sync step 1 with its whole delete set even when it
        changed nothing, so an update that adds nothing is let through silently. Any
        other is refused with y-protocols' permission-denied message, then the
        connection is closed (4403): the client holds a change the room will never
        have, and only a fresh copy of the document brings it back in line.

        Raises:
            PermissionDenied: the update would have changed the document.
        """
        if adds_nothing(update, self.doc):
            return
        raise PermissionDenied(
            f"{client.role.label}s cannot edit {self.path or 'this document'}: the change was "
            "not applied; reload to get the shared version"
        )

    def commit(
        self, author: str, origin: str, *, sender: Client | None = None, relay: bool = True
    ) -> int:
        """Store and relay what the last transactions changed; return how many updates.

        ``relay``: False when the caller sends the updates itself.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return 0
        cells: frozenset[str] = frozenset()
        moved = False
        if self.cells is not None:
            cells, moved = self.cells.take_touched(), self.cells.take_moved()
        for update in pending:
            ids = client_ids(update)
            if origin == "client":
                for cid in ids:
                    self.awareness.owners.setdefault(cid, author)
            self.history.append(self.doc_id, update, author=author, origin=origin, client_ids=ids)
            if relay:
                channel = None if sender is None else sender.channel
                others = [c for c in self.clients if c is not channel]
                message = encode_sync_update(update)
                if metrics.PER_UPDATE.enabled:
                    started = time.perf_counter()
                    self.relay.broadcast(self.doc_id, message, others)
                    metrics.PER_UPDATE.fanout(
                        time.perf_counter() - started, len(message) * len(others)
                    )
                else:
                    self.relay.broadcast(self.doc_id, message, others)
            self.hooks.update_accepted.emit(
                h.UpdateAccepted(self, author, origin, update, sender, cells)
            )
        if moved:
            self.hooks.cells_moved.emit(h.CellsMoved(self))
        return len(pending)

    def _commit_untrusted(self, client: Client) -> None:
        """Commit a client's update that may mark cells trusted, with the marks taken out:
        trust is never collaborative (see ``trust.py``).

        JupyterLab reads a cell's mark only when it builds the cell's model, from the
        state right after one update, so the others get the update and the removal merged
        into one: a removal sent after it would come too late. The sender gets the removal
        alone; a cell its person ran or trusted stays trusted in their browser only.
        """
        theirs = list(self._pending)
        self.commit(client.identity.username, "client", sender=client, relay=False)
        removal = self.remove_trust()
        others = [c for c in self.clients if c is not client.channel]
        if theirs and others:
            merged = encode_sync_update(merge_updates(*theirs, *removal))
            self.relay.broadcast(self.doc_id, merged, others)
        if removal:
            client.channel.send(encode_sync_update(merge_updates(*removal)))

    def remove_trust(self) -> list[bytes]:
        """Take every ``trusted`` mark out of the notebook, stored as the server's change;
        return that change's updates, which the caller relays."""
        with self.doc.transaction(origin=SERVER_AUTHOR):
            removed = trust.remove(self.doc) if self.kind == "notebook" else 0
        removal = list(self._pending)
        self.commit(SERVER_AUTHOR, "server", relay=False)
        if removed:
            log.info("room %s: took %d trusted mark(s) out of %s", self.doc_id, removed, self.path)
        return removal

    def after_structure_change(self) -> None:
        """After cells were inserted, deleted or moved: make cell ids unique again (two
        people moving the same cell at once leave two copies; see ``cells.py``)."""
        if self.cells is None or not self.cells.structure_changed:
            return
        with self.doc.transaction(origin=SERVER_AUTHOR):
            fixed = self.cells.fix_duplicates()
        if fixed:
            log.info("room %s: fixed %d duplicated cell(s) after moves", self.doc_id, fixed)
            self.commit(SERVER_AUTHOR, "server")
        self.cells.structure_changed = False

    # -- awareness and events -----------------------------------------------------------

    def _on_awareness(self, client: Client, payload: bytes) -> None:
        entries = decode_awareness_update(payload)
        self.awareness.claim(client, entries, self.clients.values())
        accepted, moved = self.awareness.accept(client, entries)
        if accepted:
            # to the sender too: the echo keeps y-websocket's 30 s watchdog fed
            message = encode_awareness(encode_awareness_update(accepted))
            self.relay.broadcast(self.doc_id, message, list(self.clients))
        if moved:
            self._touch(client)
            cell = self.awareness.cell_of(client)
            cell_changed = cell != client.cell
            client.cell = cell
            self.hooks.awareness_changed.emit(h.AwarenessChanged(self, client, cell_changed))

    def broadcast_event(self, event: dict[str, Any]) -> None:
        """Send a JSON event to every client of the room."""
        if self.clients:
            self.relay.broadcast(self.doc_id, encode_event(event), list(self.clients))

    def send_error(self, client: Client, request_id: Any, reason: str) -> None:
        """Answer one client's event with an ``error`` event."""
        client.channel.send(encode_event({"type": "error", "id": request_id, "reason": reason}))

    def _on_event(self, client: Client, event: dict[str, Any]) -> None:
        received = h.EventReceived(self, client, event)
        self.hooks.event_received.emit(received)
        kind = event["type"]
        command = self.hooks.commands.get(kind)
        if command is None:
            self.send_error(client, event.get("id"), f"unknown event type {kind!r}")
            return
        try:
            command(received)
        except CollabError:
            raise
        except Exception:
            log.exception("room %s: the %r command failed; it is detached", self.doc_id, kind)
            self.hooks.commands.pop(kind, None)
            self.send_error(client, event.get("id"), f"{kind}: internal error")

    def _touch(self, client: Client) -> None:
        now = self._clock()
        was_idle = now - client.last_active >= self.idle_after_seconds
        client.last_active = now
        if was_idle:
            self.hooks.woke.emit(h.Woke(self, client))

    def set_role(self, channel: Channel, role: Role | None, *, may_run: bool = False) -> None:
        """Change a connected client's role live: it is told at once (a ``role`` event);
        without any role left it is closed with 4403."""
        client = self.clients.get(channel)
        if client is None:
            return
        if role is None:
            reason = f"access removed: you no longer have a role on {self.path}"
            channel.close(PermissionDenied.close_code, reason)
            self.leave(channel)
            return
        client.may_run = may_run
        if role != client.role:
            client.role = role
            channel.send(encode_event({"type": "role", "role": role.label}))
            self.hooks.client_changed.emit(h.ClientChanged(self, client, "role"))

    def rename_person(self, username: str, display_name: str) -> None:
        """Show ``username`` as ``display_name`` on every connection of theirs here: their
        awareness states are stamped again (a newer clock) and sent to everyone."""
        restamped = []
        renamed = [c for c in self.clients.values() if c.identity.username == username]
        for client in renamed:
            client.identity = replace(
                client.identity, name=display_name, display_name=display_name, initials=None
            )
            restamped.extend(self.awareness.restamp(client))
        if restamped:
            message = encode_awareness(encode_awareness_update(restamped))
            self.relay.broadcast(self.doc_id, message, list(self.clients))
        for client in renamed:
            self.hooks.client_changed.emit(h.ClientChanged(self, client, "name"))

    # -- lifecycle ----------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        """Run ``coro`` in the background for this room; a failure is logged once (the
        room stays open, and whoever spawned it retries on the next change)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.warning("room %s: %s failed: %s", self.doc_id, what, t.exception())

        task.add_done_callback(done)

    def close_clients(self, code: int, reason: str) -> None:
        for channel in list(self.clients):
            self.clients.pop(channel, None)
            channel.close(code, reason)

    async def close(self) -> None:
        """Stop the room: cancel timers and tasks; callers save and flush first."""
        self.closed = True
        self.file.close()
        for task in list(self._tasks):
            task.cancel()
        self.hooks.closed.emit(h.Closed(self))
