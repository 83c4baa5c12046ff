from __future__ import annotations

import pytest
from tornado.httpclient import HTTPClientError


async def test_a_session_answers_the_room_and_epoch(jp_root_dir, open_session, jp_base_url):
    (jp_root_dir / "t.py").write_text("print(1)\n")

    session = await open_session("t.py", "file")

    assert session["room"] == f"api/collab/room/{session['doc_id']}"
    assert len(session["epoch"]) == 16
    assert session["role"] == "owner"


async def test_the_same_file_gets_the_same_doc_id_and_epoch(jp_root_dir, open_session):
    (jp_root_dir / "t.py").write_text("")
    first = await open_session("t.py", "file")
    second = await open_session("t.py", "file")
    assert (first["doc_id"], first["epoch"]) == (second["doc_id"], second["epoch"])


async def test_a_missing_file_is_404(open_session):
    with pytest.raises(HTTPClientError) as err:
        await open_session("nope.ipynb")
    assert err.value.code == 404


async def test_an_unknown_type_is_400(jp_root_dir, open_session):
    (jp_root_dir / "t.py").write_text("")
    with pytest.raises(HTTPClientError) as err:
        await open_session("t.py", "spreadsheet")
    assert err.value.code == 400


async def test_a_binary_file_opened_as_text_is_400(jp_root_dir, open_session):
    (jp_root_dir / "b.bin").write_bytes(b"\xff\xfe\x00\x80")
    with pytest.raises(HTTPClientError) as err:
        await open_session("b.bin", "file")
    assert err.value.code == 400


async def test_without_a_token_the_session_is_403(jp_root_dir, open_session):
    (jp_root_dir / "t.py").write_text("")
    with pytest.raises(HTTPClientError) as err:
        await open_session("t.py", "file", headers={"Authorization": ""})
    assert err.value.code == 403


async def test_without_a_token_the_room_socket_is_403(jp_root_dir, open_session, jp_ws_fetch):
    (jp_root_dir / "t.py").write_text("")
    session = await open_session("t.py", "file")
    with pytest.raises(HTTPClientError) as err:
        await jp_ws_fetch(
            *session["room"].split("/"),
            params={"epoch": session["epoch"]},
            headers={"Authorization": ""},
        )
    assert err.value.code == 403


async def test_every_route_of_the_extension_refuses_anonymous_callers(jp_serverapp, jp_fetch):
    def rules(router):
        for rule in getattr(router, "rules", []):
            if isinstance(rule.target, type):
                yield rule
            else:
                yield from rules(rule.target)

    ours = [
        r
        for r in rules(jp_serverapp.web_app.default_router)
        if r.target.__module__.startswith("jupyter_collab")
    ]
    assert {rule.target.__name__ for rule in ours} >= {"SessionHandler", "RoomWebSocketHandler"}
    base = jp_serverapp.base_url
    for rule in ours:
        if rule.target.__name__ == "JoinHandler":
            continue  # public by design (a share link's page); test_share_links.py covers it
        pattern = rule.matcher.regex.pattern.rstrip("$")
        path = pattern.replace("(.*)", "x.ipynb").replace("([^/]+)", "x")
        assert path.startswith(base), pattern
        for method, body in (
            ("GET", None),
            ("PUT", "{}"),
            ("POST", "{}"),
            ("PATCH", "{}"),
            ("DELETE", None),
        ):
            with pytest.raises(HTTPClientError) as err:
                await jp_fetch(
                    path[len(base) :], method=method, body=body, headers={"Authorization": ""}
                )
            assert err.value.code in (403, 405), (method, pattern, err.value.code)
