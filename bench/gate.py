"""What the deny-by-default gate costs a request, end to end, on a real server.

    python bench/gate.py [--requests N]

Starts one `jupyter server` with jupyter-collab (token login), shares `shared.ipynb` by
link, joins as a guest, then times the same requests as the owner (token: the gate only
notes that the caller is an owner) and as the guest (the gate resolves the path, checks
the allowlist and the link's role, then the Authorizer runs):
- GET api/contents/shared.ipynb (a notebook read: ContentsManager + JSON);
- GET api/me (the cheapest authenticated answer);
- a refused read of secret.ipynb (guest only: the gate answers 403 itself).
Prints the median and p90 per request and the guest/owner ratio. jupyter-collaboration
has no counterpart: it checks nothing per path for non-owners.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from main_venv import ensure_main_venv  # noqa: E402

ensure_main_venv(__file__)

from tornado.httpclient import AsyncHTTPClient  # noqa: E402

from tests.servers import ServerProcess  # noqa: E402

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "id": "c0",
            "metadata": {},
            "source": "x = 1",
            "outputs": [],
            "execution_count": None,
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def cookies_of(response: object) -> dict[str, str]:
    jar = {}
    for header in response.headers.get_list("Set-Cookie"):  # type: ignore[attr-defined]
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";")[0]
    return jar


async def timed(client: AsyncHTTPClient, url: str, headers: dict[str, str], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await client.fetch(url, headers=headers, raise_error=False)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, owner: list[float] | None, guest: list[float]) -> str:
    def cell(samples: list[float] | None) -> str:
        if samples is None:
            return "-"
        p90 = statistics.quantiles(samples, n=10)[-1]
        return f"{statistics.median(samples):.2f} / {p90:.2f}"

    ratio = "-" if owner is None else f"{statistics.median(guest) / statistics.median(owner):.2f}"
    return f"| {name} | {cell(owner)} | {cell(guest)} | {ratio} |"


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "shared.ipynb").write_text(json.dumps(NOTEBOOK))
        (root / "secret.ipynb").write_text(json.dumps(NOTEBOOK))
        server = ServerProcess(root, Path(tmp) / "state" / "h.sqlite")
        await server.start()
        try:
            client = AsyncHTTPClient()
            owner = server.headers()
            link = json.loads(
                (
                    await client.fetch(
                        server.url + "api/collab/links/shared.ipynb",
                        method="POST",
                        body=json.dumps({"role": "viewer"}),
                        headers=owner,
                    )
                ).body
            )
            page = await client.fetch(server.url + link["url"].lstrip("/"))  # the join page
            jar = cookies_of(page)
            cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
            joined = await client.fetch(
                page.effective_url,
                method="POST",
                follow_redirects=False,
                raise_error=False,
                body=urlencode({"name": "Bench", "_xsrf": jar["_xsrf"]}),
                headers={"Cookie": cookie},
            )
            jar.update(cookies_of(joined))
            guest = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
            for who in (owner, guest):  # warm up both paths
                await timed(client, server.url + "api/contents/shared.ipynb", who, 20)
            rows = []
            for name, path in (
                ("GET api/contents/shared.ipynb", "api/contents/shared.ipynb"),
                ("GET api/me", "api/me"),
            ):
                o = await timed(client, server.url + path, owner, n)
                g = await timed(client, server.url + path, guest, n)
                rows.append(row(name, o, g))
            refused = await timed(client, server.url + "api/contents/secret.ipynb", guest, n)
            rows.append(row("GET api/contents/secret.ipynb (refused, 403)", None, refused))
        finally:
            await server.stop()
    print(f"{n} requests each, sequential, one server process on this machine\n")
    print("| request | owner ms (median / p90) | guest ms (median / p90) | guest/owner |")
    print("| --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args().requests))
