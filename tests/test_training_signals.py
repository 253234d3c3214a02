"""`training/train.py` stopped by a signal: SIGTERM (a cluster scheduler's stop) ends a run as
Ctrl-C does, in one line with its own status, its last checkpoint whole and resumed to the
weights of an uninterrupted run; a second signal while the run unwinds ends it at once, without
a traceback. The handler itself is tested in this process; the real signals (slow: each starts
an interpreter that imports torch) go to a script run as a program, ``python training/train.py``,
held at a checkpoint by `_HELD_RUN` so that the signal lands where the test means it to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
import torch
from helpers import TUNE_TITLE_FLAGS, one_torch_thread  # noqa: F401
from helpers import training_argv as _argv
from safetensors.torch import load_file

from training import checkpoints, interrupts, run_folder, train

ROOT = Path(__file__).resolve().parents[1]


class _Exited(Exception):
    """What the patched `os._exit` raises in place of ending the test's process."""


@pytest.fixture
def exits(monkeypatch) -> list[int]:
    """The statuses `os._exit` was called with by `training.interrupts` (patched to raise)."""
    statuses: list[int] = []

    def exit_now(status: int) -> None:
        statuses.append(status)
        raise _Exited

    monkeypatch.setattr(interrupts.os, "_exit", exit_now)
    return statuses


@pytest.mark.parametrize(
    "signum, raised, status, line",
    [
        (signal.SIGINT, KeyboardInterrupt, 130, "train.py: interrupted"),
        (signal.SIGTERM, interrupts.Terminated, 143, "train.py: terminated (SIGTERM)"),
        (signal.SIGHUP, interrupts.HungUp, 129, "train.py: hung up (SIGHUP)"),
    ],
)
def test_a_second_signal_ends_the_process_at_once_with_the_first_ones_line(
    capsys, exits, signum, raised, status, line
):
    stops = interrupts.SignalStops("train.py")
    with pytest.raises(raised):
        stops(signum, None)
    assert capsys.readouterr().err == ""  # the command line says the first: `cli`
    with pytest.raises(_Exited):
        stops(signal.SIGINT, None)  # the second, whichever: the first one's line and status
    assert exits == [status]
    assert capsys.readouterr().err == f"{line}\n"
    stops.said = True  # `cli` said it already: a second signal adds no line
    with pytest.raises(_Exited):
        stops(signal.SIGTERM, None)
    assert exits == [status, status] and capsys.readouterr().err == ""


class _Stream:
    """A standard stream whose flush raises ``error`` (its reader gone, or closed), if any, and
    otherwise counts the flush."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.flushes = 0

    def flush(self) -> None:
        if self.error is not None:
            raise self.error
        self.flushes += 1


@pytest.mark.parametrize(
    "stdout_error, stderr_error",
    [
        (BrokenPipeError(32, "Broken pipe"), None),
        (None, ValueError("I/O operation on closed file.")),
        (BrokenPipeError(32, "Broken pipe"), OSError(5, "Input/output error")),
    ],
)
def test_leaving_with_a_stream_that_cannot_be_flushed_keeps_the_stops_status(
    monkeypatch, exits, stdout_error, stderr_error
):
    """``train.py ... | head -1`` then Ctrl-C: flushing the broken stdout raised out of the
    atexit callback ("Exception ignored ..."), which never reached its `os._exit`."""
    out, err = _Stream(stdout_error), _Stream(stderr_error)
    monkeypatch.setattr(interrupts.sys, "stdout", out)
    monkeypatch.setattr(interrupts.sys, "stderr", err)
    stops = interrupts.SignalStops("train.py")
    with pytest.raises(KeyboardInterrupt):
        stops(signal.SIGINT, None)
    stops.said = True
    with pytest.raises(_Exited):
        stops.leave()
    assert exits == [130]
    assert (out.flushes > 0, err.flushes > 0) == (stdout_error is None, stderr_error is None)


def test_install_handles_sighup_so_a_closed_terminal_ends_a_run_in_one_line(monkeypatch):
    """Python's own SIGHUP handling ended a run at once, without a word (status -1)."""
    installed = {}
    monkeypatch.setattr(interrupts.signal, "getsignal", lambda signum: signal.SIG_DFL)
    monkeypatch.setattr(interrupts.signal, "signal", installed.__setitem__)
    monkeypatch.setattr(interrupts.sys, "unraisablehook", interrupts.sys.unraisablehook)
    stops = interrupts.SignalStops("train.py")
    stops.install()
    assert installed[signal.SIGHUP] is stops


def test_the_command_line_says_a_sigterm_in_one_line_with_status_143(capsys, monkeypatch):
    def terminated(argv=None):
        raise interrupts.Terminated

    monkeypatch.setattr(train, "main", terminated)
    stops = interrupts.SignalStops("train.py")
    assert train.cli([], stops=stops) == 143
    assert capsys.readouterr().err == "train.py: terminated (SIGTERM)\n"
    assert stops.said  # a second signal now ends the process without a second line


