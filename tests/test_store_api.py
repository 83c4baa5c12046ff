"""Each SQLite repository keeps the protocol its consumers program against: same methods,
same parameters (names, kinds, types, defaults), same return types, sync or async alike.
mypy checks the same in ``jupyter_collab/store/__init__.py``; this fails at test time
too, for a method that drifted."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from jupyter_collab.store import (
    AccessRecords,
    AccessRepository,
    CommentRecords,
    CommentRepository,
    HistoryLog,
    HistoryRepository,
    LockRecords,
    LockRepository,
    Store,
    VersionRecords,
    VersionRepository,
)

from .protocols import described, protocol_methods

PAIRS = [
    (HistoryLog, HistoryRepository),
    (AccessRecords, AccessRepository),
    (LockRecords, LockRepository),
    (VersionRecords, VersionRepository),
    (CommentRecords, CommentRepository),
]


def without_defaults(method: dict[str, Any]) -> dict[str, Any]:
    params = [(name, kind, hint) for name, kind, hint, _ in method["params"]]
    return {**method, "params": params}


@pytest.mark.parametrize(("protocol", "cls"), PAIRS, ids=lambda x: x.__name__)
def test_each_repository_has_its_protocols_methods_with_the_same_signatures(protocol, cls):
    for name in protocol_methods(protocol):
        wanted, actual = described(protocol, name), described(cls, name)

        assert without_defaults(actual) == without_defaults(wanted), name
        # a default the protocol promises must be there; the repository may add more
        for (_, _, _, default), (_, _, _, has) in zip(
            wanted["params"], actual["params"], strict=True
        ):
            if default is not inspect.Parameter.empty:
                assert has == default, name


def test_the_history_protocol_is_what_rooms_use_and_nothing_of_locks_or_access():
    assert protocol_methods(HistoryLog) == [
        "append",
        "authors_between",
        "client_authors",
        "create_document",
        "deleted_at",
        "find_document",
        "flush",
        "forget_path",
        "get_document",
        "is_durable",
        "last_seq",
        "load",
        "mark_saved",
        "rename_path",
        "revive",
        "seal",
        "size",
    ]
    assert protocol_methods(LockRecords) == ["locks", "set_lock"]


def test_the_stores_repositories_pass_as_their_protocols_at_run_time(tmp_path):
    store = Store(tmp_path / "h.sqlite")

    assert isinstance(store.history, HistoryLog)
    assert isinstance(store.access, AccessRecords)
    assert isinstance(store.locks, LockRecords)
    assert isinstance(store.versions, VersionRecords)


async def test_a_lock_is_kept_until_it_is_lifted(tmp_path):
    store = Store(tmp_path / "h.sqlite")
    await store.open()
    try:
        await store.locks.set_lock("d1", "c1", locked=True, by="alice")
        await store.locks.set_lock("d1", "c2", locked=True, by="alice")
        await store.locks.set_lock("d1", "c1", locked=False, by="bob")
        await store.locks.set_lock("d2", "c1", locked=True, by="bob")

        assert await store.locks.locks("d1") == {"c2"}
    finally:
        await store.close()
