"""What music21 prints on stderr while render writes a file (its own warnings, such as
``beam: WARNING: ...``, are written there with ``sys.stderr.write``, not given to `warnings`
or `logging`), kept for the thread that writes it: `music21_said`. Other threads' printing
meanwhile (the demo renders in worker threads; their warnings, log lines, progress bars)
reaches stderr as it would have, not the render's messages."""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["music21_said"]

#: each thread's stack of lists that keep what it prints on stderr (innermost last)
_KEEPING = threading.local()
#: guards the swap of ``sys.stderr`` and the count of blocks using the router
_LOCK = threading.Lock()


class _RoutedStderr:
    """``sys.stderr`` while a thread keeps what it prints: a text written by such a thread is
    kept (by its innermost `_kept_stderr`), one written by any other thread goes to ``target``,
    the stderr this replaced, as it would have."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.users = 0  # the `_kept_stderr` blocks open on it, in all threads

    def write(self, text: str) -> int:
        kept = getattr(_KEEPING, "stack", None)
        if kept:
            kept[-1].append(text)
            return len(text)
        return self.target.write(text)

    def flush(self) -> None:
        """Flush ``target`` (what is kept needs no flushing)."""
        self.target.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno: the target's
        return getattr(self.target, name)


@contextlib.contextmanager
def _kept_stderr() -> Iterator[list[str]]:
    """Keep each text this thread writes to ``sys.stderr`` inside the ``with``, in the list
    it gives; other threads' go on to the stderr of the moment. The router (`_RoutedStderr`)
    is put in front of the stderr found at the start (a pytest capsys one included) unless one
    is there, and is taken away by the last block to end, if it is still ``sys.stderr`` (a
    stderr put there meanwhile is left alone)."""
    texts: list[str] = []
    with _LOCK:
        if not isinstance(sys.stderr, _RoutedStderr):
            sys.stderr = _RoutedStderr(sys.stderr)
        router = sys.stderr
        router.users += 1
    stack = _KEEPING.__dict__.setdefault("stack", [])
    stack.append(texts)
    try:
        yield texts
    finally:
        stack.pop()
        with _LOCK:
            router.users -= 1
            if router.users == 0 and sys.stderr is router:
                sys.stderr = router.target


@contextlib.contextmanager
def music21_said(leave_out: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Keep what this thread prints on stderr inside the ``with`` (`_kept_stderr`) and give,
    at its end, each distinct message once, on one line, without music21's header
    (``beam: WARNING:``, ``midi.base: WARNING:``), at most 300 characters; a message that
    starts with one of ``leave_out`` (as printed) is left out.

    >>> from music21 import environment
    >>> with music21_said() as said:
    ...     environment.Environment("beam").warn("odd\\n thing")
    >>> said
    ['odd thing']
    """
    out: list[str] = []
    with _kept_stderr() as texts:
        try:
            yield out
        finally:
            messages = [" ".join(text.split()) for text in texts]
            for message in dict.fromkeys(m for m in messages if m):
                if not message.startswith(leave_out):
                    message = re.sub(r"^[\w.]+: WARNING: ", "", message)
                    out.append(message if len(message) <= 300 else message[:299] + "…")
