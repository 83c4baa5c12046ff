"""The printed result: side-by-side Markdown tables (ours | theirs | ours/theirs) and the
issue's budgets marked pass/fail, as information."""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

OURS, THEIRS, FLOOR = "ours", "theirs", "floor"
MIB = 1024 * 1024

BUDGETS = {
    "cold_open_5000_ratio": 0.35,
    "fanout_p99_100x100_ratio": 0.25,
    "fanout_p99_500x50_ours_ms": 100.0,
    "store_bytes_per_key_ratio": 0.3,
    "classroom_cpu_per_delivery_vs_floor": 1.1,
    "classroom_p99_vs_floor": 1.1,
}


def save_results(name: str, out: Any, text: str) -> Path:
    """Keep a run: ``bench/results/<time>-<name>.json`` (every raw number) and ``.md`` (the
    printed report), beside this file; returns the JSON's path."""
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (results / f"{stamp}-{name}.json").write_text(json.dumps(out, indent=1))
    (results / f"{stamp}-{name}.md").write_text(text + "\n")
    print(f"saved bench/results/{stamp}-{name}.{{md,json}}", file=sys.stderr, flush=True)
    return results / f"{stamp}-{name}.json"


def median(values: list[Any]) -> float:
    clean = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return statistics.median(clean) if clean else math.nan


def ratio(ours: Any, theirs: Any) -> float:
    try:
        o, t = float(ours), float(theirs)
    except (TypeError, ValueError):
        return math.nan
    return o / t if t else math.nan


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


def fmt_runs(values: list[Any], unit: str = "") -> str:
    """Median, with [min–max] when there are several runs."""
    clean = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not clean:
        return "-"
    text = fmt(statistics.median(clean), unit)
    if len(clean) > 1:
        text += f" [{fmt(min(clean))}–{fmt(max(clean))}]"
    return text


class Table:
    def __init__(self, *header: str) -> None:
        self.header = list(header)
        self.rows: list[list[str]] = []

    def runs(
        self, label: str, ours: list[Any], theirs: list[Any], unit: str = "", note: str = ""
    ) -> None:
        """A row of medians over runs, with their ranges, and the ratio of the medians."""
        r = fmt(ratio(median(ours), median(theirs)), "", 2)
        self.rows.append([label, fmt_runs(ours, unit), fmt_runs(theirs, unit), r, note])

    def one(self, label: str, ours: Any, theirs: Any, unit: str = "", note: str = "") -> None:
        r = fmt(ratio(ours, theirs), "", 2)
        self.rows.append([label, fmt(ours, unit), fmt(theirs, unit), r, note])

    def lines(self) -> list[str]:
        width = len(self.header)
        out = [
            "| " + " | ".join(self.header) + " |",
            "|" + "|".join(" --- " for _ in self.header) + "|",
        ]
        out += ["| " + " | ".join(row[:width]) + " |" for row in self.rows]
        return out + [""]


def _open_section(
    opens: dict[str, Any], meta: dict[str, Any], budgets: dict[str, Any]
) -> list[str]:
    out = [
        f"### 1. Open a notebook: session PUT -> SyncStep2 applied by the client "
        f"(seconds, median of {meta['open_reps']} [min–max])",
        "first = a never-seen file on a fresh server process; cold = a fresh server process whose "
        "history store already holds the file (a previous process opened it once and was shut down "
        "cleanly); warm = the room is already loaded (a second client). Each fresh process is "
        "timed "
        "once its start-up CPU has settled.",
        "",
    ]
    table = Table("open", "ours", "theirs", "ours/theirs")
    for cells in meta["open_sizes"]:
        o_runs, t_runs = opens[OURS][str(cells)], opens[THEIRS][str(cells)]
        for kind in ("first", "cold", "warm"):
            o, t = [r[kind] for r in o_runs], [r[kind] for r in t_runs]
            table.runs(f"{cells} cells, {kind}", o, t, " s")
            if cells == 5000 and kind == "cold":
                budgets["cold"] = (median(o), median(t))
        o_b, t_b = (
            median([r["step2_bytes"] for r in o_runs]),
            median([r["step2_bytes"] for r in t_runs]),
        )
        table.one(f"{cells} cells, SyncStep2 size", o_b / 1024, t_b / 1024, " KiB")
    out += table.lines()
    paths = _merge_counts([r.get("incumbent_paths") for rs in opens[THEIRS].values() for r in rs])
    out += [f"The incumbent's log at its cold opens (all runs): {paths}.", ""]
    return out


