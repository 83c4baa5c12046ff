"""Close codes have one source, ``jupyter_collab/close_codes.py``: errors take theirs from
``CloseCode``, and no other module writes a close code as a number."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

from jupyter_collab import errors
from jupyter_collab.close_codes import CloseCode, StandardCloseCode
from jupyter_collab.protocol import CloseCode as ProtocolCloseCode

PACKAGE = Path(__file__).parent.parent / "jupyter_collab"
# every code a websocket may carry that we name, plus those only a peer reports
CODES = {c.value for c in CloseCode} | {c.value for c in StandardCloseCode} | {1005, 1006, 1011}
CLOSING_CALLS = {"close", "close_clients"}


def collab_errors() -> list[type[errors.CollabError]]:
    found: list[type[errors.CollabError]] = []
    pending = [errors.CollabError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_protocol_re_exports_the_same_close_codes():
    assert ProtocolCloseCode is CloseCode


def test_every_error_closes_with_a_named_code_4000_above_its_http_status():
    for cls in collab_errors():
        assert isinstance(cls.close_code, CloseCode), cls.__name__
        assert cls.close_code - 4000 == cls.http_status, cls.__name__


def _is_code(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value in CODES


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def parse(source: str) -> ast.Module:
    """``ast.parse`` with the garbage collector held off: CPython 3.11 can raise
    "SystemError: AST constructor recursion depth mismatch" when a collection runs
    finalizers in the middle of a parse (seen after the websocket tests; see also
    test_convergence.py)."""
    gc.collect()
    gc.disable()
    try:
        return ast.parse(source)
    finally:
        gc.enable()


def literal_close_codes(source: str) -> list[int]:
    """Lines where a close code is written as a number: an argument of ``close(...)`` or
    ``close_clients(...)``, a value given to ``close_code``, or a number compared with a
    name that holds a code."""
    lines: list[int] = []
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.Call) and _name(node.func) in CLOSING_CALLS:
            values = [*node.args, *(k.value for k in node.keywords)]
            if any(_is_code(v) for v in values):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            if any(k.arg == "close_code" and _is_code(k.value) for k in node.keywords):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any("code" in _name(t) for t in targets) and _is_code(node.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any("code" in _name(s) for s in sides) and any(_is_code(s) for s in sides):
                lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_finds_literal_codes_and_accepts_named_ones():
    source = (
        "ws.close(4403, 'no')\n"
        "room.close_clients(code=1001, reason='bye')\n"
        "close_code = 4500\n"
        "if code == 1009:\n    pass\n"
        "ws.close(CloseCode.FORBIDDEN, 'no')\n"
        "timeout = 1000\n"
    )

    assert literal_close_codes(source) == [1, 2, 3, 4]


def test_no_module_writes_a_close_code_as_a_number():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "close_codes.py":
            continue  # the one place the numbers are written
        source = path.read_text()
        for line in literal_close_codes(source):
            text = source.splitlines()[line - 1].strip()
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {text}")

    assert not offenders, (
        "close codes written as numbers; use CloseCode or StandardCloseCode "
        "(jupyter_collab/close_codes.py, also importable from protocol):\n" + "\n".join(offenders)
    )
