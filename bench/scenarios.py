"""The measurements of bench/run.py, one coroutine per section: open, fan-out,
classroom, store growth and memory (bench/README.md says what each number means)."""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import fanout  # noqa: E402
import nodereaders  # noqa: E402
import psutil  # noqa: E402
import servers  # noqa: E402
from client import DocClient  # noqa: E402
from servers import THEIRS, wait_store_settled  # noqa: E402
from workspace import Workspace, open_doc, store_rows, type_keys  # noqa: E402


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
