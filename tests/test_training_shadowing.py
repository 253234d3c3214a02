"""`training/train.py` refuses a ``training`` package of the user's that hides its own: with the
README's editable install (``pip install -e .``), ``python -m training.train`` run from a folder
holding ``training/`` found the script through setuptools' finder, which fills in only the
modules the user's package lacks, and imported the user's ``training/common.py`` in place of
its own without a word."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: ``python -m training.train`` as an editable install of this checkout runs it: the working
#: folder first on ``sys.path``, then the packages found by a finder that maps each top-level
#: package to its folder here and fills in the submodules a package found first lacks (what
#: setuptools' ``__editable___*_finder.py`` does). Inserted before any such finder of the
#: environment, so that this checkout is the code under test.
_EDITABLE_RUN = """
import runpy, sys
from importlib.machinery import PathFinder
from importlib.util import spec_from_file_location

REPO = {repo!r}
PACKAGES = ("irish_tune", "modeling_irish", "tokenization", "training")

class Editable:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname in PACKAGES:
            return spec_from_file_location(fullname, f"{{REPO}}/{{fullname}}/__init__.py")
        parent = fullname.rpartition(".")[0]
        if parent in PACKAGES:
            return PathFinder.find_spec(fullname, [f"{{REPO}}/{{parent}}"])
        return None

sys.meta_path.insert(sys.meta_path.index(PathFinder) + 1, Editable)
sys.argv = ["train.py", "--help"]
runpy.run_module("training.train", run_name="__main__", alter_sys=True)
"""

#: The user's own module, named as one of the script's.
_USERS_MODULE = "print('the user module ran')\n"


def _users_folder(tmp_path: Path, package: bool) -> Path:
    """A working folder holding the user's ``training/common.py``, in a package (with an
    ``__init__.py``) or not."""
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "common.py").write_text(_USERS_MODULE, encoding="utf-8")
    if package:
        (tmp_path / "training" / "__init__.py").write_text("", encoding="utf-8")
    return tmp_path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RANK")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        encoding="utf-8",
    )


@pytest.mark.parametrize("package", [True, False], ids=["package", "no_init"])
def test_the_module_run_refuses_a_training_folder_of_the_users_by_name(tmp_path, package):
    folder = _users_folder(tmp_path, package)
    done = _run(["-c", _EDITABLE_RUN.format(repo=str(REPO))], cwd=folder)
    assert "the user module ran" not in done.stdout
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("train.py: error: "), done.stderr
    assert str(folder / "training") in lines[0] and str(REPO / "training") in lines[0]
    assert "training/train.py" in lines[0] and "another folder" in lines[0]


def test_the_module_run_without_a_training_folder_of_the_users_is_not_refused(tmp_path):
    done = _run(["-c", _EDITABLE_RUN.format(repo=str(REPO))], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--max_train_steps" in done.stdout


def test_the_script_run_by_its_path_finds_its_own_modules_beside_the_users(tmp_path):
    folder = _users_folder(tmp_path, package=True)
    done = _run([str(REPO / "training" / "train.py"), "--help"], cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "the user module ran" not in done.stdout and "--max_train_steps" in done.stdout
