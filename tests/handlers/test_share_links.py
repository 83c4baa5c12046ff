"""Share links on a real server: owners create, list and revoke them; a guest opens one,
picks a name and gets a signed identity with the link's role on the link's path only;
revoking disconnects them."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from tornado.httpclient import HTTPClientError

from tests.clients import YClient

from .test_roles import auth, token_users
from .test_websocket import NOTEBOOK


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"owners": ["alice"], "default_role": "viewer"}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)


def cookies_of(response: Any) -> dict[str, str]:
    jar: dict[str, str] = {}
    for header in response.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";")[0]
    return jar


class Guest:
    """A browser without an account: cookies only."""

    def __init__(self, jp_fetch: Any, jp_ws_fetch: Any) -> None:
        self.fetch, self.ws_fetch = jp_fetch, jp_ws_fetch
        self.cookies: dict[str, str] = {}

    def headers(self, write: bool = False) -> dict[str, str]:
        headers = {
            "Authorization": "",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if write and "_xsrf" in self.cookies:
            headers["X-XSRFToken"] = self.cookies["_xsrf"]
        return headers

    async def join(self, url: str, name: str) -> Any:
        path = url.split("/collab/join/")[1]
        page = await self.fetch("collab", "join", path, headers=self.headers())
        self.cookies.update(cookies_of(page))
        body = urlencode({"name": name, "_xsrf": self.cookies["_xsrf"]})
        try:
            await self.fetch(
                "collab",
                "join",
                path,
                method="POST",
                body=body,
                headers=self.headers(),
                follow_redirects=False,
            )
        except HTTPClientError as err:
            assert err.code == 302, err
            self.cookies.update(cookies_of(err.response))
            return err.response.headers["Location"]
        raise AssertionError("joining did not redirect")

    async def call(self, method: str, *parts: str, body: Any = None) -> Any:
        return await self.fetch(
            *parts,
            method=method,
            headers=self.headers(write=method != "GET"),
            body=None if body is None else json.dumps(body),
        )

    async def session(self, path: str) -> dict[str, Any]:
        response = await self.call(
            "PUT", "api", "collab", "session", path, body={"type": "notebook"}
        )
        return dict(json.loads(response.body))

    async def code(self, method: str, *parts: str, body: Any = None) -> int:
        try:
            return (await self.call(method, *parts, body=body)).code
        except HTTPClientError as err:
            return err.code


async def end_link(jp_fetch: Any, collab: Any, link: dict[str, Any], ending: str) -> None:
    """Alice revokes ``link`` (on a.ipynb), or two hours pass and it expires."""
    if ending == "revoked":
        await jp_fetch(
            "api",
            "collab",
            "links",
            "a.ipynb",
            method="DELETE",
            headers=auth("alice"),
            params={"id": link["id"]},
        )
        return
    real_clock = collab.access.clock
    collab.access.clock = lambda: real_clock() + 7200  # two hours later
    await collab.access.tick()


async def create_link(jp_fetch, path: str, role: str, user: str = "alice", **more: Any) -> Any:
    response = await jp_fetch(
        "api",
        "collab",
        "links",
        path,
        method="POST",
        headers=auth(user),
        body=json.dumps({"role": role, **more}),
    )
    return json.loads(response.body)


async def test_a_guest_joins_by_link_and_gets_the_links_role_on_its_path_only(
    jp_root_dir, jp_fetch, jp_ws_fetch, collab
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    (jp_root_dir / "secret.py").write_text("token = 'x'\n")
    link = await create_link(jp_fetch, "a.ipynb", "viewer", expires_in_seconds=3600)
    assert link["role"] == "viewer" and link["active"] and "/collab/join/" in link["url"]

    guest = Guest(jp_fetch, jp_ws_fetch)
    landing = await guest.join(link["url"], "Zoe Quest")

    assert landing.endswith("lab/tree/a.ipynb")
    me = json.loads((await guest.call("GET", "api", "me")).body)["identity"]
    assert me["username"].startswith("guest:") and me["display_name"] == "Zoe Quest (guest)"
    session = json.loads(
        (
            await guest.call(
                "PUT", "api", "collab", "session", "a.ipynb", body={"type": "notebook"}
            )
        ).body
    )
    assert session["role"] == "viewer"
    assert await guest.code("GET", "api", "contents", "a.ipynb") == 200
    listing = json.loads((await guest.call("GET", "api", "contents", "")).body)
    assert [e["name"] for e in listing["content"]] == ["a.ipynb"]  # not secret.py
    assert await guest.code("GET", "api", "contents", "secret.py") == 403
    assert await guest.code("GET", "files", "secret.py") == 403
    terminals = await guest.call("GET", "api", "terminals")
    assert json.loads(terminals.body) == []  # none they may use (JupyterLab polls it)
    assert await guest.code("POST", "api", "terminals", body={}) == 403
    assert await guest.code("PUT", "api", "contents", "a.ipynb", body={"type": "file"}) == 403

    client = YClient()
    await client.connect(jp_ws_fetch, session, headers=guest.headers())
    await client.wait_synced()
    client.ydoc.ycells[0]["source"].insert(0, "# guest\n")
    assert await client.wait_closed() == 4403  # a viewer's edit, refused
    room = collab.registry.rooms[session["doc_id"]]
    assert room.content()["cells"][0]["source"] == "x = 1"


async def test_revoking_a_link_disconnects_its_guests_and_locks_them_out(
    jp_root_dir, jp_fetch, jp_ws_fetch
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(jp_fetch, "a.ipynb", "editor")
    guest = Guest(jp_fetch, jp_ws_fetch)
    await guest.join(link["url"], "Zoe")
    session = json.loads(
        (
            await guest.call(
                "PUT", "api", "collab", "session", "a.ipynb", body={"type": "notebook"}
            )
        ).body
    )
    client = YClient()
    await client.connect(jp_ws_fetch, session, headers=guest.headers())
    await client.wait_synced()
    client.ydoc.ycells[0]["source"].insert(5, "0")  # an editor's edit is fine

    await end_link(jp_fetch, None, link, "revoked")

    assert await client.wait_closed(timeout=5) == 4403
    assert await guest.code("GET", "api", "contents", "a.ipynb") == 403
    listed = json.loads(
        (await jp_fetch("api", "collab", "links", "a.ipynb", headers=auth("alice"))).body
    )
    assert [(x["id"], x["active"]) for x in listed["links"]] == [(link["id"], False)]
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            "collab", "join", link["url"].split("/collab/join/")[1], headers={"Authorization": ""}
        )
    assert err.value.code == 404


async def test_only_owners_create_links_and_never_owner_links(jp_root_dir, jp_fetch):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    with pytest.raises(HTTPClientError) as err:
        await create_link(jp_fetch, "a.ipynb", "viewer", user="bob")
    assert err.value.code == 403
    for body in ({"role": "owner"}, {"role": "viewer", "expires_in_seconds": -1}):
        with pytest.raises(HTTPClientError) as err:
            await create_link(jp_fetch, "a.ipynb", **body)
        assert err.value.code == 400
    with pytest.raises(HTTPClientError) as err:
        await create_link(jp_fetch, "missing.ipynb", "viewer")
    assert err.value.code == 404


async def test_a_forged_or_unknown_guest_cookie_is_nobody(jp_root_dir, jp_fetch, jp_ws_fetch):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    guest = Guest(jp_fetch, jp_ws_fetch)
    guest.cookies["jupyter-collab-guest"] = '"{\\"u\\": \\"guest:x:y\\", \\"n\\": \\"Eve\\"}"'
    assert await guest.code("GET", "api", "contents", "a.ipynb") == 403
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("collab", "join", "not-a-token", headers={"Authorization": ""})
    assert err.value.code == 404


async def test_an_expiring_link_disconnects_its_guests_when_it_expires(
    jp_root_dir, jp_fetch, jp_ws_fetch, collab
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(jp_fetch, "a.ipynb", "viewer", expires_in_seconds=3600)
    guest = Guest(jp_fetch, jp_ws_fetch)
    await guest.join(link["url"], "Zoe")
    client = YClient()
    await client.connect(jp_ws_fetch, await guest.session("a.ipynb"), headers=guest.headers())
    await client.wait_synced()

    real_clock = collab.access.clock
    collab.access.clock = lambda: real_clock() + 7200  # two hours later
    await collab.access.tick()

    assert await client.wait_closed(timeout=5) == 4403
    assert await guest.code("GET", "api", "contents", "a.ipynb") == 403


async def test_changing_a_links_role_reaches_its_connected_guests(
    jp_root_dir, jp_fetch, jp_ws_fetch, collab
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(jp_fetch, "a.ipynb", "viewer")
    guest = Guest(jp_fetch, jp_ws_fetch)
    await guest.join(link["url"], "Zoe")
    session = await guest.session("a.ipynb")
    client = YClient()
    await client.connect(jp_ws_fetch, session, headers=guest.headers())
    await client.wait_synced()

    await jp_fetch(
        "api",
        "collab",
        "links",
        "a.ipynb",
        method="PATCH",
        headers=auth("alice"),
        params={"id": link["id"]},
        body=json.dumps({"role": "editor"}),
    )

    await client.wait_for(lambda: {"type": "role", "role": "editor"} in client.events)
    client.ydoc.ycells[0]["source"].insert(5, "0")
    room = collab.registry.rooms[session["doc_id"]]
    await client.wait_for(lambda: room.content()["cells"][0]["source"] == "x = 10")


@pytest.mark.parametrize(
    "collab_config",
    [{"owners": ["alice"], "default_role": "editor", "editors_can_execute": True}],
)
async def test_a_viewer_guest_runs_no_code_even_where_editors_may(
    jp_root_dir, jp_fetch, jp_ws_fetch, collab_config
):
    """The default role (editor here) is not a guest's: only their link's role counts."""
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(jp_fetch, "a.ipynb", "viewer")
    guest = Guest(jp_fetch, jp_ws_fetch)
    await guest.join(link["url"], "Zoe")

    session = await guest.session("a.ipynb")
    assert (session["role"], session["can_execute"]) == ("viewer", False)
    assert json.loads((await guest.call("GET", "api", "kernels")).body) == []
    new_session = {"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    assert await guest.code("POST", "api", "sessions", body=new_session) == 403
    # bob, an editor by default, may (editors_can_execute)
    bobs = await jp_fetch(
        "api",
        "collab",
        "session",
        "a.ipynb",
        method="PUT",
        headers=auth("bob"),
        body=json.dumps({"type": "notebook"}),
    )
    assert json.loads(bobs.body)["can_execute"] is True


async def read_until_closed(feed: Any, timeout: float = 5.0) -> int | None:
    """Read the presence feed until the server closes it; its close code."""
    async with asyncio.timeout(timeout):
        while await feed.read_message() is not None:
            pass
    return feed.close_code


@pytest.mark.parametrize("ending", ["revoked", "expired"])
async def test_a_guests_presence_feed_closes_when_their_link_ends(
    jp_root_dir, jp_fetch, jp_ws_fetch, collab, ending
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(jp_fetch, "a.ipynb", "viewer", expires_in_seconds=3600)
    guest = Guest(jp_fetch, jp_ws_fetch)
    await guest.join(link["url"], "Zoe")
    feed = await jp_ws_fetch("api", "collab", "presence", headers=guest.headers())
    snapshot = json.loads(await feed.read_message())
    assert snapshot["type"] == "snapshot"

    await end_link(jp_fetch, collab, link, ending)

    assert await read_until_closed(feed) == 4403
    with pytest.raises(HTTPClientError) as refused:  # and it cannot come back
        await jp_ws_fetch("api", "collab", "presence", headers=guest.headers())
    assert refused.value.code == 403


async def list_links(jp_fetch, path: str) -> list[dict[str, Any]]:
    response = await jp_fetch("api", "collab", "links", path, headers=auth("alice"))
    return list(json.loads(response.body)["links"])


async def patch_link(jp_fetch, path: str, link_id: str, body: Any) -> Any:
    response = await jp_fetch(
        "api",
        "collab",
        "links",
        path,
        method="PATCH",
        headers=auth("alice"),
        params={"id": link_id},
        body=json.dumps(body),
    )
    return json.loads(response.body)


async def test_links_carry_a_label_their_creators_name_and_the_guests_who_joined(
    jp_root_dir, jp_fetch, jp_ws_fetch, collab
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    p3 = await create_link(jp_fetch, "a.ipynb", "viewer", label="  Period   3 ")
    p4 = await create_link(jp_fetch, "a.ipynb", "editor", label="Period 4")
    assert (p3["label"], p3["created_by"], p3["created_by_name"]) == ("Period 3", "alice", "Alice")
    assert (p3["guests"], p3["last_used_at"]) == ([], None)

    guest = Guest(jp_fetch, jp_ws_fetch)
    await guest.join(p3["url"], "Zoe Quest")
    await guest.session("a.ipynb")

    by_label = {x["label"]: x for x in await list_links(jp_fetch, "a.ipynb")}
    assert [g["name"] for g in by_label["Period 3"]["guests"]] == ["Zoe Quest"]
    joined = by_label["Period 3"]["guests"][0]["joined_at"]
    assert by_label["Period 3"]["last_used_at"] >= joined >= p3["created_at"]
    assert by_label["Period 4"]["guests"] == [] and by_label["Period 4"]["last_used_at"] is None
    assert "guest_id" not in by_label["Period 3"]["guests"][0]

    changed = await patch_link(jp_fetch, "a.ipynb", p4["id"], {"label": "Period 4b"})
    assert (changed["label"], changed["role"]) == ("Period 4b", "editor")
    changed = await patch_link(
        jp_fetch, "a.ipynb", p4["id"], {"label": "Period 4", "role": "commenter"}
    )
    assert (changed["label"], changed["role"]) == ("Period 4", "commenter")


async def test_a_bad_label_or_patch_body_is_a_400_that_says_why(jp_root_dir, jp_fetch):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(jp_fetch, "a.ipynb", "viewer")
    cases = [
        ("POST", {}, {"role": "viewer", "label": "x" * 81}, "at most 80"),
        ("POST", {}, {"role": "viewer", "label": 3}, "label must be a string"),
        ("POST", {}, {"label": "P3"}, 'needs a "role"'),
        ("POST", {}, [], "JSON object"),
        ("PATCH", {"id": link["id"]}, {}, 'a "role", a "label" or both'),
        ("PATCH", {"id": link["id"]}, {"label": None}, "label must be a string"),
        ("PATCH", {"id": link["id"]}, {"role": "owner"}, "cannot make guests owners"),
    ]
    for method, params, body, message in cases:
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch(
                "api",
                "collab",
                "links",
                "a.ipynb",
                method=method,
                headers=auth("alice"),
                params=params,
                body=json.dumps(body),
            )
        assert err.value.code == 400, (body, err.value)
        reply = json.loads(err.value.response.body)["message"]
        assert any(m in reply for m in message.split("|")), (body, reply)
    assert [x["label"] for x in await list_links(jp_fetch, "a.ipynb")] == [""]


async def test_the_join_page_names_who_shared_what_with_its_label_and_expiry(jp_root_dir, jp_fetch):
    (jp_root_dir / "lessons").mkdir()
    (jp_root_dir / "lessons" / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(
        jp_fetch, "lessons/a.ipynb", "editor", label="Period <3>", expires_in_seconds=86400
    )
    page = await jp_fetch(
        "collab", "join", link["url"].split("/collab/join/")[1], headers={"Authorization": ""}
    )
    text = page.body.decode()

    assert "Alice shared <b>lessons/a.ipynb</b> with you as an <b>editor</b>" in text
    assert "Period &lt;3&gt;" in text  # the label, escaped
    assert '<time datetime="' in text and "UTC</time>" in text
    assert "alice" not in text  # the display name, not the username


@pytest.mark.parametrize("ending", ["revoked", "expired", "unknown"])
async def test_a_dead_link_gets_a_friendly_404_that_reveals_nothing(
    jp_root_dir, jp_fetch, collab, ending
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    link = await create_link(
        jp_fetch, "a.ipynb", "viewer", label="Period 3", expires_in_seconds=3600
    )
    token = link["url"].split("/collab/join/")[1]
    if ending in ("revoked", "expired"):
        await end_link(jp_fetch, collab, link, ending)
    else:
        token = "not-a-token"

    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("collab", "join", token, headers={"Authorization": ""})

    assert err.value.code == 404
    text = err.value.response.body.decode()
    assert "This link no longer works" in text and "Ask the person who shared it" in text
    for secret in ("a.ipynb", "Period 3", "Alice", "viewer"):
        assert secret not in text
