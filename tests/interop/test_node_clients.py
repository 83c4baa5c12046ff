"""Interop: stock y-websocket clients in Node (tests/interop/yclient.mjs) and pycrdt
clients (tests/clients.py) editing the same documents through a real server.

Each Node client is a subprocess speaking line-delimited JSON; every wait is on a line
or a document condition under a timeout, never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Text

from tests.clients import YClient

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("yclient.mjs")
NODE = shutil.which("node")

# No skip: the one test command (scripts/test) needs Node and node_modules for the jest
# stage and for building the labextension anyway, so their absence is a broken set-up
# that must fail loudly, not interop coverage quietly gone.
if NODE is None:
    pytest.fail("interop tests need `node` on PATH (as jest and the build do)", pytrace=False)
if not (ROOT / "node_modules" / "y-websocket").is_dir():
    pytest.fail("interop tests need node_modules/y-websocket: run `jlpm install`", pytrace=False)

pytestmark = pytest.mark.interop

TIMEOUT = 15.0
BASE = "print('hi')\n"


class NodeClient:
    """One `yclient.mjs` process: send commands, await its JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.stderr = b""
        self._changed = asyncio.Event()
        self._next_id = 0
        self._tasks = [
            asyncio.ensure_future(self._read_stdout()),
            asyncio.ensure_future(self._read_stderr()),
        ]

    @classmethod
    async def start(cls, config: dict[str, Any]) -> NodeClient:
        pipe = asyncio.subprocess.PIPE
        proc = await asyncio.create_subprocess_exec(
            NODE, str(SCRIPT), json.dumps(config), cwd=ROOT, stdin=pipe, stdout=pipe, stderr=pipe
        )
        return cls(proc)

    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.lines.append(json.loads(line))
            self._changed.set()
        self.lines.append({"event": "exit"})
        self._changed.set()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = await self.proc.stderr.read()

    # -- commands -----------------------------------------------------------------------

    def send(self, op: str, **args: Any) -> int:
        """Queue a command without waiting for its reply; returns its id."""
        assert self.proc.stdin is not None
        self._next_id += 1
        line = json.dumps({"op": op, "id": self._next_id, **args})
        self.proc.stdin.write(line.encode() + b"\n")
        return self._next_id

    async def reply(self, request_id: int) -> dict[str, Any]:
        def match(m: dict[str, Any]) -> bool:
            return "reply" in m and m["id"] == request_id

        return await self.wait_line(match, f"reply {request_id}")

    async def request(self, op: str, **args: Any) -> dict[str, Any]:
        reply = await self.reply(self.send(op, **args))
        assert "error" not in reply, reply
        return reply

    # -- waiting ------------------------------------------------------------------------

    def events(self, name: str) -> list[dict[str, Any]]:
        return [m for m in self.lines if m.get("event") == name]

    async def wait_line(self, match: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        async def loop() -> dict[str, Any]:
            while True:
                self._changed.clear()
                found = next((m for m in self.lines if match(m)), None)
                if found is not None:
                    return found
                if self.lines and self.lines[-1] == {"event": "exit"}:
                    raise AssertionError(f"node client exited before {what}: {self.describe()}")
                await self._changed.wait()

        try:
            return await asyncio.wait_for(loop(), TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"timed out after {TIMEOUT}s waiting for {what}: {self.describe()}"
            ) from None

    async def wait_event(self, name: str, **fields: Any) -> dict[str, Any]:
        def match(m: dict[str, Any]) -> bool:
            return m.get("event") == name and all(m.get(k) == v for k, v in fields.items())

        return await self.wait_line(match, f"event {name} {fields}")

    async def drain(self) -> None:
        assert self.proc.stdin is not None
        await self.proc.stdin.drain()

    async def wait_text(self, expected: str) -> None:
        # shorter than TIMEOUT, so a mismatch is reported with the text rather than as a timeout
        reply = await self.request("wait", text=expected, timeout_ms=int(TIMEOUT * 1000) - 5000)
        assert reply["ok"], f"node text {reply['text']!r} != {expected!r}"

    def describe(self) -> str:
        return f"lines={self.lines[-20:]} stderr={self.stderr.decode(errors='replace')[-2000:]!r}"

    async def close(self) -> None:
        if self.proc.returncode is None:
            try:
                self.send("quit")
                await asyncio.wait_for(self.proc.wait(), TIMEOUT)
            except (asyncio.TimeoutError, OSError):
                self.proc.kill()
                await self.proc.wait()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
def node_client(
    jp_serverapp: Any, jp_http_port: int, jp_base_url: str, jp_asyncio_loop: Any
) -> Any:
    """Start Node clients on a session's room; they are quit (or killed) at teardown."""
    clients: list[NodeClient] = []

    async def start(session: dict[str, Any], **config: Any) -> NodeClient:
        config = {
            # 127.0.0.1, not localhost: Node may resolve localhost to ::1 first
            "url": f"ws://127.0.0.1:{jp_http_port}{jp_base_url}",
            "room": session["room"],
            "epoch": session["epoch"],
            "token": jp_serverapp.identity_provider.token,
            **config,
        }
        client = await NodeClient.start(config)
        clients.append(client)
        return client

    yield start
    jp_asyncio_loop.run_until_complete(asyncio.gather(*(c.close() for c in clients)))


async def connected_yclient(jp_ws_fetch: Any, session: dict[str, Any]) -> YClient:
    client = YClient(kind="file")
    await client.connect(jp_ws_fetch, session)
    await client.wait_synced()
    return client


def source(client: YClient) -> Text:
    return client.doc.get("source", type=Text)


async def test_node_and_pycrdt_edits_converge_and_are_saved_to_disk(
    jp_root_dir: Path, jp_ws_fetch: Any, open_session: Any, node_client: Any
) -> None:
    (jp_root_dir / "edit.py").write_text(BASE)
    session = await open_session("edit.py", kind="file")
    py = await connected_yclient(jp_ws_fetch, session)
    node = await node_client(session)
    await node.wait_event("synced", synced=True)
    assert (await node.request("dump"))["text"] == BASE

    inserts = []
    for i in range(10):
        inserts.append(node.send("insert", at=0, text=f"# node {i}\n"))
        source(py).insert(len(source(py)), f"# py {i}\n")
    for request_id in inserts:
        await node.reply(request_id)
    prepended = "".join(f"# node {i}\n" for i in reversed(range(10)))
    expected = prepended + BASE + "".join(f"# py {i}\n" for i in range(10))
    await node.wait_text(expected)
    await py.wait_for(lambda: py.text() == expected, what="the node edits")
    py.send_event({"type": "save", "id": "save-1"})
    await py.wait_for(lambda: _saved(py, "save-1"), what="the saved event")

    assert (jp_root_dir / "edit.py").read_text() == expected


def _saved(client: YClient, request_id: str) -> bool:
    return any(e["type"] == "saved" and e.get("id") == request_id for e in client.events)


async def test_three_clients_interleaving_inserts_keep_every_token_exactly_once(
    jp_root_dir: Path, jp_ws_fetch: Any, open_session: Any, node_client: Any
) -> None:
    (jp_root_dir / "three.py").write_text(BASE)
    session = await open_session("three.py", kind="file")
    py = await connected_yclient(jp_ws_fetch, session)
    alice, bob = await node_client(session), await node_client(session)
    await alice.wait_event("synced", synced=True)
    await bob.wait_event("synced", synced=True)

    tokens, pending = [], []
    for r in range(20):
        at = 0 if r % 2 else -1  # prepend or append: always between two tokens, never inside one
        for name, node in (("a", alice), ("b", bob)):
            tokens.append(f"<{name}{r}>")
            pending.append((node, node.send("insert", at=at, text=tokens[-1])))
        tokens.append(f"<p{r}>")
        source(py).insert(0 if at == 0 else len(source(py)), tokens[-1])
        await asyncio.gather(alice.drain(), bob.drain())
    for node, request_id in pending:
        await node.reply(request_id)
    await py.wait_for(lambda: all(t in py.text() for t in tokens), what="every token")
    final = py.text()
    await alice.wait_text(final)
    await bob.wait_text(final)
    late = await connected_yclient(jp_ws_fetch, session)  # what the server holds

    assert late.text() == final
    assert {t: final.count(t) for t in tokens} == {t: 1 for t in tokens}
    assert len(final) == len(BASE) + sum(map(len, tokens))
    assert BASE in final


async def test_a_wrong_epoch_is_closed_with_4409_without_reconnecting_or_leaking_text(
    jp_root_dir: Path, jp_ws_fetch: Any, open_session: Any, node_client: Any
) -> None:
    (jp_root_dir / "stale.py").write_text(BASE)
    session = await open_session("stale.py", kind="file")
    py = await connected_yclient(jp_ws_fetch, session)
    node = await node_client(session, epoch="not-" + session["epoch"], connect=False)
    await node.request("insert", at=0, text="EVIL ")

    await node.request("connect")
    close = await node.wait_event("connection-close")
    closed = await node.wait_event("closed")
    after = await node.wait_event("after-backoff")
    await node.request("insert", at=0, text="MORE ")
    late = await connected_yclient(jp_ws_fetch, session)

    assert close["code"] == closed["code"] == 4409
    assert after["reconnecting"] is False
    statuses = [e["status"] for e in node.events("status")]
    assert statuses == ["connecting", "connected", "disconnected"]  # one attempt only
    reload = [e["data"] for e in node.events("message")]
    assert [(e["type"], e["epoch"]) for e in reload] == [("reload", session["epoch"])]
    assert (await node.request("dump"))["text"] == "MORE EVIL "  # never synced: only its own text
    assert py.text() == late.text() == BASE


async def test_awareness_from_node_carries_the_server_identity_not_the_claimed_one(
    jp_fetch: Any,
    jp_http_port: int,
    jp_root_dir: Path,
    jp_ws_fetch: Any,
    open_session: Any,
    node_client: Any,
) -> None:
    (jp_root_dir / "aware.py").write_text(BASE)
    session = await open_session("aware.py", kind="file")
    # A token request without a login cookie makes a new user and sets its cookie; sending
    # that cookie back (as a browser would) keeps the user. The cookie name includes the
    # host, so ask as the host the Node client connects to.
    me = await jp_fetch("api", "me", headers={"Host": f"127.0.0.1:{jp_http_port}"})
    identity = json.loads(me.body)["identity"]
    cookies = me.headers.get_list("Set-Cookie")
    cookie = next(c.split(";")[0] for c in cookies if c.startswith("username-"))
    py = await connected_yclient(jp_ws_fetch, session)
    node = await node_client(session, headers={"Cookie": cookie})
    await node.wait_event("synced", synced=True)
    client_id = (await node.wait_event("hello"))["clientID"]

    forged = {"user": {"name": "Mallory", "username": "mallory"}, "cursor": 3}

    await node.request("awareness", state=forged)
    await py.wait_for(
        lambda: (py.awareness.get(client_id) or {}).get("cursor") == 3, what="node awareness"
    )
    user = py.awareness[client_id]["user"]

    assert user["username"] == identity["username"]
    assert user["display_name"] == identity["display_name"]
    assert "Mallory" not in json.dumps(user) and "mallory" not in json.dumps(user)
