"""Which of the reader's warnings (``AbcTune.warnings``) say that the music was read otherwise
than it was written: `irish-tune check` prints those (`shown_kind`), and the corpus loader
counts the tunes read with their first voice only (`drops_voices`). The others (a mid-tune
key change, a tie between two pitches read as a slur, as O'Neill's writes slurs, ...) say how
something was read as written, or fire on hundreds of tunes of a clean corpus for nothing; an
unknown decoration dropped (Ryan's 101 tunes with `k`) loses no note, length or row, unless it
is notes between two `!` (`BANG_LINE_BREAK`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .abc_body import BANG_LINE_BREAK, BARE_FIELD
from .abc_tunebook import NO_ENDTEXT, NOT_READ_AFTER_BLANK

__all__ = ["SHOWN_KINDS", "VOICES_DROPPED", "drops_voices", "shown_kind"]

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
