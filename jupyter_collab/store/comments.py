"""Comment threads and their messages, as stored (``CommentRecords``). Threads are kept by
their document's ``doc_id``: they follow a file through renames and outlive its delete.

This module records. Who may comment, edit, resolve or see a private thread is the
comment service's question, and what an anchor points at is the anchoring core's: here
an anchor is an opaque JSON object. It refuses only what cannot be: an unknown thread or
message, a change to a deleted message, a decision on a suggestion nobody made.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlite_utils

from ..errors import CommentNotFound, Conflict, RoomNotFound
from .migrations import atomic
from .records import Message, SuggestionState, Thread, ThreadStatus, ThreadView
from .worker import SQLiteWorker

THREAD_STATUSES: tuple[ThreadStatus, ...] = ("open", "resolved")
SUGGESTION_STATES: tuple[SuggestionState, ...] = ("open", "accepted", "rejected")

_THREAD_COLUMNS = (
    "t.thread_id, t.doc_id, t.anchor, t.author, t.created_at, t.private, t.status, "
    "t.resolved_by, t.resolved_at, t.detached, t.suggestion, t.suggestion_state, "
    "t.suggestion_decided_by, t.suggestion_decided_at"
)
_MESSAGE_COLUMNS = (
    "m.message_id, m.thread_id, m.author, m.body, m.mentions, m.created_at, m.edited_at, "
    "m.deleted_at, m.deleted_by"
)


class CommentRepository:
    """Comment threads in the store's database (implements ``CommentRecords``).

    Every method is one call on the worker; every write is one transaction, and a write
    that is refused (with the error its docstring names) changes nothing.

    Args:
        worker: the process's one SQLite worker.
        clock: the time stamped on threads, messages, edits, deletes and decisions.
    """

    def __init__(self, worker: SQLiteWorker, *, clock: Callable[[], float] = time.time) -> None:
        self._worker = worker
        self._clock = clock

    def _now(self) -> float:
        # milliseconds: SQLite's JSON (``thread_views``) and Python's print such a time
        # the same way, so a thread reads alike from a snapshot and from an event
        return round(self._clock(), 3)

    # -- threads ------------------------------------------------------------------------

    async def create_thread(
        self,
        doc_id: str,
        anchor: dict[str, Any],
        *,
        author: str,
        body: str,
        mentions: Sequence[str] = (),
        private: bool = False,
        suggestion: str | None = None,
    ) -> Thread:
        """Open a thread on a document, with its first message.

        Args:
            anchor: where in the document, as the anchoring core describes it.
            suggestion: text proposed in place of the anchored text; its state starts
                ``"open"``.

        Raises:
            RoomNotFound: no document has that id.
        """
        anchor_json, mentions_json = _anchor_json(anchor), _mentions_json(mentions)
        thread_id, message_id, now = uuid.uuid4().hex, uuid.uuid4().hex, self._now()

        def write() -> Thread:
            db = self._worker.db
            with atomic(db):
                known = db.execute("SELECT 1 FROM documents WHERE doc_id = ?", [doc_id])
                if known.fetchone() is None:
                    raise RoomNotFound(f"no document {doc_id}: cannot comment on it")
                db.execute(
                    "INSERT INTO comment_threads (thread_id, doc_id, anchor, author, "
                    "created_at, private, suggestion, suggestion_state) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        thread_id,
                        doc_id,
                        anchor_json,
                        author,
                        now,
                        int(private),
                        suggestion,
                        None if suggestion is None else "open",
                    ],
                )
                _insert_message(db, message_id, thread_id, author, body, mentions_json, now)
            return _one_thread(db, thread_id)

        return await self._worker.run(write)

    async def set_status(self, thread_id: str, status: ThreadStatus, *, by: str) -> Thread:
        """Resolve (``"resolved"``) or reopen (``"open"``) a thread; reopening forgets who
        resolved it.

        Raises:
            ValueError: ``status`` is neither.
            CommentNotFound: no thread has that id.
        """
        if status not in THREAD_STATUSES:
            raise ValueError(f"a thread's status is 'open' or 'resolved', not {status!r}")
        resolved = (by, self._now()) if status == "resolved" else (None, None)

        def write() -> Thread:
            db = self._worker.db
            with atomic(db):
                _require_thread(db, thread_id)
                db.execute(
                    "UPDATE comment_threads SET status = ?, resolved_by = ?, resolved_at = ? "
                    "WHERE thread_id = ?",
                    [status, *resolved, thread_id],
                )
            return _one_thread(db, thread_id)

        return await self._worker.run(write)

    async def set_anchor(self, thread_id: str, anchor: dict[str, Any], *, detached: bool) -> Thread:
        """Move a thread's anchor (``detached``: the place it pointed at is gone).

        Raises:
            CommentNotFound: no thread has that id.
        """
        anchor_json = _anchor_json(anchor)

        def write() -> Thread:
            db = self._worker.db
            with atomic(db):
                _require_thread(db, thread_id)
                db.execute(
                    "UPDATE comment_threads SET anchor = ?, detached = ? WHERE thread_id = ?",
                    [anchor_json, int(detached), thread_id],
                )
            return _one_thread(db, thread_id)

        return await self._worker.run(write)

    async def set_anchors(
        self, doc_id: str, anchors: Mapping[str, tuple[dict[str, Any], bool]]
    ) -> None:
        """Re-anchor many threads of one document at once: ``{thread_id: (anchor,
        detached)}``, in one transaction.

        Raises:
            CommentNotFound: one of the threads is unknown or on another document (then
                none moves).
        """
        rows = [
            (_anchor_json(anchor), int(detached), thread_id, doc_id)
            for thread_id, (anchor, detached) in anchors.items()
        ]

        def write() -> None:
            db = self._worker.db
            with atomic(db):
                known = {
                    r[0]
                    for r in db.execute(
                        "SELECT thread_id FROM comment_threads WHERE doc_id = ?", [doc_id]
                    )
                }
                missing = sorted(set(anchors) - known)
                if missing:
                    raise CommentNotFound(
                        f"no thread {', '.join(missing)} on document {doc_id}: nothing re-anchored"
                    )
                db.conn.executemany(
                    "UPDATE comment_threads SET anchor = ?, detached = ? "
                    "WHERE thread_id = ? AND doc_id = ?",
                    rows,
                )

        await self._worker.run(write)

    async def decide_suggestion(self, thread_id: str, state: SuggestionState, *, by: str) -> Thread:
        """Accept or reject a thread's suggestion (``"open"`` undoes the decision).

        Raises:
            ValueError: ``state`` is none of ``"open"``, ``"accepted"``, ``"rejected"``.
            CommentNotFound: no thread has that id.
            Conflict: the thread carries no suggestion.
        """
        if state not in SUGGESTION_STATES:
            raise ValueError(f"a suggestion is 'open', 'accepted' or 'rejected', not {state!r}")
        decided = (None, None) if state == "open" else (by, self._now())

        def write() -> Thread:
            db = self._worker.db
            with atomic(db):
                if _require_thread(db, thread_id) is None:
                    raise Conflict(f"thread {thread_id} carries no suggestion to decide")
                db.execute(
                    "UPDATE comment_threads SET suggestion_state = ?, "
                    "suggestion_decided_by = ?, suggestion_decided_at = ? WHERE thread_id = ?",
                    [state, *decided, thread_id],
                )
            return _one_thread(db, thread_id)

        return await self._worker.run(write)

    # -- messages -----------------------------------------------------------------------

    async def reply(
        self, thread_id: str, *, author: str, body: str, mentions: Sequence[str] = ()
    ) -> Message:
        """Add a message at the end of a thread (resolved or not: that is the service's
        rule).

        Raises:
            CommentNotFound: no thread has that id.
        """
        mentions_json = _mentions_json(mentions)
        message_id, now = uuid.uuid4().hex, self._now()

        def write() -> Message:
            db = self._worker.db
            with atomic(db):
                _require_thread(db, thread_id)
                _insert_message(db, message_id, thread_id, author, body, mentions_json, now)
            return _require_message(db, message_id)

        return await self._worker.run(write)

    async def edit_message(
        self, message_id: str, *, body: str, mentions: Sequence[str] = ()
    ) -> Message:
        """Replace a message's body and mentions, and stamp ``edited_at``.

        Raises:
            CommentNotFound: no message has that id.
            Conflict: the message was deleted.
        """
        mentions_json, now = _mentions_json(mentions), self._now()

        def write() -> Message:
            db = self._worker.db
            with atomic(db):
                _require_live_message(db, message_id, "edited")
                db.execute(
                    "UPDATE comment_messages SET body = ?, mentions = ?, edited_at = ? "
                    "WHERE message_id = ?",
                    [body, mentions_json, now, message_id],
                )
                _refresh_summary(db, _thread_of(db, message_id))
            return _require_message(db, message_id)

        return await self._worker.run(write)

    async def delete_message(self, message_id: str, *, by: str) -> Message:
        """Empty a message's body and mentions; its row stays as a placeholder that says
        who deleted it and when, so the thread around it reads on.

        Raises:
            CommentNotFound: no message has that id.
            Conflict: the message was deleted already.
        """
        now = self._now()

        def write() -> Message:
            db = self._worker.db
            with atomic(db):
                _require_live_message(db, message_id, "deleted again")
                db.execute(
                    "UPDATE comment_messages SET body = '', mentions = '[]', deleted_at = ?, "
                    "deleted_by = ? WHERE message_id = ?",
                    [now, by, message_id],
                )
                _refresh_summary(db, _thread_of(db, message_id))
            return _require_message(db, message_id)

        return await self._worker.run(write)

    # -- reading ------------------------------------------------------------------------

    async def threads(self, doc_id: str) -> list[Thread]:
        """Every thread of a document, oldest first, each with its messages; private and
        resolved ones included (callers filter). Two queries, however many threads."""

        def read() -> list[Thread]:
            return _read_threads(self._worker.db, "t.doc_id = ?", doc_id)

        return await self._worker.run(read)

    async def thread_views(self, doc_id: str) -> list[ThreadView]:
        """Every thread of a document as clients receive it on opening (brief: its first
        message only; ``docs/PROTOCOL.md``, Comments), written by SQLite's JSON functions
        in one query: a quarter of the time
        ``threads`` and ``json.dumps`` take together (1000 threads of 3 messages: 9 ms
        against 35 ms), for the snapshot a person opening the document waits for. The
        comment service's ``thread_json(brief=True)`` is the same (a test holds them equal)."""

        def read() -> list[ThreadView]:
            rows = self._worker.db.execute(_VIEW_QUERY, [doc_id])
            return [ThreadView(t, author, bool(private), text) for t, author, private, text in rows]

        return await self._worker.run(read)

    async def thread(self, thread_id: str) -> Thread | None:
        def read() -> Thread | None:
            found = _read_threads(self._worker.db, "t.thread_id = ?", thread_id)
            return found[0] if found else None

        return await self._worker.run(read)

    async def message(self, message_id: str) -> Message | None:
        """One message, e.g. to learn its author and thread before an edit."""

        def read() -> Message | None:
            return _read_message(self._worker.db, message_id)

        return await self._worker.run(read)

    async def count_threads(self, doc_id: str) -> int:
        """How many threads a document has (all of them), without loading any."""

        def read() -> int:
            row = self._worker.db.execute(
                "SELECT COUNT(*) FROM comment_threads WHERE doc_id = ?", [doc_id]
            ).fetchone()
            return int(row[0])

        return await self._worker.run(read)


