"""Which of the reader's warnings (``AbcTune.warnings``) say that the music was read otherwise
than it was written: `irish-tune check`, `transpose` and `render` print those (`shown_kind`,
`warn_not_as_written`: the first `TUNE_WARNINGS_SHOWN` of each kind), and the corpus loader
counts the tunes read with their first voice only (`drops_voices`). The others (a mid-tune
key change, a tie between two pitches read as a slur, as O'Neill's writes slurs, ...) say how
something was read as written, or fire on hundreds of tunes of a clean corpus for nothing; an
unknown decoration dropped (Ryan's 101 tunes with `k`) loses no note, length or row, unless it
is notes between two `!` (`BANG_LINE_BREAK`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from .abc_bars import COLON_ENDING, REPEAT_START_DROPPED
from .abc_body import BANG_LINE_BREAK, BARE_FIELD
from .abc_header import NO_KEY
from .abc_notes import TUPLET_CUT_SHORT, TUPLET_SHORT_AT_END
from .abc_tunebook import NO_ENDTEXT, NOT_READ_AFTER_BLANK
from .capped_warnings import CappedWarnings

__all__ = [
    "SHOWN_KINDS",
    "TUNE_WARNINGS_SHOWN",
    "VOICES_DROPPED",
    "drops_voices",
    "not_as_written",
    "shown_kind",
    "tune_warnings",
    "warn_tune",
    "warn_not_as_written",
]

#: How many of a command's warnings about tunes of one kind are logged before the rest are
#: only counted: a frequent kind cannot hide a rare one (`tune_warnings`)
TUNE_WARNINGS_SHOWN = 3

#: The kind of the warnings of a tune of which only the first voice is read: a second voice
#: (``V:2``) or a voice overlay (``&``) dropped, or a field among a dropped voice's lines
VOICES_DROPPED = "voices dropped (only the first is read)"

#: Each kind of warning `irish-tune check` prints, and the pattern of its warnings' text
SHOWN_KINDS: dict[str, re.Pattern[str]] = {
    NOT_READ_AFTER_BLANK: re.compile(re.escape(NOT_READ_AFTER_BLANK)),
    NO_ENDTEXT: re.compile(re.escape(NO_ENDTEXT)),
    BANG_LINE_BREAK: re.compile(re.escape(BANG_LINE_BREAK)),
    BARE_FIELD: re.compile(re.escape(BARE_FIELD)),
    VOICES_DROPPED: re.compile(
        r"^voice (V:\S+(, )?)+ dropped$|^voice overlay \(&\) read as its first voice"
        r"|among the lines of voice V:\S+, not kept,"
    ),
    "stray brackets dropped": re.compile(r"^']' without a chord |^empty chord \["),
    "reserved characters ignored": re.compile(r"inside the music ignored \(a reserved character"),
    "repeat starts dropped (a bar line with an ending)": re.compile(
        re.escape(REPEAT_START_DROPPED)
    ),
    "lone colons with an ending read as a repeat end": re.compile(re.escape(COLON_ENDING)),
    "no K: field (read as C major)": re.compile("^" + re.escape(NO_KEY)),
    "tuplets the tune ends inside (too few notes after them)": TUPLET_SHORT_AT_END,
    "tuplets the next tuplet mark starts inside (too few notes after them)": TUPLET_CUT_SHORT,
}


def shown_kind(warning: str) -> str | None:
    """The kind (of `SHOWN_KINDS`) of a reader's warning that `irish-tune check` prints, or
    None for one it does not.

    >>> shown_kind("voice V:2, V:3 dropped"), shown_kind("mid-tune key change to D major")
    ('voices dropped (only the first is read)', None)
    >>> shown_kind("unknown decoration k dropped (line 9, column 4)") is None  # no note lost
    True
    """
    return next((kind for kind, pattern in SHOWN_KINDS.items() if pattern.search(warning)), None)


def drops_voices(warnings: Iterable[str]) -> bool:
    """Whether a tune's ``warnings`` say that only its first voice was read (`VOICES_DROPPED`).

    >>> drops_voices(["voice overlay (&) read as its first voice (line 5)"]), drops_voices([])
    (True, False)
    """
    return any(shown_kind(warning) == VOICES_DROPPED for warning in warnings)


def not_as_written(warnings: Iterable[str]) -> list[tuple[str, str]]:
    """The ``warnings`` of a tune that say its music was not read as written (`shown_kind`:
    text not read, voices dropped, a field read from outside its brackets, stray brackets or
    reserved characters dropped, a repeat start dropped for an ending, a lone colon with an
    ending read as a repeat end, no ``K:`` read as C major), as ``(kind, warning)``, in order.

    >>> not_as_written(["mid-tune key change to D major", "voice V:2 dropped"])
    [('voices dropped (only the first is read)', 'voice V:2 dropped')]
    """
    kinds = [(shown_kind(warning), warning) for warning in warnings]
    return [(kind, warning) for kind, warning in kinds if kind is not None]


def tune_warnings(logger: logging.Logger) -> CappedWarnings:
    """Where a command logs, on ``logger``, its warnings about tunes (`warn_tune`): the first
    `TUNE_WARNINGS_SHOWN` of each kind, then one line a kind that counts them all (once the
    caller closes it)."""
    return CappedWarnings(logger, shown=TUNE_WARNINGS_SHOWN)


def warn_tune(said: CappedWarnings, name: str, kind: str, message: str) -> None:
    """Log in ``said`` (`tune_warnings`) one warning of the kind ``kind`` about the tune
    ``name`` (``book.abc: X:3 Cooley's``): ``name: message``, capped a kind at
    `TUNE_WARNINGS_SHOWN` (in a command's other warnings too, which may show more)."""
    what = f"tune warnings '{kind}'"  # capped a kind: a frequent one hides no rare one
    said.warn(what, what, "%s: %s", name, message, shown=TUNE_WARNINGS_SHOWN)


def warn_not_as_written(said: CappedWarnings, name: str, warnings: Iterable[str]) -> None:
    """Log in ``said`` (`tune_warnings`) the reader's ``warnings`` of the tune ``name`` that
    say its music was not read as written (`not_as_written`), as `irish-tune check` does.

    >>> import sys
    >>> log = logging.getLogger("reader_warnings_example")
    >>> log.addHandler(logging.StreamHandler(sys.stdout)); log.propagate = False
    >>> with tune_warnings(log) as said:
    ...     warn_not_as_written(said, "b.abc: X:1 Two", ["voice V:2 dropped", "unknown mode"])
    b.abc: X:1 Two: voice V:2 dropped
    >>> log.handlers.clear()
    """
    for kind, message in not_as_written(warnings):
        warn_tune(said, name, kind, message)
