"""Command-line flags of `training/train.py` and their checks: every bad value ends the run with
argparse's one-line error (exit status 2) naming the flag, before any data is read (the checks
of single values, config overrides, corpus sources, trackers, folders, are `argument_checks`')."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

from irish_tune.arg_types import DefaultsHelpFormatter, VersionAction, shown_source
from training import tune_title_arguments
from training.argument_checks import (  # report_to_list...: re-exported (`__all__`)
    check_config_overrides,
    corpus_source_problem,
    folder_path_problem,
    hub_model_id_problem,
    report_to_list,
    tracker_problem,
)
from training.common import (
    UsageError,
    moot_flags,
    parse_config_overrides,
)
from training.run_folder import (
    UNRECORDED_FLAGS,
    cache_folder,
    recorded_flags,
    run_flag_changes,
    same_recorded_flag,
    shown_names,
)
from training.run_record import RUN_FILES, read_run_files, unrecorded_clashes
from training.run_resume import (
    TRAINING_STATE_FILE,
    check_same_processes,
    checkpoint_names,
    latest_checkpoint,
    no_checkpoint_error,
    put_back_replaced_checkpoints,
    read_training_state,
)

__all__ = [
    "DEFAULT_DDP_TIMEOUT",
    "DEFAULT_MAX_TRAIN_STEPS",
    "DEFAULT_OUTPUT_DIRS",
    "TASKS",
    "UsageError",
    "build_parser",
    "corpus_source_problem",
    "first_process",
    "launched_processes",
    "parse_args",
    "report_to_list",
    "tracker_problem",
    "say_on_first_process",
]

DESCRIPTION = "Train MeasureNote (or, via `--task`, the tune-title model) with accelerate."
TASKS = ("measurenote", "tune_title")
#: ``--output_dir`` of each task when the flag is not given.
DEFAULT_OUTPUT_DIRS = {"measurenote": "runs/measurenote-small", "tune_title": "runs/tune-title"}
#: Default budget of a bare `accelerate launch training/train.py` (a few minutes on 2 CPU cores).
DEFAULT_MAX_TRAIN_STEPS = 300
#: ``--ddp_timeout``: torch's default process-group timeout (30 minutes), transformers' too.
DEFAULT_DDP_TIMEOUT = 1800


# fmt: off
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags (snake_case, as in transformers' ``run_*_no_trainer.py``); a resumed
    run takes the flags it is not given from its checkpoint (`inherit_checkpoint_flags`)."""
    p = build_parser()
    args = p.parse_args(argv)
    _output_dir_of_checkpoint(args)
    # before anything looks for checkpoints: one a stopped save had renamed aside is there again
    put_back_replaced_checkpoints(args.output_dir or DEFAULT_OUTPUT_DIRS[args.task])
    given = _given_flags(argv)
    p.from_checkpoint = inherit_checkpoint_flags(args, given)  # its refusals name the file
    _check_task_flags(args, given)
    # as given, before the checks derive defaults (--max_train_steps from --num_train_epochs...),
    # and recorded once the checks have refused what JSON cannot hold (a NaN flag) by name
    given_args = argparse.Namespace(**vars(args))
    _check_args(args, p)
    tune_title_arguments.check_arguments(args, p)
    args.recorded_flags = recorded_flags(given_args)
    _check_resume_matches(args, p)
    return args


def _output_dir_of_checkpoint(args: argparse.Namespace) -> None:
    """``--resume_from_checkpoint D/step_N`` without ``--output_dir`` goes on in ``D``, the
    checkpoint's own run folder, not in the task's default folder (where it would write over,
    and mix checkpoints with, whatever run is there)."""
    resume = args.resume_from_checkpoint
    if args.output_dir is None and resume not in (None, "latest"):
        args.output_dir = os.path.dirname(os.path.normpath(resume)) or "."


