"""The tune-title run's loss log (train_tune_title.py): the mean of the updates' losses over
``--logging_steps``, what a resumed checkpoint left unlogged, the run's training seconds and its
rows of ``train_log.jsonl``, as MeasureNote's training keeps them."""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Sequence

import numpy as np
import torch
from accelerate import Accelerator

from training.common import append_jsonl

__all__ = [
    "append_history",
    "recent_loss",
    "restored_log_state",
    "train_seconds",
    "update_loss",
]


def restored_log_state(
    saved: dict, completed: int, logging_steps: int
) -> tuple[list[float], tuple[float | None, int]]:
    """The resumed checkpoint's losses not yet logged and its last log's ``(mean, updates)``
    (``[]`` and ``(None, 0)`` when not resuming). A null (a NaN loss, which the checkpoint's
    JSON cannot hold) is read back as NaN. A checkpoint saved before they were recorded logged
    every ``logging_steps`` updates only: its unlogged updates are the last ``completed %
    logging_steps`` of its ``recent_losses``, and its last log is taken as their mean.

    >>> restored_log_state({"recent_losses": [4.0, 3.0, 2.0, 1.0]}, 6, 4)  # updates 3 to 6
    ([2.0, 1.0], (2.5, 4))
    >>> restored_log_state({"loss_window": [None], "last_loss": {"train_loss": 2.0,
    ...     "updates": 3}}, 4, 3)
    ([nan], (2.0, 3))
    """
    recent = [math.nan if v is None else v for v in saved.get("recent_losses", [])]
    if "loss_window" in saved:
        window = [math.nan if v is None else v for v in saved["loss_window"]]
        last = saved.get("last_loss", {})
        count = int(last.get("updates", 0))
        mean = last.get("train_loss")
        return window, ((math.nan if mean is None else mean) if count else None, count)
    unlogged = completed % logging_steps
    window = recent[len(recent) - unlogged :] if unlogged else []
    mean, count = recent_loss(recent, logging_steps)
    return window, (mean if count else None, count)


def recent_loss(losses: Sequence[float], logging_steps: int) -> tuple[float, int]:
    """The mean of the last ``logging_steps`` updates' losses and how many they are (fewer in
    a run of fewer updates; ``(nan, 0)`` for none): what the progress bar shows after an update
    that is not logged (a logged one shows the mean logged, `train_tune_title._log_window`).

    >>> recent_loss([4.0, 3.0, 2.0, 1.0], 2), recent_loss([4.0], 10)
    ((1.5, 2), (4.0, 1))
    """
    recent = list(losses[-logging_steps:])
    return (float(np.mean(recent)), len(recent)) if recent else (math.nan, 0)


def update_loss(accelerator: Accelerator, micro: list[torch.Tensor]) -> float:
    """The update's loss for logging: the mean of its micro-batches' losses, averaged over the
    processes. The cosine loss scores each process's own pairs, so one process's loss is half
    the story (the update trains on the mean, `train_tune_title._loss`); InfoNCE and hinge
    compute the gathered batch's loss in every process, which the average leaves as it is.
    Every process calls it (a collective), as train_measurenote.py's `_log_train` reduces
    MeasureNote's losses."""
    return float(accelerator.reduce(torch.stack(micro).mean(), "mean"))


def train_seconds(stats: dict) -> float:
    """Training seconds of the run so far, the runs it resumed included."""
    return stats["seconds_before"] + time.perf_counter() - stats["start"]


def append_history(
    args: argparse.Namespace, accelerator: Accelerator, step: int, seconds: float, record: dict
) -> None:
    """Append to ``output_dir/train_log.jsonl`` as MeasureNote's training does (the learning
    curve, kept by a killed run too and cut back to the checkpoint by a resumed one)."""
    if accelerator.is_main_process:
        row = {"step": step, "train_seconds": round(seconds, 3), **record}
        append_jsonl(os.path.join(args.output_dir, "train_log.jsonl"), row)
