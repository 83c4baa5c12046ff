"""The servers under test, each a subprocess: two `jupyter-server`s of their own venvs,
and the floor relay.

ours:   /work/main/.venv (jupyter-collab installed, the incumbent not)
theirs: bench/.venv-incumbent (jupyter-collaboration 5.0.4 + jupyterlab 4.6), created here
floor:  bench/floor.py in the main venv (tornado + pycrdt, the cheapest relay of our contract)

Every server gets a free loopback port (never 8888), a random token, its own root and
state folders inside the bench's temp dir, and a log file there. Processes are tracked
by pid; ``stop_all`` ends exactly the ones started here.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
from client import LOOPBACK, put_json

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MAIN_VENV = REPO / ".venv"
INCUMBENT_VENV = BENCH / ".venv-incumbent"
INCUMBENT_REQUIREMENTS = ["jupyter-collaboration==5.0.4", "jupyterlab>=4.6,<4.7"]

OURS, THEIRS, FLOOR = "ours", "theirs", "floor"

# ours imports jupyter_collab from this folder instead of the work tree when set (run.py
# --ours-src): a copy of one commit's code, to measure it while the tree is being edited
OURS_SRC: Path | None = None


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- venvs --------------------------------------------------------------------------------


def _incumbent_version() -> str | None:
    python = INCUMBENT_VENV / "bin" / "python"
    if not python.exists():
        return None
    probe = (
        "import importlib.metadata as m, jupyter_server_ydoc; "
        "print(m.version('jupyter-collaboration'))"
    )
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120)
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_incumbent_venv() -> str:
    """Create bench/.venv-incumbent with jupyter-collaboration 5.0.4 if missing; its version."""
    version = _incumbent_version()
    if version == "5.0.4":
        return version
    log(f"creating {INCUMBENT_VENV} with {' '.join(INCUMBENT_REQUIREMENTS)} (about 30 s)")
    if not (INCUMBENT_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(INCUMBENT_VENV)], check=True, timeout=300)
    pip = [
        str(INCUMBENT_VENV / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        *INCUMBENT_REQUIREMENTS,
    ]
    subprocess.run(pip, check=True, timeout=1200)
    version = _incumbent_version()
    if version != "5.0.4":
        raise RuntimeError(
            f"{INCUMBENT_VENV}: expected jupyter-collaboration 5.0.4, found {version}"
        )
    return version


def check_main_venv() -> dict[str, str]:
    """Versions in the venv that runs ours; refuses if the incumbent is installed there."""
    python = MAIN_VENV / "bin" / "python"
    probe = (
        "import importlib.metadata as m, importlib.util as u, json\n"
        "v = {p: m.version(p) for p in ('jupyter-collab', 'jupyter_server', 'pycrdt', 'tornado')}\n"
        "v['incumbent_installed'] = str(u.find_spec('jupyter_server_ydoc') is not None)\n"
        "print(json.dumps(v))"
    )
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    versions = dict(json.loads(done.stdout))
    if versions["incumbent_installed"] == "True":
        raise RuntimeError(
            f"{MAIN_VENV} has jupyter_server_ydoc installed: ours must run without it"
        )
    return versions


# -- processes ----------------------------------------------------------------------------

_STARTED: dict[int, subprocess.Popen[bytes]] = {}


def free_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK, 0))
            port = int(s.getsockname()[1])
        if port != 8888:
            return port
    raise RuntimeError("no free port")


def stop_pid(pid: int, timeout: float = 20.0) -> bool:
    """SIGTERM (jupyter_server's clean shutdown), then SIGKILL after ``timeout``; True if clean."""
    proc = _STARTED.get(pid)
    if proc is None or proc.poll() is not None:
        _STARTED.pop(pid, None)
        return True
    clean = True
    try:
        os.kill(pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        clean = False
        os.kill(pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass
    _STARTED.pop(pid, None)
    return clean


def stop_all() -> None:
    for pid in list(_STARTED):
        stop_pid(pid, timeout=10.0)


@dataclass
class Server:
    """One server process of one side, with its root and state folders."""

    side: str
    root: Path  # the notebooks it serves
    state: Path  # its stores and jupyter dirs; kept across restarts of the "same" server
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    starts: int = 0
    idle_wait: float = 0.0
    extra_args: list[str] = field(default_factory=list)  # more command-line settings
    python_path: list[str] = field(default_factory=list)  # folders the server imports from

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def command(self) -> list[str]:
        if self.side == FLOOR:
            return [
                str(MAIN_VENV / "bin" / "python"),
                str(BENCH / "floor.py"),
                f"--port={self.port}",
                f"--root={self.root}",
                f"--token={self.token}",
            ]
        venv = MAIN_VENV if self.side == OURS else INCUMBENT_VENV
        cmd = [
            str(venv / "bin" / "jupyter-server"),
            f"--ServerApp.ip={LOOPBACK}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.allow_root=True",
            f"--IdentityProvider.token={self.token}",
        ]
        if self.side == OURS:
            cmd.append(f"--CollabApp.history_db_path={self.state / 'history.sqlite'}")
        else:
            cmd += [
                f"--BaseFileIdManager.db_path={self.state / 'file_id_manager.db'}",
                f"--SQLiteYStore.db_path={self.state / 'ystore.db'}",
                f"--YDocExtension.session_store_path={self.state / 'collaboration_sessions.json'}",
            ]
        return cmd + self.extra_args

    def store_paths(self) -> list[Path]:
        base = self.state / ("history.sqlite" if self.side == OURS else "ystore.db")
        return [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-journal")]

    def store_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.store_paths() if p.exists())

    def store_signature(self) -> tuple[tuple[int, int], ...]:
        """Size and mtime of each store file: a WAL file at its high-water size is
        rewritten in place, so sizes alone do not show that the store is still writing."""
        stats = [p.stat() for p in self.store_paths() if p.exists()]
        return tuple((st.st_size, st.st_mtime_ns) for st in stats)

    def start(self, ready_timeout: float = 90.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.root.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        for sub in ("config", "data", "runtime", "cwd"):
            (self.state / sub).mkdir(exist_ok=True)
        self.port = free_port()
        self.starts += 1
        self.log_path = self.state / f"server-{self.starts}.log"
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.state / "config"),
            JUPYTER_DATA_DIR=str(self.state / "data"),
            JUPYTER_RUNTIME_DIR=str(self.state / "runtime"),
            PYTHONUNBUFFERED="1",
        )
        env.pop("VIRTUAL_ENV", None)
        paths = list(self.python_path)
        if self.side == OURS and OURS_SRC is not None:
            paths.insert(0, str(OURS_SRC))
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths)
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.state / "cwd",
                env=env,
                start_new_session=True,  # a ^C in the terminal reaches only the bench
            )
        _STARTED[self.proc.pid] = self.proc
        deadline = time.monotonic() + ready_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.side} server exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
                try:
                    conn.request("GET", "/api/status", headers=self.headers)
                    if conn.getresponse().status == 200:
                        break
                finally:
                    conn.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.side} server not ready after {ready_timeout}s:\n{self.log_tail()}"
                )
            time.sleep(0.1)
        self.idle_wait = self.wait_idle()

    def wait_idle(self, max_cpu: float = 0.05, window: float = 0.5, timeout: float = 20.0) -> float:
        """Block until the server used < ``max_cpu`` of a core over ``window`` seconds.

        A fresh jupyter_server keeps busy for a second or so after it answers (jupyter_lsp
        scans for language servers, extensions finish loading); timing an open during
        that measures the start-up, not the open. Returns the seconds waited.
        """
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            cpu0, t0 = self.cpu_seconds(), time.monotonic()
            time.sleep(window)
            if (self.cpu_seconds() - cpu0) / (time.monotonic() - t0) < max_cpu:
                break
        return time.monotonic() - start

    def stop(self, timeout: float = 30.0) -> bool:
        """Clean shutdown (SIGTERM); True unless it had to be killed."""
        if self.proc is None:
            return True
        clean = stop_pid(self.proc.pid, timeout)
        self.proc = None
        return clean

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return (
            self.log_path.read_text(errors="replace")
            if self.log_path and self.log_path.exists()
            else ""
        )

    # -- measurements --------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def cpu_split(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the server process."""
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user), float(times.system)

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    # -- the two session APIs ------------------------------------------------------------

    async def open_session(self, path: str, kind: str = "notebook") -> str:
        """PUT the session for ``path``; return the websocket path (with its query)."""
        if self.side in (OURS, FLOOR):  # the floor answers in our shape
            reply = await put_json(
                self.port, f"/api/collab/session/{quote(path)}", self.token, {"type": kind}
            )
            return f"/{reply['room']}?epoch={quote(reply['epoch'])}"
        fmt = "json" if kind == "notebook" else "text"
        reply = await put_json(
            self.port,
            f"/api/collaboration/session/{quote(path)}",
            self.token,
            {"format": fmt, "type": kind},
        )
        room = f"{reply['format']}:{reply['type']}:{reply['fileId']}"
        return f"/api/collaboration/room/{room}?sessionId={quote(reply['sessionId'])}"


