"""Roles, actions and memberships: the rules, and their storage in the history store."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from jupyter_collab.permissions import (
    MAX_LINK_LABEL,
    Action,
    Membership,
    Role,
    allows,
    ancestors,
    effective_role,
    parse_link_label,
)
from jupyter_collab.store import Store
from jupyter_collab.store.migrations import MIGRATIONS


def test_each_role_includes_the_rights_below_it():
    table = {role: [a.value for a in Action if allows(role, a)] for role in Role}
    assert table == {
        Role.VIEWER: ["read"],
        Role.COMMENTER: ["read", "comment"],
        Role.EDITOR: ["read", "comment", "edit"],
        Role.OWNER: ["read", "comment", "edit", "manage"],
    }
    assert not any(allows(None, a) for a in Action)


def test_roles_parse_from_names_and_refuse_anything_else():
    assert Role.parse(" Editor ") is Role.EDITOR
    with pytest.raises(ValueError, match="expected one of viewer, commenter, editor, owner"):
        Role.parse("admin")


def test_the_most_specific_membership_decides_and_folders_cover_what_is_inside():
    m = [
        Membership("course", "bob", Role.EDITOR, "alice", 0),
        Membership("course/week1/quiz.ipynb", "bob", Role.VIEWER, "alice", 0),
        Membership("", "carol", Role.COMMENTER, "alice", 0),
    ]

    def role(path: str, who: str, default: Role | None = None) -> Role | None:
        return effective_role(path, who, m, is_owner=False, default_role=default)

    assert role("course/week1/quiz.ipynb", "bob") is Role.VIEWER  # the file's own wins
    assert role("course/week1/notes.ipynb", "bob") is Role.EDITOR  # the folder's
    assert role("course2/x.ipynb", "bob") is None  # a sibling with a common prefix
    assert role("anything/at/all.py", "carol") is Role.COMMENTER
    assert role("x.py", "dan") is None
    assert role("x.py", "dan", Role.VIEWER) is Role.VIEWER
    assert role("course/a.py", "carol", Role.EDITOR) is Role.COMMENTER  # granted beats default
    assert role("x.py", "bob", Role.EDITOR) is Role.EDITOR  # no membership: the default
    assert effective_role("x.py", "dan", m, is_owner=True, default_role=None) is Role.OWNER
    assert ancestors("/a/b/c.ipynb") == ["", "a", "a/b", "a/b/c.ipynb"]


async def test_memberships_are_stored_with_who_granted_them_and_follow_renames(tmp_path):
    clock = iter(range(100, 200))
    store = Store(tmp_path / "h.sqlite", clock=lambda: float(next(clock)))
    await store.open()
    try:
        await store.access.grant("/r", "course", "bob", Role.EDITOR, granted_by="alice")
        await store.access.grant("/r", "course/w1.ipynb", "carol", Role.VIEWER, granted_by="alice")
        await store.access.grant("/r", "course/w1.ipynb", "carol", Role.COMMENTER, granted_by="bob")
        await store.access.grant("/other", "course", "dan", Role.OWNER, granted_by="alice")

        covering = await store.access.memberships("/r", covering="course/w1.ipynb")
        assert [(m.path, m.principal, m.role, m.granted_by) for m in covering] == [
            ("course", "bob", Role.EDITOR, "alice"),
            ("course/w1.ipynb", "carol", Role.COMMENTER, "bob"),
        ]
        assert all(m.granted_at >= 100 for m in covering)

        await store.history.rename_path("/r", "course", "lessons")
        assert [m.path for m in await store.access.memberships("/r")] == [
            "lessons",
            "lessons/w1.ipynb",
        ]
        assert [m.path for m in await store.access.memberships("/other")] == ["course"]

        assert await store.access.revoke("/r", "lessons", "bob") is True
        assert await store.access.revoke("/r", "lessons", "bob") is False
        await store.history.forget_path("/r", "lessons")
        assert await store.access.memberships("/r") == []
    finally:
        await store.close()


async def test_a_version_1_database_gains_memberships_and_keeps_its_documents(tmp_path):
    path = tmp_path / "h.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
    MIGRATIONS[0][1](sqlite_utils.Database(db))
    db.execute("INSERT INTO schema_migrations VALUES (1, 0)")
    db.execute(
        "INSERT INTO documents (doc_id, root, path, kind, epoch, created) "
        "VALUES ('d1', '/r', 'a.py', 'file', 'e1', 0)"
    )
    db.close()

    store = Store(path)
    await store.open()
    try:
        assert (await store.history.find_document("/r", "a.py")) is not None
        await store.access.grant("/r", "a.py", "bob", Role.VIEWER, granted_by="alice")
        assert len(await store.access.memberships("/r", covering="a.py")) == 1
    finally:
        await store.close()


def test_a_link_label_is_tidied_and_bounded():
    assert parse_link_label("  Period\t3 \n") == "Period 3"
    assert parse_link_label("bell\x07 rings") == "bell rings"
    assert parse_link_label("") == ""
    assert len(parse_link_label("x" * MAX_LINK_LABEL)) == MAX_LINK_LABEL
    with pytest.raises(ValueError, match="at most 80"):
        parse_link_label("x" * (MAX_LINK_LABEL + 1))
    for value in (3, None, ["Period 3"]):
        with pytest.raises(ValueError, match="label must be a string"):
            parse_link_label(value)
