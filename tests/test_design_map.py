"""docs/DESIGN.md's module map ("Layers") names every module of the packages, and none that
does not exist: a module added, moved or renamed shows here until the map follows."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("irish_tune", "modeling_irish", "tokenization", "training")


def _layers_block() -> str:
    """The code block under DESIGN.md's "## Layers" heading."""
    text = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    after = text.split("## Layers", 1)[1]
    return after.split("```", 2)[1]


def _modules() -> set[str]:
    """The file names of the packages' modules (a package's own ``__init__.py`` aside: the
    map names the package)."""
    return {
        path.name
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py"
    }


def test_the_design_map_names_every_module():
    named = set(re.findall(r"[\w.]+\.py\b", _layers_block()))
    missing = sorted(name for name in _modules() if name not in named)
    assert not missing, f"docs/DESIGN.md's module map does not name {missing}"


def test_the_design_map_names_no_module_that_does_not_exist():
    named = {name.rsplit("/", 1)[-1] for name in re.findall(r"[\w./]+\.py\b", _layers_block())}
    existing = _modules() | {"__init__.py"}
    gone = sorted(name for name in named if name not in existing)
    assert not gone, f"docs/DESIGN.md's module map names {gone}, which no package holds"
