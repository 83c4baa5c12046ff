"""Jupyter's own REST surface under document roles (``CollabAuthorizer``): alice owns the
server; bob and carol only hold roles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jupyter_server.base.handlers import path_regex
from tornado.httpclient import HTTPClientError

from .test_roles import auth, token_users
from .test_websocket import NOTEBOOK


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"owners": ["alice"], "default_role": "viewer"}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)


@pytest.fixture
def call(jp_fetch):
    async def call(user: str, method: str, *parts: str, body: Any = None, **kw: Any) -> int:
        try:
            response = await jp_fetch(
                *parts,
                method=method,
                headers=auth(user),
                body=None if body is None else json.dumps(body),
                allow_nonstandard_methods=True,
                follow_redirects=False,  # a redirect is not an accepted write
                **kw,
            )
        except HTTPClientError as err:
            return err.code
        return response.code

    return call


@pytest.fixture
def grant(jp_fetch):
    async def grant(path: str, principal: str, role: str) -> None:
        await jp_fetch(
            "api",
            "collab",
            "members",
            path,
            method="PUT",
            headers=auth("alice"),
            body=json.dumps({"principal": principal, "role": role}),
        )

    return grant


NEW_CONTENT = {"type": "file", "format": "text", "content": "overwritten"}


async def test_a_viewer_reads_but_cannot_write_rename_or_delete(jp_root_dir, call):
    (jp_root_dir / "a.py").write_text("x = 1\n")

    assert await call("bob", "GET", "api", "contents", "a.py") == 200
    assert await call("bob", "GET", "files", "a.py") == 200
    assert await call("bob", "PUT", "api", "contents", "a.py", body=NEW_CONTENT) == 403
    assert await call("bob", "PATCH", "api", "contents", "a.py", body={"path": "b.py"}) == 403
    assert await call("bob", "DELETE", "api", "contents", "a.py") == 403
    assert await call("bob", "POST", "api", "contents", "", body={"type": "file"}) == 403
    assert (jp_root_dir / "a.py").read_text() == "x = 1\n"
    assert await call("alice", "PUT", "api", "contents", "a.py", body=NEW_CONTENT) == 200


async def test_an_editor_saves_but_only_owners_rename_or_delete(jp_root_dir, call, grant):
    (jp_root_dir / "a.py").write_text("x = 1\n")
    await grant("a.py", "bob", "editor")

    assert await call("bob", "PUT", "api", "contents", "a.py", body=NEW_CONTENT) == 200
    assert (jp_root_dir / "a.py").read_text() == "overwritten"
    assert await call("bob", "PATCH", "api", "contents", "a.py", body={"path": "b.py"}) == 403
    assert await call("bob", "DELETE", "api", "contents", "a.py") == 403
    assert (jp_root_dir / "a.py").exists()


async def listed(jp_fetch: Any, user: str, *parts: str) -> Any:
    """What ``user`` is shown at a listing (kernels, terminals, sessions)."""
    return json.loads((await jp_fetch(*parts, headers=auth(user))).body)


async def test_no_terminals_and_no_kernels_unless_editors_may_execute(
    jp_root_dir, jp_fetch, call, grant
):
    await grant("", "bob", "editor")
    # JupyterLab polls these lists by itself: the answer is "none you may use", not 403
    assert await listed(jp_fetch, "bob", "api", "kernels") == []
    assert await call("bob", "POST", "api", "kernels", body={"name": "python3"}) == 403
    assert await listed(jp_fetch, "bob", "api", "terminals") == []
    assert await call("bob", "POST", "api", "terminals", body={}) == 403
    assert await call("bob", "GET", "api", "kernelspecs") == 200
    assert await call("alice", "GET", "api", "kernels") == 200


@pytest.mark.parametrize(
    "collab_config",
    [{"owners": ["alice"], "default_role": "viewer", "editors_can_execute": True}],
)
async def test_editors_may_list_kernels_when_allowed(
    jp_root_dir, jp_fetch, call, grant, collab_config
):
    started = await jp_fetch(
        "api", "kernels", method="POST", headers=auth("alice"), body=json.dumps({"name": "python3"})
    )
    kernel = json.loads(started.body)["id"]
    try:
        assert await listed(jp_fetch, "bob", "api", "kernels") == []  # a viewer still sees none
        await grant("course", "bob", "editor")
        assert [k["id"] for k in await listed(jp_fetch, "bob", "api", "kernels")] == [kernel]
        assert await listed(jp_fetch, "bob", "api", "terminals") == []  # never
        assert await call("bob", "POST", "api", "terminals", body={}) == 403
    finally:
        await jp_fetch("api", "kernels", kernel, method="DELETE", headers=auth("alice"))


@pytest.mark.parametrize("collab_config", [{"owners": ["alice"], "default_role": None}])
async def test_without_a_default_role_only_shared_paths_are_reachable(
    jp_root_dir, call, grant, collab_config, jp_fetch
):
    async def fetch_as(user: str, *parts: str) -> Any:
        return await jp_fetch(*parts, headers=auth(user))

    (jp_root_dir / "course").mkdir()
    (jp_root_dir / "course" / "w1.ipynb").write_text(json.dumps(NOTEBOOK))
    (jp_root_dir / "secret.py").write_text("token = 'x'\n")
    await grant("course/w1.ipynb", "carol", "viewer")

    assert await call("carol", "GET", "api", "contents", "course", "w1.ipynb") == 200
    assert await call("carol", "GET", "api", "contents", "course") == 200  # to reach it
    assert await call("carol", "GET", "api", "contents", "") == 200
    root = json.loads((await fetch_as("carol", "api", "contents", "")).body)
    assert [e["name"] for e in root["content"]] == ["course"]  # the way to her file only
    everything = json.loads((await fetch_as("alice", "api", "contents", "")).body)
    assert {e["name"] for e in everything["content"]} == {"course", "secret.py"}
    assert await call("carol", "GET", "api", "contents", "secret.py") == 403
    assert await call("carol", "GET", "files", "secret.py") == 403
    assert await call("bob", "GET", "api", "contents", "course", "w1.ipynb") == 403


async def test_every_route_refuses_every_write_from_a_viewer_and_a_commenter(
    jp_root_dir, jp_web_app, call, grant
):
    """Walk the whole route table: no write method reaches any handler's effect."""
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    await grant("a.ipynb", "carol", "commenter")
    before = (jp_root_dir / "a.ipynb").read_text()
    accepted: list[str] = []
    tried: set[str] = set()
    for rule in jp_web_app.wildcard_router.rules:
        pattern = getattr(rule.matcher, "regex", None)
        if pattern is None:
            continue
        url = _example_url(pattern.pattern)
        if url is None or "/api/" not in url:
            continue  # pages, static files, login: no writes behind @authorized
        url = url[url.index("/api/") :]  # without the base URL: jp_fetch adds it
        tried.add(url)
        for user in ("bob", "carol"):
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                code = await call(user, method, url.lstrip("/"), body={"path": "b.ipynb"})
                if 200 <= code < 300:
                    accepted.append(f"{user} {method} {url} -> {code}")
    assert len(tried) > 20 and "/api/contents/a.ipynb" in tried and "/api/kernels" in tried
    assert accepted == []
    assert (jp_root_dir / "a.ipynb").read_text() == before
    assert not (jp_root_dir / "b.ipynb").exists()


