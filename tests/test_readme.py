"""The README's Python examples run as a reader would paste them, one after the other.

A folder stands in for the reader's: `runs/measurenote-small` holds a tiny untrained model with
its tokenizer (what the README's first command leaves, only smaller), a small tunebook stands in
for the shared corpus, and the Hub repository id names that local folder (no network). Where an
example line ends in a comment that is a Python literal (`tune.meter  # '6/8'`), the line's
value must equal it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import torch
from helpers import tiny_measurenote_config

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
CORPUS_PATH = "../shared/data/thesession-c.abc"
HUB_ID = "user/measurenote-small"
MODEL_DIR = "runs/measurenote-small"
# `expression  # literal`: a line whose comment states its value.
CLAIM = re.compile(r"^(?P<expr>[^#=]+?)\s+#\s+(?P<value>.+)$")


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory):
    """A working folder as after the README's first command, with example tunes."""
    import modeling_irish  # noqa: F401  (registers the Auto classes)
    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    root = tmp_path_factory.mktemp("reader") / "work"
    tunes = list(load_abc_corpus()["train"]["abc"][:200])  # the embedded default corpus
    book = root / "tunes.abc"
    book.parent.mkdir(parents=True)
    book.write_text("\n\n".join(t.strip() for t in tunes) + "\n", encoding="utf-8")
    tokenizer = AbcTokenizer.train(tunes)
    torch.manual_seed(0)
    model = MeasureNoteForCausalLM(tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes))
    model.save_pretrained(root / MODEL_DIR)
    tokenizer.save_pretrained(root / MODEL_DIR)
    return root, tunes, book


def _adapted(block: str, book: Path) -> str:
    return block.replace(CORPUS_PATH, str(book)).replace(HUB_ID, MODEL_DIR)


def _check_claims(block: str, namespace: dict) -> int:
    """Evaluate every `expression  # literal` line again and compare; returns how many."""
    checked = 0
    for line in block.splitlines():
        match = CLAIM.match(line.strip())
        if not match:
            continue
        try:
            expected = ast.literal_eval(match["value"])
        except (ValueError, SyntaxError):
            continue  # an explanatory comment, not a value
        actual = eval(match["expr"], namespace)  # noqa: S307 (the README's own expression)
        assert actual == expected, f"README says {line.strip()!r}, but it is {actual!r}"
        checked += 1
    return checked


def test_the_readme_has_the_examples_this_test_expects():
    text = "".join(BLOCKS)
    assert len(BLOCKS) >= 5
    assert CORPUS_PATH in text and HUB_ID in text and MODEL_DIR in text
    assert "list_of_abc_strings" in text


def test_readme_python_examples_run(reader_folder, monkeypatch, capsys):
    root, tunes, book = reader_folder
    monkeypatch.chdir(root)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    threads = torch.get_num_threads()
    namespace: dict = {"list_of_abc_strings": tunes[:64]}
    claims = 0
    try:
        for number, block in enumerate(BLOCKS):
            code = _adapted(block, book)
            try:
                exec(compile(code, f"README python block {number}", "exec"), namespace)  # noqa: S102
            except Exception as err:  # name the block: the traceback alone shows only a line
                pytest.fail(f"README python block {number} failed: {err!r}\n{block}")
            claims += _check_claims(code, namespace)
    finally:
        torch.set_num_threads(threads)
    assert claims >= 2  # the reading example states what it prints
    out = capsys.readouterr().out
    assert "K:A" in out  # the first example writes the tune in A
    assert namespace["tunes"] and all(t.abc.startswith("X:") for t in namespace["tunes"])


def _opening_commands() -> list[str]:
    """The commands of the README's first code block, which comes right after its title."""
    text = README.read_text(encoding="utf-8")
    match = re.match(r"# [^\n]+\n+```bash\n(.*?)```", text, re.S)
    assert match, "README.md does not open with a bash block under its title"
    return [line for line in match[1].splitlines() if line.strip()]


def test_the_readme_opens_with_two_commands_for_a_fresh_machine():
    setup, tests = _opening_commands()  # exactly two: set up + train, set up + test
    install = 'python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e ".['
    assert setup.startswith(install) and setup.endswith("accelerate launch training/train.py")
    assert tests.startswith(install) and tests.endswith(".venv/bin/python -m pytest")


def test_ci_runs_the_readmes_test_command():
    """`.ci/run` runs the README's second command as written (pip made quiet, `-q`, at most)."""
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = _opening_commands()[1]
    commands = [line.replace("pip install -q ", "pip install ") for line in ci.splitlines()]
    assert command in commands, f".ci/run does not run the README's test command {command!r}"