# -- on the worker thread ---------------------------------------------------------------

# A thread as the comment service's ``thread_json`` writes it; a deleted message shows
# no body and no mentions.
_VIEW_QUERY = """
SELECT t.thread_id, t.author, t.private, json_set(json_patch('{}', json_object(
    'id', t.thread_id, 'author', t.author,
    'created_at', t.created_at, 'private', iif(t.private, json('true'), NULL),
    'status', t.status, 'resolved_by', t.resolved_by, 'resolved_at', t.resolved_at,
    'detached', iif(t.detached, json('true'), NULL),
    'suggestion', t.suggestion, 'suggestion_state', t.suggestion_state,
    'suggestion_decided_by', t.suggestion_decided_by,
    'suggestion_decided_at', t.suggestion_decided_at,
    'message_count', t.summary -> '$.message_count',
    'participants', nullif(t.summary -> '$.participants', '[]'),
    'mentioned', nullif(t.summary -> '$.mentioned', '[]'),
    'last_author', t.summary ->> '$.last_author',
    'last_at', t.summary -> '$.last_at',
    'messages', json_array(json_patch('{}', json_object(
        'id', m.message_id, 'author', m.author,
        'body', iif(m.deleted_at IS NULL, m.body, ''),
        'mentions', iif(m.deleted_at IS NULL, json(nullif(m.mentions, '[]')), NULL),
        'created_at', m.created_at, 'edited_at', m.edited_at,
        'deleted', iif(m.deleted_at IS NULL, NULL, json('true')),
        'deleted_by', m.deleted_by))))), '$.anchor', json(t.anchor))
FROM comment_threads t
JOIN comment_messages m
    ON m.n = (SELECT MIN(n) FROM comment_messages WHERE thread_id = t.thread_id)
WHERE t.doc_id = ? ORDER BY t.n
"""

