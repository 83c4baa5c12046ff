"""Comments on a real server: what 1000 threads cost a person opening a 1000-cell notebook,
and how fast a new comment reaches everyone in it (issue 11's budgets).

    python bench/comments.py [--quick]

1. **Open.** A 1000-cell notebook without comments, and the same notebook with 1000
   threads of 3 messages each (made through the REST API, as people would). The server is
   restarted after the threads are made, so every open is cold (the room loads from the
   store). Measured from the session call to the client holding the document
   (**synced**), and to the client holding the document and every thread (**usable**: the
   `comments` event arrived too). jupyter-collaboration 5.0.4 has no comments; its open of
   the same notebook, in the same run, is printed for reference.
2. **Delivery.** 50 people in the notebook, each on a websocket (pycrdt clients in this
   process); one of them starts a thread every 200 ms, 100 times, over the socket. Latency
   is send -> each other client has the `comment` event. p50 / p99 / max over the 4,900
   deliveries, with the server's CPU over the same window.

A benchmark, not a test: it prints a table, saves JSON under bench/results/, exits 0.
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

from client import EVENT_KIND, DocClient, http_request, read_var_uint, var_uint
from report import fmt, ratio, save_results
from servers import OURS, THEIRS, ensure_incumbent_venv, log, stop_all
from workspace import Workspace, open_doc

CELLS = 1000
BODY = (
    "Why does this cell reload the data? The previous step already holds it in memory, and "
    "reading it again doubles the time of the whole notebook on the class server. "
)


class CommentClient(DocClient):
    """A replica that also keeps the JSON events it receives, with their arrival times."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.snapshot: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters: list[tuple[Any, asyncio.Future[None]]] = []

    def _on_message(self, message: bytes, t: float) -> None:
        if message and message[0] == EVENT_KIND:
            length, pos = read_var_uint(message, 1)
            event = json.loads(message[pos : pos + length])
            self.events.append((t, event))
            if event.get("type") == "comments" and not self.snapshot.done():
                self.snapshot.set_result(time.monotonic())
            for check, done in list(self.waiters):
                if not done.done() and check(event):
                    done.set_result(None)
            return
        super()._on_message(message, t)

    def send_event(self, event: dict[str, Any]) -> float:
        assert self.ws is not None
        payload = json.dumps(event).encode()
        t = time.monotonic()
        self.ws.send(bytes((EVENT_KIND,)) + var_uint(len(payload)) + payload)
        return t

    async def wait_event(self, check: Any, timeout: float = 30.0) -> None:
        if any(check(e) for _, e in self.events):
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append((check, done))
        await asyncio.wait_for(done, timeout)


async def post_comment(server: Any, path: str, request: dict[str, Any]) -> dict[str, Any]:
    status, body = await http_request(
        server.port,
        "POST",
        f"/api/collab/comments/{quote(path)}",
        {**server.headers, "Content-Type": "application/json"},
        json.dumps(request).encode(),
    )
    if status != 200:
        raise RuntimeError(f"POST comment: HTTP {status}: {body[:300]!r}")
    return dict(json.loads(body))


async def make_threads(server: Any, path: str, n: int) -> None:
    for i in range(n):
        anchor = {"kind": "cell", "cell_id": f"cell-{i % CELLS:05d}"}
        create = {"type": "comment.create", "anchor": anchor, "body": f"{i}: {BODY}"}
        thread = (await post_comment(server, path, create))["thread"]
        for k in range(2):
            reply = {"type": "comment.reply", "thread": thread["id"], "body": f"re {k}: {BODY}"}
            await post_comment(server, path, reply)


async def timed_open(server: Any, path: str, want_comments: bool) -> dict[str, float]:
    t0 = time.monotonic()
    ws_path = await server.open_session(path)
    client = CommentClient()
    await client.connect(server.port, ws_path, server.headers)
    synced = await asyncio.wait_for(client.synced, 120)
    usable = await asyncio.wait_for(client.snapshot, 120) if want_comments else synced
    threads = len(client.events[0][1]["threads"]) if want_comments else 0
    client.close()
    return {"synced": synced - t0, "usable": max(synced, usable) - t0, "threads": threads}


