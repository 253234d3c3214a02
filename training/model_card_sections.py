"""Sections of the model cards that a reader acts on: the Usage snippets' model path, the
sentence on ``train_loss_last``, and a tune-title card's tables and name-that-tune snippet
(`training.model_card` writes the cards)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from modeling_irish.modeling_measurenote import PACKAGE_INSTALL
from training.common import loss_label
from training.model_card_metadata import _PROTOCOL_DATA, RETRIEVAL_FIGURES

__all__ = [
    "SCORE_FIGURES",
    "card_name",
    "train_loss_note",
    "tune_title_tables",
    "tune_title_usage",
    "usage_path",
]


def usage_path(args: argparse.Namespace) -> str:
    """The Usage snippet's ``path = ...`` line: the Hub id the run uploads to, else the output
    folder by its name only with a comment (the trainer's absolute path means nothing to a reader
    of the card, and would publish a path of the trainer's machine).

    >>> usage_path(argparse.Namespace(hub_model_id="user/measurenote", output_dir="/tmp/x/run"))
    'path = "user/measurenote"'
    >>> usage_path(argparse.Namespace(hub_model_id=None, output_dir="/tmp/x/run/"))
    'path = "run"  # the folder you downloaded, or its Hub id'
    """
    if args.hub_model_id:
        return f'path = "{args.hub_model_id}"'
    return f'path = "{card_name(args)}"  # the folder you downloaded, or its Hub id'


def card_name(args: argparse.Namespace) -> str:
    """The model's name in its card (the ``model-index`` name): the Hub id the run uploads to,
    else the output folder's name (not its path).

    >>> card_name(argparse.Namespace(hub_model_id=None, output_dir="/tmp/x/run/"))
    'run'
    """
    return args.hub_model_id or os.path.basename(os.path.normpath(str(args.output_dir)))


def train_loss_note(args: argparse.Namespace, results: dict[str, Any]) -> str:
    """The card's sentence on ``train_loss_last``: the mean training loss over the last
    ``train_loss_last_updates`` updates, the progress bar's last value ("" without it).

    >>> train_loss_note(argparse.Namespace(logging_steps=10),
    ...     {"train_loss_last": 0.88, "train_loss_last_updates": 10})  # doctest: +ELLIPSIS
    '`train_loss_last` is the mean training loss over the last 10 updates (...)...'
    """
    if results.get("train_loss_last") is None:
        return ""
    count = results.get("train_loss_last_updates") or 0
    over = {0: "the updates of the last log", 1: "the last update"}.get(
        count, f"the last {count} updates"
    )
    return (
        f"`train_loss_last` is the mean training loss over {over} (`--logging_steps "
        f"{args.logging_steps}`): the last value the training progress bar showed, as "
        f"`{loss_label(count)}`, not the loss of the last update alone."
    )


#: The figures of a retrieval protocol (``known_`` or ``unseen_`` before each) that score the
#: model, in a tune-title card's metrics table; its other numbers (queries, gallery, dropped
#: queries, milliseconds a query) are counts and timings of the evaluation.
SCORE_FIGURES = (*RETRIEVAL_FIGURES, "mrr_at_20_stderr", "random_mrr_at_20")


def tune_title_tables(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A tune-title run's numbers (and ``eval_precision``) for its card, as `write_model_card`'s
    ``metrics`` (the retrieval figures, `SCORE_FIGURES`, and ``train_loss_last``) and
    ``run_figures`` (every other number: the run's counts and timings).

    >>> tables = tune_title_tables({"known_r_at_1": 0.25, "known_ms_per_query": 3.5,
    ...     "train_steps": 7, "stopped_by": "max_train_steps"})
    >>> tables["metrics"], tables["run_figures"]
    ({'known_r_at_1': 0.25}, {'known_ms_per_query': 3.5, 'train_steps': 7})
    """
    scores = {"train_loss_last", "eval_precision"}
    scores.update(f"{p}_{figure}" for p in _PROTOCOL_DATA for figure in SCORE_FIGURES)
    shown = {
        k: v for k, v in results.items() if isinstance(v, (int, float)) or k == "eval_precision"
    }
    return {
        "metrics": {k: v for k, v in shown.items() if k in scores},
        "run_figures": {k: v for k, v in shown.items() if k not in scores},
    }


def tune_title_usage(args: argparse.Namespace) -> str:
    """A tune-title card's Usage snippet: naming a tune from a snippet first (`TuneIndex`,
    `identify`: what ``irish-tune index`` and ``identify`` do, with the package), then the
    towers alone as remote code. It runs as written with ``tunes.abc`` beside it."""
    return (
        "# Naming a tune from a snippet needs the modeling-irish package,\n"
        f"# {PACKAGE_INSTALL}\n"
        "from modeling_irish import AbcTokenizer, TuneTitleModel\n"
        "from modeling_irish.name_that_tune import TuneIndex, identify\n\n"
        f"{usage_path(args)}\n"
        "model = TuneTitleModel.from_pretrained(path)\n"
        "tokenizer = AbcTokenizer.from_pretrained(path)\n"
        "# index the tunes to name once (titled settings of ABC files or folders), then ask it\n"
        'index = TuneIndex.build(model, tokenizer, ["tunes.abc"])\n'
        'index.save("tunes-index")  # later: index = TuneIndex.load("tunes-index")\n'
        'snippet = "X:1\\nM:4/4\\nL:1/8\\nK:D\\nFAAB AFED|FAAB d2fe|"\n'
        "print(identify(model, index, snippet, k=5, tokenizer=tokenizer))  # [(title, score)]\n"
        "# the same from a shell: irish-tune index --model DIR tunes.abc --out tunes-index, then\n"
        "# irish-tune identify --index tunes-index snippet.abc\n\n"
        "# The towers alone, without the package:\n"
        "from transformers import AutoModel\n\n"
        "model = AutoModel.from_pretrained(path, trust_remote_code=True)\n"
        'title_vectors = model.get_title_features(["The Silver Spear"])\n'
        "# remote code runs on your machine: pin it with revision=<commit> once you trust it"
    )