# What a thread's messages add up to, kept on the thread (``comment_threads.summary``)
# by every write of a message: how many, who wrote (in order of their first message),
# who is mentioned in messages not deleted (in order), and the last such message's
# author and time. ``thread_json`` computes the same from the records.
SUMMARY_SQL = """
UPDATE comment_threads SET summary = json_object(
    'message_count', (
        SELECT COUNT(*) FROM comment_messages WHERE thread_id = comment_threads.thread_id),
    'participants', (
        SELECT json_group_array(author) FROM (
            SELECT author, MIN(n) AS first FROM comment_messages
            WHERE thread_id = comment_threads.thread_id GROUP BY author ORDER BY first)),
    'mentioned', (
        SELECT json_group_array(value) FROM (
            SELECT j.value AS value, MIN(m.n * 1000 + j.key) AS first
            FROM comment_messages m, json_each(m.mentions) j
            WHERE m.thread_id = comment_threads.thread_id AND m.deleted_at IS NULL
            GROUP BY j.value ORDER BY first)),
    'last_author', (
        SELECT author FROM comment_messages
        WHERE thread_id = comment_threads.thread_id AND deleted_at IS NULL
        ORDER BY n DESC LIMIT 1),
    'last_at', (
        SELECT created_at FROM comment_messages
        WHERE thread_id = comment_threads.thread_id AND deleted_at IS NULL
        ORDER BY n DESC LIMIT 1))
"""


