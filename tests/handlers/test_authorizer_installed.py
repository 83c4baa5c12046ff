"""The extension puts CollabAuthorizer in front of whatever authorizer the server has:
an extension's jupyter_server_config.d can only enable it, not set an authorizer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_collab.authorizer import CollabAuthorizer

from .test_roles import auth, token_users


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"owners": ["alice"], "default_role": "viewer"}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)  # no authorizer_class: the server's default one


async def test_roles_govern_the_rest_api_without_any_authorizer_setting(
    jp_root_dir, jp_fetch, jp_serverapp
):
    (jp_root_dir / "a.py").write_text("x = 1\n")
    assert isinstance(jp_serverapp.authorizer, CollabAuthorizer)
    assert jp_serverapp.web_app.settings["authorizer"] is jp_serverapp.authorizer

    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            "api",
            "contents",
            "a.py",
            method="PUT",
            headers=auth("bob"),
            body=json.dumps({"type": "file", "format": "text", "content": "overwritten"}),
        )
    assert err.value.code == 403
    assert (jp_root_dir / "a.py").read_text() == "x = 1\n"
    link = await jp_fetch(
        "api",
        "collab",
        "links",
        "a.py",
        method="POST",
        headers=auth("alice"),
        body=json.dumps({"role": "viewer"}),
    )
    assert link.code == 201  # share links work: the REST API is governed


@pytest.mark.parametrize("collab_config", [{"owners": ["alice"], "govern_rest_api": False}])
async def test_turning_it_off_disables_share_links(jp_root_dir, jp_fetch, collab_config):
    (jp_root_dir / "a.py").write_text("x = 1\n")
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            "api",
            "collab",
            "links",
            "a.py",
            method="POST",
            headers=auth("alice"),
            body=json.dumps({"role": "viewer"}),
        )
    assert err.value.code == 409


def test_naming_collab_authorizer_as_the_servers_authorizer_fails_with_what_to_do():
    """jupyter_server would build it without the extension's services: it cannot check
    roles, so it refuses to exist and says why (the extension installs it itself)."""
    with pytest.raises(ValueError, match="installs CollabAuthorizer itself"):
        CollabAuthorizer()
