"""The ``irish-tune`` console script: a light entry point in front of `modeling_irish.cli`.

Importing `modeling_irish` takes seconds (torch, transformers). This package imports nothing
heavy: it reads and checks the arguments first (`irish_tune.parser`), so that ``--help``,
``COMMAND --help`` and a mistyped flag are answered at once, and only then loads the package
that runs the command. A Ctrl-C while the package is still loading would otherwise end in a
KeyboardInterrupt traceback from deep inside an import; it stops quietly, as
`modeling_irish.cli.run_command` does once a command runs.

A command that needs no model (`MODEL_FREE_COMMANDS`: ``check``, ``render``, ``transpose``,
``prune-cache``) run
from the command line loads the package without torch and transformers: ``import
modeling_irish`` registers the models with the transformers Auto classes, which imports both
(seconds), and these commands never use them. `main` called with an ``argv`` from Python code
leaves the import as it is, since the caller may use the Auto classes afterwards; a later
command that needs a model registers them.

What the commands print is UTF-8 whatever the locale (`utf8_stdout`): ABC 2.1's character set,
and that of the titles (``Seán``, ``Óró``). A Windows pipe or file, or a POSIX locale, would
otherwise get cp1252 or ASCII, and a title outside it ended the command (exit 2).

>>> import irish_tune
>>> irish_tune.main(["check", "no-such-file.abc"])  # the message goes to stderr
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import FrameType

from .parser import build_parser, parse_args

__all__ = [
    "MODEL_FREE_COMMANDS",
    "build_parser",
    "main",
    "parse_args",
    "say_interrupted",
    "utf8_stdout",
]

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C

# The commands whose code reads, writes and renders ABC, or prunes caches, only: no model, no torch.
MODEL_FREE_COMMANDS = frozenset({"check", "prune-cache", "render", "transpose"})

# True while `main` imports `modeling_irish` for one of `MODEL_FREE_COMMANDS` run from the command
# line: the package then skips registering its models (`modeling_irish._model_free_import`).
importing_model_free = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``irish-tune`` with `argv` (default: the command line); returns the exit status.

    A Ctrl-C while the package is still loading prints one line and returns 130. Run from the
    command line (no ``argv``), stdout is made UTF-8 first (`utf8_stdout`), and Ctrl-C is
    handled by `_Interrupts` (a second one ends the process at once); called from Python code,
    the caller's stdout and signal handlers are left as they are.
    """
    global _interrupts
    if argv is None:
        utf8_stdout()
        _interrupts = _Interrupts.install()
    try:
        args = parse_args(argv)
        if _interrupts is not None:
            _interrupts.command = args.command
        run_command = _load_runner(model_free=argv is None and args.command in MODEL_FREE_COMMANDS)
    except KeyboardInterrupt:
        say_interrupted(None)
        return INTERRUPTED
    return run_command(args)


def say_interrupted(command: str | None) -> None:
    """Print the one line of a command stopped by Ctrl-C: ``irish-tune COMMAND: interrupted``
    (``irish-tune: interrupted`` before the command is known), once (`_Interrupts`)."""
    if _interrupts is not None:
        _interrupts.said = True
    print(f"irish-tune{f' {command}' if command else ''}: interrupted", file=sys.stderr)


class _Interrupts:
    """The SIGINT handler of a command run from the command line. The first Ctrl-C raises
    `KeyboardInterrupt` as Python's own handler does: the command unwinds (temporary files
    removed, worker pools stopped) and says so in one line (`say_interrupted`), status 130. A
    second one (Ctrl-C pressed twice, or held), while it unwinds or while the interpreter exits
    (atexit callbacks, joining torch's or a pool's threads), ends the process at once with
    status 130, its output flushed and the line said if it was not yet: Python raised it there,
    and printed "Exception ignored ... KeyboardInterrupt" and a traceback, or the traceback of
    the line's own ``print``. A forked worker gets Python's handling (`KeyboardInterrupt`)."""

    def __init__(self) -> None:
        import os

        self.pid = os.getpid()
        self.command: str | None = None
        self.first = False
        self.said = False

    @classmethod
    def install(cls) -> _Interrupts | None:
        """A handler installed for SIGINT, or None where the process ignores it (started in
        the background of a shell without job control, or under ``nohup``) or has its own."""
        import signal

        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return None
        handler = cls()
        signal.signal(signal.SIGINT, handler)
        return handler

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        import contextlib
        import os
        import signal

        if os.getpid() != self.pid:
            signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt
        if not self.first:
            self.first = True
            signal.default_int_handler(signum, frame)
        if self.said:  # the command has answered: let the exit finish (a pool's files removed)
            return
        say_interrupted(self.command)
        for stream in (sys.stdout, sys.stderr):
            # a closed pipe, or the flush that this signal interrupted: nothing more to write
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(INTERRUPTED)


# The SIGINT handler `main` installed (a command run from the command line), else None.
_interrupts: _Interrupts | None = None


def _load_runner(model_free: bool) -> Callable[[argparse.Namespace], int]:
    """`modeling_irish.cli.run_command`, imported without the models when ``model_free``.

    Otherwise the models are registered with the Auto classes even when an earlier model-free
    command in this process imported the package without them (``evaluate-lm`` loads its model
    through `AutoModelForCausalLM`, which would ask to trust the folder's code instead).
    """
    global importing_model_free
    importing_model_free = model_free
    try:
        from modeling_irish.cli import run_command

        if not model_free:
            from modeling_irish import register_auto_classes

            register_auto_classes()  # once: a no-op when the import registered them
    finally:
        importing_model_free = False
    return run_command


def utf8_stdout() -> None:
    """Make `sys.stdout` write UTF-8, whatever the locale or ``PYTHONIOENCODING``: the ABC, titles
    and reports the commands print (ABC 2.1's character set is UTF-8). Python writes the
    locale's encoding to a pipe or file: cp1252 on Windows, ASCII under ``LC_ALL=C`` without
    UTF-8 mode, where a title such as ``Seán`` was a `UnicodeEncodeError`. A Windows console
    shows UTF-8 as it is (Python writes to it with WriteConsoleW, whatever the encoding named).
    ``surrogateescape`` writes a file name's undecodable bytes back as they were given (POSIX).
    A stdout that is None (pythonw) or not a text stream that can be reconfigured is left."""
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None or _is_utf8(getattr(stream, "encoding", None)):
        return
    reconfigure(encoding="utf-8", errors="surrogateescape")


def _is_utf8(encoding: str | None) -> bool:
    """Whether ``encoding`` names UTF-8 (``UTF-8``, ``utf8``, ``cp65001``...); False for None
    or a name Python does not know.

    >>> _is_utf8("UTF8"), _is_utf8("cp1252"), _is_utf8(None)
    (True, False, False)
    """
    import codecs

    try:
        return encoding is not None and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False
