"""Comment threads, as a service of the room hook table.

Threads are server records (``CommentRecords``, decision 7), never document content.
Each room's threads are loaded when it opens and kept in memory while it is open; a
joining client gets the ones it may see (a ``comments`` event), and every change reaches
the clients that may see it as a ``comment`` event carrying the whole thread. Clients
change threads with ``comment.*`` events; each is checked here, against the sender's
role and identity on the server, never against what the event says about its author.

Who may do what (``docs/PROTOCOL.md``, Comments):

* viewers read; commenters, editors and owners start threads, reply, resolve and reopen;
* a message is edited only by its author, and deleted by its author or an owner (a
  deleted message stays as a placeholder, so the thread still reads);
* a private thread is seen only by its author and the owners;
* mentions name people who hold a role on the document.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pycrdt import Text

from ..close_codes import CloseCode
from ..errors import CommentNotFound, Conflict, ProtocolError
from ..permissions import Action, Role, allows
from ..protocol import encode_event, encode_event_text
from ..store.records import Message, Thread, ThreadStatus, ThreadView
from . import anchors
from . import hooks as h
from .ports import Access, CommentRecords
from .suggestions import Target, replace

Operation = Callable[["Room", "Actor", dict[str, Any]], Awaitable[Thread]]
# tells one person, wherever they are on the server (``PresenceFeed.notify``)
Notify = Callable[[str, dict[str, Any]], int]

if TYPE_CHECKING:
    from .identity import Client
    from .room import Room

log = logging.getLogger(__name__)


class CommentRefused(ProtocolError):
    """A comment request that cannot be carried out; its sender gets an ``error`` event
    (the connection stays open) or, over REST, HTTP 400. Nothing was changed."""


class CommentForbidden(CommentRefused):
    """The sender's role does not allow the request (over REST, HTTP 403)."""

    close_code = CloseCode.FORBIDDEN  # never closes a socket: a pair with the status
    http_status = 403


@dataclass(frozen=True)
class Actor:
    """Who asks: from the server's own record of the connection or request, never from
    what the request says."""

    username: str
    role: Role


@dataclass(frozen=True)
class CommentLimits:
    """What one person may put into the comments of one document."""

    max_body_bytes: int = 10 * 1024
    max_threads: int = 2000  # per document, open and resolved
    max_mentions: int = 20  # per message
    max_messages: int = 500  # per thread: past that, start a new thread
    max_quote_chars: int = 1000  # the text a range anchor covers when it is made
    # the start of a cell a thread is on, to show when the cell is gone: enough to know
    # it again, and a snapshot of 1000 threads does not carry 1000 whole cells
    max_cell_quote_chars: int = 200


# a range whose text left its cell (a split, a merge) follows it into another cell only
# when the text is at least this long: shorter text is too likely to be somewhere else
CROSS_CELL_CHARS = 8

# the requests that may tell people something (``CommentService._tell``)
NOTIFYING = frozenset({"comment.create", "comment.reply", "comment.edit"})


def thread_json(thread: Thread, *, brief: bool = False) -> dict[str, Any]:
    """A thread as clients receive it (``docs/PROTOCOL.md``, Comments); ``brief``: with
    its first message only and without null, false or empty fields, as in the snapshot a
    client gets on opening (the rest on request: ``comment.get``). Both say how many
    messages there are, who wrote, who is mentioned, and who wrote last and when, so a
    client can count and filter without the bodies."""
    alive = [m for m in thread.messages if m.deleted_at is None]
    last = alive[-1] if alive else None
    whole: dict[str, Any] = {
        "id": thread.thread_id,
        "anchor": thread.anchor,
        "author": thread.author,
        "created_at": thread.created_at,
        "private": thread.private,
        "status": thread.status,
        "resolved_by": thread.resolved_by,
        "resolved_at": thread.resolved_at,
        "detached": thread.detached,
        "suggestion": thread.suggestion,
        "suggestion_state": thread.suggestion_state,
        "suggestion_decided_by": thread.suggestion_decided_by,
        "suggestion_decided_at": thread.suggestion_decided_at,
        "message_count": len(thread.messages),
        "participants": list(dict.fromkeys(m.author for m in thread.messages)),
        "mentioned": list(dict.fromkeys(u for m in alive for u in m.mentions)),
        "last_author": None if last is None else last.author,
        "last_at": None if last is None else last.created_at,
        "messages": [message_json(m) for m in thread.messages[: 1 if brief else None]],
    }
    if not brief:
        return whole
    # the snapshot leaves out what is null, false or empty (in the thread and its message,
    # not in the anchor, which is the client's): a third fewer bytes for a client to
    # parse on opening (bench/comments.py)
    whole["messages"] = [_present(m) for m in whole["messages"]]
    return {"anchor": thread.anchor, **_present(whole)}


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None and v is not False and v != []}


