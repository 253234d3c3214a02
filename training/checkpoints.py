"""The checkpoints of an output folder (``step_N`` / ``epoch_N`` with a
``training_state.json``), and the checks that refuse one before a resume loads it: which
checkpoints a folder holds, the newest, its state read back, why there is none to resume, and
whether one is whole (its weights, optimizer state and every process's random state), was
saved by as many processes as this run has, and is the newest of its folder. Resuming one
(`resume_state`) and the checks of the data and the budget: `training.run_resume`, which
re-exports the names the other modules take from it here.

It imports nothing heavy at its top: `training.arguments` reads the flags with it before torch
is imported (`training.train`)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from training.checkpoint_digests import (
    WEIGHTS_DIGESTS_FILE,
    WEIGHTS_FILES,
    byte_progress,
    has_weights_digests,
    read_chunks,
    weights_digest_problem,
)
from training.common import UsageError

TRAINING_STATE_FILE = "training_state.json"


_CHECKPOINT_RE = re.compile(r"^(step|epoch)_(\d+)$")


def read_training_state(checkpoint: str) -> dict[str, Any]:
    """The ``training_state.json`` written by `training.run_folder.save_checkpoint`; one that
    is not such a record (empty or cut short, as a full disk leaves a file) is refused in one
    line naming it and the checkpoint to resume instead, rather than with `json`'s traceback."""
    state, reason = _load_state(checkpoint)
    if state is None:
        raise UsageError(
            f"--resume_from_checkpoint {checkpoint}: its {TRAINING_STATE_FILE} is unreadable "
            f"({reason}); {_instead(checkpoint)}"
        )
    return state


def _load_state(checkpoint: str) -> tuple[dict[str, Any] | None, str]:
    """``(state, "")``, or ``(None, why)`` when ``training_state.json`` is not a record of
    completed updates."""
    with open(os.path.join(checkpoint, TRAINING_STATE_FILE), encoding="utf-8") as handle:
        try:
            state = json.load(handle)
        except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
            return None, str(err)
    if not isinstance(state, dict) or "completed_steps" not in state:
        return None, "no completed_steps"
    return state, ""


def latest_checkpoint(output_dir: str) -> str | None:
    """The complete ``step_N`` / ``epoch_N`` folder of ``output_dir`` with the most updates that
    can be read. One whose ``training_state.json`` is unreadable, or that lacks its weights,
    optimizer or random-state file (`missing_file`) or holds one that cannot be read
    (`damaged_file`), is skipped, with a warning naming it and the file: a damaged or
    incomplete checkpoint does not stop the resume of a good older or newer one."""
    for name in reversed(_by_updates(output_dir)):
        path = os.path.join(output_dir, name)
        why = _not_resumable(path)
        if why is None:
            return path
        _warn_skipped(path, why)
    return None


def _not_resumable(path: str) -> str | None:
    """Why checkpoint ``path`` (its state read) cannot be resumed: the file it lacks
    (`missing_file`) or the one that cannot be read (`damaged_file`); None when it can."""
    missing = missing_file(path)
    if missing is not None:
        return f"it lacks {missing[0]} ({missing[1]})"
    damage = damaged_file(path)
    return None if damage is None else f"its {damage[0]} cannot be read ({damage[1]})"


def _by_updates(output_dir: str, warn: bool = True) -> list[str]:
    """The checkpoints of ``output_dir`` (`checkpoint_names`) whose ``training_state.json``
    reads, fewest updates first (an ``epoch_N`` is named by its epoch, not its updates); the
    unreadable ones are left out, each warned once (`_warn_skipped`) when ``warn``."""
    found = []
    for name in checkpoint_names(output_dir):
        path = os.path.join(output_dir, name)
        state, reason = _load_state(path)
        if state is None:
            if warn:
                _warn_skipped(path, f"its {TRAINING_STATE_FILE} is unreadable ({reason})")
            continue
        found.append((int(state["completed_steps"]), name))
    return [name for _, name in sorted(found)]


_warned: set[str] = set()


def _warn_skipped(checkpoint: str, why: str) -> None:
    """Say once that "latest" passes over ``checkpoint``, and ``why`` (what is unreadable in
    it)."""
    warn_once(
        checkpoint,
        f"skipping checkpoint {checkpoint}: {why}; resuming the newest readable checkpoint",
    )


