"""Numbered, forward-only schema migrations for the history database.

Each step runs in its own transaction and is recorded in ``schema_migrations``.
A database written by a newer jupyter-collab is refused with a message; the file
is never moved aside or rewritten behind the user's back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlite_utils

from ..errors import SchemaTooNew


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE documents (
            doc_id TEXT PRIMARY KEY,
            root TEXT NOT NULL,          -- the server's root_dir: paths are relative to it
            path TEXT,                   -- NULL once the file was deleted through Jupyter
            kind TEXT NOT NULL,          -- 'notebook' | 'file'
            epoch TEXT NOT NULL,         -- changes whenever the CRDT history is rebuilt
            created REAL NOT NULL,
            saved_seq INTEGER NOT NULL DEFAULT 0,   -- last update seq written to disk
            saved_mtime TEXT,            -- last_modified of the file we wrote or read
            saved_hash TEXT,             -- its content hash
            deleted REAL,                -- when the file was deleted through Jupyter
            replaced_by TEXT             -- the document that took over its path (a rebuild)
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX documents_root_path ON documents(root, path)")
    db.execute(
        """
        CREATE TABLE updates (
            doc_id TEXT NOT NULL REFERENCES documents(doc_id),
            first_seq INTEGER NOT NULL,  -- a row holds the updates first_seq..last_seq merged
            last_seq INTEGER NOT NULL,
            first_time REAL NOT NULL,
            last_time REAL NOT NULL,
            author TEXT NOT NULL,        -- Jupyter username, or 'disk' / 'server'
            origin TEXT NOT NULL,        -- 'client' | 'disk' | 'server'
            client_ids TEXT NOT NULL,    -- JSON list of the Yjs client ids the updates carry
            n_updates INTEGER NOT NULL,
            data BLOB NOT NULL,          -- Yjs v1 update (merged)
            PRIMARY KEY (doc_id, first_seq)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE snapshots (
            doc_id TEXT NOT NULL REFERENCES documents(doc_id),
            upto_seq INTEGER NOT NULL,   -- every update with seq <= upto_seq is folded in
            time REAL NOT NULL,
            data BLOB NOT NULL,          -- the whole document as one Yjs v1 update
            PRIMARY KEY (doc_id, upto_seq)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE authorship (
            doc_id TEXT NOT NULL,
            author TEXT NOT NULL,
            updates INTEGER NOT NULL,    -- totals survive compaction
            bytes INTEGER NOT NULL,
            first_time REAL NOT NULL,
            last_time REAL NOT NULL,
            PRIMARY KEY (doc_id, author)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE clients (
            doc_id TEXT NOT NULL,
            client_id INTEGER NOT NULL,  -- a Yjs client id seen in this document
            author TEXT NOT NULL,
            PRIMARY KEY (doc_id, client_id)
        ) WITHOUT ROWID
        """
    )


def _v2_memberships(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE memberships (
            root TEXT NOT NULL,
            path TEXT NOT NULL,          -- a file, or a folder and all inside; '' = the root
            principal TEXT NOT NULL,     -- a username
            role TEXT NOT NULL,          -- 'viewer' | 'commenter' | 'editor' | 'owner'
            granted_by TEXT NOT NULL,
            granted_at REAL NOT NULL,
            PRIMARY KEY (root, path, principal)
        ) WITHOUT ROWID
        """
    )


def _v3_locks(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE locks (
            doc_id TEXT NOT NULL,
            cell_id TEXT NOT NULL,
            locked_by TEXT NOT NULL,
            locked_at REAL NOT NULL,
            PRIMARY KEY (doc_id, cell_id)
        ) WITHOUT ROWID
        """
    )


def _v4_share_links(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE share_links (
            link_id TEXT PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,  -- the secret in the link's URL
            root TEXT NOT NULL,
            path TEXT NOT NULL,          -- a file, or a folder and all inside
            role TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL,             -- NULL: until revoked
            revoked_at REAL
        )
        """
    )


def _v5_link_labels_and_guests(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE share_links ADD COLUMN label TEXT NOT NULL DEFAULT ''")
    # the creator's display name when the link was made; older links only knew the username
    db.execute("ALTER TABLE share_links ADD COLUMN created_by_name TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE share_links SET created_by_name = created_by")
    db.execute("ALTER TABLE share_links ADD COLUMN last_used_at REAL")  # a join or request
    db.execute(
        """
        CREATE TABLE share_link_guests (
            link_id TEXT NOT NULL,
            guest_id TEXT NOT NULL,      -- the last part of guest:<link id>:<guest id>
            name TEXT NOT NULL,          -- the name they joined with
            joined_at REAL NOT NULL,
            PRIMARY KEY (link_id, guest_id)
        ) WITHOUT ROWID
        """
    )


def _v6_comments(db: sqlite_utils.Database) -> None:
    # Kept by doc_id, not by path: a thread follows its document through renames, and
    # outlives a delete (the document row stays, detached from its path).
    db.execute(
        """
        CREATE TABLE comment_threads (
            n INTEGER PRIMARY KEY,       -- creation order (a rowid VACUUM keeps)
            thread_id TEXT NOT NULL UNIQUE,
            doc_id TEXT NOT NULL REFERENCES documents(doc_id),
            anchor TEXT NOT NULL,        -- JSON object: where in the document (opaque here)
            detached INTEGER NOT NULL DEFAULT 0,  -- 1 once the anchored place is gone
            author TEXT NOT NULL,        -- a username
            created_at REAL NOT NULL,
            private INTEGER NOT NULL DEFAULT 0,   -- 1: for its author and the owners only
            status TEXT NOT NULL DEFAULT 'open',  -- 'open' | 'resolved'
            resolved_by TEXT,
            resolved_at REAL,
            suggestion TEXT,             -- proposed replacement text, or NULL
            suggestion_state TEXT,       -- NULL | 'open' | 'accepted' | 'rejected'
            suggestion_decided_by TEXT,
            suggestion_decided_at REAL
        )
        """
    )
    db.execute("CREATE INDEX comment_threads_doc ON comment_threads(doc_id)")
    db.execute(
        """
        CREATE TABLE comment_messages (
            n INTEGER PRIMARY KEY,       -- order within the thread
            message_id TEXT NOT NULL UNIQUE,
            thread_id TEXT NOT NULL REFERENCES comment_threads(thread_id),
            author TEXT NOT NULL,
            body TEXT NOT NULL,          -- markdown; '' once deleted
            mentions TEXT NOT NULL,      -- JSON list of usernames
            created_at REAL NOT NULL,
            edited_at REAL,
            deleted_at REAL,             -- the row stays as a placeholder
            deleted_by TEXT
        )
        """
    )
    db.execute("CREATE INDEX comment_messages_thread ON comment_messages(thread_id)")


def _v7_last_path(db: sqlite_utils.Database) -> None:
    # where a deleted document's file was: a file that comes back there (restored from
    # the trash, checked out again) takes its document again, with its history and threads
    db.execute("ALTER TABLE documents ADD COLUMN last_path TEXT")
    db.execute("CREATE INDEX documents_last_path ON documents(root, last_path)")


def _v8_thread_summaries(db: sqlite_utils.Database) -> None:
    # what each thread's messages add up to, kept by the writes, so the snapshot a
    # client gets on opening a document reads one row per thread (decision 7)
    from .comments import SUMMARY_SQL  # noqa: PLC0415 (the one definition of it)

    db.execute("ALTER TABLE comment_threads ADD COLUMN summary TEXT NOT NULL DEFAULT '{}'")
    db.execute(SUMMARY_SQL)


def _v9_executions(db: sqlite_utils.Database) -> None:
    # who ran which cell, and how it ended: shown on the cell to everyone ("run by Bob"),
    # kept by doc_id like comments so it follows renames
    db.execute(
        """
        CREATE TABLE executions (
            n INTEGER PRIMARY KEY,       -- start order (a rowid VACUUM keeps)
            doc_id TEXT NOT NULL REFERENCES documents(doc_id),
            cell_id TEXT NOT NULL,
            author TEXT NOT NULL,        -- a username
            started_at REAL NOT NULL,
            finished_at REAL,            -- NULL while running
            status TEXT NOT NULL,        -- 'running' | 'ok' | 'error' | 'unknown'
            ename TEXT                   -- the error's name, for 'error'
        )
        """
    )
    db.execute("CREATE INDEX executions_cell ON executions(doc_id, cell_id, n)")


def _v10_versions(db: sqlite_utils.Database) -> None:
    # the points of a document's history people list, compare and restore; compaction
    # keeps a snapshot at each version it keeps (store/versions.py, ``retained``)
    db.execute(
        """
        CREATE TABLE versions (
            n INTEGER PRIMARY KEY,       -- the version's id
            doc_id TEXT NOT NULL REFERENCES documents(doc_id),
            seq INTEGER NOT NULL,        -- the history up to this update seq
            created_at REAL NOT NULL,
            kind TEXT NOT NULL,          -- 'auto' | 'named' | 'restore'
            name TEXT,
            by TEXT,                     -- who named it or restored (a username)
            authors TEXT NOT NULL,       -- JSON list: who changed it since the one before
            summary TEXT NOT NULL,       -- JSON: cells added, changed, removed, moved
            fingerprint TEXT NOT NULL    -- JSON: a hash per cell, in order
        )
        """
    )
    db.execute("CREATE INDEX versions_doc ON versions(doc_id, seq)")
    # what each person changed in the rows compaction folded (contributions.py): the
    # rows are gone after it, these totals stay
    db.execute(
        """
        CREATE TABLE contributions (
            doc_id TEXT NOT NULL,
            author TEXT NOT NULL,
            chars_added INTEGER NOT NULL,
            chars_removed INTEGER NOT NULL,
            cells_created INTEGER NOT NULL,
            PRIMARY KEY (doc_id, author)
        ) WITHOUT ROWID
        """
    )


MIGRATIONS: list[tuple[int, Callable[[sqlite_utils.Database], None]]] = [
    (1, _v1_initial),
    (2, _v2_memberships),
    (3, _v3_locks),
    (4, _v4_share_links),
    (5, _v5_link_labels_and_guests),
    (6, _v6_comments),
    (7, _v7_last_path),
    (8, _v8_thread_summaries),
    (9, _v9_executions),
    (10, _v10_versions),
]
LATEST_VERSION = MIGRATIONS[-1][0]


@contextmanager
def atomic(db: sqlite_utils.Database) -> Iterator[None]:
    """One explicit transaction (the connection runs in autocommit mode, so DDL is
    transactional too)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def current_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def apply_migrations(db: sqlite_utils.Database, *, db_path: str) -> int:
    """Bring the schema to ``LATEST_VERSION``; return the version found before.

    Raises:
        SchemaTooNew: if the database is newer than this code.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied REAL)"
    )
    found = current_version(db)
    if found > LATEST_VERSION:
        raise SchemaTooNew(
            f"the history database {db_path} has schema version {found}, but this "
            f"jupyter-collab only knows up to {LATEST_VERSION}: upgrade jupyter-collab, or "
            "point CollabApp.history_db_path to another file (the database was left untouched)"
        )
    for version, step in MIGRATIONS:
        if version <= found:
            continue
        with atomic(db):
            step(db)
            db.execute(
                "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
                [version, time.time()],
            )
    return found
