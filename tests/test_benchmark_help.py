"""Every script of ``benchmarks/`` imports, says what it measures and how to run it, and answers
``--help`` without the corpus: a researcher reproducing docs/BENCHMARKS.md starts there."""

from __future__ import annotations

import argparse
import ast
import importlib
import re
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


def irish_tune_commands(text: str) -> list[tuple[str, list[str]]]:
    """``irish-tune SUB ...`` (or ``python -m irish_tune SUB ...``) in code spans and indented
    lines of ``text``: each subcommand with the ``--flags`` its command line gives."""
    spans = re.findall(r"`([^`]+)`", text) + re.findall(r"^ {4}(.+)$", text, re.M)
    found = []
    for span in spans:
        for match in re.finditer(r"irish[-_]tune ([a-z][a-z-]*)((?: +[^ `|;)]+)*)", span):
            flags = re.findall(r"(?<![\w-])--[a-z][\w-]*", match.group(2))
            found.append((match.group(1), [f for f in flags if f != "--nope"]))  # a typo timed
    return found


def test_irish_tune_commands_in_the_benchmark_docs_use_flags_that_exist():
    """``midi_vs_abc2midi.py`` said ``irish-tune render --midi``, a flag render never had (it
    is ``--formats midi``): each documented subcommand and flag is one the parser knows."""
    from irish_tune.parser import build_parser

    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    texts = {
        "docs/BENCHMARKS.md": (BENCHMARKS.parent / "docs" / "BENCHMARKS.md").read_text("utf-8"),
        **{f"{n}.py": (BENCHMARKS / f"{n}.py").read_text("utf-8") for n in SCRIPTS},
    }
    wrong = []
    for where, text in texts.items():
        for command, flags in irish_tune_commands(text):
            parser = subparsers.choices.get(command)
            if parser is None:
                wrong.append(f"{where}: irish-tune {command}")
                continue
            known = {s for action in parser._actions for s in action.option_strings}
            wrong += [f"{where}: irish-tune {command} {f}" for f in flags if f not in known]
    assert not wrong
    assert ("render", ["--formats"]) in irish_tune_commands("`irish-tune render --formats midi`")
