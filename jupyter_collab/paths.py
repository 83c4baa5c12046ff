"""One canonical name for every path a person sends, before any role check.

Roles are given on paths ("shared.ipynb", "course/"), but a request names a path the
way it likes: ``shared.ipynb/../secret.ipynb``, ``course//a.ipynb``, a symlink inside a
shared folder that points elsewhere. The ContentsManager resolves all of these to one
file; a role check on the path as written would check a different file than the one
served. So every path is first resolved here exactly as ``FileContentsManager`` does
(``to_os_path`` then ``abspath``), symlinks included, and only the result is checked.

Pure: ``os.path`` on the server's root, no jupyter_server.
"""

from __future__ import annotations

import os

from .errors import PermissionDenied


class OutsideShare(PermissionDenied):
    """A path that resolves outside the server root, to a hidden file, or that no
    ContentsManager would read the same way on every platform."""


def canonical_path(root: str, raw: str, *, allow_hidden: bool = False) -> str:
    """The API path (``/``-separated, relative to ``root``, no leading or trailing ``/``;
    ``""`` for the root) of the file ``raw`` names, with ``..``, ``.``, repeated
    separators and symlinks resolved.

    ``raw`` is the path as the handler receives it: tornado has already decoded the
    URL's percent-escapes once, as it does for the ContentsManager, so it is not
    decoded again (``%252e`` stays the literal file name ``%2e``).

    Raises:
        OutsideShare: ``raw`` leaves the root (also through a symlink), holds a NUL or
            a backslash (a separator on Windows), or names a hidden file or folder
            while ``allow_hidden`` is off (the ContentsManager would refuse it too).
    """
    if "\x00" in raw or "\\" in raw:
        raise OutsideShare(f"path {raw!r} holds a character paths may not hold")
    real_root = os.path.realpath(root)
    parts = [part for part in raw.strip("/").split("/") if part]
    joined = os.path.abspath(os.path.join(root, *parts))
    if not _inside(joined, os.path.abspath(root)):
        raise OutsideShare(f"{raw!r} is outside the server root")
    resolved = os.path.realpath(joined)
    if not _inside(resolved, real_root):
        raise OutsideShare(f"{raw!r} leads outside the server root")
    relative = os.path.relpath(resolved, real_root)
    api_path = "" if relative == "." else relative.replace(os.sep, "/")
    if not allow_hidden:
        logical = os.path.relpath(joined, os.path.abspath(root)).replace(os.sep, "/")
        for name in (*api_path.split("/"), *logical.split("/")):
            if name.startswith(".") and name not in (".", ".."):
                raise OutsideShare(f"{raw!r} names a hidden file or folder")
    return api_path


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