async def bench_open(ws: Workspace, side: str, threads: int, reps: int) -> list[dict[str, float]]:
    server = ws.server(side, f"open-{threads}")
    server.root.mkdir(parents=True)
    shutil.copyfile(ws.notebook(CELLS), server.root / "nb.ipynb")
    server.start()
    try:
        # both cases open the notebook once first, so every timed open loads it from the
        # store (a first open builds it from the file: another measurement)
        _, first = await open_doc(server, "nb.ipynb")
        if threads:
            await make_threads(server, "nb.ipynb", threads)
        first.close()
        results = []
        for _ in range(reps):
            server.stop()
            server.start()  # a cold open: the room loads from the store
            opened = await timed_open(server, "nb.ipynb", threads > 0)
            if opened["threads"] != threads:
                raise RuntimeError(f"the client got {opened['threads']} of {threads} threads")
            results.append(opened)
        return results
    finally:
        server.stop()


async def bench_delivery(ws: Workspace, people: int, count: int, every: float) -> dict[str, Any]:
    server = ws.server(OURS, "delivery")
    server.root.mkdir(parents=True)
    shutil.copyfile(ws.notebook(100), server.root / "nb.ipynb")
    server.start()
    clients: list[CommentClient] = []
    try:
        ws_path = await server.open_session("nb.ipynb")
        for _ in range(people):
            client = CommentClient()
            await client.connect(server.port, ws_path, server.headers)
            await asyncio.wait_for(client.synced, 60)
            clients.append(client)
        writer, readers = clients[0], clients[1:]
        cpu0 = server.cpu_seconds()
        sent: dict[str, float] = {}
        t_start = time.monotonic()
        for i in range(count):
            delay = t_start + i * every - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            request_id = f"r{i}"
            anchor = {"kind": "cell", "cell_id": f"cell-{i % 100:05d}"}
            sent[request_id] = writer.send_event(
                {"type": "comment.create", "id": request_id, "anchor": anchor, "body": BODY}
            )
        await writer.wait_event(lambda e: e.get("id") == f"r{count - 1}", 60)
        ids = {}  # thread id -> its request's send time
        for _, event in writer.events:
            if event.get("type") == "comment" and event.get("id") in sent:
                ids[event["thread"]["id"]] = sent[event["id"]]
        last = next(k for k, v in ids.items() if v == sent[f"r{count - 1}"])
        for reader in readers:
            await reader.wait_event(lambda e: e.get("thread", {}).get("id") == last, 60)
        cpu = server.cpu_seconds() - cpu0
        latencies = sorted(
            1000 * (t - ids[e["thread"]["id"]])
            for r in readers
            for t, e in r.events
            if e.get("type") == "comment" and e["thread"]["id"] in ids
        )
        return {
            "people": people,
            "comments": count,
            "deliveries": len(latencies),
            "expected": count * len(readers),
            "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "max_ms": latencies[-1],
            "server_cpu_s": cpu,
        }
    finally:
        for client in clients:
            client.close()
        server.stop()


def in_document(threads: int) -> dict[str, Any]:
    """The other design (decision 7): the same threads inside the notebook's Yjs document,
    a top-level map of thread maps with their messages. Size of the whole state and the
    time pycrdt takes to apply it to a fresh doc (what every open and every reader pays),
    median of 5, with and without the threads."""
    from jupyter_ydoc import YNotebook
    from notebooks import notebook
    from pycrdt import Array, Doc, Map, Text

    content = notebook(CELLS)

    def build(with_threads: bool) -> bytes:
        doc: Doc = Doc()
        YNotebook(doc).set(content)
        if with_threads:
            comments = doc.get("comments", type=Map)
            with doc.transaction():
                for i in range(threads):
                    messages = [
                        Map({"author": "bob", "body": Text(f"{k}: {BODY}"), "created_at": 1.0})
                        for k in range(3)
                    ]
                    comments[f"t{i}"] = Map(
                        {
                            "anchor": Map({"kind": "cell", "cell_id": f"cell-{i % CELLS:05d}"}),
                            "author": "bob",
                            "status": "open",
                            "messages": Array(messages),
                        }
                    )
        return doc.get_update()

    out: dict[str, Any] = {}
    for key, with_threads in (("plain", False), ("with_threads", True)):
        state = build(with_threads)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            Doc().apply_update(state)
            times.append(time.perf_counter() - t0)
        out[key] = {"bytes": len(state), "apply_s": statistics.median(times)}
    return out


