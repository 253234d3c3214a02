"""A stuck multi-process launch ends where it can be seen: ``--ddp_timeout`` bounds every
collective of `training/train.py`, and the two-process tests' `launch` stops the workers
that torchrun starts in sessions of their own and shows what they printed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

import psutil
import pytest


class _Built(Exception):
    """Raised by the stand-in Accelerator: the handlers `main` gave it are all the test needs."""


def _handlers(monkeypatch, argv: list[str]) -> list:
    import accelerate

    from training import train

    def accelerator(**kwargs):
        raise _Built(kwargs["kwargs_handlers"])

    monkeypatch.setattr(accelerate, "Accelerator", accelerator)
    with pytest.raises(_Built) as built:
        train.main(argv)
    return built.value.args[0]


def test_the_process_group_waits_ddp_timeout_seconds_at_a_collective(monkeypatch, tmp_path):
    """Without a timeout of its own a launch in which one process never reached a collective
    waited torch's 30 minutes; the flag sets it (the default is torch's, for a slow real run)."""
    from accelerate.utils import InitProcessGroupKwargs

    argv = ["--output_dir", str(tmp_path / "run")]
    for extra, seconds in (([], 1800), (["--ddp_timeout", "7"], 7)):
        timeouts = [
            h.timeout for h in _handlers(monkeypatch, argv + extra)
            if isinstance(h, InitProcessGroupKwargs)
        ]  # fmt: skip
        assert timeouts == [timedelta(seconds=seconds)]


def test_a_ddp_timeout_below_one_second_is_refused(capsys):
    from training.arguments import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--ddp_timeout", "0"])
    assert "--ddp_timeout" in capsys.readouterr().err


_STUCK = textwrap.dedent(
    """
    import subprocess, sys, time
    worker = "import time; print('worker waiting', flush=True); time.sleep(600)"
    subprocess.Popen([sys.executable, "-c", worker], start_new_session=True)
    print("launcher started", flush=True)
    time.sleep(600)
    """
)


def test_a_launch_past_its_time_is_stopped_with_its_workers_and_their_stacks():
    """A launcher whose worker runs in a session of its own, as torchrun's do: the worker is
    ended too (`subprocess.run`'s timeout left it running), and its stack shows where it was."""
    from test_training_two_processes import _stop_launch, ended

    env = {"PYTHONFAULTHANDLER": "1", "PATH": ""}
    pipe = subprocess.PIPE
    with subprocess.Popen(
        [sys.executable, "-c", _STUCK],
        stdout=pipe,
        stderr=pipe,
        text=True,
        env=env,
        encoding="utf-8",
    ) as process:
        with pytest.raises(subprocess.TimeoutExpired):
            process.communicate(timeout=3)
        workers = psutil.Process(process.pid).children(recursive=True)
        stdout, stderr = _stop_launch(process)
    assert len(workers) == 1 and ended(workers[0])
    assert "launcher started" in stdout and "worker waiting" in stdout
    assert "Fatal Python error: Aborted" in stderr and "most recent call first" in stderr
