"""Debian's Prometheus scrapes a live server's /metrics while a client types, and PromQL
answers what an operator would ask: is it up, how many are connected, how fast do
updates come in."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .test_websocket import pair

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def jp_base_url() -> str:
    """The default base URL of `jupyter lab` (pytest-jupyter's own holds a '%', which a
    Prometheus scrape path would escape again)."""
    return "/"


@pytest.fixture
def prometheus(
    tmp_path: Path, jp_http_port: int, jp_base_url: str, jp_auth_header
) -> Iterator[str]:
    """A Prometheus of its own (own port, config and data folder) scraping the test server
    every second with its token; its API's base URL."""
    assert Path(PROMETHEUS).exists(), "Debian's prometheus is missing: scripts/test installs it"
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "jupyter",
                "metrics_path": f"{jp_base_url.rstrip('/')}/metrics",
                # "Authorization: token <token>", as jupyter_server reads it
                "authorization": {
                    "type": "token",
                    "credentials": jp_auth_header["Authorization"].split(" ", 1)[1],
                },
                "static_configs": [{"targets": [f"127.0.0.1:{jp_http_port}"]}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))  # YAML reads JSON
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def query(api: str, promql: str) -> list[dict[str, Any]]:
    try:
        response = await AsyncHTTPClient().fetch(f"{api}/api/v1/query?query={quote(promql)}")
    except (HTTPClientError, ConnectionError, OSError):
        return []  # not up yet
    body = json.loads(response.body)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


async def answer(api: str, promql: str, check: Any, timeout: float = 60.0) -> float:
    """The value of ``promql`` once ``check`` holds for it (Prometheus scrapes each second;
    the question is asked again until then)."""
    deadline = time.monotonic() + timeout
    last: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        last = await query(api, promql)
        if last and check(float(last[0]["value"][1])):
            return float(last[0]["value"][1])
        await asyncio.sleep(0.25)
    targets = await AsyncHTTPClient().fetch(f"{api}/api/v1/targets", raise_error=False)
    raise AssertionError(
        f"{promql} never satisfied the check; last answer: {last}; targets: {targets.body[:600]!r}"
    )


async def test_promql_sees_a_client_typing(prometheus, jp_root_dir, jp_ws_fetch, open_session):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)

    assert await answer(prometheus, 'up{job="jupyter"}', lambda v: v == 1) == 1
    assert await answer(prometheus, "jupyter_collab_connections", lambda v: v >= 2) >= 2
    assert await answer(prometheus, "jupyter_collab_people", lambda v: v >= 1) >= 1

    async def type_along() -> None:  # a person typing ten characters a second
        source = alice.ydoc.ycells[0]["source"]
        while True:
            source.insert(len(str(source)), "x")
            await asyncio.sleep(0.1)

    typing = asyncio.create_task(type_along())
    try:
        rate = 'sum(rate(jupyter_collab_updates_total{origin="client"}[5s]))'
        per_second = await answer(prometheus, rate, lambda v: v > 1)
        bytes_in = await answer(
            prometheus, "rate(jupyter_collab_update_bytes_in_total[5s])", lambda v: v > 0
        )
        fanout = await answer(
            prometheus,
            "histogram_quantile(0.99, sum by (le) ("
            "rate(jupyter_collab_fanout_seconds_bucket[5s])))",
            lambda v: v > 0,
        )
    finally:
        typing.cancel()
    # ten keystrokes a second arrive as up to ten updates a second
    assert 1 < per_second <= 15
    assert bytes_in > 0 and 0 < fanout < 1
    await bob.wait_for(lambda: "xxx" in bob.sources()[0], what="bob to see the typing")
