"""The bench's working folders, and the small client steps and store reads every
measurement uses (bench/run.py drives them)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from client import DocClient  # noqa: E402
from notebooks import write_notebook  # noqa: E402
from servers import OURS, Server  # noqa: E402

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
