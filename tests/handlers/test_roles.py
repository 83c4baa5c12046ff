"""Roles enforced by a real server: on the session answer, on every Yjs message, live
role changes, and the members API. Three users: alice owns, bob and carol do not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from tornado.httpclient import HTTPClientError

from tests.clients import YClient

from .test_websocket import NOTEBOOK

TOKENS = {"alice-token": "alice", "bob-token": "bob", "carol-token": "carol"}


class TokenPerUser(IdentityProvider):
    """``Authorization: token <name>-token`` is that user."""

    def get_user(self, handler: Any) -> User | None:
        token = self.get_token(handler)
        username = TOKENS.get(token or "")
        if username is None:
            return None
        handler._token_authenticated = True
        return User(username=username, display_name=username.title())


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"owners": ["alice"], "default_role": "viewer"}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)


def token_users(config: dict[str, Any], **server_app: Any) -> dict[str, Any]:
    """``config`` with alice, bob and carol as ``TokenPerUser`` identities, plus any
    other ``ServerApp`` settings. No authorizer setting: the extension installs its own."""
    config = dict(config)
    config["ServerApp"] = {
        **config["ServerApp"],
        "identity_provider_class": TokenPerUser,
        **server_app,
    }
    return config


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"token {user}-token"}


@pytest.fixture
def as_user(jp_fetch, jp_ws_fetch):
    """Session calls, room sockets and member calls as a given user."""

    class As:
        def __init__(self, user: str) -> None:
            self.user = user

        async def session(self, path: str, kind: str = "notebook") -> dict[str, Any]:
            response = await jp_fetch(
                "api",
                "collab",
                "session",
                path,
                method="PUT",
                body=json.dumps({"type": kind}),
                headers=auth(self.user),
            )
            return dict(json.loads(response.body))

        async def client(self, session: dict[str, Any], kind: str = "notebook") -> YClient:
            client = YClient(kind)
            await client.connect(jp_ws_fetch, session, headers=auth(self.user))
            await client.wait_synced()
            return client

        async def reconnect(self, client: YClient, session: dict[str, Any]) -> None:
            await client.connect(jp_ws_fetch, session, headers=auth(self.user))
            await client.wait_synced()

        async def grant(self, path: str, principal: str, role: str) -> Any:
            return await jp_fetch(
                "api",
                "collab",
                "members",
                path,
                method="PUT",
                body=json.dumps({"principal": principal, "role": role}),
                headers=auth(self.user),
            )

        async def members(self, path: str) -> dict[str, Any]:
            response = await jp_fetch("api", "collab", "members", path, headers=auth(self.user))
            return dict(json.loads(response.body))

    return As


async def test_the_session_answer_carries_the_callers_real_role(jp_root_dir, as_user):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    assert (await as_user("alice").session("a.ipynb"))["role"] == "owner"
    assert (await as_user("bob").session("a.ipynb"))["role"] == "viewer"


async def test_a_viewers_edit_is_never_applied_stored_or_relayed(jp_root_dir, as_user, collab):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await as_user("alice").session("a.ipynb")
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)
    room = collab.registry.rooms[session["doc_id"]]
    rows = collab.store.history.last_seq(session["doc_id"])

    bob.ydoc.ycells[0]["source"].insert(0, "# bob was here\n")

    assert await bob.wait_closed() == 4403
    assert bob.denied and "viewers cannot edit a.ipynb" in bob.denied[0]
    assert room.content()["cells"][0]["source"] == "x = 1"
    assert collab.store.history.last_seq(session["doc_id"]) == rows
    alice.ydoc.ycells[0]["source"].insert(5, "0")  # the room carries on for the others
    await alice.wait_for(lambda: room.content()["cells"][0]["source"] == "x = 10")
    assert alice.sources() == ["x = 10"]


async def test_a_reader_that_reconnects_with_a_synced_copy_is_not_refused(
    jp_root_dir, as_user, collab
):
    """y-websocket answers sync step 1 with its whole delete set: that is no edit."""
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await as_user("alice").session("a.ipynb")
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)
    text = alice.ydoc.ycells[0]["source"]
    text.insert(5, " + 2 + 3")
    del text[5:9]  # deletions put entries in the delete set
    await bob.wait_for(lambda: bob.sources() == ["x = 1 + 3"])
    await bob.disconnect()

    await as_user("bob").reconnect(bob, session)

    assert bob.close_code is None and bob.denied == []
    text.insert(0, "# ")
    await bob.wait_for(lambda: bob.sources() == ["# x = 1 + 3"])


async def test_awareness_of_any_role_is_relayed_with_the_real_identity(jp_root_dir, as_user):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await as_user("alice").session("a.ipynb")
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)

    bob.set_awareness({"user": {"username": "alice", "display_name": "Alice"}, "cell": "c1"})

    await alice.wait_for(lambda: bool(alice.awareness.get(bob.doc.client_id)))
    state = alice.awareness[bob.doc.client_id]
    assert state["cell"] == "c1" and state["user"]["username"] == "bob"
    assert bob.close_code is None


async def test_a_viewers_save_request_is_answered_with_an_error(jp_root_dir, as_user):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await as_user("alice").session("a.ipynb")
    bob = await as_user("bob").client(session)

    bob.send_event({"type": "save", "id": 7})

    await bob.wait_for(lambda: bool(bob.events))
    assert bob.events[0]["type"] == "error" and bob.events[0]["id"] == 7
    assert "viewers cannot save" in bob.events[0]["reason"]
    assert bob.close_code is None


async def test_a_role_change_reaches_the_connected_client_and_takes_effect(
    jp_root_dir, as_user, collab
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await as_user("alice").session("a.ipynb")
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)

    await as_user("alice").grant("a.ipynb", "bob", "editor")

    await bob.wait_for(lambda: {"type": "role", "role": "editor"} in bob.events)
    bob.ydoc.ycells[0]["source"].insert(0, "y = 2\n")
    await alice.wait_for(lambda: alice.sources() == ["y = 2\nx = 1"])
    assert (await as_user("bob").session("a.ipynb"))["role"] == "editor"

    await as_user("alice").grant("a.ipynb", "bob", "commenter")
    await bob.wait_for(lambda: {"type": "role", "role": "commenter"} in bob.events)
    bob.ydoc.ycells[0]["source"].insert(0, "z")
    assert await bob.wait_closed() == 4403
    assert alice.sources() == ["y = 2\nx = 1"]


async def test_a_folder_membership_is_inherited_by_what_is_inside(jp_root_dir, as_user):
    (jp_root_dir / "course").mkdir()
    (jp_root_dir / "course" / "w1.ipynb").write_text(json.dumps(NOTEBOOK))
    (jp_root_dir / "other.ipynb").write_text(json.dumps(NOTEBOOK))

    await as_user("alice").grant("course", "carol", "editor")

    assert (await as_user("carol").session("course/w1.ipynb"))["role"] == "editor"
    assert (await as_user("carol").session("other.ipynb"))["role"] == "viewer"
    listed = await as_user("carol").members("course/w1.ipynb")
    assert listed["role"] == "editor"
    assert [(m["path"], m["principal"], m["role"], m["granted_by"]) for m in listed["members"]] == [
        ("course", "carol", "editor", "alice")
    ]


async def test_only_owners_change_roles(jp_root_dir, as_user):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    with pytest.raises(HTTPClientError) as err:
        await as_user("bob").grant("a.ipynb", "bob", "owner")
    assert err.value.code == 403
    with pytest.raises(HTTPClientError) as err:
        await as_user("alice").grant("a.ipynb", "bob", "admin")
    assert err.value.code == 400
    with pytest.raises(HTTPClientError) as err:  # nothing oversized reaches the store
        await as_user("alice").grant("a.ipynb", "x" * 201, "viewer")
    assert err.value.code == 400
    assert (await as_user("bob").session("a.ipynb"))["role"] == "viewer"


@pytest.mark.parametrize("collab_config", [{"owners": ["alice"], "default_role": None}])
async def test_without_a_default_role_strangers_get_nothing(
    jp_root_dir, as_user, jp_ws_fetch, collab_config
):
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    session = await as_user("alice").session("a.ipynb")
    with pytest.raises(HTTPClientError) as err:
        await as_user("bob").session("a.ipynb")
    assert err.value.code == 403
    intruder = YClient()
    await intruder.connect(jp_ws_fetch, session, headers=auth("bob"))
    assert await intruder.wait_closed() == 4403


@pytest.mark.parametrize("collab_config", [{"owners": ["alice"], "default_role": None}])
async def test_the_presence_feed_shows_people_only_in_documents_one_may_read(
    jp_root_dir, as_user, jp_ws_fetch, collab_config
):
    """With no default role, carol sees nobody until she is given a role on a document,
    and then only the people in that one."""
    (jp_root_dir / "a.ipynb").write_text(json.dumps(NOTEBOOK))
    (jp_root_dir / "secret.ipynb").write_text(json.dumps(NOTEBOOK))
    alice = as_user("alice")
    await alice.client(await alice.session("a.ipynb"))
    await alice.client(await alice.session("secret.ipynb"))
    feed = await jp_ws_fetch("api", "collab", "presence", headers=auth("carol"))

    snapshot = json.loads(await feed.read_message())
    assert snapshot == {"type": "snapshot", "people": [], "owner": False}

    await alice.grant("a.ipynb", "carol", "viewer")
    message = json.loads(await feed.read_message())
    assert message["type"] == "snapshot"
    assert [e["path"] for e in message["people"]] == ["a.ipynb"]
    feed.close()
