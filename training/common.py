"""Training helpers shared by the tasks: learning-rate schedule, tracking, evaluation, the
progress bar, JSON records and time budgets; and, re-exported, the errors that stop a run
(`training.errors`: `UsageError`, `UploadError`, `WriteError`, `writing`) (checkpoints saved:
`run_folder`; found and checked: `checkpoints`; resume: `run_resume`; uploads: `hub`).

Nothing heavy is imported at the top of this module, nor of the modules `training/arguments.py`
reads the flags with (`run_folder`, `run_record`, `run_resume`, `checkpoints`, `run_log`,
`argument_checks`, `tune_title_arguments`, `backbone_split`): ``train.py --help`` and a mistyped
or bad flag are answered before torch and accelerate load (seconds). Their loggers are
`process_logger`'s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from irish_tune.json_output import json_safe, shown_figure, strict_json
from training.errors import (
    DISK_ERRNOS,
    UploadError,
    UsageError,
    WriteError,
    disk_trouble,
    write_failure,
    writing,
)

__all__ = [
    "DIVERGED",
    "append_jsonl",
    "autocast_precision",
    "data_split_record",
    "evaluate_lm",
    "json_safe",
    "learning_rate_at",
    "lr_for",
    "make_process_loggers",
    "nothing_left",
    "parse_config_overrides",
    "process_logger",
    "published_data_split",
    "set_learning_rate",
    "set_weight_decay",
    "shown_log_figures",
    "tracked_config",
    "tracker_init_kwargs",
    "warn_long_warmup",
    "write_json",
    "SPLIT_FLAGS",
    "UploadError",
    "UsageError",
    "WriteError",
    "DISK_ERRNOS",
    "disk_trouble",
    "write_failure",
    "writing",
    "SECRET_FLAGS",
    "TRACKER_PROJECTS",
    "LOG_EVERY_SECONDS",
    "TrainingProgress",
    "log_time_budget",
    "loss_label",
    "minutes_left",
    "moot_flags",
    "progress_line",
    "save_bars_on_terminal_only",
    "recompute_steps_and_start_tracking",
    "stopped_by",
]

if TYPE_CHECKING:
    import torch
    from accelerate import Accelerator
    from accelerate.logging import MultiProcessAdapter


class _ProcessLogger:
    """accelerate's logger of one module (`accelerate.logging.get_logger`), made when first used
    or by `make_process_loggers`: importing accelerate imports torch."""

    made: list[_ProcessLogger] = []  # every one, for `make_process_loggers`

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: MultiProcessAdapter | None = None
        _ProcessLogger.made.append(self)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):  # asked before __init__ ran (copy, pickle): not the logger's
            raise AttributeError(attribute)
        return getattr(self.adapter(), attribute)

    def adapter(self) -> MultiProcessAdapter:
        """The logger itself, made on the first call."""
        if self._logger is None:
            from accelerate.logging import get_logger

            self._logger = get_logger(self.name)
        return self._logger


def process_logger(name: str) -> Any:
    """The logger of module ``name`` that the training modules use: accelerate's, which logs
    from the main process only (warns once), made when first used, so that importing the
    module imports no accelerate (nor torch)."""
    return _ProcessLogger(name)


def make_process_loggers() -> None:
    """Make every `process_logger` now: train.py calls it once the flags are read, before
    `logging.basicConfig`, where these loggers were made when accelerate was imported at the
    top of each module (``ACCELERATE_LOG_LEVEL`` sets the levels then, as it did)."""
    for lazy in _ProcessLogger.made:
        lazy.adapter()


logger = process_logger(__name__)  # accelerate's: warns once, from the main process


# ----- learning rate -----------------------------------------------------------------------------
def learning_rate_at(
    step: int,
    *,
    base_lr: float,
    scheduler_type: str = "step",
    warmup_steps: int = 0,
    step_size: int = 10_000,
    gamma: float = 0.5,
    total_steps: int = 1,
) -> float:
    """Learning rate of optimizer update number ``step`` (0-based).

    Linear warmup ``lr * (step + 1) / warmup_steps`` for the first ``warmup_steps`` updates, then
    - ``step``: ``lr * gamma ** (step // step_size)`` (the reference: halve every 10k updates);
    - ``cosine``: ``lr * 0.5 * (1 + cos(pi * t))``, ``t`` the fraction of post-warmup updates done;
    - ``constant``: ``lr``.

    >>> [learning_rate_at(s, base_lr=1.0, step_size=2) for s in (0, 1, 2, 5)]
    [1.0, 1.0, 0.5, 0.25]
    >>> learning_rate_at(0, base_lr=1.0, scheduler_type="constant", warmup_steps=4)
    0.25
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if scheduler_type == "step":
        return base_lr * gamma ** (step // step_size)
    if scheduler_type == "cosine":
        done = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, done)))
    if scheduler_type == "constant":
        return base_lr
    raise ValueError(f"unknown scheduler_type {scheduler_type!r}")


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set ``lr`` on every parameter group (the schedule is a pure function of the step, so a
    resumed run needs no scheduler state)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def set_weight_decay(optimizer: torch.optim.Optimizer, weight_decay: float) -> None:
    """Give the decay group ``weight_decay``: the first of the two groups both tasks build
    (`MeasureNoteForCausalLM.configure_optimizer_groups`, the tune-title ``_optimizer``: decayed
    matrices, then the rest at 0). A resumed run calls it after `accelerator.load_state`, which
    restores the checkpoint's group settings: a ``--weight_decay`` given on resuming would
    otherwise be reported and never applied (the lr is set before every update anyway)."""
    optimizer.param_groups[0]["weight_decay"] = weight_decay


