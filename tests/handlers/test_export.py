"""``jupyter collab export`` and ``history`` on the store of a real server, after a
scripted session: what the export says each person wrote is what they typed."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from . import test_history, test_roles
from .test_history import open_lesson, type_in
from .test_roles import token_users

as_user = test_roles.as_user
history = test_history.history  # the fixture: REST calls on api/collab/history


@pytest.fixture
def collab_config() -> dict[str, Any]:
    return {"owners": ["alice"], "default_role": "viewer", "editors_can_execute": True}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return token_users(jp_server_config)


JUPYTER = str(Path(sys.executable).parent / "jupyter")


async def run_cli(*argv: str) -> tuple[int, str, str]:
    """``jupyter collab ...`` as people run it, next to the running server."""
    process = await asyncio.create_subprocess_exec(
        JUPYTER, "collab", *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_an_export_says_who_wrote_what_ran_what_and_commented(
    jp_root_dir,
    as_user,
    history,
    collab,
):
    session = await open_lesson(jp_root_dir, as_user)
    alice = await as_user("alice").client(session)
    bob = await as_user("bob").client(session)
    await type_in(alice, 0, "\n# alice's note", seen_by=bob)
    await type_in(bob, 1, " + 41", seen_by=alice)
    bob.send_event({"type": "run", "cell": "c2", "phase": "start"})
    bob.send_event({"type": "run", "cell": "c2", "phase": "end", "status": "ok"})
    await alice.wait_for(lambda: len([e for e in alice.events if e["type"] == "run"]) == 2)
    bob.send_event(
        {"type": "comment.create", "anchor": {"kind": "cell", "cell_id": "c2"}, "body": "why 41?"}
    )
    await alice.wait_for(lambda: any(e["type"] == "comment" for e in alice.events))
    await history("bob", "lesson.ipynb", body={"type": "version.name", "name": "done"})
    await alice.disconnect()
    await bob.disconnect()
    await collab.store.history.flush()
    db, root = collab.history_db_path, str(jp_root_dir)

    code, out, err = await run_cli("export", "lesson.ipynb", "--root", root, "--db", db)
    assert code == 0, err
    export = json.loads(out)
    c1, c2 = export["cells"]
    assert c1["chars"] == {"(file)": 5, "alice": len("\n# alice's note")}  # x = 0: the file
    assert c2["chars"] == {"(file)": 5, "bob": 5}
    assert c2["stretches"] == [["(file)", 5], ["bob", 5]]
    people = {p["author"]: p for p in export["contributions"]}
    assert people["alice"]["chars_added"] == len("\n# alice's note")
    assert people["bob"]["chars_added"] == 5 and people["bob"]["runs"] == 1
    assert people["bob"]["comments"] == 1 and people["alice"]["comments"] == 0
    assert [v["name"] for v in export["versions"]][-1] == "done"
    assert export["versions"][-1]["authors"] == ["alice", "bob"]
    assert export["runs"][0]["by"] == "bob" and export["runs"][0]["status"] == "ok"
    assert export["comments"][0]["messages"][0]["body"] == "why 41?"

    code, out, _ = await run_cli(
        "export", "lesson.ipynb", "--format", "csv", "--root", root, "--db", db
    )
    rows = {r["author"]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0 and rows["bob"]["chars_added"] == "5" and rows["bob"]["runs"] == "1"

    code, out, _ = await run_cli("history", "lesson.ipynb", "--root", root, "--db", db)
    assert code == 0 and "2 versions" in out and "done by bob" in out

    # since tomorrow: nothing of today's versions, runs or comments
    code, out, _ = await run_cli(
        "export", "lesson.ipynb", "--since", "2999-01-01", "--root", root, "--db", db
    )
    later = json.loads(out)
    assert (later["versions"], later["runs"], later["comments"]) == ([], [], [])


async def test_an_export_of_nothing_stored_or_outside_the_root_says_why(
    jp_root_dir, as_user, collab
):
    await open_lesson(jp_root_dir, as_user)  # the store exists, with another document
    await collab.store.history.flush()
    db, root = collab.history_db_path, str(jp_root_dir)
    code, _, err = await run_cli("export", "never.ipynb", "--root", root, "--db", db)
    assert code == 2 and "never.ipynb: no history" in err
    code, _, err = await run_cli("history", "../../etc/passwd", "--root", root, "--db", db)
    assert code == 1 and "passwd" in err
    code, _, err = await run_cli("export", "x.ipynb", "--since", "soon", "--db", db)
    assert code == 2 and "soon" in err
    code, _, err = await run_cli("export", "x.ipynb", "--db", str(jp_root_dir / "none.db"))
    assert code == 2 and "no history store" in err
