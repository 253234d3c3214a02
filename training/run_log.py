"""A run's learning curve, ``train_log.jsonl``, read back: the figures it logged for an
update (which a resumed run reuses rather than validating that step twice), and the records
after a checkpoint dropped when a run resumes from it."""

from __future__ import annotations

import argparse
import json
import math
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accelerate import Accelerator


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
