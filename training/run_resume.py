"""Resuming a run from one of its checkpoints (`resume_state`): the optimisation flags it may
change, whether the budget leaves anything to train, and the checks a resumed run passes before
it trains on (the same data, no later run in its folder). The checkpoints of a folder and the
checks that refuse one before it loads (its files, processes and random states):
`training.checkpoints`, whose names the other modules take from here are re-exported."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from training.checkpoints import (  # those in __all__ re-exported: the other modules' imports
    RANDOM_STATES_FILE,
    TRAINING_STATE_FILE,
    check_newest_checkpoint,
    check_random_states,
    check_same_processes,
    check_state_files,
    checkpoint_names,
    damaged_state_error,
    latest_checkpoint,
    no_checkpoint_error,
    put_back_replaced_checkpoints,
    read_training_state,
    resumed_checkpoint,
    warn_once,
)
from training.common import (
    UsageError,
    lr_for,
    minutes_left,
    moot_flags,
    process_logger,
    set_weight_decay,
)
from training.run_log import read_log, trim_log

if TYPE_CHECKING:
    import torch
    from accelerate import Accelerator

logger = process_logger(__name__)  # accelerate's: warns once, from the main process


def resume_state(
    args: argparse.Namespace,
    accelerator: Accelerator,
    saved: dict | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> int:
    """Load the ``--resume_from_checkpoint`` state; returns the number of updates it had done
    (and fills ``saved`` with the checkpoint's ``training_state.json``). ``optimizer`` (the
    prepared one) then gets this run's ``--weight_decay`` (`set_weight_decay`): `load_state`
    gives it the checkpoint's."""
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
    check_state_files(path, accelerator.num_processes)
    check_random_states(path, accelerator.num_processes)
    # every file read whole, CRCs checked: torch.load checks none, and takes an optimizer.bin
    # damaged inside (its zip directory whole) without an error; "latest" reads one over
    # QUICK_CRC_BYTES only in part. One sequential read, before load_state reads it again.
    damaged = damaged_state_error(path, accelerator.num_processes)
    if damaged is not None:
        raise damaged
    changes = take_optimisation_changes(args, state)
    shown = f" with {', '.join(map(shown_change, changes))}" if changes else ""
    accelerator.print(f"Resuming from checkpoint {path}{shown}")
    if any(change["flag"] == "max_train_steps" for change in changes):
        warn_schedule_length(args, state)
    try:
        accelerator.load_state(path)
    except Exception as err:  # a damaged file (safetensors' or torch's error names none)
        damaged = damaged_state_error(path, accelerator.num_processes)
        if damaged is not None:
            raise damaged from err
        if not isinstance(err, RuntimeError):
            raise
        # an older checkpoint (no data fingerprint) on another vocab
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
    if optimizer is not None:  # a changed value takes effect from the first resumed update
        set_weight_decay(optimizer, args.weight_decay)
    if saved is not None:
        saved.update(state)
    completed, ended = int(state["completed_steps"]), budget_ended(args, state)
    # Nothing left to train: the log is kept whole. It ends at this checkpoint (a finished
    # run's last state, its final validation included): a log past it (a run killed after it,
    # resumed with a smaller budget) was refused before, by `check_not_behind_the_run`.
    if ended is not None:
        flag, why = ended
        logger.warning(
            f"{path} has done {completed} updates and {why}: nothing is left to train "
            f"(give a larger --{flag} to go on)"
        )
    if accelerator.is_main_process:  # a line cut short goes either way (`read_log`)
        log = os.path.join(args.output_dir, "train_log.jsonl")
        trim_log(log, completed if ended is None else None)
    return completed


#: The flags of the optimisation that a resumed run may set otherwise than the run it resumes
#: (not so those of the model, the data and the batch shape: `training.run_folder.RUN_FLAGS`).
OPTIMISATION_FLAGS = (
    "learning_rate",
    "lr_scheduler_type",
    "lr_step_size",
    "lr_gamma",
    "num_warmup_steps",
    "weight_decay",
    "max_grad_norm",
)


