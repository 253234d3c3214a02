"""Refuse, in one line, a user's ``tokenization.py`` (or folder) hiding this project's package."""

from __future__ import annotations

import importlib.util
import os

__all__ = ["SIBLING_PACKAGES", "check_sibling_packages", "shadowing_file"]

# The project's top-level packages that live beside modeling_irish/ (its layout keeps them).
SIBLING_PACKAGES = ("tokenization",)


def shadowing_file(name: str, home: str) -> str | None:
    """Where ``import name`` would load from when that is not the package ``home/name``
    (a file or folder of the same name earlier on ``sys.path``, such as the working folder);
    None when it is this project's. A folder without ``__init__.py`` (a namespace package) is
    compared as the folder it is. Python takes one only when no folder on ``sys.path`` holds a
    regular package of that name: a user's ``tokenization/`` without it hides nothing where the
    package is on ``sys.path`` (installed from the wheel), but hides an editable install's,
    whose finder Python asks after ``sys.path``, and is named then.

    >>> shadowing_file("tokenization", os.path.dirname(os.path.dirname(__file__))) is None
    True
    """
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    if spec.origin:  # a module file, or a package's __init__.py
        found, folder = spec.origin, os.path.dirname(spec.origin)
    elif spec.submodule_search_locations:  # a folder without __init__.py: the folder itself
        found = folder = list(spec.submodule_search_locations)[0]
    else:
        return None
    if os.path.abspath(folder) == os.path.abspath(os.path.join(home, name)):
        return None
    return found


def check_sibling_packages() -> None:
    """Raise ImportError naming the file that hides one of `SIBLING_PACKAGES`, and what to do."""
    home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for name in SIBLING_PACKAGES:
        found = shadowing_file(name, home)
        if found is not None:
            raise ImportError(
                f"modeling_irish: `import {name}` finds {found}, not modeling-irish's {name} "
                f"package ({os.path.join(home, name)}): rename that file or folder, or run from "
                "another folder"
            )


check_sibling_packages()