async def wait_store_settled(
    server: Server, quiet: float, timeout: float, poll: float = 0.25
) -> tuple[int, bool, float]:
    """Poll the store files until none changed (size or mtime) for ``quiet`` seconds.

    Returns (total bytes, still changing at ``timeout``, seconds until the last change).
    """
    start = time.monotonic()
    last = server.store_signature()
    last_change = start
    while True:
        await asyncio.sleep(poll)
        now = time.monotonic()
        signature = server.store_signature()
        if signature != last:
            last, last_change = signature, now
        elif now - last_change >= quiet:
            return server.store_bytes(), False, last_change - start
        if now - start >= timeout:
            return server.store_bytes(), True, last_change - start


def summary_of_incumbent_log(text: str) -> dict[str, Any]:
    """Which path the incumbent took when it initialised rooms (from its INFO log)."""
    return {
        "loaded_from_store": text.count("loaded from the ystore"),
        "out_of_sync": text.count("out-of-sync with the ystore"),
        "loaded_from_file": text.count("loaded from file"),
    }


# -- JupyterLab in a browser (bench/browser.py) --------------------------------------------

# The "Would you like to receive official Jupyter news?" toast; without it no notification
# appears on a fresh profile (ui-tests/lab-settings/overrides.json does the same).
LAB_SETTINGS_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}


