"""src/protocol.ts mirrors the numbers of jupyter_collab/protocol.py."""

from __future__ import annotations

import re
from pathlib import Path

from jupyter_collab.protocol import CloseCode, MessageKind

SOURCE = (Path(__file__).parent.parent / "src" / "protocol.ts").read_text()


def constants(name: str) -> dict[str, int]:
    block = re.search(rf"export const {name} = \{{(.*?)\}} as const", SOURCE, re.S)
    assert block, name
    return {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", block.group(1))}


def test_message_kinds_match():
    assert constants("MessageKind") == {m.name: m.value for m in MessageKind}


def test_close_codes_match():
    assert constants("CloseCode") == {c.name: c.value for c in CloseCode}
