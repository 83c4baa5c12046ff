"""The edge gets what ``services.py`` lists: ``CollabApp`` has every method of ``Services``
and ``AccessControl`` every method of ``Access``, with the same parameters (names, kinds,
types, defaults) and return types, sync or async alike, and a running app holds every
listed attribute. mypy checks the same at the end of ``jupyter_collab/app.py``; this fails
at test time too."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_collab.access import AccessControl
from jupyter_collab.app import CollabApp
from jupyter_collab.services import Access, Services

from .protocols import described, protocol_methods

PAIRS = [(Services, CollabApp), (Access, AccessControl)]


def protocol_attributes(protocol: type) -> list[str]:
    return sorted(name for name, value in vars(protocol).items() if isinstance(value, property))


def conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` could be of type ``hint`` (protocols: any object but None)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is Callable:
        return callable(value)
    if getattr(hint, "_is_protocol", False):
        return value is not None
    return isinstance(value, hint)


@pytest.mark.parametrize(("protocol", "cls"), PAIRS, ids=lambda x: x.__name__)
def test_each_provider_has_its_protocols_methods_with_the_same_signatures(protocol, cls):
    for name in protocol_methods(protocol):
        assert described(cls, name) == described(protocol, name), name


def test_the_edge_uses_these_services_and_nothing_else():
    assert protocol_methods(Services) == [
        "can_execute",
        "can_execute_somewhere",
        "canonical_path",
        "contents_exists",
        "ready",
    ]
    assert protocol_attributes(Services) == [
        "access",
        "handshake_timeout_seconds",
        "max_message_bytes",
        "max_messages_per_second",
        "message_burst",
        "registry",
        "rest_guarded",
    ]


def test_a_running_app_holds_every_listed_attribute(collab):
    for protocol, value in ((Services, collab), (Access, collab.access)):
        for name in protocol_attributes(protocol):
            hint = typing.get_type_hints(getattr(protocol, name).fget)["return"]

            assert conforms(getattr(value, name), hint), f"{protocol.__name__}.{name}"