def warn_once(about: str, warning: str) -> None:
    """Print ``warning`` on stderr unless one ``about`` the same thing (a checkpoint's path, or
    another key) was printed already (the checks run more than once), by the first process of
    a launch only: every process reads the flags, before accelerate starts."""
    from training.arguments import first_process  # arguments imports this module (run_resume's)

    if about not in _warned and first_process():
        print(f"warning: {warning}", file=sys.stderr)
    _warned.add(about)


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
    readable = _by_updates(output_dir, warn=False)
    damaged = sorted(complete - set(readable))
    lacking = {n: missing_file(os.path.join(output_dir, n)) for n in readable}
    broken = [n for n in readable if damaged_file(os.path.join(output_dir, n)) is not None]
    lacks = [f"{n} without {file[0]}" for n, file in lacking.items() if file and n not in broken]
    found = []
    if damaged:
        found.append(f"{', '.join(damaged)} with an unreadable {TRAINING_STATE_FILE}")
    if lacks:
        found.append(", ".join(lacks))
    if broken:
        found.append(
            f"{', '.join(broken)} with weights, optimizer or random state that cannot be read"
        )
    if killed:
        found.append(f"{', '.join(killed)}, left by a run killed while saving a checkpoint")
    if partial:
        found.append(f"{', '.join(partial)} without {TRAINING_STATE_FILE}")
    if "model.safetensors" in names and not damaged and not broken and not lacks:
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
    found = {}  # name -> its updates
    for name in os.listdir(output_dir):
        m = _CHECKPOINT_RE.match(name)
        if m and os.path.isfile(os.path.join(output_dir, name, TRAINING_STATE_FILE)):
            found[name] = int(m[2])
    return sorted(found, key=lambda name: (found[name], name))


def put_back_replaced_checkpoints(output_dir: str) -> list[str]:
    """Put back, under its name, each checkpoint of ``output_dir`` that a run stopped while
    replacing it (`training.run_folder.save_checkpoint` renames the old ``step_N`` aside to
    ``.old-step_N``, then the new ``.tmp-step_N`` in): a signal between the two renames left
    neither under ``step_N``, so that the checkpoint was lost to "latest". The old one is put
    back: it was whole when renamed aside (a checkpoint is only ever renamed in whole), and a
    run resumed from it trains on as from the new one (the same name, the same updates); the
    ``.tmp-`` one is left, which "latest" passes over and the next save of that name deletes.
    Returns the names put back, each said on stderr by the process that put it back: every
    process of a launch reads the flags and calls this, and one rename wins (for the others
    the ``.old-`` folder is gone and ``step_N`` there, no error). A rename that fails
    otherwise is a warning naming the folder, and the run goes on without that checkpoint.

    >>> put_back_replaced_checkpoints("no/such/folder")
    []
    """
    if not os.path.isdir(output_dir):
        return []
    put_back = []
    for aside in sorted(os.listdir(output_dir)):
        name = aside[len(".old-") :]
        if not aside.startswith(".old-") or not _CHECKPOINT_RE.match(name):
            continue
        old, final = os.path.join(output_dir, aside), os.path.join(output_dir, name)
        if os.path.lexists(final) or not os.path.isfile(os.path.join(old, TRAINING_STATE_FILE)):
            continue  # replaced (a stuck .old- is the save's warning), or no checkpoint
        try:
            os.rename(old, final)
        except OSError as err:
            if not os.path.lexists(final):  # else another process of the launch put it back
                print(f"warning: cannot put back checkpoint {old}: {err}", file=sys.stderr)
            continue
        print(
            f"train.py: put back checkpoint {final} from {aside}, where a run stopped while "
            "replacing it had left it",
            file=sys.stderr,
        )
        put_back.append(name)
    return put_back


