"""A run's output folder: atomic checkpoints and model saves, what a checkpoint records (the
flags and data a resumed run must share with it), resuming from one, and clearing what an
earlier run left there."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from accelerate.logging import get_logger

from training.common import (
    SECRET_FLAGS,
    SPLIT_FLAGS,
    UsageError,
    parse_config_overrides,
    write_json,
)

if TYPE_CHECKING:
    from accelerate import Accelerator

logger = get_logger(__name__)  # accelerate's: warns once, from the main process


TRAINING_STATE_FILE = "training_state.json"


_CHECKPOINT_RE = re.compile(r"^(step|epoch)_(\d+)$")


def save_checkpoint(accelerator: Any, output_dir: str, name: str, state: dict[str, Any]) -> str:
    """`accelerator.save_state` into ``output_dir/name``, atomically.

    Every process writes into a temporary folder (model, optimizer, RNG states, plus ``state``
    as ``training_state.json``); the main process then renames it, so a run killed mid-save never
    leaves a half-written ``step_N`` that "latest" would pick up.
    """
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
        write_json(os.path.join(tmp, TRAINING_STATE_FILE), state)
        old = os.path.join(output_dir, f".old-{name}")
        if os.path.exists(final):
            shutil.rmtree(old, ignore_errors=True)  # left by a run killed after its last rename
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def save_model(model: Any, output_dir: str, accelerator: Any) -> None:
    """``model.save_pretrained(output_dir)``, each file written aside and renamed into place,
    so that a run killed while saving never leaves a half-written ``model.safetensors`` over
    a good one (checkpoints are atomic the same way, `save_checkpoint`)."""
    staging = os.path.join(output_dir, ".tmp-model")
    if accelerator.is_main_process:
        record_run_files(output_dir, [os.path.basename(staging)])
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
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
    record_run_files(output_dir, [os.path.basename(staging)])
    shutil.rmtree(staging, ignore_errors=True)
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
    shutil.rmtree(staging, ignore_errors=True)


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
    "finetune_title_encoder",
    "freeze_backbone",
    "measurenote_path",
    "projection_dim",
    "loss_type",
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
    return json.loads(json.dumps(_absolute_paths(flags)))


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
    return json.loads(json.dumps(_absolute_paths(flags), default=str))


def run_flag_changes(saved: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """``--flag saved (now value)`` for each run flag a checkpoint was saved with that this run
    sets otherwise (flags a checkpoint does not record are not compared)."""
    now = run_flags(args)
    return [
        f"--{name} {_shown(name, saved[name])} (now {_shown(name, now[name])})"
        for name in saved
        if name in now and not _same_flag(name, saved[name], now[name])
    ]


def _shown(name: str, value: Any) -> str:
    """A run flag's value as a message shows it: no ``--corpus`` is the default books.

    >>> _shown("corpus", None), _shown("split_seed", 1)
    ("the default (music21's oneills1850, ryansMammoth)", '1')
    """
    if name == "corpus" and not value:
        return "the default (music21's oneills1850, ryansMammoth)"
    return repr(value)


def same_recorded_flag(name: str, saved: Any, now: Any) -> bool:
    """Whether a flag's parsed value ``now`` is the ``saved`` one a checkpoint recorded
    (`recorded_flags`): compared as the JSON value the checkpoint would record (a tuple as a
    list, a path absolute), by `_same_flag`.

    >>> same_recorded_flag("split_ratios", [0.9, 0.05, 0.05], (0.9, 0.05, 0.05))
    True
    """
    now = json.loads(json.dumps(_absolute_paths({name: now}), default=str))[name]
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


def read_training_state(checkpoint: str) -> dict[str, Any]:
    """The ``training_state.json`` written by `save_checkpoint`."""
    with open(os.path.join(checkpoint, TRAINING_STATE_FILE), encoding="utf-8") as handle:
        return json.load(handle)


def latest_checkpoint(output_dir: str) -> str | None:
    """The complete ``step_N`` / ``epoch_N`` folder of ``output_dir`` with the most updates."""
    best, best_steps = None, -1
    if not os.path.isdir(output_dir):
        return None
    for name in os.listdir(output_dir):
        path = os.path.join(output_dir, name)
        if not _CHECKPOINT_RE.match(name) or not os.path.isfile(
            os.path.join(path, TRAINING_STATE_FILE)
        ):
            continue
        steps = int(read_training_state(path)["completed_steps"])
        if steps > best_steps:
            best, best_steps = path, steps
    return best


def no_checkpoint_error(output_dir: str) -> str:
    """The one-line refusal of ``--resume_from_checkpoint`` (``latest``) when ``output_dir``
    holds no complete checkpoint: what is there instead, and what to do. A resume that finds
    nothing to resume is an error, as in transformers' `Trainer` ("No valid checkpoint found"):
    starting afresh would run with the default flags, not the killed run's, and delete its files.

    >>> no_checkpoint_error("no/such/folder").split(";")[0]
    '--resume_from_checkpoint: no/such/folder holds no checkpoint to resume (no such folder)'
    """
    if not os.path.isdir(output_dir):
        return (
            f"--resume_from_checkpoint: {output_dir} holds no checkpoint to resume (no such "
            "folder); drop --resume_from_checkpoint to start a new run, or give the --output_dir "
            "of the run to resume"
        )
    names, complete = sorted(os.listdir(output_dir)), set(checkpoint_names(output_dir))
    killed = [n for n in names if _CHECKPOINT_RE.match(n[5:]) and n[:5] in (".tmp-", ".old-")]
    partial = [n for n in names if _CHECKPOINT_RE.match(n) and n not in complete]
    found = []
    if killed:
        found.append(f"{', '.join(killed)}, left by a run killed while saving a checkpoint")
    if partial:
        found.append(f"{', '.join(partial)} without {TRAINING_STATE_FILE}")
    if "model.safetensors" in names:
        found.append("a trained model but no checkpoint: runs save them with --checkpointing_steps")
    shown = "; ".join(found) or ("an empty folder" if not names else "no step_N or epoch_N")
    return (
        f"--resume_from_checkpoint: {output_dir} holds no checkpoint to resume ({shown}); drop "
        "--resume_from_checkpoint to start a new run there (which deletes the earlier run's "
        "files), or give the --output_dir of the run to resume"
    )


def checkpoint_names(output_dir: str) -> list[str]:
    """The ``step_N`` / ``epoch_N`` checkpoints of ``output_dir`` (folders with a
    ``training_state.json``), fewest updates first.

    >>> checkpoint_names("no/such/folder")
    []
    """
    if not os.path.isdir(output_dir):
        return []
    found = [
        name
        for name in os.listdir(output_dir)
        if _CHECKPOINT_RE.match(name)
        and os.path.isfile(os.path.join(output_dir, name, TRAINING_STATE_FILE))
    ]
    return sorted(found, key=lambda name: (int(_CHECKPOINT_RE.match(name)[2]), name))


# ----- what a run wrote there: the record a fresh run clears by ---------------------------------
#: The record, in an output folder, of the names a run wrote there (`record_run_files`): a run
#: starting afresh deletes those and nothing else (`clear_earlier_run`).
RUN_FILES = "run_files.json"

#: The files and folders a run of either task writes into its ``--output_dir``, besides its
#: checkpoints, the folders its atomic saves stage in and the source files the model and
#: tokenizer save for ``trust_remote_code`` (`source_files`).
RUN_OUTPUTS = (
    "README.md",  # the model card
    "all_results.json",
    "train_log.jsonl",
    "config.json",
    "model.safetensors",
    "tokenizer_config.json",
    "abc_vocab.json",
    RUN_FILES,
    ".tmp-model",
    ".tmp-tokenizer",
    f".tmp-{RUN_FILES}",
)
#: What a run of only one task writes (and, with ``--with_tracking``, the trackers' folder of
#: its project, named after the task: `training.common.TRACKER_PROJECTS`).
TASK_OUTPUTS = {
    "measurenote": (),
    "tune_title": ("known_queries.abc", "retrieval_eval", "title_tokenizer"),
}
#: The modules of the classes whose source files a task's model saves (and the tokenizer's).
_SAVED_MODULES = {
    "measurenote": ("modeling_measurenote", "configuration_measurenote"),
    "tune_title": ("modeling_tune_title", "configuration_tune_title"),
}


def source_files(task: str) -> list[str]:
    """The source files a run of ``task`` saves beside its model and tokenizer for
    ``trust_remote_code``: what transformers' ``custom_object_save`` copies, the module of each
    class and the modules it imports relatively.

    >>> names = source_files("tune_title")
    >>> "modeling_measurenote.py" in names, "cli.py" in names
    (True, False)
    """
    from transformers.dynamic_module_utils import get_relative_import_files

    modules = [f"modeling_irish.{name}" for name in _SAVED_MODULES[task]]
    names = set()
    for module in (*modules, "tokenization.tokenization_abc"):
        origin = importlib.util.find_spec(module).origin
        names.add(os.path.basename(origin))
        names.update(os.path.basename(path) for path in get_relative_import_files(origin))
    return sorted(names)


def planned_outputs(task: str, with_tracking: bool = False) -> set[str]:
    """The names a run of ``task`` may write into its output folder, checkpoints aside."""
    names = {*RUN_OUTPUTS, *TASK_OUTPUTS[task], *source_files(task)}
    return names | {task} if with_tracking else names


def read_run_files(output_dir: str) -> list[str] | None:
    """The names `RUN_FILES` of ``output_dir`` records, or None when there is none (a folder
    no run wrote into, or one written before runs kept the record) or it cannot be read. Only
    names of the folder's own entries are kept (no ``/``, no ``..``): a record edited by hand
    never reaches outside the folder.

    >>> read_run_files("no/such/folder") is None
    True
    """
    try:
        with open(os.path.join(output_dir, RUN_FILES), encoding="utf-8") as handle:
            names = json.load(handle)["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(names, list):
        return None
    return [
        name
        for name in names
        if isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and os.sep not in name
    ]


def record_run_files(output_dir: str, names: Sequence[str]) -> None:
    """Add ``names`` to the `RUN_FILES` record of ``output_dir`` (main process only), before
    they are written: whatever a killed run leaves is listed. The record is replaced
    atomically, so that it is always whole."""
    recorded = read_run_files(output_dir) or []
    if set(names) <= set(recorded):
        return
    _write_run_record(output_dir, files=sorted({*recorded, *names}))


def record_data_split(output_dir: str, split: dict[str, Any]) -> None:
    """Keep the run's data split as `training.common.data_split_record` makes it (corpus paths
    absolute) in the `RUN_FILES` record of ``output_dir`` (main process only), which is not
    uploaded: all_results.json, which is, names the corpus files only
    (`training.common.published_data_split`). A tune-title run on this folder as its backbone
    reads it (`recorded_data_split`) to make the backbone's split again."""
    _write_run_record(output_dir, data_split=split)