def _anchor_json(anchor: dict[str, Any]) -> str:
    if not isinstance(anchor, dict):
        raise TypeError(f"an anchor is a JSON object (a dict), not {type(anchor).__name__}")
    return json.dumps(anchor, separators=(",", ":"), allow_nan=False)


def _mentions_json(mentions: Sequence[str]) -> str:
    if isinstance(mentions, str) or not all(isinstance(m, str) for m in mentions):
        raise TypeError(f"mentions are a list of usernames, not {mentions!r}")
    return json.dumps(list(mentions))


def _insert_message(
    db: sqlite_utils.Database,
    message_id: str,
    thread_id: str,
    author: str,
    body: str,
    mentions_json: str,
    now: float,
) -> None:
    db.execute(
        "INSERT INTO comment_messages (message_id, thread_id, author, body, mentions, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [message_id, thread_id, author, body, mentions_json, now],
    )
    _refresh_summary(db, thread_id)


def _refresh_summary(db: sqlite_utils.Database, thread_id: str) -> None:
    """Write down what a thread's messages add up to (``SUMMARY_SQL``), in the write's
    transaction: the snapshot on opening reads it instead of aggregating messages."""
    db.execute(SUMMARY_SQL + " WHERE thread_id = ?", [thread_id])


def _thread_of(db: sqlite_utils.Database, message_id: str) -> str:
    row = db.execute(
        "SELECT thread_id FROM comment_messages WHERE message_id = ?", [message_id]
    ).fetchone()
    return str(row[0])


