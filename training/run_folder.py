"""A run's output folder: atomic checkpoints and model saves, and what a checkpoint records (the
flags and data a resumed run must share with it). The record of the files a run wrote there
(``run_files.json``) and clearing an earlier run by it: `training.run_record`, whose names are
re-exported here. Resuming from a checkpoint: `training.run_resume`; a folder's checkpoints and
the checks that refuse one: `training.checkpoints`; the learning curve read back:
`training.run_log`."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from irish_tune.json_output import json_safe
from irish_tune.value_checks import link_problem
from tokenization.file_cleanup import discard_folder
from training.checkpoint_digests import write_weights_digests
from training.common import (
    SECRET_FLAGS,
    SPLIT_FLAGS,
    UsageError,
    parse_config_overrides,
    process_logger,
    save_bars_on_terminal_only,
    write_json,
    writing,
)

# re-exported: the run record's names were this module's, and callers and tests read them here
from training.run_record import RUN_FILES as RUN_FILES
from training.run_record import clear_earlier_run as clear_earlier_run
from training.run_record import forget_removed_files as forget_removed_files
from training.run_record import read_run_files as read_run_files
from training.run_record import record_data_split as record_data_split
from training.run_record import record_run_files as record_run_files
from training.run_record import recorded_data_split as recorded_data_split
from training.run_record import removed_run_files as removed_run_files
from training.run_record import unrecorded_clashes as unrecorded_clashes
from training.run_resume import TRAINING_STATE_FILE, checkpoint_names

# re-exported: callers and tests read checkpoints and resume through this module
from training.run_resume import latest_checkpoint as latest_checkpoint
from training.run_resume import read_training_state as read_training_state
from training.run_resume import resume_state as resume_state

if TYPE_CHECKING:
    from accelerate import Accelerator

logger = process_logger(__name__)  # accelerate's: warns once, from the main process


def save_checkpoint(accelerator: Any, output_dir: str, name: str, state: dict[str, Any]) -> str:
    """`accelerator.save_state` into ``output_dir/name``, atomically.

    Every process writes into a temporary folder (model, optimizer, RNG states, plus the
    weights' sha256 as ``weights_sha256.json``, checked before a resume loads them, and
    ``state`` as ``training_state.json``); the main process then renames it, so a run killed
    mid-save never leaves a half-written ``step_N`` that "latest" would pick up. A full or
    read-only disk is a `WriteError` naming the temporary folder (or the file that failed).
    The replaced checkpoint (``.old-<name>``) that cannot be deleted is named in a warning and
    left (`discard_folder`); one left by an earlier run in the way of the rename is that
    warning, then the rename's error. A run stopped between the two renames (old aside, new
    in) leaves the old one as ``.old-<name>``, which the next run in the folder puts back
    (`training.checkpoints.put_back_replaced_checkpoints`).
    """
    with writing(os.path.join(output_dir, f".tmp-{name}")):
        return _save_checkpoint(accelerator, output_dir, name, state)


def _save_checkpoint(accelerator: Any, output_dir: str, name: str, state: dict[str, Any]) -> str:
    """`save_checkpoint`, its errors as they come."""
    final = os.path.join(output_dir, name)
    tmp = os.path.join(output_dir, f".tmp-{name}")
    if accelerator.is_main_process:
        record_run_files(output_dir, [name, f".tmp-{name}", f".old-{name}"])
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(tmp)
    # every process has written its part (its random_states_<i>.pkl) before the rename: a late
    # one would otherwise write into a .tmp- folder it made again, leaving the checkpoint
    # without its random state (save_state ends without a barrier)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        state = {**state, "num_processes": accelerator.num_processes}  # see `resume_state`
        write_weights_digests(tmp)  # checked before a resume loads them (`damaged_file`)
        write_json(os.path.join(tmp, TRAINING_STATE_FILE), state)
        old = os.path.join(output_dir, f".old-{name}")
        if os.path.exists(final):
            discard_folder(old)  # left by a run killed after its last rename (named if stuck)
            os.replace(final, old)
        os.replace(tmp, final)
        discard_folder(old)  # the checkpoint replaced: one that will not go is named
    accelerator.wait_for_everyone()
    return final


def epoch_checkpoint_name(epoch: int, completed: int, steps_per_epoch: int) -> str:
    """The name of the checkpoint ``--checkpointing_steps epoch`` saves at the end of epoch
    ``epoch`` (0-based) after ``completed`` updates: ``epoch_N`` when the epoch is complete,
    ``step_{completed}`` when the run stopped inside it (``--max_train_steps`` or
    ``--max_train_minutes``), which ``epoch_N`` would misname as done. Resuming either goes by
    the updates it records, not its name.

    >>> epoch_checkpoint_name(1, 6, 3), epoch_checkpoint_name(2, 7, 3)
    ('epoch_1', 'step_7')
    """
    return f"epoch_{epoch}" if completed == (epoch + 1) * steps_per_epoch else f"step_{completed}"


def save_model(
    model: Any, output_dir: str, accelerator: Any, *, with_pipeline: bool = False
) -> None:
    """``model.save_pretrained(output_dir)``, each file written aside and renamed into place,
    so that a run killed while saving never leaves a half-written ``model.safetensors`` over
    a good one (checkpoints are atomic the same way, `save_checkpoint`). A full or read-only
    disk is a `WriteError` naming the file, or the staging folder. A staging folder that cannot
    be deleted, before the save or after it, is named in a warning and left (`discard_folder`).
    ``with_pipeline`` (a MeasureNote model) saves the ``abc-generation`` pipeline with it
    (`modeling_irish.pipeline_abc.carry_pipeline`), so that ``pipeline(model=folder,
    trust_remote_code=True)`` picks that task, on the Hub too. transformers' ``Writing model
    shards`` bar is drawn only on a terminal (`save_bars_on_terminal_only`)."""
    staging = os.path.join(output_dir, ".tmp-model")
    with writing(staging), save_bars_on_terminal_only():
        _save_model(model, staging, output_dir, accelerator, with_pipeline)


def _save_model(
    model: Any, staging: str, output_dir: str, accelerator: Any, with_pipeline: bool = False
) -> None:
    """`save_model` through ``staging``, its errors as they come."""
    if accelerator.is_main_process:
        record_run_files(output_dir, [os.path.basename(staging)])
        discard_folder(staging)  # a killed save's; one that will not go is named
    accelerator.wait_for_everyone()
    if with_pipeline:
        from modeling_irish.pipeline_abc import carry_pipeline

        carry_pipeline(model, staging, write_code=accelerator.is_main_process)
    model.save_pretrained(
        staging, is_main_process=accelerator.is_main_process, save_function=accelerator.save
    )
    # save_pretrained makes the folder in every process: a late one would make it again after
    # the main process had published and deleted it (an empty .tmp-model left behind)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        _publish(staging, output_dir)
    accelerator.wait_for_everyone()


def save_tokenizer(tokenizer: Any, output_dir: str) -> None:
    """``tokenizer.save_pretrained(output_dir)`` (main process only), written aside first as
    `save_model` writes the model, so that `RUN_FILES` records every file it saves (its
    source files for ``trust_remote_code`` included) before they are in the folder."""
    staging = os.path.join(output_dir, ".tmp-tokenizer")
    with writing(staging), save_bars_on_terminal_only():
        record_run_files(output_dir, [os.path.basename(staging)])
        discard_folder(staging)  # a killed save's; one that will not go is named
        tokenizer.save_pretrained(staging)
        _publish(staging, output_dir)


def _publish(staging: str, output_dir: str) -> None:
    """Rename every file of ``staging`` into ``output_dir`` (a folder replaced whole), once
    `RUN_FILES` records their names; then delete ``staging``."""
    names = sorted(os.listdir(staging))
    record_run_files(output_dir, names)
    for name in names:
        target = os.path.join(output_dir, name)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)  # a folder (title_tokenizer/) is replaced whole
        os.replace(os.path.join(staging, name), target)
    discard_folder(staging)  # emptied: one that will not go is named in a warning


#: Flags that fix the model's shape or the data it trains on: a resumed run may not change them.
#: The batch shape is one: a checkpoint's update count is where the run is in its epoch only in
#: updates of that many tunes (other sizes would skip tunes, or train on some twice).
RUN_FLAGS = (
    "task",
    # the resume position counts batches of this shape, in the order the seed draws
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "seed",
    *SPLIT_FLAGS,
    "preset",
    "config_overrides",
    "max_length",
    "tune_encoder",
    "title_encoder",
    "title_max_length",
    "finetune_title_encoder",
    "freeze_backbone",
    "measurenote_path",
    "projection_dim",
    "loss_type",
    "hinge_margin",  # the model's config records it: a resumed run trains with the run's
    "crop_notes",
    "settings_per_group",
    "known_queries",  # the holdout: which pairs train
)


def run_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The `RUN_FLAGS` of a run, as JSON values (corpus paths made absolute), for its checkpoints.

    >>> run_flags(argparse.Namespace(task="measurenote", preset="small", split_ratios=(8, 1, 1)))
    {'task': 'measurenote', 'split_ratios': [8, 1, 1], 'preset': 'small'}
    """
    flags = {name: getattr(args, name) for name in RUN_FLAGS if hasattr(args, name)}
    return _json_flags(_absolute_paths(flags))


