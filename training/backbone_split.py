"""What the MeasureNote backbone of a tune-title run (``--measurenote_path``) trained on: its
data split, compared with the run's (recorded in its folder, `data_split_record`), and
how many of the run's evaluation queries its training split held."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from training.common import SPLIT_FLAGS, process_logger
from training.run_folder import cache_folder, run_flag_changes
from training.run_record import recorded_data_split

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

logger = process_logger(__name__)


def backbone_split(
    args: argparse.Namespace, *, by_name: bool = False
) -> tuple[str, list[str], dict[str, Any] | None]:
    """How the data split of the ``--measurenote_path`` backbone compares with this run's:
    ``("same", [], record)``, ``("different", changes, record)`` (``changes``: ``--flag
    backbone's (now this run's)`` for each `SPLIT_FLAGS` flag that differs; ``by_name``: the
    ``--corpus`` files named by file name, for the card and all_results.json, which are
    uploaded: the log gives the paths whole), or ``("unknown", [], None)`` when the backbone
    records no data split (a MeasureNote trained before runs recorded one, or not by
    train.py). The record is the one the backbone's run kept in its
    folder (`recorded_data_split`, corpus paths whole), else its all_results.json's
    ``data_split`` (corpus files by name only since runs kept the other, so another corpus
    to this run's paths: a folder downloaded from the Hub).

    The tune-title holdout and the unseen queries come from this run's split: on the same split
    the backbone's language-model training included the known-protocol query settings (their
    notes, not their titles) and no validation tune; on another, it may have included the
    unseen protocol's queries.

    >>> backbone_split(argparse.Namespace(measurenote_path="no/such/folder"))
    ('unknown', [], None)
    """
    record = recorded_data_split(args.measurenote_path)  # corpus paths whole: see below
    if record is None:  # no local record: all_results.json's (by name only since runs kept one)
        try:
            path = os.path.join(args.measurenote_path, "all_results.json")
            with open(path, encoding="utf-8") as handle:
                record = json.load(handle).get("data_split")
        except (OSError, ValueError, AttributeError):
            record = None
    if not isinstance(record, dict) or not set(SPLIT_FLAGS) <= record.keys():
        return "unknown", [], None
    changes = run_flag_changes(_split_flags(record), args, by_name=by_name)
    changes += fingerprint_changes(record, args)
    return ("different" if changes else "same"), changes, record


def fingerprint_changes(record: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """How the data the backbone read differs from this run's, by their fingerprints
    (`training.data.data_fingerprint`, the backbone's in its `record`, this run's as
    ``args.data_fingerprint`` once its data is read): the same split flags on an edited corpus
    file make other splits. Nothing when either is missing (before this run reads its data, or
    a backbone that records none).

    >>> record = {"fingerprint": {"splits": {"train": {"tunes": 2, "sha256": "a"}},
    ...                           "vocabulary": {"values": 9, "sha256": "v"}}}
    >>> now = {"splits": {"train": {"tunes": 2, "sha256": "b"}},
    ...        "vocabulary": {"values": 9, "sha256": "v"}}
    >>> fingerprint_changes(record, argparse.Namespace(data_fingerprint=now))
    ['the data it read: its train split held other tunes (2, as now)']
    >>> now["splits"]["valid"] = {"tunes": 1, "sha256": "c"}
    >>> record["fingerprint"]["splits"]["valid"] = {"tunes": 2, "sha256": "d"}
    >>> print(*fingerprint_changes(record, argparse.Namespace(data_fingerprint=now)))  # once
    the data it read: its train split held other tunes (2, as now), its valid split had 2
    tunes (now 1)
    >>> fingerprint_changes(record, argparse.Namespace())
    []
    """
    from training.run_resume import data_changes

    saved, now = record.get("fingerprint"), getattr(args, "data_fingerprint", None)
    if not isinstance(saved, dict) or not isinstance(now, dict):
        return []
    changes = data_changes(saved, now)  # one sentence: the card joins the items with "; "
    return [f"the data it read: {', '.join(changes)}"] if changes else []


def _split_flags(record: dict[str, Any]) -> dict[str, Any]:
    """The `SPLIT_FLAGS` of a backbone's data-split record."""
    return {name: record[name] for name in SPLIT_FLAGS}


def warn_of_backbone_split(args: argparse.Namespace) -> None:
    """Warn, before any data is read, when the backbone may have trained on this run's
    unseen-protocol queries: it records another data split, or none (`backbone_split`)."""
    from training.arguments import (
        say_on_first_process,
    )  # arguments imports this module (tune_title_arguments')

    if not args.measurenote_path:
        return
    status, changes, _ = backbone_split(args)
    if status == "same":
        return
    if status == "different":
        why = f"was trained on another data split ({'; '.join(changes)})"
    else:
        why = "records no data split (no data_split in its all_results.json)"
    say_on_first_process(
        f"train.py: warning: --measurenote_path {args.measurenote_path} {why}: its "
        "language-model training may have included this run's unseen-protocol queries "
        "(validation tunes), so the unseen_* figures may not be leak-free; the run counts them "
        "where it can (backbone_seen_unseen_queries in all_results.json)"
    )


