"""What `identify` answers (`Identified`): the top titles of a query, and what of the query the
scores did not use as typed (`unknown_notes`, the reader's warnings), for the caller to show.

>>> top = Identified([("The Kesh", 0.0)], ["voice overlay (&) read as its first voice (line 3)"])
>>> top == [("The Kesh", 0.0)], top[0][0], top.warnings
(True, 'The Kesh', ['voice overlay (&) read as its first voice (line 3)'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from tokenization.tokenization_abc import EncodedTune
from tokenization.vocabulary import UNK_ID

from .tune_title_data import DUR_COLUMN, MAIN_COLUMN

__all__ = ["Identified", "unknown_note_names", "unknown_notes"]

#: how many of a query's unknown notes `unknown_notes` names
_NOTES_NAMED = 5


class Identified(list):
    """The top-k ``(title, score)`` pairs `identify` found for a query, best first (a list:
    compared, indexed and printed as one), with what of the query the scores did not use as
    typed. `identify` logs none of it: the caller shows it where the user knows the query
    (``irish-tune identify`` at the lines of its input), so that it is said once.

    Attributes:
        read_warnings: what the ABC reader left out of or changed in the query (a second
            voice, an overlay, an unknown decoration: `AbcTune.warnings`), at the lines of the
            text given to `identify`; the query is compared as read.
        unknown_notes: a sentence for the notes whose length, and one for those whose pitch,
            the tokenizer's vocabulary lacks (`unknown_notes`), naming them as typed.
    """

    def __init__(
        self,
        top: Iterable[tuple[str, float]] = (),
        read_warnings: Iterable[str] = (),
        unknown_notes: Iterable[str] = (),
    ) -> None:
        super().__init__(top)
        self.read_warnings = list(read_warnings)
        self.unknown_notes = list(unknown_notes)

    @property
    def warnings(self) -> list[str]:
        """Everything of the query not used as typed: `read_warnings`, then `unknown_notes`."""
        return self.read_warnings + self.unknown_notes


def unknown_notes(enc: EncodedTune, abc_snippet: str) -> list[str]:
    """A sentence naming the query's notes whose length, and one for those whose pitch, the
    tokenizer's vocabulary lacks (read as `<unk>`), as typed and by their number among the
    query's notes, with what the scores do with them; none when it knows every note. The
    sentences do not name the query: the caller knows it as the user does (a bare snippet, a
    line of a file), which the text given to `identify` may not say (an ``X:`` added to it).

    A length it lacks (``D10``, ``D2/3`` where the corpus had none) reads as no length: the
    edit distance compares such a note as one eighth, so that a snippet of another rhythm can
    score as an exact excerpt (0), and a model reads `<unk>`. A pitch it lacks leaves the note
    out of the comparison (a snippet of such notes alone is refused by `identify`).
    `evaluate-retrieval` leaves such queries out (`retrieval_evaluation.excerpt_query_rows`); a
    snippet to name is still named, with these sentences."""
    effect = {
        "length": "compared as one eighth each, so the scores do not see that rhythm",
        "pitch": "left out of the comparison",
    }
    return [
        f"{_counted_notes(count)} with a {what} the tokenizer does not know (read as <unk>): "
        f"{named}; {effect[what]}"
        for what, (count, named) in unknown_note_names(enc, abc_snippet).items()
    ]


def unknown_note_names(enc: EncodedTune, abc_snippet: str) -> dict[str, tuple[int, str]]:
    """Per kind of value (``"length"``, ``"pitch"``) the vocabulary lacks in some of the notes
    of ``enc`` (``abc_snippet`` encoded), how many notes and the first `_NOTES_NAMED` named as
    typed, by their number among the notes (``(2, "'d10' (note 1), 'e2/3' (note 9)")``); a
    note whose pitch is `<unk>` counts for its pitch only. Empty when every note is known, or
    when the ids are not one row a token (nothing to name them by)."""
    rows = np.asarray(enc.input_ids)[1:-1]  # one row per token, between <start> and <end>
    tokens = enc.tune.tokens
    if len(rows) != len(tokens):
        return {}
    main, dur = rows[:, MAIN_COLUMN].astype(np.int64), rows[:, DUR_COLUMN].astype(np.int64)
    is_note = np.array([t.kind == "note" for t in tokens], dtype=bool)
    unknown = {
        "length": is_note & (main != UNK_ID) & (dur == UNK_ID),
        "pitch": is_note & (main == UNK_ID),
    }
    if not any(found.any() for found in unknown.values()):
        return {}
    written = _written_tokens(abc_snippet, len(tokens))
    number = np.cumsum(is_note)  # each note's number among the snippet's notes, from 1
    named = {}
    for what, found in unknown.items():
        at = np.flatnonzero(found)
        if at.size:
            said = ", ".join(_note_named(written(i), number[i]) for i in at[:_NOTES_NAMED])
            more = f" and {at.size - _NOTES_NAMED} more" if at.size > _NOTES_NAMED else ""
            named[what] = (int(at.size), said + more)
    return named


def _counted_notes(count: int) -> str:
    """``1 note``, ``2 notes``."""
    return f"{count} note" + "s" * (count > 1)


def _note_named(typed: str, number: int) -> str:
    """A note as `unknown_notes` names it: ``'D10' (note 1)``, or ``note 1``."""
    return f"{typed!r} (note {number})" if typed else f"note {number}"


def _written_tokens(abc_snippet: str, count: int) -> Callable[[int], str]:
    """A function of a token's index giving it as typed (``"D10"``; the encoded tune holds the
    notes moved onto the white keys, which is not what the user typed), or "" where the
    snippet's tokens as written are not the `count` encoded."""
    from tokenization.abc_parser import parse_abc
    from tokenization.abc_writer import typed_token

    written = parse_abc(abc_snippet)
    if len(written.tokens) != count:
        return lambda i: ""
    return lambda i: typed_token(written, i)
