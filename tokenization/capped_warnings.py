"""Warnings of one kind that a command may give for many items (files without tunes, tunes
skipped, tunes not read as written): the first `WARNINGS_SHOWN` are logged as they come, the
others at DEBUG only, and one last warning says how many were not shown and counts them all by
reason, so that a folder of 2,000 files does not flood the terminal and nothing is lost.

>>> import logging, sys
>>> log = logging.getLogger("capped_warnings_example")
>>> log.addHandler(logging.StreamHandler(sys.stdout)); log.propagate = False
>>> with CappedWarnings(log, "files without tunes", shown=2) as capped:
...     for name in ("a.abc", "b.abc", "c.abc"):
...         capped.warn("empty file", "no ABC tunes found in %s (empty file)", name)
no ABC tunes found in a.abc (empty file)
no ABC tunes found in b.abc (empty file)
... and 1 more files without tunes (not shown); 3 in all, by reason: {'empty file': 3}
>>> log.handlers.clear()
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from types import TracebackType

__all__ = ["WARNINGS_SHOWN", "CappedWarnings", "masked", "skip_reason"]

#: How many warnings of one kind a command logs before it only counts them (`CappedWarnings`).
WARNINGS_SHOWN = 5


class CappedWarnings:
    """Log the first ``shown`` warnings of one kind (``what``: ``"files without tunes"``) on
    ``logger``, the others at DEBUG; `close` (or the end of a ``with``) logs one warning that
    says how many were not shown and how many there were in all, by reason. ``shown=None``
    shows every one (no summary). The counts stay in ``reasons`` after `close`."""

    def __init__(self, logger: logging.Logger, what: str, shown: int | None = WARNINGS_SHOWN):
        self.logger = logger
        self.what = what
        self.shown = shown
        self.reasons: Counter[str] = Counter()
        self._closed = False

    @property
    def total(self) -> int:
        """How many warnings were given, shown or not."""
        return self.reasons.total()

    def warn(self, reason: str, message: str, *args: object) -> None:
        """Count one warning under ``reason``; log ``message % args`` as a warning while at most
        ``shown`` have been, at DEBUG after (a debug log still names every item)."""
        self.reasons[reason] += 1
        hidden = self.shown is not None and self.total > self.shown
        self.logger.log(logging.DEBUG if hidden else logging.WARNING, message, *args)

    def summary(self) -> str | None:
        """The last line: how many warnings were not shown, and all of them by reason (most
        first); None when every one was shown."""
        hidden = 0 if self.shown is None else self.total - self.shown
        if hidden <= 0:
            return None
        by_reason = dict(self.reasons.most_common())
        return (
            f"... and {hidden} more {self.what} (not shown); {self.total} in all, by reason: "
            f"{by_reason}"
        )

    def close(self) -> None:
        """Log the `summary` (once, however often this is called)."""
        line = None if self._closed else self.summary()
        self._closed = True
        if line is not None:
            self.logger.warning("%s", line)

    def __enter__(self) -> CappedWarnings:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def skip_reason(err: Exception) -> str:
    """A short reason shared by similar failures (to count them by): the type and the
    `masked` message.

    >>> skip_reason(ValueError("unknown mode 'xx' at line 3"))
    "ValueError: unknown mode '…' at line N"
    """
    message = getattr(err, "message", None) or (str(err.args[0]) if err.args else str(err))
    return f"{type(err).__name__}: {masked(message)}"[:120]


def masked(message: str) -> str:
    """The first line of ``message``, its numbers and quoted text masked: one reason for
    similar messages.

    >>> masked("voice V:2 dropped\\nmore")
    'voice V:N dropped'
    """
    # the first line at a line feed: a quoted title may hold a U+2028 that splitlines cuts at
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message.split("\n", 1)[0])
    return re.sub(r"\d+", "N", message).strip()
