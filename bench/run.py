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
import os
import shutil
import signal
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

import nodereaders  # noqa: E402
import servers  # noqa: E402
from report import build_report  # noqa: E402
from servers import FLOOR, OURS, THEIRS, log  # noqa: E402

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

from scenarios import (  # noqa: E402
    ReaderPool,
    bench_classroom,
    bench_fanout,
    bench_open,
    bench_rss,
    bench_store,
    fan_key,
)
from workspace import Workspace, git_state  # noqa: E402


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

    async def fresh_pool() -> nodereaders.NodeReaderPool:
        # Fresh Node processes run their first few thousand messages through V8's
        # baseline tiers: the first measured run paid for that warm-up (readers 16 %
        # of a core instead of 9, its p99 up to 1.6x the next run's). One discarded run
        # on the floor, as long as the first row, warms them for every side alike.
        started = await nodereaders.NodeReaderPool.start(2)
        rate, n = prof["class_grid"][0]
        warm_up = bench_classroom(ws, started, FLOOR, (rate, n), prof["class_seconds"], -1)
        await attempt(errors, "classroom warm-up", warm_up)
        return started

    pool = await fresh_pool()
    try:
        out["clock_check_us"] = await pool.check_clock()
        for rep in range(prof["class_reps"]):
            for rate, n in prof["class_grid"]:
                # each rep starts with another side, so none is always first after a pause
                for side in sides[rep % len(sides) :] + sides[: rep % len(sides)]:
                    if not pool.alive():
                        await pool.close()
                        pool = await fresh_pool()
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
