"""People's colours: the palette, and rooms giving everyone present a colour of their own."""

from __future__ import annotations

import json

from jupyter_collab.colors import PALETTE, ColorBook
from jupyter_collab.permissions import Role
from jupyter_collab.protocol import AwarenessEntry, encode_awareness, encode_awareness_update

from .fakes import FakeChannel, Peer, settle
from .rooms_helpers import joined, make_notebook, running


def _luminance(color: str) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def test_the_palette_has_sixteen_distinct_colours_readable_on_light_and_dark_themes():
    assert len(set(PALETTE)) == len(PALETTE) == 16
    dark_theme = _luminance("#111111")
    for color in PALETTE:
        y = _luminance(color)
        assert _contrast(y, 1.0) >= 3.0, color  # a caret on the light theme
        assert _contrast(y, dark_theme) >= 3.0, color  # and on the dark theme
        assert max(_contrast(y, 0.0), _contrast(y, 1.0)) >= 4.5, color  # its label's text


def test_a_book_gives_the_first_free_colour_and_reuses_it_once_released():
    book = ColorBook()
    assert [book.assign(name) for name in ("a", "b", "c")] == list(PALETTE[:3])
    assert book.assign("b") == PALETTE[1]  # stable while present
    book.release("b")
    assert book.assign("d") == PALETTE[1]
    assert book.assign("e", preferred=PALETTE[0]) == PALETTE[3]  # taken: the next free one
    assert book.assign("f", preferred=PALETTE[9]) == PALETTE[9]
    assert book.assign("g", preferred="#123456") == PALETTE[4]  # not ours: ignored


def test_a_full_book_repeats_the_least_held_colours_first():
    book = ColorBook()
    first = [book.assign(f"p{i}") for i in range(len(PALETTE))]
    assert first == list(PALETTE)
    assert [book.assign(f"q{i}") for i in range(3)] == list(PALETTE[:3])
    book.release("p5")
    assert book.assign("r") == PALETTE[5]


def _colors(peer: Peer) -> dict[str, str]:
    return {
        state["user"]["username"]: state["user"]["color"]
        for state in peer.awareness.values()
        if state is not None
    }


def _publish(*peers: Peer) -> None:
    for peer in peers:
        entry = AwarenessEntry(peer.doc.client_id, 1, {"cursor": None})
        peer.to_room.append(encode_awareness(encode_awareness_update([entry])))
    settle(*peers)


async def test_twelve_people_in_a_document_get_twelve_different_colours(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        people = joined(room, *(f"student{i}" for i in range(12)))
        _publish(*people)

        seen = _colors(people[0])
        assert len(seen) == 12
        assert len(set(seen.values())) == 12
        assert set(seen.values()) <= set(PALETTE)
        # everyone sees the same colours, and the presence feed shows them too
        assert all(_colors(p) == seen for p in people)
        assert {e["user"]["username"]: e["user"]["color"] for e in room.presence()} == seen


async def test_a_colour_freed_by_someone_who_left_goes_to_the_next_person(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        alice, bob, carol = joined(room, "alice", "bob", "carol")
        _publish(alice, bob, carol)
        bobs = _colors(alice)["bob"]

        bob.disconnect()
        (dave,) = joined(room, "dave")
        _publish(dave)
        settle(alice, carol, dave)

        colors = _colors(alice)
        assert colors["dave"] == bobs
        assert len({colors["alice"], colors["carol"], colors["dave"]}) == 3


async def test_one_person_in_two_tabs_keeps_one_colour(root, tmp_path, clock):
    (root / "a.ipynb").write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        room = await registry.open_session("a.ipynb", "notebook")
        tab1, bob, tab2 = joined(room, "alice", "bob", "alice")
        _publish(tab1, bob, tab2)

        states = [s for s in bob.awareness.values() if s and s["user"]["username"] == "alice"]
        assert len(states) == 2
        assert states[0]["user"]["color"] == states[1]["user"]["color"] != _colors(bob)["bob"]

        tab1.disconnect()  # one tab closed: she is still here, with the same colour
        (carol,) = joined(room, "carol")
        _publish(carol)
        settle(bob, tab2, carol)
        colors = _colors(bob)
        assert colors["alice"] == states[0]["user"]["color"]
        assert len(set(colors.values())) == 3


async def test_a_person_keeps_their_colour_from_another_document_when_it_is_free(
    root, tmp_path, clock
):
    for name in ("a.ipynb", "b.ipynb"):
        (root / name).write_text(json.dumps(make_notebook("x")))
    async with running(root, tmp_path / "h.db", clock) as registry:
        a = await registry.open_session("a.ipynb", "notebook")
        b = await registry.open_session("b.ipynb", "notebook")
        joined(a, "alice", "bob")
        bobs = a.colors.of("bob")
        assert bobs is not None and bobs != a.colors.of("alice")

        b.join(FakeChannel(), Peer("notebook", "bob").identity, b.epoch, Role.OWNER, may_run=True)
        assert b.colors.of("bob") == bobs  # not the first free colour: the one he has