def first_process() -> bool:
    """Whether this is the first process of a launch (or the only one): the flags are read
    before accelerate starts, by every process of a multi-process launch (which sets
    ``RANK``), and only the first should print what they all meet."""
    return os.environ.get("RANK", "0") == "0"


class _LaunchParser(argparse.ArgumentParser):
    """An argument parser whose errors, ``--help`` and ``--version`` print from the first process
    only: every process of a multi-process launch reads the flags, and each printed the same
    text. All exit with the same status (2 for an error, 0 for ``--help`` and ``--version``).
    An error that refuses a flag whose value a resumed checkpoint gave (``from_checkpoint``,
    set by `parse_args`) names that checkpoint's file (`_from_checkpoint_note`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: flag name -> the ``training_state.json`` whose recorded value it took on resuming
        self.from_checkpoint: dict[str, str] = {}

    def error(self, message: str) -> NoReturn:
        if first_process():
            super().error(message + _from_checkpoint_note(message, self.from_checkpoint))
        self.exit(2)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        """argparse's one way out for usage, help, version and errors: the first process's."""
        if first_process():
            super()._print_message(message, file)


def _from_checkpoint_note(message: str, from_checkpoint: dict[str, str]) -> str:
    """What to add to the error ``message`` (`_LaunchParser.error`), which begins with the flag
    it refuses (``--max_grad_norm must be > 0, got nan``), when that flag's value was not given
    but taken from a resumed checkpoint (a hand-edited one, say): where it came from, and that
    giving the flag replaces it; ``""`` for any other error.

    >>> _from_checkpoint_note("--max_grad_norm must be > 0, got nan",
    ...     {"max_grad_norm": "run/step_2/training_state.json"})
    ' (the value recorded in run/step_2/training_state.json, the checkpoint resumed: give --max_grad_norm to replace it)'
    >>> _from_checkpoint_note("--seed must be ...", {"max_grad_norm": "x"})
    ''
    """  # noqa: E501
    refused = re.match(r"--(\w+)", message)
    if refused is None or refused[1] not in from_checkpoint:
        return ""
    where = from_checkpoint[refused[1]]
    return (
        f" (the value recorded in {where}, the checkpoint resumed: give --{refused[1]} to "
        "replace it)"
    )


def build_parser() -> _LaunchParser:
    """The parser of `parse_args`."""
    # every flag's default shown after its help, unless the help already gives it
    p = _LaunchParser(description=DESCRIPTION, formatter_class=DefaultsHelpFormatter)
    add = p.add_argument
    add("--version", action=VersionAction)
    add("--task", choices=TASKS, default="measurenote", help="Which model to train.")
    # data
    add("--corpus", "--train_file", dest="corpus", nargs="+", default=None,
        help="Sources for load_abc_corpus (tunebook, folder, thesession dump, 'oneills1850', "
             "'ryansMammoth'); default: both music21 books.")
    add("--split_ratios", type=float, nargs=3, default=(0.9, 0.05, 0.05),
        metavar=("TRAIN", "VALIDATION", "TEST"),
        help="Train/validation/test shares of the corpus, in tunes; divided by their sum, so "
             "'8 1 1' is '0.8 0.1 0.1'. A 0 leaves that split empty; the train share must be > 0.")
    add("--split_seed", type=int, default=0, help="Seed of the corpus split.")
    add("--split_method", choices=("shuffle", "hash"), default="shuffle",
        help="'shuffle' (default): the linked tune groups are shuffled and cut, exact shares, "
             "but a corpus with tunes added or removed is split anew. 'hash': each group goes "
             "by a hash of its own keys, so tunes keep their split when the corpus grows.")
    add("--link_incipits", type=int, default=0,
        help="Also keep tunes whose first N notes match (one melody under two tune ids and "
             "titles) in one split; e.g. 24. Default: 0, off.")
    add("--require_bars_fit", action="store_true",
        help="Skip (and count) tunes with a full bar that does not fit the meter "
             "(irish-tune check --bars).")
    add("--cache_dir", default=None,
        help="Cache of corpus, vocabulary and tokenized splits (default: <output_dir>/../.cache).")
    add("--max_length", type=int, default=None, help="Drop (and count) tunes with more rows.")
    add("--num_proc", type=int, default=None, help="Processes for tokenization.")
    add("--key_augmentation", action="store_true",
        help="Transpose each training tune by a random -5..+6 semitones every epoch.")
    # model
    add("--preset", choices=("small", "base"), default="small", help="Model size.")
    add("--config_overrides", default=None,
        help='MeasureNoteConfig overrides (with --task tune_title: of its backbone), e.g. '
             '"note_hidden_size=128,measure_num_heads=4"; an unknown key is refused.')
    # optimisation (defaults: reference-measurenote.md 5.2)
    add("--per_device_train_batch_size", type=int, default=32, help="Tunes per batch, process.")
    add("--per_device_eval_batch_size", type=int, default=32, help="Validation batch size.")
    add("--learning_rate", type=float, default=3e-4, help="Peak Adam learning rate.")
    add("--weight_decay", type=float, default=0.0, help="Decoupled decay of matrices (0: Adam).")
    add("--lr_scheduler_type", choices=("step", "cosine", "constant"), default="step",
        help="step: multiply the lr by --lr_gamma every --lr_step_size updates.")
    add("--lr_step_size", type=int, default=10_000, help="Updates per lr step.")
    add("--lr_gamma", type=float, default=0.5, help="Factor of each lr step.")
    add("--num_warmup_steps", type=int, default=0,
        help="Linear warmup updates (warned when not below the run's updates: the lr would "
             "never leave its warmup).")
    add("--max_grad_norm", type=float, default=1.0, help="Gradient clipping norm.")
    add("--max_train_steps", type=int, default=None,
        help=f"Optimizer updates (default: {DEFAULT_MAX_TRAIN_STEPS}, or as many as "
             "--num_train_epochs takes when only that is given; with both, the first reached).")
    add("--num_train_epochs", type=int, default=None,
        help="Epochs over the training split (alone: the budget; with --max_train_steps: a cap).")
    add("--max_train_minutes", type=float, default=None,
        help="Also stop after this much training time (validation excluded; a resumed run "
             "spends what its checkpoint left of it); > 0.")
    add("--gradient_accumulation_steps", type=int, default=1, help="Batches per update.")
    add("--mixed_precision", choices=("no", "fp16", "bf16"), default=None,
        help="Autocast precision (bf16 runs on recent CPUs; fp16 needs a GPU: on the CPU it "
             "trains in float32, with a warning). Default: `accelerate launch "
             "--mixed_precision` or the accelerate config, else no; a resumed run keeps its "
             "checkpoint's.")
    add("--seed", type=int, default=42, help="Seed of init, dropout, batch order, augmentation.")
    # checkpoints, evaluation, logging, outputs
    add("--output_dir", default=None,
        help="Where everything is written; a run starting afresh first deletes what an earlier "
             "run recorded writing there (run_files.json), and nothing else (see "
             "--overwrite_output_dir) (default: runs/measurenote-small, or runs/tune-title with "
             "--task tune_title; with --resume_from_checkpoint D/step_N, D).")
    add("--overwrite_output_dir", action="store_true",
        help="Start afresh in an --output_dir that holds an earlier run's checkpoints, or files "
             "this run would write over that no run recorded as its own (README.md, "
             "config.json...; both refused without this flag): those are deleted first. A run "
             "that starts afresh always deletes the outputs an earlier run recorded; files no "
             "run writes stay.")
    add("--checkpointing_steps", default=None,
        help="Save the state every N updates (step_N) or at each epoch's end, 'epoch' "
             "(epoch_N; step_N for an epoch the run stops inside).")
    add("--resume_from_checkpoint", nargs="?", const="latest", default=None,
        help="Checkpoint folder (step_N/epoch_N) to resume, into its own run folder unless "
             "--output_dir names one that holds no run; no value or 'latest': the newest "
             "one of output_dir (refused when it has none: drop the flag to start afresh). "
             "One older than its folder's newest trains on only into such another folder. "
             "Flags not given are the checkpoint's run's; those that shaped the model or data "
             "cannot change.")
    add("--eval_steps", type=int, default=100, help="Validate every N updates (0: at the end).")
    add("--logging_steps", type=int, default=10,
        help="Log the train loss every N updates (their mean), which the progress bar shows "
             "as 'loss (mean of N)' and all_results.json reports at the end as "
             "train_loss_last (train_loss_last_updates: how many updates it averages). A "
             "checkpoint keeps the losses not yet logged: --checkpointing_steps and resuming "
             "leave the learning curve as it is.")
    add("--with_tracking", action="store_true", help="Log to the --report_to trackers.")
    add("--report_to", default="tensorboard",
        help="accelerate tracker(s), comma-separated: tensorboard, wandb, mlflow... or 'all' "
             "(each must be installed).")
    add("--no_malloc_tuning", dest="malloc_tuning", action="store_false",
        help="Leave malloc as it is. By default a run on the CPU (glibc Linux) keeps the large "
             "blocks a step frees in the heap (mmap and trim thresholds raised: fewer page "
             "faults, training ~10%% faster, peak memory ~7%% higher; docs/BENCHMARKS.md), "
             "unless MALLOC_*_ or GLIBC_TUNABLES already tune it.")
    add("--ddp_timeout", type=int, default=DEFAULT_DDP_TIMEOUT,
        help="Seconds a process of a multi-process launch waits for the others at a barrier "
             "or gradient all-reduce before it stops with an error naming the timeout (torch's "
             f"process-group timeout; default: {DEFAULT_DDP_TIMEOUT}, torch's own, as in "
             "transformers' Trainer). Raise it when the main process alone reads a large "
             "corpus for longer; lower it to see a stuck launch sooner.")
    add("--push_to_hub", action="store_true",
        help="Upload output_dir to the Hub at the end. Asked for by each run: a resumed run "
             "uploads only when given it again (it takes --hub_model_id from its checkpoint).")
    add("--hub_model_id", default=None,
        help="Hub repository, e.g. user/measurenote-small, or a bare name for one in the "
             "token's own namespace (uploaded to only with --push_to_hub).")
    add("--hub_token", default=None, help="Hub token (default: the cached login).")
    tune_title_arguments.add_arguments(p)
    return p


# fmt: on
#: Flags that must be >= 1, >= 1 when given (None: unset), and >= 0.
_AT_LEAST_ONE = (
    "per_device_train_batch_size",
    "per_device_eval_batch_size",
    "gradient_accumulation_steps",
    "lr_step_size",
    "logging_steps",
    "ddp_timeout",
)
_AT_LEAST_ONE_IF_SET = ("num_train_epochs", "max_length", "num_proc")
_AT_LEAST_ZERO = ("num_warmup_steps", "eval_steps", "link_incipits", "weight_decay")
#: Float flags, which must also be finite.
_FLOATS = (
    "learning_rate",
    "weight_decay",
    "lr_gamma",
    "max_grad_norm",
    "max_train_minutes",
    "hinge_margin",
)


def _check_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Sanity checks of the parsed flags, all before any data is read: a bad value ends the run
    with argparse's one-line error (exit status 2) naming the flag and the value."""
    if args.output_dir is None:
        args.output_dir = DEFAULT_OUTPUT_DIRS[args.task]
    for flag in ("output_dir", "cache_dir"):
        if getattr(args, flag) is not None and not getattr(args, flag).strip():
            parser.error(f"--{flag} is empty: give a folder (or leave the flag out)")
    _check_numbers(args, parser)
    steps = args.checkpointing_steps
    if steps is not None and steps != "epoch":
        if not steps.isdigit() or int(steps) < 1:
            parser.error(
                f"--checkpointing_steps must be a positive integer or 'epoch', got {steps!r}"
            )
        args.checkpointing_steps = int(steps)
    if args.push_to_hub and not args.hub_model_id:
        parser.error("--push_to_hub needs --hub_model_id")
    problem = hub_model_id_problem(args.hub_model_id)
    if problem:
        parser.error(f"--hub_model_id {args.hub_model_id!r}: {problem}")
    if args.with_tracking:
        problem = tracker_problem(args.report_to)
        if problem:
            parser.error(f"--report_to {args.report_to}: {problem}")
    ratios = args.split_ratios
    shown = " ".join(f"{r:g}" for r in ratios)
    if not math.isfinite(sum(ratios)):
        parser.error(f"--split_ratios must be finite numbers, got {shown}")
    if min(ratios) < 0 or ratios[0] <= 0:
        parser.error(f"--split_ratios must be non-negative with a train share > 0, got {shown}")
    if args.config_overrides:
        try:
            check_config_overrides(parse_config_overrides(args.config_overrides), args.preset)
        except ValueError as err:
            parser.error(f"--config_overrides {args.config_overrides!r}: {err}")
    _check_paths(args, parser)
    if args.corpus is not None and len(args.corpus) == 1:
        args.corpus = args.corpus[0]


