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

import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CollabError, ProtocolError
from ..permissions import Action, Role, allows
from ..protocol import encode_event
from ..store.records import Message, Thread, ThreadStatus
from . import hooks as h
from .ports import Access, CommentRecords

if TYPE_CHECKING:
    from .identity import Client
    from .room import Room

log = logging.getLogger(__name__)


class CommentRefused(ProtocolError):
    """A comment request that cannot be carried out; its sender gets an ``error`` event
    (the connection stays open) or, over REST, HTTP 400. Nothing was changed."""


@dataclass(frozen=True)
class CommentLimits:
    """What one person may put into the comments of one document."""

    max_body_bytes: int = 10 * 1024
    max_threads: int = 2000  # per document, open and resolved
    max_mentions: int = 20  # per message
    max_quote_chars: int = 1000  # the text a range anchor covers when it is made


def thread_json(thread: Thread) -> dict[str, Any]:
    """A thread as clients receive it (``docs/PROTOCOL.md``, Comments)."""
    return {
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
        "messages": [message_json(m) for m in thread.messages],
    }


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


def may_see(thread: Thread, username: str, role: Role) -> bool:
    return not thread.private or thread.author == username or role >= Role.OWNER


class CommentService:
    """Threads of every open room: loaded on opening, changed by ``comment.*`` events."""

    def __init__(
        self, records: CommentRecords, access: Access, limits: CommentLimits | None = None
    ) -> None:
        self.records = records
        self.access = access
        self.limits = limits or CommentLimits()
        self._threads: dict[str, dict[str, Thread]] = {}  # doc id -> thread id -> thread

    def install(self, hooks: h.RoomHooks) -> None:
        hooks.opening.subscribe(self._opening)
        hooks.joined.subscribe(self._joined)
        hooks.client_changed.subscribe(self._client_changed)
        hooks.closed.subscribe(self._closed)
        for kind, command in {
            "comment.create": self._create,
            "comment.reply": self._reply,
            "comment.edit": self._edit,
            "comment.delete": self._delete,
            "comment.resolve": self._resolve,
            "comment.reopen": self._reopen,
        }.items():
            hooks.handle(kind, self._guarded(command))

    # -- what clients see ---------------------------------------------------------------

    def visible(self, room: Room, username: str, role: Role) -> list[Thread]:
        threads = self._threads.get(room.doc_id, {}).values()
        return [t for t in threads if may_see(t, username, role)]

    async def _opening(self, event: h.Opening) -> None:
        room = event.room
        threads = await self.records.threads(room.doc_id)
        self._threads[room.doc_id] = {t.thread_id: t for t in threads}

    def _joined(self, event: h.Joined) -> None:
        # threads are never removed: a client that saw none needs no empty snapshot
        self._send_snapshot(event.room, event.client, even_empty=False)

    def _client_changed(self, event: h.ClientChanged) -> None:
        if event.what == "role":  # an owner sees private threads, others stop seeing them
            self._send_snapshot(event.room, event.client, even_empty=True)

    def _send_snapshot(self, room: Room, client: Client, *, even_empty: bool) -> None:
        threads = self.visible(room, client.identity.username, client.role)
        if threads or even_empty:
            snapshot = {"type": "comments", "threads": [thread_json(t) for t in threads]}
            client.channel.send(encode_event(snapshot))

    def _closed(self, event: h.Closed) -> None:
        self._threads.pop(event.room.doc_id, None)

    def _publish(self, room: Room, thread: Thread, sender: Client, request_id: Any) -> None:
        """Tell every client that may see ``thread``; the sender's copy carries its
        request id (the others get ``null``)."""
        self._threads.setdefault(room.doc_id, {})[thread.thread_id] = thread
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
        if sender.channel in room.clients:
            sender.channel.send(encode_event({"type": "comment", "id": request_id, "thread": body}))

    # -- requests -----------------------------------------------------------------------

    def _guarded(self, command: Any) -> h.Command:
        """Answer a refused request with an ``error`` event; the connection stays open."""

        def handle(event: h.EventReceived) -> None:
            try:
                command(event)
            except CommentRefused as refused:
                event.room.send_error(event.client, event.event.get("id"), str(refused))

        return handle

    def _create(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        self._need(client, Action.COMMENT, "comment")
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
        if suggestion is not None and anchor.get("kind") != "range":
            raise CommentRefused("comment: a suggestion replaces a range of text")
        mentions = self._mentions(request)
        self._spawn(
            room,
            client,
            request.get("id"),
            self._store_thread(
                room, client, request.get("id"), anchor, body, mentions, private, suggestion
            ),
        )

    async def _store_thread(
        self,
        room: Room,
        client: Client,
        request_id: Any,
        anchor: dict[str, Any],
        body: str,
        mentions: list[str],
        private: bool,
        suggestion: str | None,
    ) -> None:
        if not await self._all_may_read(room, client, request_id, mentions):
            return
        thread = await self.records.create_thread(
            room.doc_id,
            anchor,
            author=client.identity.username,
            body=body,
            mentions=mentions,
            private=private,
            suggestion=suggestion,
        )
        self._publish(room, thread, client, request_id)

    def _reply(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        self._need(client, Action.COMMENT, "reply")
        thread = self._thread(room, client, request)
        body = self._body(request)
        mentions = self._mentions(request)

        async def store() -> None:
            if not await self._all_may_read(room, client, request.get("id"), mentions):
                return
            await self.records.reply(
                thread.thread_id, author=client.identity.username, body=body, mentions=mentions
            )
            await self._republish(room, thread.thread_id, client, request.get("id"))

        self._spawn(room, client, request.get("id"), store())

    def _edit(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        self._need(client, Action.COMMENT, "edit")
        thread, message = self._message(room, client, request)
        if message.author != client.identity.username:
            raise CommentRefused("edit: only its author can edit a message")
        if message.deleted_at is not None:
            raise CommentRefused("edit: the message was deleted")
        body = self._body(request)
        mentions = self._mentions(request)

        async def store() -> None:
            if not await self._all_may_read(room, client, request.get("id"), mentions):
                return
            await self.records.edit_message(message.message_id, body=body, mentions=mentions)
            await self._republish(room, thread.thread_id, client, request.get("id"))

        self._spawn(room, client, request.get("id"), store())

    def _delete(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        self._need(client, Action.COMMENT, "delete")
        thread, message = self._message(room, client, request)
        username = client.identity.username
        if message.author != username and not allows(client.role, Action.MANAGE):
            raise CommentRefused("delete: only its author or an owner can delete a message")

        async def store() -> None:
            if message.deleted_at is None:
                await self.records.delete_message(message.message_id, by=username)
            await self._republish(room, thread.thread_id, client, request.get("id"))

        self._spawn(room, client, request.get("id"), store())

    def _resolve(self, event: h.EventReceived) -> None:
        self._set_status(event, "resolved")

    def _reopen(self, event: h.EventReceived) -> None:
        self._set_status(event, "open")

    def _set_status(self, event: h.EventReceived, status: ThreadStatus) -> None:
        room, client, request = event.room, event.client, event.event
        verb = "resolve" if status == "resolved" else "reopen"
        self._need(client, Action.COMMENT, verb)
        thread = self._thread(room, client, request)

        async def store() -> None:
            if thread.status != status:
                await self.records.set_status(thread.thread_id, status, by=client.identity.username)
            await self._republish(room, thread.thread_id, client, request.get("id"))

        self._spawn(room, client, request.get("id"), store())

    def _spawn(
        self, room: Room, client: Client, request_id: Any, work: Coroutine[Any, Any, None]
    ) -> None:
        """Store in the background; a store failure is answered with an ``error`` event
        (nothing was published, so every client still shows the same threads)."""

        async def run() -> None:
            try:
                await work
            except Exception as exc:
                log.warning("room %s: a comment request failed: %s", room.doc_id, exc)
                if client.channel in room.clients:
                    room.send_error(client, request_id, f"comment: not stored: {exc}")

        room.spawn(run(), f"comment request of {client.identity.username}")

    # -- checks -------------------------------------------------------------------------

    def _need(self, client: Client, action: Action, verb: str) -> None:
        if not allows(client.role, action):
            raise CommentRefused(
                f"{verb}: {client.role.label}s cannot write comments; commenters, editors "
                "and owners can"
            )

    def _anchor(self, room: Room, anchor: Any) -> dict[str, Any]:
        """The anchor of a new thread, checked against the document as it is now."""
        if not isinstance(anchor, dict) or anchor.get("kind") not in ("cell", "range"):
            raise CommentRefused(
                'comment: "anchor" must be {"kind": "cell", "cell_id": ...} or a range'
            )
        if anchor["kind"] == "range":
            raise CommentRefused("comment: anchors on a range of text are not served yet")
        cell_id = anchor.get("cell_id")
        if room.kind != "notebook" or room.cells is None:
            raise CommentRefused("comment: only notebooks have cells; anchor on a range")
        if not isinstance(cell_id, str) or cell_id not in room.cells.ids():
            raise CommentRefused(f"comment: no cell {cell_id!r} in {room.path}")
        return {"kind": "cell", "cell_id": cell_id}

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

    def _mentions(self, request: dict[str, Any]) -> list[str]:
        mentions = request.get("mentions", [])
        if not isinstance(mentions, list) or not all(isinstance(m, str) and m for m in mentions):
            raise CommentRefused('comment: "mentions" must be a list of usernames')
        if len(mentions) > self.limits.max_mentions:
            raise CommentRefused(
                f"comment: at most {self.limits.max_mentions} people can be mentioned"
            )
        return list(dict.fromkeys(mentions))

    async def _all_may_read(
        self, room: Room, client: Client, request_id: Any, mentions: list[str]
    ) -> bool:
        """Whether everyone mentioned holds a role on the document; if not, the sender
        is told who does not and nothing is stored."""
        outside = [m for m in mentions if await self.access.role_of(m, room.path) is None]
        if outside and client.channel in room.clients:
            names = ", ".join(outside)
            room.send_error(
                client,
                request_id,
                f"comment: {names} cannot be mentioned: no role on {room.path}",
            )
        return not outside

    def _thread(self, room: Room, client: Client, request: dict[str, Any]) -> Thread:
        thread_id = request.get("thread")
        thread = (
            self._threads.get(room.doc_id, {}).get(thread_id)
            if isinstance(thread_id, str)
            else None
        )
        # a private thread one may not see is answered like one that does not exist
        if thread is None or not may_see(thread, client.identity.username, client.role):
            raise CommentRefused(f"comment: no thread {thread_id!r} in {room.path}")
        return thread

    def _message(
        self, room: Room, client: Client, request: dict[str, Any]
    ) -> tuple[Thread, Message]:
        thread = self._thread(room, client, request)
        message_id = request.get("message")
        for message in thread.messages:
            if message.message_id == message_id:
                return thread, message
        raise CommentRefused(f"comment: no message {message_id!r} in that thread")

    async def _republish(self, room: Room, thread_id: str, client: Client, request_id: Any) -> None:
        thread = await self.records.thread(thread_id)
        if thread is None:  # pragma: no cover - threads are never removed
            raise CollabError(f"thread {thread_id} vanished")
        self._publish(room, thread, client, request_id)