@pytest.mark.parametrize(
    "task, stop, line",
    [
        ("measurenote", KeyboardInterrupt, "train.py: interrupted"),
        ("tune_title", interrupts.Terminated, "train.py: terminated (SIGTERM)"),
    ],
)
@pytest.mark.usefixtures("one_torch_thread")
def test_a_stopped_runs_line_starts_after_the_progress_bar_not_on_it(
    tunebook, cache_dir, tmp_path, monkeypatch, capsys, task, stop, line
):
    """The stop's line was written onto the bar's, which was left open: ``2/4 [00:01<00:01,
    1.96step/s]train.py: terminated (SIGTERM)``. stderr is made to say it is a terminal, where
    the bar is drawn (off one, training writes plain lines instead)."""
    from training import train_measurenote, train_tune_title

    module, name = {
        "measurenote": (train_measurenote, "_after_update"),
        "tune_title": (train_tune_title, "_should_stop"),
    }[task]
    checked = getattr(module, name)

    def stopped_at_step_2(*args):
        if 2 in args:  # the updates completed: the signal lands after the second
            raise stop
        return checked(*args)

    monkeypatch.setattr(module, name, stopped_at_step_2)
    flags = () if task == "measurenote" else TUNE_TITLE_FLAGS
    argv = _argv(tunebook, cache_dir, tmp_path / "run", *flags, "--max_train_steps", "4")
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar is drawn
    assert train.cli(argv) == interrupts.exit_status(stop())
    err = capsys.readouterr().err
    assert "/4 [" in err  # the bar was drawn: the line follows it
    assert err.split("\n")[-2:] == [line, ""]  # on its own line, the last


@pytest.mark.parametrize(
    "signum, status, line",
    [
        (signal.SIGINT, 130, "train.py: interrupted"),
        (signal.SIGTERM, 143, "train.py: terminated (SIGTERM)"),
    ],
)
@pytest.mark.usefixtures("one_torch_thread")
def test_an_error_a_library_raises_in_place_of_a_pending_stop_is_said_as_that_stop(
    tunebook, cache_dir, tmp_path, monkeypatch, capsys, signum, status, line
):
    """A Ctrl-C that lands while pyarrow calls back into Python (a dataset fetch) reached the
    user as pyarrow's own ``ArrowInvalid: Schema at index 0 was different`` and its ~100 lines
    of traceback, not as ``train.py: interrupted`` with status 130."""
    import pyarrow as pa

    from training import train_measurenote

    stops = interrupts.SignalStops("train.py")
    checked = train_measurenote._after_update

    def arrow_met_the_signal_at_step_2(*args):
        if 2 in args:
            with pytest.raises(KeyboardInterrupt):
                stops(signum, None)  # the signal's exception, which pyarrow swallows
            raise pa.lib.ArrowInvalid("Schema at index 0 was different")
        return checked(*args)

    monkeypatch.setattr(train_measurenote, "_after_update", arrow_met_the_signal_at_step_2)
    argv = _argv(tunebook, cache_dir, tmp_path / "run", "--max_train_steps", "4")
    capsys.readouterr()
    assert train.cli(argv, stops=stops) == status
    err = capsys.readouterr().err
    assert "ArrowInvalid" not in err and "Traceback" not in err
    assert err.split("\n")[-2:] == [line, ""]
    assert stops.said


def test_an_error_with_no_stop_pending_keeps_its_traceback(monkeypatch):
    def broken(argv=None):
        raise ValueError("a bug")

    monkeypatch.setattr(train, "main", broken)
    with pytest.raises(ValueError, match="a bug"):
        train.cli([], stops=interrupts.SignalStops("train.py"))


def test_the_stops_own_exception_handed_to_the_unraisable_hook_is_not_printed(monkeypatch):
    """pyarrow, meeting the signal's `KeyboardInterrupt` where it cannot raise it, prints it as
    a side traceback ("Exception ignored in"): `cli` says the stop in its one line instead."""
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: seen.append(args.exc_value))
    for signum in (signal.SIGINT, signal.SIGTERM):
        monkeypatch.setattr(signal, "signal", lambda *args: None)  # the test's own handlers
        stops = interrupts.SignalStops("train.py")
        stops.install()
        seen.clear()
        other, not_the_stop = ValueError("another"), KeyboardInterrupt()
        stops.unraisable(_unraisable(other))  # no stop pending: printed as before
        with pytest.raises(KeyboardInterrupt) as raised:
            stops(signum, None)
        stops.unraisable(_unraisable(raised.value))
        stops.unraisable(_unraisable(not_the_stop))
        assert seen == [other, not_the_stop]


