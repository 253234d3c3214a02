"""A tune-title card's sentences on its final retrieval evaluation (what each protocol scored,
and the command that scores it again) and on what a transferred MeasureNote backbone saw of its
queries (`training.model_card` writes the cards)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["backbone_text", "note_count_text", "retrieval_command", "retrieval_text"]


def note_count_text(count: int, template: str) -> str:
    """``template`` with a note count, or "whole tunes" for 0 (``--crop_notes 0``,
    ``--eval_excerpt_notes 0``).

    >>> note_count_text(30, "random {}-note crops"), note_count_text(0, "random {}-note crops")
    ('random 30-note crops', 'whole tunes')
    """
    return template.format(count) if count else "whole tunes"


def retrieval_command(
    args: argparse.Namespace, folder: str = "DIR", protocol: str = "known"
) -> str:
    """The ``irish-tune evaluate-retrieval`` command that gives a tune-title run's figures of
    `protocol` (``known_*`` or ``unseen_*``) again: the run's excerpt length and seed, every
    other setting the command's default (the model's cosine, excerpts cut as written), as the
    run scored them.

    >>> retrieval_command(argparse.Namespace(eval_excerpt_notes=0)).split("--protocol ")[1]
    'known --excerpt-notes 0 --seed 0 --json'
    """
    from training.tune_title_retrieval import RETRIEVAL_EVAL_DIR, RETRIEVAL_EVAL_SEED

    files = f"{folder}/{RETRIEVAL_EVAL_DIR}"
    return (
        f"irish-tune evaluate-retrieval --model {folder} --train {files}/train.abc "
        f"--queries {files}/{protocol}.abc --protocol {protocol} --excerpt-notes "
        f"{args.eval_excerpt_notes} --seed {RETRIEVAL_EVAL_SEED} --json"
    )


#: What each protocol's metrics score, in a tune-title card (``{}``: the excerpts).
_PROTOCOL_TEXT = {
    "known": "`known_*` = {} of held-out settings of training tunes against every training title",
    "unseen": "`unseen_*` = {} of validation tunes against the validation titles",
}


def retrieval_text(args: argparse.Namespace, results: dict[str, Any]) -> str:
    """The card's sentences on the final retrieval evaluation, from the protocols whose
    metrics `results` holds (``{protocol}_queries``); a protocol without them is said to be
    not evaluated, with the reason the run recorded (``retrieval_eval_skipped``).

    >>> run = argparse.Namespace(eval_excerpt_notes=30)
    >>> retrieval_text(run, {"retrieval_eval_skipped": {"known": "--known_queries 0",
    ...     "unseen": "the validation split is empty"}})  # doctest: +NORMALIZE_WHITESPACE
    'The known-tunes protocol was not evaluated (--known_queries 0). The unseen-tunes protocol
     was not evaluated (the validation split is empty).'
    """
    queries = note_count_text(args.eval_excerpt_notes, "{}-note excerpts")
    done = [p for p in _PROTOCOL_TEXT if f"{p}_queries" in results]
    skipped = results.get("retrieval_eval_skipped", {})
    sentences = []
    if done:
        scored = "; ".join(_PROTOCOL_TEXT[p].format(queries) for p in done)
        sentences.append(f"Retrieval metrics: {scored}.")
    for protocol in _PROTOCOL_TEXT:
        if protocol not in done:
            why = skipped.get(protocol, "no figures recorded")
            sentences.append(f"The {protocol}-tunes protocol was not evaluated ({why}).")
    if done:
        other = f" (`{done[1]}.abc`, `--protocol {done[1]}`)" if len(done) > 1 else ""
        sentences.append(
            "The tunes they scored are in the training run's `retrieval_eval/` folder (not "
            f"uploaded); `{retrieval_command(args, protocol=done[0])}`{other} gives the same "
            "figures again."
        )
    return " ".join(sentences)


def backbone_text(args: argparse.Namespace, results: dict[str, Any]) -> str:
    """The card's sentence on what a transferred MeasureNote backbone (``--measurenote_path``)
    saw of the evaluation queries, from the run's ``backbone_split`` (``same``, ``different``
    or ``unknown``: `training.backbone_split.backbone_split`) and its counts of query
    settings in the backbone's training split (``backbone_seen_{protocol}_queries`` of
    ``{protocol}_eval_settings``); "" without a backbone.

    >>> run = argparse.Namespace(measurenote_path="lm")
    >>> backbone_text(run, {"backbone_split": "different", "backbone_split_changes":
    ...     ["--split_seed 1 (now 0)"], "backbone_seen_unseen_queries": 28,
    ...     "unseen_eval_settings": 30})  # doctest: +NORMALIZE_WHITESPACE
    'The tune backbone (`--measurenote_path`) was trained on another data split, --split_seed 1
     (now 0): its language-model training held 28 of the 30 unseen-protocol query settings
     (their notes, not their titles), so the `unseen_*` figures are not leak-free.'
    """
    if not getattr(args, "measurenote_path", None):
        return ""
    status = results.get("backbone_split", "unknown")
    counted = [
        f"{results[f'backbone_seen_{p}_queries']} of the {results.get(f'{p}_eval_settings', '?')} "
        f"{p}-protocol"
        for p in ("known", "unseen")
        if f"backbone_seen_{p}_queries" in results
    ]
    held = f"held {' and '.join(counted)} query settings" if counted else ""
    if status == "same":
        return (
            "The tune backbone (`--measurenote_path`) was trained on the same corpus and split "
            "as this run: its language-model training included the known-protocol query "
            "settings (their notes, not their titles) and no validation tune"
            + (f" (it {held})" if held else "")
            + ", so the `unseen_*` figures are free of that leak and the `known_*` ones are not."
        )
    if status == "different":
        changes = "; ".join(results.get("backbone_split_changes", [])) or "unknown changes"
        unseen = results.get("backbone_seen_unseen_queries")
        if unseen is None:
            return (
                f"The tune backbone (`--measurenote_path`) was trained on another data split, "
                f"{changes}: its language-model training may have included the query settings "
                "of either protocol (their split could not be made again here), so the "
                "`unseen_*` figures are not known to be leak-free."
            )
        verdict = "are not leak-free" if unseen else "are free of that leak"
        return (
            f"The tune backbone (`--measurenote_path`) was trained on another data split, "
            f"{changes}: its language-model training {held} (their notes, not their titles), "
            f"so the `unseen_*` figures {verdict}."
        )
    return (
        "The tune backbone (`--measurenote_path`) records no data split: its language-model "
        "training may have included the query settings of either protocol (their notes), so "
        "neither the `known_*` nor the `unseen_*` figures are known to be free of that leak."
    )