def _fanout_section(
    fans: dict[str, Any], meta: dict[str, Any], budgets: dict[str, Any]
) -> list[str]:
    out = [
        f"### 2. Fan-out: 1 writer typing single characters into cell 0 of a 100-cell notebook "
        f"(unless said otherwise) for {meta['fan_seconds']:g} s, N readers in 2 processes "
        f"(median of {meta['fan_reps']} [min–max])",
        "latency = writer send -> reader has the update, in ms; CPU per delivery = server CPU "
        "seconds / (updates x N), in µs; loss = lost/duplicated/out-of-order deliveries summed "
        "over "
        "runs (must be 0/0/0); converged = a reader replica applying every update ends with the "
        "writer's text; load = CPU cores used by the 2 reader processes.",
        "",
    ]
    table = Table("fan-out", "ours", "theirs", "ours/theirs", "note (ours / theirs)")
    for rate, n, cells in meta["fan_grid"]:
        key = f"{rate}x{n}" if cells == 100 else f"{rate}x{n}@{cells}"
        o, t = fans[OURS].get(key), fans[THEIRS].get(key)
        if not o or not t:
            continue
        label = f"{rate}/s x {n}" if cells == 100 else f"{rate}/s x {n}, {cells} cells"
        note = (
            f"loss {_loss(o)} / {_loss(t)}; converged {_all(o, 'converged')} / "
            f"{_all(t, 'converged')}; max {fmt(median(_col(o, 'max_ms')))} / "
            f"{fmt(median(_col(t, 'max_ms')))} ms; "
            f"load {fmt(median(_col(o, 'loadgen_cores')), '', 2)}"
            f" / {fmt(median(_col(t, 'loadgen_cores')), '', 2)} cores"
        )
        table.runs(f"{label}: p50 ms", _col(o, "p50_ms"), _col(t, "p50_ms"), "", note)
        table.runs(f"{label}: p99 ms", _col(o, "p99_ms"), _col(t, "p99_ms"))
        o_cpu, t_cpu = _col(o, "cpu_us_per_delivery"), _col(t, "cpu_us_per_delivery")
        table.runs(f"{label}: server CPU per delivery", o_cpu, t_cpu, " µs")
        o_pct, t_pct = _col(o, "server_cpu_pct"), _col(t, "server_cpu_pct")
        table.runs(f"{label}: server CPU", o_pct, t_pct, " %")
        if (rate, n, cells) == (100, 100, 100):
            budgets["fan100"] = (median(_col(o, "p99_ms")), median(_col(t, "p99_ms")))
        if (rate, n, cells) == (500, 50, 100):
            budgets["fan500"] = (median(_col(o, "p99_ms")), median(_col(t, "p99_ms")))
    return out + table.lines()


