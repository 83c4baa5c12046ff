"""The server's Prometheus metrics: ``jupyter_collab_*`` series on jupyter_server's own
``/metrics``, moved by what clients do, and none naming a person."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import HTTPClientError

from .test_websocket import BAD_INPUTS, collab_config, pair  # noqa: F401 (a fixture)


async def scrape(jp_fetch: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every ``jupyter_collab_*`` sample of one scrape, by name and labels."""
    response = await jp_fetch("metrics")
    assert response.code == 200
    samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            if sample.name.startswith("jupyter_collab_"):
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_typing_moves_the_update_counters_and_the_gauges_count_what_is_open(
    jp_root_dir, jp_ws_fetch, jp_fetch, open_session, collab
):
    before = await scrape(jp_fetch)
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    room = collab.registry.rooms[session["doc_id"]]

    for i in range(5):
        alice.ydoc.ycells[0]["source"].insert(5 + i, str(i))
    await alice.wait_for(
        lambda: room.content()["cells"][0]["source"] == "x = 101234",
        what="the room to apply alice's typing",
    )
    during = await scrape(jp_fetch)

    typed = value(during, "jupyter_collab_updates_total", origin="client") - value(
        before, "jupyter_collab_updates_total", origin="client"
    )
    assert typed >= 1  # consecutive keystrokes may arrive as fewer updates
    assert value(during, "jupyter_collab_update_bytes_in_total") > value(
        before, "jupyter_collab_update_bytes_in_total"
    )
    # bob got alice's typing: the fan-out was timed; the store committed it, and timed that
    await bob.wait_for(lambda: bob.sources() == ["x = 101234"], what="bob to get the typing")
    await collab.store.history.flush()
    during = await scrape(jp_fetch)
    assert value(during, "jupyter_collab_update_bytes_out_total") > value(
        before, "jupyter_collab_update_bytes_out_total"
    )
    for histogram in ("jupyter_collab_fanout_seconds", "jupyter_collab_store_write_seconds"):
        assert value(during, f"{histogram}_count") > value(before, f"{histogram}_count")
        assert value(during, f"{histogram}_bucket", le="+Inf") == value(
            during, f"{histogram}_count"
        )
    # the file is written back: a save, timed (the debounced save of the typing may have
    # come too)
    await room.save(force=True)
    during = await scrape(jp_fetch)
    saves = value(during, "jupyter_collab_saves_total") - value(
        before, "jupyter_collab_saves_total"
    )
    timed = value(during, "jupyter_collab_save_seconds_count") - value(
        before, "jupyter_collab_save_seconds_count"
    )
    assert saves >= 1 and timed == saves
    assert value(during, "jupyter_collab_rooms") >= 1
    assert value(during, "jupyter_collab_connections") >= 2
    assert value(during, "jupyter_collab_people") >= 1
    # no series carries a person or a document
    assert all(dict(labels).keys() <= {"origin", "reason", "le"} for _, labels in during)

    await alice.disconnect()
    await bob.disconnect()
    await alice.wait_for(lambda: not room.clients, what="both clients to leave the room")
    after = await scrape(jp_fetch)
    assert (
        value(after, "jupyter_collab_connections")
        == value(during, "jupyter_collab_connections") - 2
    )


def by_reason(before: dict, after: dict, name: str) -> dict[str, float]:
    """How much each reason of ``name`` grew between two scrapes (those that did)."""
    grown = {
        dict(labels)["reason"]: v - before.get((n, labels), 0.0)
        for (n, labels), v in after.items()
        if n == name
    }
    return {reason: n for reason, n in grown.items() if n}


@pytest.mark.parametrize(
    "case, refused",
    [
        ("malformed bytes", {}),  # not an update: only the connection is counted
        ("update rejected by pycrdt", {"bad_message": 1}),
        ("oversized message", {}),
    ],
)
async def test_a_refused_message_is_counted_by_its_reason(
    case, refused, jp_root_dir, jp_ws_fetch, jp_fetch, open_session, collab
):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)
    data, code = BAD_INPUTS[case]
    before = await scrape(jp_fetch)

    alice.send_raw(data)
    assert await alice.wait_closed() == code

    after = await scrape(jp_fetch)
    name = {4400: "bad_message", 4413: "too_large"}[code]
    assert by_reason(before, after, "jupyter_collab_connections_closed_total") == {name: 1}
    assert by_reason(before, after, "jupyter_collab_updates_refused_total") == refused
    # bob and the room carry on
    assert (
        value(after, "jupyter_collab_connections")
        == value(before, "jupyter_collab_connections") - 1
    )


async def test_metrics_need_a_login(jp_fetch):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("metrics", headers={"Authorization": ""})
    assert refused.value.code == 403