def parse_config_overrides(text: str | None) -> dict[str, Any]:
    """``"a=1,b=0.5,c=true,d=gru"`` -> ``{"a": 1, "b": 0.5, "c": True, "d": "gru"}``; a key given
    twice is refused (which value was meant?).

    >>> parse_config_overrides("note_hidden_size=128, measure_num_heads=4")
    {'note_hidden_size': 128, 'measure_num_heads': 4}
    >>> parse_config_overrides("note_dropout=0.1,note_dropout=0.3")
    Traceback (most recent call last):
    ...
    ValueError: config key 'note_dropout' is given twice
    """
    out: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"config override {item!r} is not of the form name=value")
        if name.strip() in out:
            raise ValueError(f"config key {name.strip()!r} is given twice")
        out[name.strip()] = _parse_scalar(value.strip())
    return out


def _parse_scalar(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


# ----- after accelerator.prepare ---------------------------------------------------------------
def recompute_steps_and_start_tracking(
    args: Any, accelerator: Any, train_dl: Any, project: str
) -> None:
    """The dataloader length changes once sharded across processes: recompute
    ``max_train_steps`` / ``num_train_epochs`` from it, then start the trackers (with the run's
    scalar flags as the tracked config, `tracker_init_kwargs`) when ``--with_tracking``. A
    resume with nothing left to train from a checkpoint behind the run in its folder stops
    here, before anything is written (`training.run_resume.check_not_behind_the_run`); a warmup
    as long as the run is warned (`warn_long_warmup`)."""
    steps_per_epoch = math.ceil(len(train_dl) / args.gradient_accumulation_steps)
    given = args.max_train_steps
    if args.num_train_epochs:  # alone, the budget; with --max_train_steps, a cap on it
        by_epochs = args.num_train_epochs * steps_per_epoch
        args.max_train_steps = min(args.max_train_steps or by_epochs, by_epochs)
    # the flag that set the budget, for the messages about it
    args.budget_flag = "max_train_steps" if args.max_train_steps == given else "num_train_epochs"
    args.num_train_epochs = math.ceil(args.max_train_steps / steps_per_epoch)
    from training.run_resume import check_not_behind_the_run  # run_resume imports this module

    # before the trackers start: TensorBoard would purge the later steps of the run
    check_not_behind_the_run(args)
    warn_long_warmup(args)
    if args.with_tracking:
        accelerator.init_trackers(
            project, tracked_config(args), init_kwargs=tracker_init_kwargs(args)
        )


def warn_long_warmup(args: argparse.Namespace) -> None:
    """Warn when ``--num_warmup_steps`` is not below the run's updates (``max_train_steps``,
    known once `recompute_steps_and_start_tracking` counts the epochs): the lr rises through
    the whole run, to ``learning_rate * max_train_steps / num_warmup_steps`` at its last update
    (`learning_rate_at`), and never follows ``--lr_scheduler_type``."""
    warmup, total = getattr(args, "num_warmup_steps", 0), args.max_train_steps
    if not warmup or warmup < total:
        return
    budget = "--max_train_steps"
    if getattr(args, "budget_flag", "max_train_steps") == "num_train_epochs":
        budget = f"--num_train_epochs {args.num_train_epochs}"
    peak = learning_rate_at(total - 1, base_lr=args.learning_rate, warmup_steps=warmup)
    logger.warning(
        f"--num_warmup_steps {warmup} is not below the run's {total} updates ({budget}): the "
        f"whole run is warmup, and the lr peaks at {peak:.3g} ({100 * total / warmup:.0f}% of "
        f"--learning_rate {args.learning_rate:g}) in the last update, never following "
        f"--lr_scheduler_type {args.lr_scheduler_type}"
    )


def tracker_init_kwargs(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The trackers' ``init_kwargs``: a resumed run has TensorBoard purge the events that the
    run it resumes logged after the checkpoint (``purge_step``: the first update it makes
    again), as `training.run_resume.resume_state` trims ``train_log.jsonl``; without it
    TensorBoard drew the steps of a killed run twice.

    >>> tracker_init_kwargs(argparse.Namespace(resume_from_checkpoint=None))
    {}
    """
    from training.run_resume import (  # run_resume imports this module
        TRAINING_STATE_FILE,
        read_training_state,
        resumed_checkpoint,
    )

    path = resumed_checkpoint(args) if args.resume_from_checkpoint is not None else None
    if path is None or not os.path.isfile(os.path.join(path, TRAINING_STATE_FILE)):
        return {}  # a fresh run; or `resume_state` says why it cannot resume
    completed = int(read_training_state(path)["completed_steps"])
    return {"tensorboard": {"purge_step": completed + 1}}


def moot_flags(args: argparse.Namespace) -> dict[str, str]:
    """The flags that the run's other settings make moot, each with why: `parse_args` warns
    when one is given, and the model cards leave them out of their hyper-parameters (a card
    listing ``lr_gamma`` under the constant schedule says it was applied). The tune-title
    task's own flags are judged only for that task (the other is told it ignores them).

    >>> run = argparse.Namespace(task="measurenote", lr_scheduler_type="constant")
    >>> sorted(moot_flags(run))
    ['hub_token', 'lr_gamma', 'lr_step_size', 'report_to']
    """
    scheduler = getattr(args, "lr_scheduler_type", "step")
    unstepped = f"--lr_scheduler_type {scheduler} has no lr steps; only step does"
    conditions = {
        "report_to": (
            not getattr(args, "with_tracking", False),
            "only --with_tracking logs to trackers",
        ),
        "hub_token": (not getattr(args, "push_to_hub", False), "only --push_to_hub uses it"),
        "lr_step_size": (scheduler != "step", unstepped),
        "lr_gamma": (scheduler != "step", unstepped),
    }
    if getattr(args, "task", "measurenote") == "tune_title":
        conditions.update(
            hinge_margin=(args.loss_type != "hinge", "only --loss_type hinge has a margin"),
            finetune_title_encoder=(
                args.title_encoder != "minilm",
                "the char_gru title tower has no pretrained weights: it always trains",
            ),
            preset=(
                args.measurenote_path is not None,
                "the tune backbone takes its size from --measurenote_path",
            ),
        )
    return {name: why for name, (moot, why) in conditions.items() if moot}


#: Flags whose values are secrets: never written to disk (checkpoints, trackers' logs).
SECRET_FLAGS = ("hub_token",)
#: The trackers' project names (the tasks): accelerate logs into ``<output_dir>/<project>/``.
TRACKER_PROJECTS = ("measurenote", "tune_title")


def tracked_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run's scalar flags, the trackers' config (TensorBoard writes it to ``hparams.yml``),
    secrets (`SECRET_FLAGS`) left out.

    >>> tracked_config(argparse.Namespace(learning_rate=3e-4, hub_token="hf_x", corpus=["a"]))
    {'learning_rate': 0.0003}
    """
    return {
        k: v
        for k, v in vars(args).items()
        if isinstance(v, (int, float, str, bool)) and k not in SECRET_FLAGS
    }


def autocast_precision(accelerator: Accelerator) -> str:
    """The precision the prepared model's forward runs in, validation's included: accelerate
    wraps it in autocast under ``--mixed_precision bf16`` (and fp16 on a GPU; on the CPU fp16
    is no autocast), else float32."""
    return f"{accelerator.mixed_precision} autocast" if accelerator.native_amp else "float32"


# ----- evaluation (NLL definitions: modeling_irish.lm_evaluation, shared with the CLI) -----------
def evaluate_lm(
    model: torch.nn.Module, dataloader: Any, accelerator: Any, ignored_dur_ids: Sequence[int]
) -> dict[str, float]:
    """`summarise_nll` over a whole (prepared) dataloader, gathered across processes with
    ``gather_for_metrics`` (which drops the samples repeated to even out the last batch). The
    model is scored in eval mode and given back in its own mode, however the pass ends."""
    import torch

    from modeling_irish.lm_evaluation import per_tune_nll, summarise_nll
    from modeling_irish.threads import eval_mode

    rows = []
    with torch.no_grad(), eval_mode(model):
        for batch in dataloader:
            out = model(**{k: v for k, v in batch.items() if k != "labels"}, return_dict=True)
            sums = per_tune_nll(out.logits, out.dur_logits, batch["labels"], ignored_dur_ids)
            rows.append(accelerator.gather_for_metrics(sums))
        weight = accelerator.unwrap_model(model).config.dur_loss_weight
        return summarise_nll(
            torch.cat(rows) if rows else torch.zeros(1, 6, dtype=torch.float64), weight
        )


# ----- progress ----------------------------------------------------------------------------------
class TrainingProgress:
    """A tqdm bar over updates (main process only) that also shows the minutes left of a
    `--max_train_minutes` budget, whose end the step count alone does not tell. With a budget,
    the bar's total is the number of updates the budget is projected to allow at the rate so far
    (never above `total`), so its bar and ETA follow the clock rather than a far-off step cap.

    The bar is drawn only where stderr is a terminal. Off a terminal (``2>train.log``,
    ``nohup``, a cluster job) a redrawn bar would fill the log with carriage returns, and none
    at all would leave it silent between evaluations: stderr gets instead one plain line at
    most every `LOG_EVERY_SECONDS` seconds, and one at the end (`progress_line`).

    Used as a context manager (``with TrainingProgress(...) as progress:``), the bar is closed
    however the block ends: a run stopped by Ctrl-C, SIGTERM or an error then ends the bar's
    line, and the command line's one-line message (``train.py: interrupted``) starts its own,
    not after ``3.84step/s]``, whether stderr is a terminal or a log file.

    >>> with TrainingProgress(total=100, initial=0, max_minutes=None, enabled=False) as bar:
    ...     bar.update(loss=2.5)
    """

    def __init__(self, total: int, initial: int, max_minutes: float | None, enabled: bool) -> None:
        import time

        from tqdm.auto import tqdm

        self._clock = time.perf_counter
        self.start, self.max_minutes, self.cap = self._clock(), max_minutes, total
        self.initial = initial
        # off a terminal the bar still counts (its rate and ETA make the lines) but draws nowhere
        self.lines = enabled and not _stderr_is_terminal()
        self._last_line: float | None = None  # the clock at the last line; None: none yet
        self._last_step = initial
        file = _Discard() if self.lines else None
        self.bar = tqdm(total=total, initial=initial, disable=not enabled, unit="step", file=file)

    def update(
        self, loss: float | None = None, paused_seconds: float = 0.0, loss_updates: int = 0
    ) -> None:
        """One update done; `paused_seconds` (evaluation time) do not count against the budget.
        `loss`: the mean training loss over the last `loss_updates` updates, the value the run
        logs as ``train_loss`` (and reports as ``train_loss_last``), shown labelled with that
        count (`loss_label`); a NaN or infinite one as ``n/a`` with `DIVERGED`."""
        self.bar.update(1)
        # a diverged run's NaN shows as n/a (why), as its log lines and card show it
        shown = None if loss is None else shown_figure(loss, ".3f", DIVERGED)
        postfix = {} if shown is None else {loss_label(loss_updates): shown}
        if self.max_minutes is not None:
            spent = max(self._clock() - self.start - paused_seconds, 1e-9)  # seconds
            left = max(60 * self.max_minutes - spent, 0.0)
            postfix["min_left"] = f"{left / 60:.1f}"
            projected = self.bar.n + left * (self.bar.n - self.initial) / spent
            # + 1e-6: 7.9999999 updates (the clock's float noise) are 8, not 7
            self.bar.total = int(min(self.cap, max(projected + 1e-6, self.bar.n)))
        if postfix:
            self.bar.set_postfix(postfix, refresh=False)
        now = self._clock()
        if self.lines and now - (self._last_line or self.start) >= LOG_EVERY_SECONDS:
            self._write_line(now)

    def _write_line(self, now: float) -> None:
        """Write the plain progress line of the bar as it stands to stderr."""
        print(progress_line(self.bar.format_dict), file=sys.stderr, flush=True)
        self._last_line, self._last_step = now, self.bar.n

    def close(self) -> None:
        """Close the bar (its last line stays on the terminal, ended by a newline); off a
        terminal, write the last progress line unless the last line written showed that step."""
        if self.lines and self._last_step != self.bar.n:
            self._write_line(self._clock())
        self.bar.close()

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: Off a terminal, `TrainingProgress` writes a progress line at most this often (seconds): a
#: log of a day-long run gets a few thousand lines, and a stalled run shows within a minute.
LOG_EVERY_SECONDS = 30.0


class _Discard:
    """A text stream that keeps nothing: where the bar that counts off a terminal draws."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (False for a file, a pipe, or a stream without ``isatty``)."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextlib.contextmanager
def save_bars_on_terminal_only() -> Iterator[None]:
    """Within the block, transformers' and huggingface_hub's progress bars (``Writing model
    shards`` of ``save_pretrained``, the upload of ``--push_to_hub``) are drawn only where
    stderr is a terminal: in a log
    (``2>train.log``) they were carriage-return redraws. Both switches are global: each one's
    state before is restored after (one already off stays off: transformers' switch turns the
    hub's on with its own, so the hub's is turned off again after it when it was off).

    >>> from transformers.utils import logging as hf_logging
    >>> before = hf_logging.is_progress_bar_enabled()
    >>> with save_bars_on_terminal_only():
    ...     pass
    >>> hf_logging.is_progress_bar_enabled() == before
    True
    """
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )
    from transformers.utils import logging as hf_logging

    if _stderr_is_terminal():
        yield
        return
    transformers_on = hf_logging.is_progress_bar_enabled()
    hub_on = not are_progress_bars_disabled()
    if transformers_on:
        hf_logging.disable_progress_bar()
    if hub_on:
        disable_progress_bars()
    try:
        yield
    finally:
        if transformers_on:
            hf_logging.enable_progress_bar()  # the hub's too, whatever they were before
        if hub_on:
            enable_progress_bars()
        elif transformers_on:
            disable_progress_bars()


def progress_line(meter: dict[str, Any]) -> str:
    """The plain progress line (no carriage return, no bar) of a tqdm ``format_dict``: the
    step of the total, the bar's postfix, the rate, and the time spent and left.

    >>> progress_line({"n": 40, "total": 200, "elapsed": 30.0, "rate": None, "initial": 0,
    ...                "postfix": "loss (mean of 10)=2.500"})
    'step 40/200 (20%), loss (mean of 10)=2.500, 1.33 step/s, elapsed 00:30, ETA 02:00'
    """
    from tqdm import tqdm

    n, total, elapsed = meter["n"], meter["total"], meter["elapsed"]
    done = n - meter.get("initial", 0)
    rate = meter["rate"] or (done / elapsed if elapsed > 0 else None)
    parts = [f"step {n}/{total}" + (f" ({100 * n // total}%)" if total else "")]
    if meter.get("postfix"):
        parts.append(str(meter["postfix"]))
    if rate:
        parts.append(f"{rate:.2f} step/s")
    parts.append(f"elapsed {tqdm.format_interval(elapsed)}")
    if rate and total:
        parts.append(f"ETA {tqdm.format_interval(max(total - n, 0) / rate)}")
    return ", ".join(parts)


def loss_label(updates: int) -> str:
    """The progress bar's name of a mean training loss over ``updates`` updates (0: a count
    not known, such as that of a checkpoint saved before it was recorded).

    >>> loss_label(10), loss_label(0)
    ('loss (mean of 10)', 'loss')
    """
    return f"loss (mean of {updates})" if updates else "loss"


# ----- figures shown ----------------------------------------------------------------------------
#: Why a training log line and a model card show a figure as ``n/a`` that was no finite number
#: (NaN or infinite).
DIVERGED = "not a finite number: the run diverged"


def shown_log_figures(figures: dict[str, Any]) -> str:
    """The figures of a periodic training log line (``step N: ...``), each rounded to 4
    decimals, or ``n/a`` with `DIVERGED` for a NaN or infinite one, as the model card shows it,
    never a bare ``nan``. Only the text: the trackers and ``train_log.jsonl`` get the raw float.

    >>> shown_log_figures({"nll": 2.123456, "tokens": 1234.0, "loss": float("nan")})
    'nll 2.1235, tokens 1234.0, loss n/a (not a finite number: the run diverged)'
    """
    shown = (round(v, 4) if isinstance(v, float) else v for v in figures.values())
    return ", ".join(f"{k} {shown_figure(v, '', DIVERGED)}" for k, v in zip(figures, shown))


# ----- JSON records ------------------------------------------------------------------------------
def append_jsonl(path: str, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line (NaN and infinities as null, with a warning: see
    `write_json`); a full or read-only disk is a `WriteError`."""
    with writing(path), open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(_strict(path, record), sort_keys=True, allow_nan=False) + "\n")


