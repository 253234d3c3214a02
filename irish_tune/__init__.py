"""The ``irish-tune`` console script: a light entry point in front of `modeling_irish.cli`.

Importing `modeling_irish` takes seconds (torch, transformers). This package imports nothing
heavy: it reads and checks the arguments first (`irish_tune.parser`), so that ``--help``,
``COMMAND --help`` and a mistyped flag are answered at once, and only then loads the package
that runs the command. A Ctrl-C while the package is still loading would otherwise end in a
KeyboardInterrupt traceback from deep inside an import; it stops quietly, as
`modeling_irish.cli.run_command` does once a command runs.

A command that needs no model (`MODEL_FREE_COMMANDS`: ``check``, ``render``, ``transpose``) run
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

from .parser import build_parser, parse_args

__all__ = ["MODEL_FREE_COMMANDS", "build_parser", "main", "parse_args", "utf8_stdout"]

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C

# The commands whose code reads, writes and renders ABC only: no model, no torch.
MODEL_FREE_COMMANDS = frozenset({"check", "render", "transpose"})

# True while `main` imports `modeling_irish` for one of `MODEL_FREE_COMMANDS` run from the command
# line: the package then skips registering its models (`modeling_irish._model_free_import`).
importing_model_free = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``irish-tune`` with `argv` (default: the command line); returns the exit status.

    A Ctrl-C while the package is still loading prints one line and returns 130. Run from the
    command line (no ``argv``), stdout is made UTF-8 first (`utf8_stdout`); called from Python
    code, the caller's stdout is left as it is.
    """
    if argv is None:
        utf8_stdout()
    try:
        args = parse_args(argv)
        run_command = _load_runner(model_free=argv is None and args.command in MODEL_FREE_COMMANDS)
    except KeyboardInterrupt:
        print("irish-tune: interrupted", file=sys.stderr)
        return INTERRUPTED
    return run_command(args)


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
            from modeling_irish import _register_auto_classes

            _register_auto_classes()  # once: a no-op when the import registered them
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