def _json_flags(flags: dict[str, Any], **options: Any) -> dict[str, Any]:
    """``flags`` as the JSON values a checkpoint records them as (``options``: `json.dumps`'s).
    A NaN or infinite value is a `ValueError` naming the flag: no flag takes one (the flags'
    checks, `training.arguments`, refuse them), and it has no JSON value (strict JSON writes it
    as null, which reads back as another value), nor equals itself (NaN != NaN), so that a
    resume would find the flag changed.

    >>> _json_flags({"split_ratios": (8, 1, 1), "hinge_margin": float("inf")})
    Traceback (most recent call last):
    ValueError: --hinge_margin must be a finite number, got inf
    """
    found: list[str] = []
    json_safe(flags, found)
    if found:
        name = found[0].split(".")[0].split("[")[0]
        raise ValueError(f"--{name} must be a finite number, got {_shown(name, flags[name])}")
    return json.loads(json.dumps(flags, allow_nan=False, **options))


def absolute_sources(corpus: str | Sequence[str] | None) -> list[str] | None:
    """``--corpus`` as a list of sources, the paths among them made absolute (a source that is
    no path, such as ``oneills1850``, kept; ``None``, the default corpus, kept): one spelling,
    so that a run and its resumption from another folder share one corpus cache entry.

    >>> absolute_sources("oneills1850"), absolute_sources(None)
    (['oneills1850'], None)
    """
    if corpus is None:
        return None
    sources = [corpus] if isinstance(corpus, str) else list(corpus)
    return [os.path.abspath(s) if os.path.exists(s) else s for s in sources]


