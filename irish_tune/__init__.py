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

>>> import irish_tune
>>> irish_tune.main(["check", "no-such-file.abc"])  # the message goes to stderr
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .parser import build_parser, parse_args

__all__ = ["MODEL_FREE_COMMANDS", "build_parser", "main", "parse_args"]

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C

# The commands whose code reads, writes and renders ABC only: no model, no torch.
MODEL_FREE_COMMANDS = frozenset({"check", "render", "transpose"})

# True while `main` imports `modeling_irish` for one of `MODEL_FREE_COMMANDS` run from the command
# line: the package then skips registering its models (`modeling_irish._model_free_import`).
importing_model_free = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``irish-tune`` with `argv` (default: the command line); returns the exit status.

    A Ctrl-C while the package is still loading prints one line and returns 130.
    """
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