def backbone_training_settings(
    args: argparse.Namespace, splits: DatasetDict
) -> set[tuple[str, ...]] | None:
    """The settings (`setting_key`) of the backbone's training split: this run's training
    split when the backbone recorded the same data split, else its split made again from its
    record (`load_abc_corpus` with the backbone's corpus and split flags); None when it records
    none, or its corpus cannot be read here."""
    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.tune_title_data import setting_key
    from tokenization.dataset import column_values

    status, changes, record = backbone_split(args)
    if record is None:
        return None
    train = splits["train"]
    if status == "different" and not run_flag_changes(_split_flags(record), args):
        # the same flags gave other splits (an edited corpus file): what the backbone read is
        # gone, and making its split again would give this run's
        logger.warning("the backbone's training split cannot be made again: %s", "; ".join(changes))
        return None
    if status == "different":
        try:
            train = load_abc_corpus(
                record["corpus"],
                split_ratios=record["split_ratios"],
                seed=record["split_seed"],
                cache_dir=cache_folder(args),
                link_incipits=record["link_incipits"],
                require_bars_fit=record["require_bars_fit"],
                split_method=record["split_method"],
            )["train"]
            train = _as_the_backbone_read(args, train, record)
        except (OSError, ValueError) as err:  # its corpus moved, or is not on this machine
            logger.warning("the backbone's training split could not be made again: %s", err)
            return None
        if train is None:  # its corpus was edited since: the split made again is another
            logger.warning(
                "the backbone's training split cannot be made again: its corpus gives other "
                "training tunes under its split flags than it read (edited since it trained)"
            )
            return None
    titles, texts = column_values(train, "title"), column_values(train, "abc")  # one read each
    return {setting_key(t, a) for t, a in zip(titles, texts)}


def _as_the_backbone_read(
    args: argparse.Namespace, train: Dataset, record: dict[str, Any]
) -> Dataset | None:
    """`train`, the backbone's training split made again from its corpus and split flags, as
    its run trained on it: tokenized with its tokenizer, less the longest tunes when its
    ``--max_length`` dropped some (as many as its recorded fingerprint's count says), then
    checked against that fingerprint (`training.data.split_fingerprint`). None when they differ:
    the corpus was edited since, and the split made again holds other tunes than it read. A
    record without a fingerprint (a backbone trained before runs kept one) is taken at its word."""
    from tokenization.dataset import tokenize_dataset
    from tokenization.tokenization_abc import AbcTokenizer
    from training.data import split_fingerprint

    fingerprint = record.get("fingerprint")
    saved = fingerprint.get("splits", {}).get("train") if isinstance(fingerprint, dict) else None
    if not isinstance(saved, dict) or not isinstance(saved.get("tunes"), int):
        return train
    tokenizer = AbcTokenizer.from_pretrained(args.measurenote_path)
    num_proc = getattr(args, "num_proc", None)
    tokenized = tokenize_dataset(train, tokenizer, num_proc=num_proc, cache_dir=cache_folder(args))
    kept = _without_the_longest(tokenized, saved["tunes"])
    return kept if kept is not None and split_fingerprint(kept) == saved else None


def _without_the_longest(tokenized: Dataset, tunes: int) -> Dataset | None:
    """The ``tunes`` shortest tunes of ``tokenized``, in their order, as a ``--max_length``
    keeps them (every tune up to a length); None when no length keeps that many.

    >>> from datasets import Dataset
    >>> rows = Dataset.from_dict({"length": [5, 9, 3, 9]})
    >>> list(_without_the_longest(rows, 2)["length"]), _without_the_longest(rows, 3)
    ([5, 3], None)
    """
    import numpy as np

    from tokenization.dataset import column_array

    lengths = column_array(tokenized, "length")
    if len(lengths) == tunes:
        return tokenized
    if not 0 < tunes < len(lengths):
        return None
    kept = np.flatnonzero(lengths <= np.sort(lengths)[tunes - 1])
    return tokenized.select(kept) if len(kept) == tunes else None


def count_backbone_seen(
    seen: set[tuple[str, ...]] | None, name: str, split: Any, indices: Sequence[int]
) -> dict[str, int]:
    """``backbone_seen_{name}_queries``: how many of a protocol's ``{name}_eval_settings``
    queries (the settings written to retrieval_eval/{name}.abc) were in the backbone's training
    split (`backbone_training_settings`), logged (a warning for unseen queries: their figures
    are not leak-free); nothing when that split is not known."""
    from modeling_irish.tune_title_data import setting_key

    if seen is None:
        return {}
    rows = [split[int(i)] for i in indices]
    count = sum(setting_key(row["title"], row["abc"]) in seen for row in rows)
    if name == "unseen" and count:
        logger.warning(
            "the MeasureNote backbone's training split held %d of the %d unseen-protocol queries "
            "(retrieval_eval/unseen.abc): it saw their notes, so the unseen_* figures are not "
            "leak-free",
            count,
            len(indices),
        )
    else:
        logger.info(
            "the MeasureNote backbone's training split held %d of the %d %s-protocol queries "
            "(their notes, not their titles)",
            count,
            len(indices),
            name,
        )
    return {f"backbone_seen_{name}_queries": count}


__all__ = [
    "backbone_split",
    "backbone_training_settings",
    "count_backbone_seen",
    "fingerprint_changes",
    "warn_of_backbone_split",
]