def _absolute_paths(flags: dict[str, Any]) -> dict[str, Any]:
    """``flags`` with the paths of `PATH_FLAGS` made absolute (a corpus as a list of sources,
    see `absolute_sources`), so that a checkpoint's run is resumed, and compared, from any
    working directory."""
    flags = dict(flags)
    if flags.get("corpus") is not None:
        flags["corpus"] = absolute_sources(flags["corpus"])
    for name in PATH_FLAGS[1:]:
        if flags.get(name) is not None:
            flags[name] = os.path.abspath(flags[name])
    return flags


#: Flags that name files or folders (the corpus first): checkpoints record them absolute.
PATH_FLAGS = ("corpus", "measurenote_path", "cache_dir")


#: Flags a checkpoint does not record for a resumed run to take: where it is, which checkpoint to
#: resume, whether to start afresh, whether to upload at the end (asked anew by each run that
#: should upload, so that a run started with ``--push_to_hub`` resumes offline, and without
#: uploading, when it is not given again), and the Hub token (a secret, never written to disk);
#: and the record itself.
UNRECORDED_FLAGS = (
    "output_dir",
    "resume_from_checkpoint",
    "overwrite_output_dir",
    "push_to_hub",
    "ddp_timeout",  # how this launch waits, not what the run is: a resume takes its own
    "malloc_tuning",  # how this process allocates, not what the run is
    *SECRET_FLAGS,
    "recorded_flags",
)