def _require_thread(db: sqlite_utils.Database, thread_id: str) -> str | None:
    """Raise ``CommentNotFound`` for an unknown thread; return its suggestion."""
    row = db.execute(
        "SELECT suggestion FROM comment_threads WHERE thread_id = ?", [thread_id]
    ).fetchone()
    if row is None:
        raise CommentNotFound(f"no comment thread {thread_id}")
    return None if row[0] is None else str(row[0])


def _require_message(db: sqlite_utils.Database, message_id: str) -> Message:
    message = _read_message(db, message_id)
    if message is None:
        raise CommentNotFound(f"no comment message {message_id}")
    return message


def _require_live_message(db: sqlite_utils.Database, message_id: str, verb: str) -> None:
    if _require_message(db, message_id).deleted:
        raise Conflict(f"comment message {message_id} was deleted: it cannot be {verb}")


def _message(row: Sequence[Any]) -> Message:
    message_id, thread_id, author, body, mentions, created, edited, deleted, deleted_by = row
    return Message(
        message_id,
        thread_id,
        author,
        body,
        tuple(json.loads(mentions)),
        created,
        edited,
        deleted,
        deleted_by,
    )


def _read_message(db: sqlite_utils.Database, message_id: str) -> Message | None:
    row = db.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM comment_messages m WHERE m.message_id = ?",
        [message_id],
    ).fetchone()
    return _message(row) if row else None


def _read_threads(db: sqlite_utils.Database, where: str, key: str) -> list[Thread]:
    """The threads matching ``where`` (on ``t``, the threads table) with their messages:
    one query for the threads, one for all of their messages."""
    messages: dict[str, list[Message]] = {}
    for row in db.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM comment_messages m "
        f"JOIN comment_threads t ON t.thread_id = m.thread_id WHERE {where} ORDER BY m.n",
        [key],
    ):
        message = _message(row)
        messages.setdefault(message.thread_id, []).append(message)
    return [
        Thread(
            thread_id=thread_id,
            doc_id=doc_id,
            anchor=json.loads(anchor),
            author=author,
            created_at=created_at,
            private=bool(private),
            status=status,
            resolved_by=resolved_by,
            resolved_at=resolved_at,
            detached=bool(detached),
            suggestion=suggestion,
            suggestion_state=suggestion_state,
            suggestion_decided_by=decided_by,
            suggestion_decided_at=decided_at,
            messages=tuple(messages.get(thread_id, ())),
        )
        for (
            thread_id,
            doc_id,
            anchor,
            author,
            created_at,
            private,
            status,
            resolved_by,
            resolved_at,
            detached,
            suggestion,
            suggestion_state,
            decided_by,
            decided_at,
        ) in db.execute(
            f"SELECT {_THREAD_COLUMNS} FROM comment_threads t WHERE {where} ORDER BY t.n", [key]
        )
    ]


def _one_thread(db: sqlite_utils.Database, thread_id: str) -> Thread:
    (thread,) = _read_threads(db, "t.thread_id = ?", thread_id)
    return thread