def recorded_data_split(folder: str) -> dict[str, Any] | None:
    """The data split `record_data_split` kept in ``folder``'s `RUN_FILES`, or None (no
    record, a run saved before runs kept it there, or a folder downloaded from the Hub).

    >>> recorded_data_split("no/such/folder") is None
    True
    """
    split = _read_run_record(folder).get("data_split")
    return split if isinstance(split, dict) else None


def _read_run_record(output_dir: str) -> dict[str, Any]:
    """The whole `RUN_FILES` record of ``output_dir`` as JSON, or ``{}`` when there is none or
    it cannot be read."""
    try:
        with open(os.path.join(output_dir, RUN_FILES), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_run_record(output_dir: str, **entries: Any) -> None:
    """Replace ``entries`` of the `RUN_FILES` record of ``output_dir`` (the others kept), through
    a temporary file, so that the record is always whole."""
    record = {"files": [], **_read_run_record(output_dir), **entries}
    record["written_by"] = "training/train.py"
    tmp = os.path.join(output_dir, f".tmp-{RUN_FILES}")
    write_json(tmp, record)
    os.replace(tmp, os.path.join(output_dir, RUN_FILES))


def unrecorded_clashes(output_dir: str, task: str, with_tracking: bool = False) -> list[str]:
    """The entries of ``output_dir`` that a run of ``task`` would write over and that no
    earlier run recorded as its own (`RUN_FILES`): the user's files, or those of a run saved
    before runs kept the record. Checkpoints are not counted (`checkpoint_names`)."""
    if not os.path.isdir(output_dir):
        return []
    recorded = read_run_files(output_dir)
    ours = set() if recorded is None else {*recorded, RUN_FILES}
    present = set(os.listdir(output_dir))
    return sorted((present & planned_outputs(task, with_tracking)) - ours)


def shown_names(names: Sequence[str], most: int = 6) -> str:
    """``names`` for a one-line message, the first ``most`` and how many more.

    >>> shown_names(["a", "b", "c"], most=2)
    'a, b and 1 more'
    """
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def earlier_run_outputs(args: argparse.Namespace) -> list[str]:
    """What a run starting afresh deletes from its ``--output_dir``: what the earlier run there
    recorded (`RUN_FILES`); with ``--overwrite_output_dir`` also every checkpoint, and what a
    run of either task writes (for a folder written before runs kept the record, or an
    earlier run of the other task). Nothing else: files no run writes stay.

    >>> earlier_run_outputs(argparse.Namespace(output_dir="no/such/folder"))
    []
    """
    folder = args.output_dir
    if not os.path.isdir(folder):
        return []
    present = set(os.listdir(folder))
    doomed = set(read_run_files(folder) or ()) | {RUN_FILES}
    if getattr(args, "overwrite_output_dir", False):
        checkpoints = checkpoint_names(folder)
        staged = {f"{prefix}{name}" for name in checkpoints for prefix in (".tmp-", ".old-")}
        outputs = set().union(*(planned_outputs(task, True) for task in TASK_OUTPUTS))
        doomed |= outputs | set(checkpoints) | staged
    return sorted(doomed & present)


def starts_fresh(args: argparse.Namespace) -> bool:
    """Whether the run starts from scratch: no ``--resume_from_checkpoint`` (a resume with no
    checkpoint to resume is refused, `no_checkpoint_error`)."""
    return args.resume_from_checkpoint is None


def clear_earlier_run(args: argparse.Namespace, accelerator: Accelerator) -> None:
    """A run that starts from scratch deletes what an earlier run wrote into its output folder
    (`earlier_run_outputs`: what that run recorded in `RUN_FILES`, the record last), so that
    nothing of that run is mixed with this one's, resumed as "latest" or uploaded. Checkpoints
    are only there with ``--overwrite_output_dir``, and files the record does not list that
    this run would write over too (`parse_args` refuses them otherwise); a trained model is
    replaced with a warning, not an error, so that the same command can simply be run again.
    Files no run wrote stay. Both tasks call it once their corpus is read and accepted, before
    they write anything: a run refused for its corpus deletes nothing. A resumed run keeps
    everything."""
    if not starts_fresh(args):
        return
    if accelerator.is_main_process:
        removed = earlier_run_outputs(args)
        if "model.safetensors" in removed:
            logger.warning(
                "--output_dir %s already holds a trained model (model.safetensors) and this run "
                "starts from scratch: the model will be replaced; pass another --output_dir to "
                "keep it",
                args.output_dir,
            )
        for name in sorted(removed, key=lambda name: name == RUN_FILES):  # the record last
            path = os.path.join(args.output_dir, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        if removed:
            logger.info("Deleted the earlier run's %s from %s", ", ".join(removed), args.output_dir)
    accelerator.wait_for_everyone()


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
    permission, a read-only file system, a file in the way) is a one-line `UsageError` naming
    the flag.

    >>> make_folder(__file__ + "/sub", "--output_dir")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training.common.UsageError: --output_dir .../sub: cannot make the folder (Not a directory)
    """
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        shown = f"{flag} (default {path})" if default else f"{flag} {path}"
        raise UsageError(f"{shown}: cannot make the folder ({err.strerror or err})") from err


def cache_folder(args: argparse.Namespace) -> str:
    """The run's cache folder: ``--cache_dir``, by default ``.cache`` beside the output folder.

    >>> cache_folder(argparse.Namespace(cache_dir=None, output_dir="/r/runs/a"))
    '/r/runs/.cache'
    """
    return args.cache_dir or os.path.join(
        os.path.dirname(os.path.abspath(args.output_dir)), ".cache"
    )


def resume_state(
    args: argparse.Namespace, accelerator: Accelerator, saved: dict | None = None
) -> int:
    """Load the ``--resume_from_checkpoint`` state; returns the number of updates it had done
    (and fills ``saved`` with the checkpoint's ``training_state.json``)."""
    path = args.resume_from_checkpoint
    if path is None:
        return 0
    if path == "latest":
        path = latest_checkpoint(args.output_dir)
        if path is None:  # parse_args checks it; a checkpoint removed since then
            raise UsageError(no_checkpoint_error(args.output_dir))
    if not os.path.isdir(path):  # parse_args checks it; a folder removed since then
        raise UsageError(f"--resume_from_checkpoint {path}: no such folder")
    state = read_training_state(path)
    check_same_processes(path, state, accelerator.num_processes)
    check_random_states(path, accelerator.num_processes)
    accelerator.print(f"Resuming from checkpoint {path}")
    try:
        accelerator.load_state(path)
    except RuntimeError as err:  # an older checkpoint (no data fingerprint) on another vocab
        lines = str(err).splitlines()
        mismatch = next((line.strip(" .\t") for line in lines if "size mismatch" in line), None)
        if mismatch is None:
            raise
        raise UsageError(
            f"--resume_from_checkpoint {path} does not fit this run's model ({mismatch}): the "
            "corpus gives another vocabulary than the one the run trained on; restore that "
            "corpus, or start a new run (without --resume_from_checkpoint)"
        ) from err
    _warn_unless_random_state_loaded(path, accelerator.process_index)
    if saved is not None:
        saved.update(state)
    completed = int(state["completed_steps"])
    if accelerator.is_main_process:
        _trim_log(os.path.join(args.output_dir, "train_log.jsonl"), completed)
    if completed >= args.max_train_steps:
        flag = getattr(args, "budget_flag", "max_train_steps")
        budget = f"--max_train_steps is {args.max_train_steps}"
        if flag == "num_train_epochs":  # it capped a larger --max_train_steps, or stood alone
            budget = f"--num_train_epochs {args.num_train_epochs} ends the run there"
        logger.warning(
            f"{path} has done {completed} updates and {budget}: nothing is left to train (give "
            f"a larger --{flag} to go on)"
        )
    return completed


def resumed_checkpoint(args: argparse.Namespace) -> str | None:
    """The checkpoint folder ``--resume_from_checkpoint`` names (``latest``: the newest of
    ``--output_dir``), or None when the run does not resume or there is none."""
    path = args.resume_from_checkpoint
    return latest_checkpoint(args.output_dir) if path == "latest" else path


def check_resume_data(args: argparse.Namespace, fingerprint: dict[str, Any]) -> None:
    """A checkpoint resumes only on the data it trained on: the same tunes in each split and
    the same vocabulary (``fingerprint``: `training.data.data_fingerprint` of this run's data).
    Otherwise the resume position would count batches of another training split, validation
    could score tunes the run trained on, and another vocabulary would not load (mismatched
    shapes). The flags that shape the data are checked as they are read (`RUN_FLAGS`); this
    catches a corpus whose content changed. Checkpoints that record no fingerprint (older
    ones) are resumed with a warning."""
    path = resumed_checkpoint(args)
    if path is None or not os.path.isfile(os.path.join(path, TRAINING_STATE_FILE)):
        return  # not resuming; or `resume_state` says why it cannot
    saved = read_training_state(path).get("data")
    if saved is None:
        logger.warning(
            "%s records no fingerprint of the data it trained on (it was saved before checkpoints "
            "recorded one): whether --corpus still gives the same splits and vocabulary is not "
            "checked",
            path,
        )
        return
    changes = data_changes(saved, fingerprint)
    if changes:
        raise UsageError(
            f"--resume_from_checkpoint {path} trained on other data than this run reads: "
            f"{'; '.join(changes)}. Restore the corpus (--corpus {_shown_corpus(args.corpus)}) "
            "as that run read it, or start a new run: drop --resume_from_checkpoint and give "
            "--overwrite_output_dir (which deletes this run) or another --output_dir"
        )


def data_changes(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two `training.data.data_fingerprint` records, as phrases.

    >>> old = {"splits": {"train": {"tunes": 9, "sha256": "a"}, "test": {"tunes": 1}}}
    >>> new = {"splits": {"train": {"tunes": 9, "sha256": "b"}, "test": {"tunes": 2}}}
    >>> old["vocabulary"], new["vocabulary"] = {"values": 140, "sha256": "v"}, {"values": 147}
    >>> data_changes(old, new)  # doctest: +NORMALIZE_WHITESPACE
    ['its train split held other tunes (9, as now)', 'its test split had 1 tune (now 2)',
     'its vocabulary had 140 values (now 147)']
    """
    changes = []
    for name, is_ in now["splits"].items():  # train, validation, test
        was = saved["splits"].get(name, {"tunes": 0})
        if was["tunes"] != is_["tunes"]:
            tunes = f"{was['tunes']} tune{'s' * (was['tunes'] != 1)}"
            changes.append(f"its {name} split had {tunes} (now {is_['tunes']})")
        elif was != is_:
            changes.append(f"its {name} split held other tunes ({was['tunes']}, as now)")
    was, is_ = saved["vocabulary"], now["vocabulary"]
    if was != is_:
        sizes = f" (now {is_['values']})" if was["values"] != is_["values"] else ", as now"
        changes.append(f"its vocabulary had {was['values']} values{sizes}")
    return changes


def _shown_corpus(corpus: str | Sequence[str] | None) -> str:
    """``--corpus`` as typed on a command line.

    >>> _shown_corpus(None), _shown_corpus("a.abc"), _shown_corpus(["a.abc", "oneills1850"])
    ('music21', 'a.abc', 'a.abc oneills1850')
    """
    if corpus is None:
        return "music21"
    return corpus if isinstance(corpus, str) else " ".join(corpus)


def check_same_processes(path: str, state: dict[str, Any], num_processes: int) -> None:
    """A checkpoint resumes only with the number of processes that saved it: the updates it
    counts are rounds of that many batches (with another number the run would train again on
    batches it had seen, or skip others) and each process's random state is its own.
    Checkpoints that do not record it (older ones) are not checked."""
    saved = state.get("num_processes")
    if saved is not None and saved != num_processes:
        launch = f"--multi_gpu --num_processes {saved} " if saved > 1 else ""
        raise UsageError(
            f"--resume_from_checkpoint {path} was saved by a run of {saved} process(es), and "
            f"this run has {num_processes}: resume it with {saved} (`accelerate launch "
            f"{launch}training/train.py ...` on CPU)"
        )


#: The file in which `accelerator.save_state` keeps the random state of process ``i``.
RANDOM_STATES_FILE = "random_states_{}.pkl"


def check_random_states(path: str, num_processes: int) -> None:
    """A checkpoint resumes only with the random state of every process (`RANDOM_STATES_FILE`):
    accelerate's `load_state` goes on without one (an info line of the main process only),
    and the process draws other dropout and augmentation than the interrupted run did, so the
    run ends with other weights. A checkpoint saved before `save_checkpoint` waited for every
    process can lack one; the refusal names it, and the newest checkpoint beside it that is
    whole.

    >>> check_random_states("no/such/step_5", 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training.common.UsageError: --resume_from_checkpoint no/such/step_5 lacks random_states_0.pkl...
    """
    missing = _missing_random_states(path, num_processes)
    if not missing:
        return
    folder = os.path.dirname(os.path.normpath(path)) or "."
    whole = [
        name
        for name in checkpoint_names(folder)
        if name != os.path.basename(os.path.normpath(path))
        and not _missing_random_states(os.path.join(folder, name), num_processes)
    ]
    instead = (
        f"resume {os.path.join(folder, whole[-1])} instead, or start a new run"
        if whole
        else "start a new run (without --resume_from_checkpoint)"
    )
    files = ", ".join(RANDOM_STATES_FILE.format(i) for i in missing)
    processes = ", ".join(str(i) for i in missing)
    raise UsageError(
        f"--resume_from_checkpoint {path} lacks {files} (the random state of process "
        f"{processes}): it was saved incomplete, and a run resumed from it would not train as "
        f"the interrupted run did; {instead}"
    )


def _missing_random_states(path: str, num_processes: int) -> list[int]:
    """The processes (of ``0 .. num_processes - 1``) whose `RANDOM_STATES_FILE` ``path`` lacks."""
    files = (os.path.join(path, RANDOM_STATES_FILE.format(i)) for i in range(num_processes))
    return [i for i, file in enumerate(files) if not os.path.isfile(file)]


def _warn_unless_random_state_loaded(path: str, process_index: int) -> None:
    """Warn, from the process concerned, when its random generators are not those of its
    `RANDOM_STATES_FILE` once `accelerator.load_state` returns: accelerate catches whatever
    fails there and says "Could not load random states" as an info line of the main process
    only, so that another process's failure went unseen."""
    import random

    import torch
    from accelerate.utils import load

    file = os.path.join(path, RANDOM_STATES_FILE.format(process_index))
    try:
        states = load(file)
        loaded = torch.equal(torch.get_rng_state(), states["torch_manual_seed"])
        loaded = loaded and random.getstate() == tuple(states["random_state"])
    except Exception:  # whatever accelerate's own load catches: not loaded either
        loaded = False
    if not loaded:
        logger.warning(
            "could not load this process's random state (%s): it draws other dropout and "
            "augmentation than the interrupted run did, so the resumed run will not end with "
            "that run's weights",
            file,
            main_process_only=False,
        )


def logged_evals(
    args: argparse.Namespace, accelerator: Accelerator, completed: int
) -> dict[int, dict[str, float]]:
    """``{completed: metrics}`` when the resumed checkpoint's last update, ``completed``, was
    validated in the run it resumes (the final validation of a run that had finished, kept by
    `_trim_log`), else ``{}``: the resumed run reuses those figures for all_results.json
    rather than logging that step's validation twice (in ``train_log.jsonl`` and the
    trackers). The main process reads the log, which it alone writes, and sends the answer to
    the others: validation is collective, so every process must agree to skip it."""
    from accelerate.utils import broadcast_object_list

    if args.resume_from_checkpoint is None or not completed:
        return {}
    found = [None]
    if accelerator.is_main_process:
        found = [logged_eval(os.path.join(args.output_dir, "train_log.jsonl"), completed)]
    metrics = broadcast_object_list(found)[0]
    return {completed: metrics} if metrics else {}


def logged_eval(path: str, step: int) -> dict[str, float]:
    """The validation figures the learning curve at ``path`` holds for update ``step``, without
    their ``eval_`` prefix (a null, a NaN the log could not hold, read back as NaN), or ``{}``.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "train_log.jsonl")
    >>> with open(path, "w") as handle:
    ...     _ = handle.write('{"step": 2, "eval_nll": 6.1, "eval_loss": null, "train_seconds": 1}')
    >>> logged_eval(path, 2), logged_eval(path, 4)
    ({'nll': 6.1, 'loss': nan}, {})
    >>> folder.cleanup()
    """
    if not os.path.isfile(path):
        return {}
    metrics: dict[str, float] = {}
    with open(path, encoding="utf-8") as handle:
        for record in (json.loads(line) for line in handle if line.strip()):
            if record.get("step") == step and any(k.startswith("eval_") for k in record):
                metrics = {
                    key.removeprefix("eval_"): math.nan if value is None else value
                    for key, value in record.items()
                    if key.startswith("eval_")
                }
    return metrics


def logged_record(path: str, step: int, suffix: str) -> dict[str, Any]:
    """The last record the learning curve at ``path`` holds for update ``step`` with a key
    ending in ``suffix`` (the tune-title run's final retrieval figures: ``_eval_settings``),
    less its ``step`` and ``train_seconds`` (a null, a NaN the log could not hold, read back as
    NaN); ``{}`` when there is none.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "train_log.jsonl")
    >>> with open(path, "w") as handle:
    ...     _ = handle.write('{"step": 2, "train_loss": 0.7, "train_seconds": 1}\\n'
    ...                      '{"step": 2, "unseen_eval_settings": 3, "unseen_r_at_1": null}')
    >>> logged_record(path, 2, "_eval_settings"), logged_record(path, 1, "_eval_settings")
    ({'unseen_eval_settings': 3, 'unseen_r_at_1': nan}, {})
    >>> folder.cleanup()
    """
    if not os.path.isfile(path):
        return {}
    found: dict[str, Any] = {}
    with open(path, encoding="utf-8") as handle:
        for record in (json.loads(line) for line in handle if line.strip()):
            if record.get("step") == step and any(k.endswith(suffix) for k in record):
                found = {
                    key: math.nan if value is None else value
                    for key, value in record.items()
                    if key not in ("step", "train_seconds")
                }
    return found


def _trim_log(path: str, completed: int) -> None:
    """Drop the learning-curve records after the checkpoint (a killed run logged steps it then
    lost), so that the resumed run does not log them twice."""
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    kept = [line for line in lines if json.loads(line).get("step", 0) <= completed]
    if len(kept) < len(lines):
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.writelines(kept)
        os.replace(path + ".tmp", path)
