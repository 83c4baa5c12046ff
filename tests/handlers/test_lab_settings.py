"""JupyterLab's settings and workspaces belong to the server's owner: their handlers ask
no Authorizer, so the identity wrapper refuses writes from everyone else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from .test_roles import auth, token_users


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"owners": ["alice"], "default_role": "editor"}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    extensions = {**jp_server_config["ServerApp"]["jpserver_extensions"], "jupyterlab": True}
    return token_users(jp_server_config, jpserver_extensions=extensions)


async def code(jp_fetch: Any, user: str, method: str, *parts: str, body: Any = None) -> int:
    try:
        response = await jp_fetch(
            *parts,
            method=method,
            headers=auth(user),
            body=None if body is None else json.dumps(body),
        )
    except HTTPClientError as err:
        return err.code
    return response.code


async def test_only_owners_change_settings_and_workspaces(jp_fetch):
    theme = ("lab", "api", "settings", "@jupyterlab/apputils-extension:themes")
    dark = {"raw": '{"theme": "JupyterLab Dark"}'}

    assert await code(jp_fetch, "bob", "PUT", *theme, body=dark) == 403
    mine = {"data": {"bob-was-here": 1}, "metadata": {"id": "default"}}
    # a non-owner's layout is not kept (204, so their JupyterLab logs no error)
    assert (
        await code(jp_fetch, "bob", "PUT", "lab", "api", "workspaces", "default", body=mine) == 204
    )
    kept = await jp_fetch("lab", "api", "workspaces", "default", headers=auth("alice"))
    assert b"bob-was-here" not in kept.body
    assert await code(jp_fetch, "bob", "GET", *theme) == 200  # reading is fine
    assert await code(jp_fetch, "alice", "PUT", *theme, body=dark) == 204
