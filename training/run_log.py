"""A run's learning curve, ``train_log.jsonl``, read back: the figures it logged for an
update (which a resumed run reuses rather than validating that step twice), and the records
after a checkpoint dropped when a run resumes from it. A logged null is read back as None (JSON
holds no NaN: a NaN was written as null too), which the card shows as ``n/a``. A last line cut
short (a run killed, or its disk full, mid-write) is dropped with a warning; a damaged line
before it is an error."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from training.common import UsageError, process_logger

if TYPE_CHECKING:
    from accelerate import Accelerator

logger = process_logger(__name__)  # accelerate's: warns once, from the main process


def logged_evals(
    args: argparse.Namespace, accelerator: Accelerator, completed: int
) -> dict[int, dict[str, float | None]]:
    """``{completed: metrics}`` when the resumed checkpoint's last update, ``completed``, was
    validated in the run it resumes (the final validation of a run that had finished, kept by
    `trim_log`), else ``{}``: the resumed run reuses those figures for all_results.json
    rather than logging that step's validation twice (in ``train_log.jsonl`` and the
    trackers). The main process reads the log, which it alone writes, and sends the answer to
    the others: validation is collective, so every process must agree to skip it."""
    from accelerate.utils import broadcast_object_list

    if args.resume_from_checkpoint is None or not completed:
        return {}
    found: list[dict[str, float | None] | None] = [None]
    if accelerator.is_main_process:
        found = [logged_eval(os.path.join(args.output_dir, "train_log.jsonl"), completed)]
    metrics = broadcast_object_list(found)[0]
    return {completed: metrics} if metrics else {}


def logged_eval(path: str, step: int) -> dict[str, float | None]:
    """The validation figures the learning curve at ``path`` holds for update ``step``, without
    their ``eval_`` prefix (a null read back as None), or ``{}``.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "train_log.jsonl")
    >>> with open(path, "w", encoding="utf-8") as handle:
    ...     _ = handle.write('{"step": 2, "eval_nll": 6.1, "eval_loss": null, "train_seconds": 1}')
    >>> logged_eval(path, 2), logged_eval(path, 4)
    ({'nll': 6.1, 'loss': None}, {})
    >>> folder.cleanup()
    """
    metrics: dict[str, float | None] = {}
    for record in read_log(path):
        if record.get("step") == step and any(k.startswith("eval_") for k in record):
            metrics = {
                k.removeprefix("eval_"): v for k, v in record.items() if k.startswith("eval_")
            }
    return metrics


def logged_record(path: str, step: int, suffix: str) -> dict[str, Any]:
    """The last record the learning curve at ``path`` holds for update ``step`` with a key
    ending in ``suffix`` (the tune-title run's final retrieval figures: ``_eval_settings``),
    less its ``step`` and ``train_seconds`` (a null read back as None); ``{}`` when there is
    none.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "train_log.jsonl")
    >>> with open(path, "w", encoding="utf-8") as handle:
    ...     _ = handle.write('{"step": 2, "train_loss": 0.7, "train_seconds": 1}\\n'
    ...                      '{"step": 2, "unseen_eval_settings": 3, "unseen_r_at_1": null}')
    >>> logged_record(path, 2, "_eval_settings"), logged_record(path, 1, "_eval_settings")
    ({'unseen_eval_settings': 3, 'unseen_r_at_1': None}, {})
    >>> folder.cleanup()
    """
    found: dict[str, Any] = {}
    for record in read_log(path):
        if record.get("step") == step and any(k.endswith(suffix) for k in record):
            found = {k: v for k, v in record.items() if k not in ("step", "train_seconds")}
    return found


def read_log(path: str) -> list[dict[str, Any]]:
    """The records of the learning curve at ``path`` (``[]`` when there is none). A last line
    that is not a whole JSON record is a write cut short (the run was killed, or its disk
    filled, while appending it): it is left out, with a warning, and `trim_log` drops it from
    the file when the run resumes. A damaged line before the last is no such accident (the file
    was edited, or written by something else): a `UsageError` naming the file and the line."""
    lines, cut = _read_lines(path)
    _warn_cut(path, cut)
    return [record for _, record in lines]


def _read_lines(path: str) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """Each whole line of the learning curve at ``path`` with its record, and its last line
    when that is cut short (else ``""``): `read_log` without the warning.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "train_log.jsonl")
    >>> with open(path, "w", encoding="utf-8") as handle:
    ...     _ = handle.write('{"step": 1}\\n{"step": 2, "tr')
    >>> _read_lines(path)
    ([('{"step": 1}\\n', {'step': 1})], '{"step": 2, "tr')
    >>> with open(path, "w", encoding="utf-8") as handle:
    ...     _ = handle.write('{"step": 1, "tr\\n{"step": 2}\\n')
    >>> _read_lines(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training.errors.UsageError: .../train_log.jsonl line 1: not a JSON record (...
    >>> folder.cleanup()
    """
    if not os.path.isfile(path):
        return [], ""
    with open(path, encoding="utf-8", errors="replace") as handle:
        numbered = [(number, line) for number, line in enumerate(handle, 1) if line.strip()]
    lines: list[tuple[str, dict[str, Any]]] = []
    for number, line in numbered:
        try:
            record = json.loads(line)
        except ValueError as err:
            if number == numbered[-1][0]:
                return lines, line
            raise UsageError(
                f"{path} line {number}: not a JSON record ({err}); only the last line can be a "
                "write cut short: mend or delete that line, or start a new run"
            ) from err
        if not isinstance(record, dict):
            raise UsageError(f"{path} line {number}: not a JSON record (a {type(record).__name__})")
        lines.append((line, record))
    return lines, ""


def _warn_cut(path: str, cut: str) -> None:
    """Say that the last line of the learning curve at ``path``, ``cut``, is left out."""
    if cut:
        logger.warning(
            "%s: its last line is cut short (the run was killed, or out of disk space, while "
            "writing it) and is dropped: %r",
            path,
            cut[:60],
        )


def trim_log(path: str, completed: int | None) -> None:
    """Drop the learning-curve records after the checkpoint of ``completed`` updates (a killed
    run logged steps it then lost), so that the resumed run does not log them twice; and a last
    line cut short (`read_log`), which the next record appended would otherwise join into a
    damaged line. ``completed`` None keeps every whole record."""
    lines, cut = _read_lines(path)
    _warn_cut(path, cut)
    kept = [line for line, r in lines if completed is None or r.get("step", 0) <= completed]
    unterminated = bool(kept) and not kept[-1].endswith("\n")  # cut just before its newline
    if cut or unterminated or len(kept) < len(lines):
        # the writer's own temporary name: a fixed one was another process's too (a run on
        # another machine sharing the folder), or a folder left in the way
        from modeling_irish.file_utils import replacing_file  # lazy: modeling_irish loads torch

        with replacing_file(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
            handle.writelines(line if line.endswith("\n") else line + "\n" for line in kept)


__all__ = [
    "logged_eval",
    "logged_evals",
    "logged_record",
    "read_log",
    "trim_log",
]
