"""Fan-out readers in worker processes, and latency statistics.

Each worker process holds a share of the N readers of one room. A reader answers the
sync handshake, then for every sync update records (clock of the writer's struct,
arrival time). It parses only the message header: the writer's keystroke k is the
struct (writer client id, clock k), so nothing needs decoding. One reader per worker
("verifier") also applies every update to a pycrdt document, and at the end its
cell text is compared with the writer's, so convergence is checked on real replicas.

``time.monotonic`` is CLOCK_MONOTONIC, one clock for all processes of the machine,
so arrival times compare directly with the writer's send times.

Commands on the pipe: ("connect", spec) -> ("connected", {...}); ("collect", spec)
-> ("data", {...}) after the readers received the last keystroke (or a timeout),
closing the readers; ("quit", None).
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from typing import Any

import psutil
from client import (
    STEP1,
    STEP1_EMPTY,
    STEP2,
    STEP2_EMPTY,
    SYNC,
    UPDATE,
    WebSocket,
    connect,
    read_var_uint,
)


class Reader:
    __slots__ = ("clocks", "times", "writer", "max_clock", "ws", "synced", "doc", "other")

    def __init__(self, writer: int, verify: bool) -> None:
        self.clocks = array("q")
        self.times = array("d")
        self.writer = writer  # the writer's Yjs client id
        self.max_clock = -1
        self.other = 0  # sync updates not from the writer
        self.ws: WebSocket | None = None
        self.synced = asyncio.get_running_loop().create_future()
        self.doc: Any = None
        if verify:
            from pycrdt import Doc

            self.doc = Doc()

    def on_message(self, m: bytes, t: float) -> None:
        if m[0] != SYNC:
            return
        kind = m[1]
        if kind == UPDATE:
            length, pos = read_var_uint(m, 2)
            start = pos
            groups, pos = read_var_uint(m, pos)
            if groups:
                _, pos = read_var_uint(m, pos)
                client, pos = read_var_uint(m, pos)
                clock, pos = read_var_uint(m, pos)
                if self.doc is not None:
                    self.doc.apply_update(m[start : start + length])
                    t = time.monotonic()
                if client != self.writer:
                    self.other += 1
                    return
                self.clocks.append(clock)
                self.times.append(t)
                if clock > self.max_clock:
                    self.max_clock = clock
            elif self.doc is not None:
                self.doc.apply_update(m[start : start + length])
        elif kind == STEP2:
            if self.doc is not None:
                length, pos = read_var_uint(m, 2)
                self.doc.apply_update(m[pos : pos + length])
            if not self.synced.done():
                self.synced.set_result(t)
        elif kind == STEP1:
            assert self.ws is not None
            self.ws.send(STEP2_EMPTY)

    def bind(self, ws: WebSocket) -> None:
        self.ws = ws

    def cell_text(self) -> str | None:
        if self.doc is None:
            return None
        from pycrdt import Array

        return str(self.doc.get("cells", type=Array)[0]["source"])


async def _connect_readers(spec: dict[str, Any]) -> tuple[list[Reader], list[str]]:
    readers: list[Reader] = []
    errors: list[str] = []
    sem = asyncio.Semaphore(10)

    async def one(i: int) -> None:
        reader = Reader(spec["writer"], verify=(i == 0))
        async with sem:
            try:
                ws = await connect(
                    spec["port"], spec["path"], spec["headers"], reader.on_message, bind=reader.bind
                )
                ws.send(STEP1_EMPTY)
                await asyncio.wait_for(reader.synced, spec.get("timeout", 60))
                readers.append(reader)
            except Exception as exc:  # reported, not raised: the run goes on with fewer readers
                errors.append(f"{type(exc).__name__}: {exc}")
                if reader.ws is not None:
                    reader.ws.close()

    await asyncio.gather(*(one(i) for i in range(spec["n"])))
    readers.sort(key=lambda r: r.doc is None)  # the verifier first
    return readers, errors


async def _collect(readers: list[Reader], spec: dict[str, Any]) -> dict[str, Any]:
    last = spec["last_clock"]
    deadline = time.monotonic() + spec["timeout"]
    while time.monotonic() < deadline and any(r.max_clock < last for r in readers):
        await asyncio.sleep(0.01)
    done_at = time.monotonic()
    timed_out = any(r.max_clock < last for r in readers)
    out = {
        "clocks": [r.clocks.tobytes() for r in readers],
        "times": [r.times.tobytes() for r in readers],
        "other": sum(r.other for r in readers),
        "verifier_text": readers[0].cell_text() if readers else None,
        "done_at": done_at,
        "timed_out": timed_out,
    }
    for r in readers:
        if r.ws is not None:
            r.ws.close()
    return out


async def _serve(conn: Any) -> None:
    loop = asyncio.get_running_loop()
    me = psutil.Process()
    readers: list[Reader] = []
    while True:
        cmd, spec = await loop.run_in_executor(None, conn.recv)
        if cmd == "connect":
            readers, errors = await _connect_readers(spec)
            conn.send(("connected", {"n": len(readers), "errors": errors}))
        elif cmd == "cpu":
            t = me.cpu_times()
            conn.send(("cpu", t.user + t.system))
        elif cmd == "collect":
            data = await _collect(readers, spec)
            t = me.cpu_times()
            data["cpu"] = t.user + t.system
            readers = []
            conn.send(("data", data))
        elif cmd == "quit":
            conn.send(("bye", None))
            return


def worker_main(conn: Any) -> None:
    """Entry point of a reader process (multiprocessing, spawn)."""
    asyncio.run(_serve(conn))


# -- statistics -----------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def delivery_stats(
    send_times: dict[int, float], per_reader: list[tuple[bytes, bytes]]
) -> dict[str, Any]:
    """Latency percentiles (ms) and lost / duplicated / out-of-order counts over all readers."""
    latencies: list[float] = []
    lost = dup = ooo = unknown = 0
    expected = set(send_times)
    for clocks_raw, times_raw in per_reader:
        clocks, times = array("q"), array("d")
        clocks.frombytes(clocks_raw)
        times.frombytes(times_raw)
        seen: set[int] = set()
        prev = -1
        for clock, t in zip(clocks, times, strict=True):
            if clock in seen:
                dup += 1
                continue
            seen.add(clock)
            if clock < prev:
                ooo += 1
            prev = max(prev, clock)
            sent = send_times.get(clock)
            if sent is None:
                unknown += 1
                continue
            latencies.append((t - sent) * 1000.0)
        lost += len(expected - seen)
    latencies.sort()
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else math.nan,
        "deliveries": len(latencies),
        "lost": lost,
        "duplicated": dup,
        "out_of_order": ooo,
        "unknown": unknown,
    }