class LabServer(Server):
    """A `jupyter lab` process (the whole JupyterLab page, not only the server API).

    Same ports, token, root and state folders as :class:`Server`; on top of that no
    news fetch, no update check, and JupyterLab's workspaces and user / app settings in
    the state folder, so nothing of an earlier run (open tabs, settings) is restored.
    """

    def command(self) -> list[str]:
        venv = MAIN_VENV if self.side == OURS else INCUMBENT_VENV
        cmd = super().command()
        cmd[0] = str(venv / "bin" / "jupyter-lab")
        return cmd + [
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.workspaces_dir={self.state / 'workspaces'}",
            f"--LabApp.user_settings_dir={self.state / 'user-settings'}",
            f"--LabApp.app_settings_dir={self.state / 'app-settings'}",
        ]

    def start(self, ready_timeout: float = 90.0) -> None:
        settings = self.state / "app-settings"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(LAB_SETTINGS_OVERRIDES, indent=1))
        super().start(ready_timeout)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def lab_url(self, path: str, workspace: str) -> str:
        """The page that opens ``path`` in its own workspace, authenticated by the token.

        A workspace per page: with `/lab/tree/<path>` every page restores the *default*
        workspace, so the next open would also reopen every notebook opened before it.
        """
        return (
            f"{self.base_url}/lab/workspaces/{quote(workspace)}/tree/{quote(path)}"
            f"?token={self.token}"
        )

    def api(self, method: str, path: str, timeout: float = 30.0) -> Any:
        """One token-authenticated REST call; the decoded JSON reply (None when empty)."""
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=self.headers)
            reply = conn.getresponse()
            body = reply.read()
            if reply.status >= 400:
                raise RuntimeError(f"{method} {path}: {reply.status} {body[:200]!r}")
            return json.loads(body) if body else None
        finally:
            conn.close()

    def shutdown_kernels(self) -> int:
        """Delete every session and kernel (opening a notebook with a kernelspec starts
        one); returns how many kernels there were. Keeps idle kernels from piling up."""
        count = len(self.api("GET", "/api/kernels"))
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")
        return int(count)
