"""Activity, runs and presenting on a real server (issue 12): alice owns the server, bob
edits and may run code, carol only reads. What each of them sees, and what is kept."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pycrdt import Map

from jupyter_collab import metrics
from tests.clients import YClient

from . import test_roles
from .test_presence_feed import next_message
from .test_roles import auth, token_users

as_user = test_roles.as_user  # the fixture: sessions and sockets as alice, bob or carol

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "id": cell_id,
            "source": f"x = {n}",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for n, cell_id in enumerate(["c1", "c2"])
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def settings(**changes: Any) -> dict[str, Any]:
    """alice owns the server, everyone else reads unless given a role, editors may run
    code, activity is sent every half second; plus ``changes``."""
    return {
        "owners": ["alice"],
        "default_role": "viewer",
        "editors_can_execute": True,
        "activity_interval_seconds": 0.5,
        **changes,
    }


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return settings()


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)


async def open_room(jp_root_dir: Any, as_user: Any) -> dict[str, Any]:
    """lesson.ipynb, where bob edits; returns its session."""
    (jp_root_dir / "lesson.ipynb").write_text(json.dumps(NOTEBOOK))
    await as_user("alice").grant("lesson.ipynb", "bob", "editor")
    return await as_user("alice").session("lesson.ipynb")


def events(client: YClient, kind: str) -> list[dict[str, Any]]:
    return [e for e in client.events if e["type"] == kind]


def counter(series: Any) -> float:
    return float(series._value.get())


async def type_in(client: YClient, cell: int, text: str, seen_by: YClient) -> None:
    """Type ``text`` one keystroke at a time, each seen by ``seen_by`` before the next."""
    source = client.ydoc.ycells[cell]["source"]
    for char in text:
        source.insert(len(str(source)), char)
        await seen_by.wait_for(
            lambda expected=str(source): seen_by.sources()[cell] == expected,
            what=f"{char!r} relayed",
        )


async def test_a_run_shows_who_ran_the_cell_to_everyone_and_is_kept(as_user, jp_root_dir, collab):
    room = await open_room(jp_root_dir, as_user)
    alice = await as_user("alice").client(room)
    bob = await as_user("bob").client(room)

    bob.send_event({"type": "run", "cell": "c2", "phase": "start"})
    await alice.wait_for(lambda: events(alice, "run"), what="the run's start")
    (started,) = events(alice, "run")
    assert started["cell"] == "c2" and started["status"] == "running"
    assert started["by"]["username"] == "bob" and started["by"]["display_name"] == "Bob"
    assert started["finished"] is None

    bob.send_event(
        {"type": "run", "cell": "c2", "phase": "end", "status": "error", "ename": "NameError"}
    )
    await alice.wait_for(lambda: len(events(alice, "run")) == 2, what="the run's end")
    ended = events(alice, "run")[-1]
    assert (ended["status"], ended["ename"]) == ("error", "NameError")
    assert ended["finished"] >= ended["started"]

    # a person who opens the notebook later sees the latest run of each cell
    late = await as_user("carol").client(room)
    await late.wait_for(lambda: events(late, "runs"), what="the runs on joining")
    (snapshot,) = events(late, "runs")
    assert [(r["cell"], r["by"]["username"], r["status"]) for r in snapshot["runs"]] == [
        ("c2", "bob", "error")
    ]

    await collab.registry.activity.drain()
    (stored,) = await collab.store.executions.runs(room["doc_id"])
    assert (stored.cell_id, stored.author, stored.status, stored.ename) == (
        "c2",
        "bob",
        "error",
        "NameError",
    )
    for client in (alice, bob, late):
        await client.disconnect()


async def test_runs_are_refused_to_readers_and_for_unknown_cells(as_user, jp_root_dir, collab):
    room = await open_room(jp_root_dir, as_user)
    bob = await as_user("bob").client(room)
    carol = await as_user("carol").client(room)

    carol.send_event({"type": "run", "cell": "c1", "phase": "start", "id": 1})
    await carol.wait_for(lambda: events(carol, "error"), what="the refusal")
    assert events(carol, "error")[0] == {
        "type": "error",
        "id": 1,
        "reason": "run: you may not run code in this notebook",
    }
    bob.send_event({"type": "run", "cell": "nope", "phase": "start", "id": 2})
    bob.send_event({"type": "run", "cell": "c1", "phase": "end", "status": "ok", "id": 3})
    bob.send_event({"type": "run", "cell": "c1", "phase": "later", "id": 4})
    await bob.wait_for(lambda: len(events(bob, "error")) == 3, what="three refusals")
    assert [e["reason"] for e in events(bob, "error")] == [
        "run: no such cell in this notebook",
        "run: you are not running that cell",
        "run: phase is start or end; status ok or error",
    ]
    # the connections stay open, nothing was announced or kept
    assert bob.ws is not None and carol.ws is not None
    assert events(bob, "run") == [] and events(carol, "run") == []
    await collab.registry.activity.drain()
    assert await collab.store.executions.runs(room["doc_id"]) == []
    await bob.disconnect()
    await carol.disconnect()


async def test_a_run_whose_runner_left_ends_as_unknown(as_user, jp_root_dir, collab):
    room = await open_room(jp_root_dir, as_user)
    alice = await as_user("alice").client(room)
    bob = await as_user("bob").client(room)
    bob.send_event({"type": "run", "cell": "c1", "phase": "start"})
    await alice.wait_for(lambda: events(alice, "run"), what="the run's start")
    await bob.disconnect()
    await alice.wait_for(lambda: len(events(alice, "run")) == 2, what="the run's end")
    assert events(alice, "run")[-1]["status"] == "unknown"
    await collab.registry.activity.drain()
    (stored,) = await collab.store.executions.runs(room["doc_id"])
    assert stored.status == "unknown" and stored.finished_at is not None
    await alice.disconnect()


async def test_two_people_in_one_cell_count_one_concurrent_edit(as_user, jp_root_dir, collab):
    room = await open_room(jp_root_dir, as_user)
    before = counter(metrics.CONCURRENT_EDITS)
    alice = await as_user("alice").client(room)
    bob = await as_user("bob").client(room)

    # an edit counts in the cell its sender is in (their awareness), as JupyterLab types
    alice.set_awareness({"cell": "c1"})
    bob.set_awareness({"cell": "c1"})
    # a change of the notebook's metadata (a kernel starting) is no change of that cell
    bob.doc.get("meta", type=Map)["language_info"] = {"name": "python"}
    await alice.wait_for(
        lambda: "language_info" in alice.doc.get("meta", type=Map), what="the metadata"
    )
    await type_in(alice, 0, "0", seen_by=bob)
    live = collab.registry.rooms[room["doc_id"]]
    collab.registry.activity.count_pending()  # what the next tick would count
    assert collab.registry.activity.book.documents[live.doc_id].concurrent_total == 0
    await type_in(alice, 0, "12", seen_by=bob)
    await type_in(bob, 0, "34", seen_by=alice)
    await type_in(alice, 0, "5", seen_by=bob)  # the same episode: not counted again
    bob.set_awareness({"cell": "c2"}, clock=2)
    await type_in(bob, 1, "6", seen_by=alice)  # another cell, one person: not concurrent

    def concurrent() -> dict[str, Any]:
        sent = events(alice, "activity")
        return sent[-1]["concurrent"] if sent else {}

    await alice.wait_for(lambda: concurrent().get("count") == 1, what="a concurrent edit")
    cells = concurrent()["cells"]
    assert list(cells) == ["c1"] and cells["c1"]["count"] == 1
    assert events(alice, "activity")[-1]["people_active"] == 2
    assert "bob" not in json.dumps(events(alice, "activity"))  # nobody is named
    assert counter(metrics.CONCURRENT_EDITS) - before == 1
    await alice.disconnect()
    await bob.disconnect()


async def test_owners_get_each_persons_numbers_and_nobody_else_does(
    as_user,
    jp_root_dir,
    collab,
    jp_ws_fetch,
):
    room = await open_room(jp_root_dir, as_user)
    owner_feed = await jp_ws_fetch("api", "collab", "presence", headers=auth("alice"))
    bob_feed = await jp_ws_fetch("api", "collab", "presence", headers=auth("bob"))
    assert (await next_message(owner_feed))["owner"] is True
    assert (await next_message(bob_feed))["owner"] is False

    alice = await as_user("alice").client(room)
    bob = await as_user("bob").client(room)
    bob.set_awareness({"cell": "c2"})
    await type_in(bob, 1, "hello", seen_by=alice)
    bob.send_event({"type": "run", "cell": "c2", "phase": "start"})
    bob.send_event(
        {"type": "run", "cell": "c2", "phase": "end", "status": "error", "ename": "ValueError"}
    )

    # the feed sends rows that changed: keep them all, as the dashboard does
    people: dict[tuple[str, str], dict[str, Any]] = {}
    documents: dict[str, dict[str, Any]] = {}

    def bobs_row() -> dict[str, Any] | None:
        return people.get(("bob", "lesson.ipynb"))

    # a row's numbers alone move it every 10 s at most: the whole wait is bounded
    deadline = asyncio.get_running_loop().time() + 30
    while (
        (row := bobs_row()) is None
        or row["runs"]["error"] != 1
        or row["typing_cpm"] != 5
        or documents.get("lesson.ipynb", {}).get("edits_per_min") != 5
    ):
        left = deadline - asyncio.get_running_loop().time()
        message = await next_message(owner_feed, timeout=max(left, 0.01))
        if message["type"] == "activity":
            for username, path in message["gone"]["people"]:
                people.pop((username, path), None)
            people.update({(p["username"], p["path"]): p for p in message["people"]})
            documents.update({d["path"]: d for d in message["documents"]})
    assert row["path"] == "lesson.ipynb" and row["state"] == "active"
    assert row["edits_per_min"] == 5 and row["cells_edited"] == 1
    assert row["cell"] == "c2" and row["cell_index"] == 1
    assert row["last_error"]["name"] == "ValueError" and row["last_error"]["cell"] == "c2"
    assert len(row["spark"]) == 20 and sum(row["spark"]) == 5
    assert row["user"]["display_name"] == "Bob"
    assert list(documents) == ["lesson.ipynb"]

    # an owner who opens the feed later, while nothing changes, gets every row at once
    late_feed = await jp_ws_fetch("api", "collab", "presence", headers=auth("alice"))
    assert (await next_message(late_feed))["type"] == "snapshot"
    everything = await next_message(late_feed, timeout=2)
    assert everything["type"] == "activity" and everything["full"] is True
    assert {(p["username"], p["path"]): p for p in everything["people"]} == people
    assert {d["path"]: d for d in everything["documents"]} == documents
    late_feed.close()

    # bob's feed had the same changes to carry, but never an activity message
    bob.set_awareness({"cell": "c1"}, clock=2)
    while (update := await next_message(bob_feed))["type"] != "update" or not any(
        e["cell"] == "c1" for e in update["set"]
    ):
        assert update["type"] != "activity"
    owner_feed.close()
    bob_feed.close()
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize("collab_config", [settings(activity_per_person=False)])
async def test_with_per_person_numbers_off_nothing_per_person_is_kept(as_user, jp_root_dir, collab):
    room = await open_room(jp_root_dir, as_user)
    alice = await as_user("alice").client(room)
    bob = await as_user("bob").client(room)
    alice.set_awareness({"cell": "c1"})
    bob.set_awareness({"cell": "c1"})
    await type_in(alice, 0, "1", seen_by=bob)
    await type_in(bob, 0, "2", seen_by=alice)
    bob.send_event({"type": "run", "cell": "c1", "phase": "start"})
    bob.send_event({"type": "run", "cell": "c1", "phase": "end", "status": "ok"})
    await alice.wait_for(lambda: len(events(alice, "run")) == 2, what="the run")

    collab.registry.activity.count_pending()  # what the next tick would count
    book = collab.registry.activity.book
    assert book.people == {}  # no per-person numbers at all
    assert book.documents[room["doc_id"]].concurrent_total == 1  # the document's are kept
    assert events(alice, "run")[-1]["by"]["username"] == "bob"  # and who ran what
    await alice.disconnect()
    await bob.disconnect()


async def test_only_an_owner_presents_and_everyone_in_the_document_hears(as_user, jp_root_dir):
    room = await open_room(jp_root_dir, as_user)
    alice = await as_user("alice").client(room)
    bob = await as_user("bob").client(room)
    alice.set_awareness({"cell": "c1"})

    bob.send_event({"type": "present", "on": True, "id": 7})
    await bob.wait_for(lambda: events(bob, "error"), what="the refusal")
    assert (
        events(bob, "error")[0]["reason"] == "present: only an owner of this document presents it"
    )

    alice.send_event({"type": "present", "on": True, "hold": True})
    await bob.wait_for(lambda: events(bob, "presenting"), what="presenting")
    (presenting,) = events(bob, "presenting")
    assert presenting["by"]["username"] == "alice" and presenting["hold"] is True
    assert presenting["client_id"] == alice.doc.client_id

    carol = await as_user("carol").client(room)  # joins while alice presents
    await carol.wait_for(lambda: events(carol, "presenting"), what="presenting on join")
    assert events(carol, "presenting")[0]["by"]["username"] == "alice"

    await alice.disconnect()  # the presenter's connection closes: it ends
    await bob.wait_for(lambda: len(events(bob, "presenting")) == 2, what="the end")
    assert events(bob, "presenting")[-1] == {"type": "presenting", "by": None}
    await bob.disconnect()
    await carol.disconnect()


@pytest.mark.parametrize("collab_config", [settings(max_messages_per_second=1, message_burst=5)])
async def test_a_flooding_connection_is_closed_and_the_room_carries_on(
    as_user, jp_root_dir, collab
):
    room = await open_room(jp_root_dir, as_user)
    before = counter(metrics.RATE_LIMITED)
    alice = await as_user("alice").client(room)
    bob = await as_user("bob").client(room)
    for clock in range(1, 20):
        bob.set_awareness({"cell": "c1"}, clock=clock)
    assert await bob.wait_closed() == 4429
    assert "messages a second" in (bob.close_reason or "")
    assert counter(metrics.RATE_LIMITED) - before == 1

    alice.ydoc.ycells[0]["source"].insert(5, "0")
    live = collab.registry.rooms[room["doc_id"]]
    await alice.wait_for(lambda: live.content()["cells"][0]["source"] == "x = 00")
    await alice.disconnect()


async def test_a_connection_that_vanishes_counts_as_dropped(as_user, jp_root_dir, collab):
    room = await open_room(jp_root_dir, as_user)
    before = counter(metrics.DROPPED)
    alice = await as_user("alice").client(room)
    live = collab.registry.rooms[room["doc_id"]]
    assert alice.ws is not None
    alice.ws.protocol.stream.close()  # no close frame: the network went away
    await alice.wait_for(lambda: not live.clients, what="the server to notice")
    assert counter(metrics.DROPPED) - before == 1