def _classroom_section(
    cls: dict[str, Any], meta: dict[str, Any], budgets: dict[str, Any]
) -> list[str]:
    out = [
        f"### 5. Classroom: 1 typist writing single characters into cell 0 of a 100-cell "
        f"notebook for {meta['class_seconds']:g} s, N viewers on Node `ws` readers in 2 "
        f"processes (median of {meta['class_reps']} [min–max])",
        "floor = bench/floor.py, the cheapest Python relay of our contract (tornado + pycrdt: "
        "frame built once, one socket.send per reader when nothing is pending, no "
        "persistence). latency = writer send -> reader has the update, in ms. CPU per "
        "delivery = server CPU seconds / (updates x N), in µs. server / readers / others = "
        "CPU used during the run by the server, the 2 reader processes, and every other "
        "process of the machine (in % of one core; the machine has "
        f"{meta['cpus']}). Readers check the clock: Node's hrtime read between two Python "
        f"time.monotonic_ns reads (widest window {fmt(cls.get('clock_check_us'), ' µs')}).",
        "",
    ]
    table = Table("classroom", "ours", "floor", "theirs", "ours/floor", "ours/theirs", "note")

    def row(label: str, key: str, runs: dict[str, Any], unit: str = "", note: str = "") -> None:
        cols = {side: _col(runs[side], key) for side in (OURS, FLOOR, THEIRS)}
        meds = {side: median(v) for side, v in cols.items()}
        table.rows.append(
            [
                label,
                *(fmt_runs(cols[side], unit) for side in (OURS, FLOOR, THEIRS)),
                fmt(ratio(meds[OURS], meds[FLOOR]), "", 3),
                fmt(ratio(meds[OURS], meds[THEIRS]), "", 2),
                note,
            ]
        )

    def three(runs: dict[str, Any], key: str, digits: int = 2) -> str:
        return " / ".join(
            fmt(median(_col(runs[s], key)), "", digits) for s in (OURS, FLOOR, THEIRS)
        )

    def each(show: Any) -> str:
        return " / ".join(show(runs[s]) if runs[s] else "-" for s in (OURS, FLOOR, THEIRS))

    marginal: dict[str, Any] = {}
    for rate, n in meta["class_grid"]:
        key = f"{rate}x{n}"
        runs = {side: cls.get(side, {}).get(key) or [] for side in (OURS, FLOOR, THEIRS)}
        if not any(runs.values()):
            continue  # (a side left out with --class-sides shows as "-")
        label = f"{n} viewers x {rate}/s"
        cpu_note = (
            f"server {three(runs, 'server_cpu_pct', 3)} %, readers "
            f"{three(runs, 'reader_cpu_pct', 3)} %, others {three(runs, 'others_cpu_pct', 3)} %"
            " (ours / floor / theirs)"
        )
        row(f"{label}: p50 ms", "p50_ms", runs, "", cpu_note)
        row(
            f"{label}: p99 ms",
            "p99_ms",
            runs,
            "",
            cpu_note + f"; max {three(runs, 'max_ms', 3)} ms",
        )
        row(
            f"{label}: server CPU per delivery",
            "cpu_us_per_delivery",
            runs,
            " µs",
            f"loss {each(_loss)}; converged {each(lambda rs: _all(rs, 'converged'))}",
        )
        row(f"{label}: server CPU", "server_cpu_pct", runs, " %")
        row(f"{label}: reader CPU", "reader_cpu_pct", runs, " %")
        if n >= 300 and runs[OURS] and runs[FLOOR]:
            for what, col in (("cpu", "cpu_us_per_delivery"), ("p99", "p99_ms")):
                o, f = median(_col(runs[OURS], col)), median(_col(runs[FLOOR], col))
                budgets.setdefault(f"class_{what}", []).append((label, o, f))
        for side in (OURS, FLOOR, THEIRS):
            if runs[side]:
                per_update = median([r["server_cpu_s"] / r["updates"] for r in runs[side]])
                marginal.setdefault(side, {})[(rate, n)] = per_update
    # per extra reader: the slope between two reader counts at the same rate
    for rate in sorted({r for r, _ in meta["class_grid"]}):
        counts = sorted(n for r, n in meta["class_grid"] if r == rate)
        if len(counts) < 2:
            continue
        lo, hi = counts[0], counts[-1]
        slopes, fixed = {}, {}
        for side in (OURS, FLOOR, THEIRS):
            a = marginal.get(side, {}).get((rate, lo))
            b = marginal.get(side, {}).get((rate, hi))
            slopes[side] = math.nan if a is None or b is None else 1e6 * (b - a) / (hi - lo)
            fixed[side] = math.nan if a is None else 1e6 * a - slopes[side] * lo
        if not (math.isnan(slopes[OURS]) or math.isnan(slopes[FLOOR])):
            label = f"{rate}/s, {lo} -> {hi} viewers"
            budgets.setdefault("class_slope", []).append((label, slopes[OURS], slopes[FLOOR]))
            table.rows.append(
                [
                    f"{label}: server CPU per extra viewer per update",
                    *(fmt(slopes[s], " µs") for s in (OURS, FLOOR, THEIRS)),
                    fmt(ratio(slopes[OURS], slopes[FLOOR]), "", 3),
                    fmt(ratio(slopes[OURS], slopes[THEIRS]), "", 2),
                    "slope of CPU per update between the two reader counts (medians)",
                ]
            )
            table.rows.append(
                [
                    f"{rate}/s: server CPU per update, fixed part",
                    *(fmt(fixed[s], " µs") for s in (OURS, FLOOR, THEIRS)),
                    fmt(ratio(fixed[OURS], fixed[FLOOR]), "", 3),
                    fmt(ratio(fixed[OURS], fixed[THEIRS]), "", 2),
                    "intercept of the same line (0 viewers)",
                ]
            )
    return out + table.lines()


