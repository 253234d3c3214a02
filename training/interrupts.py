"""How ``training/train.py`` stops on a signal: Ctrl-C (SIGINT), SIGTERM, which a cluster
scheduler, ``kill`` or a launcher (``torchrun``) sends, and SIGHUP (its terminal closed) each
raise an exception in the main thread, so that the run unwinds (temporary files removed,
trackers ended) and the command line (`training.train.cli`) says so in one line, with status
130, 143 or 129. A second signal while the
run unwinds from the first, or exits, ends the process at once (`SignalStops`), and one that
lands later still, while the interpreter finalizes, finds no finalization left to land in (the
process leaves after its atexit callbacks). Checkpoints are
atomic (`training.run_folder.save_checkpoint`): whenever a signal lands, the folder holds whole
``step_N`` folders and at most a ``.tmp-step_N`` that ``--resume_from_checkpoint`` passes over.
Standard library only: the script installs it before anything heavy is imported."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
from types import FrameType
from typing import TextIO

__all__ = ["HungUp", "SignalStops", "Terminated", "exit_status", "stop_line"]


class Terminated(KeyboardInterrupt):
    """The run was sent SIGTERM: raised as Ctrl-C's `KeyboardInterrupt` is (it is one, so that
    what cleans up after Ctrl-C cleans up after it), and reported as ``terminated (SIGTERM)``
    with status 143. Python's own handling of SIGTERM ended the process at once, without a word
    (and without removing its temporary files or ending its trackers)."""


class HungUp(KeyboardInterrupt):
    """The run was sent SIGHUP (its terminal or ssh session closed): raised and cleaned up
    after as `Terminated` is, and reported as ``hung up (SIGHUP)`` with status 129. Python's
    own handling of SIGHUP ended the process at once, without a word."""


def exit_status(stop: KeyboardInterrupt) -> int:
    """The status of a run stopped by ``stop``: 128 + the signal's number, as a shell reports
    it (130 for Ctrl-C, 143 for SIGTERM).

    >>> exit_status(KeyboardInterrupt()), exit_status(Terminated())
    (130, 143)
    >>> exit_status(HungUp())
    129
    """
    return 128 + _signal_of(stop)


def stop_line(stop: KeyboardInterrupt) -> str:
    """What the command line says of a run ``stop`` ended, after ``train.py:``.

    >>> stop_line(KeyboardInterrupt()), stop_line(Terminated())
    ('interrupted', 'terminated (SIGTERM)')
    >>> stop_line(HungUp())
    'hung up (SIGHUP)'
    """
    if isinstance(stop, HungUp):
        return "hung up (SIGHUP)"
    return "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"


def _signal_of(stop: KeyboardInterrupt) -> int:
    if isinstance(stop, HungUp):
        return 1  # SIGHUP's number on every POSIX system (Windows has no SIGHUP)
    return int(signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)


_STOPS: dict[int, type[KeyboardInterrupt]] = {
    signal.SIGINT: KeyboardInterrupt,
    signal.SIGTERM: Terminated,
}
if hasattr(signal, "SIGHUP"):  # not on Windows
    _STOPS[signal.SIGHUP] = HungUp


class SignalStops:
    """The handler of SIGINT, SIGTERM and SIGHUP for the script's process (`install`). The first
    signal raises `KeyboardInterrupt` (SIGINT), `Terminated` (SIGTERM) or `HungUp` (SIGHUP). A
    second one, while the run unwinds from the first or exits (atexit callbacks), ends the
    process at once with the first one's status (`os._exit`), saying the first one's line
    unless `said` is set: Python printed a traceback for the `KeyboardInterrupt` it raised there
    (an atexit callback of huggingface_hub's, a cleanup). A process forked from this one (a
    ``datasets`` worker) gets the signal's usual handling, not this: its pool stops it with
    SIGTERM. Once the stop is said (`said`), the process leaves with its status right after the
    atexit callbacks registered after `install` (`leave`): Python's finalization that follows
    them restores the default handlers first, so a second signal landing in it killed the
    process (status -2) after the first one's line.

    ``loud``: whether this process prints the line (the first process of a launch: every
    process of a launch gets the signal)."""

    def __init__(self, program: str, loud: bool = True) -> None:
        self.program = program
        self.loud = loud
        self.pid = os.getpid()
        self.first: KeyboardInterrupt | None = None
        self.said = False
        self._hook = sys.unraisablehook

    def install(self) -> None:
        """Handle SIGINT, SIGTERM and SIGHUP with this, each unless the process ignores it (started
        with ``nohup``, or in the background of a shell without job control)."""
        for signum in _STOPS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, self)
        self._hook = sys.unraisablehook
        sys.unraisablehook = self.unraisable
        atexit.register(self.leave)  # callbacks run last-registered first: this one after those

    def leave(self) -> None:
        """End a process whose stop was said with the stop's status, skipping the interpreter's
        finalization: atexit callbacks (ending trackers, removing temporary files) have run, its
        streams are flushed here, and ``logging``'s shutdown (registered before `install`) is
        called in its place. A stream that cannot be flushed (its reader gone, ``train.py |
        head -1``, or closed) is passed over (`_flush`): the process still leaves with the
        stop's status. A run that did not stop on a signal exits as usual."""
        if self.first is None or not self.said or os.getpid() != self.pid:
            return
        logging = sys.modules.get("logging")
        if logging is not None:
            logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            _flush(stream)
        os._exit(exit_status(self.first))

    def unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        """Python's `sys.unraisablehook` with the stop's own exception left unprinted: a library
        that meets it in a callback it cannot raise from (pyarrow, inside a dataset fetch) hands
        it here as "Exception ignored", and raises its own error in its place, which
        `training.train.cli` says as this stop. Anything else goes to the hook it replaced."""
        if self.first is not None and unraisable.exc_value is self.first:
            return
        self._hook(unraisable)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self.pid:  # a forked worker: the signal's usual handling
            _usual_handling(signum, frame)
            return
        if self.first is None:
            self.first = _STOPS[signum]()
            raise self.first
        if self.loud and not self.said:
            print(f"{self.program}: {stop_line(self.first)}", file=sys.stderr, flush=True)
        os._exit(exit_status(self.first))


def _flush(stream: TextIO | None) -> None:
    """Flush ``stream`` if it can be: one whose reader is gone (a broken pipe) or that is closed
    raised out of `SignalStops.leave`, an atexit callback, where Python printed it ("Exception
    ignored in atexit callback") and went on to the finalization `leave` is there to skip; what
    the stream held has no reader either way."""
    if stream is None:
        return
    # BrokenPipeError is an OSError; flushing a closed file is a ValueError
    with contextlib.suppress(OSError, ValueError):
        stream.flush()


def _usual_handling(signum: int, frame: FrameType | None) -> None:
    """What Python does with ``signum`` without a handler of the script's: Ctrl-C raises
    `KeyboardInterrupt`, SIGTERM ends the process."""
    if signum == signal.SIGINT:
        signal.default_int_handler(signum, frame)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
