#!/usr/bin/env python
"""jupyter-collab vs jupyter-collaboration 5.0.4: open time, fan-out latency, store
growth and memory, measured side by side in one run on this machine.

    python bench/run.py [--quick | --profile {quick,full,extensive}] [--only open,fanout,store,rss]

See bench/README.md for what each number means. This is a benchmark, not a test: it
prints numbers (and saves them under bench/results/) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
MAIN_PYTHON = BENCH.parent / ".venv" / "bin" / "python"


def _ensure_main_venv() -> None:
    """The bench drives both servers from the main venv's python (pycrdt, psutil)."""
    if MAIN_PYTHON.exists() and Path(sys.prefix).resolve() != MAIN_PYTHON.parent.parent.resolve():
        os.execv(str(MAIN_PYTHON), [str(MAIN_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    _ensure_main_venv()

sys.path.insert(0, str(BENCH))

import fanout  # noqa: E402
import servers  # noqa: E402
from client import DocClient  # noqa: E402
from notebooks import write_notebook  # noqa: E402
from servers import OURS, THEIRS, Server, log, wait_store_settled  # noqa: E402

SIDES = (OURS, THEIRS)

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {
        "open_sizes": [100, 1000],
        "open_reps": 1,
        "fan_grid": [(100, 10), (500, 10)],
        "fan_seconds": 2.0,
        "fan_reps": 1,
        "store_edits": 500,
        "store_rate": 100.0,
        "store_settle_timeout": 60.0,
        "rss_rooms": 20,
    },
    "full": {
        "open_sizes": [100, 1000, 5000],
        "open_reps": 3,
        "fan_grid": [(r, n) for r in (100, 500) for n in (10, 50, 100)],
        "fan_seconds": 5.0,
        "fan_reps": 1,
        "store_edits": 2000,
        "store_rate": 100.0,
        "store_settle_timeout": 180.0,
        "rss_rooms": 100,
    },
    # the incumbent measurement's whole grid (LESSONS.md), 3 runs each; about an hour
    "extensive": {
        "open_sizes": [100, 1000, 5000],
        "open_reps": 5,
        "fan_grid": [(r, n) for r in (20, 100, 500) for n in (1, 10, 50, 100)],
        "fan_seconds": 5.0,
        "fan_reps": 3,
        "store_edits": 10000,
        "store_rate": 330.0,
        "store_settle_timeout": 300.0,
        "rss_rooms": 100,
    },
}

BUDGETS = {
    "cold_open_5000_ratio": 0.35,
    "fanout_p99_100x100_ratio": 0.25,
    "fanout_p99_500x50_ours_ms": 100.0,
    "store_bytes_per_key_ratio": 0.3,
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


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else math.nan


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
        result["store_bytes_after_first"], result["store_still_growing"], _ = await wait_store_settled(
            server, quiet=1.0, timeout=60.0
        )
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
                raise TimeoutError(f"reader process did not answer {message[0]!r} within {timeout}s")
            return conn.recv()[1]

        return list(await asyncio.gather(*(one(c, m) for c, m in zip(self.conns, messages))))

    def cpu(self) -> float:
        import psutil

        total = 0.0
        for proc in self.procs:
            t = psutil.Process(proc.pid).cpu_times()
            total += t.user + t.system
        return total

    def close(self) -> None:
        for conn, proc in zip(self.conns, self.procs):
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


async def bench_fanout(
    ws: Workspace, pool: ReaderPool, side: str, rate: int, n: int, seconds: float, rep: int
) -> dict[str, Any]:
    server = ws.server(side, f"fan{rate}x{n}-r{rep}")
    server.root.mkdir(parents=True)
    shutil.copyfile(ws.notebook(100), server.root / "nb.ipynb")
    server.start()
    writer: DocClient | None = None
    try:
        _, writer = await open_doc(server, "nb.ipynb")
        ws_path = await server.open_session("nb.ipynb")
        shares = [n - n // 2, n // 2]
        spec = {"port": server.port, "path": ws_path, "headers": server.headers, "writer": writer.doc.client_id}
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
            [("collect", {"last_clock": last_clock, "timeout": 120.0}) if k else None for k in shares],
            timeout=240.0,
        )
        cpu1, gen1, main1 = server.cpu_seconds(), pool.cpu(), time.process_time()
        t1 = max(d["done_at"] for d in datas if d)
        per_reader = [(c, t) for d in datas if d for c, t in zip(d["clocks"], d["times"])]
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


# -- 3. store growth --------------------------------------------------------------------------


async def bench_store(ws: Workspace, side: str, edits: int, rate: float, settle_timeout: float) -> dict[str, Any]:
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
        size, growing, last_change = await wait_store_settled(server, quiet=5.0, timeout=settle_timeout)
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


# -- report -------------------------------------------------------------------------------------


def fmt(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    if abs(value) >= 100:
        return f"{value:,.0f}{unit}"
    return f"{value:.{digits}g}{unit}"


def ratio(ours: Any, theirs: Any) -> float:
    try:
        if theirs == 0 or ours is None or theirs is None:
            return math.nan
        return float(ours) / float(theirs)
    except (TypeError, ValueError):
        return math.nan


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.add("| " + " | ".join(header) + " |")
        self.add("|" + "|".join(" --- " for _ in header) + "|")
        for row in rows:
            self.add("| " + " | ".join(row) + " |")
        self.add()

    def text(self) -> str:
        return "\n".join(self.lines)


def side_row(label: str, ours: Any, theirs: Any, unit: str = "", extra: str = "") -> list[str]:
    row = [label, fmt(ours, unit), fmt(theirs, unit), fmt(ratio(ours, theirs), "", 2)]
    return row + ([extra] if extra is not None else [])


def build_report(results: dict[str, Any], profile: str, meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rep = Report()
    rep.add(f"## jupyter-collab bench ({profile} profile), {meta['date']}")
    rep.add()
    rep.add(
        f"ours: jupyter-collab {meta['ours'].get('jupyter-collab')} (jupyter_server {meta['ours'].get('jupyter_server')}, "
        f"pycrdt {meta['ours'].get('pycrdt')}, tornado {meta['ours'].get('tornado')}); theirs: jupyter-collaboration "
        f"{meta['theirs']} with its defaults. {meta['cpus']} cores. Ratio = ours / theirs (lower is better for all)."
    )
    rep.add()
    budgets: dict[str, Any] = {}

    opens = results.get("open")
    if opens:
        reps = meta["open_reps"]
        rep.add(f"### 1. Open a notebook: session PUT -> SyncStep2 applied by the client (median of {reps}, seconds)")
        rep.add(
            "first = a never-seen file on a fresh server process; cold = a fresh server process whose history "
            "store already holds the file (a previous process opened it once and was shut down cleanly); "
            "warm = the room is already loaded (a second client)."
        )
        rep.add()
        rows = []
        for cells in meta["open_sizes"]:
            for kind in ("first", "cold", "warm"):
                o = median([r[kind] for r in opens[OURS][str(cells)]])
                t = median([r[kind] for r in opens[THEIRS][str(cells)]])
                rows.append(side_row(f"{cells} cells, {kind}", o, t, " s", ""))
                if cells == 5000 and kind == "cold":
                    budgets["cold"] = (o, t)
            o = median([r["step2_bytes"] for r in opens[OURS][str(cells)]])
            t = median([r["step2_bytes"] for r in opens[THEIRS][str(cells)]])
            rows.append(side_row(f"{cells} cells, SyncStep2 bytes", int(o), int(t), " B", ""))
        rep.table(["open", "ours", "theirs", "ours/theirs", "note"], [r[:4] + [""] for r in rows])
        paths = [r.get("incumbent_paths") for rs in opens[THEIRS].values() for r in rs]
        rep.add(f"Incumbent's own log at the cold opens (sum over runs): {merge_counts(paths)}.")
        rep.add()

    fans = results.get("fanout")
    if fans:
        rep.add(
            f"### 2. Fan-out: 1 writer typing single characters into cell 0 of a 100-cell notebook for "
            f"{meta['fan_seconds']:g} s, N readers over 2 processes (median of {meta['fan_reps']})"
        )
        rep.add(
            "latency = writer send -> reader has the update (ms); CPU/delivery = server CPU seconds / "
            "(updates x N); loss = lost/duplicated/out-of-order deliveries, ours/theirs (must be 0)."
        )
        rep.add()
        rows = []
        for rate, n in meta["fan_grid"]:
            key = f"{rate}x{n}"
            o, t = fans[OURS].get(key), fans[THEIRS].get(key)
            if not o or not t:
                continue
            om, tm = median_runs(o), median_runs(t)
            rows.append(side_row(f"{rate}/s x {n}: p50 ms", om["p50_ms"], tm["p50_ms"]))
            rows.append(side_row(f"{rate}/s x {n}: p99 ms", om["p99_ms"], tm["p99_ms"]))
            rows.append(side_row(f"{rate}/s x {n}: server CPU per delivery", om["cpu_us_per_delivery"], tm["cpu_us_per_delivery"], " us"))
            rows.append(side_row(f"{rate}/s x {n}: server CPU", om["server_cpu_pct"], tm["server_cpu_pct"], " %"))
            loss = f"{loss_text(o)} / {loss_text(t)}"
            rows[-4][-1] = (
                f"loss {loss}; converged {fmt(all(r['converged'] for r in o))}/{fmt(all(r['converged'] for r in t))}; "
                f"max {fmt(om['max_ms'])}/{fmt(tm['max_ms'])} ms; load generator {fmt(om['loadgen_cores'], '', 2)}/"
                f"{fmt(tm['loadgen_cores'], '', 2)} cores; rate {fmt(om['achieved_rate'])}/{fmt(tm['achieved_rate'])}/s"
            )
            if (rate, n) == (100, 100):
                budgets["fan100"] = (om["p99_ms"], tm["p99_ms"])
            if (rate, n) == (500, 50):
                budgets["fan500"] = (om["p99_ms"], tm["p99_ms"])
        rep.table(["fan-out", "ours", "theirs", "ours/theirs", "note (ours/theirs)"], rows)

    store = results.get("store")
    if store:
        o, t = store[OURS], store[THEIRS]
        rep.add(
            f"### 3. History store growth per keystroke: {o['edits']} single-char edits (80 % inserts, 20 % "
            f"backspaces) into cell 0 of a 100-cell notebook at ~{o['rate']:g}/s"
        )
        rep.add(
            "durable = store files (db + wal + journal) after a clean shutdown, minus the same files after the "
            "file's first open and a clean shutdown; live = growth while the server runs, once the store stopped "
            "growing (WAL pages included, so it overstates a WAL store)."
        )
        rep.add()
        rows = [
            side_row("bytes per keystroke, durable", o["durable_per_key"], t["durable_per_key"], " B"),
            side_row("bytes per keystroke, live", o["live_per_key"], t["live_per_key"], " B"),
            side_row("store after the first open", o["baseline_bytes"], t["baseline_bytes"], " B"),
            side_row("store after the edits, closed", o["closed_bytes"], t["closed_bytes"], " B"),
            side_row("store settled after the last keystroke", o["settled_after_s"], t["settled_after_s"], " s"),
        ]
        rows = [r + [""] for r in [x[:4] for x in rows]]
        rows[0][-1] = (
            f"still growing when we stopped waiting: {fmt(o['still_growing'])}/{fmt(t['still_growing'])} "
            f"(waited {fmt(o['waited_s'])}/{fmt(t['waited_s'])} s)"
        )
        rows[3][-1] = f"rows ours {o['rows']}; theirs {t['rows']}"
        rep.table(["store", "ours", "theirs", "ours/theirs", "note"], rows)
        budgets["store"] = (o["durable_per_key"], t["durable_per_key"])

    rss = results.get("rss")
    if rss:
        o, t = rss[OURS], rss[THEIRS]
        mib = 1024 * 1024
        rep.add(f"### 4. Server memory with {o['rooms']} open rooms (10-cell notebooks, one client each)")
        rep.add()
        rows = [
            side_row("RSS idle, 0 rooms", o["rss_idle"] / mib, t["rss_idle"] / mib, " MiB"),
            side_row("RSS with 1 room", o["rss_1"] / mib, t["rss_1"] / mib, " MiB"),
            side_row(f"RSS with {o['rooms']} rooms", o["rss_all"] / mib, t["rss_all"] / mib, " MiB"),
            side_row("RSS per extra room", o["per_extra_room"] / 1024, t["per_extra_room"] / 1024, " KiB"),
            side_row(f"idle CPU with {o['rooms']} rooms", o["idle_cpu_pct"], t["idle_cpu_pct"], " %"),
            side_row(f"time to open {o['rooms'] - 1} rooms one by one", o["open_all_s"], t["open_all_s"], " s"),
        ]
        rep.table(["memory", "ours", "theirs", "ours/theirs"], [r[:4] for r in rows])

    # budgets
    rep.add("### Budgets (information, not asserted)")
    rep.add()
    rows = []
    summary: dict[str, Any] = {}

    def budget(name: str, value: float, limit: float, text: str, detail: str) -> None:
        ok = value <= limit if name != "fanout_p99_500x50_ours_ms" else value < limit
        status = "-" if math.isnan(value) else ("pass" if ok else "FAIL")
        summary[name] = {"value": value, "limit": limit, "status": status}
        rows.append([text, detail, fmt(value, "", 3), status])

    if "cold" in budgets:
        o, t = budgets["cold"]
        budget("cold_open_5000_ratio", ratio(o, t), BUDGETS["cold_open_5000_ratio"],
               "cold open, 5000 cells: ours/theirs <= 0.35", f"{fmt(o)} s vs {fmt(t)} s")
    if "fan100" in budgets:
        o, t = budgets["fan100"]
        budget("fanout_p99_100x100_ratio", ratio(o, t), BUDGETS["fanout_p99_100x100_ratio"],
               "fan-out p99, 100 readers x 100/s: ours/theirs <= 0.25", f"{fmt(o)} ms vs {fmt(t)} ms")
    if "fan500" in budgets:
        o, t = budgets["fan500"]
        budget("fanout_p99_500x50_ours_ms", o, BUDGETS["fanout_p99_500x50_ours_ms"],
               "fan-out p99, 50 readers x 500/s: ours < 100 ms", f"theirs {fmt(t)} ms")
    if "store" in budgets:
        o, t = budgets["store"]
        budget("store_bytes_per_key_ratio", ratio(o, t), BUDGETS["store_bytes_per_key_ratio"],
               "store bytes per keystroke (durable): ours/theirs <= 0.3", f"{fmt(o)} B vs {fmt(t)} B")
    if rows:
        rep.table(["budget", "measured", "value", "status"], rows)
    else:
        rep.add("(no budget applies to the sections run)")
    return rep.text(), summary


def merge_counts(items: list[dict[str, int] | None]) -> dict[str, int]:
    total: dict[str, int] = {}
    for item in items:
        for k, v in (item or {}).items():
            total[k] = total.get(k, 0) + v
    return total


def median_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ["p50_ms", "p99_ms", "max_ms", "cpu_us_per_delivery", "server_cpu_pct", "loadgen_cores", "achieved_rate"]
    return {k: median([r[k] for r in runs]) for k in keys}


def loss_text(runs: list[dict[str, Any]]) -> str:
    lost = sum(r["lost"] for r in runs)
    dup = sum(r["duplicated"] for r in runs)
    ooo = sum(r["out_of_order"] for r in runs)
    flag = " (timed out)" if any(r["timed_out"] for r in runs) else ""
    return f"{lost}/{dup}/{ooo}{flag}"


# -- main ---------------------------------------------------------------------------------------


async def run_all(args: argparse.Namespace, prof: dict[str, Any], ws: Workspace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    sections = args.only

    if "open" in sections:
        results["open"] = {side: {str(c): [] for c in prof["open_sizes"]} for side in SIDES}
        for rep in range(prof["open_reps"]):
            for cells in prof["open_sizes"]:
                for side in SIDES:
                    r = await bench_open(ws, side, cells, rep)
                    results["open"][side][str(cells)].append(r)
                    log(f"open {side} {cells} cells run {rep + 1}: first {r['first']:.3f} s, "
                        f"cold {r['cold']:.3f} s, warm {r['warm']:.3f} s")

    if "fanout" in sections:
        pool = ReaderPool(2)
        try:
            results["fanout"] = {side: {} for side in SIDES}
            for rep in range(prof["fan_reps"]):
                for rate, n in prof["fan_grid"]:
                    for side in SIDES:
                        r = await bench_fanout(ws, pool, side, rate, n, prof["fan_seconds"], rep)
                        results["fanout"][side].setdefault(f"{rate}x{n}", []).append(r)
                        log(f"fan-out {side} {rate}/s x {n}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                            f"{r['cpu_us_per_delivery']:.1f} us/delivery, lost {r['lost']}, dup {r['duplicated']}, "
                            f"ooo {r['out_of_order']}, converged {r['converged']}, "
                            f"load generator {r['loadgen_cores']:.2f} cores")
        finally:
            pool.close()

    if "store" in sections:
        results["store"] = {}
        for side in SIDES:
            r = await bench_store(ws, side, prof["store_edits"], prof["store_rate"], prof["store_settle_timeout"])
            results["store"][side] = r
            log(f"store {side}: durable {r['durable_per_key']:.1f} B/key, live {r['live_per_key']:.1f} B/key, "
                f"still growing {r['still_growing']}, rows {r['rows']}")

    if "rss" in sections:
        results["rss"] = {}
        for side in SIDES:
            r = await bench_rss(ws, side, prof["rss_rooms"])
            results["rss"][side] = r
            log(f"rss {side}: idle {r['rss_idle'] / 2**20:.1f} MiB, {r['rooms']} rooms {r['rss_all'] / 2**20:.1f} MiB")
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="same as --profile quick")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--only", default="open,fanout,store,rss",
                        help="comma-separated sections to run (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs, stores)")
    parser.add_argument("--fan-seconds", type=float, help="override the profile's typing time per fan-out run")
    args = parser.parse_args()
    if args.quick:
        args.profile = "quick"
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = args.only - {"open", "fanout", "store", "rss"}
    if unknown:
        parser.error(f"unknown sections: {sorted(unknown)}")
    return args


def main() -> int:
    args = parse_args()
    prof = dict(PROFILES[args.profile])
    if args.fan_seconds:
        prof["fan_seconds"] = args.fan_seconds

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
    }
    results: dict[str, Any] = {}
    try:
        meta["ours"] = servers.check_main_venv()
        meta["theirs"] = servers.ensure_incumbent_venv()
        results = asyncio.run(run_all(args, prof, Workspace(base)))
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc}); stopping the servers started here")
    finally:
        servers.stop_all()
        if args.keep:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    if not results:
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
