"""The ``irish-tune`` console script: a light entry point in front of `modeling_irish.cli`.

Importing `modeling_irish` takes seconds (torch, transformers); a Ctrl-C in that time would
otherwise end in a KeyboardInterrupt traceback from deep inside an import. This module imports
nothing heavy itself, so the console script can catch that and stop quietly, as
`modeling_irish.cli.main` does once a command runs.

>>> import irish_tune
>>> irish_tune.main(["check", "no-such-file.abc"])  # the message goes to stderr
2
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``irish-tune`` with `argv` (default: the command line); returns the exit status.

    A Ctrl-C while the package is still loading prints one line and returns 130.
    """
    try:
        from modeling_irish.cli import main as run
    except KeyboardInterrupt:
        print("irish-tune: interrupted", file=sys.stderr)
        return INTERRUPTED
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
