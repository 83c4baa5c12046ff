"""``python -m jupyter_collab.audit``: what a person who is not an owner may reach here.

For hub operators and anyone reviewing a deployment: builds the server as your
configuration builds it (every installed extension, your ``jupyter_server_config``),
without starting it, and prints each route of its route table with what non-owners may
do there (from ``allowlist.ALLOWLIST``) or ``refused``. A route an extension adds that is not
on the allowlist is refused to non-owners; this shows it before anyone asks.

    python -m jupyter_collab.audit [--json] [any ServerApp option, e.g. --ServerApp.root_dir=...]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from .allowlist import ALLOWLIST, handler_name


def routes(web_app: Any) -> Iterator[tuple[str, str]]:
    """(URL pattern, handler name) for every route of a tornado application."""

    def walk(router: Any) -> Iterator[tuple[str, str]]:
        for rule in router.rules:
            if hasattr(rule.target, "rules"):
                yield from walk(rule.target)
            else:
                regex = getattr(rule.matcher, "regex", None)
                yield (regex.pattern if regex else repr(rule.matcher), handler_name(rule.target))

    yield from walk(web_app.default_router)


def report(web_app: Any) -> list[dict[str, Any]]:
    rows = []
    for pattern, name in routes(web_app):
        rule = ALLOWLIST.get(name)
        allowed = {} if rule is None else {m: need.value for m, need in rule.methods.items()}
        rows.append({"route": pattern, "handler": name, "non_owners": allowed or "refused"})
    return rows


def main(argv: list[str] | None = None) -> int:
    from jupyter_server.serverapp import ServerApp

    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    app = ServerApp.instance()
    app.log_level = "ERROR"
    app.initialize(argv=args)
    rows = report(app.web_app)
    if as_json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        access = row["non_owners"]
        what = (
            access
            if isinstance(access, str)
            else ", ".join(f"{m} ({n})" for m, n in access.items())
        )
        print(f"{row['route']}\n    {row['handler']}\n    non-owners: {what}")
    refused = sum(1 for row in rows if row["non_owners"] == "refused")
    print(f"\n{len(rows)} routes; {refused} refused to everyone but owners")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
