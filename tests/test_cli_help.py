"""The ``--help`` of every ``irish-tune`` sub-command and of ``training/train.py``: written for a
user (no commit hashes or issue numbers), each default stated one way and as the code has it,
and the options of one command line worded alike (lowercase, no full stop, as argparse's own)."""

from __future__ import annotations

import re

import pytest

from irish_tune.parser import _command_parser, _commands, build_parser
from training.arguments import build_parser as build_train_parser

COMMANDS = list(_commands())


def _help(name: str) -> str:
    """The ``--help`` of the sub-command ``name`` (or of train.py for ``"train.py"``), up to its
    exit statuses and examples, at a fixed width."""
    parser = build_train_parser() if name == "train.py" else _command_parser(build_parser(), name)
    return parser.format_help().split("exit status:")[0]


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    """One width, so that no phrase is split across two lines."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.mark.parametrize("name", [*COMMANDS, "train.py"])
def test_help_names_no_commit_issue_or_todo(name):
    """``--title_max_length`` named the commits 9630eef and c4041eb and ``--eval_excerpt_notes``
    "the issue's protocol": words of the repository's history, not of the user's run."""
    text = _help(name)
    hashes = [h for h in re.findall(r"\b[0-9a-f]{7,40}\b", text) if re.search(r"[a-f]", h)]
    assert not hashes, f"{name} --help names commits {hashes}"
    for word in ("the issue", "TODO", "FIXME", "XXX"):
        assert word not in text, f"{name} --help says {word!r}"


@pytest.mark.parametrize("name", [*COMMANDS, "train.py"])
def test_help_states_each_default_one_way(name):
    """argparse's formatter writes ``(default: N)``; a help that gave its own default wrote
    ``(default 4)`` beside it in the same command (generate's --num-tunes, --num-bars)."""
    text = _help(name)
    assert not re.findall(r"\b[Dd]efault [0-9<{r]\S*", text), text


@pytest.mark.parametrize("name", COMMANDS)
def test_option_help_is_lowercase_without_full_stop(name):
    """index, identify and evaluate-retrieval wrote ``Trained tune-title model folder.`` and
    ``Print exactly one JSON object.`` where every other command writes ``folder of a trained
    MeasureNote model`` and ``print exactly one JSON object``."""
    parser = _command_parser(build_parser(), name)
    for action in parser._actions:
        if action.help is None or action.dest == "help":
            continue
        where = f"{name} {'/'.join(action.option_strings) or action.dest}"
        assert not re.match(r"[A-Z][a-z]", action.help), f"{where}: {action.help[:40]!r}"
        assert not action.help.endswith("."), f"{where}: ends with a full stop"


@pytest.mark.parametrize("name", ["identify", "evaluate-retrieval"])
def test_hybrid_weight_help_states_the_weight_used(name):
    """identify said "the one chosen on held-out settings" where evaluate-retrieval said 8: both
    now give the number `HYBRID_WEIGHT` that the scorer takes when the flag is left out."""
    from modeling_irish.name_that_tune import HYBRID_WEIGHT

    assert f"(default: {HYBRID_WEIGHT:g}," in _help(name)


def test_split_ratios_metavar_names_the_three_splits():
    """The usage said ``--split_ratios SPLIT_RATIOS SPLIT_RATIOS SPLIT_RATIOS``."""
    assert "--split_ratios TRAIN VALIDATION TEST" in _help("train.py")