def message_json(message: Message) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    return {
        "id": message.message_id,
        "author": message.author,
        "body": "" if deleted else message.body,
        "mentions": [] if deleted else list(message.mentions),
        "created_at": message.created_at,
        "edited_at": message.edited_at,
        "deleted": deleted,
        "deleted_by": message.deleted_by,
    }


def _text_hash(room: Room, anchor: dict[str, Any]) -> int | None:
    """A hash of the text (a cell's source, or a file's) a range anchor is in."""
    cell_id = anchor.get("cell_id")
    text = anchors.text_of(room, cell_id if isinstance(cell_id, str) else None)
    return None if text is None else hash(str(text))


def may_see(thread: Thread | ThreadView, username: str, role: Role) -> bool:
    return not thread.private or thread.author == username or role >= Role.OWNER


class CommentService:
    """Threads of every open room: loaded on opening, changed by ``comment.*`` events."""

    def __init__(
        self,
        records: CommentRecords,
        access: Access,
        limits: CommentLimits | None = None,
        *,
        notify: Notify | None = None,
    ) -> None:
        self.records = records
        self.access = access
        self.limits = limits or CommentLimits()
        self.notify = notify
        self._threads: dict[str, dict[str, Thread]] = {}  # doc id -> thread id -> thread
        self._loading: dict[str, asyncio.Future[list[Thread]]] = {}  # doc id -> the read
        # doc id -> the threads as clients see them, until their records are read
        self._views: dict[str, list[ThreadView]] = {}
        self._wanted: dict[str, asyncio.Event] = {}  # doc id -> read the records now
        # range anchors: a pending check per room, and where each range last was
        self._checks: dict[str, asyncio.Handle] = {}
        self._cell_index: dict[str, int] = {}  # thread id -> where its cell last was
        # thread id -> where its range last was: (start, end, the text it covered)
        self._last: dict[str, tuple[int, int, str]] = {}
        # thread id -> hash of its cell's (or file's) text when its range was last read
        self._read_on: dict[str, int] = {}
        self._texts: dict[str, dict[str, str]] = {}  # doc id -> thread id -> its JSON
        # doc id -> (how many threads, the snapshot of them all) when none is private
        self._public: dict[str, tuple[int, bytes]] = {}
        self._operations: dict[str, Operation] = {
            "comment.create": self._create,
            "comment.reply": self._reply,
            "comment.edit": self._edit,
            "comment.delete": self._delete,
            "comment.resolve": self._resolve,
            "comment.reopen": self._reopen,
            "comment.reattach": self._reattach,
            "comment.accept": self._accept,
            "comment.reject": self._reject,
            "comment.undo": self._undo,
            "comment.get": self._get,
        }

    def install(self, hooks: h.RoomHooks) -> None:
        hooks.opening.subscribe(self._opening)
        hooks.synced.subscribe(self._synced)
        hooks.client_changed.subscribe(self._client_changed)
        hooks.closed.subscribe(self._closed)
        hooks.cells_moved.subscribe(self._cells_moved)
        hooks.update_accepted.subscribe(self._update_accepted)
        for kind in self._operations:
            hooks.handle(kind, self._on_request)

    # -- what clients see ---------------------------------------------------------------

    async def visible(self, room: Room, username: str, role: Role) -> list[Thread]:
        """The room's threads this person may see (once they are loaded)."""
        await self._loaded(room)
        return self._visible_now(room, username, role)

    def _visible_now(self, room: Room, username: str, role: Role) -> list[Thread]:
        threads = self._threads.get(room.doc_id, {}).values()
        return [t for t in threads if may_see(t, username, role)]

    def _load(self, room: Room) -> asyncio.Future[list[Thread]]:
        """The read of the room's threads, started on first need: the first client that
        has the document, or a request. Reading 1000 threads takes tens of ms; started
        when the room opened, it slowed the first client's sync by a fifth (bench/comments.py).
        """
        loading = self._loading.get(room.doc_id)
        if loading is None:
            if room.closed:
                raise CommentRefused(f"comment: {room.path} is closed")
            loading = asyncio.ensure_future(self._read(room))
            self._loading[room.doc_id] = loading
            loading.add_done_callback(lambda done: self._on_loaded(room, done))
        return loading

    async def _read(self, room: Room) -> list[Thread]:
        """The threads as clients see them first (one query, SQLite writes their JSON),
        sent to every client that has the document; then, once someone has the
        document or a request waits, their records, which requests and anchors work
        on (reading them is Python work that would slow the document's first sync)."""
        views = await self.records.thread_views(room.doc_id)
        if self._loading.get(room.doc_id) is not None and not room.closed:
            self._views[room.doc_id] = views
            texts = self._texts.setdefault(room.doc_id, {})
            for view in views:
                texts[view.thread_id] = view.json
            for client in list(room.clients.values()):
                if client.synced:
                    self._send_snapshot(room, client, even_empty=False)
        await self._records_wanted(room).wait()
        return await self.records.threads(room.doc_id)

    def _records_wanted(self, room: Room) -> asyncio.Event:
        return self._wanted.setdefault(room.doc_id, asyncio.Event())

    def _on_loaded(self, room: Room, done: asyncio.Future[list[Thread]]) -> None:
        if done.cancelled() or self._loading.get(room.doc_id) is not done:
            return  # the room closed meanwhile
        sent = self._views.pop(room.doc_id, None) is not None
        if done.exception() is not None:
            # the room works without its comments; the next request reads them again
            log.warning("room %s: loading its comments failed: %s", room.doc_id, done.exception())
            self._loading.pop(room.doc_id, None)
            return
        self._threads[room.doc_id] = {t.thread_id: t for t in done.result()}
        if not sent:
            for client in list(room.clients.values()):
                if client.synced:
                    self._send_snapshot(room, client, even_empty=False)

    async def _loaded(self, room: Room) -> None:
        """Wait until the room's threads are read (a request that came early waits)."""
        loading = self._load(room)
        self._records_wanted(room).set()
        await asyncio.shield(loading)

    async def _opening(self, event: h.Opening) -> None:
        # SQLite writes the snapshot while the first client connects and gets the
        # document (it holds no lock on the interpreter meanwhile); it is sent once that
        # client has the document
        self._load(event.room)

    def _synced(self, event: h.Synced) -> None:
        # After the document, never before it on the wire. Threads are never removed: a
        # client that saw none needs no empty snapshot. Before they are read, the read
        # sends them.
        loading = self._load(event.room)
        loaded = loading.done() and not loading.cancelled() and loading.exception() is None
        if loaded or event.room.doc_id in self._views:
            self._send_snapshot(event.room, event.client, even_empty=False)
        self._records_wanted(event.room).set()

    def _client_changed(self, event: h.ClientChanged) -> None:
        if event.what == "role":  # an owner sees private threads, others stop seeing them
            self._send_snapshot(event.room, event.client, even_empty=True)

    def _send_snapshot(self, room: Room, client: Client, *, even_empty: bool) -> None:
        username, role = client.identity.username, client.role
        records = self._threads.get(room.doc_id)
        threads: list[Thread] | list[ThreadView] = (
            self._visible_now(room, username, role)
            if records is not None
            else [v for v in self._views.get(room.doc_id, ()) if may_see(v, username, role)]
        )
        if not threads and not even_empty:
            return
        # a class joining a document with many threads: each thread's JSON is written
        # once, and the snapshot of the threads everyone sees once per change (1000
        # threads of 3 messages: 16 ms to encode, 1.3 MB)
        public = self._public.get(room.doc_id)
        if public is not None and public[0] == len(threads) and not any(t.private for t in threads):
            client.channel.send(public[1])
            return
        text = self._texts.setdefault(room.doc_id, {})
        parts = []
        for thread in threads:
            part = text.get(thread.thread_id)
            if part is None:
                assert isinstance(thread, Thread)  # a view's text is there from the start
                part = text[thread.thread_id] = json.dumps(
                    thread_json(thread, brief=True), separators=(",", ":"), ensure_ascii=False
                )
            parts.append(part)
        message = encode_event_text('{"type":"comments","threads":[' + ",".join(parts) + "]}")
        if not any(t.private for t in threads):
            self._public[room.doc_id] = (len(threads), message)
        client.channel.send(message)

    def _forget_texts(self, doc_id: str, thread: Thread) -> None:
        self._texts.get(doc_id, {}).pop(thread.thread_id, None)
        self._public.pop(doc_id, None)

    def _closed(self, event: h.Closed) -> None:
        loading = self._loading.pop(event.room.doc_id, None)
        if loading is not None and not loading.done():
            loading.cancel()
        self._threads.pop(event.room.doc_id, None)
        self._views.pop(event.room.doc_id, None)
        self._wanted.pop(event.room.doc_id, None)
        check = self._checks.pop(event.room.doc_id, None)
        if check is not None:
            check.cancel()
        self._texts.pop(event.room.doc_id, None)
        self._public.pop(event.room.doc_id, None)

    def _update_accepted(self, event: h.UpdateAccepted) -> None:
        """Ranges follow the text by themselves; whether one collapsed or lost its text
        is checked at most every 200 ms, and only in rooms that have ranges."""
        room = event.room
        if room.doc_id in self._checks or not self._has_ranges(room):
            return
        loop = asyncio.get_running_loop()
        self._checks[room.doc_id] = loop.call_later(0.2, self.check_ranges, room)

    def _has_ranges(self, room: Room) -> bool:
        threads = self._threads.get(room.doc_id, {})
        return any(t.anchor.get("kind") == "range" for t in threads.values())

    def check_ranges(self, room: Room) -> None:
        """Make again the ranges whose text was rewritten or moved, on their quote;
        detach those whose quote is gone, attach again those whose quote is back. Runs
        200 ms after edits; a suggestion is checked at once before it is accepted."""
        pending = self._checks.pop(room.doc_id, None)
        if pending is not None:
            pending.cancel()
        if room.closed:
            return
        changed: dict[str, tuple[dict[str, Any], bool]] = {}
        for thread in list(self._threads.get(room.doc_id, {}).values()):
            if thread.anchor.get("kind") != "range":
                continue
            if (
                not thread.detached
                and thread.thread_id in self._last
                and anchors.intact(room, thread.anchor) is False
                and self._read_on.get(thread.thread_id) == _text_hash(room, thread.anchor)
            ):
                # it still covers text, in non-ASCII text (reading which costs a copy of
                # the document) unchanged since it was read: what it covers is the same.
                # Once that text changes it is read again, or the text re-anchoring looks
                # for after a move would miss what was typed inside it.
                continue
            found = anchors.resolve(room, thread.anchor)
            if found is not None and found.start < found.end:
                if room.cells is not None and found.cell_id is not None:
                    at = room.cells.index_of(found.cell_id)
                    self._cell_index[thread.thread_id] = 0 if at is None else at
                covered = str(found.text)[found.start : found.end]
                self._last[thread.thread_id] = (found.start, found.end, covered)
                self._read_on[thread.thread_id] = hash(str(found.text))
                if thread.detached:
                    changed[thread.thread_id] = (thread.anchor, False)
                continue
            moved = self._reanchored(room, thread)
            if moved is not None:
                changed[thread.thread_id] = (moved, False)
            elif not thread.detached:
                changed[thread.thread_id] = (thread.anchor, True)
        if changed:
            threads = self._threads[room.doc_id]
            for thread_id, (anchor, detached) in changed.items():
                threads[thread_id] = dataclasses.replace(
                    threads[thread_id], anchor=anchor, detached=detached
                )
            room.spawn(self._store_anchors(room, changed), "moving comment anchors")

    def _reanchored(self, room: Room, thread: Thread) -> dict[str, Any] | None:
        """The range made again where its text is now: the text it last covered, else
        its quote, in its own cell (the occurrence nearest to where it was), else, for
        at least ``CROSS_CELL_CHARS`` characters, in the nearest cell that has it (a
        split or a merge of cells moves text into cells with other ids). ``None`` when
        that text is nowhere."""
        cell_id = thread.anchor.get("cell_id")
        own = cell_id if isinstance(cell_id, str) else None
        start, _, last_text = self._last.get(thread.thread_id, (0, 0, ""))
        needles = [n for n in dict.fromkeys([last_text, str(thread.anchor.get("quote", ""))]) if n]
        places: list[tuple[str | None, Any]] = [(own, anchors.text_of(room, own))]
        if room.cells is not None:
            index = self._cell_index.get(thread.thread_id, 0)
            others = sorted(
                (abs(i - index), i, str(cell.get("id")))
                for i, cell in enumerate(room.cells.array)
                if cell.get("id") != own
            )
            places += [(cid, anchors.text_of(room, cid)) for _, _, cid in others]
        for needle in needles:
            for place, (cid, text) in enumerate(places):
                if text is None or (place > 0 and len(needle) < CROSS_CELL_CHARS):
                    continue
                at = anchors.find_quote(str(text), needle, start if place == 0 else 0)
                if at is None:
                    continue
                self._last[thread.thread_id] = (at, at + len(needle), needle)
                anchor = {**thread.anchor, "cell_id": cid} if cid is not None else thread.anchor
                return anchors.cover(anchor, text, at, at + len(needle))
        return None

    def _cells_moved(self, event: h.CellsMoved) -> None:
        """Threads on a cell that is gone are detached (they keep their quote); a cell
        that is back (an undone delete brings the same id) takes its threads again.
        Ranges are checked at once (a moved cell is a copy: a new text)."""
        room = event.room
        threads = self._threads.get(room.doc_id)
        if not threads or room.cells is None:
            return
        if self._has_ranges(room):
            self.check_ranges(room)
        ids = room.cells.ids()
        changed = {
            t.thread_id: (t.anchor, t.anchor["cell_id"] not in ids)
            for t in threads.values()
            if t.anchor.get("kind") == "cell" and (t.anchor["cell_id"] not in ids) != t.detached
        }
        if changed:
            room.spawn(self._store_anchors(room, changed), "detaching comment threads")

    async def _store_anchors(
        self, room: Room, changed: dict[str, tuple[dict[str, Any], bool]]
    ) -> None:
        await self.records.set_anchors(room.doc_id, changed)
        for thread_id in changed:
            fresh = await self.records.thread(thread_id)
            if fresh is not None:
                self._publish(room, fresh)

    def _publish(
        self, room: Room, thread: Thread, sender: Client | None = None, request_id: Any = None
    ) -> None:
        """Tell every client that may see ``thread``; the sender's copy carries its
        request id (the others get ``null``)."""
        self._threads.setdefault(room.doc_id, {})[thread.thread_id] = thread
        self._forget_texts(room.doc_id, thread)
        body = thread_json(thread)
        others = [
            c.channel
            for c in room.clients.values()
            if c is not sender and may_see(thread, c.identity.username, c.role)
        ]
        if others:
            room.relay.broadcast(
                room.doc_id, encode_event({"type": "comment", "id": None, "thread": body}), others
            )
        if sender is not None and sender.channel in room.clients:
            sender.channel.send(encode_event({"type": "comment", "id": request_id, "thread": body}))

    # -- requests -----------------------------------------------------------------------

    async def perform(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        """Carry out one comment request (a room event or a REST call) and tell every
        client of the room that may see the thread.

        Raises:
            CommentRefused: a bad request (``CommentForbidden``: not the sender's to do);
                nothing was changed.
            StoreError: the store failed; nothing was published.
        """
        thread = await self._perform(room, actor, request)
        if request.get("type") != "comment.get":
            self._publish(room, thread)
        return thread

    async def _perform(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        await self._loaded(room)
        operation = self._operations.get(request.get("type"))  # type: ignore[arg-type]
        if operation is None:
            raise CommentRefused(f"unknown comment request {request.get('type')!r}")
        before = self._threads.get(room.doc_id, {}).get(request.get("thread"))  # type: ignore[arg-type]
        try:
            thread = await operation(room, actor, request)
        except (CommentNotFound, Conflict) as gone:  # a race with another request
            raise CommentRefused(f"comment: {gone}") from gone
        if self.notify is not None and request["type"] in NOTIFYING:
            room.spawn(self._tell(room, actor, before, thread), "comment notices")
        return thread

    async def _tell(self, room: Room, actor: Actor, before: Thread | None, thread: Thread) -> None:
        """Notices for a new or edited message: to the people it newly mentions, and, for a
        reply, to the others who wrote in the thread; never to its author, and only to
        people who may see the thread."""
        assert self.notify is not None
        old = {m.message_id: m for m in before.messages} if before is not None else {}
        for message in thread.messages:
            known = old.get(message.message_id)
            if known is not None and known.mentions == message.mentions:
                continue  # not this request's message
            if message.author != actor.username or message.deleted_at is not None:
                continue
            told = {actor.username}
            notices: list[tuple[str, str]] = []
            for username in message.mentions:
                if known is None or username not in known.mentions:
                    notices.append((username, "mention"))
                    told.add(username)
            if known is None and before is not None:  # a reply
                for username in dict.fromkeys([thread.author, *(m.author for m in old.values())]):
                    if username not in told:
                        notices.append((username, "reply"))
                        told.add(username)
            for username, kind in notices:
                role = await self.access.role_of(username, room.path)
                if role is None or not may_see(thread, username, role):
                    continue
                self.notify(
                    username,
                    {
                        "kind": kind,
                        "path": room.path,
                        "thread": thread.thread_id,
                        "message": message.message_id,
                        "by": actor.username,
                        "excerpt": message.body[:200],
                        "at": message.edited_at or message.created_at,
                    },
                )

    def _on_request(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        actor = Actor(client.identity.username, client.role)

        async def run() -> None:
            try:
                thread = await self._perform(room, actor, request)
            except CommentRefused as refused:
                reason = str(refused)
            except Exception as exc:
                log.warning("room %s: a comment request failed: %s", room.doc_id, exc)
                reason = f"comment: not stored: {exc}"
            else:
                if request["type"] == "comment.get":  # an answer to the asker alone
                    if client.channel in room.clients:
                        whole = thread_json(thread)
                        answer = {"type": "comment", "id": request.get("id"), "thread": whole}
                        client.channel.send(encode_event(answer))
                    return
                self._publish(room, thread, client, request.get("id"))
                return
            if client.channel in room.clients:
                room.send_error(client, request.get("id"), reason)

        room.spawn(run(), f"{request['type']} of {actor.username}")

    async def _create(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        self._need(actor, Action.COMMENT, "comment")
        body = self._body(request)
        private = request.get("private", False)
        if not isinstance(private, bool):
            raise CommentRefused('comment: "private" must be true or false')
        suggestion = request.get("suggestion")
        if suggestion is not None and (
            not isinstance(suggestion, str) or len(suggestion.encode()) > self.limits.max_body_bytes
        ):
            raise CommentRefused(
                f"comment: a suggestion must be text of at most {self.limits.max_body_bytes} bytes"
            )
        if len(self._threads.get(room.doc_id, {})) >= self.limits.max_threads:
            raise CommentRefused(
                f"comment: {room.path} has {self.limits.max_threads} threads, the most a "
                "document may have: delete or resolve old ones first"
            )
        anchor = self._anchor(room, request.get("anchor"))
        if suggestion is not None:
            anchor = self._suggested_on(room, anchor, suggestion)
        mentions = await self._mentions(room, request)
        return await self.records.create_thread(
            room.doc_id,
            anchor,
            author=actor.username,
            body=body,
            mentions=mentions,
            private=private,
            suggestion=suggestion,
        )

    async def _reply(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        self._need(actor, Action.COMMENT, "reply")
        thread = self._thread(room, actor, request)
        if len(thread.messages) >= self.limits.max_messages:
            raise CommentRefused(
                f"reply: the thread has {self.limits.max_messages} messages, the most one "
                "may have: start a new thread"
            )
        body = self._body(request)
        mentions = await self._mentions(room, request)
        await self.records.reply(
            thread.thread_id, author=actor.username, body=body, mentions=mentions
        )
        return await self._reread(thread)

    async def _edit(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        self._need(actor, Action.COMMENT, "edit")
        thread, message = self._message(room, actor, request)
        if message.author != actor.username:
            raise CommentForbidden("edit: only its author can edit a message")
        if message.deleted_at is not None:
            raise CommentRefused("edit: the message was deleted")
        body = self._body(request)
        mentions = await self._mentions(room, request)
        await self.records.edit_message(message.message_id, body=body, mentions=mentions)
        return await self._reread(thread)

    async def _delete(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        self._need(actor, Action.COMMENT, "delete")
        thread, message = self._message(room, actor, request)
        if message.author != actor.username and not allows(actor.role, Action.MANAGE):
            raise CommentForbidden("delete: only its author or an owner can delete a message")
        if message.deleted_at is None:
            await self.records.delete_message(message.message_id, by=actor.username)
        return await self._reread(thread)

    async def _get(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        """A whole thread, for its asker only (the snapshot has first messages only)."""
        return self._thread(room, actor, request)

    async def _resolve(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        return await self._set_status(room, actor, request, "resolved")

    async def _reopen(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        return await self._set_status(room, actor, request, "open")

    async def _set_status(
        self, room: Room, actor: Actor, request: dict[str, Any], status: ThreadStatus
    ) -> Thread:
        self._need(actor, Action.COMMENT, "resolve" if status == "resolved" else "reopen")
        thread = self._thread(room, actor, request)
        if thread.status == status:
            return thread
        return await self.records.set_status(thread.thread_id, status, by=actor.username)

    async def _reattach(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        """Point a thread at another cell: its author or an owner, e.g. after its cell
        was deleted."""
        self._need(actor, Action.COMMENT, "reattach")
        thread = self._thread(room, actor, request)
        if thread.author != actor.username and not allows(actor.role, Action.MANAGE):
            raise CommentForbidden("reattach: only its author or an owner can move a thread")
        anchor = self._anchor(room, request.get("anchor"))
        return await self.records.set_anchor(thread.thread_id, anchor, detached=False)

    # -- suggested edits ----------------------------------------------------------------

    def _suggested_on(self, room: Room, anchor: dict[str, Any], suggestion: str) -> dict[str, Any]:
        """The anchor of a new suggestion: its ``quote`` is the whole text it replaces
        (accepting checks that text is still there; undoing puts it back)."""
        if anchor.get("kind") == "cell":
            target = self._target(room, anchor)
            whole = target.current()
            if len(whole.encode()) > self.limits.max_body_bytes:
                raise CommentRefused(
                    f"comment: a suggestion replaces at most {self.limits.max_body_bytes} "
                    "bytes; this cell is longer: suggest a change to a range of it"
                )
            anchor = {**anchor, "quote": whole}
        if anchor.get("quote") == suggestion:
            raise CommentRefused("comment: the suggestion is the text it would replace")
        return anchor

    def _target(self, room: Room, anchor: dict[str, Any]) -> Target:
        """Where the text an anchor covers is now.

        Raises:
            CommentRefused: that text is gone (its cell was deleted).
        """
        if anchor.get("kind") == "cell":
            cell_id = str(anchor.get("cell_id"))
            index = room.cells.index_of(cell_id) if room.cells is not None else None
            source = None if index is None else room.cells.array[index].get("source")  # type: ignore[union-attr]
            if not isinstance(source, Text):
                raise CommentRefused(f"comment: the cell {cell_id!r} is gone")
            return Target(source, 0, len(str(source)), cell_id)
        found = anchors.resolve(room, anchor)
        if found is None or found.start >= found.end:
            raise CommentRefused("comment: the text this thread was on is gone")
        return Target(found.text, found.start, found.end, found.cell_id)

    def _decidable(
        self, room: Room, actor: Actor, request: dict[str, Any], verb: str, state: str
    ) -> Thread:
        if not allows(actor.role, Action.EDIT):
            raise CommentForbidden(
                f"{verb}: {actor.role.label}s cannot change the document; editors and "
                "owners decide on suggestions"
            )
        thread = self._thread(room, actor, request)
        if thread.suggestion is None:
            raise CommentRefused(f"{verb}: the thread suggests no change")
        if thread.suggestion_state != state:
            raise CommentRefused(f"{verb}: the suggestion is {thread.suggestion_state}")
        return thread

    def _swap(self, room: Room, actor: Actor, target: Target, new: str, author: str) -> None:
        """Put ``new`` in place of the target's text, stored as ``author``'s change."""
        if target.cell_id is not None and target.cell_id in room.locked and actor.role < Role.OWNER:
            raise CommentForbidden("comment: the cell is locked; only owners change it")
        with room.doc.transaction(origin=author):
            replace(target, new)
        room.commit(author, "suggestion")

    async def _accept(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        """Make a suggestion's change, as its author's edit, and resolve the thread."""
        self.check_ranges(room)
        thread = self._decidable(room, actor, request, "accept", "open")
        target = self._target(room, thread.anchor)
        if target.current() != thread.anchor.get("quote"):
            raise CommentRefused(
                "accept: the text changed since the suggestion was made; ask for a new one"
            )
        assert thread.suggestion is not None
        self._swap(room, actor, target, thread.suggestion, thread.author)
        await self._refresh_anchor(room, thread, target, thread.suggestion)
        await self.records.decide_suggestion(thread.thread_id, "accepted", by=actor.username)
        if thread.status != "resolved":
            await self.records.set_status(thread.thread_id, "resolved", by=actor.username)
        return await self._reread(thread)

    async def _reject(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        thread = self._decidable(room, actor, request, "reject", "open")
        await self.records.decide_suggestion(thread.thread_id, "rejected", by=actor.username)
        if thread.status != "resolved":
            await self.records.set_status(thread.thread_id, "resolved", by=actor.username)
        return await self._reread(thread)

    async def _undo(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        """Put back the text an accepted suggestion replaced (the undoer's edit) and
        reopen the suggestion."""
        thread = self._decidable(room, actor, request, "undo", "accepted")
        target = self._target(room, thread.anchor)
        if target.current() != thread.suggestion:
            raise CommentRefused("undo: the text changed since the suggestion was accepted")
        quote = str(thread.anchor.get("quote", ""))
        self._swap(room, actor, target, quote, actor.username)
        await self._refresh_anchor(room, thread, target, quote)
        await self.records.decide_suggestion(thread.thread_id, "open", by=actor.username)
        await self.records.set_status(thread.thread_id, "open", by=actor.username)
        return await self._reread(thread)

    async def _refresh_anchor(self, room: Room, thread: Thread, target: Target, text: str) -> None:
        """After a swap, a range anchor covers exactly the new text (its quote stays the
        text the suggestion replaced)."""
        if thread.anchor.get("kind") != "range":
            return
        fresh = anchors.cover(thread.anchor, target.text, target.start, target.start + len(text))
        await self.records.set_anchor(thread.thread_id, fresh, detached=False)

    # -- checks -------------------------------------------------------------------------

    def _need(self, actor: Actor, action: Action, verb: str) -> None:
        if not allows(actor.role, action):
            raise CommentForbidden(
                f"{verb}: {actor.role.label}s cannot write comments; commenters, editors "
                "and owners can"
            )

    def _anchor(self, room: Room, anchor: Any) -> dict[str, Any]:
        """The anchor of a new thread, checked against the document as it is now."""
        if not isinstance(anchor, dict) or anchor.get("kind") not in ("cell", "range"):
            raise CommentRefused(
                'comment: "anchor" must be {"kind": "cell", "cell_id": ...} or a range'
            )
        if anchor["kind"] == "range":
            try:
                return anchors.parse_range(room, anchor, self.limits.max_quote_chars)
            except anchors.AnchorError as error:
                raise CommentRefused(f"comment: {error}") from error
        cell_id = anchor.get("cell_id")
        if room.kind != "notebook" or room.cells is None:
            raise CommentRefused("comment: only notebooks have cells; anchor on a range")
        index = room.cells.index_of(cell_id) if isinstance(cell_id, str) else None
        if index is None:
            raise CommentRefused(f"comment: no cell {cell_id!r} in {room.path}")
        # what the cell said, shown with the thread if the cell is deleted
        source = str(room.cells.array[index].get("source", ""))
        quote = source[: self.limits.max_cell_quote_chars]
        return {"kind": "cell", "cell_id": cell_id, "quote": quote}

    def _body(self, request: dict[str, Any]) -> str:
        body = request.get("body")
        if not isinstance(body, str) or not body.strip():
            raise CommentRefused('comment: "body" must be non-empty text')
        if len(body.encode()) > self.limits.max_body_bytes:
            raise CommentRefused(
                f"comment: the message is longer than {self.limits.max_body_bytes} bytes "
                "(CollabApp.comment_max_body_bytes)"
            )
        return body

    async def _mentions(self, room: Room, request: dict[str, Any]) -> list[str]:
        """The people a message mentions: each must hold a role on the document."""
        mentions = request.get("mentions", [])
        if not isinstance(mentions, list) or not all(isinstance(m, str) and m for m in mentions):
            raise CommentRefused('comment: "mentions" must be a list of usernames')
        if len(mentions) > self.limits.max_mentions:
            raise CommentRefused(
                f"comment: at most {self.limits.max_mentions} people can be mentioned"
            )
        mentions = list(dict.fromkeys(mentions))
        outside = [m for m in mentions if await self.access.role_of(m, room.path) is None]
        if outside:
            names = ", ".join(outside)
            raise CommentRefused(f"comment: {names} cannot be mentioned: no role on {room.path}")
        return mentions

    def _thread(self, room: Room, actor: Actor, request: dict[str, Any]) -> Thread:
        thread_id = request.get("thread")
        threads = self._threads.get(room.doc_id, {})
        thread = threads.get(thread_id) if isinstance(thread_id, str) else None
        # a private thread one may not see is answered like one that does not exist
        if thread is None or not may_see(thread, actor.username, actor.role):
            raise CommentRefused(f"comment: no thread {thread_id!r} in {room.path}")
        return thread

    def _message(self, room: Room, actor: Actor, request: dict[str, Any]) -> tuple[Thread, Message]:
        thread = self._thread(room, actor, request)
        message_id = request.get("message")
        for message in thread.messages:
            if message.message_id == message_id:
                return thread, message
        raise CommentRefused(f"comment: no message {message_id!r} in that thread")

    async def _reread(self, thread: Thread) -> Thread:
        fresh = await self.records.thread(thread.thread_id)
        if fresh is None:  # threads are never removed
            raise CommentNotFound(f"thread {thread.thread_id} is gone")
        return fresh