def check_newest_checkpoint(path: str, completed: int, output_dir: str) -> None:
    """Refuse (`UsageError`) to train on from ``path`` (``completed`` updates) into
    ``output_dir`` when that folder holds checkpoints with more updates: the resumed run would
    write its own ``step_N`` over some of them and leave the others, which "latest" would then
    resume, and replace the later run's model, log and results, so that the folder mixed two
    runs. The way out is to resume the newest, or to branch into another ``--output_dir`` (one
    that holds no run, `training.arguments._check_resume_output_dir`). A later checkpoint that
    cannot be resumed (`missing_file`, `damaged_file`: "latest" passes over it) does not count:
    it is left as it is, with a warning (a checkpoint the run saves under its name replaces
    it)."""
    newer = []
    for name in _by_updates(output_dir, warn=False):  # fewest updates first
        checkpoint = os.path.join(output_dir, name)
        if _updates(checkpoint) <= completed:
            continue
        why = _not_resumable(checkpoint)
        if why is None:
            newer.append(name)
            continue
        warn_once(
            checkpoint,
            f"leaving checkpoint {checkpoint} as it is: it is later than {path}, but {why}, so "
            f"it cannot be resumed; training on from {path} (a checkpoint the run saves as "
            f"{name} replaces it)",
        )
    if not newer:
        return
    newest = os.path.join(output_dir, newer[-1])
    raise UsageError(
        f"--resume_from_checkpoint {path} has done {completed} updates, and {output_dir} holds "
        f"later checkpoints of its run ({', '.join(newer)}), which training on from it there "
        f"would replace or leave mixed with the new run: resume the newest ({newest}, or "
        "--resume_from_checkpoint alone) to go on with that run, or give another --output_dir "
        f"(one that holds no run) to branch a new run from {path}"
    )


def _updates(checkpoint: str) -> int:
    """The updates a checkpoint whose state reads (`_by_updates`) has done."""
    state, _ = _load_state(checkpoint)
    return int(state["completed_steps"]) if state is not None else 0


