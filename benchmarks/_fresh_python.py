"""Timing a fresh Python process, for the benchmarks of start-up (`bench_import_cost.py`,
`cli_cold_start.py`): the wall seconds of ``python ARGV`` run from a checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def fresh_environment(one_thread: bool = False) -> dict[str, str]:
    """This process's environment, bytecode caches allowed (what a user's Python does) and,
    with ``one_thread``, one torch thread unless set (a shared machine's cores are not the
    benchmark's)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if one_thread:
        env.setdefault("OMP_NUM_THREADS", "1")
    return env


def fresh_python_seconds(argv: list[str], checkout: Path, one_thread: bool = False) -> float:
    """Wall seconds of ``python ARGV`` run from ``checkout`` in `fresh_environment`. A run that
    fails is a `RuntimeError` naming the checkout, the command and the end of its stderr."""
    env = fresh_environment(one_thread)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *argv],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",  # only shown, as the end of a failure's stderr
    )
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(
            f"{checkout}: python {' '.join(map(repr, argv))} exited {result.returncode}:\n"
            f"{result.stderr[-1000:]}"
        )
    return seconds
