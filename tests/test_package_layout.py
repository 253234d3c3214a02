"""`shadowing_file`: what ``import tokenization`` finds in place of this project's package, a
user's file or folder of that name in the working folder (earlier on ``sys.path``)."""

from __future__ import annotations

import importlib
import os
import sys

import pytest

from modeling_irish.package_layout import shadowing_file

HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project's root


@pytest.fixture
def working_folder(tmp_path, monkeypatch):
    """``tmp_path`` first on ``sys.path`` (as the working folder is), ``tokenization`` not yet
    imported there (`find_spec` returns an imported module's own spec); both restored after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tokenization")
    importlib.invalidate_caches()
    return tmp_path


def test_a_tokenization_file_in_the_working_folder_is_named(working_folder):
    (working_folder / "tokenization.py").write_text("", encoding="utf-8")
    assert shadowing_file("tokenization", HOME) == str(working_folder / "tokenization.py")


def test_a_tokenization_folder_without_init_in_the_working_folder_hides_nothing(working_folder):
    """A folder without ``__init__.py`` is a namespace package, which Python takes only when no
    folder on ``sys.path`` holds a regular package of that name: ours, on it here, is imported
    (an editable install's finder comes after ``sys.path``: there the folder is named, as
    `test_a_namespace_package_is_compared_as_the_folder_it_is` names one found first)."""
    (working_folder / "tokenization").mkdir()
    (working_folder / "tokenization" / "notes.py").write_text("", encoding="utf-8")
    assert shadowing_file("tokenization", HOME) is None


def test_a_namespace_package_is_compared_as_the_folder_it_is(tmp_path, monkeypatch):
    """A folder without ``__init__.py`` was compared by the folder above it (`dirname` of its
    path, as of an ``__init__.py``'s): the package ``home/name`` itself was said to hide
    itself, while one elsewhere is named."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    (home / "layoutns").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(home))
    importlib.invalidate_caches()
    assert shadowing_file("layoutns", str(home)) is None
    assert shadowing_file("layoutns", str(elsewhere)) == str(home / "layoutns")
