"""Issue #8, tried as an attacker would: a plain `jupyter lab` with token login, and a
guest holding nothing but the cookie a share link gave them.

1. The server token must reach no guest: no page, error page, API answer or websocket
   message, and a revoked guest's cookie opens nothing.
2. A path a guest sends is resolved as the ContentsManager resolves it before the role
   check: ``shared.ipynb/../secret.ipynb`` (also ``%2e%2e``, ``%2F..%2F``) reads,
   writes, creates, opens a room on or copies nothing beside the share.
3. Routes beyond the share (nbconvert, JupyterLab's extension, plugin and build APIs,
   kernels, terminals, sessions, config, workspaces, settings, checkpoints) answer 403.

Every request goes through the real server's HTTP port; paths are sent as written
(tornado's client does not normalize ``..`` or percent-escapes).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse
from tornado.websocket import WebSocketClientConnection

from jupyter_collab.protocol import SyncKind, SyncMessage, decode_message, encode_sync_step1

from .conftest import ROOT_FILES, SECRET, Browser, JoinAs, Lab, notebook, page_config, snapshot

REFUSED = (403, 404)  # 404: the server says the path does not exist for them


def leaks(response: HTTPResponse, secret: str) -> list[str]:
    """Where ``secret`` shows in a response: its body or the name of a header."""
    found = [name for name, value in response.headers.get_all() if secret in value]
    if secret.encode() in (response.body or b""):
        found.append("body")
    return found


def shown(response: HTTPResponse) -> str:
    request = f"{response.request.method} {response.effective_url}"
    return f"{response.code} {request}: {response.body[:400]!r}"


async def next_message(ws: WebSocketClientConnection, timeout: float = 10.0) -> bytes | str:
    message = await asyncio.wait_for(ws.read_message(), timeout)
    if message is None:
        raise AssertionError(f"socket closed: {ws.close_code} {ws.close_reason}")
    return message


# -- 1. the token reaches no guest ----------------------------------------------------

PAGES = [
    "lab",
    "lab/tree/shared.ipynb",
    "lab/workspaces/foo",
    "lab/workspaces/foo/tree/shared.ipynb",
    "tree",
    "notebooks/shared.ipynb",
    "edit/secret.txt",
    "doc/tree/shared.ipynb",
    "view/shared.ipynb",
    "a/page/that/does/not/exist",
    "static/no-such-file.js",
    "files/secret.txt",
    "login",
    "api/me",
    "api/status",
    "api",
    "api/contents",
    "api/contents/shared.ipynb",
    "api/contents/secret.ipynb",
    "api/kernelspecs",
    "api/config/notebook",
    "api/collab/links/shared.ipynb",
    "lab/api/settings",
    "lab/api/translations/en",
    "lab/api/workspaces",
    "lab/api/extensions",
    "lab/api/build",
]
GUEST_KINDS = ["viewer", "editor", "revoked viewer"]


async def guest_of_kind(join_as: JoinAs, kind: str) -> Browser:
    revoked = kind.startswith("revoked ")
    return await join_as("shared.ipynb", kind.removeprefix("revoked "), revoked=revoked)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("kind", GUEST_KINDS)
async def test_no_page_or_answer_a_guest_loads_carries_the_server_token(
    lab: Lab, join_as: JoinAs, kind: str, page: str
) -> None:
    guest = await guest_of_kind(join_as, kind)

    response = await guest.fetch("GET", page, headers={"Accept": "text/html,*/*;q=0.8"})

    assert leaks(response, lab.token) == [], shown(response)


@pytest.mark.parametrize("kind", GUEST_KINDS)
async def test_the_lab_page_config_a_guest_gets_holds_no_token(
    lab: Lab, join_as: JoinAs, kind: str
) -> None:
    guest = await guest_of_kind(join_as, kind)

    response = await guest.fetch("GET", "lab/tree/shared.ipynb")

    if response.code == 200:
        assert page_config(response.body).get("token", "") in ("", None), shown(response)
    assert lab.token not in response.body.decode(errors="replace"), shown(response)


async def test_what_a_guests_page_held_opens_nothing_once_the_link_is_revoked(
    lab: Lab, owner: Browser, join_as: JoinAs
) -> None:
    created = await owner.fetch(
        "POST", "api/collab/links/shared.ipynb", body={"role": "editor", "expires_in_seconds": None}
    )
    link = json.loads(created.body)
    guest = Browser(lab)
    await guest.join(link["url"], "Mallory")
    page = await guest.fetch("GET", "lab/tree/shared.ipynb")
    held = page_config(page.body).get("token") or ""

    await owner.fetch("DELETE", f"api/collab/links/shared.ipynb?id={link['id']}")
    if held:  # the page gave a credential: the attacker sends it along with the cookie
        guest.auth["Authorization"] = f"token {held}"
    answers = {
        url: (await guest.fetch("GET", url)).code
        for url in ("api/contents/shared.ipynb", "api/contents/secret.ipynb", "api/terminals")
    }

    assert set(answers.values()) == {403}, answers


async def test_a_revoked_guest_cannot_read_the_shared_file(join_as: JoinAs) -> None:
    guest = await join_as("shared.ipynb", "editor", revoked=True)

    response = await guest.fetch("GET", "api/contents/shared.ipynb")

    assert response.code == 403, shown(response)


async def test_a_revoked_guest_cannot_open_the_shared_files_room(join_as: JoinAs) -> None:
    guest = await join_as("shared.ipynb", "editor", revoked=True)

    response = await guest.fetch(
        "PUT", "api/collab/session/shared.ipynb", body={"type": "notebook"}
    )

    assert response.code == 403, shown(response)


async def test_a_revoked_guest_cannot_connect_to_the_shared_files_room(
    owner: Browser, join_as: JoinAs
) -> None:
    opened = await owner.fetch("PUT", "api/collab/session/shared.ipynb", body={"type": "notebook"})
    session = json.loads(opened.body)
    guest = await join_as("shared.ipynb", "editor", revoked=True)

    try:
        ws = await guest.websocket(f"{session['room']}?epoch={session['epoch']}")
    except Exception as err:  # refused at the upgrade: what we want
        refused: Any = getattr(err, "code", err)
    else:
        message = await asyncio.wait_for(ws.read_message(), 10)
        refused = None if message is not None else ws.close_code
        ws.close()

    assert refused in (403, 4403), f"the room answered a revoked guest: {refused!r}"


async def test_no_room_message_to_a_guest_carries_the_server_token(
    lab: Lab, join_as: JoinAs
) -> None:
    guest = await join_as("shared.ipynb", "editor")
    opened = await guest.fetch("PUT", "api/collab/session/shared.ipynb", body={"type": "notebook"})
    assert opened.code == 200, shown(opened)
    session = json.loads(opened.body)
    ws = await guest.websocket(f"{session['room']}?epoch={session['epoch']}")
    received: list[bytes | str] = []

    ws.write_message(encode_sync_step1(b"\x00"), binary=True)
    try:
        while True:  # until the server's sync step 2 (the whole document)
            message = await next_message(ws)
            received.append(message)
            decoded = decode_message(message) if isinstance(message, bytes) else None
            if isinstance(decoded, SyncMessage) and decoded.kind == SyncKind.STEP2:
                break
    finally:
        ws.close()

    token = lab.token.encode()
    assert not [m for m in received if token in (m if isinstance(m, bytes) else m.encode())]


async def test_no_presence_message_to_a_guest_carries_the_server_token(
    lab: Lab, join_as: JoinAs
) -> None:
    guest = await join_as("shared.ipynb", "editor")
    ws = await guest.websocket("api/collab/presence")

    try:
        first = await next_message(ws)
    finally:
        ws.close()

    text = first if isinstance(first, str) else first.decode(errors="replace")
    assert lab.token not in text


# -- 2. paths are resolved before the role check --------------------------------------

DOTDOT_READS = [
    "api/contents/shared.ipynb/../secret.ipynb",
    "api/contents/shared.ipynb/%2e%2e/secret.ipynb",
    "api/contents/shared.ipynb%2F..%2Fsecret.ipynb",
    "api/contents/shared.ipynb/..%2Fsecret.txt",
    "api/contents/shared.ipynb/../secret.txt?type=file&format=text",
    "files/shared.ipynb/../secret.ipynb",
    "files/shared.ipynb/%2e%2e/secret.txt",
    "files/shared.ipynb%2F..%2Fsecret.txt",
]


@pytest.mark.parametrize("url", DOTDOT_READS)
@pytest.mark.parametrize("role", ["viewer", "editor"])
async def test_a_guest_reads_no_file_beside_the_share_through_dotdot(
    join_as: JoinAs, role: str, url: str
) -> None:
    guest = await join_as("shared.ipynb", role)

    response = await guest.fetch("GET", url)

    assert response.code in REFUSED, shown(response)
    assert leaks(response, SECRET) == [], shown(response)


SESSION_DOTDOT = [
    "shared.ipynb/../secret.ipynb",
    "shared.ipynb/%2e%2e/secret.ipynb",
    "shared.ipynb%2F..%2Fsecret.ipynb",
]


@pytest.mark.parametrize("path", SESSION_DOTDOT)
@pytest.mark.parametrize("role", ["viewer", "editor"])
async def test_a_guest_opens_no_room_on_a_file_beside_the_share(
    join_as: JoinAs, role: str, path: str
) -> None:
    guest = await join_as("shared.ipynb", role)

    response = await guest.fetch("PUT", f"api/collab/session/{path}", body={"type": "notebook"})

    assert response.code in REFUSED, shown(response)


OVERWRITES = [
    "api/contents/shared.ipynb/../secret.ipynb",
    "api/contents/shared.ipynb/%2e%2e/secret.ipynb",
    "api/contents/shared.ipynb%2F..%2Fsecret.ipynb",
]


@pytest.mark.parametrize("url", OVERWRITES)
async def test_an_editor_overwrites_no_file_beside_the_share(
    lab: Lab, join_as: JoinAs, url: str
) -> None:
    guest = await join_as("shared.ipynb", "editor")
    before = (lab.root / "secret.ipynb").read_bytes()

    response = await guest.fetch(
        "PUT",
        url,
        body={"type": "notebook", "format": "json", "content": notebook("print('pwned')")},
    )

    assert response.code in REFUSED, shown(response)
    assert (lab.root / "secret.ipynb").read_bytes() == before


CREATES = {
    "dotdot": "api/contents/shared.ipynb/../{name}",
    "escaped-dots": "api/contents/shared.ipynb/%2e%2e/{name}",
    "escaped-slashes": "api/contents/shared.ipynb%2F..%2F{name}",
}


@pytest.mark.parametrize("how", CREATES)
async def test_an_editor_creates_no_file_beside_the_share(
    lab: Lab, join_as: JoinAs, how: str
) -> None:
    guest = await join_as("shared.ipynb", "editor")
    name = f"new-{how}.ipynb"

    response = await guest.fetch(
        "PUT",
        CREATES[how].format(name=name),
        body={"type": "notebook", "format": "json", "content": notebook("print('planted')")},
    )

    assert response.code in REFUSED, shown(response)
    assert not (lab.root / name).exists()


@pytest.mark.parametrize(
    "copy_from", ["secret.ipynb", "course/../secret.ipynb", "/course/../secret.ipynb"]
)
async def test_a_folder_editor_copies_no_file_from_outside_into_the_share(
    lab: Lab, join_as: JoinAs, copy_from: str
) -> None:
    guest = await join_as("course", "editor")
    before = snapshot(lab.root / "course")

    response = await guest.fetch("POST", "api/contents/course", body={"copy_from": copy_from})

    assert response.code in REFUSED, shown(response)
    assert leaks(response, SECRET) == [], shown(response)
    assert snapshot(lab.root / "course") == before


async def test_a_folder_editor_still_copies_within_the_share(lab: Lab, join_as: JoinAs) -> None:
    guest = await join_as("course", "editor")

    response = await guest.fetch(
        "POST", "api/contents/course", body={"copy_from": "course/lesson.ipynb"}
    )

    assert response.code == 201, shown(response)
    copied = json.loads(response.body)["path"]
    assert copied.startswith("course/") and (lab.root / copied).exists()


# -- 3. routes nobody checked ----------------------------------------------------------

VIEWER_REFUSED: dict[str, tuple[str, str, Any]] = {
    "nbconvert of an unshared notebook": ("GET", "nbconvert/html/secret.ipynb", None),
    "nbconvert through dotdot": ("GET", "nbconvert/html/shared.ipynb/../secret.ipynb", None),
    "nbconvert download": ("GET", "nbconvert/script/secret.ipynb?download=true", None),
    "extension list": ("GET", "lab/api/extensions", None),
    "extension disable": (
        "POST",
        "lab/api/extensions",
        {"cmd": "disable", "extension_name": "jupyter-collab"},
    ),
    "plugin disable": (
        "POST",
        "lab/api/plugins",
        {"cmd": "disable", "plugin_name": "@jupyterlab/notebook-extension:tracker"},
    ),
    "build start": ("POST", "lab/api/build", None),
    "terminal": ("POST", "api/terminals", None),
    "kernel": ("POST", "api/kernels", {"name": "python3"}),
    "kernel session": (
        "POST",
        "api/sessions",
        {"path": "shared.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}},
    ),
    "server config": ("PATCH", "api/config/notebook", {"pwned": True}),
    "settings": (
        "PUT",
        "lab/api/settings/@jupyterlab/apputils-extension:themes",
        {"raw": '{"theme": "JupyterLab Dark"}'},
    ),
    "checkpoint of an unshared notebook": ("POST", "api/contents/secret.ipynb/checkpoints", None),
}


@pytest.mark.parametrize("attempt", VIEWER_REFUSED)
async def test_a_viewer_is_refused_every_route_beyond_the_share(
    join_as: JoinAs, attempt: str
) -> None:
    guest = await join_as("shared.ipynb", "viewer")
    method, url, body = VIEWER_REFUSED[attempt]

    response = await guest.fetch(method, url, body=body)

    assert response.code == 403, shown(response)
    assert leaks(response, SECRET) == [], shown(response)


async def test_a_viewer_is_answered_an_empty_build_status_and_stores_no_workspace(
    owner: Browser, join_as: JoinAs
) -> None:
    """JupyterLab asks for these by itself: a non-owner gets an empty, honest answer
    (issue 9: no console errors) that reveals nothing and changes nothing."""
    guest = await join_as("shared.ipynb", "viewer")

    build = await guest.fetch("GET", "lab/api/build")
    saved = await guest.fetch(
        "PUT", "lab/api/workspaces/x", body={"data": {"evil": 1}, "metadata": {"id": "x"}}
    )
    read = await guest.fetch("GET", "lab/api/workspaces/x")

    assert build.code == 200 and json.loads(build.body) == {"status": "stable", "message": ""}
    assert saved.code == 204
    assert json.loads(read.body) == {"data": {}, "metadata": {"id": "x"}}
    kept = await owner.fetch("GET", "lab/api/workspaces/x")
    assert b"evil" not in kept.body


async def test_nbconvert_of_the_shared_notebook_never_shows_a_viewer_the_secret(
    join_as: JoinAs,
) -> None:
    guest = await join_as("shared.ipynb", "viewer")

    response = await guest.fetch("GET", "nbconvert/html/shared.ipynb")

    assert leaks(response, SECRET) == [], shown(response)


async def test_a_viewer_disables_nothing_in_the_owners_jupyterlab(
    lab: Lab, owner: Browser, join_as: JoinAs
) -> None:
    guest = await join_as("shared.ipynb", "viewer")

    await guest.fetch(
        "POST", "lab/api/extensions", body={"cmd": "disable", "extension_name": "jupyter-collab"}
    )
    await guest.fetch(
        "POST",
        "lab/api/plugins",
        body={"cmd": "disable", "plugin_name": "@jupyterlab/notebook-extension:tracker"},
    )

    page = await owner.fetch("GET", "lab")
    assert page.code == 200, shown(page)
    assert page_config(page.body)["disabledExtensions"] == lab.disabled_at_start


async def test_the_owner_still_reads_every_file(owner: Browser) -> None:
    for name, text in ROOT_FILES.items():
        response = await owner.fetch("GET", f"files/{name}")

        assert response.code == 200, shown(response)
        assert response.body == text.encode()


async def test_a_guest_still_reads_the_shared_notebook(join_as: JoinAs) -> None:
    guest = await join_as("shared.ipynb", "viewer")

    response = await guest.fetch("GET", "api/contents/shared.ipynb")

    assert response.code == 200, shown(response)
    assert json.loads(response.body)["path"] == "shared.ipynb"
