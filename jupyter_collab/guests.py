"""Guests: people who come in through a share link, with no account on the server.

Opening ``{base_url}collab/join/<token>`` asks for a display name, then sets a signed
cookie (the server's cookie secret) naming the guest, the link and the cookie's expiry.
The server's identity provider, whatever it is (token, password, JupyterHub), is asked
only when a request carries no valid guest cookie (``gate.install`` wraps its ``get_user``).
A guest's username is ``guest:<link id>:<guest id>``; their only role is the link's, on
the link's path, while the link is active (``access.AccessControl.role_now``).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import secrets
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import User
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from .access import GUEST_PREFIX, AccessControl, guest_link_id

log = logging.getLogger(__name__)

COOKIE = "jupyter-collab-guest"
MAX_NAME = 60
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2")


def guest_user(handler: Any, access: AccessControl) -> User | None:
    """The guest a request comes from, or ``None`` (no, forged, expired or revoked)."""
    raw = handler.get_secure_cookie(COOKIE, max_age_days=31)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        username, name = str(data["u"]), str(data["n"])[:MAX_NAME]
    except (ValueError, KeyError, TypeError):
        return None
    link_id = guest_link_id(username)
    if link_id is None or access.active_link(link_id) is None:
        return None
    digest = int(hashlib.sha1(username.encode()).hexdigest(), 16)
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "G"
    return User(
        username=username,
        name=name,
        display_name=f"{name} (guest)",
        initials=initials,
        color=_PALETTE[digest % len(_PALETTE)],
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Join {what}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 28rem; margin: 10vh auto; padding: 0 1rem; }}
input, button {{ font: inherit; padding: .4rem .6rem; }}
input {{ width: 100%; box-sizing: border-box; margin: .5rem 0 1rem; }}
.error {{ color: #b00020; }}
</style></head>
<body>
<h1>Join {what}</h1>
<p>{who} shared <b>{what}</b> with you as a <b>{role}</b>. {expiry}</p>
{error}
<form method="post">
{xsrf}
<label for="name">Your name, as others will see it</label>
<input id="name" name="name" maxlength="{max_name}" required autofocus>
<button type="submit">Join</button>
</form>
</body></html>
"""


class JoinHandler(JupyterHandler):
    """``{base_url}collab/join/<token>``: the one page anyone may open without an account.

    Everything else stays behind authentication: this page only turns a valid link and
    a display name into a guest cookie, and says nothing about an invalid token beyond
    "not found".
    """

    def initialize(self, collab: Any) -> None:
        self.collab = collab

    async def _link(self, token: str) -> Any:
        await self.collab.ready()
        link = self.collab.access.link_for_token(token)
        if link is None:
            raise web.HTTPError(404, "this share link does not exist, expired or was revoked")
        return link

    @allow_unauthenticated
    async def get(self, token: str) -> None:
        link = await self._link(token)
        self._page(link)

    @allow_unauthenticated
    async def post(self, token: str) -> None:
        link = await self._link(token)
        name = " ".join(self.get_body_argument("name", "").split())[:MAX_NAME]
        if not name:
            self._page(link, error="Please enter a name.")
            return
        username = f"{GUEST_PREFIX}{link.link_id}:{secrets.token_hex(4)}"
        expires_days = None
        if link.expires_at is not None:
            expires_days = max((link.expires_at - self.collab.access.clock()) / 86400, 1 / 86400)
        self.set_secure_cookie(
            COOKIE,
            json.dumps({"u": username, "n": name}),
            expires_days=expires_days,
            httponly=True,
            samesite="Lax",
            path=self.base_url,  # this server only: under a hub, each user's has its own
        )
        log.info("a guest named %r joined through share link %s", name, link.link_id)
        self.redirect(f"{self.base_url}lab/tree/{link.path}")

    def _page(self, link: Any, error: str = "") -> None:
        expiry = ""
        if link.expires_at is not None:
            hours = (link.expires_at - self.collab.access.clock()) / 3600
            expiry = f"The link works for {hours:.0f} more hour(s)."
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            _PAGE.format(
                what=html.escape(link.path or "this server"),
                who=html.escape(link.created_by),
                role=link.role.label,
                expiry=expiry,
                error=f'<p class="error">{html.escape(error)}</p>' if error else "",
                xsrf=self.xsrf_form_html(),
                max_name=MAX_NAME,
            )
        )
