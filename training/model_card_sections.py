"""Sections of the model cards that a reader acts on: the Usage snippets' model path, the
sentence on ``train_loss_last``, and a tune-title card's tables and name-that-tune snippet
(`training.model_card` writes the cards)."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Collection
from typing import Any, TypedDict

from irish_tune.json_output import SINGLE_QUERY
from modeling_irish.modeling_measurenote import PACKAGE_INSTALL
from training.common import DIVERGED, loss_label
from training.model_card_metadata import LM_FIGURES, PROTOCOL_DATA, RETRIEVAL_FIGURES

__all__ = [
    "DIVERGED",
    "CardTables",
    "SCORE_FIGURES",
    "WALL_TIME_SPAN",
    "card_name",
    "card_tables",
    "missing_reason",
    "train_loss_note",
    "tune_title_tables",
    "tune_title_usage",
    "usage_path",
]


def usage_path(args: argparse.Namespace) -> str:
    """The Usage snippet's ``path = ...`` line: the Hub id the run uploads to, else the output
    folder by its name only with a comment (the trainer's absolute path means nothing to a reader
    of the card, and would publish a path of the trainer's machine).

    A bare ``--hub_model_id name`` is ``user/name`` only once ``--push_to_hub`` has asked the
    token's user (`check_hub_before_training`); without it the card cannot know the user, and
    ``from_pretrained("name")`` loads nothing, so the snippet says ``<your-user>/name``.

    >>> usage_path(argparse.Namespace(hub_model_id="user/measurenote", output_dir="/tmp/x/run"))
    'path = "user/measurenote"'
    >>> usage_path(argparse.Namespace(hub_model_id=None, output_dir="/tmp/x/run/"))
    'path = "run"  # the folder you downloaded, or its Hub id'
    >>> usage_path(argparse.Namespace(hub_model_id="tunes", output_dir="/tmp/x/run/"))
    'path = "<your-user>/tunes"  # its Hub id once uploaded, or the folder you downloaded'
    """
    if args.hub_model_id and "/" in args.hub_model_id:
        return f'path = "{args.hub_model_id}"'
    if args.hub_model_id:  # a bare name: the uploader's namespace is not known here
        return (
            f'path = "<your-user>/{args.hub_model_id}"  # its Hub id once uploaded, or the '
            "folder you downloaded"
        )
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


def tune_title_tables(results: dict[str, Any]) -> CardTables:
    """A tune-title run's numbers for its card (`card_tables`): its ``metrics`` are the
    retrieval figures (`SCORE_FIGURES`), ``train_loss_last`` and ``eval_precision``.

    >>> tables = tune_title_tables({"known_r_at_1": 0.25, "known_ms_per_query": 3.5,
    ...     "train_steps": 7, "stopped_by": "max_train_steps"})
    >>> tables["metrics"], tables["run_figures"]
    ({'known_r_at_1': 0.25}, {'known_ms_per_query': 3.5, 'train_steps': 7})
    """
    scores = {"train_loss_last", "eval_precision"}
    scores.update(f"{p}_{figure}" for p in PROTOCOL_DATA for figure in SCORE_FIGURES)
    return card_tables(results, scores)


#: What a card's ``wall_time_seconds`` spans, in a note under the run table (all_results.json's
#: key, written by the main process from its own clock).
WALL_TIME_SPAN = (
    "the main process's wall-clock time, from reading the corpus to the saved, evaluated "
    "model; not the runs it resumed"
)


class CardTables(TypedDict):
    """`card_tables`' figures and the note under the run table, `write_model_card`'s keyword
    arguments of the same names."""

    metrics: dict[str, Any]
    run_figures: dict[str, Any]
    run_figures_note: str


def card_tables(results: dict[str, Any], scores: Collection[str]) -> CardTables:
    """A run's numbers (and ``eval_precision``) for its card, as `write_model_card`'s
    ``metrics`` (those named in ``scores``) and ``run_figures`` (every other number: the run's
    counts and timings), with ``run_figures_note`` saying what ``wall_time_seconds`` spans
    (`WALL_TIME_SPAN`) when the run has one. A figure that is None (JSON null) or not a finite
    number (a diverged run's NaN, which its JSON holds as null) is shown as ``n/a``, with the
    reason where one is known (`missing_reason`), not left out.

    >>> card_tables({"eval_nll": 6.5, "num_parameters": 1234, "train_loss_last": None},
    ...     {"eval_nll", "train_loss_last"})  # doctest: +NORMALIZE_WHITESPACE
    {'metrics': {'eval_nll': 6.5, 'train_loss_last': 'n/a (no update logged)'},
     'run_figures': {'num_parameters': 1234}, 'run_figures_note': ''}
    """
    shown = {
        k: missing_reason(k, results) if v is None or not _finite(v) else v
        for k, v in results.items()
        if isinstance(v, (int, float)) or v is None or k == "eval_precision"
    }
    # the one timing whose span the key does not say: a note under the table, not in its cell
    wall = "wall_time_seconds" in shown
    return {
        "metrics": {k: v for k, v in shown.items() if k in scores},
        "run_figures": {k: v for k, v in shown.items() if k not in scores},
        "run_figures_note": f"`wall_time_seconds` is {WALL_TIME_SPAN}." if wall else "",
    }


def _finite(value: Any) -> bool:
    """False for a NaN or infinite float, True for any other value."""
    return not isinstance(value, float) or math.isfinite(value)


def missing_reason(key: str, results: dict[str, Any]) -> str:
    """How a card shows the figure ``key`` that ``results`` holds as None, NaN or infinite:
    ``n/a``, with why where the run says (a protocol's ``retrieval_eval_skipped`` reason, a
    standard error of a single query, no update logged) or where it is known: `DIVERGED` for a
    NaN or infinite figure, and for a null validation figure of a language model, which only a
    NaN written as null makes (a resumed run reads it back from ``train_log.jsonl`` as None):
    the fresh run's card and the resumed run's say the same.

    >>> missing_reason("unseen_median_rank",
    ...     {"retrieval_eval_skipped": {"unseen": "the validation split is empty"}})
    'n/a (the validation split is empty)'
    >>> missing_reason("known_mrr_at_20_stderr", {"known_queries": 1})
    'n/a (a single query)'
    >>> missing_reason("known_r_at_1", {})
    'n/a'
    >>> missing_reason("eval_nll", {"eval_nll": float("nan")}), missing_reason("eval_nll", {})
    ('n/a (not a finite number: the run diverged)', 'n/a (not a finite number: the run diverged)')
    """
    protocol = key.split("_", 1)[0]
    why = (
        results.get("retrieval_eval_skipped", {}).get(protocol)
        if protocol in PROTOCOL_DATA
        else None
    )
    if not _finite(results.get(key)):
        why = DIVERGED
    elif key == "train_loss_last":
        why = "no update logged"
    elif key.endswith("_stderr") and results.get(f"{protocol}_queries") == 1:
        why = SINGLE_QUERY
    elif key in LM_FIGURES:
        why = DIVERGED
    return f"n/a ({why})" if why else "n/a"


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
