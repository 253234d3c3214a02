"""Every script of ``benchmarks/`` imports, says what it measures and how to run it, and answers
``--help`` without the corpus: a researcher reproducing docs/BENCHMARKS.md starts there."""

from __future__ import annotations

import ast
import importlib
import sys

import pytest
from test_benchmark_scripts import BENCHMARKS, load_benchmark

SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))


def test_the_benchmarks_folder_holds_scripts():
    assert len(SCRIPTS) > 10 and "bench_tokenization" in SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_script_says_how_to_run_it(name):
    """The module docstring: a first line saying what it measures, and the command line."""
    tree = ast.parse((BENCHMARKS / f"{name}.py").read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    assert doc.split("\n")[0].strip(), f"{name}.py has no module docstring"
    assert f"python benchmarks/{name}.py" in doc, f"{name}.py's docstring gives no command line"


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_script_answers_help_without_the_corpus(name, tmp_path, monkeypatch, capsys):
    """``--help`` prints the usage and exits 0, the default corpus missing (a fresh clone)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    paths = importlib.import_module("_paths")  # what the scripts' defaults come from
    monkeypatch.setattr(paths, "DEFAULT_CORPUS", str(tmp_path / "none.abc"))
    monkeypatch.setenv("MODELING_IRISH_CORPUS", str(tmp_path / "none.abc"))
    module = load_benchmark(name)
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])
    with pytest.raises(SystemExit) as done:
        module.main()  # those with an argv parameter read sys.argv when given none
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {name}.py"), out[:200]
