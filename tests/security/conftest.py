"""One real `jupyter lab` process per module (token login, as people run it), its owner,
and guests who hold nothing but the cookies a share link gave them.

The server runs in its own folders: root, history, runtime, config (user settings,
workspaces, page config written by the plugin manager) and a copy of JupyterLab's
application folder, so an attack that succeeds writes nothing outside the test's
temporary folder. The copy has a file where the build's ``staging`` folder would be:
a build started through ``lab/api/build`` fails at once instead of running yarn.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import nbformat
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.servers import ServerProcess

SECRET = f"TOP-SECRET-{uuid.uuid4()}"


def notebook(*sources: str) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "source": source,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for i, source in enumerate(sources)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def as_saved(model: dict[str, Any]) -> str:
    """A notebook as the server writes it."""
    node = nbformat.from_dict(model)  # type: ignore[no-untyped-call]
    return str(nbformat.writes(node))  # type: ignore[no-untyped-call]


# the server's root: what the tests share, and what they must never reach
# (written as the server writes notebooks, so a save of an unchanged one changes no byte)
ROOT_FILES: dict[str, str] = {
    "shared.ipynb": as_saved(notebook("print('shared')")),
    "secret.ipynb": as_saved(notebook(f"password = '{SECRET}'")),
    "secret.txt": f"{SECRET}\n",
    "course/lesson.ipynb": as_saved(notebook("# lesson one")),
}

_CONFIG_DATA = re.compile(
    rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S
)


def page_config(body: bytes) -> dict[str, Any]:
    """The JSON page config JupyterLab puts in a page (``jupyter-config-data``)."""
    match = _CONFIG_DATA.search(body)
    assert match is not None, f"no jupyter-config-data in the page: {body[:300]!r}"
    return dict(json.loads(match.group(1)))


def write_root(root: Path) -> None:
    """Puts the root back exactly as ``ROOT_FILES`` says: contents, and no other file."""
    for entry in list(root.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for name, text in ROOT_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative name -> bytes), hidden ones included."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@dataclass
class Lab:
    """The running `jupyter lab`: where it is, its token and its files."""

    server: ServerProcess
    root: Path
    config_dir: Path
    disabled_at_start: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token(self) -> str:
        return self.server.token


class Browser:
    """An HTTP client that keeps its cookies and never follows redirects or raises on a
    status: every answer is returned, so tests assert on codes, headers and bodies.

    ``auth`` holds the owner's ``Authorization`` header; a guest has none."""

    def __init__(self, lab: Lab, auth: dict[str, str] | None = None) -> None:
        self.lab = lab
        self.auth = dict(auth or {})
        self.cookies: dict[str, str] = {}
        self.http = AsyncHTTPClient()

    def headers(self, method: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        # a browser on this server's JupyterLab page: same-origin Referer (jupyter_server
        # refuses cookie-authenticated GETs of files/ and nbconvert/ without one)
        headers = {"Referer": self.lab.url + "lab", **self.auth}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD") and "_xsrf" in self.cookies:
            headers["X-XSRFToken"] = self.cookies["_xsrf"]
        headers.update(extra or {})
        return headers

    async def fetch(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> HTTPResponse:
        """``path`` is sent as written (tornado's client keeps ``..`` and ``%2e``)."""
        if isinstance(body, dict | list):
            body = json.dumps(body)
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        request = HTTPRequest(
            self.lab.url + path,
            method=method,
            body=body,
            headers=self.headers(method, headers),
            follow_redirects=False,
            allow_nonstandard_methods=True,
            request_timeout=20,
        )
        response = await self.http.fetch(request, raise_error=False)
        for header in response.headers.get_list("Set-Cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";")[0]
        return response

    async def websocket(self, path: str) -> WebSocketClientConnection:
        url = self.lab.url.replace("http://", "ws://", 1) + path
        return await websocket_connect(HTTPRequest(url, headers=self.headers("GET")))

    async def join(self, link_url: str, name: str) -> HTTPResponse:
        """Opens a share link as a browser would: the page, then the form (name, _xsrf)."""
        join_path = link_url.lstrip("/")
        page = await self.fetch("GET", join_path)
        assert page.code == 200, (page.code, page.body[:300])
        form = urlencode({"name": name, "_xsrf": self.cookies["_xsrf"]})
        answer = await self.fetch(
            "POST",
            join_path,
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.code == 302, (answer.code, answer.body[:300])
        assert "jupyter-collab-guest" in self.cookies, answer.headers
        return answer


async def disabled_extensions(server: ServerProcess) -> list[str]:
    """What the owner's JupyterLab page says is disabled."""
    page = await AsyncHTTPClient().fetch(server.url + "lab", headers=server.headers())
    return list(page_config(page.body)["disabledExtensions"])


JoinAs = Callable[..., Awaitable[Browser]]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """`python -m jupyterlab` with jupyter-collab, token login, in temporary folders."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    write_root(root)
    app_dir = base / "lab-app"
    shutil.copytree(Path(sys.prefix) / "share" / "jupyter" / "lab", app_dir)
    (app_dir / "staging").write_text("not a folder: a build fails here at once\n")
    config_dir = base / "config"
    server = ServerProcess(
        root,
        base / "state" / "history.sqlite",
        app="jupyterlab",
        extra_args=[
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # no PyPI
            f"--LabApp.app_dir={app_dir}",
            "--PluginManager.level=user",  # page config under JUPYTER_CONFIG_DIR
        ],
    )
    loop = asyncio.new_event_loop()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("JUPYTER_CONFIG_DIR", str(config_dir))
            env.setenv("JUPYTER_DATA_DIR", str(base / "data"))
            env.setenv("HOME", str(base / "home"))
            env.delenv("JUPYTERHUB_API_TOKEN", raising=False)
            loop.run_until_complete(server.start())
        running = Lab(server, root, config_dir)
        running.disabled_at_start = loop.run_until_complete(disabled_extensions(server))
        yield running
        loop.run_until_complete(server.stop())
    finally:
        proc = server.proc
        if proc is not None and proc.returncode is None:
            os.kill(proc.pid, signal.SIGKILL)
            loop.run_until_complete(proc.wait())
        loop.close()


@pytest.fixture(autouse=True)
def pristine_root(lab: Lab) -> Iterator[None]:
    """Each test starts from the same files: an attack that worked in one test (today's
    code) must not hide the secret from the next."""
    if snapshot(lab.root) != {k: v.encode() for k, v in ROOT_FILES.items()}:
        write_root(lab.root)
    yield


@pytest.fixture
def owner(lab: Lab) -> Browser:
    """Whoever holds the server's token."""
    return Browser(lab, lab.server.headers())


@pytest.fixture
def join_as(lab: Lab, owner: Browser) -> JoinAs:
    """``await join_as(path, role, revoked=False)``: an owner shares ``path`` by link and
    a browser with no token joins through it (then, if ``revoked``, the link is revoked)."""

    async def join(path: str, role: str, *, revoked: bool = False) -> Browser:
        created = await owner.fetch(
            "POST",
            f"api/collab/links/{path}",
            body={"role": role, "expires_in_seconds": None},
        )
        assert created.code == 201, (created.code, created.body)
        link = json.loads(created.body)
        guest = Browser(lab)
        await guest.join(link["url"], f"Mallory {role}")
        if revoked:
            gone = await owner.fetch("DELETE", f"api/collab/links/{path}?id={link['id']}")
            assert gone.code == 204, (gone.code, gone.body)
        return guest

    return join
