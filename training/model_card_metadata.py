"""The YAML front matter of the model cards: what the Hub reads of a card (licence, library,
tags, task, base model, and the evaluation figures as its ``model-index``), built with
`huggingface_hub`'s `ModelCardData`, so that it is written as the Hub parses it."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huggingface_hub import EvalResult

__all__ = [
    "LM_FIGURES",
    "RETRIEVAL_FIGURES",
    "Evaluation",
    "corpus_names",
    "eval_results",
    "front_matter",
    "lm_evaluation",
    "retrieval_evaluations",
    "PROTOCOL_DATA",
]


#: The music21 books ``load_abc_corpus`` reads when no ``--corpus`` is given.
EMBEDDED_CORPUS = ("oneills1850", "ryansMammoth")

#: The metric type (the Hub's metric id where one fits) of each figure a card's ``model-index``
#: gives, by its all_results.json key less the ``eval_``, ``known_`` or ``unseen_`` prefix.
METRIC_TYPES = {
    "nll": "nll",
    "nll_main": "nll",
    "nll_dur": "nll",
    "perplexity": "perplexity",
    "main_acc": "accuracy",
    "dur_acc": "accuracy",
    "mrr_at_20": "mrr",
    "r_at_1": "recall",
    "r_at_5": "recall",
    "r_at_10": "recall",
    "mean_rank": "mean_rank",
    "median_rank": "median_rank",
}


#: The validation figures of a MeasureNote run that its card's ``model-index`` gives.
LM_FIGURES = (
    "eval_nll",
    "eval_nll_main",
    "eval_nll_dur",
    "eval_perplexity",
    "eval_main_acc",
    "eval_dur_acc",
)

#: The figures of each retrieval protocol (``known_`` or ``unseen_`` before each) that a
#: tune-title card's ``model-index`` gives.
RETRIEVAL_FIGURES = ("mrr_at_20", "r_at_1", "r_at_5", "r_at_10", "mean_rank", "median_rank")

#: What the queries of each retrieval protocol are, and the split they come from.
PROTOCOL_DATA = {
    "known": ("held-out settings of training tunes", "train (held-out settings)"),
    "unseen": ("validation tunes", "validation"),
}


@dataclass(frozen=True)
class Evaluation:
    """One evaluation a card reports: the task (a Hub task id and a name), the data it scored
    (a name, an identifier and a split) and the figures, by their all_results.json keys, each
    of which ends with a `METRIC_TYPES` key."""

    task_type: str
    task_name: str
    dataset_name: str
    dataset_type: str
    split: str
    figures: dict[str, Any] = field(default_factory=dict)


def corpus_names(corpus: str | Sequence[str] | None) -> list[str]:
    """The ``--corpus`` sources by name, as a card may publish them: file names (not the
    trainer's paths), or the music21 books read without one.

    >>> corpus_names(["/home/me/data/thesession-c.abc"]), corpus_names(None)
    (['thesession-c.abc'], ['oneills1850', 'ryansMammoth'])
    """
    if not corpus:
        return list(EMBEDDED_CORPUS)
    sources = [corpus] if isinstance(corpus, str) else list(corpus)
    return [os.path.basename(os.path.normpath(str(s))) for s in sources]


def lm_evaluation(args: argparse.Namespace, results: dict[str, Any]) -> Evaluation:
    """The validation of a MeasureNote run, for its card's ``model-index`` (no figure: an
    empty validation split, and no ``model-index``)."""
    names = corpus_names(args.corpus)
    return Evaluation(
        task_type="text-generation",
        task_name="ABC language modelling",
        dataset_name=f"{', '.join(names)} (validation split)",
        dataset_type="+".join(names),
        split="validation",
        figures={k: results[k] for k in LM_FIGURES if k in results},
    )


def retrieval_evaluations(args: argparse.Namespace, results: dict[str, Any]) -> list[Evaluation]:
    """The retrieval protocols a tune-title run scored (those with ``{protocol}_queries`` in
    ``results``), for its card's ``model-index``."""
    names = corpus_names(args.corpus)
    evaluations = []
    for protocol, (queries, split) in PROTOCOL_DATA.items():
        if f"{protocol}_queries" not in results:
            continue
        keys = [f"{protocol}_{k}" for k in RETRIEVAL_FIGURES]
        evaluations.append(
            Evaluation(
                task_type="feature-extraction",
                task_name=f"Tune-title retrieval ({protocol} tunes)",
                dataset_name=f"{', '.join(names)} ({queries})",
                dataset_type="+".join(names),
                split=split,
                figures={k: results[k] for k in keys if k in results},
            )
        )
    return evaluations


def _metric_type(key: str) -> str:
    """The `METRIC_TYPES` entry of an all_results.json key, found by its ending.

    >>> _metric_type("known_r_at_10"), _metric_type("eval_nll_dur")
    ('recall', 'nll')
    """
    for suffix in sorted(METRIC_TYPES, key=len, reverse=True):
        if key.endswith(suffix):
            return METRIC_TYPES[suffix]
    raise ValueError(f"model card: no metric type for the figure {key!r} (see METRIC_TYPES)")


def eval_results(evaluations: Sequence[Evaluation]) -> list[EvalResult]:
    """The `EvalResult` of each figure of ``evaluations``, its value exactly as recorded and
    its name the all_results.json key; figures that are no finite number (``None``, NaN: the
    Hub's metadata check refuses them) are left out here and stay in the card's table."""
    from huggingface_hub import EvalResult

    results = []
    for evaluation in evaluations:
        for key, value in evaluation.figures.items():
            finite = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not finite or not math.isfinite(value):
                continue
            results.append(
                EvalResult(
                    task_type=evaluation.task_type,
                    task_name=evaluation.task_name,
                    dataset_type=evaluation.dataset_type,
                    dataset_name=evaluation.dataset_name,
                    dataset_split=evaluation.split,
                    metric_type=_metric_type(key),
                    metric_name=key,
                    metric_value=value,
                )
            )
    return results


def front_matter(
    *,
    license: str,
    tags: Sequence[str],
    pipeline_tag: str | None = None,
    base_model: str | None = None,
    model_name: str | None = None,
    evaluations: Sequence[Evaluation] = (),
) -> str:
    """The card's YAML front matter, ``---`` lines included: licence, ``library_name``
    transformers, tags, the pipeline tag, the base model (a Hub repository id: the Hub refuses
    a card whose ``base_model`` names none), and a ``model-index`` named ``model_name`` with the
    figures of ``evaluations`` (none without a figure)."""
    from huggingface_hub import ModelCardData

    results = eval_results(evaluations)
    data = ModelCardData(
        license=license,
        library_name="transformers",
        tags=list(tags),
        pipeline_tag=pipeline_tag,
        base_model=base_model,
        model_name=model_name if results else None,
        eval_results=results or None,
    )
    return f"---\n{data.to_yaml()}\n---"