def _unraisable(exc: BaseException):
    """What Python hands `sys.unraisablehook` for ``exc``."""
    return types.SimpleNamespace(
        exc_type=type(exc),
        exc_value=exc,
        exc_traceback=exc.__traceback__,
        err_msg=None,
        object=None,
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
def test_a_forked_worker_is_ended_by_sigterm_as_without_the_handler():
    """A ``datasets`` worker forked from the script inherits its handler, and its pool stops it
    with SIGTERM: raising there would print the worker's traceback."""
    stops = interrupts.SignalStops("train.py")  # this process's
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            signal.signal(signal.SIGTERM, stops)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        finally:
            os._exit(0)  # reached only if SIGTERM raised, or did not end the child
    _, status = os.waitpid(child, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


#: ``python training/train.py ARGV`` (the script run as a program, as `runpy` runs it for
#: ``python -m``), held once it has saved step_2 (it prints "held"), and, when ``SLOW_CLEANUP``
#: is set, slow to exit (it prints "exiting"), as a callback of huggingface_hub's is.
_HELD_RUN = textwrap.dedent(
    """
    import atexit, os, runpy, sys, time
    from training import run_folder

    saved = run_folder.save_checkpoint

    def held(accelerator, output_dir, name, state):
        folder = saved(accelerator, output_dir, name, state)
        if name == "step_2":
            print("held", flush=True)
            time.sleep(120)
        return folder

    run_folder.save_checkpoint = held
    if os.environ.get("SLOW_CLEANUP"):
        atexit.register(lambda: (print("exiting", flush=True), time.sleep(120)))
    sys.argv = ["training/train.py", *sys.argv[1:]]
    runpy.run_path("training/train.py", run_name="__main__")
    """
)


def _signal_a_held_run(
    argv: list[str], log: Path, *stops: tuple[str, int], env=None, again: float | None = None
) -> tuple[int, str]:
    """Run `_HELD_RUN` with ``argv``, its stderr in the file ``log`` (a pipe left unread
    would fill); send each ``(line, signal)`` of ``stops`` once the run prints ``line``, and
    the last signal once more ``again`` seconds after it, if given; its exit status and
    stderr."""
    with open(log, "w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", _HELD_RUN, *argv],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **(env or {})},
            encoding="utf-8",
        )
        try:
            for line, signum in stops:
                if not any(out.strip() == line for out in process.stdout):
                    break  # ended before it said the line: the asserts show its stderr
                process.send_signal(signum)
            if again is not None and stops:
                time.sleep(again)
                process.send_signal(stops[-1][1])  # a no-op once the process has ended
            process.communicate(timeout=300)
        finally:
            process.kill()
    return process.returncode, log.read_text(encoding="utf-8")


def _weights(folder) -> dict[str, torch.Tensor]:
    return load_file(os.path.join(folder, "model.safetensors"))


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_a_sigterm_stops_a_run_in_one_line_and_its_resume_ends_as_an_uninterrupted_run(
    tunebook, cache_dir, tmp_path
):
    """Python ended a run sent SIGTERM at once, without a word (status -15)."""
    extra = ("--max_train_steps", "6", "--checkpointing_steps", "2", "--key_augmentation")
    argv = _argv(tunebook, cache_dir, tmp_path / "b", *extra)
    status, err = _signal_a_held_run(argv, tmp_path / "err.txt", ("held", signal.SIGTERM))
    assert status == 143, err
    assert err.strip().splitlines()[-1] == "train.py: terminated (SIGTERM)"
    assert "Traceback" not in err
    step_2 = str(tmp_path / "b" / "step_2")
    assert run_folder.latest_checkpoint(str(tmp_path / "b")) == step_2
    checkpoints.check_state_files(step_2, 1)  # whole: loadable
    checkpoints.check_random_states(step_2, 1)
    train.main(_argv(tunebook, cache_dir, tmp_path / "b", *extra, "--resume_from_checkpoint"))
    train.main(_argv(tunebook, cache_dir, tmp_path / "a", *extra))
    straight, resumed = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[name], resumed[name]) for name in straight)


@pytest.mark.slow
def test_a_second_ctrl_c_while_the_run_exits_prints_no_traceback(tunebook, cache_dir, tmp_path):
    """The second Ctrl-C landed in an atexit callback (huggingface_hub's): Python printed
    "Exception ignored in atexit callback" and a traceback."""
    argv = _argv(tunebook, cache_dir, tmp_path / "run", "--max_train_steps", "6",
                 "--checkpointing_steps", "2")  # fmt: skip
    stops = (("held", signal.SIGINT), ("exiting", signal.SIGINT))
    status, err = _signal_a_held_run(argv, tmp_path / "err.txt", *stops, env={"SLOW_CLEANUP": "1"})
    assert status == 130, err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("train.py:")] == [
        "train.py: interrupted"
    ]
    assert run_folder.latest_checkpoint(str(tmp_path / "run")) == str(tmp_path / "run" / "step_2")


@pytest.mark.slow
def test_a_second_ctrl_c_soon_after_the_first_keeps_the_first_ones_status(
    tunebook, cache_dir, tmp_path
):
    """A second Ctrl-C some 200 ms after the first landed in Python's finalization (torch's
    teardown), after the default handlers were restored: it killed the process (status -2)."""
    argv = _argv(tunebook, cache_dir, tmp_path / "run", "--max_train_steps", "6",
                 "--checkpointing_steps", "2")  # fmt: skip
    status, err = _signal_a_held_run(argv, tmp_path / "err.txt", ("held", signal.SIGINT), again=0.2)
    assert status == 130, err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("train.py:")] == [
        "train.py: interrupted"
    ]
    assert run_folder.latest_checkpoint(str(tmp_path / "run")) == str(tmp_path / "run" / "step_2")
