"""Live rooms: one pycrdt document per file, its connected clients and their awareness.

A room checks and applies each message, appends accepted updates with their author
to the history, relays them (encoded once) to every other client, and writes the
file back through ``Files``. Does not import tornado or jupyter_server: transports
arrive as ``Channel``s and the registry is driven by the edge.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pycrdt import Array, Doc, TransactionEvent, get_state, get_update, merge_updates

from . import documents, trust
from .access import guest_link_id
from .colors import PALETTE, ColorBook
from .disk import Files
from .errors import (
    CollabError,
    Conflict,
    DocumentGone,
    PermissionDenied,
    ProtocolError,
    RoomNotFound,
    StaleEpoch,
)
from .locks import LockGuard
from .permissions import Action, Role, allows, covers
from .presence import PresenceFeed
from .protocol import (
    AuthMessage,
    AwarenessEntry,
    AwarenessMessage,
    EventMessage,
    QueryAwarenessMessage,
    Reader,
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
)
from .store import DocumentRecord, History

log = logging.getLogger(__name__)

DISK_AUTHOR = "disk"
SERVER_AUTHOR = "server"

MAX_NAME = 60  # characters of a display name set through a ``name`` event


@dataclass(frozen=True)
class Identity:
    """Who is behind a connection, as the server authenticated them."""

    username: str
    name: str = ""
    display_name: str = ""
    initials: str | None = None
    color: str | None = None
    avatar_url: str | None = None

    def to_awareness(self) -> dict[str, Any]:
        name = self.display_name or self.name or self.username
        initials = self.initials or "".join(p[0] for p in name.split()[:2]).upper() or "?"
        color = (
            self.color
            or PALETTE[int(hashlib.sha1(self.username.encode()).hexdigest(), 16) % len(PALETTE)]
        )
        return {
            "username": self.username,
            "name": self.name or self.username,
            "display_name": name,
            "initials": initials,
            "color": color,
            "avatar_url": self.avatar_url,
        }


class HistoryLog(Protocol):
    """What rooms need from the history store (``store.HistoryStore`` implements it)."""

    def append(
        self, doc_id: str, update: bytes, *, author: str, origin: str, client_ids: Iterable[int]
    ) -> int: ...

    def seal(self, doc_id: str) -> None: ...

    def mark_saved(self, doc_id: str, seq: int, *, mtime: str | None, hash: str | None) -> None: ...

    def last_seq(self, doc_id: str) -> int: ...

    def is_durable(self, doc_id: str) -> bool: ...

    async def flush(self, *, attempts: int = 1) -> None: ...

    async def load(self, doc_id: str, *, upto_seq: int | None = None) -> History: ...

    async def find_document(self, root: str, path: str) -> DocumentRecord | None: ...

    async def get_document(self, doc_id: str) -> DocumentRecord | None: ...

    async def create_document(
        self,
        root: str,
        path: str,
        kind: str,
        snapshot: bytes,
        *,
        mtime: str | None,
        hash: str | None,
    ) -> DocumentRecord: ...

    async def rename_path(self, root: str, old: str, new: str) -> int: ...

    async def set_lock(self, doc_id: str, cell_id: str, *, locked: bool, by: str) -> None: ...

    async def locks(self, doc_id: str) -> set[str]: ...

    async def client_authors(self, doc_id: str) -> dict[int, str]: ...

    async def forget_path(self, root: str, path: str) -> list[str]: ...


class Access(Protocol):
    """Who may do what (``access.AccessControl`` implements it)."""

    async def role_of(self, username: str, path: str) -> Role | None: ...

    async def tick(self) -> None: ...


class Channel(Protocol):
    """One client connection, as the room sees it."""

    def send(self, message: bytes) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


Fanout = Callable[[bytes, Iterable[Channel]], None]


def _adds_nothing(update: bytes, doc: Doc[Any]) -> bool:
    """Whether ``update`` holds no struct ``doc`` lacks and no deletion it has not made."""
    state = doc.get_state()
    try:
        theirs = _delete_set(get_update(update, state))
    except Exception:
        return False  # not even a valid update: certainly not a harmless one
    if theirs is None:
        return False
    ours = _delete_set(doc.get_update(state)) or {}
    for client_id, ranges in theirs.items():
        have = ours.get(client_id, [])
        starts = [c for c, _ in have]  # sorted and merged by _delete_set
        for clock, length in ranges:
            i = bisect.bisect_right(starts, clock) - 1
            if length and (i < 0 or clock + length > have[i][0] + have[i][1]):
                return False
    return True


def _delete_set(update: bytes) -> dict[int, list[tuple[int, int]]] | None:
    """The delete set of an update without structs (``None`` if it has structs)."""
    reader = Reader(update)
    if reader.read_var_uint() != 0:
        return None
    result: dict[int, list[tuple[int, int]]] = {}
    for _ in range(reader.read_var_uint()):
        client_id = reader.read_var_uint()
        ranges = [
            (reader.read_var_uint(), reader.read_var_uint()) for _ in range(reader.read_var_uint())
        ]
        merged: list[tuple[int, int]] = []
        for clock, length in sorted(ranges):  # adjacent ranges count as one
            if merged and merged[-1][0] + merged[-1][1] >= clock:
                last_clock, last_length = merged[-1]
                merged[-1] = (last_clock, max(last_length, clock + length - last_clock))
            else:
                merged.append((clock, length))
        result[client_id] = merged
    return result


def send_each(message: bytes, channels: Iterable[Channel]) -> None:
    for channel in channels:
        channel.send(message)


_client_numbers = itertools.count(1)
_MAX_CELL_ID = 200  # longer "cell" awareness values are not cell ids: shown as none


@dataclass(eq=False)
class Client:
    channel: Channel
    identity: Identity
    joined: float
    synced: bool = False  # the client sent its sync step 1
    awareness_ids: set[int] = field(default_factory=set)  # claimed by its first own state
    yjs_ids: set[int] = field(default_factory=set)
    number: int = field(default_factory=lambda: next(_client_numbers))  # unique per process
    last_active: float = 0.0  # last edit or awareness change (not the 15 s renewals)
    cell: str | None = None  # the notebook cell its awareness says it is in
    role: Role = Role.OWNER
    # may run code (CollabApp.can_execute): if not, the outputs and execution counts of
    # existing cells are not theirs to change (only a run by someone allowed does that)
    may_run: bool = True


class Room:
    """One live document. Create rooms through ``RoomRegistry``."""

    def __init__(
        self,
        *,
        record: DocumentRecord,
        doc: Doc[Any],
        store: HistoryLog,
        files: Files,
        fanout: Fanout = send_each,
        save_delay_seconds: float | None = 1.0,
        save_max_delay_seconds: float = 10.0,
        saved_seq: int = 0,
        fingerprint: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_presence: Callable[[], None] = lambda: None,
        idle_after_seconds: float = 60.0,
        color_hint: Callable[[str], str | None] = lambda username: None,
        on_name: Callable[[str, str], None] | None = None,
    ) -> None:
        self.doc_id = record.doc_id
        self.path: str = record.path or ""
        self.kind = record.kind
        self.epoch = record.epoch
        self.doc = doc
        self.ydoc = documents.wrap(self.kind, doc)
        self.store = store
        self.files = files
        self.fanout = fanout
        self.save_delay_seconds = save_delay_seconds
        self.save_max_delay_seconds = save_max_delay_seconds
        self._last_change = self._first_unsaved = 0.0
        self.saved_seq = saved_seq
        self.fingerprint = fingerprint
        self.clients: dict[Channel, Client] = {}
        # one colour per person present, never shared while the palette lasts; the hint
        # is the colour they hold in another room, so they look the same everywhere
        self.colors = ColorBook()
        self._color_hint = color_hint
        # a person set a new display name here; the registry renames them in every room
        self.on_name = on_name if on_name is not None else self.rename_person
        self.closed = False
        self._clock = clock
        self.last_activity = clock()
        self._awareness: dict[int, AwarenessEntry] = {}
        # whose each Yjs client id is (from its awareness or its edits), for the life of
        # the room and seeded from the store: an id never passes to another person
        self.id_owners: dict[int, str] = {}
        self._pending: list[bytes] = []
        self._save_lock = asyncio.Lock()
        self._save_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.save_error: BaseException | None = None
        self._structure_changed = False
        self.on_presence = on_presence
        self.idle_after_seconds = idle_after_seconds
        self._cell_indexes: dict[str, int] | None = None
        self.locked: set[str] = set()  # ids of locked cells (notebooks only)
        self._guard: LockGuard | None = None
        self._subscriptions = [doc.observe(self._on_transaction)]
        if self.kind == "notebook":
            self._cells = doc.get("cells", type=Array)
            self._cells.observe(self._on_cells_changed)

    # -- state --------------------------------------------------------------------------

    def _on_transaction(self, event: TransactionEvent) -> None:
        # runs at commit; the event dies with this callback, so copy the bytes now
        self._pending.append(event.update)

    def _on_cells_changed(self, event: Any) -> None:
        self._structure_changed = True
        self._cell_indexes = None
        if any(c.cell is not None for c in self.clients.values()):
            self.on_presence()  # cell numbers shown in the presence feed moved

    def _fix_duplicate_cells(self) -> None:
        """Make cell ids unique again after concurrent moves.

        @jupyter/ydoc moves a cell by deleting it and inserting a copy; two people
        moving the same cell at once leave two copies. The later identical copy is
        removed; a copy that was edited since keeps its content under a new id.
        """
        self._structure_changed = False
        first: dict[str, int] = {}
        repeated: list[tuple[int, int]] = []  # (index, index of the first copy)
        for index, ycell in enumerate(self._cells):
            cell_id = ycell.get("id")
            if not isinstance(cell_id, str):
                continue
            if cell_id in first:
                repeated.append((index, first[cell_id]))
            else:
                first[cell_id] = index
        duplicates = [
            (index, self._cells[index].to_py() == self._cells[original].to_py())
            for index, original in repeated
        ]
        if not duplicates:
            return
        with self.doc.transaction(origin=SERVER_AUTHOR):
            for index, identical in reversed(duplicates):
                if identical:
                    del self._cells[index]
                else:
                    self._cells[index]["id"] = str(uuid.uuid4())
        log.info(
            "room %s: fixed %d duplicated cell(s) after concurrent moves",
            self.doc_id,
            len(duplicates),
        )
        self._commit(SERVER_AUTHOR, "server")
        self._structure_changed = False

    @property
    def unsaved(self) -> bool:
        """True while the file on disk lags behind the document."""
        return self.store.last_seq(self.doc_id) > self.saved_seq

    @property
    def durable(self) -> bool:
        """True when every accepted update is committed to the history store."""
        return self.store.is_durable(self.doc_id)

    def content(self) -> Any:
        return documents.read(self.kind, self.ydoc)

    # -- clients ------------------------------------------------------------------------

    def join(
        self, channel: Channel, identity: Identity, epoch: str | None, role: Role = Role.OWNER
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
        color = self.colors.assign(username, self._color_hint(username))
        identity = replace(identity, color=color)
        client = Client(channel, identity, joined=now, last_active=now, role=role)
        self.clients[channel] = client
        self.last_activity = now
        self.on_presence()
        channel.send(encode_sync_step1(self.doc.get_state()))
        if self.locked:
            channel.send(encode_event(self._locks_event()))
        if self._awareness:
            channel.send(encode_awareness(encode_awareness_update(list(self._awareness.values()))))
        log.debug(
            "room %s: %s joined (%d clients)", self.doc_id, identity.username, len(self.clients)
        )
        return client

    def leave(self, channel: Channel) -> None:
        client = self.clients.pop(channel, None)
        if client is None:
            return
        self.last_activity = self._clock()
        username = client.identity.username
        if all(c.identity.username != username for c in self.clients.values()):
            self.colors.release(username)
        gone = []
        for cid in client.awareness_ids:
            entry = self._awareness.pop(cid, None)
            if entry is not None:
                gone.append(AwarenessEntry(cid, entry.clock + 1, None))
        if gone and self.clients:
            message = encode_awareness(encode_awareness_update(gone))
            self.fanout(message, list(self.clients))
        if not self.clients and self.unsaved:
            self._spawn(self.save(), "save after the last client left")
        self.on_presence()

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
        message = decode_message(data)
        if isinstance(message, SyncMessage):
            if message.kind == SyncKind.STEP1:
                decode_state_vector(message.payload)
                try:
                    reply = self.doc.get_update(message.payload)
                except Exception as exc:
                    raise ProtocolError(f"invalid state vector: {exc}") from exc
                client.synced = True
                channel.send(encode_sync_step2(reply))
            elif allows(client.role, Action.EDIT):
                self._apply(client, message.payload)
            else:
                self._refuse_edit(client, message.payload)
        elif isinstance(message, AwarenessMessage):
            self._on_awareness(client, message.payload)
        elif isinstance(message, QueryAwarenessMessage):
            channel.send(encode_awareness(encode_awareness_update(list(self._awareness.values()))))
        elif isinstance(message, EventMessage):
            self._on_event(client, message.event)
        elif isinstance(message, AuthMessage):
            raise ProtocolError("clients may not send auth messages")

    def _apply(self, client: Client, update: bytes) -> None:
        if update == b"\x00\x00":
            return
        checked = self.kind == "notebook" and (
            (bool(self.locked) and client.role < Role.OWNER) or not client.may_run
        )
        if checked:
            self._check_locks(client, update)  # the shadow now holds it
        self._pending.clear()
        try:
            with self.doc.transaction(origin=client):
                self.doc.apply_update(update)
        except Exception as exc:
            self._pending.clear()
            raise ProtocolError(f"update rejected: {exc}") from exc
        self._touch(client)
        if self.kind == "notebook" and trust.may_add_trust(self._pending):
            self._commit_untrusted(client, shadowed=checked)
        else:
            username = client.identity.username
            self._commit(username, "client", sender=client.channel, shadowed=checked)
        if self._structure_changed:
            self._fix_duplicate_cells()

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
        if update == b"\x00\x00" or _adds_nothing(update, self.doc):
            return
        reason = (
            f"{client.role.label}s cannot edit {self.path or 'this document'}: the change was "
            "not applied; reload to get the shared version"
        )
        client.channel.send(encode_auth_denied(reason))
        log.info(
            "room %s: refused an edit by %s (%s)",
            self.doc_id,
            client.identity.username,
            client.role.label,
        )
        raise PermissionDenied(reason)

    def _check_locks(self, client: Client, update: bytes) -> None:
        """Refuse an update that changes a locked cell (see ``locks.py``).

        Raises:
            PermissionDenied: after the permission-denied message; the handler closes the
                connection (4403) and the browser reloads the document.
        """
        if self._guard is None:
            self._guard = LockGuard(self.doc.get_update())
        try:
            reason = self._guard.check(
                update,
                self.locked if client.role < Role.OWNER else set(),
                self.doc.get_update,
                may_run=client.may_run,
            )
        except Exception as exc:
            self._guard = None  # rebuilt from the room on the next check
            raise ProtocolError(f"update rejected: {exc}") from exc
        if reason is None:
            return
        reason = f"{reason}; the change was not applied: reload to get the shared version"
        client.channel.send(encode_auth_denied(reason))
        log.info(
            "room %s: refused an edit by %s: %s", self.doc_id, client.identity.username, reason
        )
        raise PermissionDenied(reason)

    async def set_lock(self, cell_id: str, locked: bool, by: str) -> None:
        """Lock or unlock a cell, store it, and tell every client (a ``locks`` event)."""
        await self.store.set_lock(self.doc_id, cell_id, locked=locked, by=by)
        if locked:
            self.locked.add(cell_id)
        else:
            self.locked.discard(cell_id)
        if not self.locked:
            self._guard = None  # nothing to check: free the shadow
        self.broadcast_event(self._locks_event())

    def _locks_event(self) -> dict[str, Any]:
        return {"type": "locks", "cells": sorted(self.locked)}

    def set_role(self, channel: Channel, role: Role | None) -> None:
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
        if role != client.role:
            client.role = role
            channel.send(encode_event({"type": "role", "role": role.label}))
            self.on_presence()  # the panel shows roles

    def _commit(
        self,
        author: str,
        origin: str,
        *,
        sender: Channel | None = None,
        shadowed: bool = False,
        relay: bool = True,
    ) -> int:
        """Store and relay what the last transactions changed; return how many updates.

        ``shadowed``: the lock guard's shadow applied this change already (while checking
        it), so following it again would only repeat that work on the typing path.
        ``relay``: False when the caller sends the updates itself.
        """
        pending, self._pending = self._pending, []
        for update in pending:
            if self._guard is not None and not shadowed:
                self._guard.follow(update)
            client_ids = list(decode_state_vector(get_state(update)))
            if origin == "client":
                for cid in client_ids:
                    self.id_owners.setdefault(cid, author)
            self.store.append(
                self.doc_id, update, author=author, origin=origin, client_ids=client_ids
            )
            if relay:
                frame = encode_sync_update(update)
                self.fanout(frame, [c for c in self.clients if c is not sender])
        if pending:
            self._schedule_save()
        return len(pending)

    def _commit_untrusted(self, client: Client, *, shadowed: bool) -> None:
        """Commit a client's update that may mark cells trusted, with the marks taken out:
        trust is never collaborative (see ``trust.py``).

        JupyterLab reads a cell's mark only when it builds the cell's model, from the
        state right after one update, so the others get the update and the removal merged
        into one: a removal sent after it would come too late. The sender gets the removal
        alone; a cell its person ran or trusted stays trusted in their browser only.
        """
        theirs = list(self._pending)
        self._commit(client.identity.username, "client", shadowed=shadowed, relay=False)
        removal = self.remove_trust()
        others = [c for c in self.clients if c is not client.channel]
        if theirs and others:
            self.fanout(encode_sync_update(merge_updates(*theirs, *removal)), others)
        if removal:
            self.fanout(encode_sync_update(merge_updates(*removal)), [client.channel])

    def remove_trust(self) -> list[bytes]:
        """Take every ``trusted`` mark out of the notebook, stored as the server's change;
        return that change's updates, which the caller relays."""
        with self.doc.transaction(origin=SERVER_AUTHOR):
            removed = trust.remove(self.doc) if self.kind == "notebook" else 0
        removal = list(self._pending)
        self._commit(SERVER_AUTHOR, "server", relay=False)
        if removed:
            log.info("room %s: took %d trusted mark(s) out of %s", self.doc_id, removed, self.path)
        return removal

    def _on_awareness(self, client: Client, payload: bytes) -> None:
        entries = decode_awareness_update(payload)
        if not client.awareness_ids:
            # A connection owns the ids of the first message that names a live state no
            # other connection owns: y-websocket's first is exactly its own client id.
            taken = {
                cid for c in self.clients.values() if c is not client for cid in c.awareness_ids
            }
            username = client.identity.username
            client.awareness_ids = {
                e.client_id
                for e in entries
                if e.client_id not in taken
                and e.state is not None
                and self.id_owners.get(e.client_id, username) == username
            }
            for cid in client.awareness_ids:
                self.id_owners[cid] = username
        user = client.identity.to_awareness()
        accepted = []
        moved = False
        for entry in entries:
            if entry.client_id not in client.awareness_ids:
                continue  # y-websocket re-sends peers' states: never let a client speak for others
            current = self._awareness.get(entry.client_id)
            if current is not None and entry.clock < current.clock:
                continue
            state = None if entry.state is None else {**entry.state, "user": user}
            if current is None or state != current.state:
                moved = True  # a real change, not y-protocols' 15 s renewal
            stamped = AwarenessEntry(entry.client_id, entry.clock, state)
            if state is None:
                self._awareness.pop(entry.client_id, None)
            else:
                self._awareness[entry.client_id] = stamped
            accepted.append(stamped)
        if accepted:
            # to the sender too: the echo keeps y-websocket's 30 s watchdog fed
            self.fanout(encode_awareness(encode_awareness_update(accepted)), list(self.clients))
        if moved:
            self._touch(client)
            cell = self._cell_of(client)
            if cell != client.cell:
                client.cell = cell
                self.on_presence()

    def broadcast_event(self, event: dict[str, Any]) -> None:
        """Send a JSON event to every client of the room."""
        if self.clients:
            self.fanout(encode_event(event), list(self.clients))

    def _cell_of(self, client: Client) -> str | None:
        for cid in sorted(client.awareness_ids):
            entry = self._awareness.get(cid)
            cell = None if entry is None or entry.state is None else entry.state.get("cell")
            if isinstance(cell, str) and 0 < len(cell) <= _MAX_CELL_ID:
                return cell
        return None

    def _touch(self, client: Client) -> None:
        now = self._clock()
        was_idle = now - client.last_active >= self.idle_after_seconds
        client.last_active = now
        if was_idle:
            self.on_presence()

    # -- presence -----------------------------------------------------------------------

    def presence(self) -> list[dict[str, Any]]:
        """One presence feed entry per connection (see ``presence.py``)."""
        now = self._clock()
        return [
            {
                "id": f"{self.doc_id}/{client.number}",
                "client_id": min(client.awareness_ids) if client.awareness_ids else None,
                "user": client.identity.to_awareness(),
                "path": self.path,
                "type": self.kind,
                "cell": client.cell,
                "cell_index": self._cell_index(client.cell),
                "idle": now - client.last_active >= self.idle_after_seconds,
                "role": client.role.label,
            }
            for client in self.clients.values()
        ]

    def _cell_index(self, cell_id: str | None) -> int | None:
        if cell_id is None or self.kind != "notebook":
            return None
        if self._cell_indexes is None:
            indexes: dict[str, int] = {}
            for index, ycell in enumerate(self._cells):
                key = ycell.get("id")
                if isinstance(key, str):
                    indexes.setdefault(key, index)
            self._cell_indexes = indexes
        return self._cell_indexes.get(cell_id)

    def _on_event(self, client: Client, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "lock":
            self._on_lock_request(client, event)
        elif kind == "save" and not allows(client.role, Action.EDIT):
            reason = f"save: {client.role.label}s cannot save {self.path}"
            client.channel.send(
                encode_event({"type": "error", "id": event.get("id"), "reason": reason})
            )
        elif kind == "save":
            self._spawn(self._save_for(client, event.get("id")), "save requested by a client")
        elif kind == "name":
            self._on_name_request(client, event)
        else:
            client.channel.send(
                encode_event(
                    {
                        "type": "error",
                        "id": event.get("id"),
                        "reason": f"unknown event type {kind!r}",
                    }
                )
            )

    def _on_lock_request(self, client: Client, event: dict[str, Any]) -> None:
        request_id = event.get("id")
        cell_id, locked = event.get("cell"), event.get("locked")
        reason = None
        if not allows(client.role, Action.MANAGE):
            reason = f"lock: {client.role.label}s cannot lock cells; owners can"
        elif self.kind != "notebook":
            reason = "lock: only notebook cells can be locked"
        elif not isinstance(cell_id, str) or not isinstance(locked, bool):
            reason = 'lock: expected {"cell": <cell id>, "locked": true | false}'
        elif locked and cell_id not in {c.get("id") for c in self._cells}:
            reason = f"lock: no cell {cell_id!r} in {self.path}"
        if reason is not None:
            error = {"type": "error", "id": request_id, "reason": reason}
            client.channel.send(encode_event(error))
            return
        assert isinstance(cell_id, str) and isinstance(locked, bool)
        username = client.identity.username
        self._spawn(self.set_lock(cell_id, locked, username), f"lock {cell_id} by {username}")

    def _on_name_request(self, client: Client, event: dict[str, Any]) -> None:
        """A person set their display name (JupyterLab's ``api/me`` keeps it for the next
        connection): show it here and in their other rooms now. Guests keep the name they
        joined with."""
        name = event.get("display_name")
        username = client.identity.username
        reason = None
        if guest_link_id(username) is not None:
            reason = "name: guests keep the name they joined with"
        elif not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            reason = f'name: expected {{"display_name": <1 to {MAX_NAME} characters>}}'
        if reason is not None:
            error = {"type": "error", "id": event.get("id"), "reason": reason}
            client.channel.send(encode_event(error))
            return
        assert isinstance(name, str)
        self.on_name(username, " ".join(name.split()))

    def rename_person(self, username: str, display_name: str) -> None:
        """Show ``username`` as ``display_name`` on every connection of theirs here: their
        awareness states are stamped again (a newer clock) and sent to everyone."""
        restamped = []
        for client in self.clients.values():
            if client.identity.username != username:
                continue
            client.identity = replace(
                client.identity, name=display_name, display_name=display_name, initials=None
            )
            user = client.identity.to_awareness()
            for cid in sorted(client.awareness_ids):
                entry = self._awareness.get(cid)
                if entry is None or entry.state is None:
                    continue
                stamped = AwarenessEntry(cid, entry.clock + 1, {**entry.state, "user": user})
                self._awareness[cid] = stamped
                restamped.append(stamped)
        if restamped:
            self.fanout(encode_awareness(encode_awareness_update(restamped)), list(self.clients))
        if any(c.identity.username == username for c in self.clients.values()):
            self.on_presence()

    async def _save_for(self, client: Client, request_id: Any) -> None:
        try:
            if not await self.save(force=True):
                raise DocumentGone(f"{self.path} is closed")
        except Exception as exc:
            client.channel.send(
                encode_event({"type": "error", "id": request_id, "reason": f"save failed: {exc}"})
            )
            raise
        client.channel.send(encode_event(self._saved_event(request_id)))

    def _saved_event(self, request_id: Any = None) -> dict[str, Any]:
        return {
            "type": "saved",
            "id": request_id,
            "path": self.path,
            "fingerprint": self.fingerprint,
        }

    # -- disk ---------------------------------------------------------------------------

    def _schedule_save(self) -> None:
        """Debounce: write once changes pause for ``save_delay_seconds``, and at least every
        ``save_max_delay_seconds`` while they go on. The history store already holds every
        update; the file is an export, so it need not follow each keystroke."""
        if self.save_delay_seconds is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._last_change = now
        if self._save_timer is None:
            self._first_unsaved = now
            self._save_timer = loop.call_later(self.save_delay_seconds, self._save_timer_fired)

    def _save_timer_fired(self) -> None:
        self._save_timer = None
        assert self.save_delay_seconds is not None
        loop = asyncio.get_running_loop()
        now = loop.time()
        quiet_at = self._last_change + self.save_delay_seconds
        deadline = self._first_unsaved + max(self.save_max_delay_seconds, self.save_delay_seconds)
        if now < quiet_at and now < deadline:
            self._save_timer = loop.call_at(min(quiet_at, deadline), self._save_timer_fired)
            return
        self._spawn(self.save(), "debounced save")

    async def save(self, *, force: bool = False) -> bool:
        """Write the document to disk if it changed since the last save; True if written."""
        async with self._save_lock:
            return await self._save_locked(force=force)

    async def _save_locked(self, *, force: bool = False) -> bool:
        if self.closed or (not force and not self.unsaved):
            return False
        with self.doc.transaction(origin=SERVER_AUTHOR):
            content = documents.export(self.kind, self.ydoc)
        self._commit(SERVER_AUTHOR, "server")  # export may have fixed duplicate cell ids
        seq = self.store.last_seq(self.doc_id)
        self.store.seal(self.doc_id)  # updates accepted during the write start a new row
        try:
            fingerprint = await self.files.write(self.path, self.kind, content)
        except Exception as exc:
            self.save_error = exc
            log.error("room %s: saving %s failed, will retry: %s", self.doc_id, self.path, exc)
            self._schedule_save()
            raise
        self.save_error = None
        self.saved_seq, self.fingerprint = seq, fingerprint
        self.store.mark_saved(self.doc_id, seq, mtime=fingerprint, hash=None)
        self.fanout(encode_event(self._saved_event()), list(self.clients))
        log.debug("room %s: saved %s at seq %d", self.doc_id, self.path, seq)
        return True

    async def check_disk(self) -> bool:
        """Merge a change another program made to the file; True if the doc changed."""
        async with self._save_lock:
            if self.closed:
                return False
            current = await self.files.stat(self.path)
            if current is None or current == self.fingerprint:
                return False
            disk = await self.files.read(self.path, self.kind)
            return await self._merge_disk_locked(disk.content, disk.fingerprint)

    async def _merge_disk_locked(self, theirs: Any, fingerprint: str) -> bool:
        ours = self.content()
        if documents.same_content(self.kind, ours, theirs):
            changed = 0
        else:
            history = await self.store.load(self.doc_id, upto_seq=self.saved_seq)
            base_doc = documents.doc_from_updates(history.updates)
            base = documents.read(self.kind, documents.wrap(self.kind, base_doc))
            self._pending.clear()
            with self.doc.transaction(origin=DISK_AUTHOR):
                documents.merge_disk_change(self.kind, self.ydoc, base, theirs)
            changed = self._commit(DISK_AUTHOR, "disk")
            if self._structure_changed:
                self._fix_duplicate_cells()
            log.info(
                "room %s: merged an outside change of %s (%d updates)",
                self.doc_id,
                self.path,
                changed,
            )
        self.fingerprint = fingerprint
        if documents.same_content(self.kind, self.content(), theirs):
            # the disk holds exactly the document: that is a save point, no rewrite needed
            self.saved_seq = self.store.last_seq(self.doc_id)
            self.store.mark_saved(self.doc_id, self.saved_seq, mtime=fingerprint, hash=None)
        else:
            await self._save_locked(force=True)
        return changed > 0

    # -- lifecycle ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                # logged here once; the room stays open and retries on the next change
                log.warning("room %s: %s failed: %s", self.doc_id, what, t.exception())

        task.add_done_callback(done)

    def close_clients(self, code: int, reason: str) -> None:
        for channel in list(self.clients):
            self.clients.pop(channel, None)
            channel.close(code, reason)

    async def close(self) -> None:
        """Stop the room: cancel timers; callers save and flush first."""
        self.closed = True
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        for task in list(self._tasks):
            task.cancel()


class _Replaced(Exception):
    """Internal: the document's path now belongs to a rebuilt history."""

    def __init__(self, doc_id: str, path: str) -> None:
        super().__init__(doc_id)
        self.doc_id, self.path = doc_id, path


class RoomRegistry:
    """Owns room creation, loading, renames, eviction and shutdown.

    Args:
        root: the server's root folder, to tell documents of different servers apart
            in a shared store.
        idle_timeout_seconds: a room without clients for this long is saved and
            closed. ``None`` keeps rooms until shutdown.
        disk_poll_interval_seconds: how often open files are checked for changes
            made by other programs. ``None`` disables polling.
    """

    def __init__(
        self,
        *,
        store: HistoryLog,
        files: Files,
        root: str,
        fanout: Fanout = send_each,
        save_delay_seconds: float | None = 1.0,
        save_max_delay_seconds: float = 10.0,
        idle_timeout_seconds: float | None = 60.0,
        disk_poll_interval_seconds: float | None = 2.0,
        presence_idle_seconds: float = 60.0,
        access: Access | None = None,
        can_execute: Callable[[str, Role], bool] = lambda username, role: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.access = access
        self.can_execute = can_execute
        self.files = files
        self.root = root
        self.fanout = fanout
        self.save_delay_seconds = save_delay_seconds
        self.save_max_delay_seconds = save_max_delay_seconds
        self.idle_timeout_seconds = idle_timeout_seconds
        self.disk_poll_interval_seconds = disk_poll_interval_seconds
        self._clock = clock
        self.rooms: dict[str, Room] = {}  # by doc_id
        self._by_path: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self.presence_idle_seconds = presence_idle_seconds
        self.presence = PresenceFeed(self.presence_entries)

    # -- opening ------------------------------------------------------------------------

    async def open_session(self, path: str, kind: str) -> Room:
        """The room for ``path`` opened as ``kind``, loading or creating it.

        Raises:
            RoomNotFound: no such file.
            Conflict: the file is open as another kind right now.
            UnreadableFile: the file cannot be read as that kind.
        """
        path = path.strip("/")
        documents.check_kind(kind)
        room = self._by_path.get(path)
        if room is not None:
            if room.kind != kind:
                raise Conflict(
                    f"{path} is open as a {room.kind} by {len(room.clients)} client(s); "
                    f"close it there or open it as a {room.kind}"
                )
            return room
        return await self._once(f"path:{path}", lambda: self._load_path(path, kind))

    async def get_room(self, doc_id: str) -> Room:
        """The live room for ``doc_id``, reloading it from the store if needed.

        Raises:
            RoomNotFound: unknown document, or its file was deleted.
        """
        room = self.rooms.get(doc_id)
        if room is not None:
            return room
        record = await self.store.get_document(doc_id)
        if record is None or record.root != self.root:
            raise RoomNotFound(f"no document {doc_id}")
        if record.replaced_by is not None:
            successor = await self.store.get_document(record.replaced_by)
            if successor is not None and successor.path is not None:
                raise _Replaced(successor.doc_id, successor.path)
        if record.path is None:
            raise DocumentGone(f"document {doc_id} was deleted")
        path = record.path
        return await self._once(f"path:{path}", lambda: self._load_path(path, record.kind))

    async def join(
        self, doc_id: str, channel: Channel, identity: Identity, epoch: str | None
    ) -> Room:
        """Admit a connection to the room of ``doc_id`` (see ``Room.join``).

        A document id this server has no history for is a stale epoch too (the store
        was reset or deleted): the client is told to reload, never merged.
        """
        try:
            room = await self.get_room(doc_id)
        except RoomNotFound:
            reason = (
                f"this server has no history for document {doc_id} (its history store was "
                "reset): reload the document; local changes are not merged"
            )
            channel.send(encode_event({"type": "reload", "reason": reason, "epoch": None}))
            raise StaleEpoch(epoch or "", "") from None
        except _Replaced as replaced:
            reason = (
                f"{replaced.path} was reopened as another type, which rebuilt its history: "
                "reload it; local changes are not merged"
            )
            event = {"type": "reload", "reason": reason, "epoch": None, "doc_id": replaced.doc_id}
            channel.send(encode_event(event))
            raise StaleEpoch(epoch or "", "") from None
        role = await self.role_of(identity.username, room.path)
        if role is None:
            raise PermissionDenied(f"{identity.username} has no access to {room.path}")
        room.join(channel, identity, epoch, role)
        room.clients[channel].may_run = self.can_execute(identity.username, role)
        return room

    async def role_of(self, username: str, path: str) -> Role | None:
        """The role of ``username`` on ``path``: from ``access``, else owner."""
        if self.access is None:
            return Role.OWNER
        return await self.access.role_of(username, path)

    async def refresh_roles(self, path: str) -> None:
        """Memberships on ``path`` (a file, or a folder and all inside) changed: give
        every connected client of the rooms there its new role at once."""
        for room in list(self.rooms.values()):
            if not covers(path, room.path):
                continue
            for channel, client in list(room.clients.items()):
                role = await self.role_of(client.identity.username, room.path)
                room.set_role(channel, role)
                if role is not None:
                    client.may_run = self.can_execute(client.identity.username, role)
        self.presence.resync()  # who may see whom in the Collaborators panel changed too

    async def _once(self, key: str, load: Callable[[], Coroutine[Any, Any, Room]]) -> Room:
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            room = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it
            raise
        else:
            future.set_result(room)
            return room
        finally:
            del self._loading[key]

    async def _load_path(self, path: str, kind: str) -> Room:
        live = self._by_path.get(path)
        if live is not None:
            if live.kind != kind:
                raise Conflict(f"{path} is open as a {live.kind}")
            return live
        record = await self.store.find_document(self.root, path)
        if record is not None and record.kind == kind:
            room = await self._load_from_store(record)
        else:
            disk = await self.files.read(path, kind)
            snapshot = documents.build(kind, disk.content)
            record = await self.store.create_document(
                self.root, path, kind, snapshot, mtime=disk.fingerprint, hash=None
            )
            doc = documents.doc_from_updates([snapshot])
            room = self._make_room(record, doc, saved_seq=0, fingerprint=disk.fingerprint)
            log.info(
                "room %s: built %s as a %s from disk, epoch %s",
                record.doc_id,
                path,
                kind,
                record.epoch,
            )
        self.rooms[room.doc_id] = room
        self._by_path[path] = room
        return room

    async def _load_from_store(self, record: DocumentRecord) -> Room:
        history = await self.store.load(record.doc_id)
        doc = documents.doc_from_updates(history.updates)
        room = self._make_room(
            record, doc, saved_seq=record.saved_seq, fingerprint=record.saved_mtime
        )
        if record.kind == "notebook":
            room.locked = await self.store.locks(record.doc_id)
            room.remove_trust()  # a history from before trust was kept out of documents
        room.id_owners.update(await self.store.client_authors(record.doc_id))
        try:
            await room.check_disk()
        except CollabError:
            raise
        except Exception as exc:
            # The stored document is intact; the outside change is merged on a later poll.
            log.warning("room %s: checking %s on disk failed: %s", room.doc_id, room.path, exc)
        log.info(
            "room %s: loaded %s from %d stored rows, epoch %s",
            record.doc_id,
            record.path,
            history.rows,
            record.epoch,
        )
        return room

    def _make_room(
        self, record: DocumentRecord, doc: Doc[Any], *, saved_seq: int, fingerprint: str | None
    ) -> Room:
        return Room(
            record=record,
            doc=doc,
            store=self.store,
            files=self.files,
            fanout=self.fanout,
            save_delay_seconds=self.save_delay_seconds,
            save_max_delay_seconds=self.save_max_delay_seconds,
            saved_seq=saved_seq,
            fingerprint=fingerprint,
            clock=self._clock,
            on_presence=self.presence.changed,
            idle_after_seconds=self.presence_idle_seconds,
            color_hint=self.color_of,
            on_name=self.rename_person,
        )

    def color_of(self, username: str) -> str | None:
        """The colour ``username`` holds in some live room, if any."""
        for room in self.rooms.values():
            color = room.colors.of(username)
            if color is not None:
                return color
        return None

    def rename_person(self, username: str, display_name: str) -> None:
        """``username`` set a new display name: show it in every room at once."""
        for room in list(self.rooms.values()):
            room.rename_person(username, display_name)

    def presence_entries(self) -> list[dict[str, Any]]:
        """Everyone connected to any room, one entry per connection."""
        return [entry for room in self.rooms.values() for entry in room.presence()]

    # -- following the contents service ------------------------------------------------

    async def on_renamed(self, old: str, new: str) -> None:
        old, new = old.strip("/"), new.strip("/")
        await self.store.rename_path(self.root, old, new)
        for path, room in list(self._by_path.items()):
            if path == old or path.startswith(old + "/"):
                moved = new + path[len(old) :]
                del self._by_path[path]
                room.path = moved
                self._by_path[moved] = room
                room.broadcast_event({"type": "renamed", "path": moved})
                self.presence.changed()

    async def on_deleted(self, path: str) -> None:
        path = path.strip("/")
        await self.store.forget_path(self.root, path)
        for room_path, room in list(self._by_path.items()):
            if room_path == path or room_path.startswith(path + "/"):
                await self._drop(room)
                room.close_clients(DocumentGone.close_code, f"{room_path} was deleted")

    async def on_saved_externally(self, path: str) -> None:
        room = self._by_path.get(path.strip("/"))
        if room is not None:
            await room.check_disk()

    # -- background work ----------------------------------------------------------------

    def start(self, tick_seconds: float = 1.0) -> None:
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick_forever(tick_seconds))

    async def _tick_forever(self, tick_seconds: float) -> None:
        last_poll = self._clock()
        while True:
            await asyncio.sleep(tick_seconds)
            try:
                if self.presence.has_subscribers:
                    self.presence.changed()  # people go idle without sending anything
                if self.access is not None:
                    await self.access.tick()  # share links expire without a request
                await self.evict_idle()
                interval = self.disk_poll_interval_seconds
                if interval is not None and self._clock() - last_poll >= interval:
                    last_poll = self._clock()
                    await self.poll_disk()
            except Exception:
                # one bad tick must not stop eviction and polling for good
                log.exception("room registry: background tick failed")

    async def poll_disk(self) -> None:
        for room in list(self.rooms.values()):
            try:
                await room.check_disk()
            except Exception as exc:
                # that file stays as it is; the next poll tries again
                log.warning("room %s: disk check of %s failed: %s", room.doc_id, room.path, exc)

    async def evict_idle(self) -> list[str]:
        """Save and close rooms idle past the timeout; keep any that could not be saved."""
        if self.idle_timeout_seconds is None:
            return []
        now = self._clock()
        evicted = []
        for room in list(self.rooms.values()):
            if room.clients or now - room.last_activity < self.idle_timeout_seconds:
                continue
            if await self.evict(room):
                evicted.append(room.doc_id)
        return evicted

    async def evict(self, room: Room) -> bool:
        """Save, flush and close one room; False (room kept) if anything failed."""
        try:
            await room.save()
            await self.store.flush()
        except Exception as exc:
            # kept in memory with its unsaved content; the next tick retries
            log.error("room %s: not evicted, saving failed: %s", room.doc_id, exc)
            return False
        if room.clients or room.unsaved or not room.durable:
            return False
        await self._drop(room)
        log.info("room %s: evicted %s", room.doc_id, room.path)
        return True

    async def _drop(self, room: Room) -> None:
        self.rooms.pop(room.doc_id, None)
        if self._by_path.get(room.path) is room:
            del self._by_path[room.path]
        await room.close()
        self.presence.changed()

    async def close_all(self) -> None:
        """Shutdown: save every room, flush the store, close clients."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        for room in list(self.rooms.values()):
            try:
                await room.save()
            except Exception as exc:
                # the history store still holds every update; the file catches up on next open
                log.error("room %s: final save of %s failed: %s", room.doc_id, room.path, exc)
            room.close_clients(1001, "server shutting down")
            await self._drop(room)
        self.presence.close()
        await self.store.flush()
