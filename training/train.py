"""Train MeasureNote (or, via `--task`, the tune-title model) with accelerate.

Usage (any of these; with no arguments the small preset trains for a short budget on the
corpus bundled with music21, O'Neill's 1850 + Ryan's Mammoth, and leaves a loadable folder in
``runs/measurenote-small``)::

    accelerate launch training/train.py
    python training/train.py --corpus ../shared/data/thesession-c.abc --max_train_steps 20000
    accelerate launch training/train.py --preset base --config_overrides "note_dropout=0.3"

Two-process data parallelism on CPU (gloo; the script builds ``Accelerator(cpu=True)`` when no
CUDA device exists, which is what makes the processes share one model)::

    torchrun --nproc_per_node 2 training/train.py
    accelerate launch --multi_gpu --num_processes 2 training/train.py

(``accelerate launch --cpu --num_processes 2`` starts only one process with accelerate 1.x.)

Resume a killed run where it stopped, ending with the same weights as an uninterrupted run::

    accelerate launch training/train.py --checkpointing_steps 500 --resume_from_checkpoint

Ctrl-C, SIGTERM (a cluster scheduler's stop) and SIGHUP (a closed terminal) end a run in one
line, with status 130, 143 and 129 (`training.interrupts`); the checkpoints saved before are
whole, and such a resume goes on from the last.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # `python training/train.py`: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def refuse_a_hiding_package() -> None:
    """Stop (exit status 2, one line) when the package ``training`` is not the folder this
    script is in: ``python -m training.train`` run from a folder holding a ``training/`` of the
    user's, with or without ``__init__.py``, finds this script through an editable install's
    finder (``pip install -e .``), which fills in only the modules that package lacks, and
    would import the user's ``training/common.py`` in place of this one's without a word. Run
    here, before the script's own modules are imported, with the standard library alone (the
    check cannot live in the package it checks)."""
    import training

    here = os.path.dirname(os.path.abspath(__file__))
    folders = [os.fspath(folder) for folder in getattr(training, "__path__", ())]
    if folders and _same_folder(folders[0], here):
        return
    found = folders[0] if folders else getattr(training, "__file__", None) or repr(training)
    if os.environ.get("RANK", "0") == "0":  # every process of a launch meets it: one says it
        print(
            f"{os.path.basename(__file__)}: error: the package 'training' is {found}, which "
            f"hides this script's own {here}: run training/train.py by its path "
            f"({os.path.join(here, 'train.py')}) or from another folder",
            file=sys.stderr,
        )
    sys.exit(2)


def _same_folder(a: str, b: str) -> bool:
    """Whether the paths ``a`` and ``b`` are one folder (links and case followed); a path that
    is not there is no folder."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


refuse_a_hiding_package()

# Only light modules here: the flags are read (``--help`` answered, a bad flag refused) before
# torch and accelerate are imported, in `main`, with the task's modules (seconds).
from training.arguments import (  # noqa: E402
    UsageError,
    first_process,
    parse_args,
    report_to_list,
)
from training.common import (  # noqa: E402
    DISK_ERRNOS,
    UploadError,
    WriteError,
    make_process_loggers,
    process_logger,
    write_failure,
)
from training.errors import TRACEBACK_ENV, collective_failure, file_failure  # noqa: E402
from training.interrupts import SignalStops, exit_status, stop_line  # noqa: E402
from training.run_resume import NothingToTrain, check_newest_checkpoint_early  # noqa: E402

if TYPE_CHECKING:
    from accelerate import Accelerator

logger = process_logger(__name__)


# ----- tasks -------------------------------------------------------------------------------------
def run_measurenote(args: argparse.Namespace, accelerator: Accelerator) -> dict:
    """Train MeasureNote; returns the dict written to all_results.json (`train_measurenote.run`)."""
    from training import train_measurenote

    return train_measurenote.run(args, accelerator)


def run_tune_title(args: argparse.Namespace, accelerator: Accelerator) -> dict:
    """Train the tune-title dual encoder: ``run(args, accelerator)`` of train_tune_title.py."""
    from training import train_tune_title

    return train_tune_title.run(args, accelerator)


def ddp_kwargs(args: argparse.Namespace) -> list:
    """accelerate's DDP options: the tune-title task lets a process's batch leave parameters
    without a gradient (`find_unused_parameters`). MeasureNote's measure encoder reads only the
    measures a row's sequence has completed, so a batch of crops that all lie inside one bar
    never uses it; DDP then waited for gradients that process never made (two processes
    stopped with a gloo "collective mismatch", or "did not receive grad" at the next step).
    Whole tunes (`--task measurenote`) complete measures: they keep DDP's cheaper default."""
    if args.task != "tune_title":
        return []
    from accelerate.utils import DistributedDataParallelKwargs

    return [DistributedDataParallelKwargs(find_unused_parameters=True)]


