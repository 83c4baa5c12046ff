"""Guests: people who come in through a share link, with no account on the server.

Opening ``{base_url}collab/join/<token>`` asks for a display name, then sets a signed
cookie (the server's cookie secret) naming the guest, the link and the cookie's expiry.
The server's identity provider, whatever it is (token, password, JupyterHub), is asked
only when a request carries no valid guest cookie (``gate.Gate.identify`` asks this module
first).
A guest's username is ``guest:<link id>:<guest id>``; their only role is the link's, on
the link's path, while the link is active (``access.AccessControl.role_now``).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import User
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from .access import GUEST_PREFIX, guest_link_id

if TYPE_CHECKING:
    from .permissions import ShareLink
    from .services import Access, Services

log = logging.getLogger(__name__)

COOKIE = "jupyter-collab-guest"
MAX_NAME = 60
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2")


def guest_user(handler: web.RequestHandler, access: Access) -> User | None:
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
    access.link_used(link_id)  # in memory; written now and then
    digest = int(hashlib.sha1(username.encode()).hexdigest(), 16)
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "G"
    return User(
        username=username,
        name=name,
        display_name=f"{name} (guest)",
        initials=initials,
        color=_PALETTE[digest % len(_PALETTE)],
    )


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 10vh auto; padding: 0 1rem; }
input, button { font: inherit; padding: .4rem .6rem; }
input { width: 100%; box-sizing: border-box; margin: .5rem 0 1rem; }
.error { color: #b00020; }
.label { font-weight: 600; }
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Join {what}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{style}</style></head>
<body>
<h1>Join {what}</h1>
{label}
<p class="shared">{who} shared <b>{what}</b> with you as {article} <b>{role}</b>.</p>
<p class="expiry">{expiry}</p>
{error}
<form method="post">
{xsrf}
<label for="name">Your name, as others will see it</label>
<input id="name" name="name" maxlength="{max_name}" required autofocus>
<button type="submit">Join</button>
</form>
<script>
for (const t of document.querySelectorAll("time[datetime]")) {{
  t.textContent = new Date(t.dateTime).toLocaleString(undefined,
    {{ dateStyle: "full", timeStyle: "short" }});
}}
</script>
</body></html>
"""

# for a token that is not (or no longer) an active link: nothing about what it was
_GONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>This link no longer works</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{style}</style></head>
<body>
<h1>This link no longer works</h1>
<p>The share link you opened has expired or was revoked, or it was never a valid link.</p>
<p>Ask the person who shared it with you for a new one.</p>
</body></html>
"""


def describe_expiry(expires_at: float | None, now: float) -> str:
    """The join page's line about when the link stops working (in UTC; the page's
    script shows it in the guest's own time zone)."""
    if expires_at is None:
        return "The link has no expiry date."
    when = datetime.fromtimestamp(expires_at, timezone.utc)
    hours = max((expires_at - now) / 3600, 0)
    left = f"{hours:.0f} hours" if hours >= 2 else f"{max(hours * 60, 1):.0f} minutes"
    return (
        f'The link works until <time datetime="{when.isoformat()}">'
        f"{when:%A %d %B %Y, %H:%M} UTC</time> (about {left} from now)."
    )


class JoinHandler(JupyterHandler):
    """``{base_url}collab/join/<token>``: the one page anyone may open without an account.

    Everything else stays behind authentication: this page only turns a valid link and
    a display name into a guest cookie (and records the guest on the link). For any
    other token it answers 404 with a page saying the link no longer works and to ask
    whoever shared it, nothing more.
    """

    def initialize(self, collab: Services) -> None:
        self.collab = collab

    async def _link(self, token: str) -> ShareLink:
        await self.collab.ready()
        link = self.collab.access.link_for_token(token)
        if link is None:
            # a friendly page, still a 404, that says nothing about the token
            self.set_status(404)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(_GONE.format(style=_STYLE))
            raise web.Finish()
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
        guest_id = secrets.token_hex(4)
        username = f"{GUEST_PREFIX}{link.link_id}:{guest_id}"
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
        await self.collab.access.guest_joined(link.link_id, guest_id, name)
        log.info("a guest named %r joined through share link %s", name, link.link_id)
        self.redirect(f"{self.base_url}lab/tree/{link.path}")

    def _page(self, link: ShareLink, error: str = "") -> None:
        label = f'<p class="label">{html.escape(link.label)}</p>' if link.label else ""
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            _PAGE.format(
                style=_STYLE,
                what=html.escape(link.path or "this server"),
                label=label,
                who=html.escape(link.created_by_name or link.created_by),
                article="an" if link.role.label[0] in "aeiou" else "a",
                role=link.role.label,
                expiry=describe_expiry(link.expires_at, self.collab.access.clock()),
                error=f'<p class="error">{html.escape(error)}</p>' if error else "",
                xsrf=self.xsrf_form_html(),
                max_name=MAX_NAME,
            )
        )
