"""Background work a service starts and must not lose: kept referenced until done
(asyncio holds only weak references to tasks), failures logged, and awaited on
``drain`` (tests, shutdown)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Tasks:
    """The running tasks of one service; ``what`` names its work in failure logs."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._running: set[asyncio.Future[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        task: asyncio.Future[T] = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed: %s", self.what, task.exception())

    async def drain(self) -> None:
        """Wait for every task, including those the awaited ones start."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