def process_group_kwargs(args: argparse.Namespace) -> list:
    """accelerate's process-group options: ``--ddp_timeout`` seconds at any collective (a
    barrier, an all-reduce), after which a process whose peers never came stops with torch's
    timeout error, and the launcher ends the others, rather than the launch hanging on."""
    from datetime import timedelta

    from accelerate.utils import InitProcessGroupKwargs

    return [InitProcessGroupKwargs(timeout=timedelta(seconds=args.ddp_timeout))]


def main(argv: list[str] | None = None) -> dict:
    """Parse ``argv``, build the `Accelerator` and run the task; returns its results dict (a
    resume with nothing to train that would replace a run that went further writes nothing and
    returns that run's: `training.run_resume.check_not_behind_the_run`)."""
    args = parse_args(argv)
    # the flags are read: now torch, accelerate and the tasks' modules, and the loggers they
    # make, before logging is set up (as when this script imported them at its top)
    import torch
    from accelerate import Accelerator

    from training import train_measurenote, train_tune_title  # noqa: F401
    from training.hub import check_hub_before_training

    make_process_loggers()
    check_newest_checkpoint_early(args)  # before the corpus is read: the checkpoints tell
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level="INFO")
    accelerator = Accelerator(
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with=report_to_list(args.report_to) if args.with_tracking else None,
        project_dir=args.output_dir,
        # Without cpu=True, processes launched on a CPU-only machine each train their own copy.
        cpu=not torch.cuda.is_available(),
        kwargs_handlers=ddp_kwargs(args) + process_group_kwargs(args),
    )
    quiet_other_processes(accelerator)
    tune_malloc(args, accelerator)
    record_precision(args, accelerator)
    check_hub_before_training(args, accelerator)
    _warn_if_no_fp16(accelerator)
    runners = {"measurenote": run_measurenote, "tune_title": run_tune_title}
    try:
        return runners[args.task](args, accelerator)
    except NothingToTrain as kept:  # the folder's run went further: nothing is written
        logger.warning(str(kept))
        return kept.results


#: The library's loggers (standard `logging`) that say the same thing in every process.
LIBRARY_LOGGERS = ("modeling_irish", "tokenization")


def quiet_other_processes(accelerator: Accelerator) -> None:
    """Keep the library's INFO and WARNING lines (corpus loading, tokenizing) to the main
    process: every process of a launch reads the same corpus and would print each line once per
    process. Errors still print everywhere. Only the script does this, as transformers'
    ``run_*_no_trainer.py`` scripts do for their libraries; a program importing the library
    keeps its logging (tests/test_training_arguments.py shows both cases). The progress bars of
    transformers (its "Loading weights" of the MiniLM title tower, which every process loads)
    and datasets are kept to the main process too."""
    if not accelerator.is_main_process:
        import datasets
        import transformers.utils.logging

        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        transformers.utils.logging.disable_progress_bar()
        datasets.disable_progress_bars()


def tune_malloc(args: argparse.Namespace, accelerator: Accelerator) -> bool:
    """On the CPU, unless ``--no_malloc_tuning``, keep the large blocks a step frees in the
    process heap (`training.allocator.keep_freed_memory`: glibc Linux only, and not when the
    user's environment tunes malloc): the next step reuses them without page faults. Returns
    whether it applied, which the log says."""
    if not args.malloc_tuning or accelerator.device.type != "cpu":
        return False
    from training.allocator import keep_freed_memory

    applied = keep_freed_memory()
    if applied:
        logger.info(
            "malloc: freed large blocks stay in the heap (glibc mmap and trim thresholds "
            "raised; --no_malloc_tuning leaves them)"
        )
    return applied


def record_precision(args: argparse.Namespace, accelerator: Accelerator) -> None:
    """Make ``args.mixed_precision`` the precision the run trains in: without the flag
    (None), accelerate takes the launcher's ``--mixed_precision`` or its config's. The model
    card and the trackers then show it, and the checkpoints record it, so that a resumed run
    goes on in it whatever its launcher says (unless given the flag)."""
    args.mixed_precision = accelerator.mixed_precision
    if isinstance(getattr(args, "recorded_flags", None), dict):  # see `recorded_flags`
        args.recorded_flags["mixed_precision"] = accelerator.mixed_precision


def _warn_if_no_fp16(accelerator: Accelerator) -> None:
    """fp16 on the CPU (``--mixed_precision fp16``, or the launcher's): accelerate accepts it and
    runs in float32 without a word; say so, and name bf16, which the CPU does run."""
    if accelerator.mixed_precision == "fp16" and accelerator.device.type == "cpu":
        logger.warning(
            "mixed precision fp16 needs a GPU: on the CPU accelerate trains in float32 (no "
            "autocast); --mixed_precision bf16 is the CPU's reduced precision"
        )