def _store_section(store: dict[str, Any], budgets: dict[str, Any]) -> list[str]:
    o, t = store[OURS], store[THEIRS]
    out = [
        f"### 3. History store per keystroke: {o['edits']} single-char edits (80 % inserts, 20 % "
        f"backspaces) into cell 0 of a 100-cell notebook at ~{o['rate']:g}/s",
        "durable = store files (db + wal + journal) after a clean shutdown, minus the same after "
        "the "
        "file's first open and a clean shutdown. live = growth of the same files while the server "
        "runs, once they stopped changing for 5 s (a WAL store's -wal file is a high-water mark of "
        "pages written, not data).",
        "",
    ]
    table = Table("store", "ours", "theirs", "ours/theirs", "note")
    growing = f"{fmt(o['still_growing'])} / {fmt(t['still_growing'])}"
    waited = f"{fmt(o['waited_s'])} / {fmt(t['waited_s'])} s"
    table.one(
        "bytes per keystroke, durable",
        o["durable_per_key"],
        t["durable_per_key"],
        " B",
        f"still growing when we stopped waiting: {growing} (waited {waited})",
    )
    table.one("bytes per keystroke, live", o["live_per_key"], t["live_per_key"], " B")
    table.one(
        "store after the first open", o["baseline_bytes"] / 1024, t["baseline_bytes"] / 1024, " KiB"
    )
    table.one(
        "store after the edits, closed",
        o["closed_bytes"] / 1024,
        t["closed_bytes"] / 1024,
        " KiB",
        f"rows: ours {o['rows']}; theirs {t['rows']}",
    )
    table.one(
        "store files last changed, after the last keystroke",
        o["settled_after_s"],
        t["settled_after_s"],
        " s",
    )
    budgets["store"] = (o["durable_per_key"], t["durable_per_key"])
    return out + table.lines()


def _rss_section(rss: dict[str, Any]) -> list[str]:
    o, t = rss[OURS], rss[THEIRS]
    rooms = o["rooms"]
    out = [f"### 4. Server memory with {rooms} open rooms (10-cell notebooks, one client each)", ""]
    table = Table("memory", "ours", "theirs", "ours/theirs")
    table.one("RSS idle, no room", o["rss_idle"] / MIB, t["rss_idle"] / MIB, " MiB")
    table.one("RSS with 1 room", o["rss_1"] / MIB, t["rss_1"] / MIB, " MiB")
    table.one(f"RSS with {rooms} rooms", o["rss_all"] / MIB, t["rss_all"] / MIB, " MiB")
    table.one("RSS per extra room", o["per_extra_room"] / 1024, t["per_extra_room"] / 1024, " KiB")
    table.one(f"idle CPU with {rooms} rooms", o["idle_cpu_pct"], t["idle_cpu_pct"], " %")
    table.one(
        f"time to open {rooms - 1} more rooms, one by one", o["open_all_s"], t["open_all_s"], " s"
    )
    return out + table.lines()


