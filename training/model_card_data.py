"""The sentences of a model card's Training data section: the corpus sources, what the loader
read and left out, the split rule, and the tokenizer's drops and values read as ``<unk>``; and
the flags that shaped the data, which both cards' hyper-parameter tables give
(`training.model_card` writes the cards)."""

from __future__ import annotations

import argparse
from typing import Any

from tokenization.capped_warnings import counted
from training.model_card_metadata import corpus_names

__all__ = [
    "DATA_FLAGS",
    "corpus_filters",
    "corpus_text",
    "drop_text",
    "read_sizes_text",
    "run_split_rule",
    "split_rule",
    "unknown_note",
]

_EMBEDDED = "music21's O'Neill's 1850 and Ryan's Mammoth collections"


def split_rule(
    ratios: tuple[float, float, float] = (0.9, 0.05, 0.05),
    method: str = "shuffle",
    seed: int = 0,
    link_incipits: int = 0,
) -> str:
    """The model card's sentence on the split, with the run's ``--split_ratios``,
    ``--split_method``, ``--split_seed`` and ``--link_incipits``.

    >>> split_rule((8, 1, 1))[:55]
    'Tunes are split 80/10/10 into train/validation/test by '
    >>> "shuffled with seed 7" in split_rule(seed=7)
    True
    >>> "or the same first 24 notes" in split_rule(link_incipits=24)
    True
    >>> "or the same first 1 note (" in split_rule(link_incipits=1)
    True
    """
    total = sum(ratios)
    shares = "/".join(f"{100 * r / total:g}" for r in ratios)
    keys = "a thesession tune id, a normalised title or an identical body"
    if link_incipits > 0:
        keys = (
            f"a thesession tune id, a normalised title, an identical body or the same first "
            f"{counted(link_incipits, 'note')} (`--link_incipits {link_incipits}`)"
        )
    linked = (
        f"Tunes are split {shares} into train/validation/test by `load_abc_corpus` "
        f"(`--split_method {method} --split_seed {seed}`): tunes sharing {keys} are linked, and "
    )
    if method == "hash":
        return linked + (
            f"each linked group goes whole to a split chosen by a hash of its own keys, seeded "
            f"with {seed} ({shares} in expectation), so no tune, title or body is in two splits "
            "and a tune keeps its split in a larger version of the corpus."
        )
    return linked + (
        f"the linked groups are shuffled with seed {seed} and cut {shares} (each whole), so no "
        "tune, title or body is in two splits and each split has the same mix of popular and "
        "rare tunes."
    )


def corpus_filters(args: argparse.Namespace, corpus_report: dict[str, Any]) -> str:
    """The card's sentence on the tunes the corpus loader read and left out, from its report
    (``load_abc_corpus``'s), with the tunes ``--require_bars_fit`` skipped counted apart.

    >>> from modeling_irish.abc_corpus import BARS_SKIP_REASON
    >>> run = argparse.Namespace(require_bars_fit=True)
    >>> report = {"read": 12, "skipped": 3, "duplicates": 1, "skip_reasons": {BARS_SKIP_REASON: 2}}
    >>> corpus_filters(run, report)  # doctest: +NORMALIZE_WHITESPACE
    'The loader read 12 tunes and skipped 3 (2 of them with a full bar that does not fit the
     meter: `--require_bars_fit`); 1 duplicate dropped.'
    """
    from modeling_irish.abc_corpus import BARS_SKIP_REASON

    if "read" not in corpus_report:
        return ""
    skipped = f"skipped {corpus_report['skipped']}"
    if getattr(args, "require_bars_fit", False):
        bars = corpus_report.get("skip_reasons", {}).get(BARS_SKIP_REASON, 0)
        skipped += (
            f" ({bars} of them with a full bar that does not fit the meter: `--require_bars_fit`)"
        )
    duplicates = corpus_report.get("duplicates", 0)
    return (
        f"The loader read {corpus_report['read']} tunes and {skipped}; {duplicates} "
        f"duplicate{'s' * (duplicates != 1)} dropped."
    )


def corpus_text(corpus: str | list[str] | None) -> str:
    """The ``--corpus`` sources as the card names them: file names (a reader of the card has
    not got the trainer's paths), or the embedded default.

    >>> corpus_text(["../shared/data/thesession-c.abc", "oneills1850"])
    '`thesession-c.abc`, `oneills1850`'
    >>> corpus_text(None)
    "music21's O'Neill's 1850 and Ryan's Mammoth collections"
    """
    if not corpus:
        return _EMBEDDED
    return ", ".join(f"`{name}`" for name in corpus_names(corpus))


