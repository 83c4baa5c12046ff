"""Paths are checked where the ContentsManager resolves them, never as written."""

from __future__ import annotations

import os

import pytest

from jupyter_collab.paths import OutsideShare, canonical_path


@pytest.fixture
def root(tmp_path):
    base = tmp_path / "root"
    (base / "course").mkdir(parents=True)
    (base / "shared.ipynb").write_text("{}")
    (base / "secret.ipynb").write_text("{}")
    (base / "course" / "lesson.ipynb").write_text("{}")
    (tmp_path / "outside.txt").write_text("x")
    return base


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("shared.ipynb", "shared.ipynb"),
        ("/shared.ipynb/", "shared.ipynb"),
        ("shared.ipynb/../secret.ipynb", "secret.ipynb"),
        ("course/./lesson.ipynb", "course/lesson.ipynb"),
        ("course//lesson.ipynb", "course/lesson.ipynb"),
        ("course/../course/lesson.ipynb", "course/lesson.ipynb"),
        ("", ""),
        ("course/..", ""),
        ("%2e%2e/secret.ipynb", "%2e%2e/secret.ipynb"),  # decoded once, by tornado only
        ("course/new.ipynb", "course/new.ipynb"),  # not there yet: a file to create
        ("course/../../root/shared.ipynb", "shared.ipynb"),  # out and back in
        (".git/../shared.ipynb", "shared.ipynb"),  # abspath drops the hidden part
    ],
)
def test_a_path_is_named_as_the_contents_manager_resolves_it(root, raw, expected):
    assert canonical_path(str(root), raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "..",
        "../outside.txt",
        "shared.ipynb/../../outside.txt",
        "a\\..\\b",
        "a\x00b",
        ".hidden",
        "course/.ipynb_checkpoints/x",
    ],
)
def test_a_path_leaving_the_root_or_hidden_is_refused(root, raw):
    with pytest.raises(OutsideShare):
        canonical_path(str(root), raw)


def test_hidden_files_pass_where_the_contents_manager_allows_them(root):
    assert canonical_path(str(root), ".hidden/x", allow_hidden=True) == ".hidden/x"


def test_a_symlink_is_checked_where_it_points(root, tmp_path):
    os.symlink(root / "secret.ipynb", root / "course" / "alias.ipynb")
    os.symlink(tmp_path, root / "course" / "up")

    assert canonical_path(str(root), "course/alias.ipynb") == "secret.ipynb"
    with pytest.raises(OutsideShare):
        canonical_path(str(root), "course/up/outside.txt")
