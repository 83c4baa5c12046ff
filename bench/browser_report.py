"""The Markdown report of bench/browser.py: tables of ours vs jupyter-collaboration."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from report import Table, fmt, median  # noqa: E402
from servers import OURS, THEIRS  # noqa: E402

SIDES = (OURS, THEIRS)


# -- report -----------------------------------------------------------------------------------


def _row(table: Table, label: str, ours: str, theirs: str, note: str = "") -> None:
    table.rows.append([label, ours, theirs, "", note])


def build_report(results: dict[str, Any], meta: dict[str, Any]) -> str:
    prof = meta["profile"]
    table = Table("browser", "ours", "theirs", "ours/theirs", "note")
    opens = results.get("open", {})

    def col(side: str, key: str, scale: float = 1.0) -> list[float]:
        return [r[key] * scale for r in opens.get(side, []) if r.get(key) is not None]

    cells = prof["cells"]
    ready = {side: col(side, "ready_ms", 1e-3) for side in SIDES}
    table.runs(
        f"open {cells} cells: first cell editable, median [min–max]",
        ready[OURS],
        ready[THEIRS],
        " s",
        f"{len(ready[OURS])}/{len(ready[THEIRS])} runs",
    )
    mins = {side: min(ready[side]) if ready[side] else math.nan for side in SIDES}
    table.one(f"open {cells} cells: first cell editable, min", mins[OURS], mins[THEIRS], " s")
    splash = {side: median(col(side, "splash_gone_ms", 1e-3)) for side in SIDES}
    table.one("… of which JupyterLab started (splash gone), median", *splash.values(), " s")
    after = {
        side: median(
            [
                (r["ready_ms"] - r["splash_gone_ms"]) / 1000
                for r in opens.get(side, [])
                if r.get("ready_ms") is not None and r.get("splash_gone_ms") is not None
            ]
        )
        for side in SIDES
    }
    table.one("… and from then to first cell editable, median", *after.values(), " s")
    failed = {
        side: sum(1 for r in opens.get(side, []) if r.get("ready_ms") is None) for side in SIDES
    }
    dialogs = {
        side: sorted({d for r in opens.get(side, []) for d in r.get("dialogs", [])})
        for side in SIDES
    }
    foreign = {
        side: max((r["load"]["foreign_cores"] for r in opens.get(side, [])), default=math.nan)
        for side in SIDES
    }
    _row(
        table,
        "open: other processes' CPU during a run, max",
        fmt(foreign[OURS], " cores"),
        fmt(foreign[THEIRS], " cores"),
        "load not started by this bench",
    )
    _row(
        table,
        "open: runs not ready in 120 s / dialogs shown",
        f"{failed[OURS]} / {', '.join(dialogs[OURS]) or 'none'}",
        f"{failed[THEIRS]} / {', '.join(dialogs[THEIRS]) or 'none'}",
    )

    keys = results.get("keys", {})
    if keys:
        gap = prof["gap_ms"]
        n = prof["keys"]
        for key, label in (("p50_ms", "p50"), ("p99_ms", "p99"), ("max_ms", "max")):
            o, t = (keys.get(side, {}).get(key, math.nan) for side in SIDES)
            table.one(
                f"keystroke → remote render, {label}", o, t, " ms", f"{n} keys, {gap:g} ms apart"
            )
        arrived = [keys[s]["arrived"] if s in keys else None for s in SIDES]
        _row(
            table,
            "keys that arrived in B",
            *(f"{a}/{n}" if a is not None else "-" for a in arrived),
        )
        final = [
            fmt(bool(keys[s]["converged"] and all(keys[s]["final_text_ok"].values())))
            if s in keys
            else "-"
            for s in SIDES
        ]
        _row(table, "final text equal in A and B", *final)
        skew = [
            f"{keys[s]['clock']['skew_ms']:+.2f} ± {keys[s]['clock']['uncertainty_ms']:.2f} ms"
            if s in keys
            else "-"
            for s in SIDES
        ]
        _row(table, "clock skew B - A (sanity)", *skew)
        users = [
            f"{fmt(keys[s]['users']['A'] != keys[s]['users']['B'])} "
            f"({str(keys[s]['users']['A'])[:8]}… / {str(keys[s]['users']['B'])[:8]}…)"
            if s in keys
            else "-"
            for s in SIDES
        ]
        _row(table, "keys: A and B are distinct users", *users)
        kernels = [
            f"{keys[s]['settle']['kernels']} / {keys[s]['settle']['sessions']}"
            if "settle" in keys.get(s, {})
            else "-"
            for s in SIDES
        ]
        _row(table, "keys: kernels / sessions for the one notebook", *kernels)
        _row(
            table,
            f"keys: keys A sent late (machine too busy for the {gap:g} ms pace)",
            *(f"{keys[s]['late_keys']}/{n}" if s in keys else "-" for s in SIDES),
        )
        _row(
            table,
            "keys: other processes' CPU while typing",
            *(fmt(keys.get(s, {}).get("load", {}).get("foreign_cores"), " cores") for s in SIDES),
        )

    lines = [
        f"## Browser: ours ({meta['ours_commit']}) vs jupyter-collaboration {meta['theirs']}",
        "",
        f"{meta['date']}, {meta['cpus']} cores, {meta['tools']['chromium']}, Playwright "
        f"{meta['tools']['playwright']}, profile {meta['profile_name']}",
        "",
        *table.lines(),
    ]
    if results.get("errors"):
        lines += ["Errors:", *(f"* {e}" for e in results["errors"]), ""]
    return "\n".join(lines)


# -- main -------------------------------------------------------------------------------------
