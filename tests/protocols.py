"""Comparing a Protocol with the class that provides it, method by method (used by
test_services.py and test_store_api.py)."""

from __future__ import annotations

import inspect
import typing
from typing import Any


def protocol_methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, value in vars(protocol).items()
        if inspect.isfunction(value) and not name.startswith("_")
    )


def described(cls: type, name: str) -> dict[str, Any]:
    """A method as a caller sees it: parameters with their kinds, resolved types and
    defaults, the resolved return type, and whether it must be awaited."""
    method = getattr(cls, name)
    hints = typing.get_type_hints(method)
    params = list(inspect.signature(method).parameters.values())[1:]  # without self
    return {
        "async": inspect.iscoroutinefunction(method),
        "params": [(p.name, p.kind, hints.get(p.name), p.default) for p in params],
        "returns": hints.get("return"),
    }
