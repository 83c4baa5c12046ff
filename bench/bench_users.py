"""An identity provider for benches with many people: the token ``<secret>-<name>`` is
the user ``<name>`` (the secret comes from ``BENCH_USERS_SECRET``). Loaded by the server
under test with ``--ServerApp.identity_provider_class=bench_users.BenchUsers``; works with
any jupyter_server, so both sides of a bench see the same people."""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User


class BenchUsers(IdentityProvider):
    def get_user(self, handler: Any) -> User | None:
        secret = os.environ["BENCH_USERS_SECRET"]
        token = self.get_token(handler) or ""
        if not token.startswith(secret + "-"):
            return None
        handler._token_authenticated = True
        name = token[len(secret) + 1 :]
        return User(username=name, name=name, display_name=name.title())

    @property
    def auth_enabled(self) -> bool:
        return True
