"""Warnings a caller keeps for the thread that gives them: `kept_warnings`, and `warn`, which
the writer gives its warnings with (a key respelled). ``warnings.catch_warnings`` cannot do
that: it swaps the filters and ``warnings.showwarning`` of the whole process, so two threads'
blocks that overlap (two checks, the demo's workers) give one's warnings to the other, lose
them, or leave the other's state in place. This touches no state of the `warnings` module."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

__all__ = ["kept_warnings", "warn"]

#: each thread's stack of the lists its `kept_warnings` blocks keep messages in (innermost last)
_KEEPING = threading.local()


@contextlib.contextmanager
def kept_warnings() -> Iterator[list[str]]:
    """Keep the message of each warning this thread gives through `warn` inside the ``with``,
    every one, in order, in the list it gives, instead of giving it as a Python warning; other
    threads' warnings meanwhile are given as ever.

    >>> with kept_warnings() as kept:
    ...     warn("E# major needs 11 sharps")
    >>> kept
    ['E# major needs 11 sharps']
    """
    kept: list[str] = []
    stack = _KEEPING.__dict__.setdefault("stack", [])
    stack.append(kept)
    try:
        yield kept
    finally:
        stack.pop()


def warn(message: str, stacklevel: int = 1) -> None:
    """Keep ``message`` in this thread's innermost `kept_warnings`, or, outside any, give it
    as a `UserWarning` (``stacklevel`` as `warnings.warn`'s, counted from the caller)."""
    stack = getattr(_KEEPING, "stack", None)
    if stack:
        stack[-1].append(message)
    else:
        warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)