def run_split_rule(args: argparse.Namespace, data_report: dict | None = None) -> str:
    """`split_rule` for a run's flags, after `corpus_filters` of its corpus report."""
    rule = split_rule(
        args.split_ratios,
        getattr(args, "split_method", "shuffle"),
        getattr(args, "split_seed", 0),
        getattr(args, "link_incipits", 0),
    )
    filters = corpus_filters(args, (data_report or {}).get("corpus", {}))
    return f"{filters} {rule}" if filters else rule


#: The flags that shaped a run's data, in both cards' hyper-parameter tables.
DATA_FLAGS = ("split_seed", "split_method", "link_incipits", "require_bars_fit")


def read_sizes_text(tokenize_report: dict, untitled: bool = False) -> str:
    """Both cards' sentence on the tunes per split, in the same words: as the tokenizer read
    them, before its drops (`drop_text`, the sentence after) and, on a tune-title card
    (``untitled``), with the untitled tunes it then leaves out; "" without a report.

    >>> read_sizes_text({"train": {"tunes": 5}, "validation": {"tunes": 2}})
    'Tunes per split as read, before the drops below: train 5, validation 2.'
    >>> read_sizes_text({"train": {"tunes": 5}}, untitled=True)
    'Tunes per split as read, before the drops below and with the untitled ones: train 5.'
    """
    if not tokenize_report:
        return ""
    sizes = ", ".join(f"{split} {counts['tunes']}" for split, counts in tokenize_report.items())
    before = "before the drops below" + (" and with the untitled ones" if untitled else "")
    return f"Tunes per split as read, {before}: {sizes}."


def drop_text(tokenize_report: dict, max_length: int | None = None) -> str:
    """The card's sentence on the tunes the tokenizer left out (``unreadable``, or ``too_long``:
    over ``max_length``, `--max_length`), in all and per split; "" without a report.

    >>> counts = {"tunes": 9, "unreadable": 1, "too_long": 2}
    >>> drop_text({"train": counts, "validation": {**counts, "too_long": 0}}, 512)
    ... # doctest: +NORMALIZE_WHITESPACE
    'The tokenizer left out 4 tunes: train 1 unreadable and 2 longer than `--max_length`
     (512 rows); validation 1 unreadable.'
    >>> drop_text({"train": {"tunes": 5, "unreadable": 0, "too_long": 0}})
    'The tokenizer left out no tune.'
    """
    if not tokenize_report:
        return ""
    said, total = [], 0
    for split, counts in tokenize_report.items():
        unreadable, too_long = counts.get("unreadable", 0), counts.get("too_long", 0)
        total += unreadable + too_long
        reasons = [f"{unreadable} unreadable"] if unreadable else []
        if too_long:
            cut = f" ({counted(max_length, 'row')})" if max_length else ""
            reasons.append(f"{too_long} longer than `--max_length`{cut}")
        if reasons:
            said.append(f"{split} {' and '.join(reasons)}")
    if not total:
        return "The tokenizer left out no tune."
    return f"The tokenizer left out {counted(total, 'tune')}: {'; '.join(said)}."


def unknown_note(tokenize_report: dict) -> str:
    """The card's sentence on the splits with values the vocabulary lacks (read as ``<unk>``,
    and a ``main`` or ``dur`` target scored as ``<unk>``: in the validation NLL), per split and
    feature with the rows and tunes holding one, or nothing.

    >>> unknown_note({"validation": {"unknown": {"dur": {"rows": 4, "tunes": 1}}}})
    ' Values the vocabulary lacks (read as <unk>): validation `dur` in 4 rows of 1 tune.'
    >>> unknown_note({"train": {"unknown": {}}})
    ''
    """
    said = []
    for split, counts in tokenize_report.items():
        features = [
            f"`{feature}` in {counted(n['rows'], 'row')} of {counted(n['tunes'], 'tune')}"
            for feature, n in (counts.get("unknown") or {}).items()
        ]
        if features:
            said.append(f"{split} {', '.join(features)}")
    if not said:
        return ""
    return f" Values the vocabulary lacks (read as <unk>): {'; '.join(said)}."
