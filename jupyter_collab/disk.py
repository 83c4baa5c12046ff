"""Files on disk, reached through the server's ContentsManager (duck-typed).

Going through the ContentsManager keeps custom managers (Jupytext, S3, ...) working.
Sync and async managers both work. Does not import jupyter_server or tornado.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import RoomNotFound, UnreadableFile


@dataclass(frozen=True)
class DiskContent:
    content: Any  # nbformat dict for notebooks, str for files
    fingerprint: str  # changes whenever the file does


class Files(Protocol):
    """What a room needs from the disk."""

    async def stat(self, path: str) -> str | None: ...

    async def read(self, path: str, kind: str) -> DiskContent: ...

    async def write(self, path: str, kind: str, content: Any) -> str: ...


def fingerprint(model: dict[str, Any]) -> str:
    return f"{model.get('last_modified')}|{model.get('size')}"


async def _maybe_await(value: Any) -> Any:
    """Await an async ContentsManager call in a task of its own.

    jupyter_server's async managers do file I/O in anyio worker threads, and anyio
    stops a worker only when the task that first used it ends. Called from a
    websocket's task, that worker would outlive the event loop at shutdown and the
    process would never exit; a short task of its own ends with the call.
    """
    if inspect.isawaitable(value):
        return await asyncio.ensure_future(value)
    return value


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


class ContentsFiles:
    """``Files`` over a jupyter_server ContentsManager."""

    def __init__(self, contents_manager: Any) -> None:
        self.cm = contents_manager

    async def stat(self, path: str) -> str | None:
        try:
            model = await _maybe_await(self.cm.get(path, content=False))
        except Exception as exc:
            if _status(exc) == 404:
                return None
            raise
        if model.get("type") == "directory":
            return None
        return fingerprint(model)

    async def read(self, path: str, kind: str) -> DiskContent:
        """Raises RoomNotFound for a missing file, UnreadableFile for a wrong type."""
        kwargs: dict[str, Any] = {"content": True, "type": kind}
        if kind == "file":
            kwargs["format"] = "text"
        try:
            model = await _maybe_await(self.cm.get(path, **kwargs))
        except Exception as exc:
            status = _status(exc)
            if status == 404:
                raise RoomNotFound(f"no such file: {path}") from exc
            if status == 400:
                raise UnreadableFile(
                    f"{path} cannot be opened as {kind}: {getattr(exc, 'log_message', exc)}"
                ) from exc
            raise
        content = model["content"]
        if kind == "notebook":
            for cell in content.get("cells", []):
                # the ContentsManager marks cells trusted for this reader; that is
                # per-viewer state, not document content
                cell.get("metadata", {}).pop("trusted", None)
        return DiskContent(content, fingerprint(model))

    async def write(self, path: str, kind: str, content: Any) -> str:
        model: dict[str, Any] = {"type": kind, "content": content}
        model["format"] = "json" if kind == "notebook" else "text"
        saved = await _maybe_await(self.cm.save(model, path))
        return fingerprint(saved)
