"""Activity, runs and presenting, as a service of the room hook table.

- **Activity.** Every client update is counted in the ``ActivityBook``
  (``jupyter_collab/activity.py``): edits, characters typed (``updates.inserted_text``),
  the cell it changed (the sender's cell), and whether someone else changed that cell a
  moment before (a concurrent edit). Every ``interval_seconds`` each room with people
  gets an ``activity`` event with its own numbers (nobody named), and the owners'
  presence feeds get every person's and document's numbers (``PresenceFeed.to_owners``),
  each only when it changed.
- **Runs.** A client's ``run`` event says its JupyterLab started or ended running a cell;
  the server stamps who (the connection's identity, never the event's), keeps the latest
  run of each cell, stores every run (``ExecutionRecords``) and tells the room, so every
  cell shows "run by Bob". A run whose runner left before its end becomes ``unknown``.
- **Presenting.** An owner of a document presents it (``present``); everyone in it hears
  who (``presenting``) and follows in their JupyterLab. It ends when the presenter stops
  or their connection closes.

docs/PROTOCOL.md has the events; the class dashboard and the Collaborators panel read
the owners' feed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..activity import BUCKET_SECONDS, ActivityBook, PersonActivity
from ..permissions import Role
from ..presence import PresenceFeed
from ..protocol import encode_event
from ..store.records import RunStatus
from . import hooks as h
from .ports import ExecutionRecords
from .tasks import Tasks
from .updates import inserted_text

if TYPE_CHECKING:
    from .identity import Client
    from .room import Room

log = logging.getLogger(__name__)

MAX_ENAME = 100
# a row of the owners' feed whose numbers alone changed (rates, sparklines: every tick
# while someone types) is sent again at most this often; a room's event likewise
NUMBERS_SECONDS = 10.0
MAX_PENDING = 10_000  # updates noted before they are counted without waiting for a tick


@dataclass(frozen=True)
class ActivitySettings:
    """How activity is counted (``CollabApp.activity_*``; see ``ActivityService``)."""

    tracking: bool = True
    per_person: bool = True
    interval_seconds: float = 2.0
    away_seconds: float = 300.0
    concurrent_window_seconds: float = 5.0


class ActivityService:
    """Counts activity, keeps runs and who presents, for every room of a registry.

    Args:
        rooms: the registry's live rooms, by doc id.
        feed: the presence feed (owners get the per-person numbers through it).
        executions: where runs are stored.
        tracking: count activity at all (off: no ``activity`` events, no per-person or
            document numbers, no concurrent-edit counts; runs and presenting still work).
        per_person: keep per-person numbers (``CollabApp.activity_per_person``).
        interval_seconds: how often numbers are sent (when they changed).
        away_seconds: without an edit or a move this long, a person is ``away``.
        window_seconds: how close two people's changes of a cell are concurrent.
        clock: wall-clock time, stamped on runs and sent to clients.
        monotonic: the registry's clock (``Client.last_active`` is on it).
    """

    def __init__(
        self,
        rooms: Mapping[str, Room],
        feed: PresenceFeed,
        executions: ExecutionRecords,
        *,
        tracking: bool = True,
        per_person: bool = True,
        interval_seconds: float = 2.0,
        away_seconds: float = 300.0,
        window_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rooms = rooms
        self.feed = feed
        self.executions = executions
        self.tracking = tracking
        self.book = ActivityBook(per_person=per_person, window_seconds=window_seconds)
        self.interval_seconds = interval_seconds
        self.away_seconds = away_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._last_push = 0.0
        # doc id: the last activity event sent to the room, and when
        self._sent_rooms: dict[str, tuple[dict[str, Any], float]] = {}
        self._sent_people = _SentRows()  # (username, path): the row owners were sent
        self._sent_documents = _SentRows()  # path: the row owners were sent
        self._users: dict[str, dict[str, Any]] = {}  # username: identity, as last seen
        self._runs: dict[str, dict[str, dict[str, Any]]] = {}  # doc id: cell: latest run
        self._run_ids: dict[tuple[str, str], asyncio.Future[int]] = {}  # (doc, cell): row
        self._runs_loading: dict[str, asyncio.Future[None]] = {}
        self._presenting: dict[str, dict[str, Any]] = {}  # doc id: presenter
        self._tasks = Tasks("activity: storing a run")
        # client updates not counted yet: (doc id, author, their cell, update, cells)
        self._pending: list[tuple[str, str, str | None, bytes, frozenset[str]]] = []

    def install(self, hooks: h.RoomHooks) -> None:
        if self.tracking:
            hooks.update_accepted.subscribe(self._update_accepted)
            hooks.tick.subscribe(self._tick)
        hooks.joined.subscribe(self._joined)
        hooks.synced.subscribe(self._synced)
        hooks.left.subscribe(self._left)
        hooks.closed.subscribe(self._closed)
        hooks.handle("run", self._run)
        hooks.handle("present", self._present)
        if self.tracking and self.book.per_person:
            self.feed.owner_greeting = self.owners_snapshot

    # -- activity ---------------------------------------------------------------------

    def _update_accepted(self, event: h.UpdateAccepted) -> None:
        # Only noted here, counted in bulk at the next tick (``count_pending``). Counting
        # each update as it came cost ~3 µs in a loop of its own, but ~30 µs in the
        # server, between the socket reads and the fan-out of every keystroke: 7 % of the
        # server's CPU per update at 100 updates a second (bench/activity.py, decision 9).
        if event.origin == "client" and event.client is not None:
            self._pending.append(
                (event.room.doc_id, event.author, event.client.cell, event.update, event.cells)
            )
            if len(self._pending) >= MAX_PENDING:
                self.count_pending()

    def count_pending(self) -> None:
        """Count the client updates noted since the last count, in the book.

        The cell an edit is counted in is the one its sender was in (their awareness
        ``cell``, where JupyterLab types), unless a service already asked the room for
        the cells each update touched: finding those takes a deep observer, ~25 µs a
        keystroke (decision 9). Only text changes count in a cell: typed characters, or a
        deletion alone (an update without structs). A cell's or the notebook's metadata
        changing (the kernel starting writes language_info) is an edit, but of no cell.
        All of them count at the time of the count: a tick is shorter than a bucket.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        now = self._clock()
        began = 0
        for doc_id, author, cell, update, cells in pending:
            chars = inserted_text(update)
            typed = chars > 0 or update[:1] == b"\x00"
            began += len(
                self.book.edited(
                    doc_id,
                    author,
                    now,
                    chars=chars,
                    cells=cells or ((cell,) if cell is not None and typed else ()),
                )
            )
        if began:
            metrics.CONCURRENT_EDITS.inc(began)

    async def _tick(self, event: h.Tick) -> None:
        self.count_pending()
        if event.now - self._last_push < self.interval_seconds:
            return
        self._last_push = event.now
        now = self._clock()
        for room in list(self.rooms.values()):
            if room.clients:
                self._push_room(room, now)
        if self.book.per_person and self.feed.has_owners:
            self._push_owners(now)
        connected = {
            (c.identity.username, room.doc_id)
            for room in self.rooms.values()
            for c in room.clients.values()
        }
        self.book.prune(now, connected)

    def room_event(self, room: Room, now: float) -> dict[str, Any]:
        """The ``activity`` event of one room: its own numbers, nobody named."""
        row = self.book.document_row(room.doc_id, now)
        return {
            "type": "activity",
            "people_active": self._people_active(room),
            "edits_per_min": row["edits_per_min"],
            "concurrent": row["concurrent"],
        }

    def _push_room(self, room: Room, now: float) -> None:
        message = self.room_event(room, now)
        before, at = self._sent_rooms.get(room.doc_id, (None, now))
        if _worth_sending(before, message, now - at):
            self._sent_rooms[room.doc_id] = (message, now)
            room.broadcast_event(message)

    def owners_message(self, now: float) -> dict[str, Any] | None:
        """The feed's next ``activity`` message (owners only): the rows of people and
        documents that changed since the last one, and those gone; ``None`` when nothing
        did. What a row says at once: state, place, runs, errors, cells edited, people
        active, concurrent edits. Its numbers alone (rates, sparklines) move it at most
        every ``NUMBERS_SECONDS``: while a class types they change every tick, and
        sending 100 rows every 2 s was most of what activity cost (bench/activity.py)."""
        people: list[dict[str, Any]] = []
        documents: list[dict[str, Any]] = []
        seen_people: set[tuple[str, str]] = set()
        seen_documents: set[str] = set()
        counted: dict[str, list[str]] = {}  # doc id: who has numbers there
        for username, doc_id in self.book.people:
            counted.setdefault(doc_id, []).append(username)
        for room in list(self.rooms.values()):
            places: dict[str, list[Client]] = {}
            for client in room.clients.values():
                places.setdefault(client.identity.username, []).append(client)
            for username in counted.get(room.doc_id, ()):
                places.setdefault(username, [])  # left, but worked here lately
            for username, clients in places.items():
                person = self.book.people.get((username, room.doc_id))
                if person is None:
                    continue  # connected, but no numbers yet: the presence feed has them
                key = (username, room.path)
                seen_people.add(key)
                place = self._place(room, clients, person, now)
                marks = (person.marks, *place.values())
                if not self._sent_people.due(key, marks, now):
                    continue
                row = {
                    **self.book.person_row(person, now),
                    "user": self._users.get(username, {"username": username}),
                    "path": room.path,
                    "type": room.kind,
                    **place,
                }
                if self._sent_people.put(key, marks, row, now):
                    people.append(row)
            seen_documents.add(room.path)
            people_active = self._people_active(room)
            document = self.book.document_row(room.doc_id, now)
            concurrent = {k: document["concurrent"][k] for k in ("count", "per_min")}
            marks = (people_active, concurrent["count"])
            if self._sent_documents.due(room.path, marks, now):
                row = {
                    "path": room.path,
                    "type": room.kind,
                    "people_active": people_active,
                    "edits_per_min": document["edits_per_min"],
                    "spark": document["spark"],
                    "concurrent": concurrent,
                }
                if self._sent_documents.put(room.path, marks, row, now):
                    documents.append(row)
        gone_people = self._sent_people.forget_all_but(seen_people)
        gone_documents = self._sent_documents.forget_all_but(seen_documents)
        if not (people or documents or gone_people or gone_documents):
            return None
        return {
            "type": "activity",
            "full": False,
            "now": now,
            "people": people,
            "documents": documents,
            "gone": {"people": [list(k) for k in gone_people], "documents": gone_documents},
        }

    def owners_snapshot(self) -> dict[str, Any] | None:
        """Every row the owners' feeds were sent, for an owner's feed that just opened
        (the changes that follow apply to it); ``None`` while there are none, or without
        per-person numbers."""
        people, documents = self._sent_people.rows(), self._sent_documents.rows()
        if not (self.tracking and self.book.per_person and (people or documents)):
            return None
        return {
            "type": "activity",
            "full": True,
            "now": self._clock(),
            "people": people,
            "documents": documents,
            "gone": {"people": [], "documents": []},
        }

    def _place(
        self, room: Room, clients: list[Client], person: PersonActivity, now: float
    ) -> dict[str, Any]:
        """Where a person is and how active, from their connections to ``room``."""
        mono = self._monotonic()
        latest = max(clients, key=lambda c: c.last_active, default=None)
        if latest is None:
            state, last_active = "away", person.last_seen
        else:
            quiet = mono - latest.last_active
            last_active = max(now - quiet, person.last_seen)
            state = (
                "active"
                if quiet < room.idle_after_seconds
                else "idle"
                if quiet < self.away_seconds
                else "away"
            )
        cell = latest.cell if latest is not None else None
        return {
            "cell": cell,
            "cell_index": (
                None if cell is None or room.cells is None else room.cells.index_of(cell)
            ),
            "state": state,
            # whole buckets: while someone types it would change every tick, and the
            # dashboard shows idle time in minutes
            "last_active": float(int(last_active // BUCKET_SECONDS) * BUCKET_SECONDS),
        }

    def _push_owners(self, now: float) -> None:
        message = self.owners_message(now)
        if message is not None:
            self.feed.to_owners(message)

    def _people_active(self, room: Room) -> int:
        mono = self._monotonic()
        return len(
            {
                c.identity.username
                for c in room.clients.values()
                if mono - c.last_active < room.idle_after_seconds
            }
        )

    # -- joining and leaving ----------------------------------------------------------

    def _joined(self, event: h.Joined) -> None:
        self._users[event.client.identity.username] = event.client.identity.to_awareness()
        if event.room.kind == "notebook" and event.room.doc_id not in self._runs_loading:
            self._runs_loading[event.room.doc_id] = self._tasks.spawn(self._load_runs(event.room))

    def _synced(self, event: h.Synced) -> None:
        room, client = event.room, event.client
        loading = self._runs_loading.get(room.doc_id)
        if loading is not None and not loading.done():
            loading.add_done_callback(lambda _: self._send_runs(room, client))
        else:
            self._send_runs(room, client)
        presenter = self._presenting.get(room.doc_id)
        if presenter is not None:
            client.channel.send(encode_event(_presenting_event(presenter)))
        sent = self._sent_rooms.get(room.doc_id)
        if sent is not None:
            client.channel.send(encode_event(sent[0]))

    def _left(self, event: h.Left) -> None:
        room, client = event.room, event.client
        presenter = self._presenting.get(room.doc_id)
        if presenter is not None and presenter["number"] == client.number:
            del self._presenting[room.doc_id]
            room.broadcast_event({"type": "presenting", "by": None})
        username = client.identity.username
        if any(c.identity.username == username for c in room.clients.values()):
            return  # their other window may still say how the run ended
        for cell, run in list(self._runs.get(room.doc_id, {}).items()):
            if run["status"] == "running" and run["by"]["username"] == username:
                self._end_run(room, cell, run, "unknown", None)

    def _closed(self, event: h.Closed) -> None:
        doc_id = event.room.doc_id
        self.count_pending()  # then forget it all: nothing of the room is left behind
        self.book.forget_document(doc_id)
        self._sent_rooms.pop(doc_id, None)
        self._runs.pop(doc_id, None)
        self._runs_loading.pop(doc_id, None)
        self._presenting.pop(doc_id, None)

    # -- runs -------------------------------------------------------------------------

    async def _load_runs(self, room: Room) -> None:
        try:
            stored = await self.executions.latest(room.doc_id)
        except Exception:
            log.exception("room %s: reading its runs failed", room.doc_id)
            return
        runs = self._runs.setdefault(room.doc_id, {})
        for run in stored:
            if run.cell_id in runs:
                continue  # a run that started while they were read is newer
            status = run.status if run.status != "running" else "unknown"  # before a restart
            runs[run.cell_id] = {
                "cell": run.cell_id,
                "by": self._users.get(run.author, {"username": run.author}),
                "started": run.started_at,
                "finished": run.finished_at,
                "status": status,
                "ename": run.ename,
            }

    def _send_runs(self, room: Room, client: Client) -> None:
        runs = self._runs.get(room.doc_id)
        if runs and not room.closed and client.channel in room.clients:
            client.channel.send(encode_event({"type": "runs", "runs": list(runs.values())}))

    def _run(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        request_id = request.get("id")
        cell, phase = request.get("cell"), request.get("phase")
        if room.kind != "notebook" or room.cells is None:
            room.send_error(client, request_id, "run: only notebook cells are run")
            return
        if not client.may_run:
            room.send_error(client, request_id, "run: you may not run code in this notebook")
            return
        if not isinstance(cell, str) or room.cells.index_of(cell) is None:
            room.send_error(client, request_id, "run: no such cell in this notebook")
            return
        runs = self._runs.setdefault(room.doc_id, {})
        if phase == "start":
            self._start_run(room, client, cell, runs)
            return
        status, ename = request.get("status"), request.get("ename")
        if phase != "end" or status not in ("ok", "error"):
            room.send_error(client, request_id, "run: phase is start or end; status ok or error")
            return
        if ename is not None and (not isinstance(ename, str) or not 0 < len(ename) <= MAX_ENAME):
            room.send_error(client, request_id, f"run: ename is 1 to {MAX_ENAME} characters")
            return
        run = runs.get(cell)
        username = client.identity.username
        if run is None or run["status"] != "running" or run["by"]["username"] != username:
            room.send_error(client, request_id, "run: you are not running that cell")
            return
        self._end_run(room, cell, run, status, ename if status == "error" else None)
        if self.tracking:
            self.book.ran(
                room.doc_id, username, self._clock(), cell=cell, ok=status == "ok", ename=ename
            )

    def _start_run(self, room: Room, client: Client, cell: str, runs: dict[str, Any]) -> None:
        earlier = runs.get(cell)
        if earlier is not None and earlier["status"] == "running":
            self._end_run(room, cell, earlier, "unknown", None)  # run again before its end
        now = self._clock()
        identity = client.identity.to_awareness()
        run = runs[cell] = {
            "cell": cell,
            "by": identity,
            "started": now,
            "finished": None,
            "status": "running",
            "ename": None,
        }
        self._users[identity["username"]] = identity
        key = (room.doc_id, cell)
        self._run_ids[key] = self._tasks.spawn(
            self.executions.started(room.doc_id, cell, identity["username"], now)
        )
        room.broadcast_event({"type": "run", **run})

    def _end_run(
        self, room: Room, cell: str, run: dict[str, Any], status: RunStatus, ename: str | None
    ) -> None:
        now = self._clock()
        run.update(finished=now, status=status, ename=ename)
        room.broadcast_event({"type": "run", **run})
        started = self._run_ids.pop((room.doc_id, cell), None)
        if started is not None:
            self._tasks.spawn(self._store_end(started, now, status, ename))

    async def _store_end(
        self, started: asyncio.Future[int], now: float, status: RunStatus, ename: str | None
    ) -> None:
        await self.executions.finished(await started, now, status, ename)

    # -- presenting -------------------------------------------------------------------

    def _present(self, event: h.EventReceived) -> None:
        room, client, request = event.room, event.client, event.event
        on, hold = request.get("on"), request.get("hold", False)
        if client.role < Role.OWNER:
            room.send_error(
                client, request.get("id"), "present: only an owner of this document presents it"
            )
            return
        if not isinstance(on, bool) or not isinstance(hold, bool):
            room.send_error(client, request.get("id"), "present: on and hold are true or false")
            return
        if not on:
            if self._presenting.pop(room.doc_id, None) is not None:
                room.broadcast_event({"type": "presenting", "by": None})
            return
        presenter = self._presenting[room.doc_id] = {
            "number": client.number,
            "by": client.identity.to_awareness(),
            "client_id": min(client.awareness_ids) if client.awareness_ids else None,
            "hold": hold,
        }
        room.broadcast_event(_presenting_event(presenter))

    async def drain(self) -> None:
        """Wait for every stored run (tests, shutdown)."""
        await self._tasks.drain()


class _SentRows:
    """The rows the owners' feeds were sent, by key, and when each row's numbers were."""

    def __init__(self) -> None:
        self._rows: dict[Hashable, tuple[tuple[Any, ...], dict[str, Any], float]] = {}

    def due(self, key: Hashable, marks: tuple[Any, ...], now: float) -> bool:
        """Whether the row is worth making again: it is new, what it says at once
        (``marks``) changed, or its numbers are ``NUMBERS_SECONDS`` old."""
        sent = self._rows.get(key)
        return sent is None or sent[0] != marks or now - sent[2] >= NUMBERS_SECONDS

    def put(self, key: Hashable, marks: tuple[Any, ...], row: dict[str, Any], now: float) -> bool:
        """Keep ``row`` as sent; returns whether it differs from the one sent before."""
        sent = self._rows.get(key)
        self._rows[key] = (marks, row, now)
        return sent is None or sent[1] != row

    def forget_all_but(self, seen: set[Any]) -> list[Any]:
        """Forget the rows not in ``seen``; returns their keys."""
        gone = [key for key in self._rows if key not in seen]
        for key in gone:
            del self._rows[key]
        return gone

    def rows(self) -> list[dict[str, Any]]:
        return [row for _, row, _ in self._rows.values()]


def _worth_sending(before: dict[str, Any] | None, after: dict[str, Any], since: float) -> bool:
    """Whether a room's ``activity`` event says something new: at once when people
    became active or idle or a concurrent edit happened; else, ``since`` the last one
    sent at least ``NUMBERS_SECONDS``, when the edit rate moved by more than a tenth (or
    to or from zero) or a cell's latest concurrent edit moved. While people type the
    rate wobbles and a shared cell's ``last`` moves every tick; telling every client of
    every room each time cost more than counting the edits (bench/activity.py)."""
    if before is None:
        return True
    if before["people_active"] != after["people_active"] or _episodes(before) != _episodes(after):
        return True
    if since < NUMBERS_SECONDS:
        return False
    old, new = int(before["edits_per_min"]), int(after["edits_per_min"])
    moved = before["concurrent"]["cells"] != after["concurrent"]["cells"]
    return moved or (old == 0) != (new == 0) or abs(new - old) > max(2, old / 10)


def _episodes(event: dict[str, Any]) -> tuple[Any, ...]:
    """A room event's concurrent edits, without when each cell's latest was."""
    concurrent = event["concurrent"]
    cells = concurrent["cells"]
    return (concurrent["count"], *sorted((cell, e["count"]) for cell, e in cells.items()))


def _presenting_event(presenter: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "presenting",
        "by": presenter["by"],
        "client_id": presenter["client_id"],
        "hold": presenter["hold"],
    }