def write_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, strict: a NaN or infinite float (a diverged loss) is
    written as null, not as the bare ``NaN`` that JSON parsers other than Python's refuse, and
    a warning names it (once per file and keys): read back, it is None, as a figure that was
    None is. Not an error: a diverged run's checkpoints and results are still worth keeping.

    >>> import os, tempfile
    >>> from accelerate.state import PartialState
    >>> _ = PartialState(cpu=True)  # the warning goes through accelerate's logger
    >>> scratch = tempfile.TemporaryDirectory()
    >>> path = os.path.join(scratch.name, "results.json")
    >>> write_json(path, {"loss": float("nan"), "steps": [1, float("inf")]})
    >>> open(path, encoding="utf-8").read().split()
    ['{', '"loss":', 'null,', '"steps":', '[', '1,', 'null', ']', '}']
    >>> scratch.cleanup()
    """
    with writing(path), open(path, "w", encoding="utf-8") as handle:
        json.dump(_strict(path, data), handle, indent=2, sort_keys=True, allow_nan=False)
        handle.write("\n")


def _strict(path: str, data: dict[str, Any]) -> Any:
    """``data`` as `json_safe` makes it, with a warning (once per file and keys) naming the
    figures it wrote as null."""
    return strict_json(data, path, warn=logger.warning_once)


# ----- what a run trained on (all_results.json) -------------------------------------------------
#: The flags that choose a run's training split (`load_abc_corpus`'s arguments).
SPLIT_FLAGS = (
    "corpus",
    "split_ratios",
    "split_seed",
    "split_method",
    "link_incipits",
    "require_bars_fit",
)


def data_split_record(args: argparse.Namespace) -> dict[str, Any]:
    """The run's `SPLIT_FLAGS` (corpus paths absolute) and its data's fingerprint
    (`training.data.data_fingerprint`: tunes and hash of each split, the vocabulary), kept in
    the run's folder (`training.run_record.record_data_split`; all_results.json's
    ``data_split`` is `published_data_split`'s): a tune-title run on a MeasureNote backbone
    compares its own split with it, to say which of its queries the backbone trained on.

    >>> run = argparse.Namespace(corpus=None, split_ratios=[8, 1, 1], split_seed=1)
    >>> data_split_record(run)
    {'corpus': None, 'split_ratios': [8, 1, 1], 'split_seed': 1, 'fingerprint': None}
    """
    from training.run_folder import run_flags  # run_folder imports this module

    flags = run_flags(args)
    record = {name: flags[name] for name in SPLIT_FLAGS if name in flags}
    record["fingerprint"] = getattr(args, "data_fingerprint", None)
    return record


def published_data_split(split: dict[str, Any]) -> dict[str, Any]:
    """A `data_split_record` as all_results.json (uploaded with ``--push_to_hub``) keeps it: the
    corpus files by name only, as the model card names them, not by the trainer's paths; the
    whole record stays in the run's `training.run_record.RUN_FILES`, which is not uploaded
    (`training.run_record.record_data_split`).

    >>> published_data_split({"corpus": ["/home/me/tunes.abc", "oneills1850"], "split_seed": 1})
    {'corpus': ['tunes.abc', 'oneills1850'], 'split_seed': 1}
    """
    corpus = split.get("corpus")
    if not corpus:
        return dict(split)
    return {**split, "corpus": [os.path.basename(os.path.normpath(str(s))) for s in corpus]}


# ----- time budget and the learning rate (both tasks) -------------------------------------------
def minutes_left(max_minutes: float | None, seconds_before: float) -> float | None:
    """What is left of a ``--max_train_minutes`` budget after the ``seconds_before`` that the
    runs a resumed run goes on from trained (the budget is the whole run's).

    >>> minutes_left(30, 600.0), minutes_left(None, 600.0)
    (20.0, None)
    """
    return None if max_minutes is None else max(max_minutes - seconds_before / 60, 0.0)


def nothing_left(args: argparse.Namespace, completed: int, seconds_before: float) -> bool:
    """Whether a run resumed after ``completed`` updates and ``seconds_before`` seconds of
    training has no update left to make: ``--max_train_steps`` reached, or the whole
    ``--max_train_minutes`` already spent (logged, as when the clock stops a run).

    >>> ns = argparse.Namespace(max_train_steps=100, max_train_minutes=1.0)
    >>> nothing_left(ns, 10, 30.0), nothing_left(ns, 100, 0.0)
    (False, True)
    """
    if completed >= args.max_train_steps:
        return True
    spent = minutes_left(getattr(args, "max_train_minutes", None), seconds_before) == 0
    if spent:
        log_time_budget(args, completed)
    return spent


def log_time_budget(args: argparse.Namespace, completed: int) -> None:
    """Say that ``--max_train_minutes`` ended the run, and where."""
    logger.info(
        "--max_train_minutes %g spent: training stops after %d of %d updates",
        args.max_train_minutes, completed, args.max_train_steps,
    )  # fmt: skip


def stopped_by(args: argparse.Namespace, completed: int) -> str:
    """Why a run ended, for all_results.json: ``"max_train_minutes"`` when the time budget ran
    out before ``max_train_steps`` (which already counts ``--num_train_epochs``), else
    ``"max_train_steps"``.

    >>> stopped_by(argparse.Namespace(max_train_steps=100, max_train_minutes=30), 62)
    'max_train_minutes'
    """
    if getattr(args, "max_train_minutes", None) is not None and completed < args.max_train_steps:
        return "max_train_minutes"
    return "max_train_steps"


def lr_for(args: argparse.Namespace, step: int) -> float:
    """`learning_rate_at` with this run's flags."""
    return learning_rate_at(
        step,
        base_lr=args.learning_rate,
        scheduler_type=args.lr_scheduler_type,
        warmup_steps=args.num_warmup_steps,
        step_size=args.lr_step_size,
        gamma=args.lr_gamma,
        total_steps=args.max_train_steps,
    )