async def run(quick: bool) -> dict[str, Any]:
    reps = 1 if quick else 3
    threads = 200 if quick else 1000
    ws = Workspace(Path(tempfile.mkdtemp(prefix="collab-comments-bench-")))
    out: dict[str, Any] = {"threads": threads, "cells": CELLS, "reps": reps}
    try:
        log(f"open: {CELLS} cells without comments")
        out["open_plain"] = await bench_open(ws, OURS, 0, reps)
        log(f"open: {CELLS} cells with {threads} threads of 3 messages (made over REST)")
        out["open_comments"] = await bench_open(ws, OURS, threads, reps)
        ensure_incumbent_venv()
        log("open: jupyter-collaboration 5.0.4, the same notebook (it has no comments)")
        out["open_theirs"] = await bench_open(ws, THEIRS, 0, reps)
        log(f"in the document instead: {threads} threads in the notebook's Yjs document")
        out["in_document"] = in_document(threads)
        log("delivery: 50 people, one comment every 200 ms")
        out["delivery"] = await bench_delivery(ws, 50, 40 if quick else 100, 0.2)
    finally:
        stop_all()
        shutil.rmtree(ws.base, ignore_errors=True)
    return out


def in_document_rows(doc: dict[str, Any]) -> list[str]:
    plain, with_threads = doc["plain"], doc["with_threads"]
    size_ratio = ratio(with_threads["bytes"], plain["bytes"])
    apply_ratio = ratio(with_threads["apply_s"], plain["apply_s"])
    return [
        f"| the other design, threads inside the notebook's Yjs document: its state"
        f" | {plain['bytes'] / 1e6:.2f} MB | {with_threads['bytes'] / 1e6:.2f} MB"
        f" | {size_ratio:.2f} | - |",
        f"| the other design: pycrdt applies that state | {fmt(plain['apply_s'], ' s')}"
        f" | {fmt(with_threads['apply_s'], ' s')} | {apply_ratio:.2f} | - |",
    ]


def report(out: dict[str, Any]) -> str:
    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    plain, with_c, theirs = out["open_plain"], out["open_comments"], out["open_theirs"]
    d = out["delivery"]
    lines = [
        f"### Comments: {out['cells']}-cell notebook, {out['threads']} threads of 3 messages"
        f" (median of {out['reps']} cold opens)",
        "",
        "| measure | without comments | with comments | with/without | theirs (no comments) |",
        "| --- | --- | --- | --- | --- |",
        f"| open, synced | {fmt(med(plain, 'synced'), ' s')} | {fmt(med(with_c, 'synced'), ' s')}"
        f" | {fmt(ratio(med(with_c, 'synced'), med(plain, 'synced')), '', 3)}"
        f" | {fmt(med(theirs, 'synced'), ' s')} |",
        f"| open, usable (document and threads) | {fmt(med(plain, 'usable'), ' s')}"
        f" | {fmt(med(with_c, 'usable'), ' s')}"
        f" | {fmt(ratio(med(with_c, 'usable'), med(plain, 'usable')), '', 3)}"
        f" | {fmt(med(theirs, 'usable'), ' s')} |",
        *in_document_rows(out["in_document"]),
        "",
        f"Delivery: {d['people']} people, {d['comments']} comments one every 200 ms,"
        f" {d['deliveries']} of {d['expected']} deliveries: p50 {d['p50_ms']:.1f} ms,"
        f" p99 {d['p99_ms']:.1f} ms, max {d['max_ms']:.1f} ms; server CPU"
        f" {d['server_cpu_s']:.2f} s. jupyter-collaboration has no comments to compare.",
        "",
        "| budget (issue 11) | value | status |",
        "| --- | --- | --- |",
    ]
    for what, key in (("the document", "synced"), ("the document and every thread", "usable")):
        open_ratio = ratio(med(with_c, key), med(plain, key))
        lines.append(
            f"| open ({what}) with {out['threads']} threads <= 1.2x without | {open_ratio:.3f} |"
            f" {'pass' if open_ratio <= 1.2 else 'FAIL'} |"
        )
    lines.append(
        f"| a new comment reaches 50 people, p99 <= 50 ms | {d['p99_ms']:.1f} ms |"
        f" {'pass' if d['p99_ms'] <= 50 else 'FAIL'} |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 threads, 1 open each")
    args = parser.parse_args()
    out = asyncio.run(run(args.quick))
    text = report(out)
    print(text)
    save_results("comments", out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
