"""How fast the History panel's requests are on a long history (issue 13's budgets: a
notebook with 100,000 edits lists its versions in at most 1 s and previews a version in
at most 0.5 s).

    python bench/history.py [--edits 100000] [--reps 5]

One writer types ``--edits`` single characters into a 20-cell notebook (round-robin over
the cells, as fast as the server takes them), naming a version every tenth of the way
(the automatic ones come too: a version is made after each stretch of changes). Then,
after the store settled, each request of the panel is timed ``--reps`` times on a fresh
connection (median): the list, a preview of the middle version, a preview of the first
one (the whole history replayed), and a diff of the first version with now (nbdime).
The store size is printed with it.

Ours only, for now: jupyter-collaboration 5.0.4 keeps no versions (its timeline replays
a forked room); the issue's side-by-side comparison is the store size after a one-hour
class, next. A benchmark, not a test: it prints a table, saves JSON, exits 0.
"""

from __future__ import annotations

if __name__ == "__main__":
    from main_venv import ensure_main_venv  # this script's folder is on sys.path

    ensure_main_venv(__file__)

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from client import DocClient, http_request
from notebooks import write_notebook
from pycrdt import Array
from report import fmt, save_results
from servers import OURS, Server, log, stop_all, wait_store_settled

CELLS = 20
PATH = "long.ipynb"


async def call(server: Server, method: str, query: str = "", body: Any = None) -> Any:
    headers = dict(server.headers)
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, raw = await http_request(
        server.port, method, f"/api/collab/history/{quote(PATH)}{query}", headers, data, 120
    )
    if status != 200:
        raise RuntimeError(f"{method} history{query} answered {status}: {raw[:300]!r}")
    return json.loads(raw)


async def timed(server: Server, reps: int, query: str) -> tuple[float, int]:
    """Median seconds of ``reps`` GETs, and the answer's size in bytes."""
    times, size = [], 0
    for _ in range(reps):
        start = time.perf_counter()
        answer = await call(server, "GET", query)
        times.append(time.perf_counter() - start)
        size = len(json.dumps(answer))
    return statistics.median(times), size


async def run(edits: int, reps: int) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="collab-history-bench-"))
    server = Server(side=OURS, root=base / "root", state=base / "state")
    # one writer typing as fast as it can: lift the per-connection rate limit
    server.extra_args = [
        "--CollabApp.max_messages_per_second=1000000",
        "--CollabApp.message_burst=1000000",
        "--CollabApp.version_stretch_seconds=5",
    ]
    write_notebook(server.root / PATH, CELLS)
    try:
        server.start()
        ws_path = await server.open_session(PATH)
        writer = DocClient()
        await writer.connect(server.port, ws_path, server.headers)
        await asyncio.wait_for(writer.synced, 60)
        cells = writer.doc.get("cells", type=Array)
        started = time.monotonic()
        for n in range(edits):
            source = cells[n % CELLS]["source"]
            source.insert(len(source), "abcdefghij"[n % 10])
            if n % 500 == 499:
                await asyncio.sleep(0)  # let the socket drain
            if n % (edits // 10) == edits // 10 - 1:
                await call(server, "POST", body={"type": "version.name", "name": f"at {n + 1}"})
        typed = time.monotonic() - started
        log(f"typed {edits} edits in {typed:.1f} s; waiting for the store")
        store_bytes, still, _ = await wait_store_settled(server, quiet=3.0, timeout=600)
        listed = await call(server, "GET")
        versions = listed["versions"]
        first, middle = versions[0]["id"], versions[len(versions) // 2]["id"]
        list_s, list_size = await timed(server, reps, "")
        middle_s, middle_size = await timed(server, reps, f"?version={middle}")
        first_s, _ = await timed(server, reps, f"?version={first}")
        diff_s, diff_size = await timed(server, reps, f"?from={first}&to=current")
        writer.close()
        return {
            "edits": edits,
            "reps": reps,
            "typed_s": typed,
            "versions": len(versions),
            "history_bytes": listed["size"]["bytes"],
            "store_bytes": store_bytes,
            "store_still_writing": still,
            "list_s": list_s,
            "list_bytes": list_size,
            "preview_middle_s": middle_s,
            "preview_bytes": middle_size,
            "preview_first_s": first_s,
            "diff_s": diff_s,
            "diff_bytes": diff_size,
        }
    finally:
        server.stop()
        stop_all()
        shutil.rmtree(base, ignore_errors=True)


def report(out: dict[str, Any]) -> str:
    def ms(seconds: float) -> str:
        return fmt(seconds * 1000, " ms")

    lines = [
        f"### History: a {CELLS}-cell notebook after {out['edits']:,} edits"
        f" ({out['versions']} versions; median of {out['reps']} requests each)",
        "",
        "| request | time | answer |",
        "| --- | --- | --- |",
        f"| list the versions | {ms(out['list_s'])} | {fmt(out['list_bytes'] / 1024, ' KiB')} |",
        f"| preview the middle version | {ms(out['preview_middle_s'])}"
        f" | {fmt(out['preview_bytes'] / 1024, ' KiB')} |",
        f"| preview the first version | {ms(out['preview_first_s'])} | |",
        f"| diff the first version with now (nbdime) | {ms(out['diff_s'])}"
        f" | {fmt(out['diff_bytes'] / 1024, ' KiB')} |",
        "",
        f"Typed in {out['typed_s']:.1f} s. Store: {fmt(out['store_bytes'] / 1024, ' KiB')}"
        f" (this document's history: {fmt(out['history_bytes'] / 1024, ' KiB')}).",
        "",
        "| budget (issue 13) | value | status |",
        "| --- | --- | --- |",
        f"| list versions of a 100,000-edit notebook <= 1 s | {ms(out['list_s'])} |"
        f" {'pass' if out['list_s'] <= 1.0 else 'FAIL'} |",
        f"| preview a version <= 0.5 s | {ms(out['preview_middle_s'])} |"
        f" {'pass' if out['preview_middle_s'] <= 0.5 else 'FAIL'} |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    out = asyncio.run(run(args.edits, args.reps))
    text = report(out)
    print(text)
    save_results("history", out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