def _check_numbers(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Ranges of the numeric flags (``None`` keeps its meaning: unset)."""
    epochs = args.num_train_epochs
    if epochs is not None and not epochs >= 1:  # before it sets the default budget below
        parser.error(f"--num_train_epochs must be >= 1, got {epochs}")
    if args.max_train_steps is None:  # 0: as many updates as --num_train_epochs takes
        args.max_train_steps = DEFAULT_MAX_TRAIN_STEPS if args.num_train_epochs is None else 0
    if args.max_train_steps < 0:
        steps = args.max_train_steps
        parser.error(f"--max_train_steps must be >= 1 (or 0 with --num_train_epochs), got {steps}")
    if not args.max_train_steps and not args.num_train_epochs:
        parser.error("--max_train_steps 0 trains for --num_train_epochs, which is not set")
    for names, low in ((_AT_LEAST_ONE, 1), (_AT_LEAST_ONE_IF_SET, 1), (_AT_LEAST_ZERO, 0)):
        for name in names:
            value = getattr(args, name)
            if value is not None and not value >= low:  # `not >=` also refuses nan
                parser.error(f"--{name} must be >= {low}, got {value}")
    for name in ("seed", "split_seed"):  # numpy's seeds (set_seed; known_tune_holdout's rng);
        value = getattr(args, name)  # random.Random took -1 as 1: a split the card misnamed
        if not 0 <= value < 2**32:
            parser.error(f"--{name} must be from 0 to 2**32 - 1, got {value}")
    for name in ("learning_rate", "max_grad_norm", "lr_gamma", "max_train_minutes"):
        value = getattr(args, name)
        if value is not None and not value > 0:  # `not >` also refuses nan
            parser.error(f"--{name} must be > 0, got {value}")
    for name in _FLOATS:  # inf: an lr of inf after the first --lr_step_size updates, and so on
        value = getattr(args, name, None)
        if value is not None and not math.isfinite(value):
            parser.error(f"--{name} must be a finite number, got {value}")
    margin = getattr(args, "hinge_margin", None)
    if margin is not None and not 0 <= margin <= 2:  # cosines differ by 2 at most
        parser.error(
            f"--hinge_margin must be from 0 to 2, got {margin:g} (a margin of -2 or less "
            "makes every hinge 0, and nothing trains)"
        )


#: Flags only `--task measurenote` uses, and what the tune-title task does instead.
_MEASURENOTE_ONLY = {
    "key_augmentation": "its crops are not transposed",
    "eval_steps": "it is evaluated once, at the end, by retrieval (--retrieval_eval_queries)",
    "per_device_eval_batch_size": "its retrieval evaluation embeds one query at a time",
}


#: Flags only `--task tune_title` uses (its argument group).
_TUNE_TITLE_ONLY = (
    "crop_notes", "tune_encoder", "title_encoder", "finetune_title_encoder", "freeze_backbone",
    "measurenote_path", "loss_type", "settings_per_group", "hinge_margin", "projection_dim",
    "known_queries", "eval_excerpt_notes", "retrieval_eval_queries",
)  # fmt: skip


def _check_task_flags(args: argparse.Namespace, given: set[str]) -> None:
    """Say so when a flag is given that the run ignores: one of the other task's, or one the
    chosen options make moot, or ``--hub_model_id`` without ``--push_to_hub`` (which names the
    repository in the model card, but uploads nothing: transformers' `TrainingArguments` take
    it without a word) (a warning, not an error, so that one launcher script can pass the
    same flags to both tasks and every setting)."""
    if args.task != "tune_title":
        for name in sorted(set(_TUNE_TITLE_ONLY) & given):
            say_on_first_process(
                f"train.py: --{name} is for --task tune_title; --task {args.task} ignores it"
            )
    else:
        for name in sorted(_MEASURENOTE_ONLY.keys() & given):
            say_on_first_process(
                f"train.py: --{name} is for --task measurenote; the tune-title task ignores it "
                f"({_MEASURENOTE_ONLY[name]})"
            )
    for name, why in moot_flags(args).items():
        if name in given:
            say_on_first_process(f"train.py: --{name} is ignored here ({why})")
    if "hub_model_id" in given and not args.push_to_hub:
        # a bare name is user/name once uploaded; no whoami is asked without --push_to_hub
        named = (
            args.hub_model_id if "/" in args.hub_model_id else f"<your-user>/{args.hub_model_id}"
        )
        say_on_first_process(
            f"train.py: --hub_model_id {args.hub_model_id} uploads nothing without --push_to_hub: "
            f"the run is saved in {args.output_dir} only (its model card names "
            f"{named} as the model's path; a resume given --push_to_hub uploads there)"
        )


def say_on_first_process(message: str) -> None:
    """A note on stderr, from the first process only (`first_process`)."""
    if first_process():
        print(message, file=sys.stderr)


def _given_flags(argv: list[str] | None) -> set[str]:
    """The ``dest`` of every flag on the command line (parsed again with no defaults)."""
    probe = build_parser()
    for action in probe._actions:
        action.default = argparse.SUPPRESS
    given, _ = probe.parse_known_args(sys.argv[1:] if argv is None else argv)
    return set(vars(given))


def inherit_checkpoint_flags(args: argparse.Namespace, given: set[str]) -> dict[str, str]:
    """With ``--resume_from_checkpoint``, give every flag the command line leaves out its value in
    the checkpoint's run (`recorded_flags`), so that ``--output_dir D --resume_from_checkpoint``
    goes on as that run would have: same budget, schedule, checkpoints and tracking. Prints the
    flags taken, as ``--name value``, and returns each flag it set with the checkpoint's
    ``training_state.json`` (for the checks' errors: a hand-edited file's NaN is refused naming
    it). ``given``: the flags on the command line (`_given_flags`). Checkpoints that record no
    flags (older ones) change nothing."""
    if args.resume_from_checkpoint is None:
        return {}
    path = args.resume_from_checkpoint
    if path == "latest":
        path = latest_checkpoint(args.output_dir or DEFAULT_OUTPUT_DIRS[args.task])
    state_file = os.path.join(path, TRAINING_STATE_FILE) if path is not None else ""
    if not os.path.isfile(state_file):
        return {}  # a fresh start, or an error of `_check_paths`
    recorded = read_training_state(path).get("args", {})
    taken, inherited = [], {}
    for name, value in recorded.items():
        if name in given or not hasattr(args, name) or name in UNRECORDED_FLAGS:
            continue
        now = getattr(args, name)
        if same_recorded_flag(name, value, now):
            continue
        setattr(args, name, value)
        inherited[name] = state_file
        # said only when this command line alone would give the run another value
        if not same_recorded_flag(name, value, _effective_default(name, now)):
            taken.append(f"--{name} {value}")
    if taken:
        say_on_first_process(f"Resuming {path} with its run's {', '.join(taken)}")
    return inherited


def _effective_default(name: str, value: Any) -> Any:
    """The value an unset flag takes once the run starts: ``--mixed_precision`` left out is the
    launcher's precision (accelerate's ``ACCELERATE_MIXED_PRECISION``, else "no"; see
    `training.train.record_precision`), which a checkpoint records.

    >>> _effective_default("mixed_precision", "bf16"), _effective_default("seed", None)
    ('bf16', None)
    """
    if name == "mixed_precision" and value is None:
        return os.environ.get("ACCELERATE_MIXED_PRECISION", "no").lower()
    return value


def _check_resume_matches(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--resume_from_checkpoint`` needs a checkpoint (`no_checkpoint_error`), which resumes
    only under the flags that shaped its model and data (`RUN_FLAGS`, but those this run
    ignores, `moot_flags`): otherwise loading it would fail on mismatched tensor shapes, or
    quietly go on with other data or another model config. Checked before any data is read."""
    path = args.resume_from_checkpoint
    if path is None:
        return
    if path == "latest":
        path = latest_checkpoint(args.output_dir)
        if path is None:
            parser.error(no_checkpoint_error(args.output_dir))
    state = read_training_state(path)
    moot = moot_flags(args)  # ignored by this run (`_check_task_flags` says so): no change
    saved = {name: value for name, value in state.get("run", {}).items() if name not in moot}
    changes = run_flag_changes(saved, args)
    if changes:
        parser.error(
            f"--resume_from_checkpoint {path} was saved by a run with other settings: "
            f"{'; '.join(changes)}. Resume with the flags of that run"
        )
    try:  # refused here, before the corpus is read, and again once accelerate has started
        check_same_processes(path, state, launched_processes())
    except UsageError as error:
        parser.error(str(error))


