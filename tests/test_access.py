"""AccessControl's share links: labels, guests who joined, and a link's last use kept in
memory and written now and then, never on every request."""

from __future__ import annotations

from pathlib import Path

from jupyter_collab.access import USAGE_WRITE_SECONDS, AccessControl
from jupyter_collab.permissions import Role
from jupyter_collab.store import Store

from .fakes import FakeClock


async def make_access(path: Path, clock: FakeClock) -> tuple[Store, AccessControl]:
    store = Store(path, write_interval_seconds=0.001)
    await store.open()
    access = AccessControl(store.access, "/r", owners=frozenset({"alice"}), default_role=None)
    access.clock = clock
    await access.load()
    return store, access


async def stored_last_use(path: Path) -> float | None:
    store = Store(path)
    await store.open()
    (link,) = await store.access.links("/r")
    await store.close()
    return link.last_used_at


async def test_a_links_last_use_is_written_at_most_once_a_minute(tmp_path):
    clock = FakeClock(1000.0)
    store, access = await make_access(tmp_path / "h.sqlite", clock)
    link = await access.create_link(
        "a.ipynb", Role.VIEWER, by="alice", by_name="Alice A.", expires_in=None, label="P3"
    )
    await access.tick()  # the first tick writes (nothing yet)

    clock.advance(5)
    access.link_used(link.link_id)
    await access.tick()
    (listed,) = access.links_on("a.ipynb")
    assert listed.last_used_at == 1005.0  # the dialog sees it at once
    assert await stored_last_use(tmp_path / "h.sqlite") is None  # the store not yet

    clock.advance(USAGE_WRITE_SECONDS)
    access.link_used(link.link_id)
    await access.tick()
    assert await stored_last_use(tmp_path / "h.sqlite") == 1065.0
    await store.close()


async def test_a_guest_who_joins_is_recorded_at_once(tmp_path):
    clock = FakeClock(1000.0)
    store, access = await make_access(tmp_path / "h.sqlite", clock)
    link = await access.create_link("a.ipynb", Role.EDITOR, by="alice", expires_in=3600)

    clock.advance(10)
    await access.guest_joined(link.link_id, "g1", "Zoe")

    (listed,) = access.links_on("a.ipynb")
    assert [(g.name, g.joined_at) for g in listed.guests] == [("Zoe", 1010.0)]
    assert listed.last_used_at == 1010.0
    assert listed.created_by_name == "alice"  # no display name given
    assert await stored_last_use(tmp_path / "h.sqlite") == 1010.0
    await store.close()


async def test_unwritten_uses_are_written_at_shutdown(tmp_path):
    clock = FakeClock(1000.0)
    store, access = await make_access(tmp_path / "h.sqlite", clock)
    link = await access.create_link("a.ipynb", Role.VIEWER, by="alice", expires_in=None)
    await access.tick()
    clock.advance(1)
    access.link_used(link.link_id)

    await access.write_usage()
    await store.close()

    assert await stored_last_use(tmp_path / "h.sqlite") == 1001.0


async def test_a_label_changes_on_any_link_even_a_revoked_one(tmp_path):
    store, access = await make_access(tmp_path / "h.sqlite", FakeClock())
    link = await access.create_link("a.ipynb", Role.VIEWER, by="alice", expires_in=None)
    await access.revoke_link(link.link_id, by="alice")

    assert await access.set_link_label(link.link_id, "Period 3", by="alice")
    assert await access.set_link_label("nope", "x", by="alice") is False
    assert [x.label for x in access.links_on("a.ipynb")] == ["Period 3"]
    await store.close()
