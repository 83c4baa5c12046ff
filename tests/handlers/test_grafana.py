"""The Grafana dashboard in docs/grafana asks only for series the server really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from .test_metrics import scrape
from .test_websocket import pair

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "jupyter-collab.json"
SUFFIXES = ("_bucket", "_count", "_sum")


async def test_every_query_of_the_dashboard_names_an_exported_series(
    jp_root_dir, jp_ws_fetch, jp_fetch, open_session
):
    # a room with two people in it, so every family has been touched at least once
    await pair(jp_root_dir, jp_ws_fetch, open_session)
    response = await jp_fetch("metrics")
    exported = set()
    for family in text_string_to_metric_families(response.body.decode()):
        # a family is declared (HELP, TYPE) before any labelled child has a sample
        exported.add(family.name + ("_total" if family.type == "counter" else ""))
        exported.update(sample.name for sample in family.samples)
    assert await scrape(jp_fetch)  # the jupyter_collab_* series are there at all

    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    named = {name for q in queries for name in re.findall(r"jupyter_collab_[a-z_]+", q)}
    assert len(queries) >= 10 and len(named) >= 10
    missing = set()
    for name in named:
        # a histogram is exported as its buckets, count and sum; the families as samples
        if name not in exported and not any(name + s in exported for s in SUFFIXES):
            missing.add(name)
    assert not missing, f"the dashboard asks for series nobody exports: {sorted(missing)}"
