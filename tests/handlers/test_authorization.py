"""Our endpoints ask jupyter_server's Authorizer like every Jupyter API does."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPClientError


class NoContents(Authorizer):
    """Authenticated users may do anything but touch contents."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "contents"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    config = dict(jp_server_config)
    config["ServerApp"] = {**config["ServerApp"], "authorizer_class": NoContents}
    return config


async def test_a_user_without_contents_permission_cannot_open_a_session(jp_root_dir, open_session):
    (jp_root_dir / "t.py").write_text("")
    with pytest.raises(HTTPClientError) as err:
        await open_session("t.py", "file")
    assert err.value.code == 403


async def test_a_user_without_contents_permission_cannot_open_the_room_socket(jp_ws_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_ws_fetch("api", "collab", "room", "some-doc", params={"epoch": "x"})
    assert err.value.code == 403
