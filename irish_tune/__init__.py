"""The ``irish-tune`` console script: a light entry point in front of `modeling_irish.cli`.

Importing `modeling_irish` takes seconds (torch, transformers). This package imports nothing
heavy: it reads and checks the arguments first (`irish_tune.parser`), so that ``--help``,
``COMMAND --help`` and a mistyped flag are answered at once, and only then loads the package
that runs the command. A Ctrl-C while the package is still loading would otherwise end in a
KeyboardInterrupt traceback from deep inside an import; it stops quietly, as
`modeling_irish.cli.run_command` does once a command runs.

>>> import irish_tune
>>> irish_tune.main(["check", "no-such-file.abc"])  # the message goes to stderr
2
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .parser import build_parser, parse_args

__all__ = ["build_parser", "main", "parse_args"]

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``irish-tune`` with `argv` (default: the command line); returns the exit status.

    A Ctrl-C while the package is still loading prints one line and returns 130.
    """
    try:
        args = parse_args(argv)
        from modeling_irish.cli import run_command
    except KeyboardInterrupt:
        print("irish-tune: interrupted", file=sys.stderr)
        return INTERRUPTED
    return run_command(args)
