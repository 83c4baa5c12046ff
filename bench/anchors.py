"""What keeping comment ranges on their text costs the server: one check of every range
thread of a notebook (what runs 200 ms after edits in a room that has ranges, so at most
five times a second), after an edit, for ASCII text and for text with accents (which the
check reads on a scratch copy of the document; see jupyter_collab/rooms/anchors.py).

    python bench/anchors.py [--threads N]

Prints the median of 20 checks, per check and per thread. There is nothing to compare
with in jupyter-collaboration (it has no comments).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pycrdt import Assoc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_collab.permissions import Role  # noqa: E402
from tests.fakes import FakeClock  # noqa: E402
from tests.rooms_helpers import make_notebook, running  # noqa: E402
from tests.test_comments_service import open_class  # noqa: E402


async def measure(threads: int, line: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        cells = [f"{line} {i}\n" * 20 for i in range(threads)]
        (root / "nb.ipynb").write_text(json.dumps(make_notebook(*cells)))
        async with running(root, Path(tmp) / "h.db", FakeClock()) as registry:
            c = await open_class(registry)
            bob = c.join("bob", Role.EDITOR)
            for i in range(threads):
                text = bob.ydoc.ycells[i]["source"]
                text.insert(0, "# edited\n")  # two runs of text in each cell
                anchor = {
                    "kind": "range",
                    "cell_id": f"cell-{i}",
                    "start": base64.b64encode(text.sticky_index(20, Assoc.AFTER).encode()).decode(),
                    "end": base64.b64encode(text.sticky_index(30, Assoc.BEFORE).encode()).decode(),
                }
                answer = await c.ask(bob, type="comment.create", anchor=anchor, body="?")
                assert answer["type"] == "comment", answer
            service = registry.comments
            assert service is not None
            times = []
            for k in range(20):
                # someone types first, as before every real check: a new document state
                bob.ydoc.ycells[k % threads]["source"].insert(0, "#")
                await c.settled()
                t0 = time.perf_counter()
                service.check_ranges(c.room)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100)
    args = parser.parse_args()
    print(f"| text | {args.threads} range threads: one check | per thread |")
    print("| --- | --- | --- |")
    for name, line in (("ASCII", "value = compute(x)"), ("with accents", "élève = calculé(x)")):
        median = asyncio.run(measure(args.threads, line))
        print(f"| {name} | {median * 1000:.2f} ms | {median / args.threads * 1e6:.0f} µs |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
