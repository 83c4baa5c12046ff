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
from prometheus_client import REGISTRY
from prometheus_client.registry import Collector
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .test_metrics import scrape, value
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


class Scrapes(Collector):
    """Tells the test each time the server's metrics are collected: each scrape (the
    server collects on its event loop, the test's loop)."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def describe(self) -> list[Any]:
        return []  # nothing to export, and no collect() at registration

    def collect(self) -> Iterator[Any]:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.get_loop().call_soon_threadsafe(waiter.set_result, None)
        return iter(())

    async def next(self, timeout: float = 30.0) -> None:
        """Wait for the next scrape."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await asyncio.wait_for(waiter, timeout)


@pytest.fixture
def scrapes() -> Iterator[Scrapes]:
    collector = Scrapes()
    REGISTRY.register(collector)
    try:
        yield collector
    finally:
        REGISTRY.unregister(collector)


async def answer(
    api: str, scrapes: Scrapes, promql: str, check: Any, timeout: float = 60.0
) -> float:
    """The value of ``promql`` once ``check`` holds for it: asked again after each scrape
    (what Prometheus stored of the one before is there by then)."""
    deadline = time.monotonic() + timeout
    last: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        last = await query(api, promql)
        if last and check(float(last[0]["value"][1])):
            return float(last[0]["value"][1])
        await scrapes.next(max(0.0, deadline - time.monotonic()))
    targets = await AsyncHTTPClient().fetch(f"{api}/api/v1/targets", raise_error=False)
    raise AssertionError(
        f"{promql} never satisfied the check; last answer: {last}; targets: {targets.body[:600]!r}"
    )


async def test_promql_sees_a_client_typing(
    prometheus, scrapes, jp_root_dir, jp_ws_fetch, jp_fetch, open_session
):
    session, alice, bob = await pair(jp_root_dir, jp_ws_fetch, open_session)

    def ask(promql: str, check: Any) -> Any:
        return answer(prometheus, scrapes, promql, check)

    assert await ask('up{job="jupyter"}', lambda v: v == 1) == 1
    assert await ask("jupyter_collab_connections", lambda v: v >= 2) >= 2
    assert await ask("jupyter_collab_people", lambda v: v >= 1) >= 1

    source = alice.ydoc.ycells[0]["source"]
    typing = True

    async def type_along() -> None:
        """Five keystrokes between scrapes, each one seen by bob before the next."""
        while typing:
            await scrapes.next()
            for _ in range(5):
                source.insert(len(str(source)), "x")
                length = len(str(source))
                await bob.wait_for(lambda n=length: len(bob.sources()[0]) == n, what="the echo")

    typist = asyncio.create_task(type_along())
    try:
        rate = 'sum(rate(jupyter_collab_updates_total{origin="client"}[5s]))'
        per_second = await ask(rate, lambda v: v > 0)
        bytes_in = await ask("rate(jupyter_collab_update_bytes_in_total[5s])", lambda v: v > 0)
        fanout = await ask(
            "histogram_quantile(0.99, sum by (le) ("
            "rate(jupyter_collab_fanout_seconds_bucket[5s])))",
            lambda v: v > 0,
        )
    finally:
        typing = False
        await asyncio.wait_for(typist, 30)  # ends after its current five keystrokes
    assert per_second > 0 and bytes_in > 0 and 0 < fanout < 1
    assert bob.sources()[0] == str(source) and str(source).endswith("xxxxx")

    # once typing stopped, Prometheus ends up with exactly the server's own count
    served = await scrape(jp_fetch)
    typed = value(served, "jupyter_collab_updates_total", origin="client")
    total = 'sum(jupyter_collab_updates_total{origin="client"})'
    assert await ask(total, lambda v: v == typed) == typed