def recorded_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Every flag of a run but `UNRECORDED_FLAGS`, as JSON values (paths absolute), for its
    checkpoints: a resumed run takes the ones it is not given
    (`training.arguments.inherit_checkpoint_flags`). `parse_args` keeps them as given, before
    defaults are derived, in ``args.recorded_flags``, which is then what this returns.

    >>> recorded_flags(argparse.Namespace(max_train_steps=300, hub_token="x", push_to_hub=True))
    {'max_train_steps': 300}
    """
    if isinstance(getattr(args, "recorded_flags", None), dict):
        return args.recorded_flags
    flags = {k: v for k, v in vars(args).items() if k not in UNRECORDED_FLAGS}
    return _json_flags(_absolute_paths(flags), default=str)


def run_flag_changes(
    saved: dict[str, Any], args: argparse.Namespace, *, by_name: bool = False
) -> list[str]:
    """``--flag saved (now value)`` for each run flag a checkpoint was saved with that this run
    sets otherwise (flags a checkpoint does not record are not compared); ``by_name``: the
    ``--corpus`` files named by file name only, for what is uploaded (the model card,
    all_results.json), which must not give the trainer's paths. The values are compared whole
    either way."""
    now = run_flags(args)
    return [
        f"--{name} {_shown(name, saved[name], by_name)} (now {_shown(name, now[name], by_name)})"
        for name in saved
        if name in now and not _same_flag(name, saved[name], now[name])
    ]


def _shown(name: str, value: Any, by_name: bool = False) -> str:
    """A run flag's value as a message shows it: no ``--corpus`` is the default books;
    ``by_name``: the ``--corpus`` files by file name, without their folders.

    >>> _shown("corpus", None), _shown("split_seed", 1)
    ("the default (music21's oneills1850, ryansMammoth)", '1')
    >>> _shown("corpus", ["/home/me/tunes.abc", "oneills1850"], by_name=True)
    "['tunes.abc', 'oneills1850']"
    """
    if name == "corpus" and not value:
        return "the default (music21's oneills1850, ryansMammoth)"
    if name == "corpus" and by_name:
        sources = [value] if isinstance(value, (str, os.PathLike)) else value
        value = [os.path.basename(os.path.normpath(str(source))) for source in sources]
    return repr(value)


def same_recorded_flag(name: str, saved: Any, now: Any) -> bool:
    """Whether a flag's parsed value ``now`` is the ``saved`` one a checkpoint recorded
    (`recorded_flags`): compared as the JSON value the checkpoint would record (a tuple as a
    list, a path absolute), by `_same_flag`.

    >>> same_recorded_flag("split_ratios", [0.9, 0.05, 0.05], (0.9, 0.05, 0.05))
    True
    """
    now = _json_flags(_absolute_paths({name: now}), default=str)[name]
    return _same_flag(name, saved, now)


def _same_flag(name: str, saved: Any, now: Any) -> bool:
    """Equal values of a run flag; ``--config_overrides`` compared as the settings they make,
    so that another order or spacing of one set of overrides is the same run; and
    ``--split_ratios`` as the shares they make (they are divided by their sum), so that
    ``18 1 1`` resumes a run of ``0.9 0.05 0.05``.

    >>> _same_flag("split_ratios", [0.9, 0.05, 0.05], [18.0, 1.0, 1.0])
    True
    """
    if name == "split_ratios" and saved != now:
        shares = _shares(saved)
        return shares is not None and shares == _shares(now)
    if name == "config_overrides" and saved != now:
        try:
            return parse_config_overrides(saved) == parse_config_overrides(now)
        except ValueError:  # a saved value the parser refuses: compared as text
            return False
    return saved == now


def _shares(ratios: Any) -> list[float] | None:
    """``--split_ratios`` divided by their sum, rounded off past float noise (None: not numbers
    with a positive sum, the same as another value only as written).

    >>> _shares([8, 1, 1])
    [0.8, 0.1, 0.1]
    """
    try:
        total = math.fsum(ratios)
        return [round(r / total, 12) for r in ratios] if total > 0 else None
    except (TypeError, ValueError):
        return None


def shown_names(names: Sequence[str], most: int = 6) -> str:
    """``names`` for a one-line message, the first ``most`` and how many more.

    >>> shown_names(["a", "b", "c"], most=2)
    'a, b and 1 more'
    """
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def start_run_folder(args: argparse.Namespace, accelerator: Accelerator) -> None:
    """Make the output folder ready for the run: the earlier run cleared (`clear_earlier_run`,
    a fresh start only), the folder made, and `RUN_FILES` started with what the run writes
    from its first update on (its log, its trackers' folder). A folder that cannot be made is
    a `UsageError`, not a traceback."""
    clear_earlier_run(args, accelerator)  # the corpus is accepted: now the earlier run may go
    if accelerator.is_main_process:
        make_folder(args.output_dir, "--output_dir")
        first = ["train_log.jsonl", *([args.task] if args.with_tracking else [])]
        record_run_files(args.output_dir, first)
    accelerator.wait_for_everyone()


def make_folder(path: str, flag: str, default: bool = False) -> None:
    """`os.makedirs` of ``path`` (given as ``flag``, or its ``default``); a failure (no
    permission, a read-only file system, a file in the way, a symbolic link that leads
    nowhere: `irish_tune.value_checks.link_problem`) is a one-line `UsageError` naming the
    flag.

    >>> make_folder(__file__ + "/sub", "--output_dir")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training.errors.UsageError: --output_dir .../sub: cannot make the folder (Not a directory)
    """
    shown = f"{flag} (default {path})" if default else f"{flag} {path}"
    problem = link_problem(path)
    if problem:  # makedirs would say no more than "File exists"
        raise UsageError(f"{shown}: cannot make the folder: {problem}")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise UsageError(f"{shown}: cannot make the folder ({err.strerror or err})") from err


def cache_folder(args: argparse.Namespace) -> str:
    """The run's cache folder: ``--cache_dir``, by default ``.cache`` beside the output folder.

    >>> cache_folder(argparse.Namespace(cache_dir=None, output_dir="/r/runs/a"))
    '/r/runs/.cache'
    """
    return args.cache_dir or os.path.join(
        os.path.dirname(os.path.abspath(args.output_dir)), ".cache"
    )


__all__ = [
    "RUN_FILES",
    "TRAINING_STATE_FILE",
    "UNRECORDED_FLAGS",
    "UsageError",
    "absolute_sources",
    "cache_folder",
    "checkpoint_names",
    "clear_earlier_run",
    "epoch_checkpoint_name",
    "forget_removed_files",
    "latest_checkpoint",
    "make_folder",
    "read_run_files",
    "read_training_state",
    "record_data_split",
    "record_run_files",
    "recorded_data_split",
    "removed_run_files",
    "recorded_flags",
    "resume_state",
    "run_flag_changes",
    "run_flags",
    "same_recorded_flag",
    "save_checkpoint",
    "save_model",
    "save_tokenizer",
    "shown_names",
    "start_run_folder",
    "unrecorded_clashes",
]
