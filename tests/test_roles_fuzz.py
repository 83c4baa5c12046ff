"""No sequence of messages from a viewer or a commenter changes the document: edits of
every shape, replays, saves and raw bytes, through a room with the real store."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_collab.errors import CollabError
from jupyter_collab.permissions import Role
from jupyter_collab.protocol import encode_event

from .fakes import Peer, settle
from .rooms_helpers import make_notebook, running

# ASCII: pycrdt's Text indexes (UTF-8) and len() are only comparable for it
TEXT = st.text(alphabet="abc xyz=\n", max_size=5)
# one step a reader's client may take on its own copy, or on the wire
STEPS = st.one_of(
    st.tuples(st.just("type"), st.integers(0, 5), st.integers(0, 20), TEXT),
    st.tuples(st.just("erase"), st.integers(0, 5), st.integers(0, 20), st.integers(1, 5)),
    st.tuples(st.just("add cell"), st.integers(0, 5), TEXT),
    st.tuples(st.just("drop cell"), st.integers(0, 5)),
    st.tuples(st.just("set metadata"), st.integers(0, 5), TEXT),
    st.tuples(
        st.just("save"),
    ),
    st.tuples(st.just("bytes"), st.binary(max_size=40)),
    st.tuples(
        st.just("reconnect"),
    ),
)


def act(peer: Peer, step: tuple[Any, ...]) -> None:
    cells = peer.ydoc.ycells
    kind = step[0]
    if kind == "type" and len(cells):
        source = cells[step[1] % len(cells)]["source"]
        source.insert(min(step[2], len(source)), step[3])
    elif kind == "erase" and len(cells):
        source = cells[step[1] % len(cells)]["source"]
        start = min(step[2], len(source))
        end = min(start + step[3], len(source))
        if end > start:
            del source[start:end]
    elif kind == "add cell":
        cell = peer.ydoc.create_ycell({"cell_type": "code", "source": step[2]})
        cells.insert(min(step[1], len(cells)), cell)
    elif kind == "drop cell" and len(cells):
        del cells[step[1] % len(cells)]
    elif kind == "set metadata" and len(cells):
        cells[step[1] % len(cells)]["metadata"]["tag"] = step[2]
    elif kind == "save":
        peer.to_room.append(encode_event({"type": "save", "id": 1}))
    elif kind == "bytes":
        peer.to_room.append(step[1])


async def test_no_message_sequence_from_a_reader_changes_the_document(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x = 1", "y = 2")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        owner = Peer("notebook", "alice")
        owner.connect(room)
        settle(owner)
        before = room.content()
        rows = registry.history.last_seq(room.doc_id)

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            role=st.sampled_from([Role.VIEWER, Role.COMMENTER]), steps=st.lists(STEPS, max_size=12)
        )
        def reader_session(role: Role, steps: list[tuple[Any, ...]]) -> None:
            reader = Peer("notebook", "mallory")
            reader.channel = None
            join(reader, role)
            for step in steps:
                if step[0] == "reconnect" or not reader.connected:
                    reader.disconnect()
                    join(reader, role)  # the same, possibly diverged, copy comes back
                    continue
                act(reader, step)
                try:
                    settle(reader)
                except CollabError:
                    assert reader.channel is not None
                    reader.channel.close(4403, "closed by the handler")
                    reader.room.leave(reader.channel)  # type: ignore[union-attr]
                assert room.content() == before
            reader.disconnect()

        def join(reader: Peer, role: Role) -> None:
            reader.connect(room)
            room.clients[reader.channel].role = role  # type: ignore[index]

        reader_session()

        assert registry.history.last_seq(room.doc_id) == rows
        settle(owner)
        assert owner.content() == before
