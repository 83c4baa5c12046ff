"""Reading Yjs updates without applying them (``rooms/updates.py``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text, get_state, merge_updates

from jupyter_collab.protocol import decode_state_vector
from jupyter_collab.rooms.updates import client_ids


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.text("abcxyz", min_size=1, max_size=5), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_client_ids_are_the_ids_of_the_state_vector(steps):
    """Keystrokes of one client (the first and the later ones), merges of several, and
    deletions only: the ids read from the header are exactly the state vector's."""
    docs = [Doc(client_id=100 + i) for i in range(3)]
    texts = [d.get("t", type=Text) for d in docs]
    updates: list[bytes] = []
    for d in docs:
        d.observe(lambda event: updates.append(event.update))
    for who, text, delete in steps:
        if delete and len(texts[who]):
            del texts[who][0:1]
        else:
            texts[who].insert(0, text)
        for other in docs:  # everyone in sync, so deletions hit others' structs too
            if other is not docs[who]:
                other.apply_update(docs[who].get_update(other.get_state()))
    for update in [*updates, merge_updates(*updates)]:
        assert client_ids(update) == list(decode_state_vector(get_state(update)))
