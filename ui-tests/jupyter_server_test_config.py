"""Server configuration for the browser tests. TEST ONLY: never use it for a real server.

Started by playwright.config.js (`webServer`) as
    jupyter lab --config jupyter_server_test_config.py
with the working directory ui-tests/ and these environment variables (all optional):
    COLLAB_UI_PORT   port on 127.0.0.1 (default 18893)
    COLLAB_UI_ROOT   the server's root directory (default ui-tests/.root)
    COLLAB_UI_STATE  history database, workspaces, user settings (default ui-tests/.state)
playwright.config.js deletes and recreates both directories before every start.

Identities: the users in users.json (alice, bob, carol), each with its own token. A request is
that user when it carries the user's token (`Authorization: token <t>` or `?token=<t>`) or the
signed login cookie the server sets on the user's first token request, so a browser context that
once opened `/lab?token=<t>` stays that user across page loads (cookie requests need the XSRF
header on PUT/POST/..., which JupyterLab sends by itself). Anything else is unauthenticated.
A user may change their name, display name and initials (`PATCH api/me`, as with jupyter
server's default identity provider): the cookie keeps them, also across token page loads.
"""

import json
import os
from pathlib import Path

from jupyter_server.auth.identity import IdentityProvider, User
from traitlets import default

HERE = Path(__file__).resolve().parent
USERS = json.loads((HERE / "users.json").read_text(encoding="utf-8"))
BY_TOKEN = {spec["token"]: name for name, spec in USERS.items()}

PORT = int(os.environ.get("COLLAB_UI_PORT", "18893"))
ROOT = Path(os.environ.get("COLLAB_UI_ROOT", HERE / ".root")).resolve()
STATE = Path(os.environ.get("COLLAB_UI_STATE", HERE / ".state")).resolve()
for d in (ROOT, STATE):
    d.mkdir(parents=True, exist_ok=True)


def make_user(username: str) -> User:
    spec = USERS[username]
    return User(
        username=username,
        name=spec["name"],
        display_name=spec["display_name"],
        initials=spec["initials"],
        color=spec["color"],
    )


NAME_FIELDS = ("name", "display_name", "initials")


class CollabTestIdentityProvider(IdentityProvider):
    """Token per user; the login cookie (the username, and any name the user set) keeps
    the identity."""

    @default("updatable_fields")
    def _updatable_fields_default(self):
        return list(NAME_FIELDS)

    def get_user(self, handler):
        token = self.get_token(handler)  # ?token=... or Authorization: token ...
        if token:
            # the server token, as on a plain `jupyter lab`, is the owner's (alice's)
            username = "alice" if token == self.token else BY_TOKEN.get(token)
            if username is None:
                return None  # a wrong token never falls back to the cookie
            user = make_user(username)
            cookie_user = self.get_user_cookie(handler)
            if cookie_user is None or cookie_user.username != username:
                self.set_login_cookie(handler, user)
            else:
                user = cookie_user  # with the name they set
            # as the base class does: token requests skip the XSRF and origin checks
            handler._token_authenticated = True
            return user
        return self.get_user_cookie(handler)

    def update_user_model(self, current_user: User, user_data: dict) -> User:
        for field in self.updatable_fields:
            if field in user_data:
                setattr(current_user, field, str(user_data[field])[:100])
        return current_user

    def persist_user_model(self, handler) -> None:
        self.set_login_cookie(handler, handler.current_user)

    def user_to_cookie(self, user: User) -> str:
        base = make_user(user.username)
        names = {f: getattr(user, f) for f in NAME_FIELDS if getattr(user, f) != getattr(base, f)}
        return json.dumps({"username": user.username, **names}) if names else user.username

    def user_from_cookie(self, cookie_value: str) -> User | None:
        if cookie_value in USERS:
            return make_user(cookie_value)
        try:
            data = json.loads(cookie_value)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("username") not in USERS:
            return None
        user = make_user(data["username"])
        for field in NAME_FIELDS:
            if isinstance(data.get(field), str):
                setattr(user, field, data[field])
        return user


c = get_config()  # noqa: F821 (injected by traitlets)

c.ServerApp.identity_provider_class = CollabTestIdentityProvider
# No authorizer_class: the extension puts CollabAuthorizer in front of the server's own
# authorizer by itself, as in a plain install
# A server token, as a plain `jupyter lab` has: it belongs to the owner (alice). JupyterLab puts
# it in the page config of owners only (jupyter-collab keeps it from everyone else: guests and
# bob and carol get an empty one and use their cookie), so guest specs run as in real life.
c.IdentityProvider.token = os.environ.get("COLLAB_UI_SERVER_TOKEN") or "server-token-of-the-owner"
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = PORT
c.ServerApp.port_retries = 0  # fail loudly instead of drifting to a port the tests don't know
c.ServerApp.open_browser = False
c.ServerApp.allow_root = True  # CI and this machine run as root
c.ServerApp.root_dir = str(ROOT)
# jupyter_collab is enabled by its installed jupyter-config (pip install -e .)

c.CollabApp.history_db_path = str(STATE / "history.sqlite")

c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.app_settings_dir = str(HERE / "lab-settings")  # overrides.json: no news toast
c.LabApp.user_settings_dir = str(STATE / "user-settings")
c.LabApp.workspaces_dir = str(STATE / "workspaces")  # never restore last run's layout
# Saves wait for edits to pause 3 s (default 1 s): editing.spec's outside-change test needs
# alice's line to be still unsaved when "another program" rewrites the file.
c.CollabApp.save_delay_seconds = 3.0  # noqa: F821
# People count as idle in the Collaborators panel after 4 s without an edit or a cursor
# move (default 60 s), so presence.spec can watch someone go idle and come back.
c.CollabApp.presence_idle_seconds = 4.0  # noqa: F821
# Roles: alice owns every document; bob and carol are editors unless alice says
# otherwise (roles.spec), and editors may run code so their notebooks get kernels.
c.CollabApp.owners = ["alice"]  # noqa: F821
c.CollabApp.default_role = "editor"  # noqa: F821
c.CollabApp.editors_can_execute = True  # noqa: F821
