"""Deny by default: a person who is not an owner reaches only the allowlisted routes of
the live server, and every path they send is checked where it resolves.

The route walk reads the running server's own route table (jupyter_server,
jupyterlab_server, JupyterLab, terminals, LSP and jupyter-collab), so a route added by
any extension is covered without editing this file: it is refused until it is listed
in ``gate.ALLOWLIST``."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_server.base.handlers import JupyterHandler
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.routing import Rule
from tornado.web import StaticFileHandler

from jupyter_collab.gate import ALLOWLIST, STAND_INS, Need, handler_name

from .test_share_links import Guest
from .test_websocket import NOTEBOOK

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# what a guest asks for in each part of a route: always something not shared with them
SAMPLES = {
    "path": "/secret.ipynb",
    "tree": "/tree/secret.ipynb",
    "workspace": "/workspaces/stolen",
    "mode": "lab",
    "schema_name": "@jupyterlab/apputils-extension:themes",
    "space_name": "default",
    "locale": "en",
    "section_name": "notebook",
    "checkpoint_id": "checkpoint",
    "kernel_id": "6b7c1b2e-1111-2222-3333-444455556666",
    "session_id": "6b7c1b2e-1111-2222-3333-444455556666",
    "action": "restart",
    "kernel_name": "python3",
    "format": "html",
    "language_server": "pylsp",
}
UNNAMED = {
    ".*": "secret.ipynb",
    "[^/]+": "x1",
    "\\w+": "abc1",
    "robots\\.txt": "robots.txt",
    "favicon\\.ico": "favicon.ico",
    "robots\\.txt|favicon\\.ico": "favicon.ico",
}


def _group_end(pattern: str, start: int) -> int:
    depth = 0
    for i in range(start, len(pattern)):
        if pattern[i] == "\\":
            continue
        if pattern[i] == "(" and (i == 0 or pattern[i - 1] != "\\"):
            depth += 1
        elif pattern[i] == ")" and pattern[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(pattern)


def sample_url(pattern: str) -> str:
    """A URL (without the base) that the route ``pattern`` matches, naming a file
    that is not shared."""
    out, i = "", 0
    body = pattern.rstrip("$").lstrip("^")
    while i < len(body):
        if body.startswith("(", i):
            end = _group_end(body, i)
            inner = body[i + 1 : end]
            named = re.match(r"\?P<(\w+)>", inner)
            if named:
                out += SAMPLES[named.group(1)]
            else:
                out += UNNAMED[inner]
            i = end + 1
            if body.startswith("?", i):
                i += 1
        elif body.startswith(".*", i):
            out += "x"
            i += 2
        elif body.startswith("/?", i):
            out += "/"
            i += 2
        elif body.startswith("\\", i):
            out += body[i + 1]
            i += 2
        else:
            out += body[i]
            i += 1
    return out


def live_rules(router: Any) -> Iterator[Rule]:
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            yield from live_rules(rule.target)
        else:
            yield rule


def routed_to(serverapp: Any, url: str) -> type:
    request = HTTPServerRequest(
        start_line=RequestStartLine("GET", url, "HTTP/1.1"),
        headers=HTTPHeaders({"Host": "127.0.0.1"}),
    )
    delegate = serverapp.web_app.find_handler(request)
    return delegate.handler_class  # type: ignore[no-any-return]


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    # a plain `jupyter lab`: token login (the token holder owns everything), JupyterLab,
    # terminals and the language server routes loaded beside us
    config = dict(jp_server_config)
    config["ServerApp"] = {
        **config["ServerApp"],
        "jpserver_extensions": {
            "jupyter_collab": True,
            "jupyterlab": True,
            "jupyter_server_terminals": True,
            "jupyter_lsp": True,
        },
    }
    return config


async def editor_guest(jp_root_dir: Any, jp_fetch: Any, jp_ws_fetch: Any) -> Guest:
    """A guest holding an editor link on shared.ipynb; secret.ipynb is not shared."""
    (jp_root_dir / "shared.ipynb").write_text(json.dumps(NOTEBOOK))
    (jp_root_dir / "secret.ipynb").write_text(json.dumps(NOTEBOOK).replace("x = 1", "SECRET"))
    response = await jp_fetch(  # the token holder: the owner
        "api", "collab", "links", "shared.ipynb", method="POST", body=json.dumps({"role": "editor"})
    )
    link = json.loads(response.body)
    visitor = Guest(jp_fetch, jp_ws_fetch)
    await visitor.join(link["url"], "Mallory")
    return visitor


async def raw_code(client: Any, guest: Guest, method: str, url: str) -> tuple[int, bytes]:
    """``method url`` exactly as written (no escaping, no redirects) with the guest's
    cookies; the status and the body."""
    body = None if method in ("GET", "HEAD", "DELETE") else "{}"
    response = await client.fetch(
        url,
        method=method,
        headers=guest.headers(write=method != "GET"),
        body=body,
        allow_nonstandard_methods=True,
        follow_redirects=False,
        raise_error=False,
    )
    return response.code, response.body or b""


async def test_every_route_of_the_live_server_is_allowlisted_with_a_check_or_refused(
    jp_serverapp, jp_root_dir, jp_fetch, jp_ws_fetch, http_server_client
):
    guest = await editor_guest(jp_root_dir, jp_fetch, jp_ws_fetch)
    rules = list(live_rules(jp_serverapp.web_app.default_router))
    names = {handler_name(rule.target) for rule in rules}
    assert "jupyterlab.handlers.build_handler.BuildHandler" in names  # JupyterLab is loaded
    assert "jupyter_server_terminals.api_handlers.TerminalRootHandler" in names
    refused, checked, answered = [], [], []
    for rule in rules:
        name = handler_name(rule.target)
        url = sample_url(rule.matcher.regex.pattern)
        if rule.matcher.regex.pattern == "(.*)$":  # the catch-all 404 page
            url = jp_serverapp.base_url + "no/such/page"
        assert rule.matcher.regex.fullmatch(url), f"no sample for {rule.matcher.regex.pattern}"
        if routed_to(jp_serverapp, url) is not rule.target:
            continue  # shadowed by an earlier route for this sample: that one is tested
        allowed = ALLOWLIST.get(name)
        base = jp_serverapp.base_url
        if not url.startswith(base):  # JupyterLab's /robots.txt and /favicon.ico
            assert allowed is not None and set(allowed.methods.values()) == {Need.PUBLIC}
            continue
        if not issubclass(rule.target, JupyterHandler):
            # it never asks who is calling, so the gate cannot apply: it must be public
            assert allowed is not None and set(allowed.methods.values()) == {Need.PUBLIC}, name
            continue
        for method in METHODS:
            need = None if allowed is None else allowed.methods.get(method)
            if need in (Need.PUBLIC, Need.SIGNED_IN, Need.OWN_CHECKS):
                continue  # no file and no owner power behind it (see gate.ALLOWLIST)
            code, body = await raw_code(http_server_client, guest, method, url)
            if (name, method) in STAND_INS:  # an empty answer instead of a refusal
                assert code < 300 or code in (400, 403), f"{method} {url} ({name}) answered {code}"
                answered.append((method, name))
            elif need is None:
                answer = f"{method} {url} ({name}) answered {code}: {body[:300]!r}"
                assert code in (403, 405), answer
                if code == 403:
                    refused.append((method, name))
            else:  # a role check on the path: secret.ipynb is not shared
                assert code == 403, f"{method} {url} ({name}) answered {code}: {body[:200]!r}"
                checked.append((method, name))
            assert b"SECRET" not in body
    assert ("POST", "jupyterlab.handlers.build_handler.BuildHandler") in refused
    assert ("POST", "jupyterlab.handlers.extension_manager_handler.ExtensionHandler") in refused
    # how busy the server is (rooms, people, refusals): owners only
    assert ("GET", "jupyter_server.base.handlers.PrometheusMetricsHandler") in refused
    assert ("GET", "jupyter_server.nbconvert.handlers.NbconvertFileHandler") in checked
    assert ("GET", "jupyter_server.services.contents.handlers.ContentsHandler") in checked
    assert len(refused) > 60
    assert ("PUT", "jupyterlab_server.workspaces_handler.WorkspacesHandler") in answered


async def test_no_page_or_answer_served_to_any_guest_holds_the_server_token(
    jp_serverapp, jp_root_dir, jp_fetch, jp_ws_fetch, http_server_client
):
    token = jp_serverapp.identity_provider.token
    assert token and len(token) >= 8
    (jp_root_dir / "shared.ipynb").write_text(json.dumps(NOTEBOOK))
    guests = {}
    for role in ("viewer", "commenter", "editor", "revoked"):
        response = await jp_fetch(
            "api",
            "collab",
            "links",
            "shared.ipynb",
            method="POST",
            body=json.dumps({"role": "viewer" if role == "revoked" else role}),
        )
        link = json.loads(response.body)
        guests[role] = Guest(jp_fetch, jp_ws_fetch)
        await guests[role].join(link["url"], f"A {role}")
        if role == "revoked":
            await jp_fetch(
                "api",
                "collab",
                "links",
                "shared.ipynb",
                method="DELETE",
                params={"id": link["id"]},
            )
    urls = {jp_serverapp.base_url + "no/such/page"}
    for rule in live_rules(jp_serverapp.web_app.default_router):
        allowed = ALLOWLIST.get(handler_name(rule.target))
        if allowed is None or "GET" not in allowed.methods:
            continue
        if issubclass(rule.target, StaticFileHandler):
            continue  # files of JupyterLab's build, not pages (favicon.ico errors here)
        for path in ("/secret.ipynb", "/shared.ipynb"):
            urls.add(sample_url(rule.matcher.regex.pattern).replace("/secret.ipynb", path))
    pages = 0
    for kind, guest in guests.items():
        for url in sorted(urls):
            if not url.startswith(jp_serverapp.base_url):
                continue  # JupyterLab's /robots.txt outside the base: static, and broken here
            response = await http_server_client.fetch(
                url, headers=guest.headers(), follow_redirects=False, raise_error=False
            )
            served = (response.body or b"") + str(response.headers).encode()
            assert token.encode() not in served, f"{kind} got the token from {url}"
            pages += response.code == 200
    assert pages > 20  # real pages were served, not only refusals
    # the revoked guest's cookie is worth nothing now
    for parts in (("api", "contents", "shared.ipynb"), ("lab",)):
        response = await http_server_client.fetch(
            jp_serverapp.base_url + "/".join(parts),
            headers=guests["revoked"].headers(),
            follow_redirects=False,
            raise_error=False,
        )
        assert response.code in (302, 403), parts  # refused, or sent to the login page


def test_the_audit_command_lists_every_route_and_what_non_owners_may_do(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_collab.audit",
            "--json",
            f"--ServerApp.root_dir={tmp_path}",
            f"--CollabApp.history_db_path={tmp_path / 'h.sqlite'}",
            "--ServerApp.jpserver_extensions={'jupyter_collab': True, 'jupyterlab': True}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    rows = {row["handler"]: row["non_owners"] for row in json.loads(result.stdout)}
    assert rows["jupyterlab.handlers.build_handler.BuildHandler"] == "refused"
    assert rows["jupyter_server.services.contents.handlers.ContentsHandler"] == {
        "GET": "read the path",
        "PUT": "edit the path",
        "POST": "edit the path",
    }
    assert rows["jupyter_collab.handlers.websocket.RoomWebSocketHandler"] == {"GET": "own checks"}


async def test_an_idle_guests_jupyterlab_is_answered_not_refused_and_learns_nothing(
    jp_serverapp, jp_root_dir, jp_fetch, jp_ws_fetch, http_server_client
):
    """What JupyterLab asks for by itself at start and while idle: a non-owner gets an
    empty answer (no kernels, no workspace, no news) and a silent event stream, so their
    console shows no errors (issue 9) and nothing of the owner's reaches them."""
    guest = await editor_guest(jp_root_dir, jp_fetch, jp_ws_fetch)
    base = jp_serverapp.base_url
    for path, expected in [
        ("api/sessions", []),
        ("api/kernels", []),
        ("api/terminals", []),
        ("lab/api/workspaces/default", {"data": {}, "metadata": {"id": "default"}}),
        ("lab/api/news", {"news": []}),
        ("lab/api/update", {"notification": None}),
        ("lsp/status", {"version": 2, "sessions": {}, "specs": {}}),
    ]:
        code, body = await raw_code(http_server_client, guest, "GET", base + path)
        assert code == 200 and json.loads(body) == expected, path
    owners_events = await jp_ws_fetch("api", "events", "subscribe")
    guests_events = await jp_ws_fetch("api", "events", "subscribe", headers=guest.headers())

    await jp_fetch(  # the owner saves a file the guest must not hear of
        "api",
        "contents",
        "private-plans.txt",
        method="PUT",
        body=json.dumps({"type": "file", "format": "text", "content": "x"}),
    )

    heard = json.loads(await asyncio.wait_for(owners_events.read_message(), 10))
    assert heard["path"] == "private-plans.txt"
    guests_events.ping()  # the guest's socket is alive, and silent
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(guests_events.read_message()), 0.5)
    code, page = await raw_code(http_server_client, guest, "GET", base + "lab")
    assert code == 200
    script = page.split(b'id="jupyter-config-data" type="application/json">')[1]
    config = json.loads(script.split(b"</script>")[0])
    assert config["token"] == "" and config["terminalsAvailable"] is False
    assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]


async def test_a_guest_cannot_rename_themselves_through_the_servers_identity(
    jp_serverapp, jp_root_dir, jp_fetch, jp_ws_fetch, http_server_client
):
    guest = await editor_guest(jp_root_dir, jp_fetch, jp_ws_fetch)
    response = await http_server_client.fetch(
        jp_serverapp.base_url + "api/me",
        method="PATCH",
        body=json.dumps({"display_name": "The Owner"}),
        headers=guest.headers(write=True),
        raise_error=False,
    )
    assert response.code == 403
    me = await guest.call("GET", "api", "me")
    assert json.loads(me.body)["identity"]["display_name"] == "Mallory (guest)"
