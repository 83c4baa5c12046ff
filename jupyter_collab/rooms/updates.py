"""Reading Yjs updates without applying them: the delete set, and whether an update
would change a document at all."""

from __future__ import annotations

import bisect
from typing import Any

from pycrdt import Doc, get_state, get_update

from ..protocol import Reader, decode_state_vector


def adds_nothing(update: bytes, doc: Doc[Any]) -> bool:
    """Whether ``update`` holds no struct ``doc`` lacks and no deletion it has not made."""
    state = doc.get_state()
    try:
        theirs = delete_set(get_update(update, state))
    except Exception:
        return False  # not even a valid update: certainly not a harmless one
    if theirs is None:
        return False
    ours = delete_set(doc.get_update(state)) or {}
    for client_id, ranges in theirs.items():
        have = ours.get(client_id, [])
        starts = [c for c, _ in have]  # sorted and merged by delete_set
        for clock, length in ranges:
            i = bisect.bisect_right(starts, clock) - 1
            if length and (i < 0 or clock + length > have[i][0] + have[i][1]):
                return False
    return True


def delete_set(update: bytes) -> dict[int, list[tuple[int, int]]] | None:
    """The delete set of an update without structs (``None`` if it has structs): per
    client id, its deleted (clock, length) ranges, sorted, adjacent ranges merged."""
    reader = Reader(update)
    if reader.read_var_uint() != 0:
        return None
    result: dict[int, list[tuple[int, int]]] = {}
    for _ in range(reader.read_var_uint()):
        client_id = reader.read_var_uint()
        ranges = [
            (reader.read_var_uint(), reader.read_var_uint()) for _ in range(reader.read_var_uint())
        ]
        merged: list[tuple[int, int]] = []
        for clock, length in sorted(ranges):
            if merged and merged[-1][0] + merged[-1][1] >= clock:
                last_clock, last_length = merged[-1]
                merged[-1] = (last_clock, max(last_length, clock + length - last_clock))
            else:
                merged.append((clock, length))
        result[client_id] = merged
    return result


def client_ids(update: bytes) -> list[int]:
    """The client ids of ``update``'s state vector, as ``get_state`` reports them (a
    client is named when the update holds its structs from clock 0), read from the
    header when one client wrote the update (a keystroke): ~1 µs instead of ~7."""
    reader = Reader(update)
    groups = reader.read_var_uint()
    if groups == 0:
        return []
    if groups == 1:
        reader.read_var_uint()  # how many structs
        client = reader.read_var_uint()
        return [client] if reader.read_var_uint() == 0 else []
    return list(decode_state_vector(get_state(update)))
