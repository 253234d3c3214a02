"""A stuck multi-process launch ends where it can be seen: ``--ddp_timeout`` bounds every
collective of `training/train.py`, and the two-process tests' `launch` stops the workers
that torchrun starts in sessions of their own and shows what they printed."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import textwrap
import time
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
        before = _read_until(process, "worker waiting", timeout=60)
        workers = psutil.Process(process.pid).children(recursive=True)
        stdout, stderr = _stop_launch(process)
    stdout = before + stdout
    assert len(workers) == 1 and ended(workers[0])
    assert "launcher started" in stdout and "worker waiting" in stdout
    assert "Fatal Python error: Aborted" in stderr and "most recent call first" in stderr


# ----- a failed collective: one line in each process ---------------------------------------------
_GLOO_TIMEOUT = (
    "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:78] Timed out "
    "waiting 120000ms for recv operation to complete"
)
_GLOO_PEER_LOST = (
    "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection closed by "
    "peer [127.0.0.1]:34209. This is typically caused by a remote worker crashing."
)


def _cli_raising(monkeypatch, error: BaseException) -> int:
    """`cli` of a run whose training raised ``error`` (in process 1 of a launch)."""
    from training import train

    def main(argv=None):
        raise error

    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv("TRAIN_TRACEBACK", raising=False)
    monkeypatch.setattr(train, "main", main)
    return train.cli([])


def test_a_collective_past_ddp_timeout_ends_the_process_in_one_line(monkeypatch, capsys):
    """gloo's timeout (a plain RuntimeError) was a ~35-line traceback in each waiting process."""
    assert _cli_raising(monkeypatch, RuntimeError(_GLOO_TIMEOUT)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "train.py: error: process 1 waited 120 s at a collective for the others (--ddp_timeout): "
        "another process stopped or is stuck; see its output above (TRAIN_TRACEBACK=1"
    )


def test_a_collective_whose_peer_stopped_ends_the_process_in_one_line(monkeypatch, capsys):
    """The process at the other end exited: gloo's "Connection closed by peer", which torch may
    raise as a DistBackendError and the caller re-raise from it."""
    import torch.distributed as dist

    try:
        try:
            raise dist.DistBackendError(_GLOO_PEER_LOST)
        except RuntimeError as cause:
            raise RuntimeError("DDP's reducer failed") from cause
    except RuntimeError as wrapped:
        error = wrapped
    assert _cli_raising(monkeypatch, error) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("train.py: error: process 1 lost another process of the launch at a")


def test_train_traceback_shows_torchs_traceback_before_the_line(monkeypatch, capsys):
    from training import train

    assert _cli_raising(monkeypatch, RuntimeError(_GLOO_TIMEOUT)) == 1
    assert capsys.readouterr().err.count("\n") == 1
    monkeypatch.setenv("TRAIN_TRACEBACK", "1")
    assert train.cli([]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Traceback (most recent call last):" and "Timed out waiting" in lines[-2]
    assert lines[-1].startswith("train.py: error: process 1 waited 120 s")


def test_other_errors_keep_their_traceback(monkeypatch):
    """A RuntimeError that only sounds like one (no gloo, not torch.distributed's) is a bug."""
    for message in ("Timed out waiting for the kettle", "collective mismatch in gloo"):
        with pytest.raises(RuntimeError, match=message):
            _cli_raising(monkeypatch, RuntimeError(message))


def test_the_process_group_is_left_after_a_failed_collective(monkeypatch, tmp_path, capsys):
    """Left to the interpreter's exit, gloo's waiting threads can abort the process (status 134,
    "terminate called without an active exception") after its one line."""
    import torch.distributed as dist

    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        assert _cli_raising(monkeypatch, RuntimeError(_GLOO_TIMEOUT)) == 1
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert "process 1 waited" in capsys.readouterr().err


def _read_until(process: subprocess.Popen, text: str, timeout: float) -> str:
    """What ``process`` prints on stdout up to and including ``text``, read from its pipe's file
    descriptor (so `Popen.communicate` reads on from there), failing after ``timeout`` seconds
    without it: a busy machine may take seconds to start the worker (a fixed 3 s wait was flaky).
    """
    read, deadline = b"", time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while text.encode() not in read:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                pytest.fail(f"no {text!r} on stdout within {timeout:g} s: {read.decode()!r}")
            if selector.select(timeout=left):
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:  # stdout closed
                    pytest.fail(f"stdout ended without {text!r}: {read.decode()!r}")
                read += chunk
    return read.decode()