def _example_url(pattern: str) -> str | None:
    """A concrete URL for a route regex: every group filled with a plausible value."""
    url = pattern.rstrip("$").replace(path_regex, "/a.ipynb")
    url = re.sub(r"\(\?P<path>[^)]*\)", "a.ipynb", url)
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "x", url)
    url = re.sub(r"\([^)]*\)", "a.ipynb", url)
    url = url.replace("\\", "").replace("?", "")
    if re.search(r"[\[\]*+()|^]", url):
        return None
    return url


async def test_a_shared_user_who_is_not_a_guest_may_set_their_own_name(call):
    # the gate lets it through to the server's identity provider, which decides what may
    # change (this test provider allows no field: 400); never a refusal by role (403)
    code = await call("bob", "PATCH", "api", "me", body={"display_name": "Robert"})
    assert code != 403 and code < 500


async def test_only_owners_read_the_servers_metrics(call, grant, jp_root_dir):
    """/metrics tells how busy the server is (rooms, people, refusals): not on the list of
    what a non-owner may reach, even one who edits a document."""
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    await grant("a.ipynb", "user:bob", "editor")

    assert await call("alice", "GET", "metrics") == 200
    assert await call("bob", "GET", "metrics") == 403
    assert await call("carol", "GET", "metrics") == 403