def launched_processes() -> int:
    """The number of processes the launcher started, read from the environment as accelerate
    reads it (torchrun/accelerate's ``WORLD_SIZE``, MPI's sizes; 1 when none is set): the
    first of them set to a number >= 0, as `accelerate.utils.get_int_from_env` (not imported:
    it imports torch, and the flags are read before)."""
    keys = ["PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "WORLD_SIZE"]
    counts = (int(os.environ.get(key, -1)) for key in keys)
    return max(1, next((count for count in counts if count >= 0), 1))


def _check_paths(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Corpus sources that give tunes, output and cache folders that can be folders, and a
    ``--resume_from_checkpoint`` folder that holds a checkpoint."""
    for source in args.corpus or ():
        problem = corpus_source_problem(source)
        if problem:
            parser.error(f"--corpus {shown_source(source)}: {problem}")
    for flag in ("output_dir", "cache_dir"):
        path = getattr(args, flag)
        shown = path
        if flag == "cache_dir" and path is None:
            path = cache_folder(args)
            shown = f"(default {path})"
        problem = folder_path_problem(path)
        if problem:
            parser.error(f"--{flag} {shown}: {problem}")
    resume = args.resume_from_checkpoint
    tune_title_arguments.check_backbone_outside_output(args, parser)
    _check_fresh_output_dir(args, parser)
    if resume not in (None, "latest"):
        if os.path.isfile(resume):
            parser.error(f"--resume_from_checkpoint {resume}: {_file_not_checkpoint(resume)}")
        if not os.path.isdir(resume):
            parser.error(f"--resume_from_checkpoint {resume}: no such folder")
        if not os.path.isfile(os.path.join(resume, TRAINING_STATE_FILE)):
            parser.error(
                f"--resume_from_checkpoint {resume}: not a checkpoint (no {TRAINING_STATE_FILE}); "
                "give a step_N or epoch_N folder saved with --checkpointing_steps, or 'latest'"
            )


def _file_not_checkpoint(path: str) -> str:
    """Why the file ``path`` given to ``--resume_from_checkpoint`` is refused, and what to give:
    the checkpoint folder that holds it, when it is a file of one.

    >>> _file_not_checkpoint("no/such/step_2.bin").split(";")[0]
    'it is a file, not a checkpoint folder'
    """
    folder = os.path.dirname(os.path.normpath(path)) or "."
    if os.path.isfile(os.path.join(folder, TRAINING_STATE_FILE)):
        return f"it is a file, not a checkpoint folder; give the checkpoint holding it, {folder}"
    return (
        "it is a file, not a checkpoint folder; give a step_N or epoch_N folder saved with "
        "--checkpointing_steps, or 'latest'"
    )


def _check_fresh_output_dir(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """A run that starts afresh deletes what an earlier run recorded writing into
    ``--output_dir`` (`training.run_record.clear_earlier_run`), or else "latest" would resume
    that run's checkpoints and its records would mix with this run's. Checkpoints are that
    run's to resume, and files no run recorded as its own (the user's, or a run's saved before
    runs kept ``run_files.json``) are not the script's to replace, so their deletion must be
    asked for with ``--overwrite_output_dir`` (transformers' convention)."""
    if args.overwrite_output_dir and args.resume_from_checkpoint is not None:
        parser.error(
            "--overwrite_output_dir starts afresh, deleting the checkpoints that "
            "--resume_from_checkpoint would go on from: give one or the other"
        )
    if args.resume_from_checkpoint is not None:
        _check_resume_output_dir(args, parser)
        return
    if args.overwrite_output_dir:
        return
    checkpoints = checkpoint_names(args.output_dir)
    if checkpoints:
        shown = ", ".join(checkpoints[-3:])
        parser.error(
            f"--output_dir {args.output_dir} holds the checkpoints of an earlier run ({shown}): "
            "go on with it with --resume_from_checkpoint, start afresh with "
            "--overwrite_output_dir (which deletes that run's checkpoints and outputs), or give "
            "another --output_dir"
        )
    clashes = unrecorded_clashes(args.output_dir, args.task, args.with_tracking)
    if clashes:
        parser.error(
            f"--output_dir {args.output_dir} holds {shown_names(clashes)}, which this run would "
            f"write over and which no earlier run recorded as its own ({RUN_FILES}): give "
            "another --output_dir, or --overwrite_output_dir to replace them"
        )


def _check_resume_output_dir(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """A checkpoint resumes into its own run folder, or into a folder that holds no run: one
    that holds another run's checkpoints or outputs (or files of the user's that the run would
    write over) would end with two runs mixed in it, the other's model and log overwritten."""
    resume = args.resume_from_checkpoint
    if resume == "latest" or not os.path.isdir(resume):  # `_check_paths` refuses a missing one
        return
    own = os.path.dirname(os.path.normpath(resume)) or "."
    if os.path.realpath(own) == os.path.realpath(args.output_dir):
        return
    held = checkpoint_names(args.output_dir) + unrecorded_clashes(
        args.output_dir, args.task, args.with_tracking
    )
    recorded = read_run_files(args.output_dir)
    if recorded:
        held += [name for name in recorded if os.path.lexists(os.path.join(args.output_dir, name))]
    if held:
        parser.error(
            f"--resume_from_checkpoint {resume} is a checkpoint of the run in {own}, and "
            f"--output_dir {args.output_dir} holds another run's files "
            f"({shown_names(sorted(set(held)))}): leave --output_dir out to go on in {own}, or "
            "give a folder that holds no run"
        )
