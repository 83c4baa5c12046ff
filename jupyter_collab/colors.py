"""People's colours in a document: carets, selections, avatars and cell markers.

Each room gives every person present (a username, however many tabs) one colour of
``PALETTE``, the first one nobody present holds, so the first twelve people in a
document never share one. A person keeps their colour while present; it is free again
when their last connection leaves. Pure: no rooms, no I/O.

The palette was chosen for both JupyterLab themes: every colour has a contrast of at
least 3:1 (WCAG's ratio for lines and shapes, such as a 2 px caret) on white and on the
dark theme's ``#111111``. A name label is written in black or white on its colour,
whichever contrasts more (at least 4.5:1 for all sixteen; the browser picks). The order
matters: each colour is the one farthest (in OKLab) from all before it, so small groups
get the most distinct colours and colours 13-16 only appear in groups larger than 12.
"""

from __future__ import annotations

PALETTE: tuple[str, ...] = (
    "#2977b2",  # blue
    "#f03c38",  # red
    "#cb48ef",  # violet
    "#45a835",  # green
    "#896423",  # brown
    "#724bea",  # indigo
    "#c12f89",  # magenta
    "#9587ee",  # lavender
    "#c68634",  # ochre
    "#3aa19e",  # teal
    "#257a2a",  # dark green
    "#f25da4",  # pink
    "#3a99e2",  # sky blue
    "#bb4626",  # rust
    "#838a2f",  # olive
    "#4f76ec",  # cornflower
)


class ColorBook:
    """Which person holds which colour of ``PALETTE`` in one room."""

    def __init__(self) -> None:
        self._held: dict[str, str] = {}  # username -> colour

    def of(self, username: str) -> str | None:
        """The colour ``username`` holds here, if present."""
        return self._held.get(username)

    def assign(self, username: str, preferred: str | None = None) -> str:
        """The colour of ``username``: the one they hold, else ``preferred`` if it is a
        free palette colour, else the first free one. With every colour taken, the
        least-held one (the earliest of those), so repeats spread evenly."""
        held = self._held.get(username)
        if held is not None:
            return held
        taken = list(self._held.values())
        if preferred in PALETTE and preferred not in taken:
            color = preferred
        else:
            color = min(PALETTE, key=lambda c: (taken.count(c), PALETTE.index(c)))
        self._held[username] = color
        return color

    def release(self, username: str) -> None:
        """``username`` left: their colour is free for the next person."""
        self._held.pop(username, None)