def _budget_section(budgets: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    table = Table("budget (from the issue)", "measured", "value", "status")
    summary: dict[str, Any] = {}

    def add(
        name: str, text: str, detail: str, value: float, ok: bool, key: str | None = None
    ) -> None:
        status = "-" if math.isnan(value) else ("pass" if ok else "FAIL")
        summary[key or name] = {"value": value, "limit": BUDGETS[name], "status": status}
        table.rows.append([text, detail, fmt(value), status])

    if "cold" in budgets:
        o, t = budgets["cold"]
        v = ratio(o, t)
        add(
            "cold_open_5000_ratio",
            "cold open, 5000 cells: ours/theirs <= 0.35",
            f"{fmt(o)} s vs {fmt(t)} s",
            v,
            v <= BUDGETS["cold_open_5000_ratio"],
        )
    if "fan100" in budgets:
        o, t = budgets["fan100"]
        v = ratio(o, t)
        add(
            "fanout_p99_100x100_ratio",
            "fan-out p99, 100 readers x 100/s: ours/theirs <= 0.25",
            f"{fmt(o)} ms vs {fmt(t)} ms",
            v,
            v <= BUDGETS["fanout_p99_100x100_ratio"],
        )
    if "fan500" in budgets:
        o, t = budgets["fan500"]
        add(
            "fanout_p99_500x50_ours_ms",
            "fan-out p99, 50 readers x 500/s: ours < 100 ms",
            f"ours {fmt(o)} ms (theirs {fmt(t)} ms)",
            o,
            o < BUDGETS["fanout_p99_500x50_ours_ms"],
        )
    if "store" in budgets:
        o, t = budgets["store"]
        v = ratio(o, t)
        add(
            "store_bytes_per_key_ratio",
            "store bytes per keystroke (durable): ours/theirs <= 0.3",
            f"{fmt(o)} B vs {fmt(t)} B",
            v,
            v <= BUDGETS["store_bytes_per_key_ratio"],
        )
    for what, name, text in (
        ("cpu", "classroom_cpu_per_delivery_vs_floor", "server CPU per delivery"),
        ("slope", "classroom_cpu_per_delivery_vs_floor", "server CPU per extra viewer"),
        ("p99", "classroom_p99_vs_floor", "p99"),
    ):
        for label, o, f in budgets.get(f"class_{what}", []):
            v = ratio(o, f)
            unit = " ms" if what == "p99" else " µs"
            add(
                name,
                f"classroom {label}, {text}: ours/floor <= 1.1",
                f"{fmt(o, unit)} vs {fmt(f, unit)}",
                v,
                v <= BUDGETS[name],
                key=f"{name} {label}",
            )
    out = ["### Budgets (information, not asserted)", ""]
    out += table.lines() if table.rows else ["(no budget applies to the sections run)", ""]
    return out, summary


def build_report(
    results: dict[str, Any], profile: str, meta: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The Markdown report and the budget summary."""
    ours = meta.get("ours", {})
    lines = [
        f"## jupyter-collab bench ({profile} profile), {meta['date']}",
        "",
        f"ours: jupyter-collab {ours.get('jupyter-collab')} at {meta.get('ours_commit')} "
        f"(jupyter_server "
        f"{ours.get('jupyter_server')}, pycrdt {ours.get('pycrdt')}, "
        f"tornado {ours.get('tornado')}); "
        f"theirs: jupyter-collaboration {meta.get('theirs')} with its defaults; both with their "
        f"default settings otherwise. {meta['cpus']} cores. "
        "ours/theirs: lower is better everywhere.",
        "",
        _load_line(meta),
        "",
    ]
    budgets: dict[str, Any] = {}
    if results.get("open"):
        lines += _open_section(results["open"], meta, budgets)
    if results.get("fanout"):
        lines += _fanout_section(results["fanout"], meta, budgets)
    store = results.get("store") or {}
    if OURS in store and THEIRS in store:
        lines += _store_section(store, budgets)
    rss = results.get("rss") or {}
    if OURS in rss and THEIRS in rss:
        lines += _rss_section(rss)
    if results.get("classroom"):
        lines += _classroom_section(results["classroom"], meta, budgets)
    budget_lines, summary = _budget_section(budgets)
    lines += budget_lines
    if results.get("errors"):
        lines += [
            "Failed measurements (left out above):",
            *(f"- {e}" for e in results["errors"]),
            "",
        ]
    return "\n".join(lines), summary


def _load_line(meta: dict[str, Any]) -> str:
    def three(values: Any) -> str:
        return " ".join(f"{v:.2f}" for v in values) if values else "-"

    return (
        f"Machine load average (1, 5, 15 min): {three(meta.get('load_start'))} at the start, "
        f"{three(meta.get('load_end'))} at the end (the bench alone keeps it near 1-2; more "
        "means other work shared the cores)."
    )


def _col(runs: list[dict[str, Any]], key: str) -> list[Any]:
    return [r[key] for r in runs]


def _all(runs: list[dict[str, Any]], key: str) -> str:
    return fmt(all(r[key] for r in runs))


def _loss(runs: list[dict[str, Any]]) -> str:
    lost = sum(r["lost"] for r in runs)
    dup = sum(r["duplicated"] for r in runs)
    ooo = sum(r["out_of_order"] for r in runs)
    timed_out = " (timed out)" if any(r["timed_out"] for r in runs) else ""
    return f"{lost}/{dup}/{ooo}{timed_out}"


def _merge_counts(items: list[dict[str, int] | None]) -> dict[str, int]:
    total: dict[str, int] = {}
    for item in items:
        for k, v in (item or {}).items():
            total[k] = total.get(k, 0) + v
    return total
