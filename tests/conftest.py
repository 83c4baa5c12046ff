"""Shared fixtures: a real Jupyter server (pytest-jupyter) with jupyter-collab enabled,
its history in a per-test SQLite file, and helpers to open sessions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Fixed seeds in CI (reproducible runs); `--hypothesis-profile=extensive` for long runs.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    stateful_step_count=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "extensive",
    deadline=None,
    max_examples=1500,
    stateful_step_count=120,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def collab_config() -> dict[str, Any]:
    """Per-test CollabApp overrides; tests override this fixture to change them."""
    return {}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.sqlite"


@pytest.fixture
def jp_server_config(db_path: Path, collab_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_collab": True},
            "allow_unauthenticated_access": False,
        },
        "CollabApp": {
            "history_db_path": str(db_path),
            "save_delay_seconds": 0.05,
            "disk_poll_interval_seconds": None,
            "freeze_gc_after_start": 0,
            **collab_config,
        },
    }


@pytest.fixture
def collab(jp_serverapp: Any) -> Any:
    """The running CollabApp."""
    return (
        jp_serverapp.extension_manager.extensions["jupyter_collab"]
        .extension_points["jupyter_collab"]
        .app
    )


@pytest.fixture
def open_session(jp_fetch: Any) -> Any:
    async def open_session(path: str, kind: str = "notebook", **kwargs: Any) -> dict[str, Any]:
        response = await jp_fetch(
            "api",
            "collab",
            "session",
            path,
            method="PUT",
            body=json.dumps({"type": kind}),
            **kwargs,
        )
        return dict(json.loads(response.body))

    return open_session


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The server root of in-process registry tests (``tests/rooms_helpers.py::running``)."""
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def clock() -> Any:
    """A clock the test moves by hand (idle timeouts, eviction)."""
    from .fakes import FakeClock

    return FakeClock()
