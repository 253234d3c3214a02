"""What an installed (not editable) modeling-irish holds: every package of the tree, a
sub-package added later included, and nothing else; the source distribution carries the tests,
docs and pinned environment that its README's commands need."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What the wheel is built from (`_build` copies these into a temporary folder).
BUILD_FILES = ("setup.cfg", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in")
#: What the source distribution adds for its README and tests (MANIFEST.in).
SDIST_EXTRAS = ("constraints.txt", "tests", "docs", "benchmarks")


def include_patterns() -> list[str]:
    """setup.cfg's ``[options.packages.find] include`` patterns."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config["options.packages.find"]["include"].split()


def tree_packages(root: Path) -> set[str]:
    """Every package under ``root``: a top-level folder with an ``__init__.py`` and each such
    folder inside one (hidden folders, such as ``.venv``, and folders without one not entered)."""
    found = set()
    for top in sorted(root.iterdir()):
        if top.name.startswith(".") or not (top / "__init__.py").is_file():
            continue
        for folder, subfolders, _ in os.walk(top):
            subfolders[:] = [s for s in subfolders if (Path(folder, s) / "__init__.py").is_file()]
            found.add(Path(folder).relative_to(root).as_posix().replace("/", "."))
    return found


def distributed_packages(root: Path) -> set[str]:
    """The packages setuptools finds under ``root`` with setup.cfg's include patterns."""
    setuptools = pytest.importorskip("setuptools")
    return set(setuptools.find_packages(str(root), include=include_patterns()))


def test_every_package_of_the_tree_is_distributed():
    packages = tree_packages(ROOT)
    assert {"irish_tune", "modeling_irish", "modeling_irish.metrics", "training"} <= packages
    assert packages - distributed_packages(ROOT) == set()


def test_a_new_subpackage_ships_with_its_package(tmp_path):
    """A sub-package added to any top-level package (``irish_tune/commands/``) is in the wheel
    without a change to setup.cfg, as ``modeling_irish/metrics/`` is."""
    tops = {p for p in tree_packages(ROOT) if "." not in p}
    for top in tops:
        for folder in (tmp_path / top, tmp_path / top / "new_subpackage"):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "__init__.py").write_text("", encoding="utf-8")
    expected = tops | {f"{top}.new_subpackage" for top in tops}
    assert expected - distributed_packages(tmp_path) == set()


def _copy_tree(names: tuple[str, ...], destination: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".hypothesis")
    for name in names:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=skip)
        else:
            shutil.copy2(source, destination / name)


def _build(kind: str, source: Path, out: Path) -> Path:
    """Build the ``wheel`` or ``sdist`` of ``source`` into ``out`` with setuptools' PEP 517
    backend, in a fresh interpreter (no build isolation: offline, and it writes only there)."""
    pytest.importorskip("setuptools")
    code = f"from setuptools import build_meta; print(build_meta.build_{kind}({str(out)!r}))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        encoding="utf-8",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return out / result.stdout.strip().splitlines()[-1]


def test_the_wheel_holds_the_packages_and_nothing_else(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    tops = sorted({p for p in tree_packages(ROOT) if "." not in p})
    _copy_tree((*BUILD_FILES, *tops), source)
    wheel = _build("wheel", source, tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "irish-tune = irish_tune:main" in archive.read(entry_points).decode()
    code = {n for n in names if ".dist-info/" not in n}
    expected = {
        p.relative_to(source).as_posix() for top in tops for p in (source / top).rglob("*.py")
    }
    assert code == expected


def test_the_sdist_carries_what_its_readme_and_tests_need(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    tops = sorted({p for p in tree_packages(ROOT) if "." not in p})
    _copy_tree((*BUILD_FILES, *SDIST_EXTRAS, *tops), source)
    (source / "tests" / ".hypothesis").mkdir()  # a fuzzing database left by a local run
    (source / "tests" / ".hypothesis" / "examples").write_text("x", encoding="utf-8")
    sdist = _build("sdist", source, tmp_path / "dist")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for name in (*BUILD_FILES, "constraints.txt", "tests/conftest.py", "tests/helpers.py"):
        assert name in names, name
    assert "tests/test_packaging.py" in names and "docs/DESIGN.md" in names
    assert not [n for n in names if ".hypothesis" in n or "__pycache__" in n or n.endswith(".pyc")]


#: Suffixes of what runs write (audio, scores, weights, caches): never committed. The learning
#: curve of docs/BENCHMARKS.md is the one figure kept in the tree.
RUN_OUTPUT_SUFFIXES = {".mid", ".midi", ".wav", ".svg", ".safetensors", ".bin", ".pt", ".npy"}
RUN_OUTPUT_SUFFIXES |= {".arrow", ".pdf", ".ps", ".png", ".jsonl"}
KEPT_FIGURES = {"docs/learning_curve_small_30min.png"}


def test_no_run_output_is_committed():
    # a tune.mid and a tune.svg written by a manual render were committed once, unseen
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    committed = [
        p for p in listed.split("\0") if p and Path(p).suffix.lower() in RUN_OUTPUT_SUFFIXES
    ]
    assert sorted(set(committed) - KEPT_FIGURES) == []