def optimisation_changes(args: argparse.Namespace, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Each `OPTIMISATION_FLAGS` value of this run that differs from the one the checkpoint's
    run trained with (its recorded flags, ``state["args"]``), as ``{"step", "flag", "was",
    "now"}``: the value ``now`` trains the updates after ``step``. A flag the run ignores
    (`moot_flags`: ``--lr_gamma`` under the cosine schedule) is left out. Under the cosine
    schedule, which spans the run, ``max_train_steps`` is one (`warn_schedule_length`).

    >>> run = argparse.Namespace(learning_rate=0.01, lr_scheduler_type="step", lr_gamma=0.5)
    >>> optimisation_changes(run, {"completed_steps": 6, "args": {"learning_rate": 3e-4}})
    [{'step': 6, 'flag': 'learning_rate', 'was': 0.0003, 'now': 0.01}]
    """
    saved, moot = state.get("args", {}), moot_flags(args)
    names: tuple[str, ...] = OPTIMISATION_FLAGS
    if args.lr_scheduler_type == "cosine" and "max_train_steps" in state:
        # the schedule spans the run's updates: the checkpoint records its run's (epochs
        # counted; its recorded flags hold the value as given)
        saved = {**saved, "max_train_steps": state["max_train_steps"]}
        names = (*names, "max_train_steps")
    return [
        {"step": int(state["completed_steps"]), "flag": name, "was": saved[name], "now": now}
        for name in names
        if name in saved and name not in moot and saved[name] != (now := getattr(args, name))
    ]


def take_optimisation_changes(
    args: argparse.Namespace, state: dict[str, Any]
) -> list[dict[str, Any]]:
    """Keep in ``args.optimisation_changes`` the changes the runs before this one made (the
    checkpoint's record) and this run's (`optimisation_changes`), which its checkpoints,
    all_results.json and model card record: the card's table gives the values the run ended
    with, not the whole run's. Returns this run's. A run with nothing left to train trains
    nothing with them: it keeps the checkpoint's values (and records no change), but for
    ``max_train_steps`` (a change under the cosine schedule), the budget that says nothing is
    left: the checkpoint's larger one would have the run train on."""
    changes = optimisation_changes(args, state)
    args.optimisation_changes = list(state.get("optimisation_changes", []))
    if budget_ended(args, state) is not None:
        for change in changes:
            if change["flag"] != "max_train_steps":
                setattr(args, change["flag"], change["was"])
        return []
    args.optimisation_changes += changes
    return changes


def warn_schedule_length(args: argparse.Namespace, state: dict[str, Any]) -> None:
    """Warn that a resume under the cosine schedule with another ``--max_train_steps`` than
    the checkpoint's run follows the new length from the checkpoint on, as transformers'
    `Trainer` does (its scheduler is built anew for the new total): the lr jumps from the
    last update's, on the checkpoint's curve, to the new curve's, and the run is not the one
    an uninterrupted run of the new length would be. Named with the two rates, as
    ``train_log.jsonl`` logs them (step ``N``: the lr of update ``N``)."""
    completed = int(state["completed_steps"])
    saved = {**state.get("args", {}), "max_train_steps": state["max_train_steps"]}
    # the checkpoint's run: its recorded flags over this run's (a flag it did not record)
    before = lr_for(argparse.Namespace(**{**vars(args), **saved}), completed - 1)
    logger.warning(
        f"--max_train_steps {saved['max_train_steps']} -> {args.max_train_steps} under the "
        "cosine schedule, which spans the run's updates: it follows the new length from the "
        f"checkpoint on (as transformers' Trainer does), so the lr goes from {before:.3g} "
        f"(step {completed}) to {lr_for(args, completed):.3g} (step {completed + 1})"
    )


def shown_change(change: dict[str, Any]) -> str:
    """One of `optimisation_changes` as the resume message and the model card name it.

    >>> shown_change({"step": 6, "flag": "learning_rate", "was": 0.0003, "now": 0.01})
    '--learning_rate 0.0003 -> 0.01 after step 6'
    """
    return f"--{change['flag']} {change['was']} -> {change['now']} after step {change['step']}"


def budget_ended(args: argparse.Namespace, state: dict[str, Any]) -> tuple[str, str] | None:
    """Whether a checkpoint (its ``training_state.json``, ``state``) has nothing left to train
    under this run's budget, as ``(flag, why)`` for the messages of such a resume, else None:
    ``max_train_steps`` reached (named by the flag that set it,
    `training.common.recompute_steps_and_start_tracking`), or the whole ``--max_train_minutes``
    spent by the training time the checkpoint records (the budget is the whole run's:
    `training.common.nothing_left`, which stops the resumed loop, says the same).

    >>> run = argparse.Namespace(max_train_steps=10, max_train_minutes=1.0)
    >>> budget_ended(run, {"completed_steps": 10})
    ('max_train_steps', '--max_train_steps is 10')
    >>> budget_ended(run, {"completed_steps": 4, "totals": {"train_seconds": 75.0}})
    ('max_train_minutes', '--max_train_minutes 1 is spent (1.25 minutes trained)')
    >>> budget_ended(run, {"completed_steps": 4, "train_seconds": 30.0}) is None
    True
    """
    if int(state["completed_steps"]) >= args.max_train_steps:
        if getattr(args, "budget_flag", "max_train_steps") == "num_train_epochs":
            # it capped a larger --max_train_steps, or stood alone
            return (
                "num_train_epochs",
                f"--num_train_epochs {args.num_train_epochs} ends the run there",
            )
        return "max_train_steps", f"--max_train_steps is {args.max_train_steps}"
    seconds = _time_spent(args, state)
    if seconds is None:
        return None
    minutes = f"{seconds / 60:.3g} minutes trained"
    return (
        "max_train_minutes",
        f"--max_train_minutes {args.max_train_minutes:g} is spent ({minutes})",
    )


def _time_spent(args: argparse.Namespace, state: dict[str, Any]) -> float | None:
    """The seconds of training a checkpoint records when they spend this run's whole
    ``--max_train_minutes``, else None (no time budget, or time left). MeasureNote checkpoints
    keep them in ``totals``, tune-title ones at the top."""
    seconds = float(state.get("totals", {}).get("train_seconds", state.get("train_seconds", 0.0)))
    return seconds if minutes_left(getattr(args, "max_train_minutes", None), seconds) == 0 else None


class NothingToTrain(Exception):
    """A resume with nothing left to train from a checkpoint behind the run in its folder
    (`check_not_behind_the_run`): the run ends before writing anything. ``results``: the
    folder's all_results.json as it stands (``{}`` when it has none)."""

    def __init__(self, message: str, results: dict[str, Any]) -> None:
        super().__init__(message)
        self.results = results


def check_not_behind_the_run(args: argparse.Namespace) -> None:
    """Raise `NothingToTrain` when the resumed checkpoint has done the run's whole budget
    (`budget_ended`: ``max_train_steps``, known once the steps are recomputed, or the time of
    ``--max_train_minutes``) and the run in ``--output_dir``
    went further (`run_reached`): finishing from the checkpoint would cut ``train_log.jsonl``
    back to it, have TensorBoard purge the later steps, and write its model and results over
    the later ones, and there is nothing to train. Called before the trackers start. Resuming
    the run's own last state (to finish a run killed after its final checkpoint, or to
    evaluate it again) goes on as before. A resume with updates left to train from a
    checkpoint older than the folder's newest is refused (`check_newest_checkpoint`; before
    the corpus is read where the budget leaves updates on any corpus: `train.main` calls
    `check_newest_checkpoint_early`)."""
    path, state = _resumed_state(args)
    if path is None:
        return  # a fresh run; or `resume_state` says why it cannot resume
    completed, ended = int(state["completed_steps"]), budget_ended(args, state)
    if ended is None:
        check_newest_checkpoint(path, completed, args.output_dir)
        warn_of_replaced_run(path, completed, args.output_dir)
        return
    reached, files = run_reached(args.output_dir)
    if reached <= completed:
        return
    latest = latest_checkpoint(args.output_dir)
    flag, why = ended
    hint = f"give a larger --{flag} to train on from {path}"
    if latest is not None and os.path.realpath(latest) != os.path.realpath(path):
        hint = f"resume {latest} to finish that run, or {hint}"
    raise NothingToTrain(
        f"{path} has done {completed} updates and {why}: nothing is left to train, "
        f"and {args.output_dir} holds the run up to update {reached} ({', '.join(files)}), "
        f"which finishing from {path} would replace: it is left as it is ({hint})",
        _read_results(args.output_dir),
    )


def check_newest_checkpoint_early(args: argparse.Namespace) -> None:
    """`check_newest_checkpoint` before the corpus is read (25+ s on the full corpus), from the
    checkpoints alone, where the budget leaves the resumed checkpoint updates to train whatever
    the corpus: its updates are fewer than `fewest_budget_updates` and its training time has
    not spent ``--max_train_minutes`` (`budget_ended`). The rest (a checkpoint that an epoch
    budget may have reached, whose fate `check_not_behind_the_run` decides once the steps are
    recomputed) is left to that check."""
    path, state = _resumed_state(args)
    if path is None or _time_spent(args, state) is not None:
        return
    completed = int(state["completed_steps"])
    if completed < fewest_budget_updates(args):
        check_newest_checkpoint(path, completed, args.output_dir)
        warn_of_replaced_run(path, completed, args.output_dir)


def warn_of_replaced_run(path: str, completed: int, output_dir: str) -> None:
    """Warn, once, when training on from checkpoint ``path`` (``completed`` updates) writes
    over a finished run in ``output_dir`` that went further (its ``all_results.json``): a
    later checkpoint "latest" passed over (damaged, `check_newest_checkpoint` lets it be), or a
    run that ended past its last checkpoint. Its model, card and ``all_results.json`` are
    written over at the end, and its ``train_log.jsonl`` is cut back to ``path``: said here,
    before anything is written, so that the user can stop and keep them. (A killed run's log
    past its last checkpoint is cut back without a word: that is what resuming it means.)"""
    finished = int(_read_results(output_dir).get("train_steps") or 0)
    if finished <= completed:
        return
    warn_once(
        f"{output_dir}:finished",
        f"{output_dir} holds a run finished at update {finished}, and training on from "
        f"{path} ({completed} updates) replaces it: the model, model card and "
        f"all_results.json it finished with are written over when this run ends, and its "
        f"train_log.jsonl is cut back to update {completed}; stop now and copy them to keep "
        "them, or resume into another --output_dir",
    )


def fewest_budget_updates(args: argparse.Namespace) -> int:
    """The fewest updates the run's budget can come to before the corpus is read:
    ``--max_train_steps``, or with ``--num_train_epochs`` the smaller of the two (a step count
    of 0: the epochs alone), an epoch being at least one update
    (`training.common.recompute_steps_and_start_tracking` counts them on the corpus).

    >>> run = argparse.Namespace(max_train_steps=50, num_train_epochs=None)
    >>> fewest_budget_updates(run), fewest_budget_updates(argparse.Namespace(max_train_steps=0,
    ...                                                                      num_train_epochs=3))
    (50, 3)
    """
    steps, epochs = args.max_train_steps, getattr(args, "num_train_epochs", None)
    if not epochs:
        return steps
    return min(steps, epochs) if steps else epochs


def _resumed_state(args: argparse.Namespace) -> tuple[str | None, dict[str, Any]]:
    """The checkpoint the run resumes (`resumed_checkpoint`) and its ``training_state.json``,
    or ``(None, {})`` for a fresh run or one that `resume_state` refuses (no state to read)."""
    path = resumed_checkpoint(args) if getattr(args, "resume_from_checkpoint", None) else None
    if path is None or not os.path.isfile(os.path.join(path, TRAINING_STATE_FILE)):
        return None, {}
    return path, read_training_state(path)


#: The entry of ``training_state.json`` that holds the model's config (`PretrainedConfig.to_dict`):
#: a resumed run builds its model from it (`resumed_model_config`).
MODEL_CONFIG_KEY = "model_config"


def resumed_model_config(
    args: argparse.Namespace,
    built: Any,
    older: dict[str, Any] | None = None,
    data_fields: Sequence[str] = (),
    older_hint: str = "",
) -> Any:
    """The config a run builds its model from. ``built``: the one its flags, its data and this
    version's defaults give, which a fresh run takes. A resumed run takes the config its
    checkpoint's run trained with (`MODEL_CONFIG_KEY`), whatever this version's defaults are
    (the flags that set values are the same: `training.run_folder.RUN_FLAGS`), with a warning
    naming each value that differs from ``built``; but for ``data_fields`` (dotted names:
    the vocabulary's sizes), which are this run's data's, as `check_resume_data` and the
    weights' shapes check them. A checkpoint saved before checkpoints recorded their config
    gets ``built`` with the values of ``older`` (dotted names: the values the versions that
    saved such checkpoints gave them), and a warning that the rest are this version's, ending
    with ``older_hint`` (where ``older`` is only an assumption: how to override it)."""
    path, state = _resumed_state(args)
    if path is None:
        return built
    saved = state.get(MODEL_CONFIG_KEY)
    if saved is None:
        return _unrecorded_config(path, built, older or {}, older_hint)
    config = type(built).from_dict(saved)
    for name in data_fields:
        _set_field(config, name, _get_field(built, name))
    changes = [
        change
        for change in config_changes(saved, built.to_dict())
        if not any(
            change.startswith(f"{name} ") or change.startswith(f"{name}.") for name in data_fields
        )
    ]
    if changes:
        logger.warning(
            f"{path} resumes with the model config its run trained with, which differs from "
            f"the one this version builds from the same flags: {'; '.join(changes)}"
        )
    return config


def _unrecorded_config(path: str, built: Any, older: dict[str, Any], hint: str = "") -> Any:
    """``built`` with the values of ``older`` set, for a checkpoint that records no config; the
    warning ends with ``hint``."""
    changed = [
        f"{name} {value!r} (now {_get_field(built, name)!r})"
        for name, value in older.items()
        if value != _get_field(built, name)
    ]
    for name, value in older.items():
        _set_field(built, name, value)
    older_values = (
        f", but for {', '.join(changed)}, as the versions that saved it" if changed else ""
    )
    logger.warning(
        f"{path} records no model config (saved before checkpoints recorded one): the model is "
        f"built from its run's flags and this version's defaults{older_values}; a default "
        "changed since that run is not the value it trained with" + (f"; {hint}" if hint else "")
    )
    return built


def _get_field(config: Any, name: str) -> Any:
    """The value of a config's field by dotted name (``title_config.max_length``)."""
    for part in name.split("."):
        config = getattr(config, part)
    return config


def _set_field(config: Any, name: str, value: Any) -> None:
    """Set a config's field by dotted name (`_get_field`)."""
    owner, _, field = name.rpartition(".")
    setattr(_get_field(config, owner) if owner else config, field, value)


def config_changes(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """``name saved (now value)`` for each value of a saved config (`PretrainedConfig.to_dict`)
    that ``now`` sets otherwise, nested configs' fields by dotted name. Values ``now`` leaves
    unset (None: filled in as the model is built, such as the MiniLM's BERT config), fields
    only one of them has, private ones and the transformers version are not compared.

    >>> saved = {"title_config": {"max_length": 32, "minilm_config": {}}, "projection_dim": 16}
    >>> config_changes(saved, {"title_config": {"max_length": 128, "minilm_config": None},
    ...                        "projection_dim": 16})
    ['title_config.max_length 32 (now 128)']
    """
    was, now = _flat(saved), _flat(now)
    return [
        f"{name} {value!r} (now {now[name]!r})"
        for name, value in was.items()
        if now.get(name) is not None
        and value != now[name]
        and name.rsplit(".", 1)[-1] != "transformers_version"
        and not name.rsplit(".", 1)[-1].startswith("_")
    ]


def _flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A config dict's values by dotted name, nested configs' fields included.

    >>> _flat({"a": 1, "b": {"c": 2}})
    {'a': 1, 'b.c': 2}
    """
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def run_reached(output_dir: str) -> tuple[int, list[str]]:
    """The most updates the run in ``output_dir`` records, in its learning curve
    (``train_log.jsonl``) or its results (``all_results.json``), and the files that record it;
    ``(0, [])`` when neither does.

    >>> run_reached("no/such/folder")
    (0, [])
    """
    steps = {"train_log.jsonl": 0, "all_results.json": 0}
    records = read_log(os.path.join(output_dir, "train_log.jsonl"))
    steps["train_log.jsonl"] = max((int(r.get("step", 0)) for r in records), default=0)
    steps["all_results.json"] = int(_read_results(output_dir).get("train_steps") or 0)
    reached = max(steps.values())
    return reached, [name for name, step in steps.items() if reached and step == reached]


def _read_results(output_dir: str) -> dict[str, Any]:
    """``output_dir/all_results.json``, or ``{}`` when there is none or it cannot be read."""
    try:
        with open(os.path.join(output_dir, "all_results.json"), encoding="utf-8") as handle:
            results = json.load(handle)
    except (OSError, ValueError):
        return {}
    return results if isinstance(results, dict) else {}


def check_resume_data(args: argparse.Namespace, fingerprint: dict[str, Any]) -> None:
    """A checkpoint resumes only on the data it trained on: the same tunes in each split and
    the same vocabulary (``fingerprint``: `training.data.data_fingerprint` of this run's data).
    Otherwise the resume position would count batches of another training split, validation
    could score tunes the run trained on, and another vocabulary would not load (mismatched
    shapes). The flags that shape the data are checked as they are read
    (`training.run_folder.RUN_FLAGS`); this catches a corpus whose content changed, and a
    vocabulary read otherwise from the same tunes (by another version of the package).
    Checkpoints that record no fingerprint (older ones) are resumed with a warning."""
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
    if changes and saved["splits"] == fingerprint["splits"]:  # the code reads them otherwise
        raise UsageError(
            f"--resume_from_checkpoint {path} trained on another vocabulary of the same tunes: "
            f"{'; '.join(changes)}, as this version of modeling-irish reads them. Resume it "
            "with the version that saved it, or start a new run: drop --resume_from_checkpoint "
            "and give --overwrite_output_dir (which deletes this run) or another --output_dir"
        )
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


__all__ = [
    "MODEL_CONFIG_KEY",
    "NothingToTrain",
    "OPTIMISATION_FLAGS",
    "TRAINING_STATE_FILE",
    "budget_ended",
    "check_newest_checkpoint_early",
    "check_not_behind_the_run",
    "check_resume_data",
    "check_same_processes",
    "checkpoint_names",
    "config_changes",
    "data_changes",
    "latest_checkpoint",
    "no_checkpoint_error",
    "put_back_replaced_checkpoints",
    "read_training_state",
    "resume_state",
    "resumed_checkpoint",
    "resumed_model_config",
    "run_reached",
    "shown_change",
    "take_optimisation_changes",
    "warn_of_replaced_run",
]
