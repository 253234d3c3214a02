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
    None when it is this project's.

    >>> shadowing_file("tokenization", os.path.dirname(os.path.dirname(__file__))) is None
    True
    """
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None and spec.origin else None
    if spec is not None and origin is None and spec.submodule_search_locations:
        origin = list(spec.submodule_search_locations)[0]  # a folder without __init__.py
    ours = os.path.join(home, name)
    if origin is None or os.path.dirname(os.path.abspath(origin)) == os.path.abspath(ours):
        return None
    return origin


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
