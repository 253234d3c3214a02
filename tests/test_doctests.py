"""Every docstring example of the package runs and shows what it prints."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import modeling_irish
import tokenization
import training

MODULES = sorted(
    name
    for package in (modeling_irish, tokenization, training)
    for _, name, _ in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
)
METRIC = Path(modeling_irish.__file__).parent / "metrics" / "retrieval_mrr.py"
# Modules whose docstrings hold no examples, and why: command lines and training scripts (run
# by their own tests), the lexer's regex tables, and the dataset step that needs a corpus.
NO_EXAMPLES = {
    "modeling_irish.lm_evaluation": "command line",
    "modeling_irish.metrics": "holds metric scripts, loaded by path (their examples: below)",
    "modeling_irish.retrieval_cli": "command line",
    "tokenization.abc_lexer": "regex tables",
    "tokenization.dataset": "needs a corpus: tests/test_dataset_tokenize.py",
    "training.train": "training script",
    "training.train_tune_title": "training script",
}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run_examples(module, extraglobs=None) -> doctest.TestResults:
    return doctest.testmod(module, extraglobs=extraglobs, optionflags=FLAGS, verbose=False)


def test_the_walk_finds_the_modules():
    wanted = {"modeling_irish.edit_distance", "tokenization.tokenization_abc", "training.losses"}
    assert wanted <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = run_examples(importlib.import_module(name))
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
    # a module that lost its examples (or one listed as having none that has some) is noticed
    assert (result.attempted == 0) == (name in NO_EXAMPLES), (name, result.attempted)


def test_metric_examples_with_the_metric_loaded_offline():
    """The metric script is loaded by path (`evaluate.load`), not imported from the package: its
    examples load it themselves, offline, from `METRIC_PATH`."""
    import evaluate

    spec = importlib.util.spec_from_file_location("retrieval_mrr", METRIC)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = run_examples(module, {"evaluate": evaluate})
    assert result.attempted >= 2 and result.failed == 0
