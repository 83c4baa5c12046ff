"""A file deleted through Jupyter that comes back at its path (restored from the trash,
checked out again) is its document again: the same doc id, with its history and comment
threads. A different file at that path starts afresh. Rooms on in-memory channels with
the real store and the real FileContentsManager (tests/rooms_helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_collab.permissions import Role

from .fakes import Peer, settle
from .rooms_helpers import disk_sources, make_notebook, running
from .test_comments_service import CELL0, open_class


async def comment_then_delete(registry, root: Path) -> tuple[str, str, str]:
    """A thread on nb.ipynb, then the file deleted; the file's text and the ids."""
    c = await open_class(registry)
    bob = c.join("bob", Role.COMMENTER)
    thread = (await c.ask(bob, type="comment.create", anchor=CELL0, body="keep me"))["thread"]
    bob.disconnect()
    await c.room.save(force=True)
    text = (root / "nb.ipynb").read_text()
    (root / "nb.ipynb").unlink()
    await registry.on_deleted("nb.ipynb")
    return c.room.doc_id, thread["id"], text


def threads_seen(room, username: str = "ann") -> list[str]:
    peer = Peer("notebook", username, Role.OWNER)
    peer.connect(room)
    settle(peer)
    return [t["id"] for e in peer.events if e["type"] == "comments" for t in e["threads"]]


async def test_a_restored_notebook_takes_its_document_and_threads_again(root, tmp_path, clock):
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("print(1)", "x = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        doc_id, thread_id, text = await comment_then_delete(registry, root)

        (root / "nb.ipynb").write_text(text)  # back from the trash
        room = await registry.open_session("nb.ipynb", "notebook")

        assert room.doc_id == doc_id
        assert registry.comments is not None
        await registry.comments.visible(room, "ann", Role.OWNER)
        assert threads_seen(room) == [thread_id]


async def test_a_restored_notebook_that_changed_meanwhile_is_merged(root, tmp_path, clock):
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("print(1)", "x = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        doc_id, _, text = await comment_then_delete(registry, root)
        changed = json.loads(text)
        changed["cells"][1]["source"] = "x = 3"
        (root / "nb.ipynb").write_text(json.dumps(changed))

        room = await registry.open_session("nb.ipynb", "notebook")

        assert room.doc_id == doc_id
        assert [str(c["source"]) for c in room.ydoc.ycells] == ["print(1)", "x = 3"]
        assert disk_sources(root / "nb.ipynb") == ["print(1)", "x = 3"]


async def test_another_file_at_a_deleted_documents_path_starts_afresh(root, tmp_path, clock):
    (root / "nb.ipynb").write_text(json.dumps(make_notebook("print(1)", "x = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        doc_id, _, _ = await comment_then_delete(registry, root)
        other = make_notebook("print(1)", "x = 2")
        for i, cell in enumerate(other["cells"]):
            cell["id"] = f"new-{i}"  # same text, but another notebook's cells
        (root / "nb.ipynb").write_text(json.dumps(other))

        room = await registry.open_session("nb.ipynb", "notebook")

        assert room.doc_id != doc_id
        assert registry.comments is not None
        assert await registry.comments.visible(room, "ann", Role.OWNER) == []
        # the old document is still there, for a later restore of its own file
        assert await registry.history.get_document(doc_id) is not None


async def test_a_restored_text_file_takes_its_document_again_only_when_unchanged(
    root, tmp_path, clock
):
    (root / "t.py").write_text("print(1)\n")
    async with running(root, tmp_path / "h.db", clock) as registry:
        first = await registry.open_session("t.py", "file")
        await first.save(force=True)
        (root / "t.py").unlink()
        await registry.on_deleted("t.py")

        (root / "t.py").write_text("print(1)\n")
        again = await registry.open_session("t.py", "file")
        assert again.doc_id == first.doc_id

        (root / "t.py").unlink()
        await registry.on_deleted("t.py")
        (root / "t.py").write_text("print(2)\n")
        other = await registry.open_session("t.py", "file")
        assert other.doc_id != first.doc_id
