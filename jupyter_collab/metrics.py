"""Prometheus metrics of the collaboration server, on jupyter_server's ``/metrics``.

Every series is named ``jupyter_collab_*`` and none carries a person: labels are bounded
(an update's origin, a refusal's close-code name). Counters are process-wide, as
prometheus_client keeps them; the gauges (rooms, connections, people) are read from
the live registries when Prometheus scrapes, so they never drift from what is open.
"""

from __future__ import annotations

import bisect
import math
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from .close_codes import CloseCode, StandardCloseCode

if TYPE_CHECKING:  # the store imports this module: nothing of the rooms at run time
    from .rooms import hooks as h
    from .rooms.registry import RoomRegistry

REFUSED = Counter(
    "jupyter_collab_updates_refused",
    "Messages refused on a room socket, by the close code's name (forbidden, too_large, ...).",
    ["reason"],
)
CLOSED = Counter(
    "jupyter_collab_connections_closed",
    "Room connections the server closed, by the close code's name (bad_message, forbidden,"
    " too_large, handshake_timeout, stale_epoch, going_away, ...).",
    ["reason"],
)
CONCURRENT_EDITS = Counter(
    "jupyter_collab_concurrent_edits",
    "Concurrent edits: two people changing the same notebook cell within a few seconds"
    " (one per episode; CollabApp.activity_concurrent_window_seconds).",
)
RATE_LIMITED = Counter(
    "jupyter_collab_connections_rate_limited",
    "Room connections closed for sending messages faster than CollabApp.max_messages_per_second.",
)
DROPPED = Counter(
    "jupyter_collab_connections_dropped",
    "Room connections that ended without a closing handshake (the network or the browser"
    " went away), as opposed to closed by either side.",
)
SAVES = Counter(
    "jupyter_collab_saves",
    "Shared documents written back to their files.",
)

STORE_WRITE_SECONDS = Histogram(
    "jupyter_collab_store_write_seconds",
    "Time to commit one batch of history writes (on the store's worker thread).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
SAVE_SECONDS = Histogram(
    "jupyter_collab_save_seconds",
    "Time to write a shared document back to its file through the ContentsManager.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class _Live(Collector):
    """The gauges, summed over every registry alive in this process."""

    def __init__(self) -> None:
        self.registries: weakref.WeakSet[RoomRegistry] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rooms = connections = 0
        people: set[str] = set()
        for registry in list(self.registries):
            for room in list(registry.rooms.values()):
                rooms += 1
                connections += len(room.clients)
                people.update(c.identity.username for c in room.clients.values())
        yield GaugeMetricFamily("jupyter_collab_rooms", "Shared documents open.", value=rooms)
        yield GaugeMetricFamily(
            "jupyter_collab_connections", "Websocket connections in rooms.", value=connections
        )
        yield GaugeMetricFamily(
            "jupyter_collab_people", "Distinct people connected to any room.", value=len(people)
        )


_LIVE = _Live()
REGISTRY.register(_LIVE)

FANOUT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)


class _PerUpdate(Collector):
    """What every update counts (updates by origin, bytes in and out, fan-out time), in
    plain integers the event loop adds to, read when Prometheus scrapes.

    prometheus_client's ``Counter.inc`` and ``Histogram.observe`` take a lock each, and
    the histogram walks its buckets: ~8 µs an update together, which a class typing at
    100 updates a second paid on every keystroke (bench/activity.py). Only the event loop
    counts here, so no lock is needed; the series are the same as those classes export.
    """

    def __init__(self) -> None:
        self.enabled = False  # a registry installed metrics (process-wide, as counters are)
        self.updates: dict[str, int] = {}  # by origin
        self.bytes_in = 0
        self.bytes_out = 0
        self.fanout_counts = [0] * (len(FANOUT_BUCKETS) + 1)  # the last one: +Inf
        self.fanout_sum = 0.0

    def fanout(self, seconds: float, bytes_out: int) -> None:
        self.fanout_counts[bisect.bisect_left(FANOUT_BUCKETS, seconds)] += 1
        self.fanout_sum += seconds
        self.bytes_out += bytes_out

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        updates = CounterMetricFamily(
            "jupyter_collab_updates",
            "Yjs updates accepted into shared documents, by origin (client, disk, server, ...).",
            labels=["origin"],
        )
        for origin, count in sorted(self.updates.items()):
            updates.add_metric([origin], count)
        yield updates
        yield CounterMetricFamily(
            "jupyter_collab_update_bytes_in",
            "Bytes of the Yjs updates accepted into shared documents.",
            value=self.bytes_in,
        )
        yield CounterMetricFamily(
            "jupyter_collab_update_bytes_out",
            "Bytes of Yjs update messages relayed to this process's connections (one per"
            " recipient).",
            value=self.bytes_out,
        )
        cumulative, buckets = 0, []
        for bound, count in zip((*FANOUT_BUCKETS, math.inf), self.fanout_counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == math.inf else repr(bound), cumulative))
        yield HistogramMetricFamily(
            "jupyter_collab_fanout_seconds",
            "Time to hand one accepted update to every other connection of its room (all"
            " processes' relays included), on the event loop.",
            buckets=buckets,
            sum_value=self.fanout_sum,
        )


PER_UPDATE = _PerUpdate()
REGISTRY.register(PER_UPDATE)


def install(registry: RoomRegistry) -> None:
    """Count what ``registry``'s rooms do, and show its rooms in the gauges."""
    _LIVE.registries.add(registry)
    PER_UPDATE.enabled = True
    hooks = registry.hooks
    hooks.update_accepted.subscribe(_accepted)
    hooks.update_refused.subscribe(_refused)
    hooks.saved.subscribe(_saved)


def _accepted(event: h.UpdateAccepted) -> None:
    updates = PER_UPDATE.updates
    updates[event.origin] = updates.get(event.origin, 0) + 1
    PER_UPDATE.bytes_in += len(event.update)


def _refused(event: h.UpdateRefused) -> None:
    REFUSED.labels(event.error.close_code.name.lower()).inc()


def _saved(event: h.Saved) -> None:
    SAVES.inc()
    SAVE_SECONDS.observe(event.seconds)


def connection_closed(code: int | None) -> None:
    """The server closed a room connection with ``code`` (its name is the label)."""
    for names in (CloseCode, StandardCloseCode):
        if code is not None and code in names._value2member_map_:
            CLOSED.labels(names(code).name.lower()).inc()
            return
    CLOSED.labels("other").inc()
