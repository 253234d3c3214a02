"""Every docstring example of the package runs and shows what it prints, except the few declared
in `SKIPPED_EXAMPLES` with the reason."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
from pathlib import Path

import pytest
from helpers import project_modules

import modeling_irish

MODULES = project_modules()
METRIC = Path(modeling_irish.__file__).parent / "metrics" / "retrieval_mrr.py"
# Modules whose docstrings hold no examples, and why: command lines and training scripts (run
# by their own tests) and the lexer's regex tables.
NO_EXAMPLES = {
    "irish_tune.__main__": "runs the console script",
    "irish_tune.parser": "command line",
    "irish_tune.retrieval_cli_args": "command line",
    "modeling_irish.metrics": "holds metric scripts, loaded by path (their examples: below)",
    "modeling_irish.retrieval_evaluation_cli": "command line",
    "tokenization": "package of the tokenizer: its modules hold the examples",
    "training": "package of the training scripts",
    "training.train": "training script",
    "training.train_measurenote": "training script",
    "training.train_tune_title": "training script",
}
# Docstrings with examples marked ``# doctest: +SKIP``, and why they cannot run here. A new skip
# must be declared here (`test_skipped_examples_are_declared`), so that none goes unnoticed.
SKIPPED_EXAMPLES: dict[str, str] = {}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# The working folder of the examples holds what they read: `tunes.abc` (DOC_TUNES),
# `known_queries.abc` (DOC_QUERIES), `runs/measurenote-small` and `runs/tune-title` (random tiny
# models with their tokenizer, `example_folder`).
DOC_TUNES = """\
X:1
T:Cooley's
S: https://thesession.org/tunes/1#setting1
R:reel
M:4/4
L:1/8
K:Edor
|:EBBA B2EB|B2AB dBAG|FDAD BDAD|FDAD dAFD:|

X:2
T:The Kesh
S: https://thesession.org/tunes/55#setting55
R:jig
M:6/8
L:1/8
K:G
|:GAG GAB|ABA ABd|edd gdd|edB dBA:|

X:3
T:The Silver Spear
S: https://thesession.org/tunes/182#setting182
R:reel
M:4/4
L:1/8
K:D
|:FAA2 BAFA|dfed BddA|FAA2 BAFA|dfed BAAF:|

X:4
T:Drowsy Maggie
S: https://thesession.org/tunes/27#setting27
R:reel
M:4/4
L:1/8
K:Edor
|:E2BE dEBE|E2BE AFDF|E2BE dEBE|BABc dAFD:|

X:5
T:Morrison's
S: https://thesession.org/tunes/71#setting71
R:jig
M:6/8
L:1/8
K:Edor
|:E3 B3|EBE AFD|EDE B3|dcB AFD:|

X:6
T:The Butterfly
S: https://thesession.org/tunes/10#setting10
R:slip jig
M:9/8
L:1/8
K:Em
|:B2E G2E F3|B2E G2E FED|B2E G2E F3|B2d d2B AFD:|

X:7
T:Tarbolton
S: https://thesession.org/tunes/63#setting63
R:reel
M:4/4
L:1/8
K:Edor
|:EBBA B2AB|dBAG FDFA|EBBA B2AB|dBAF E2E2:|

X:8
T:Out on the Ocean
S: https://thesession.org/tunes/39#setting39
R:jig
M:6/8
L:1/8
K:G
|:D2B BAG|BdB A2B|GED G2A|B2A G3:|
"""
#: Other settings of three tunes of DOC_TUNES: the queries of the "known" retrieval protocol.
DOC_QUERIES = """\
X:1
T:Cooley's
S: https://thesession.org/tunes/1#setting1001
R:reel
M:4/4
L:1/8
K:Edor
|:EBBA B2EB|B2AB dBAF|FDAD BDAD|FDAD dAFD:|

X:2
T:The Kesh
S: https://thesession.org/tunes/55#setting1055
R:jig
M:6/8
L:1/8
K:G
|:GFG GAB|AGA ABd|efd gdd|edB dBA:|

X:3
T:The Silver Spear
S: https://thesession.org/tunes/182#setting1182
R:reel
M:4/4
L:1/8
K:D
|:FAAB AFAF|dfed BddA|FAAB AFAF|dfed BAA2:|
"""


@pytest.fixture(scope="module")
def example_folder(tmp_path_factory) -> Path:
    """The working folder of the examples (see DOC_TUNES), made once a module: each model is a
    random one (seed 0) of width 8 to 16, saved with the tokenizer of DOC_TUNES and DOC_QUERIES."""
    import torch
    from helpers import save_tiny_measurenote, tiny_measurenote_config

    from modeling_irish.configuration_tune_title import TuneTitleConfig
    from modeling_irish.modeling_tune_title import TuneTitleModel
    from tokenization.tokenization_abc import AbcTokenizer

    folder = tmp_path_factory.mktemp("examples")
    (folder / "tunes.abc").write_text(DOC_TUNES, encoding="utf-8")
    (folder / "known_queries.abc").write_text(DOC_QUERIES, encoding="utf-8")
    tunes = DOC_TUNES.split("\n\n") + DOC_QUERIES.split("\n\n")
    save_tiny_measurenote(folder / "runs" / "measurenote-small", tunes)
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.train(tunes)
    backbone = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes).to_dict()
    config = TuneTitleConfig(
        tune_config={"backbone_config": backbone, "summary_hidden_size": 8},
        title_config={"encoder_type": "char_gru", "char_embed_dim": 8, "char_hidden_size": 8},
        projection_dim=8,
    )
    TuneTitleModel(config).save_pretrained(folder / "runs" / "tune-title")
    tokenizer.save_pretrained(folder / "runs" / "tune-title")
    return folder


def find_examples(name: str) -> list[doctest.DocTest]:
    """The docstrings of module `name` that hold examples."""
    finder = doctest.DocTestFinder()
    return [test for test in finder.find(importlib.import_module(name)) if test.examples]


def run_examples(module, extraglobs=None) -> doctest.TestResults:
    return doctest.testmod(module, extraglobs=extraglobs, optionflags=FLAGS, verbose=False)


def test_the_walk_finds_the_modules():
    wanted = {"modeling_irish.edit_distance", "tokenization.tokenization_abc", "training.losses"}
    assert wanted <= set(MODULES)
    assert {"modeling_irish", "tokenization", "training"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, example_folder, monkeypatch):
    monkeypatch.chdir(example_folder)  # what the examples read and write is in there
    result = run_examples(importlib.import_module(name))
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
    # a module that lost its examples (or one listed as having none that has some) is noticed
    assert (result.attempted == 0) == (name in NO_EXAMPLES), (name, result.attempted)


def test_skipped_examples_are_declared():
    skipped = {
        test.name
        for name in MODULES
        for test in find_examples(name)
        if any(example.options.get(doctest.SKIP) for example in test.examples)
    }
    assert skipped == set(SKIPPED_EXAMPLES)


def test_metric_examples_with_the_metric_loaded_offline():
    """The metric script is loaded by path (`evaluate.load`), not imported from the package: its
    examples load it themselves, offline, from `METRIC_PATH`."""
    import evaluate

    spec = importlib.util.spec_from_file_location("retrieval_mrr", METRIC)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = run_examples(module, {"evaluate": evaluate})
    assert result.attempted >= 2 and result.failed == 0
