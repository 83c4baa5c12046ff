#!/usr/bin/env python
"""jupyter-collab vs jupyter-collaboration 5.0.4: open time, fan-out latency, store
growth and memory, and the classroom case (ours, the floor relay and theirs), measured
side by side in one run on this machine.

    python bench/run.py [--quick | --profile {quick,full,extensive}]
                        [--only open,fanout,store,rss,classroom]

See bench/README.md for what each number means. This is a benchmark, not a test: it
prints numbers (and saves them under bench/results/) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if __name__ == "__main__":
    from main_venv import ensure_main_venv  # this script's folder is on sys.path

    ensure_main_venv(__file__)

sys.path.insert(0, str(BENCH))

import fanout  # noqa: E402
import nodereaders  # noqa: E402
import psutil  # noqa: E402
import servers  # noqa: E402
from client import DocClient  # noqa: E402
from notebooks import write_notebook  # noqa: E402
from report import build_report  # noqa: E402
from servers import FLOOR, OURS, THEIRS, Server, log, wait_store_settled  # noqa: E402

SIDES = (OURS, THEIRS)
CLASSROOM_SIDES = (OURS, FLOOR, THEIRS)
SECTIONS = ("open", "fanout", "store", "rss", "classroom")

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {
        "open_sizes": [100, 1000],
        "open_reps": 1,
        "fan_grid": [(100, 10, 100), (500, 10, 100)],
        "fan_seconds": 2.0,
        "fan_reps": 1,
        "store_edits": 500,
        "store_rate": 100.0,
        "store_settle_timeout": 60.0,
        "rss_rooms": 20,
        "class_grid": [(20, 300), (100, 300), (100, 100)],
        "class_seconds": 3.0,
        "class_reps": 1,
    },
    "full": {
        "open_sizes": [100, 1000, 5000],
        "open_reps": 3,
        # (updates/s, readers, cells): the grid, plus typing into the large notebook
        "fan_grid": [(r, n, 100) for r in (100, 500) for n in (10, 50, 100)] + [(100, 10, 5000)],
        "fan_seconds": 5.0,
        "fan_reps": 3,
        "store_edits": 2000,
        "store_rate": 100.0,
        "store_settle_timeout": 180.0,
        "rss_rooms": 100,
        # (updates/s, readers): one typist, a class of viewers; and the 100-reader row
        "class_grid": [(20, 300), (100, 300), (100, 100)],
        "class_seconds": 5.0,
        "class_reps": 3,
    },
    # the incumbent measurement's whole grid, 3 runs each; about an hour
    "extensive": {
        "open_sizes": [100, 1000, 5000],
        "open_reps": 5,
        "fan_grid": [(r, n, 100) for r in (20, 100, 500) for n in (1, 10, 50, 100)]
        + [(100, 10, 5000), (100, 50, 5000)],
        "fan_seconds": 5.0,
        "fan_reps": 3,
        "store_edits": 10000,
        "store_rate": 330.0,
        "store_settle_timeout": 300.0,
        "rss_rooms": 100,
        "class_grid": [(20, 300), (100, 300), (100, 100), (20, 100)],
        "class_seconds": 5.0,
        "class_reps": 3,
    },
}

# -- helpers ----------------------------------------------------------------------------------


class Workspace:
    """The bench's temp dir: generated notebooks and one folder per server instance."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.notebooks = base / "notebooks"
        self._n = 0

    def notebook(self, cells: int) -> Path:
        path = self.notebooks / f"nb{cells}.ipynb"
        if not path.exists():
            write_notebook(path, cells)
        return path

    def server(self, side: str, name: str) -> Server:
        self._n += 1
        home = self.base / f"{self._n:03d}-{side}-{name}"
        return Server(side=side, root=home / "root", state=home / "state")


async def open_doc(server: Server, path: str, timeout: float = 180.0) -> tuple[float, DocClient]:
    """Seconds from the session PUT to SyncStep2 applied, and the connected client."""
    t0 = time.monotonic()
    ws_path = await server.open_session(path)
    t_put = time.monotonic()
    client = DocClient()
    await client.connect(server.port, ws_path, server.headers)
    t_ws = time.monotonic()
    t1 = await asyncio.wait_for(client.synced, timeout)
    client.phases = {
        "put": t_put - t0,
        "upgrade": t_ws - t_put,
        "to_step2": client.step2_arrived - t_ws,
        "apply": t1 - client.step2_arrived,
    }
    return t1 - t0, client


