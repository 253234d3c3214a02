"""The final retrieval evaluation of a tune-title run: its query sets for the known-tunes and
unseen-tunes protocols, the tunes written to OUTPUT_DIR/retrieval_eval/ and scored from there (as
``irish-tune evaluate-retrieval`` scores them), and the figures a resumed run takes from the log
of the run it resumes rather than evaluating them again."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from accelerate.logging import get_logger

from training.backbone_split import backbone_training_settings, count_backbone_seen
from training.common import writing
from training.run_log import logged_record
from training.run_record import record_run_files

if TYPE_CHECKING:  # annotations only: the real imports stay lazy
    from datasets import DatasetDict

    from tokenization.tokenization_abc import AbcTokenizer

logger = get_logger(__name__)

#: Subfolder of the output folder holding the tunes of the final retrieval evaluation (kept out
#: of the Hub upload: data, not the model).
RETRIEVAL_EVAL_DIR = "retrieval_eval"
#: Seed of the excerpt starts of the final retrieval evaluation; the model card's
#: ``irish-tune evaluate-retrieval`` command passes it as ``--seed``.
RETRIEVAL_EVAL_SEED = 0


def write_queries(path: str, split: Any, indices: Sequence[int]) -> None:
    """The ABC texts of `split[indices]` as one file, a blank line between tunes, numbered
    ``X:1``, ``X:2``... in order: tunes of several sources (O'Neill's and Ryan's both start at
    X:1) would share numbers, and every command reading the file warned about it."""
    from tokenization.dataset import column_values

    abc = column_values(split, "abc")  # one read, not a row formatted per index
    texts = [_numbered(abc[i].strip(), n) for n, i in enumerate(indices, 1)]
    with writing(path), open(path, "w", encoding="utf-8") as handle:
        handle.write("\n\n".join(texts) + "\n")


def _numbered(text: str, number: int) -> str:
    """``text`` with its ``X:`` line (the first) made ``X:number``; one added if it has none.

    >>> _numbered("X:12\\nT:Cooley's", 1), _numbered("T:The Kesh", 2)
    ("X:1\\nT:Cooley's", 'X:2\\nT:The Kesh')
    """
    numbered, found = _X_LINE.subn(f"X:{number}", text, count=1)
    return numbered if found else f"X:{number}\n{text}"


#: The reference-number line of a tune.
_X_LINE = re.compile(r"^X:[^\n]*", re.M)


def known_eval_queries(train: Any, args: argparse.Namespace, held: list[int], n: int) -> list[int]:
    """The `n` known-tune queries the final evaluation scores: those `known_tune_holdout` picks
    with `max_queries=n` (the holdout's first `n` draws, a random subset of `held`), not the `n`
    of `held` that come first in the corpus (on thesession, the lowest tune ids: the oldest,
    most played tunes, with the most settings)."""
    from modeling_irish.tune_title_data import known_tune_holdout
    from tokenization.dataset import column_values

    if n >= len(held):
        return held
    titles, tune_ids, texts = (column_values(train, name) for name in ("title", "tune_id", "abc"))
    queries = known_tune_holdout(titles, tune_ids, texts, seed=args.split_seed, max_queries=n)[1]
    if not set(queries) <= set(held):  # the holdout's draws are a prefix of a longer holdout's
        raise RuntimeError("known-tune evaluation queries outside the holdout")
    return queries


def retrieval_results(
    args: argparse.Namespace,
    model: torch.nn.Module,
    tokenizer: AbcTokenizer,
    splits: DatasetDict,
    train_keep: list,
    held: list[int],
) -> dict:
    """Both protocols on capped query sets: known (`known_eval_queries`:
    `--retrieval_eval_queries` of the holdout, drawn as the holdout draws) and unseen (as many
    validation tunes), against the training tunes the holdout leaves. They are scored from the
    files they are written to, OUTPUT_DIR/retrieval_eval/ (`train.abc`, `known.abc`,
    `unseen.abc`), so that `irish-tune evaluate-retrieval --model OUTPUT_DIR --train
    .../train.abc --queries .../known.abc --protocol known --excerpt-notes N --seed 0` (N:
    `--eval_excerpt_notes`, 0 for whole tunes; `retrieval_command`, the model card's) gives the
    same figures (all but `ms_per_query`). A protocol with no query to score is skipped with a
    warning that says why, under ``retrieval_eval_skipped`` (`protocol_query_sets`)."""
    from modeling_irish.retrieval_evaluation import evaluate_retrieval

    folder = os.path.join(args.output_dir, RETRIEVAL_EVAL_DIR)
    record_run_files(args.output_dir, [RETRIEVAL_EVAL_DIR])
    os.makedirs(folder, exist_ok=True)
    train = os.path.join(folder, "train.abc")
    write_queries(train, splits["train"], train_keep)
    results: dict[str, Any] = {}
    sets, skipped = protocol_query_sets(args, splits, held)
    seen = backbone_training_settings(args, splits) if args.measurenote_path else None
    for name, (split, indices) in sets.items():
        queries = os.path.join(folder, f"{name}.abc")
        write_queries(queries, split, indices)
        results[f"{name}_eval_settings"] = len(indices)  # before the protocol drops any
        results.update(count_backbone_seen(seen, name, split, indices))
        try:
            metrics = evaluate_retrieval(
                model, tokenizer, train, queries, name, args.eval_excerpt_notes, RETRIEVAL_EVAL_SEED
            )
        except ValueError as err:  # every query outside the protocol, or unreadable
            if not str(err).startswith("no usable queries"):
                raise
            skipped[name] = str(err)
            continue
        results.update(protocol_figures(name, metrics))
    for name, why in skipped.items():
        logger.warning("retrieval evaluation: the %s-tunes protocol is skipped: %s", name, why)
    if skipped:
        results["retrieval_eval_skipped"] = skipped
    return results


def protocol_figures(protocol: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures of one protocol's `evaluate_retrieval` ``metrics`` for all_results.json, each
    key prefixed with ``protocol``: its numbers, and those that are None (``mrr_at_20_stderr``
    of a single query), kept as JSON null for the card's ``n/a`` rather than left out; its
    words (``protocol``, ``scorer``) and ``dropped_reasons`` are the card's, not figures.

    >>> protocol_figures("unseen", {"queries": 1, "mrr_at_20_stderr": None, "scorer": "model"})
    {'unseen_queries': 1, 'unseen_mrr_at_20_stderr': None}
    """
    return {
        f"{protocol}_{k}": v for k, v in metrics.items() if v is None or isinstance(v, (int, float))
    }


def logged_retrieval(
    args: argparse.Namespace, splits: DatasetDict, held: list[int], step: int
) -> dict:
    """The final retrieval figures that the run this one resumes logged for update ``step``
    (the train_log.jsonl record naming ``*_eval_settings``), with ``retrieval_eval_skipped``, when
    they are those `retrieval_results` would give: the same protocols, query counts and
    ``--eval_excerpt_notes``, every protocol scored. ``{}`` otherwise: not resuming, no such
    record (the run it resumes trained on past ``step``), or other evaluation flags."""
    if args.resume_from_checkpoint is None or not step:
        return {}
    logged = logged_record(os.path.join(args.output_dir, "train_log.jsonl"), step, "_eval_settings")
    sets, skipped = protocol_query_sets(args, splits, held)
    settings = {
        k.removesuffix("_eval_settings"): v
        for k, v in logged.items()
        if k.endswith("_eval_settings")
    }
    if not sets or settings != {name: len(indices) for name, (_, indices) in sets.items()}:
        return {}
    if any(
        f"{name}_queries" not in logged  # skipped when evaluated (no usable queries): why is lost
        or logged.get(f"{name}_excerpt_notes") != args.eval_excerpt_notes
        for name in sets
    ):
        return {}
    return {**logged, **({"retrieval_eval_skipped": skipped} if skipped else {})}


def protocol_query_sets(
    args: argparse.Namespace, splits: DatasetDict, held: list[int]
) -> tuple[dict[str, tuple[Any, Sequence[int]]], dict[str, str]]:
    """``{protocol: (split, query indices)}`` of the final retrieval evaluation, and
    ``{protocol: why}`` for a protocol that has no query (naming the flag that left it none)."""
    n = args.retrieval_eval_queries
    sets: dict[str, tuple[Any, Sequence[int]]] = {}
    skipped: dict[str, str] = {}
    known = known_eval_queries(splits["train"], args, held, n)
    if known:
        sets["known"] = (splits["train"], known)
    elif args.known_queries == 0:
        skipped["known"] = "--known_queries 0 holds out no setting to query"
    else:
        skipped["known"] = (
            f"no training tune has a setting whose title another of its settings carries, so "
            f"the holdout (--known_queries {args.known_queries}) has no query"
        )
    if len(splits["validation"]):
        sets["unseen"] = (splits["validation"], range(min(n, len(splits["validation"]))))
    else:
        ratios = " ".join(f"{r:g}" for r in args.split_ratios)
        skipped["unseen"] = f"the validation split is empty (--split_ratios {ratios})"
    return sets, skipped


__all__ = [
    "RETRIEVAL_EVAL_DIR",
    "RETRIEVAL_EVAL_SEED",
    "known_eval_queries",
    "logged_retrieval",
    "retrieval_results",
    "write_queries",
]