def cli(argv: list[str] | None = None, stops: SignalStops | None = None) -> int:
    """`main` for the command line: a `UsageError` (bad input found after argument parsing) is
    printed as ``train.py: error: <message>`` on stderr (by the first process of a launch),
    without a traceback, and gives exit status 2 like argparse's own errors; a failed upload
    at the end (`UploadError`: the model is saved) is one such line too, with status 1, and
    so is a file the disk refuses, full or read-only (`WriteError`, or an `OSError` of
    `DISK_ERRNOS` from a write not wrapped by `writing`): ``cannot write <path>: <reason>``,
    the checkpoints saved before it whole, and so is a local file in the way or refused
    (`training.errors.file_failure`: a file where a cache folder goes, permission denied),
    status 1, after its traceback only when ``TRAIN_TRACEBACK=1``; Ctrl-C is ``interrupted``
    (status 130) and SIGTERM, which the script run as a program turns into
    `training.interrupts.Terminated` (``stops``, told here that the line is said),
    ``terminated (SIGTERM)`` (status 143), and so is any exception raised while such a stop
    is pending (``stops.first``: a library that the signal's exception reached in a callback,
    pyarrow during a dataset fetch, raises its own error in its place); a collective of a
    multi-process launch that waited past ``--ddp_timeout`` or lost the process at its other
    end is one line in each process that met it (`training.errors.collective_failure`), status
    1, after torch's traceback only when ``TRAIN_TRACEBACK=1``; any other exception is a bug
    and keeps its traceback."""
    try:
        main(argv)
    except Exception:  # noqa: BLE001 - one a stop signal caused is said as that stop
        pending = stops.first if stops is not None else None
        if pending is None:
            return _known_failure()
        return _say_stop(pending, stops)
    except KeyboardInterrupt as stop:  # the last checkpoint (if any) is whole: they are atomic
        return _say_stop(stop, stops)
    leave_process_group()  # now, not in the interpreter's exit, when a peer may be gone
    return 0


def _say_stop(stop: KeyboardInterrupt, stops: SignalStops | None) -> int:
    """Say the run ``stop`` ended, in one line from the first process, and give its status."""
    if stops is not None:  # a second signal from now on ends the process without a word
        stops.said = True
    if first_process():  # Ctrl-C reaches every process of a launch
        print(f"{os.path.basename(__file__)}: {stop_line(stop)}", file=sys.stderr)
    return exit_status(stop)


def _known_failure() -> int:
    """Say the exception being handled in `cli` in one line and give its status, if it is one
    `cli` knows (its docstring lists them); re-raise it otherwise."""
    try:
        raise
    except UsageError as err:
        if first_process():  # every process of a launch meets the same error
            print(f"{os.path.basename(__file__)}: error: {err}", file=sys.stderr)
        return 2
    except UploadError as err:  # the run is saved; only the upload failed
        print(f"{os.path.basename(__file__)}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # each process says what it could not write: it may be alone
        if isinstance(err, WriteError) or err.errno in DISK_ERRNOS:
            print(f"{os.path.basename(__file__)}: error: {write_failure(err)}", file=sys.stderr)
            return 1
        line = file_failure(err)
        if line is None:
            raise
        _print_traceback_if_asked()
        print(f"{os.path.basename(__file__)}: error: {line}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # each process says what it met: the others may have stopped
        line = collective_failure(err)
        if line is None:
            raise
        _print_traceback_if_asked()
        print(f"{os.path.basename(__file__)}: error: {line}", file=sys.stderr)
        leave_process_group()
        return 1


def _print_traceback_if_asked() -> None:
    """Print the traceback of the error being handled when ``TRAIN_TRACEBACK`` is set (not 0):
    the command line says an error it knows in one line, and this shows where it was met."""
    if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
        traceback.print_exc()


def leave_process_group() -> None:
    """Destroy torch's process group, if this process is in one, after a collective failed or
    a run ended: left to the interpreter's exit, gloo's threads still waiting on a timed-out
    all-reduce can end the process with ``terminate called without an active exception``
    (SIGABRT, status 134) after its one line (a bare gloo all-reduce did, with torch 2.13), and
    a finished launch's second process was seen to hang for good in the DDP reducer's group
    destructor (joining gloo's loop thread) after the first had exited."""
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return
    with contextlib.suppress(Exception):  # the line is said; the group is gone either way
        dist.destroy_process_group()


__all__ = [
    "LIBRARY_LOGGERS",
    "UsageError",
    "cli",
    "leave_process_group",
    "main",
    "parse_args",
    "quiet_other_processes",
    "refuse_a_hiding_package",
    "run_measurenote",
    "run_tune_title",
    "tune_malloc",
]


if __name__ == "__main__":
    _stops = SignalStops(os.path.basename(__file__), loud=first_process())
    _stops.install()  # SIGTERM unwinds as Ctrl-C does; a second signal stops at once
    sys.exit(cli(stops=_stops))