async def type_keys(
    writer: DocClient, count: int, rate: float, *, backspace_share: float = 0.0, seed: int = 0
) -> tuple[float, float]:
    """Type ``count`` edits into cell 0 at ``rate`` per second; (first, last) send times."""
    text = writer.cell_source(0)
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    typed = 0
    start = time.monotonic() + 0.01
    for k in range(count):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if typed and rng.random() < backspace_share:
            del text[len(text) - 1]
            typed -= 1
        else:
            text += letters[k % 26]
            typed += 1
    return writer.sent[-count][1], writer.sent[-1][1]


def git_state() -> str:
    """The commit of the server under test, and whether its code differs from it."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = [
        line for line in git("status", "--porcelain", "--", "jupyter_collab").splitlines() if line
    ]
    return f"{commit} + uncommitted changes in {len(dirty)} file(s)" if dirty else commit


def table_counts(db: Path, queries: dict[str, str]) -> dict[str, Any]:
    if not db.exists():
        return {}
    out: dict[str, Any] = {}
    conn = sqlite3.connect(str(db))
    try:
        for name, sql in queries.items():
            try:
                out[name] = conn.execute(sql).fetchone()[0]
            except sqlite3.Error as exc:
                out[name] = f"error: {exc}"
    finally:
        conn.close()
    return out


def store_rows(server: Server) -> dict[str, Any]:
    """Row counts of the store, read after the server stopped."""
    if server.side == OURS:
        return table_counts(
            server.state / "history.sqlite",
            {
                "update_rows": "SELECT count(*) FROM updates",
                "update_bytes": "SELECT coalesce(sum(length(data)), 0) FROM updates",
                "snapshot_rows": "SELECT count(*) FROM snapshots",
                "snapshot_bytes": "SELECT coalesce(sum(length(data)), 0) FROM snapshots",
            },
        )
    return table_counts(
        server.state / "ystore.db",
        {
            "update_rows": "SELECT count(*) FROM yupdates",
            "update_bytes": "SELECT coalesce(sum(length(yupdate)), 0) FROM yupdates",
            "checkpoint_rows": "SELECT count(*) FROM ycheckpoints",
            "checkpoint_bytes": "SELECT coalesce(sum(length(checkpoint)), 0) FROM ycheckpoints",
        },
    )


# -- 1. open time -----------------------------------------------------------------------------


async def bench_open(ws: Workspace, side: str, cells: int, rep: int) -> dict[str, Any]:
    server = ws.server(side, f"open{cells}-r{rep}")
    server.root.mkdir(parents=True)
    shutil.copyfile(ws.notebook(cells), server.root / "nb.ipynb")
    result: dict[str, Any] = {}
    # a never-seen file on a fresh process
    server.start()
    try:
        result["first"], client = await open_doc(server, "nb.ipynb")
        result["first_phases"] = client.phases
        result["step2_bytes"] = client.step2_bytes
        client.close()
        await asyncio.sleep(0.2)
        (
            result["store_bytes_after_first"],
            result["store_still_growing"],
            _,
        ) = await wait_store_settled(server, quiet=1.0, timeout=60.0)
    finally:
        result["first_stop_clean"] = server.stop()
    # a fresh process whose store already holds the file; then the same room, warm
    server.start()
    try:
        result["cold"], cold_client = await open_doc(server, "nb.ipynb")
        result["warm"], warm_client = await open_doc(server, "nb.ipynb")
        result["cold_phases"], result["warm_phases"] = cold_client.phases, warm_client.phases
        cold_client.close()
        warm_client.close()
        if side == THEIRS:
            result["incumbent_paths"] = servers.summary_of_incumbent_log(server.log_text())
    finally:
        server.stop()
    return result


# -- 2. fan-out -------------------------------------------------------------------------------


class ReaderPool:
    """Two reader processes (spawned once, reused for every fan-out run)."""

    def __init__(self, processes: int = 2) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.broken = False  # a request timed out: replies may be out of step, start afresh
        self.conns = []
        self.procs = []
        for _ in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=fanout.worker_main, args=(child,), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    async def ask_all(self, messages: list[tuple[str, Any] | None], timeout: float) -> list[Any]:
        loop = asyncio.get_running_loop()

        async def one(conn: Any, message: tuple[str, Any] | None) -> Any:
            if message is None:
                return None
            conn.send(message)
            if not await loop.run_in_executor(None, conn.poll, timeout):
                self.broken = True
                raise TimeoutError(
                    f"reader process did not answer {message[0]!r} within {timeout}s"
                )
            return conn.recv()[1]

        return list(
            await asyncio.gather(*(one(c, m) for c, m in zip(self.conns, messages, strict=True)))
        )

    def cpu(self) -> float:
        import psutil

        total = 0.0
        for proc in self.procs:
            t = psutil.Process(proc.pid).cpu_times()
            total += t.user + t.system
        return total

    def close(self) -> None:
        for conn, proc in zip(self.conns, self.procs, strict=True):
            try:
                conn.send(("quit", None))
            except (OSError, ValueError):
                pass
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()


def fan_key(rate: int, n: int, cells: int) -> str:
    return f"{rate}x{n}" if cells == 100 else f"{rate}x{n}@{cells}"


async def bench_fanout(
    ws: Workspace,
    pool: ReaderPool,
    side: str,
    grid: tuple[int, int, int],
    seconds: float,
    rep: int,
) -> dict[str, Any]:
    rate, n, cells = grid
    server = ws.server(side, f"fan{fan_key(rate, n, cells)}-r{rep}")
    server.root.mkdir(parents=True)
    shutil.copyfile(ws.notebook(cells), server.root / "nb.ipynb")
    server.start()
    writer: DocClient | None = None
    try:
        _, writer = await open_doc(server, "nb.ipynb")
        ws_path = await server.open_session("nb.ipynb")
        shares = [n - n // 2, n // 2]
        spec = {
            "port": server.port,
            "path": ws_path,
            "headers": server.headers,
            "writer": writer.doc.client_id,
        }
        replies = await pool.ask_all(
            [("connect", {**spec, "n": k}) if k else None for k in shares], timeout=180.0
        )
        connected = sum(r["n"] for r in replies if r)
        errors = [e for r in replies if r for e in r["errors"]]
        # let the room's start-up work (store writes, first save) finish before typing
        idle_wait = await asyncio.to_thread(server.wait_idle, 0.05, 0.5, 30.0)
        count = int(rate * seconds)
        base = len(writer.sent)
        cpu0, gen0, main0 = server.cpu_seconds(), pool.cpu(), time.process_time()
        t0 = time.monotonic()
        first, last = await type_keys(writer, count, rate)
        sent = writer.sent[base:]
        last_clock = sent[-1][0]
        datas = await pool.ask_all(
            [
                ("collect", {"last_clock": last_clock, "timeout": 120.0}) if k else None
                for k in shares
            ],
            timeout=240.0,
        )
        cpu1, gen1, main1 = server.cpu_seconds(), pool.cpu(), time.process_time()
        t1 = max(d["done_at"] for d in datas if d)
        per_reader = [
            (c, t) for d in datas if d for c, t in zip(d["clocks"], d["times"], strict=True)
        ]
        stats = fanout.delivery_stats({c: t for c, t in sent if c is not None}, per_reader)
        expected_text = str(writer.cell_source(0))
        verified = [d["verifier_text"] == expected_text for d in datas if d]
        window = max(t1 - t0, 1e-9)
        server_cpu = cpu1 - cpu0
        return {
            **stats,
            "readers": connected,
            "connect_errors": errors[:5],
            "updates": count,
            "achieved_rate": (count - 1) / max(last - first, 1e-9),
            "server_cpu_s": server_cpu,
            "server_cpu_pct": 100 * server_cpu / window,
            "cpu_us_per_delivery": 1e6 * server_cpu / max(count * max(connected, 1), 1),
            "loadgen_cores": (gen1 - gen0) / window,
            "writer_cores": (main1 - main0) / window,
            "window_s": window,
            "idle_wait_s": idle_wait,
            "timed_out": any(d["timed_out"] for d in datas if d),
            "other_updates": sum(d["other"] for d in datas if d),
            "converged": all(verified) and bool(verified),
        }
    finally:
        if writer is not None:
            writer.close()
        server.stop(timeout=15.0)


# -- 5. the classroom: one typist, many viewers, three servers ---------------------------------


def busy_cores_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, all processes)."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


async def bench_classroom(
    ws: Workspace,
    pool: nodereaders.NodeReaderPool,
    side: str,
    grid: tuple[int, int],
    seconds: float,
    rep: int,
) -> dict[str, Any]:
    """One typist at ``rate`` updates/s into cell 0 of the 100-cell notebook, ``n`` viewers
    on Node readers (``nodereaders.py``); latency, server and reader CPU."""
    rate, n = grid
    server = ws.server(side, f"class{rate}x{n}-r{rep}")
    server.root.mkdir(parents=True)
    shutil.copyfile(ws.notebook(100), server.root / "nb.ipynb")
    server.start()
    writer: DocClient | None = None
    try:
        _, writer = await open_doc(server, "nb.ipynb")
        ws_path = await server.open_session("nb.ipynb")
        procs = len(pool.procs)
        shares = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
        spec = {
            "cmd": "connect",
            "port": server.port,
            "path": ws_path,
            "headers": server.headers,
            "writer": writer.doc.client_id,
            "base_ns": time.monotonic_ns(),
        }
        replies = await pool.ask_all(
            [{**spec, "n": k} if k else None for k in shares], timeout=300.0
        )
        connected = sum(r["n"] for r in replies if r)
        errors = [e for r in replies if r for e in r["errors"]]
        idle_wait = await asyncio.to_thread(server.wait_idle, 0.05, 0.5, 30.0)
        count = int(rate * seconds)
        base = len(writer.sent)
        marks = await pool.ask_all([{"cmd": "mark"} if k else None for k in shares], 30.0)
        cpu0, main0, busy0 = server.cpu_seconds(), time.process_time(), busy_cores_seconds()
        t0 = time.monotonic()
        first, last = await type_keys(writer, count, rate)
        sent = writer.sent[base:]
        datas = await pool.ask_all(
            [
                {"cmd": "collect", "last_clock": sent[-1][0], "timeout": 120.0} if k else None
                for k in shares
            ],
            timeout=240.0,
        )
        cpu1, main1, busy1 = server.cpu_seconds(), time.process_time(), busy_cores_seconds()
        t1 = max(d["done_at"] for d in datas if d)
        per_reader = [pair for d in datas if d for pair in nodereaders.decode(d)]
        stats = fanout.delivery_stats({c: t for c, t in sent if c is not None}, per_reader)
        window = max(t1 - t0, 1e-9)
        server_cpu = cpu1 - cpu0
        reader_cpu = sum(d["cpu"] - m["cpu"] for d, m in zip(datas, marks, strict=True) if d)
        writer_cpu = main1 - main0
        texts = [d["verifier_text"] for d in datas if d]
        expected = str(writer.cell_source(0))
        return {
            **stats,
            "readers": connected,
            "connect_errors": errors[:5],
            "updates": count,
            "achieved_rate": (count - 1) / max(last - first, 1e-9),
            "server_cpu_s": server_cpu,
            "server_cpu_pct": 100 * server_cpu / window,
            "cpu_us_per_delivery": 1e6 * server_cpu / max(count * max(connected, 1), 1),
            "reader_cpu_pct": 100 * reader_cpu / window,
            "writer_cpu_pct": 100 * writer_cpu / window,
            # what the rest of the machine used meanwhile (other people's processes)
            "others_cpu_pct": 100
            * max(0.0, (busy1 - busy0) - server_cpu - reader_cpu - writer_cpu)
            / window,
            "window_s": window,
            "idle_wait_s": idle_wait,
            "timed_out": any(d["timed_out"] for d in datas if d),
            "other_updates": sum(d["other"] for d in datas if d),
            # None: the readers could not import yjs, so no replica was checked
            "converged": None if None in texts else all(t == expected for t in texts),
        }
    finally:
        if writer is not None:
            writer.close()
        server.stop(timeout=15.0)


# -- 3. store growth --------------------------------------------------------------------------


async def bench_store(
    ws: Workspace, side: str, edits: int, rate: float, settle_timeout: float
) -> dict[str, Any]:
    server = ws.server(side, "store")
    server.root.mkdir(parents=True)
    shutil.copyfile(ws.notebook(100), server.root / "nb.ipynb")
    out: dict[str, Any] = {"edits": edits, "rate": rate}
    # phase A: the file's first open, closed cleanly: the baseline on disk
    server.start()
    try:
        _, client = await open_doc(server, "nb.ipynb")
        client.close()
        await wait_store_settled(server, quiet=2.0, timeout=60.0)
    finally:
        out["baseline_stop_clean"] = server.stop()
    out["baseline_bytes"] = server.store_bytes()
    out["baseline_rows"] = store_rows(server)
    # phase B: reopen, type, wait for the store, close cleanly
    server.start()
    try:
        _, writer = await open_doc(server, "nb.ipynb")
        out["live_before_bytes"], _, _ = await wait_store_settled(server, quiet=2.0, timeout=30.0)
        first, last = await type_keys(writer, edits, rate, backspace_share=0.2, seed=7)
        out["achieved_rate"] = (edits - 1) / max(last - first, 1e-9)
        typed_at = time.monotonic()
        size, growing, last_change = await wait_store_settled(
            server, quiet=5.0, timeout=settle_timeout
        )
        out["live_after_bytes"] = size
        out["still_growing"] = growing
        # when the store files last changed, counted from the last keystroke
        out["settled_after_s"] = None if growing else last_change
        out["waited_s"] = time.monotonic() - typed_at
        writer.close()
        await asyncio.sleep(0.5)
    finally:
        out["stop_clean"] = server.stop(timeout=60.0)
    out["closed_bytes"] = server.store_bytes()
    out["rows"] = store_rows(server)
    out["durable_per_key"] = (out["closed_bytes"] - out["baseline_bytes"]) / edits
    out["live_per_key"] = (out["live_after_bytes"] - out["live_before_bytes"]) / edits
    if side == THEIRS:
        out["incumbent_paths"] = servers.summary_of_incumbent_log(server.log_text())
    return out


# -- 4. memory with many rooms ------------------------------------------------------------------


async def bench_rss(ws: Workspace, side: str, rooms: int) -> dict[str, Any]:
    server = ws.server(side, "rss")
    server.root.mkdir(parents=True)
    for i in range(rooms):
        shutil.copyfile(ws.notebook(10), server.root / f"nb10-{i:03d}.ipynb")
    server.start()
    clients: list[DocClient] = []
    out: dict[str, Any] = {"rooms": rooms}
    try:
        await asyncio.sleep(2.0)
        out["rss_idle"] = server.rss_bytes()
        _, c = await open_doc(server, "nb10-000.ipynb")
        clients.append(c)
        await asyncio.sleep(2.0)
        out["rss_1"] = server.rss_bytes()
        t0 = time.monotonic()
        for i in range(1, rooms):
            _, c = await open_doc(server, f"nb10-{i:03d}.ipynb")
            clients.append(c)
        out["open_all_s"] = time.monotonic() - t0
        await asyncio.sleep(3.0)
        out["rss_all"] = server.rss_bytes()
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        await asyncio.sleep(5.0)
        out["idle_cpu_pct"] = 100 * (server.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        out["per_extra_room"] = (out["rss_all"] - out["rss_1"]) / max(rooms - 1, 1)
    finally:
        for c in clients:
            c.close()
        server.stop()
    return out


# -- main ------------------------------------------------------------------------------------


async def attempt(errors: list[str], what: str, coro: Any) -> Any:
    """Run one measurement; log and record a failure instead of ending the bench."""
    try:
        return await coro
    except Exception as exc:
        log(f"{what} failed: {type(exc).__name__}: {exc}")
        errors.append(f"{what}: {type(exc).__name__}: {str(exc)[:300]}")
        return None


async def run_all(
    args: argparse.Namespace, prof: dict[str, Any], ws: Workspace, results: dict[str, Any]
) -> None:
    """Fill ``results`` section by section (so an interrupted run still reports)."""
    errors: list[str] = results.setdefault("errors", [])
    if "open" in args.only:
        await run_open(prof, ws, results.setdefault("open", {}), errors)
    if "fanout" in args.only:
        await run_fanout(prof, ws, results.setdefault("fanout", {}), errors)
    if "store" in args.only:
        store = results.setdefault("store", {})
        for side in SIDES:
            edits, rate = prof["store_edits"], prof["store_rate"]
            job = bench_store(ws, side, edits, rate, prof["store_settle_timeout"])
            r = await attempt(errors, f"store {side}", job)
            if r is not None:
                store[side] = r
                log(
                    f"store {side}: durable {r['durable_per_key']:.1f} B/key, live "
                    f"{r['live_per_key']:.1f} B/key, still growing {r['still_growing']}"
                )
    if "classroom" in args.only:
        await run_classroom(prof, ws, results.setdefault("classroom", {}), errors)
    if "rss" in args.only:
        rss = results.setdefault("rss", {})
        for side in SIDES:
            r = await attempt(errors, f"rss {side}", bench_rss(ws, side, prof["rss_rooms"]))
            if r is not None:
                rss[side] = r
                log(
                    f"rss {side}: idle {r['rss_idle'] / 2**20:.1f} MiB, "
                    f"{r['rooms']} rooms {r['rss_all'] / 2**20:.1f} MiB"
                )


async def run_open(
    prof: dict[str, Any], ws: Workspace, out: dict[str, Any], errors: list[str]
) -> None:
    for side in SIDES:
        out[side] = {str(c): [] for c in prof["open_sizes"]}
    for rep in range(prof["open_reps"]):
        for cells in prof["open_sizes"]:
            for side in SIDES:
                r = await attempt(errors, f"open {side} {cells}", bench_open(ws, side, cells, rep))
                if r is not None:
                    out[side][str(cells)].append(r)
                    log(
                        f"open {side} {cells} cells run {rep + 1}: first {r['first']:.3f} s, "
                        f"cold {r['cold']:.3f} s, warm {r['warm']:.3f} s"
                    )


async def run_fanout(
    prof: dict[str, Any], ws: Workspace, out: dict[str, Any], errors: list[str]
) -> None:
    for side in SIDES:
        out[side] = {}
    pool = ReaderPool(2)
    try:
        for rep in range(prof["fan_reps"]):  # outermost: the runs of a config spread over time
            for rate, n, cells in prof["fan_grid"]:
                for side in SIDES:
                    if pool.broken or not all(p.is_alive() for p in pool.procs):
                        pool.close()
                        pool = ReaderPool(2)
                    grid = (rate, n, cells)
                    job = bench_fanout(ws, pool, side, grid, prof["fan_seconds"], rep)
                    key = fan_key(rate, n, cells)
                    r = await attempt(errors, f"fan-out {side} {key}", job)
                    if r is None:
                        continue
                    out[side].setdefault(key, []).append(r)
                    log(
                        f"fan-out {side} {key}: p50 {r['p50_ms']:.1f} ms, "
                        f"p99 {r['p99_ms']:.1f} ms, {r['cpu_us_per_delivery']:.1f} us/delivery, "
                        f"lost/dup/ooo {r['lost']}/{r['duplicated']}/{r['out_of_order']}, "
                        f"converged {r['converged']}, readers {r['loadgen_cores']:.2f} cores"
                    )
    finally:
        pool.close()


async def run_classroom(
    prof: dict[str, Any], ws: Workspace, out: dict[str, Any], errors: list[str]
) -> None:
    sides = [s for s in CLASSROOM_SIDES if s in prof["class_sides"]]
    for side in CLASSROOM_SIDES:
        out[side] = {}
    nodereaders.ensure_ws(log)
    pool = await nodereaders.NodeReaderPool.start(2)
    try:
        out["clock_check_us"] = await pool.check_clock()
        for rep in range(prof["class_reps"]):
            for rate, n in prof["class_grid"]:
                for side in sides:
                    if not pool.alive():
                        await pool.close()
                        pool = await nodereaders.NodeReaderPool.start(2)
                    job = bench_classroom(ws, pool, side, (rate, n), prof["class_seconds"], rep)
                    key = f"{rate}x{n}"
                    r = await attempt(errors, f"classroom {side} {key}", job)
                    if r is None:
                        continue
                    out[side].setdefault(key, []).append(r)
                    log(
                        f"classroom {side} {n} x {rate}/s: p50 {r['p50_ms']:.1f} ms, "
                        f"p99 {r['p99_ms']:.1f} ms, {r['cpu_us_per_delivery']:.1f} us/delivery, "
                        f"server {r['server_cpu_pct']:.0f} %, readers "
                        f"{r['reader_cpu_pct']:.0f} %, others {r['others_cpu_pct']:.0f} %, "
                        f"lost/dup/ooo {r['lost']}/{r['duplicated']}/{r['out_of_order']}, "
                        f"converged {r['converged']}"
                    )
    finally:
        await pool.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="same as --profile quick")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (server logs, stores)"
    )
    parser.add_argument(
        "--fan-seconds", type=float, help="override the profile's typing time per fan-out run"
    )
    parser.add_argument(
        "--ours-src",
        type=Path,
        help="run ours with jupyter_collab imported from this folder (holding a jupyter_collab/ "
        "package, e.g. `git archive <commit> jupyter_collab | tar -x -C DIR`) instead of the "
        "work tree",
    )
    parser.add_argument(
        "--class-seconds", type=float, help="override the typing time per classroom run"
    )
    parser.add_argument("--class-reps", type=int, help="override the runs per classroom row")
    parser.add_argument(
        "--class-sides",
        default=",".join(CLASSROOM_SIDES),
        help="servers in the classroom rows (default: ours,floor,theirs; the table needs all 3)",
    )
    parser.add_argument(
        "--class-grid",
        help="override the classroom rows: RATExREADERS,... (e.g. 100x300,20x50)",
    )
    args = parser.parse_args()
    if args.quick:
        args.profile = "quick"
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = args.only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {sorted(unknown)}")
    return args


def main() -> int:
    args = parse_args()
    prof = dict(PROFILES[args.profile])
    if args.fan_seconds:
        prof["fan_seconds"] = args.fan_seconds
    if args.class_seconds:
        prof["class_seconds"] = args.class_seconds
    if args.class_reps:
        prof["class_reps"] = args.class_reps
    prof["class_sides"] = {s.strip() for s in args.class_sides.split(",")}
    if args.class_grid:
        prof["class_grid"] = [
            tuple(int(x) for x in item.split("x")) for item in args.class_grid.split(",")
        ]

    def on_signal(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    base = Path(tempfile.mkdtemp(prefix="collab-bench-"))
    log(f"profile {args.profile}, sections {sorted(args.only)}, temp dir {base}")
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "open_sizes": prof["open_sizes"],
        "open_reps": prof["open_reps"],
        "fan_grid": prof["fan_grid"],
        "fan_seconds": prof["fan_seconds"],
        "fan_reps": prof["fan_reps"],
        "class_grid": prof["class_grid"],
        "class_seconds": prof["class_seconds"],
        "class_reps": prof["class_reps"],
        "load_start": os.getloadavg(),
    }
    log("load average (1, 5, 15 min) at start: {:.2f} {:.2f} {:.2f}".format(*meta["load_start"]))
    results: dict[str, Any] = {}
    try:
        meta["ours"] = servers.check_main_venv()
        meta["ours_commit"] = git_state()
        if args.ours_src:
            servers.OURS_SRC = args.ours_src.resolve()
            meta["ours_commit"] = f"the copy in {servers.OURS_SRC} (--ours-src)"
        meta["theirs"] = servers.ensure_incumbent_venv()
        asyncio.run(run_all(args, prof, Workspace(base), results))
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc}); stopping the servers started here")
    finally:
        servers.stop_all()
        meta["load_end"] = os.getloadavg()
        log("load average (1, 5, 15 min) at end: {:.2f} {:.2f} {:.2f}".format(*meta["load_end"]))
        if args.keep:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    if not any(results.get(k) for k in SECTIONS):
        return 0
    text, summary = build_report(results, args.profile, meta)
    print(text, flush=True)
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out_dir / f"{stamp}-{args.profile}.md").write_text(text + "\n")
    (out_dir / f"{stamp}-{args.profile}.json").write_text(
        json.dumps({"meta": meta, "results": results, "budgets": summary}, indent=1, default=str)
    )
    log(f"saved bench/results/{stamp}-{args.profile}.{{md,json}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
