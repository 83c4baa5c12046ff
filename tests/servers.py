"""A real `jupyter server` process with jupyter-collab, for tests that restart it,
kill it with SIGKILL, or delete its history between runs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """Starts and stops one server process; the root and the history stay on disk.

    ``app`` is the module run with ``python -m``: ``jupyter_server`` (default) or
    ``jupyterlab`` (JupyterLab's pages and APIs too); ``extra_args`` go on its command line.
    """

    def __init__(
        self,
        root: Path,
        db_path: Path,
        *,
        app: str = "jupyter_server",
        extra_args: Sequence[str] = (),
        **collab: Any,
    ) -> None:
        self.root = root
        self.db_path = db_path
        self.app = app
        self.extra_args = list(extra_args)
        self.collab = {"save_delay_seconds": 0.05, "freeze_gc_after_start": 0, **collab}
        self.token = uuid.uuid4().hex
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = db_path.parent / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self, timeout: float = 60.0) -> None:
        self.port = free_port()
        args = [
            sys.executable,
            "-m",
            self.app,
            "--no-browser",
            "--allow-root",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.jpserver_extensions={'jupyter_collab': True}",
            f"--CollabApp.history_db_path={self.db_path}",
            *self.extra_args,
        ]
        for key, value in self.collab.items():
            args.append(f"--CollabApp.{key}={value}")
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.db_path.parent / "runtime")}
        self.proc = await asyncio.create_subprocess_exec(*args, stdout=log, stderr=log, env=env)
        log.close()
        await self._wait_ready(timeout)

    async def _wait_ready(self, timeout: float) -> None:
        client = AsyncHTTPClient()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            assert self.proc is not None
            if self.proc.returncode is not None:
                raise AssertionError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                await client.fetch(
                    self.url + "api/status", headers=self.headers(), request_timeout=2
                )
                return
            except (ConnectionError, OSError, HTTPClientError):
                if loop.time() > deadline:
                    raise AssertionError(
                        f"server did not start: {self.log_path.read_text()[-3000:]}"
                    ) from None
                # still starting: wait for it to exit (an error) for a moment, then retry
                try:
                    await asyncio.wait_for(asyncio.shield(self.proc.wait()), 0.1)
                except asyncio.TimeoutError:
                    pass

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    async def stop(self, timeout: float = 30.0) -> None:
        """A clean shutdown: rooms are saved and the store is flushed."""
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            stacks = ""
            if shutil.which("py-spy"):  # optional: where did the shutdown hang?
                dump = await asyncio.create_subprocess_exec(
                    "py-spy", "dump", "--pid", str(proc.pid), stdout=asyncio.subprocess.PIPE
                )
                stacks = (await dump.communicate())[0].decode()
            proc.kill()
            await proc.wait()
            raise AssertionError(
                f"server did not stop within {timeout}s:\n{stacks}\n"
                + self.log_path.read_text()[-3000:]
            ) from None

    async def kill(self) -> None:
        """SIGKILL: no save, no flush, no goodbye."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await asyncio.wait_for(self.proc.wait(), 30)
        self.proc = None

    async def open_session(self, path: str, kind: str = "notebook") -> dict[str, Any]:
        response = await AsyncHTTPClient().fetch(
            self.url + f"api/collab/session/{path}",
            method="PUT",
            body=json.dumps({"type": kind}),
            headers=self.headers(),
        )
        return dict(json.loads(response.body))

    async def ws_fetch(
        self, *parts: str, params: dict[str, str] | None = None, **_: Any
    ) -> WebSocketClientConnection:
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
        url = f"ws://127.0.0.1:{self.port}/" + "/".join(parts) + (f"?{query}" if query else "")
        request = HTTPRequest(url, headers=self.headers())
        return await websocket_connect(request)
