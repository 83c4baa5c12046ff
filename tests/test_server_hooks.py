"""The parts of jupyter_server (and tornado, jupyterlab_server) that we wrap or replace
still look the way ``jupyter_collab/server_hooks.py`` was written for; each failure names
the module to re-check. Then the hooks themselves: each wraps once and keeps what it
wrapped working."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.services.contents.filemanager import (
    AsyncFileContentsManager,
    FileContentsManager,
)

from jupyter_collab import server_hooks
from jupyter_collab.server_hooks import CALLS_RELIED_ON, WRITTEN_FOR, Signature


def resolve(target: str) -> Any:
    module, _, qualname = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def parameters(function: Any) -> str:
    """A signature as a wrapper depends on it: names, kinds and defaults, no annotations."""
    signature = inspect.signature(function)
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=bare, return_annotation=inspect.Signature.empty))


@pytest.mark.parametrize("expected", WRITTEN_FOR, ids=lambda s: s.target)
def test_each_wrapped_function_keeps_the_signature_we_wrote_for(expected: Signature):
    live = resolve(expected.target)
    name = expected.target.partition(":")[2]

    assert parameters(live) == expected.parameters, (
        f"jupyter_server changed {name}'s signature from {expected.parameters} to "
        f"{parameters(live)}; re-check {expected.relied_on_by}"
    )
    assert inspect.iscoroutinefunction(live) == expected.coroutine, (
        f"{name} is {'now' if not expected.coroutine else 'no longer'} a coroutine function; "
        f"re-check {expected.relied_on_by}"
    )


@pytest.mark.parametrize(("target", "call", "relied_on_by"), CALLS_RELIED_ON, ids=lambda x: x)
def test_each_call_a_hook_depends_on_is_still_made(target: str, call: str, relied_on_by: str):
    source = inspect.getsource(resolve(target))

    assert call in source, (
        f"{target.partition(':')[2]} no longer calls {call}; re-check {relied_on_by}"
    )


def test_every_wrapper_names_what_it_was_written_for():
    hooked = {"wrap_get_user", "filter_contents_listings", "silence_event_socket"}
    described = {s.relied_on_by for s in WRITTEN_FOR} | {c[2] for c in CALLS_RELIED_ON}

    for name in hooked:
        assert any(name in text for text in described), name


# -- the hooks --------------------------------------------------------------------------


class Provider(IdentityProvider):
    def get_user(self, handler: Any) -> User | None:
        return User(username="from-the-server")


async def test_get_user_is_wrapped_once_and_can_ask_the_servers_own_provider():
    provider = Provider()
    asked: list[str] = []

    async def identify(handler: Any, server_user: Any) -> User | None:
        user = await server_user()
        asked.append(user.username)
        return User(username=f"seen:{user.username}")

    server_hooks.wrap_get_user(provider, identify)
    server_hooks.wrap_get_user(provider, identify)
    user = await provider.get_user(object())  # type: ignore[arg-type,misc]

    assert user is not None and user.username == "seen:from-the-server"
    assert asked == ["from-the-server"]


@pytest.mark.parametrize("manager_class", [FileContentsManager, AsyncFileContentsManager])
async def test_listings_pass_through_keep_once_for_sync_and_async_managers(
    manager_class: type, tmp_path
):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    manager = manager_class(root_dir=str(tmp_path))
    kept: list[str] = []

    def keep(model: dict[str, Any]) -> dict[str, Any]:
        kept.append(model["path"])  # the listing, and each entry the manager got for it
        if model["type"] == "directory":
            model["content"] = [e for e in model["content"] if e["name"] != "b.txt"]
        return model

    server_hooks.filter_contents_listings(manager, keep)
    server_hooks.filter_contents_listings(manager, keep)
    result = manager.get("")
    model = await result if inspect.isawaitable(result) else result

    assert [e["name"] for e in model["content"]] == ["a.txt"]
    assert sorted(kept) == ["", "a.txt", "b.txt"]


def test_page_config_hooks_set_before_ours_still_run_and_ours_is_added_once():
    class App:
        settings: dict[str, Any] = {"page_config_hook": lambda h, c: {**c, "hub": True}}

    app = App()
    adjust = lambda h, c: {**c, "token": ""}  # noqa: E731

    server_hooks.wrap_page_config_hook(app, adjust)  # type: ignore[arg-type]
    server_hooks.wrap_page_config_hook(app, adjust)  # type: ignore[arg-type]
    config = app.settings["page_config_hook"](None, {"token": "secret"})

    assert config == {"token": "", "hub": True}
