"""A throw-away JupyterHub 6 for tests (pure-Python proxy, dummy authenticator, sharing).

``RunningHub`` writes a hub config into a fresh directory, picks free loopback ports,
starts ``jupyterhub`` (which starts the pure-Python configurable-http-proxy itself), and
stops everything it started again, by pid. Single-user servers come from this project's
venv (``jupyterhub-singleuser``), so the installed jupyter_collab extension and its
``CollabAuthorizer`` (which the extension installs itself) are loaded.

Every wait is on an event with a deadline, never a sleep: the hub's "is now running" log
line, the hub's spawn progress stream, and each process's exit (a pidfd).

``http()`` is a small client that never follows redirects and never sends cookies on
its own, so tests can see exactly what the hub, the proxy and the server answer.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
_REPO_BIN = REPO / ".venv" / "bin"
# the venv that holds jupyterhub, configurable-http-proxy and (editable) jupyter_collab
VENV_BIN = _REPO_BIN if (_REPO_BIN / "jupyterhub").exists() else Path(sys.executable).parent
USERS = ("alice", "bob", "carol")
PASSWORD = "dummy-password"

CONFIG = r'''
import json
import os

from jupyterhub.auth import DummyAuthenticator

c = get_config()  # noqa: F821
s = json.loads(os.environ["COLLAB_HUB_SETTINGS"])
root = s["root"]

c.JupyterHub.bind_url = f"http://127.0.0.1:{s['port']}/"
c.JupyterHub.public_url = f"http://127.0.0.1:{s['port']}/"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.ConfigurableHTTPProxy.command = [s["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.pid_file = os.path.join(root, "proxy.pid")
c.ConfigurableHTTPProxy.auth_token = os.urandom(32).hex()
c.JupyterHub.db_url = "sqlite:///" + os.path.join(root, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret = os.urandom(32)
c.JupyterHub.pid_file = os.path.join(root, "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.log_level = "INFO"


class PasswordCheckingDummy(DummyAuthenticator):
    """Every listed user shares one dummy password."""

    async def authenticate(self, handler, data):
        if data.get("password") != s["password"]:
            return None
        return await super().authenticate(handler, data)


c.JupyterHub.authenticator_class = PasswordCheckingDummy
c.Authenticator.allowed_users = set(s["users"])
c.Authenticator.admin_users = set()  # admins reach every server: none here

c.JupyterHub.load_roles = [
    # replaces the default 'user' role: keep 'self', add sharing of one's own servers
    {"name": "user", "scopes": ["self", "shares!user", "read:users:name"]},
]

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(root, "home", "{username}")
c.Spawner.cmd = [s["singleuser"]]
c.Spawner.args = list(s["spawner_args"])
c.Spawner.default_url = "/lab"
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.LocalProcessSpawner.interrupt_timeout = 3
c.LocalProcessSpawner.term_timeout = 2
c.LocalProcessSpawner.kill_timeout = 2
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    text: str

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def cookies(self) -> dict[str, str]:
        jar = {}
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                jar[cookie_name] = rest.split(";")[0]
        return jar

    def json(self) -> Any:
        return json.loads(self.text)


def http(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: Any = None,
    form: str | None = None,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """One request, no redirects followed, no cookies but the given ones."""
    parts = urlsplit(url)
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    elif form is not None:
        data = form.encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        sent["Authorization"] = f"token {token}"
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn = HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=data, headers=sent)
        reply = conn.getresponse()
        return Response(reply.status, reply.getheaders(), reply.read().decode(errors="replace"))
    finally:
        conn.close()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _wait_for_exit(pid: int, timeout: float) -> None:
    """Wait until ``pid`` (not our child) exits, or ``timeout``: its pidfd turns readable."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return  # already gone
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)


