"""What the ABC reader gives: `AbcTune` (a parsed tune), its body `Token` s, `AbcParseError`.

Defined apart from the reader (`tokenization.abc_parser`, which re-exports them) so that its
topic modules (`abc_bars`, `abc_notes`) make tokens and errors without importing it back.

>>> Token("note", "", 62, Fraction(1, 8)).pitch
62
>>> str(AbcParseError("empty chord", tune="Kesh", line=5, column=3))
'Kesh: line 5, column 3: empty chord'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from operator import itemgetter
from typing import Any, NamedTuple

from .keys import Key

__all__ = [
    "METER_RE",
    "WRITTEN_METER_SYMBOLS",
    "AbcParseError",
    "AbcTune",
    "Token",
    "in_force_at",
    "meter_as_written",
    "part_ending_tempos",
]

#: The ``M:`` symbols of common and cut time, ``C`` (4/4) and ``C|`` (2/2): the reader reads
#: them as ``N/D`` (`AbcTune.meter`), and the writers write them back as they were written.
WRITTEN_METER_SYMBOLS = {"C": "4/4", "C|": "2/2"}
#: An ``M:`` meter without its spaces, as the reader reads it (`abc_header.parse_meter`): ``N/D``
#: or additive, ``2+3/8`` or ``(2+3+2)/8`` (ABC 2.1 §3.1.6: how the beats are grouped), the
#: brackets around the whole numerator or none (``(2+3/8`` is no meter). Group 2 is the
#: numerator (its parts joined by ``+``), group 3 the denominator.
METER_RE = re.compile(r"(\()?(\d+(?:\+\d+)*)(?(1)\))/(\d+)")


class AbcParseError(ValueError):
    """Malformed ABC; names the tune, the 1-based line and column in the source text.

    `internal` is True when an unexpected error (a parser bug) was converted.

    >>> from tokenization.abc_parser import parse_abc
    >>> try:
    ...     parse_abc("X:1\\nT:Bad\\nK:D\\nDF A^^^|")
    ... except AbcParseError as err:
    ...     print(err)
    ...     err.tune, err.line, err.column, err.message
    Bad: line 4, column 5: unexpected character '^'
    ('Bad', 4, 5, "unexpected character '^'")
    """

    def __init__(
        self,
        message: str,
        *,
        tune: str | None = None,
        line: int | None = None,
        column: int | None = None,
        internal: bool = False,
    ) -> None:
        self.message = message
        self.tune = tune
        self.line = line
        self.column = column
        self.internal = internal
        super().__init__(f"{tune or 'tune'}: line {line}, column {column}: {message}")


class Token(NamedTuple):
    """One body token; see DESIGN.md section 1 for the meaning of each field by kind.

    >>> from tokenization.abc_parser import parse_abc
    >>> parse_abc("X:1\\nL:1/8\\nK:D\\nDF A2|").tokens[2:]
    [Token(kind='note', text='', pitch=69, dur=Fraction(1, 4)),
     Token(kind='bar', text='|', pitch=None, dur=None)]
    """

    kind: str
    text: str
    pitch: int | None
    dur: Fraction | None


@dataclass
class AbcTune:
    """One parsed tune: header fields, key, meter, unit and the body tokens.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nT:Tune\\nM:2/4\\nL:1/8\\nK:D\\nDF A2|")
    >>> tune.title, tune.key.name, tune.meter, tune.unit, len(tune.tokens), tune.fields["T"]
    ('Tune', 'D major', '2/4', Fraction(1, 8), 4, ['Tune'])
    """

    fields: dict[str, list[str]]
    title: str
    key: Key
    meter: str | None
    unit: Fraction
    tokens: list[Token]
    warnings: list[str]
    line: int
    x: int | None = None
    original_key: Key | None = None
    #: the voices the body writes in or selects (only the first is kept; a voice the header
    #: declares and the body never selects is not one)
    voice_count: int = 1
    #: the id of the voice whose music `tokens` are: music before any body ``V:`` is voice
    #: ``"1"`` (or the voice the header declares first by name, ``V:T1``), even after a header
    #: ``V:2``; a body opening with ``V:`` keeps the first voice the header declares. The MIDI
    #: plays this voice's header ``V:`` (`played_transpose`). None for a tune without music.
    voice: str | None = None
    corpus_format: bool = False
    accidentals: dict[str, int] = field(default_factory=dict)
    #: mid-tune meter changes: ``(index of the first token under the new meter, meter)``. The
    #: reader follows them (tuplet defaults, ``Z`` lengths, `bar_check`); `meter` stays the
    #: header's, and so do the measure features of the rows.
    meter_changes: list[tuple[int, str | None]] = field(default_factory=list)
    #: the mid-tune meter changes of `meter_changes` written as a symbol of `WRITTEN_METER_SYMBOLS`
    #: (``[M:C|]``) or as an additive meter (``[M:2+3/8]``, without its spaces;
    #: `meter_as_written`): ``{index of the first token under the new meter: "C|"}``; the
    #: writers write them back so (`written_meter_changes`), the reader reads them as ``N/D``.
    meter_symbols: dict[int, str] = field(default_factory=dict)
    #: mid-tune key changes (an inline ``[K:...]``, a ``K:`` line in the body; not one that
    #: sets a clef alone): ``(index of the first token under the new key, key)``. The reader
    #: spells the notes after it in that key; `key` stays the header's. `render_musicxml`
    #: writes the new key signature there, `write_abc` an inline ``[K:]``; `normalise_tune`
    #: and ``irish-tune transpose`` move them with the notes (`moved_key`).
    key_changes: list[tuple[int, Key]] = field(default_factory=list)
    #: mid-tune unit changes (an inline ``[L:1/16]``, an ``L:`` line in the body):
    #: ``(index of the first token under the new unit, unit)``. The tokens' lengths are whole
    #: notes, so the reader has already applied them; `unit` stays the header's (it was the
    #: last one read) and `unit_at` gives the one a token was written in.
    unit_changes: list[tuple[int, Fraction]] = field(default_factory=list)
    #: tempo changes in the body (a ``Q:`` line after ``K:``, before the music too, an inline
    #: ``[Q:...]``):
    #: ``(index of the first token played at the new tempo, the Q: text)``, e.g.
    #: ``(9, "1/4=60")``. Only `render.to_midi` reads them: the tokens, rows and features
    #: carry no tempo; the header's ``Q:`` stays in `fields`.
    tempo_changes: list[tuple[int, str]] = field(default_factory=list)
    #: the parts the body marks (a ``P:`` line after ``K:``, an inline ``[P:...]``):
    #: ``(index of the first token of the part, the P: text)``, e.g. ``(0, "A")``. Only
    #: `render.to_midi` reads them, to play the parts in the order of the header's ``P:``
    #: (`fields["P"]`), and the writer writes them back; the tokens, rows and features carry
    #: no parts.
    part_changes: list[tuple[int, str]] = field(default_factory=list)
    #: which of `part_changes` (their places in that list) the body writes inline, ``[P:B]``;
    #: the others are ``P:`` lines. The writer writes each back as it was.
    inline_parts: list[int] = field(default_factory=list)
    #: which of `part_changes` (their places in that list) the body writes after a tempo change
    #: at the same token (``Q:1/4=60`` then ``P:B``): that change ends the part before, and is
    #: played when that part ends, not when this one starts (`part_ending_tempos`), as abc2midi
    #: plays it; a second change at that token, written after the ``P:``, starts the part.
    parts_after_tempo: list[int] = field(default_factory=list)
    #: the unit note length a tempo change of `tempo_changes` (by its place in that list) is
    #: read in, the one in force where it is written, for those where that is not the one in
    #: force at its token (`unit_at`): one written before a unit change there
    #: (``[Q:C=120][L:1/16]``: the unit before it), between two (``[L:1/16][Q:C=120][L:1/8]``:
    #: 1/16), or moved before a bar line merged across a line break (``|``, then
    #: ``[L:1/16][Q:C=120]|:`` on the next line: 1/16; `BarsAndTies._fields_before_merged_bar`).
    #: It holds the unit of every such change, whatever its beat, though only a beat in unit
    #: notes (``C=120``, `abc_tempo.unit_beat`) reads it: ``[L:1/16][Q:1/4=60][L:1/8]`` is
    #: there too (1/16), and reads 60 quarter notes a minute under any unit.
    tempo_units: dict[int, Fraction] = field(default_factory=dict)
    #: what the reader read in the body and left out of `tokens`, counted by kind: ``"text"``
    #: chord symbols and annotations (``"Am"``), ``"deco"`` decorations (``~``, ``!roll!``),
    #: ``"grace"`` grace-note groups (``{g}``), ``"slur"`` slurs (counted at their ``(``); a
    #: kind the tune has none of is absent. Skipped voices and overlays are not counted.
    markings: dict[str, int] = field(default_factory=dict)
    #: the section titles of the body (ABC 2.1: a ``T:`` line after ``K:``, before the music too,
    #: titles the section after it, ``T:Variation``): ``(index of the first token after it, the
    #: T: text)``, e.g. ``(0, "Part A")``. The header's titles alone are `fields["T"]`; `title` is
    #: the header's first, or the first section title before the first note or grace note of a
    #: header without one. The writer writes them back as ``T:`` lines in the body; the tokens,
    #: rows and features carry none.
    section_titles: list[tuple[int, str]] = field(default_factory=list)
    #: abc2midi's ``%%MIDI program [channel] N`` in the body of the voice kept (a ``%%MIDI``
    #: or ``I:MIDI`` line, an inline ``[I:MIDI program N]``; one between ``K:`` and the music
    #: is the header's): ``(index of the first token played on the new instrument, the
    #: directive's words)``, e.g. ``(8, "MIDI program 20")``. `render.to_midi` plays them
    #: (`program_marks`) and the writer writes them back inline (``[I:MIDI program 20]``);
    #: the tokens, rows and features carry no instrument.
    program_changes: list[tuple[int, str]] = field(default_factory=list)
    #: ``propagate-accidentals`` in the body (an ``I:`` or ``%%`` line, an inline ``[I:...]``;
    #: ABC 2.1 §11.3): ``(index of the first token read under the new scope, scope)``, e.g.
    #: ``(4, "not")``. The reader reads the notes after it so, the accidentals of the bar so far
    #: reaching on where they reached (`abc_header_directives.rescoped`); the header's scope is
    #: its ``fields["I"]``'s (`propagate_accidentals`). `abc_writer.typed_token` follows them.
    scope_changes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def written_meter(self) -> str | None:
        """The ``M:`` value to write the tune with: the header's ``C`` or ``C|`` as it was
        written (`WRITTEN_METER_SYMBOLS`; `meter` reads them as 4/4 and 2/2), or its additive
        meter without spaces (``2+3/8``; `meter` reads it as 5/8), else `meter`
        (`meter_as_written`). Pass it to `write_abc` (``meter=tune.written_meter``): a tune in
        cut time stays ``C|``, one in ``2+3/8`` keeps its grouping of the beats.

        >>> from tokenization.abc_parser import parse_abc
        >>> cut = parse_abc("X:1\\nM:C|\\nL:1/8\\nK:G\\nGABc dedB|")
        >>> cut.meter, cut.written_meter, parse_abc("M:6/8\\nK:G\\nGAB|").written_meter
        ('2/2', 'C|', '6/8')
        >>> parse_abc("M:2 + 3/8\\nK:G\\nGA BcD|").written_meter
        '2+3/8'
        """
        written = self.fields.get("M") or [""]
        return meter_as_written(written[-1], self.meter)

    def written_meter_changes(self) -> list[tuple[int, str | None]]:
        """`meter_changes` as they were written: a ``C`` or ``C|`` one as that symbol, an
        additive one as that sum (`meter_symbols`), the others ``N/D``; the writer's
        ``meter_changes``.

        >>> from tokenization.abc_parser import parse_abc
        >>> tune = parse_abc("M:6/8\\nL:1/8\\nK:G\\nGAB cBA|[M:C|]GABc dedB|[M:3/4]GA Bc d2|")
        >>> tune.meter_changes, tune.written_meter_changes()
        ([(7, '2/2'), (16, '3/4')], [(7, 'C|'), (16, '3/4')])
        """
        return [(at, self.meter_symbols.get(at, meter)) for at, meter in self.meter_changes]

    def key_at(self, index: int) -> Key:
        """The key in force at token ``index``: the last of `key_changes` at or before it, else
        the header's `key` (as the reader spelled that token).

        >>> from tokenization.abc_parser import parse_abc
        >>> tune = parse_abc("K:G\\nGABc|[K:D]c2 f2|")
        >>> tune.key_at(4).name, tune.key_at(5).name, tune.key_at(6).name
        ('G major', 'D major', 'D major')
        """
        return in_force_at(self.key_changes, index, self.key)

    def unit_at(self, index: int) -> Fraction:
        """The unit note length in force at token ``index``: the last of `unit_changes` at or
        before it, else the header's `unit` (the one its length was written in).

        >>> from tokenization.abc_parser import parse_abc
        >>> tune = parse_abc("L:1/8\\nK:G\\nc2|[L:1/16]c4|")
        >>> tune.unit, tune.unit_at(0), tune.unit_at(2)
        (Fraction(1, 8), Fraction(1, 8), Fraction(1, 16))
        """
        return in_force_at(self.unit_changes, index, self.unit)

    def tempo_unit(self, n: int) -> Fraction:
        """The unit note length body tempo change ``n`` (its place in `tempo_changes`) is read
        in, the one in force where it is written: its `tempo_units`, else the unit in force at its
        token (`unit_at`). Every change has one; only a beat in unit notes (``C=120``) reads it.

        >>> from tokenization.abc_parser import parse_abc
        >>> tune = parse_abc("L:1/8\\nK:G\\nc|[Q:C=60][L:1/16]c|[Q:C=60]c4|[L:1/4][Q:C=9][L:1/8]c|")
        >>> tune.tempo_unit(0), tune.tempo_unit(1), tune.tempo_unit(2)
        (Fraction(1, 8), Fraction(1, 16), Fraction(1, 4))
        """
        unit = self.tempo_units.get(n)
        return self.unit_at(self.tempo_changes[n][0]) if unit is None else unit


def meter_as_written(written: str, meter: str | None) -> str | None:
    """The ``M:`` value to write for ``meter`` (``N/D``, as the reader read ``written``):
    ``written`` without its spaces when it is a symbol of `WRITTEN_METER_SYMBOLS` for that meter
    (``C|`` for 2/2) or an additive meter that sums to it (``2+3/8`` for 5/8: it says how the
    beats are grouped, ABC 2.1 §3.1.6), else ``meter``.

    >>> meter_as_written(" C| ", "2/2"), meter_as_written("C", "4/4")
    ('C|', 'C')
    >>> meter_as_written(" 2 + 3/8", "5/8"), meter_as_written("(3+2+3)/8", "8/8")
    ('2+3/8', '(3+2+3)/8')
    >>> meter_as_written("4/4", "4/4"), meter_as_written("2+3/8", "6/8")
    ('4/4', '6/8')

    >>> meter_as_written("C", "2/2"), meter_as_written("none", None), meter_as_written("", None)
    ('2/2', None, None)
    """
    symbol = written.replace(" ", "")
    if meter is not None and meter in (WRITTEN_METER_SYMBOLS.get(symbol), _additive_sum(symbol)):
        return symbol
    return meter


def _additive_sum(compact: str) -> str | None:
    """The additive meter ``compact`` (written without spaces, ``2+3/8``) summed as ``N/D``
    (``5/8``); None for any other ``M:`` value (``5/8``, ``C|``, ``none``)."""
    m = METER_RE.fullmatch(compact)
    if m is None or "+" not in m[2]:
        return None
    return f"{sum(int(part) for part in m[2].split('+'))}/{int(m[3])}"


def in_force_at(changes: Sequence[tuple[int, Any]], index: int, header: Any) -> Any:
    """The value in force at token ``index``: the last of ``changes`` (``(token index it comes
    before, value)``, in token order) at or before it, else ``header``'s.

    >>> in_force_at([(2, "3/4"), (5, "6/8")], 4, "4/4"), in_force_at([(2, "3/4")], 1, "4/4")
    ('3/4', '4/4')

    A binary search of ``changes`` (which must be in token order): the reader asks at every
    ``[L:]`` field and the bar check at every bar, so that many changes stay linear in all.
    """
    placed = bisect_right(changes, index, key=itemgetter(0))
    return changes[placed - 1][1] if placed else header


def part_ending_tempos(
    tempo_changes: Sequence[tuple[int, str]],
    part_changes: Sequence[tuple[int, str]],
    parts_after_tempo: Collection[int],
) -> set[int]:
    """Which of ``tempo_changes`` (places in that list, `AbcTune.tempo_changes`) end the part
    before a part that starts at their token: the first change at the token of a part written
    after it (`AbcTune.parts_after_tempo`); a change after it at that token starts the part.

    >>> part_ending_tempos([(4, "1/4=60"), (4, "1/4=90")], [(0, "A"), (4, "B")], [1])
    {0}
    """
    after = {part_changes[n][0] for n in parts_after_tempo}
    ending, seen = set(), set()
    for n, (at, _) in enumerate(tempo_changes):
        if at in after and at not in seen:
            ending.add(n)
        seen.add(at)
    return ending
