"""Warnings that a command may give for many items (files without tunes, tunes skipped, tunes
not read as written): of each kind, the first `WARNINGS_SHOWN` are logged as they come, the
others at DEBUG only, and one last warning says how many were not shown and counts them all by
reason, so that a folder of 2,000 files does not flood the terminal and nothing is lost.

>>> import logging, sys
>>> log = logging.getLogger("capped_warnings_example")
>>> log.addHandler(logging.StreamHandler(sys.stdout)); log.propagate = False
>>> with CappedWarnings(log, shown=2) as said:
...     for name in ("a.abc", "b.abc", "c.abc"):
...         said.warn("files without tunes", "empty file", "no tunes in %s (empty file)", name)
no tunes in a.abc (empty file)
no tunes in b.abc (empty file)
... and 1 more file without tunes (not shown); 3 in all, by reason: {'empty file': 3}
>>> log.handlers.clear()
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections import Counter
from types import TracebackType

__all__ = [
    "WARNINGS_SHOWN",
    "SHORT_VALUE",
    "CappedWarnings",
    "WarningRecorder",
    "by_kind",
    "counted",
    "masked",
    "skip_reason",
]

#: How many warnings of one kind a command logs before it only counts them (`CappedWarnings`).
WARNINGS_SHOWN = 5


class CappedWarnings:
    """Log on ``logger`` the first ``shown`` warnings of each kind (``what``: ``"files without
    tunes"``), the others at DEBUG; `close` (or the end of a ``with``) logs, for each kind with
    some not shown, one warning that says how many were not shown and how many there were in
    all, by reason; a ``with`` left by Ctrl-C (`KeyboardInterrupt`) says how many ``so far
    (interrupted)`` instead: the work was stopped, not done. ``shown=None`` shows every one
    (no summary). The counts stay after `close`: ``reasons[what]`` (a `Counter`), `total`.

    >>> with CappedWarnings(logging.getLogger("example"), shown=1) as warnings:
    ...     for name in ("a.abc", "b.abc", "c.abc"):
    ...         warnings.warn("files without tunes", "empty", "%s: no tunes", name)
    ...     warnings.warn("files without tunes", "unreadable", "%s: not UTF-8", "d.abc")
    >>> warnings.total("files without tunes"), warnings.reasons["files without tunes"]["empty"]
    (4, 3)
    >>> warnings.summaries()
    ["... and 3 more files without tunes (not shown); 4 in all, by reason: {'empty': 3,
    'unreadable': 1}"]
    """

    def __init__(self, logger: logging.Logger, shown: int | None = WARNINGS_SHOWN) -> None:
        self.logger = logger
        self.shown = shown
        self.reasons: dict[str, Counter[str]] = {}
        self._shown: dict[str, int | None] = {}  # a kind's own cap (`warn`'s ``shown``)
        self._closed = False

    def total(self, what: str) -> int:
        """How many warnings of the kind ``what`` were given, shown or not."""
        return self.reasons[what].total() if what in self.reasons else 0

    def warn(
        self, what: str, reason: str, message: str, *args: object, shown: int | None = None
    ) -> None:
        """Count one warning of the kind ``what`` under ``reason``; log ``message % args`` as a
        warning while at most ``shown`` of that kind have been, at DEBUG after (a debug log
        still names every item). ``shown``: this kind's cap, where lower than the command's
        (`warn_tune`'s, for tune warnings in a command's other warnings)."""
        counts = self.reasons.setdefault(what, Counter())
        counts[reason] += 1
        cap = self._cap(what, shown)
        hidden = cap is not None and counts.total() > cap
        self.logger.log(logging.DEBUG if hidden else logging.WARNING, message, *args)

    def summaries(self, interrupted: bool = False) -> list[str]:
        """The last lines: for each kind with warnings not shown, how many, and all of them by
        reason (`by_kind`; not where the one reason is the kind itself). ``interrupted``: the
        count is of those given before the work was stopped, ``so far (interrupted)``, not
        ``in all``.

        >>> said = CappedWarnings(logging.getLogger("example"), shown=0)
        >>> said.warn("tunes not written", "bad chord", "X:1: bad chord")
        >>> said.summaries(interrupted=True)
        ["... and 1 more tune not written (not shown); 1 so far (interrupted), by reason:
        {'bad chord': 1}"]
        """
        lines = []
        for what, counts in self.reasons.items():
            cap = self._shown.get(what, self.shown)
            hidden = 0 if cap is None else counts.total() - cap
            if hidden > 0:
                total = f"{counts.total()} {'so far (interrupted)' if interrupted else 'in all'}"
                hid = counted(hidden, f"more {_one_of(what)}", f"more {what}")
                line = f"... and {hid} (not shown); {total}"
                if list(counts) != [what]:
                    line += f", by reason: {by_kind(counts)}"
                lines.append(line)
        return lines

    def _cap(self, what: str, shown: int | None) -> int | None:
        """How many warnings of the kind ``what`` are shown: ``shown`` where lower than the
        command's (kept for `summaries`), else the command's."""
        if shown is not None and (self.shown is None or shown < self.shown):
            self._shown[what] = shown
        return self._shown.get(what, self.shown)

    def close(self, interrupted: bool = False) -> None:
        """Log the `summaries` (once, however often this is called; ``interrupted``: of work
        stopped by Ctrl-C, see `summaries`)."""
        lines = [] if self._closed else self.summaries(interrupted)
        self._closed = True
        for line in lines:
            self.logger.warning("%s", line)

    def __enter__(self) -> CappedWarnings:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(interrupted=exc_type is not None and issubclass(exc_type, KeyboardInterrupt))


def skip_reason(err: Exception) -> str:
    """A short reason shared by similar failures (to count them by): the type and the
    `masked` message, a short quoted value left as it is (which character or key a tunebook
    trips on is the news; line and column numbers, and longer quoted text such as a title,
    are masked, and `by_kind` keeps the reasons that differ only by value together).

    >>> skip_reason(ValueError("unknown mode 'xx' at line 3"))
    "ValueError: unknown mode 'xx' at line N"
    >>> skip_reason(ValueError("unexpected character ',' at line 3, column 12"))
    "ValueError: unexpected character ',' at line N, column N"
    >>> skip_reason(ValueError("no tune 'The Kesh Jig' at line 3"))
    "ValueError: no tune '…' at line N"
    """
    message = getattr(err, "message", None) or (str(err.args[0]) if err.args else str(err))
    return f"{type(err).__name__}: {masked(message, values=True)}"[:120]


#: Quoted text, or a number, as `masked` masks them; an apostrophe within a word (the tune's,
#: 'Paddy's Reel') neither opens nor closes a quote
_MASKED_RE = re.compile(r"(?<![A-Za-z])'((?:[^']|'(?=[A-Za-z]))*)'(?![A-Za-z])|\"([^\"]*)\"|\d+")

#: The longest quoted value `masked` leaves as it is with ``values`` (a key as 'Amix' or 'Hmaj'
#: fits; a title, a line of text, does not)
SHORT_VALUE = 8


def masked(message: str, values: bool = False) -> str:
    """The first line of ``message``, its numbers and quoted text masked: one reason for
    similar messages; with ``values``, a short quoted value (at most `SHORT_VALUE` characters,
    no space among them) is left as it is, though numbers outside quotes are masked.

    >>> masked("voice V:2 dropped\\nmore")
    'voice V:N dropped'
    >>> masked("key 'Bb' in 'a long title' at 3"), masked("key 'Bb' in 'a long title' at 3", True)
    ("key '…' in '…' at N", "key 'Bb' in '…' at N")
    >>> masked("keeps the tune's mode: 'A minor' is not 'Paddy's Reel' (line 3)", True)
    "keeps the tune's mode: '…' is not '…' (line N)"
    """

    def mask(m: re.Match[str]) -> str:
        quoted = m[1] if m[1] is not None else m[2]
        if quoted is None:
            return "N"
        short = len(quoted) <= SHORT_VALUE and not any(c.isspace() for c in quoted)
        return m[0] if values and short else "'…'"

    # the first line at a line feed: a quoted title may hold a U+2028 that splitlines cuts at
    return _MASKED_RE.sub(mask, message.split("\n", 1)[0]).strip()


def by_kind(counts: Counter[str]) -> dict[str, int]:
    """``counts`` most first, the reasons of one kind (the same `masked` text: `skip_reason`'s
    that name another character or key) together, the kinds in the order of their totals.

    >>> by_kind(Counter({"bad 'x'": 2, "short": 3, "bad 'y'": 2}))
    {"bad 'x'": 2, "bad 'y'": 2, 'short': 3}
    """
    kinds: Counter[str] = Counter()
    for reason, n in counts.items():
        kinds[masked(reason)] += n
    order = {kind: place for place, (kind, _) in enumerate(kinds.most_common())}
    return dict(sorted(counts.most_common(), key=lambda item: order[masked(item[0])]))


def _one_of(kind: str) -> str:
    """One of the warnings of the kind ``kind``, which names them in the plural: its first word
    ending in ``s`` is the noun, made singular (``ies`` to ``y``); ``kind`` as it is where no
    word ends in ``s``.

    >>> _one_of("tunes not written"), _one_of("skipped tunes"), _one_of("queries left out")
    ('tune not written', 'skipped tune', 'query left out')
    >>> _one_of("tune warnings 'voices dropped'"), _one_of("tune not read")
    ("tune warning 'voices dropped'", 'tune not read')
    """
    words = kind.split(" ")
    for i, word in enumerate(words):
        if word.endswith("s") and len(word) > 1:
            words[i] = word[:-3] + "y" if word.endswith("ies") else word[:-1]
            return " ".join(words)
    return kind


def counted(n: float, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless one (``plural``, else ``noun`` and ``s``); a float
    ``n`` shown as short as it reads (``1 day``, ``0.5 days``).

    >>> counted(1, "tune"), counted(12, "value"), counted(2, "entry", "entries")
    ('1 tune', '12 values', '2 entries')
    >>> counted(1.0, "day"), counted(0.5, "day"), counted(0, "entry", "entries")
    ('1 day', '0.5 days', '0 entries')
    """
    shown = f"{n:g}" if isinstance(n, float) else f"{n}"
    return f"{shown} {noun}" if n == 1 else f"{shown} {plural or noun + 's'}"


#: the `WarningRecorder` blocks open in this context (this thread's, or work handed on with
#: its context), innermost last: a tuple, never changed in place (a copied context keeps its own)
_RECORDING: contextvars.ContextVar[tuple[WarningRecorder, ...]] = contextvars.ContextVar(
    "recording", default=()
)
#: guards the routers' counts and their putting on and taking off loggers
_ROUTERS_LOCK = threading.Lock()


class _Router(logging.Filter):
    """The one filter on ``logger`` while any thread records it: gives each warning (or worse)
    to the recorders open in the context that logs it, those of ``logger``, and lets every
    record through. One filter for all the threads, taken off by the last to end, so that no
    thread's recorder is taken off while another's record goes through the filters (the list
    shrinking under the loop stopped it before the next filter)."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger
        self.users = 0  # the recorders open on ``logger``, in all threads

    def filter(self, record: logging.LogRecord) -> bool:
        """Give a warning (or worse) to this context's recorders of ``logger``."""
        if record.levelno >= logging.WARNING:
            for recorder in dict.fromkeys(_RECORDING.get()):  # a recorder opened twice: once
                if self.logger in recorder.loggers:
                    recorder.keep(record)
        return True


class WarningRecorder:
    """Keeps the warnings ``loggers`` give inside a ``with`` (which gives their list of
    ``{"logger", "level", "message"}``) in the thread that opened it: the corpus loader's, so
    that a cache hit can give them again, and the demo's, to show a request's generation and
    rendering warnings on its page while gradio serves other requests in other threads.

    Another thread's warnings meanwhile are not kept, even on the same loggers, unless given
    this thread's context (``contextvars.copy_context().run``, as ``asyncio.to_thread`` does):
    work handed on so is this block's. A filter on each logger (`_Router`), not a handler: a
    handler would count as one, and with no logging configured Python would then not print the
    warnings through `logging.lastResort`, so a plain first load would say nothing that its
    cache hits say. The filter lets every record through. It sees only the records of
    ``loggers`` themselves (none of theirs has children).
    """

    def __init__(self, *loggers: logging.Logger) -> None:
        self.loggers = tuple(dict.fromkeys(loggers))
        self.records: list[dict[str, object]] = []

    def keep(self, record: logging.LogRecord) -> None:
        """Keep ``record`` (a warning or worse of one of ``loggers``)."""
        message = record.getMessage()
        self.records.append({"logger": record.name, "level": record.levelno, "message": message})

    def __enter__(self) -> list[dict[str, object]]:
        with _ROUTERS_LOCK:
            for one in self.loggers:
                router = next((f for f in one.filters if isinstance(f, _Router)), None)
                if router is None:
                    router = _Router(one)
                    one.addFilter(router)
                router.users += 1
        _RECORDING.set((*_RECORDING.get(), self))
        return self.records

    def __exit__(self, *exc_info: object) -> None:
        opened = _RECORDING.get()
        if self in opened:  # (not where the block was opened in another context)
            last = len(opened) - 1 - opened[::-1].index(self)  # its innermost opening
            _RECORDING.set(opened[:last] + opened[last + 1 :])
        with _ROUTERS_LOCK:
            for one in self.loggers:
                router = next((f for f in one.filters if isinstance(f, _Router)), None)
                if router is not None:  # (None: taken off by someone else)
                    router.users -= 1
                    if router.users == 0:
                        one.removeFilter(router)