def events(url: str, token: str, timeout: float) -> Iterator[dict[str, Any]]:
    """The JSON events of a server-sent event stream, until it ends or ``timeout``."""
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path, headers={"Authorization": f"token {token}"})
        reply = conn.getresponse()
        assert reply.status == 200, (reply.status, reply.read()[:500])
        for raw in reply:
            line = raw.decode(errors="replace").strip()
            if line.startswith("data:"):
                yield dict(json.loads(line[len("data:") :]))
    except TimeoutError:
        return  # the caller reports what it was waiting for
    finally:
        conn.close()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class RunningHub:
    """A hub of our own in ``root``; ``url`` is the proxy's public address."""

    root: Path
    spawner_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    seen_pids: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / "hub.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def home(self, user: str) -> Path:
        return self.root / "home" / user

    def start(self, timeout: float = 90) -> dict[str, Any]:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "jupyterhub_config.py"
        config.write_text(CONFIG)
        settings = {
            "root": str(self.root),
            "port": self.port,
            "hub_port": free_port(),
            "proxy_api_port": free_port(),
            "proxy": str(VENV_BIN / "configurable-http-proxy"),
            "singleuser": str(VENV_BIN / "jupyterhub-singleuser"),
            "spawner_args": (["--allow-root"] if os.geteuid() == 0 else []) + self.spawner_args,
            "users": list(USERS),
            "password": PASSWORD,
        }
        env = dict(os.environ, COLLAB_HUB_SETTINGS=json.dumps(settings))
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "jupyterhub"), "-f", str(config)],
            cwd=self.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own
        )
        running = threading.Event()
        threading.Thread(target=self._copy_log, args=(running,), daemon=True).start()
        # the hub logs this once the proxy routes to it; it also fires if the hub exits
        if not running.wait(timeout) or self.proc.poll() is not None:
            raise RuntimeError(f"the hub did not come up:\n{self.log()[-4000:]}")
        reply = http("GET", f"{self.url}/hub/api/")
        assert reply.status == 200, (reply.status, reply.text)
        return dict(reply.json())

    def _copy_log(self, running: threading.Event) -> None:
        """Copy the hub's output to hub.log; set ``running`` when it is up (or gone)."""
        assert self.proc is not None and self.proc.stdout is not None
        with open(self.log_path, "wb") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if b"JupyterHub is now running" in line:
                    running.set()
        running.set()  # the hub exited: start() reports it

    def login(self, user: str, password: str = PASSWORD) -> Response:
        """REST login: a new API token of ``user``'s (201) or a refusal."""
        return http(
            "POST",
            f"{self.url}/hub/api/users/{user}/tokens",
            body={"auth": {"username": user, "password": password}, "note": "test"},
        )

    def spawn(self, user: str, token: str, timeout: float = 120) -> None:
        reply = http("POST", f"{self.url}/hub/api/users/{user}/server", token=token)
        assert reply.status in (201, 202), (reply.status, reply.text)
        # the hub streams the spawn's progress (server-sent events) until it is ready
        for event in events(f"{self.url}/hub/api/users/{user}/server/progress", token, timeout):
            if event.get("ready"):
                self._remember_pids()
                return
            if event.get("failed"):
                break
        raise AssertionError(f"{user}'s server never got ready:\n{self.log()[-4000:]}")

    def _remember_pids(self) -> None:
        if self.proc is not None:
            self.seen_pids.update(_descendants(self.proc.pid))

    def stop(self) -> list[tuple[int, str]]:
        """SIGTERM our hub (it stops the proxy and the servers it started); then SIGKILL,
        by pid, whatever of ours is still alive. Returns what had to be killed."""
        if self.proc is None:
            return []
        self._remember_pids()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group only
                self.proc.wait(10)
        leftovers = []
        deadline = time.monotonic() + 5
        for pid in sorted(self.seen_pids - {self.proc.pid}):
            _wait_for_exit(pid, max(0.0, deadline - time.monotonic()))
            if _cmdline(pid):
                leftovers.append((pid, _cmdline(pid)))
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None
        return leftovers
