"""A run's record of what it wrote into its output folder (`RUN_FILES`, ``run_files.json``: the
names, the data split, the files deleted since the last upload) and clearing an earlier run by
it (`clear_earlier_run`): a run starting afresh deletes what the record lists and nothing else.
Checkpoints and model saves, which record their names here before writing them:
`training.run_folder` (which re-exports this module's names)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from training.common import process_logger, write_json, writing
from training.run_resume import checkpoint_names

if TYPE_CHECKING:
    from accelerate import Accelerator

logger = process_logger(__name__)  # accelerate's: warns once, from the main process

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
    f".tmp-{RUN_FILES}",  # what earlier versions wrote the record through
)
#: What a run of only one task writes (and, with ``--with_tracking``, the trackers' folder of
#: its project, named after the task: `training.common.TRACKER_PROJECTS`).
TASK_OUTPUTS = {
    "measurenote": (),
    # LICENSE and NOTICE: those of the MiniLM title tower's Apache-2.0 weights
    "tune_title": ("known_queries.abc", "retrieval_eval", "title_tokenizer", "LICENSE", "NOTICE"),
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
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"{module}: no source file to save with the run")
        origin = spec.origin
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
    the writer's own temporary file (`replacing_file`: its process, start and machine in the
    name), so that the record is always whole. A full or read-only disk is a `WriteError`
    naming the record."""
    record = {"files": [], **_read_run_record(output_dir), **entries}
    record["written_by"] = "training/train.py"
    final = os.path.join(output_dir, RUN_FILES)
    # not a fixed name: that was another process's too (a run on another machine sharing the
    # folder), and anything left under it failed the write
    from modeling_irish.file_utils import replacing_file  # lazy: modeling_irish loads torch

    with writing(final), replacing_file(final) as tmp:
        write_json(tmp, record)


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
    everything. The files deleted are listed in the new record (with those an earlier run
    deleted, while the folder was not uploaded since), so that ``--push_to_hub`` deletes them
    from the Hub repository too (`removed_run_files`)."""
    if not starts_fresh(args):
        return
    if accelerator.is_main_process:
        removed = earlier_run_outputs(args)
        # what the Hub may hold of them, kept so that --push_to_hub deletes it there: read now,
        # while the files and the earlier record are there
        unpushed = [*_recorded_removed(args.output_dir), *_files_under(args.output_dir, removed)]
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
        if unpushed:
            _write_run_record(args.output_dir, removed=sorted(set(unpushed)))
    accelerator.wait_for_everyone()


def _files_under(folder: str, names: Sequence[str]) -> list[str]:
    """The files ``names`` (entries of ``folder``) are, as ``/``-separated paths in it: a
    folder's files listed instead of it, a link as itself; the record (`RUN_FILES`) and the
    folders atomic saves stage in left out (no upload sends them)."""
    files = []
    for name in names:
        if name == RUN_FILES or name.startswith((".tmp-", ".old-")):
            continue
        path = os.path.join(folder, name)
        if not os.path.isdir(path) or os.path.islink(path):
            files.append(name)
            continue
        for root, _, children in os.walk(path):
            inside = os.path.relpath(root, folder).replace(os.sep, "/")
            files.extend(f"{inside}/{child}" for child in children)
    return sorted(files)


def _recorded_removed(output_dir: str) -> list[str]:
    """The paths the `RUN_FILES` record of ``output_dir`` lists as removed by its runs since the
    folder was last uploaded (`removed_run_files`), strings only."""
    removed = _read_run_record(output_dir).get("removed")
    return [p for p in removed if isinstance(p, str)] if isinstance(removed, list) else []


def removed_run_files(output_dir: str) -> list[str]:
    """The files (``/``-separated paths) that the runs of ``output_dir`` deleted as an earlier
    run's outputs since it was last uploaded (`forget_removed_files`), which it does not hold
    again: what `training.hub.push_to_hub` deletes from the Hub repository where it holds them
    in the commit that uploads the folder. ``[]`` for a folder without the record.

    >>> removed_run_files("no/such/folder")
    []
    """
    return [
        path
        for path in _recorded_removed(output_dir)
        if not os.path.lexists(os.path.join(output_dir, *path.split("/")))
    ]


def forget_removed_files(output_dir: str) -> None:
    """Empty the record of removed files (`removed_run_files`) once they are deleted from the
    Hub repository the folder was uploaded to (main process only)."""
    if _recorded_removed(output_dir):
        _write_run_record(output_dir, removed=[])


__all__ = [
    "RUN_FILES",
    "clear_earlier_run",
    "earlier_run_outputs",
    "forget_removed_files",
    "planned_outputs",
    "read_run_files",
    "record_data_split",
    "record_run_files",
    "recorded_data_split",
    "removed_run_files",
    "source_files",
    "starts_fresh",
    "unrecorded_clashes",
]
