"""jupyter_collab's roles and share links inside a real JupyterHub 6 (REST level).

One hub per module (tests/hub/hub.py): users alice, bob and carol with one dummy password,
alice's single-user server runs this venv's jupyterhub-singleuser (so jupyter_collab and
CollabAuthorizer are loaded, with the default owners and default role), and alice shares
her server with bob through the hub's own sharing (POST /hub/api/shares/alice/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from .hub import PASSWORD, USERS, RunningHub, http

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "markdown",
            "id": "intro",
            "metadata": {},
            "source": "# Hello from alice",
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    root = tmp_path_factory.mktemp("jhub")
    db = root / "collab" / "history.sqlite"
    running = RunningHub(
        root,
        spawner_args=[
            f"--CollabApp.history_db_path={db}",
            # nothing about authorizers: the extension puts CollabAuthorizer in front of
            # whatever the server has (the hub configures only its identity provider)
        ],
    )
    home = running.home("alice")
    home.mkdir(parents=True)
    for name in ("a.ipynb", "b.ipynb", "c.ipynb"):
        (home / name).write_text(json.dumps(NOTEBOOK))
    (home / "other.py").write_text("secret = 'alice only'\n")
    try:
        running.start()
        yield running
    finally:
        leftovers = running.stop()
        assert not leftovers, f"had to SIGKILL: {leftovers}"


@pytest.fixture(scope="module")
def tokens(hub: RunningHub) -> dict[str, str]:
    found = {}
    for user in USERS:
        reply = hub.login(user)
        assert reply.status == 201, (user, reply.status, reply.text)
        found[user] = reply.json()["token"]
    return found


@pytest.fixture(scope="module")
def alice(hub: RunningHub, tokens: dict[str, str]) -> str:
    """alice's running server, shared with bob; its URL prefix through the proxy."""
    hub.spawn("alice", tokens["alice"])
    share = http(
        "POST", f"{hub.url}/hub/api/shares/alice/", token=tokens["alice"], body={"user": "bob"}
    )
    assert share.status == 200, (share.status, share.text)
    assert share.json()["scopes"] == ["access:servers!server=alice/"]
    return f"{hub.url}/user/alice/"


def session(prefix: str, token: str, path: str) -> Any:
    return http("PUT", f"{prefix}api/collab/session/{path}", token=token, body={"type": "notebook"})


def test_the_dummy_password_is_checked(hub: RunningHub) -> None:
    assert hub.login("alice", password="wrong").status == 403
    assert hub.login("mallory", password=PASSWORD).status == 403


def test_jupyter_collab_runs_in_alices_server(
    hub: RunningHub, alice: str, tokens: dict[str, str]
) -> None:
    me = http("GET", f"{alice}api/me", token=tokens["alice"])
    assert me.status == 200 and me.json()["identity"]["username"] == "alice"
    listing = http("GET", f"{alice}api/collab/links/a.ipynb", token=tokens["alice"])
    assert listing.status == 200, (listing.status, listing.text)
    assert "jupyter_collab | extension was successfully loaded" in hub.log()
    # our Authorizer is in place by itself (no "govern_rest_api is off" warning)
    assert "govern_rest_api is off" not in hub.log()


def test_session_roles_owner_shared_visitor_and_stranger(
    hub: RunningHub, alice: str, tokens: dict[str, str]
) -> None:
    owner = session(alice, tokens["alice"], "a.ipynb")
    assert owner.status == 200, (owner.status, owner.text)
    assert owner.json()["role"] == "owner" and owner.json()["can_execute"] is True

    visitor = session(alice, tokens["bob"], "a.ipynb")
    assert visitor.status == 200, (visitor.status, visitor.text)
    assert visitor.json()["role"] == "viewer"  # CollabApp.default_role
    assert visitor.json()["doc_id"] == owner.json()["doc_id"]
    assert visitor.json()["can_execute"] is False

    stranger = session(alice, tokens["carol"], "a.ipynb")
    # refused by the hub's IdentityProvider in alice's server, not by jupyter_collab
    assert stranger.status == 403, (stranger.status, stranger.text)
    assert "Not allowing user carol" in hub.log()


