"""``jupyter collab``: read a document's stored history, for grading and research.

    jupyter collab history PATH [--root DIR] [--db FILE]
    jupyter collab export PATH [--format json|csv] [--since WHEN] [--root DIR] [--db FILE]

``history`` prints the versions of a document: when, which kind, who changed it since
the version before and what (cells added, changed, removed, moved). ``export`` writes
everything kept about it: its versions, who wrote each character still in each cell,
what each person contributed (characters typed and removed, cells created, cells run,
comments), the runs and the comment threads; ``--format csv`` writes the contributions
as a table. ``--since`` (a date ``2026-12-01``, a time ``2026-12-01T09:00``, or epoch
seconds) keeps versions, runs and comments from then on.

``PATH`` is relative to the server's root (``--root``, default: the current folder, as
``jupyter lab`` started here). The store is read while the server runs; nothing is
written. docs/HISTORY.md shows an example of each output.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

from . import documents
from .contributions import Counts, Tally, cell_authorship
from .paths import canonical_path
from .rooms.comments import thread_json
from .rooms.versions import version_json
from .store import History, Store


def default_db() -> str:
    """Where ``CollabApp.history_db_path`` puts the store by default."""
    return str(Path(jupyter_data_dir()) / "collab" / "history.sqlite")


def parse_since(raw: str | None) -> float | None:
    """Epoch seconds from a date, an ISO time or a number (``None`` for none).

    Raises:
        ValueError: none of those.
    """
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    when = dt.datetime.fromisoformat(raw)
    if when.tzinfo is None:
        when = when.astimezone()  # the local time zone, as people write dates
    return when.timestamp()


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat(timespec="seconds")


class NotStored(Exception):
    """The store has no history for the path."""


async def read_document(db: str, root: str, path: str, since: float | None) -> dict[str, Any]:
    """Everything the store keeps about one document, as the export writes it."""
    if not os.path.exists(db):
        raise NotStored(f"no history store at {db}")
    store = Store(db)
    await store.open()
    try:
        record = await store.history.find_document(root, path)
        if record is None:
            raise NotStored(f"{path}: no history under {root} in {db}")
        doc_id, kind = record.doc_id, record.kind
        versions = await store.versions.versions(doc_id)
        history = await store.history.load(doc_id)
        authors = await store.history.client_authors(doc_id)
        rows = await store.history.update_rows(doc_id)
        runs = await store.executions.runs(doc_id)
        threads = await store.comments.threads(doc_id)
        folded = await store.history.contributions(doc_id)
        totals = await store.history.authorship(doc_id)
    finally:
        await store.close()

    stored = _replay(history, rows, kind)
    doc = documents.doc_from_updates(history.updates)
    contributions: dict[str, dict[str, Any]] = {}

    def person(name: str) -> dict[str, Any]:
        if name not in contributions:
            contributions[name] = {
                "author": name,
                **Counts().as_dict(),
                "updates": 0,
                "runs": 0,
                "run_errors": 0,
                "comments": 0,
                "first": None,
                "last": None,
            }
        return contributions[name]

    for counts in (folded, stored):
        for name, c in counts.items():
            row = person(name)
            for key, value in c.as_dict().items():
                row[key] += value
    for total in totals:
        row = person(total.author)
        row["updates"] = total.updates
        row["first"], row["last"] = iso(total.first_time), iso(total.last_time)
    kept_runs = [r for r in runs if since is None or r.started_at >= since]
    for run in kept_runs:
        row = person(run.author)
        row["runs"] += 1
        row["run_errors"] += run.status == "error"
    kept_threads = [t for t in threads if since is None or t.created_at >= since]
    for thread in kept_threads:
        for message in thread.messages:
            if not message.deleted:
                person(message.author)["comments"] += 1
    for name in ("server", "disk"):
        contributions.pop(name, None)  # not people
    return {
        "path": path,
        "type": kind,
        "doc_id": doc_id,
        "exported_at": iso(dt.datetime.now(dt.timezone.utc).timestamp()),
        "since": iso(since),
        "versions": [
            {**version_json(v), "created_at": iso(v.created_at)}
            for v in versions
            if since is None or v.created_at >= since
        ],
        "cells": cell_authorship(doc, kind, authors),
        "contributions": sorted(contributions.values(), key=lambda r: r["author"]),
        "runs": [
            {
                "cell": r.cell_id,
                "by": r.author,
                "started": iso(r.started_at),
                "finished": iso(r.finished_at),
                "status": r.status,
                "ename": r.ename,
            }
            for r in kept_runs
        ],
        "comments": [thread_json(t) for t in kept_threads],
        "stored_rows": len(rows),
    }


def _replay(history: History, rows: list[dict[str, Any]], kind: str) -> dict[str, Counts]:
    """What each person changed in the rows still stored (after the newest snapshot):
    ``history`` as loaded, ``rows`` as ``update_rows`` lists them."""
    if not rows:
        return {}
    base_rows = history.rows - len(rows)  # the snapshot comes first
    doc = documents.doc_from_updates(history.updates[:base_rows])
    tally = Tally(doc, kind)
    with tally.observing():
        for row, data in zip(rows, history.updates[base_rows:], strict=True):
            tally.apply(data, row["author"])
    return tally.counts


def contributions_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    fields = [
        "path",
        "author",
        "chars_added",
        "chars_removed",
        "cells_created",
        "updates",
        "runs",
        "run_errors",
        "comments",
        "first",
        "last",
    ]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in document["contributions"]:
        writer.writerow({"path": document["path"], **{k: row.get(k) for k in fields[1:]}})
    return out.getvalue()


def history_text(document: dict[str, Any]) -> str:
    lines = [f"{document['path']} ({document['type']}): {len(document['versions'])} versions"]
    for v in document["versions"]:
        summary = ", ".join(f"{k} {n}" for k, n in v["summary"].items() if n)
        label = v["name"] or v["kind"]
        by = f" by {v['by']}" if v["by"] else ""
        authors = ", ".join(v["authors"]) or "-"
        lines.append(
            f"  #{v['id']:<5} {v['created_at']}  {label}{by}  authors: {authors}"
            f"  {summary or 'no change'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jupyter collab", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, what in (("history", "list a document's versions"), ("export", "export it all")):
        command = commands.add_parser(name, help=what)
        command.add_argument("path", help="the document, relative to --root")
        command.add_argument("--root", default=os.getcwd(), help="the server's root folder")
        command.add_argument("--db", default=default_db(), help="the history store (SQLite)")
        command.add_argument("--since", help="a date, an ISO time or epoch seconds")
        if name == "export":
            command.add_argument("--format", choices=["json", "csv"], default="json")
    args = parser.parse_args(argv)
    root = os.path.abspath(os.path.expanduser(args.root))
    try:
        path = canonical_path(root, args.path, allow_hidden=False)
        since = parse_since(args.since)
        document = asyncio.run(read_document(args.db, root, path, since))
    except (NotStored, ValueError) as err:
        print(f"jupyter collab {args.command}: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a refused path, a store of a newer schema
        print(f"jupyter collab {args.command}: {err}", file=sys.stderr)
        return 1
    if args.command == "history":
        print(history_text(document))
    elif args.format == "csv":
        sys.stdout.write(contributions_csv(document))
    else:
        print(json.dumps(document, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