def resumed_checkpoint(args: argparse.Namespace) -> str | None:
    """The checkpoint folder ``--resume_from_checkpoint`` names (``latest``: the newest of
    ``--output_dir``), or None when the run does not resume or there is none."""
    path = args.resume_from_checkpoint
    return latest_checkpoint(args.output_dir) if path == "latest" else path


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
    run ends with other weights. A checkpoint saved before `training.run_folder.save_checkpoint`
    waited for every process can lack one; the refusal names it, and the newest checkpoint
    beside it that is whole. One that is there but cannot be read (cut short: accelerate's
    `load_state` catches that too) is refused by name as well (`state_file_problem`: no
    pickle in it is loaded).

    >>> check_random_states("no/such/step_5", 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training.errors.UsageError: --resume_from_checkpoint no/such/step_5 lacks random_states_0.pkl...
    """
    missing = _missing_random_states(path, num_processes)
    if not missing:
        for i in range(num_processes):
            name = RANDOM_STATES_FILE.format(i)
            reason = state_file_problem(os.path.join(path, name))
            if reason:
                raise _damage_error(path, name, reason, num_processes)
        return
    files = ", ".join(RANDOM_STATES_FILE.format(i) for i in missing)
    processes = ", ".join(str(i) for i in missing)
    raise UsageError(
        f"--resume_from_checkpoint {path} lacks {files} (the random state of process "
        f"{processes}): it was saved incomplete, and a run resumed from it would not train as "
        f"the interrupted run did; {_instead(path, num_processes)}"
    )


#: What `accelerator.save_state` writes for the script's model and optimizer: each entry's
#: files (either one: the weights are ``pytorch_model.bin`` with ``safe_serialization=False``),
#: and what they hold. `accelerator.load_state` needs them all.
STATE_FILES = (
    (WEIGHTS_FILES, "the model weights"),
    (("optimizer.bin",), "the optimizer state"),
)


def check_state_files(path: str, num_processes: int) -> None:
    """A checkpoint resumes only with its weights and optimizer state (`STATE_FILES`): without
    one, accelerate's `load_state` stops with a traceback (a ``FileNotFoundError`` that names
    ``pytorch_model.bin`` for missing safetensors weights). The refusal names the file and the
    newest checkpoint beside it that is whole.

    >>> check_state_files("no/such/step_5", 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training.errors.UsageError: --resume_from_checkpoint no/such/step_5 lacks model.safetensors...
    """
    missing = [(names[0], what) for names, what in STATE_FILES if not _has_any(path, names)]
    if not missing:
        return
    files, held = (", ".join(part) for part in zip(*missing))
    raise UsageError(
        f"--resume_from_checkpoint {path} lacks {files} ({held}): the checkpoint is incomplete "
        f"(a file removed or lost since it was saved) and cannot be loaded; "
        f"{_instead(path, num_processes)}"
    )


def missing_file(path: str) -> tuple[str, str] | None:
    """``(name, what it holds)`` for the first weights or optimizer file (`STATE_FILES`) or
    random state (`RANDOM_STATES_FILE`) of a process that saved it (its recorded
    ``num_processes``, 1 when it records none) that checkpoint ``path`` lacks, or None: the
    quick test of "latest", which `check_state_files` and `check_random_states` make in full.

    >>> missing_file("no/such/step_5")
    ('model.safetensors', 'the model weights')
    """
    for names, what in STATE_FILES:
        if not _has_any(path, names):
            return names[0], what
    has_state = os.path.isfile(os.path.join(path, TRAINING_STATE_FILE))
    state = _load_state(path)[0] if has_state else None
    saved = state.get("num_processes") if state is not None else None
    for i in _missing_random_states(path, saved if isinstance(saved, int) else 1):
        return RANDOM_STATES_FILE.format(i), f"the random state of process {i}"
    return None


def damaged_state_error(path: str, num_processes: int) -> UsageError | None:
    """The refusal of a checkpoint whose weights, optimizer state (`STATE_FILES`) or random
    state (`RANDOM_STATES_FILE`) cannot be read (cut short by a copy, or overwritten), or None
    when each file there opens (`damaged_file`, each read whole): called before accelerate's
    `load_state` (torch's load checks no CRC, and takes a file overwritten inside its zip
    without an error) and once it has failed, which said so with a traceback that named no
    file (safetensors' ``invalid header length``, torch's ``failed finding central directory``).
    The weights' sha256 is checked too (`weights_digest_problem`: safetensors keeps no CRC,
    and loads weights damaged inside without an error); a checkpoint that records none (saved
    by an older version) resumes unchecked, with one warning. The refusal names the file and
    the newest checkpoint beside it that is whole and readable.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "optimizer.bin"), "wb") as file:
    ...     _ = file.write(b"PK cut short")
    >>> str(damaged_state_error(folder, 1)).split(": ")[1]
    'optimizer.bin cannot be read (not a whole zip archive, as torch saves it)'
    """
    damage = damaged_file(path, quick=False)
    if damage is None and _has_any(path, WEIGHTS_FILES) and not has_weights_digests(path):
        warn_once(
            f"{path} {WEIGHTS_DIGESTS_FILE}",
            f"checkpoint {path} has no {WEIGHTS_DIGESTS_FILE} (saved by an older version): "
            "damage inside its weights cannot be told; resuming it unchecked",
        )
    return None if damage is None else _damage_error(path, *damage, num_processes)


def _damage_error(path: str, name: str, reason: str, num_processes: int) -> UsageError:
    """The one-line refusal of checkpoint ``path``, whose file ``name`` cannot be read."""
    return UsageError(
        f"--resume_from_checkpoint {path}: {name} cannot be read ({reason}): the checkpoint is "
        f"damaged (cut short or overwritten since it was saved); {_instead(path, num_processes)}"
    )


#: The size up to which a quick check (`damaged_file`) reads a torch ``.bin`` file whole to
#: test its CRCs; a larger one is checked by its zip directory and entry headers only, which
#: a file cut short fails (its directory is at its end). Damage inside one (its directory
#: whole) only a full read finds: the resume makes it before loading (`damaged_state_error`).
QUICK_CRC_BYTES = 64 * 2**20


def damaged_file(path: str, quick: bool = True) -> tuple[str, str] | None:
    """``(name, why)`` for the first weights or optimizer file (`STATE_FILES`) or random state
    (`RANDOM_STATES_FILE`, each there) of checkpoint ``path`` that is there but cannot be read
    (`state_file_problem`) or, read whole, is weights whose sha256 is not the one recorded
    when it was saved (`weights_digest_problem`), or None (a missing one is `check_state_files`' and
    `check_random_states`' to refuse). ``quick``: no tensor is loaded, and a ``.bin`` larger
    than `QUICK_CRC_BYTES` is not read whole, so that picking "latest" stays cheap."""
    names = [name for names, _ in STATE_FILES for name in names] + _random_state_names(path)
    for name in names:
        file = os.path.join(path, name)
        if not os.path.isfile(file):
            continue
        whole = not quick or os.path.getsize(file) <= QUICK_CRC_BYTES
        reason = state_file_problem(file, crc=whole)
        if reason is None and whole and name in WEIGHTS_FILES:
            reason = weights_digest_problem(path, name)
        if reason:
            return name, reason
    return None


_RANDOM_STATES_RE = re.compile(r"^random_states_(\d+)\.pkl$")  # RANDOM_STATES_FILE's names


def _random_state_names(path: str) -> list[str]:
    """The `RANDOM_STATES_FILE` names in folder ``path``, by process."""
    if not os.path.isdir(path):
        return []
    found = {}  # name -> its process
    for name in os.listdir(path):
        m = _RANDOM_STATES_RE.match(name)
        if m:
            found[name] = int(m[1])
    return sorted(found, key=found.__getitem__)


def state_file_problem(file: str, crc: bool = True) -> str | None:
    """Why a checkpoint's (or a saved model's) weights, optimizer or random-state file cannot
    be read, or None when it opens: a ``.safetensors`` file's header and sizes, a torch
    ``.bin`` or ``.pkl`` file's zip archive (as `torch.save` writes them: nothing in it is
    unpickled) and (with ``crc``; else each entry's header only) its CRCs."""
    import zipfile

    if file.endswith(".safetensors"):
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(file, framework="numpy"):
                return None
        except (SafetensorError, OSError) as err:
            return str(err).splitlines()[0] if str(err) else type(err).__name__
    try:
        with zipfile.ZipFile(file) as archive:
            if crc:
                bad = _first_bad_entry(archive, file)
            else:
                for entry in archive.infolist():
                    with archive.open(entry):  # reads and checks its local header
                        pass
                bad = None
    except (zipfile.BadZipFile, OSError, EOFError):
        return "not a whole zip archive, as torch saves it"
    return f"{bad} in it fails its CRC check" if bad else None


def _first_bad_entry(archive: Any, file: str) -> str | None:
    """The name of the first entry of zip ``archive`` (of ``file``) that fails its CRC, or None:
    `zipfile.ZipFile.testzip`, with a progress bar over a large file (`byte_progress`)."""
    import zipfile

    entries = archive.infolist()
    with byte_progress(sum(e.file_size for e in entries), f"CRC {file}") as bar:
        for entry in entries:
            try:
                with archive.open(entry) as handle:
                    for _ in read_chunks(handle, bar):  # the CRC is checked at the end
                        pass
            except zipfile.BadZipFile:
                return entry.filename
    return None


def _has_any(path: str, names: Sequence[str]) -> bool:
    return any(os.path.isfile(os.path.join(path, name)) for name in names)


def _instead(path: str, num_processes: int = 0) -> str:
    """What to do rather than resume ``path`` (damaged or incomplete): resume the newest
    checkpoint beside it that is whole (`_is_whole`) and readable, or start a new run when none
    is (the checks stop at the newest that passes: an older one's files are not read)."""
    folder = os.path.dirname(os.path.normpath(path)) or "."
    own = os.path.basename(os.path.normpath(path))
    for name in reversed(_by_updates(folder, warn=False)):
        candidate = os.path.join(folder, name)
        if name != own and _is_whole(candidate, num_processes):
            return f"resume {candidate} instead, or start a new run"
    return (
        f"no other checkpoint of {folder} is whole and readable: start a new run (without "
        "--resume_from_checkpoint)"
    )


def _is_whole(path: str, num_processes: int) -> bool:
    """Whether ``path`` holds every file `accelerator.load_state` reads (its state read apart),
    each weights, optimizer and random-state file readable (`damaged_file`)."""
    has_files = all(_has_any(path, names) for names, _ in STATE_FILES)
    whole = has_files and not _missing_random_states(path, num_processes)
    return whole and damaged_file(path) is None


def _missing_random_states(path: str, num_processes: int) -> list[int]:
    """The processes (of ``0 .. num_processes - 1``) whose `RANDOM_STATES_FILE` ``path`` lacks."""
    files = (os.path.join(path, RANDOM_STATES_FILE.format(i)) for i in range(num_processes))
    return [i for i, file in enumerate(files) if not os.path.isfile(file)]


__all__ = [
    "QUICK_CRC_BYTES",
    "RANDOM_STATES_FILE",
    "STATE_FILES",
    "TRAINING_STATE_FILE",
    "check_newest_checkpoint",
    "check_random_states",
    "check_same_processes",
    "check_state_files",
    "checkpoint_names",
    "damaged_file",
    "damaged_state_error",
    "latest_checkpoint",
    "missing_file",
    "no_checkpoint_error",
    "put_back_replaced_checkpoints",
    "read_training_state",
    "resumed_checkpoint",
    "state_file_problem",
    "warn_once",
]