def test_owner_grants_editor_to_the_shared_visitor(alice: str, tokens: dict[str, str]) -> None:
    assert session(alice, tokens["bob"], "b.ipynb").json()["role"] == "viewer"

    # bob cannot grant himself anything
    denied = http(
        "PUT",
        f"{alice}api/collab/members/b.ipynb",
        token=tokens["bob"],
        body={"principal": "bob", "role": "editor"},
    )
    assert denied.status == 403, (denied.status, denied.text)

    granted = http(
        "PUT",
        f"{alice}api/collab/members/b.ipynb",
        token=tokens["alice"],
        body={"principal": "bob", "role": "editor"},
    )
    assert granted.status == 200, (granted.status, granted.text)
    assert granted.json()["principal"] == "bob" and granted.json()["role"] == "editor"
    assert granted.json()["granted_by"] == "alice"

    assert session(alice, tokens["bob"], "b.ipynb").json()["role"] == "editor"
    assert session(alice, tokens["bob"], "a.ipynb").json()["role"] == "viewer"  # per document
    members = http("GET", f"{alice}api/collab/members/b.ipynb", token=tokens["bob"]).json()
    assert [(m["principal"], m["role"]) for m in members["members"]] == [("bob", "editor")]


def test_anonymous_guest_joins_by_share_link_through_the_proxy(
    hub: RunningHub, alice: str, tokens: dict[str, str]
) -> None:
    created = http(
        "POST",
        f"{alice}api/collab/links/c.ipynb",
        token=tokens["alice"],
        body={"role": "viewer", "expires_in_seconds": 3600},
    )
    assert created.status == 201, (created.status, created.text)
    link = created.json()
    assert link["url"].startswith("/user/alice/collab/join/"), link["url"]
    join_url = hub.url + link["url"]

    # no hub login, no cookies, no token: any other page of alice's starts the hub's OAuth,
    anonymous_lab = http("GET", f"{alice}lab/tree/c.ipynb")
    assert anonymous_lab.status == 302, (anonymous_lab.status, anonymous_lab.headers)
    assert (anonymous_lab.header("Location") or "").startswith(
        f"{hub.url}/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice&"
    )
    assert http("GET", f"{alice}collab/join/not-a-token").status == 404
    # but the join page (@allow_unauthenticated) is served as it is
    page = http("GET", join_url)
    assert page.status == 200, (page.status, page.headers, page.text[:500])
    assert "<form" in page.text and 'name="_xsrf"' in page.text
    jar = page.cookies()
    assert "_xsrf" in jar, page.headers
    field = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    assert field is not None

    joined = http(
        "POST",
        join_url,
        form=urlencode({"name": "Zoe Quest", "_xsrf": field.group(1)}),
        cookies=jar,
    )
    assert joined.status == 302, (joined.status, joined.headers, joined.text[:500])
    assert joined.header("Location") == "/user/alice/lab/tree/c.ipynb"
    jar.update(joined.cookies())
    assert "jupyter-collab-guest" in jar, joined.headers

    guest = {"cookies": jar, "headers": {"X-XSRFToken": jar["_xsrf"]}}
    me = http("GET", f"{alice}api/me", **guest)
    assert me.status == 200, (me.status, me.text)
    identity = me.json()["identity"]
    assert identity["username"].startswith("guest:")
    assert identity["display_name"] == "Zoe Quest (guest)"

    shared = http("GET", f"{alice}api/contents/c.ipynb", **guest)
    assert shared.status == 200, (shared.status, shared.text[:300])
    other = http("GET", f"{alice}api/contents/other.py", **guest)
    assert other.status == 403, (other.status, other.text[:300])

    lab = http("GET", f"{alice}lab/tree/c.ipynb", **guest)
    assert lab.status == 200, (lab.status, lab.headers)
    assert '"hubUser": "Zoe Quest"' in lab.text and '"token": ""' in lab.text

    role = http("PUT", f"{alice}api/collab/session/c.ipynb", body={"type": "notebook"}, **guest)
    assert role.status == 200 and role.json()["role"] == "viewer", (role.status, role.text)

    # the same request without the guest cookie is just an anonymous one: the hub's login
    anonymous = http("GET", f"{alice}api/contents/c.ipynb")
    assert anonymous.status == 403, (anonymous.status, anonymous.headers)
