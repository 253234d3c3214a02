"""What music21 says while render writes a file, kept for the thread that writes it:
`music21_said`. It says most on stderr (its own warnings, such as ``beam: WARNING: ...``, are
written there with ``sys.stderr.write``, not given to `warnings` or `logging`), some as Python
warnings (``TranslateWarning``, ``MusicXMLWarning``), which are kept as they are shown (after
the process's filters, which are never changed: they hold for every thread, and
``warnings.catch_warnings`` changes them for all, the demo's other threads included). Other
threads' printing and warnings meanwhile (the demo renders in worker threads; their warnings,
log lines, progress bars) reach stderr and ``showwarning`` as they would have, not the render's
messages.

The warnings are routed at ``warnings._showwarnmsg``, which Python calls with every warning its
filters let through (and which calls ``showwarning``), not at ``showwarning`` itself: another
thread's ``catch_warnings`` (a library's) puts back on leaving the ``showwarning`` it found on
entering, so one entered before a render and left during it took the router away, and the
render's later warnings went to the caller; ``catch_warnings`` leaves ``_showwarnmsg`` alone."""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TextIO

__all__ = ["music21_said"]

#: each thread's stack of lists that keep what it prints on stderr (innermost last)
_KEEPING = threading.local()
#: guards the swaps of ``sys.stderr`` and ``warnings._showwarnmsg`` and the routers' counts
_LOCK = threading.Lock()
#: the private hook of `warnings` routed (typeshed leaves it out: read and set by its name)
_SHOW = "_showwarnmsg"


class _RoutedStderr:
    """``sys.stderr`` while a thread keeps what it prints: a text written by such a thread is
    kept (by its innermost `_kept_said`), one written by any other thread goes to ``target``,
    the stderr this replaced, as it would have."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.users = 0  # the `_kept_said` blocks open on it, in all threads

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


class _RoutedShowwarnmsg:
    """``warnings._showwarnmsg`` while a thread keeps what it says: a warning shown in such a
    thread (one the process's filters let through) is kept as its message's text, like a text
    printed on stderr; one shown in any other thread goes to ``target``, the ``_showwarnmsg``
    this replaced, which gives it to the ``showwarning`` of the moment (pytest's recorder,
    Python's own), as it would have."""

    def __init__(self, target: Callable[[Any], None]) -> None:
        self.target = target
        self.users = 0  # the `_kept_said` blocks open on it, in all threads

    def __call__(self, msg: Any) -> None:  # a `warnings.WarningMessage`
        kept = getattr(_KEEPING, "stack", None)
        if kept:
            kept[-1].append(str(msg.message))
            return
        self.target(msg)


@contextlib.contextmanager
def _kept_said() -> Iterator[list[str]]:
    """Keep each text this thread writes to ``sys.stderr``, and the message of each warning
    shown in it, inside the ``with``, in the list it gives; other threads' go on to the stderr
    and ``showwarning`` of the moment. Each router (`_RoutedStderr`, `_RoutedShowwarnmsg`) is
    put in front of the one found at the start (a pytest capsys stderr or warnings recorder
    included) unless one is there, and is taken away by the last block to end, if it is still
    in place (one put there meanwhile is left alone)."""
    texts: list[str] = []
    with _LOCK:
        if not isinstance(sys.stderr, _RoutedStderr):
            sys.stderr = _RoutedStderr(sys.stderr)
        if not isinstance(getattr(warnings, _SHOW), _RoutedShowwarnmsg):
            setattr(warnings, _SHOW, _RoutedShowwarnmsg(getattr(warnings, _SHOW)))
        stderr, shown = sys.stderr, getattr(warnings, _SHOW)
        stderr.users += 1
        shown.users += 1
    stack = _KEEPING.__dict__.setdefault("stack", [])
    stack.append(texts)
    try:
        yield texts
    finally:
        stack.pop()
        with _LOCK:
            stderr.users -= 1
            if stderr.users == 0 and sys.stderr is stderr:
                sys.stderr = stderr.target
            shown.users -= 1
            if shown.users == 0 and getattr(warnings, _SHOW) is shown:
                setattr(warnings, _SHOW, shown.target)


@contextlib.contextmanager
def music21_said(leave_out: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Keep what this thread prints on stderr and the warnings shown in it inside the ``with``
    (`_kept_said`) and give, at its end, each distinct message once, on one line, without
    music21's header (``beam: WARNING:``, ``midi.base: WARNING:``), at most 300 characters; a
    message that starts with one of ``leave_out`` (as printed) is left out. A Python warning is
    kept as the process's filters let it be shown: not at all where they ignore it, once a place
    where they show it once (Python's ``default``), each time under ``-W always``.

    >>> from music21 import environment
    >>> with music21_said() as said:
    ...     environment.Environment("beam").warn("odd\\n thing")
    >>> said
    ['odd thing']
    """
    out: list[str] = []
    with _kept_said() as texts:
        try:
            yield out
        finally:
            messages = [" ".join(text.split()) for text in texts]
            for message in dict.fromkeys(m for m in messages if m):
                if not message.startswith(leave_out):
                    message = re.sub(r"^[\w.]+: WARNING: ", "", message)
                    out.append(message if len(message) <= 300 else message[:299] + "…")
