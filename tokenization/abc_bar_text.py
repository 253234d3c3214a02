"""The text of one bar as the ABC writer (`tokenization.abc_writer`) writes it: note lengths
(`length_text`), the beat groups a bar is beamed in and its dotted pairs written as broken rhythm
(`BarText`)."""

from __future__ import annotations

import math
from fractions import Fraction

from .abc_layout import engraved_lengths

__all__ = [
    "length_text",
    "BarText",
]


def length_text(dur: Fraction, unit: Fraction) -> str:
    """ABC length suffix of a whole-note duration relative to `unit`.

    >>> [length_text(Fraction(d), Fraction(1, 8)) for d in ("1/8", "1/4", "1/16", "3/16", "3/8")]
    ['', '2', '/2', '3/2', '3']
    """
    dur = dur if isinstance(dur, Fraction) else Fraction(dur)
    # dur / unit in integers: Fraction arithmetic was a fifth of the writer's time
    num, den = dur.numerator * unit.denominator, dur.denominator * unit.numerator
    if num <= 0 or den <= 0:
        raise ValueError(f"length must be positive, got {dur}")
    common = math.gcd(num, den)
    num, den = num // common, den // common
    if den == 1:
        return "" if num == 1 else str(num)
    if num == 1:
        return f"/{den}"
    return f"{num}/{den}"


#: A note, rest or chord of a bar outside a tuplet that may be one of a dotted pair
#: (`BarText.add`): its piece's index, its text without the length, its length text
#: (`length_text`), and its offset in the bar as ``num / den``.
_Event = tuple[int, str, str, int, int]


def _pair_texts() -> dict[tuple[str, str], tuple[str, Fraction]]:
    """The length texts (`length_text`) of the two notes of a dotted pair, (3/2 m, 1/2 m) or
    (1/2 m, 3/2 m), with its sign and m in units. m is the unit, or a half or a quarter of
    it: ``G>A`` and ``G/>A/`` are how musicians write a dotted pair, where a dotted quarter and
    an eighth are ``A3B``, not ``A2>B2``. The pairs are found by their texts, a dict look-up
    for each two notes (comparing their Fractions made the whole writer 1.5 times slower).

    >>> texts = _pair_texts()
    >>> texts["3/2", "/2"], texts["/8", "3/8"], ("3", "") in texts
    (('>', Fraction(1, 1)), ('<', Fraction(1, 4)), False)
    """
    texts = {}
    for m in (Fraction(1), Fraction(1, 2), Fraction(1, 4)):
        long, short = length_text(3 * m / 2, Fraction(1)), length_text(m / 2, Fraction(1))
        texts[long, short], texts[short, long] = (">", m), ("<", m)
    return texts


_PAIR_TEXTS = _pair_texts()
#: The length texts of a dotted pair's notes, and of its longer one (a bar without has none)
_PAIR_LENGTHS = frozenset(text for texts in _PAIR_TEXTS for text in texts)
_LONG_TEXTS = frozenset(long for long, short in _PAIR_TEXTS if _PAIR_TEXTS[long, short][0] == ">")


def _within_beat(num: int, den: int, length: Fraction, beat: Fraction) -> bool:
    """Whether ``[num / den, num / den + length]`` lies inside one beat (beats start at 0), in
    integers (this runs for every dotted pair).

    >>> quarter = Fraction(1, 4)
    >>> _within_beat(1, 8, quarter, Fraction(3, 8)), _within_beat(1, 8, quarter, quarter)
    (True, False)
    """
    beat_num, beat_den = beat.numerator, beat.denominator
    len_num, len_den = length.numerator, length.denominator
    index = (num * beat_den) // (den * beat_num)  # of the beat it starts in
    end = (num * len_den + len_num * den) * beat_den  # over den * len_den * beat_den
    return num >= 0 and end <= (index + 1) * beat_num * den * len_den


class BarText:
    """The pieces of the bar being written, and where a beat group starts: a bar is joined with
    a space before each group (``ABc dBA``) so that engravers beam by the beat. Its groups are
    counted from the bar line before it, in a short bar too (the end of a section, a first
    ending: ``|1 BGG G2 :|2 BGG GBd``, grouped as the second ending's full bar is), except in
    the tune's opening ``pickup`` (an anacrusis), counted back from the bar line after it.
    Offsets are kept as integer pairs (numerator, denominator) in lowest terms: Fraction
    arithmetic for every note was a large part of the writer's time."""

    def __init__(self, engrave: bool = False, pickup: bool = False) -> None:
        self.engrave = engrave  # lengths no single note shows written as tied notes
        self.pickup = pickup  # the tune's first bar: no note or rest before it
        #: in a ``pickup``, each event outside a tuplet as (piece index, num, den) of its offset
        self.starts: list[tuple[int, int, int]] = []
        self.pieces: list[str] = []
        self.breaks: set[int] = set()  # indices of pieces that start a beat group
        self.fields: set[int] = set()  # indices of inline fields, ``[P:B]`` (`field`)
        self.num, self.den = 0, 1  # sounding length written so far in this bar
        self.tuplet_left = 0  # members of the current tuplet still to come
        self.ratio = (1, 1)  # their sounding / written length
        self.count = 0  # notes, rests and chords written
        #: the notes, rests and chords a dotted pair may be made of (`dotted_pairs`), and which
        #: of them would be its longer note
        self.events: list[_Event] = []
        self.longs: list[int] = []

    def add(self, stem: str, dur: Fraction, unit: Fraction) -> None:
        """A note, rest or chord ``stem`` (its text without the length) of length ``dur``,
        starting at the current offset: outside a tuplet, one of a dotted pair
        (`dotted_pairs`), or with ``engrave`` tied notes of `engraved_lengths`."""
        if self.engrave and not self.tuplet_left:  # a tuplet's members keep their number
            parts = engraved_lengths(dur)
            if len(parts) > 1:
                tie = "" if stem == "z" else "-"
                self.pieces.append(tie.join(stem + length_text(part, unit) for part in parts))
                return
        length = length_text(dur, unit)
        if length in _PAIR_LENGTHS and not self.tuplet_left:
            if length in _LONG_TEXTS:
                self.longs.append(len(self.events))
            self.events.append((len(self.pieces), stem, length, self.num, self.den))
        self.pieces.append(stem + length)

    def start_event(self, group: Fraction | None) -> None:
        """A note, rest, chord or tuplet begins at the current offset."""
        if self.pickup and not self.tuplet_left:
            self.starts.append((self._group_start(), self.num, self.den))
        on_group = group and (self.num * group.denominator) % (self.den * group.numerator) == 0
        if on_group and self.num and not self.tuplet_left:  # offset / group a whole number
            self.breaks.add(self._group_start())

    def field(self, text: str) -> None:
        """An inline field, ``[P:B]``, before the next event: a beat group that starts at that
        event starts before it (``dBG [P:C]GBd``)."""
        self.fields.add(len(self.pieces))
        self.pieces.append(text)

    def _group_start(self) -> int:
        """The piece a beat group starting at the next event starts at: the inline fields
        written just before it, else its own."""
        at = len(self.pieces)
        while at - 1 in self.fields:
            at -= 1
        return at

    def _pickup_breaks(self, group: Fraction | None, bar_length: Fraction | None) -> set[int]:
        """The pieces that start a beat group in a short opening bar, its groups counted back
        from its end (``E FGA`` before ``| B3 ...`` in 6/8; once a tune, in Fractions)."""
        if group is None or bar_length is None:
            return set()
        shift = bar_length - Fraction(self.num, self.den)
        breaks = set()
        for piece, num, den in self.starts:
            offset = Fraction(num, den) + shift
            if piece and (offset / group).denominator == 1:
                breaks.add(piece)
        return breaks

    def advance(self, written: Fraction) -> None:
        """A note, rest or chord of written length ``written`` ends."""
        self.count += 1
        num, den = written.numerator, written.denominator
        if self.tuplet_left:
            num, den = num * self.ratio[0], den * self.ratio[1]
            self.tuplet_left -= 1
        num, den = self.num * den + num * self.den, self.den * den
        common = math.gcd(num, den)
        self.num, self.den = num // common, den // common

    def fills(self, bar_length: Fraction | None) -> bool:
        """Whether the bar written so far is ``bar_length`` long."""
        return bar_length is not None and (self.num, self.den) == (
            bar_length.numerator,
            bar_length.denominator,
        )

    def dotted_pairs(
        self, beat: Fraction | None, bar_length: Fraction | None, unit: Fraction
    ) -> None:
        """Write each two adjacent events of lengths (3/2 m, 1/2 m) as ``x>y`` and (1/2 m,
        3/2 m) as ``x<y`` (ABC 2.1 4.4, broken rhythm), m a plain note value (a whole note
        halved 0 or more times), where the pair lies inside one ``beat``: counted from the bar
        line before it, or in a short bar (a pickup) from either bar line. Adjacent means with
        nothing written between: no tie (``A>-A`` is no ABC), tuplet or inline field. Each
        event is one of one pair at most, so the reader reads the lengths back as they were
        (a chain ``a>b>c`` would move b's length twice). abc2midi plays ``>`` as the tune's
        broken-rhythm ratio (2:1 in a hornpipe, as its sources with ``>`` play) and an
        explicit ``3/2``+``/2`` always 3:1."""
        plain_unit = unit.numerator == 1 and unit.denominator & (unit.denominator - 1) == 0
        if beat is None or not self.longs or not plain_unit:  # most bars: no longer note
            return
        events, paired = self.events, -1  # the second of the last pair written
        for j in self.longs:  # a pair holds one longer note: with the note before, else after
            for i in (j - 1, j):
                if paired < i and i + 1 < len(events) and self._pair(i, beat, bar_length, unit):
                    paired = i + 1
                    break

    def _pair(self, i: int, beat: Fraction, bar_length: Fraction | None, unit: Fraction) -> bool:
        """Write events ``i`` and ``i + 1`` as a dotted pair if they make one (`dotted_pairs`)."""
        (piece, stem, length, num, den), (next_piece, next_stem, next_length, _, _) = (
            self.events[i],
            self.events[i + 1],
        )
        pair = _PAIR_TEXTS.get((length, next_length)) if next_piece == piece + 1 else None
        if pair is None or next_piece in self.breaks:
            return False
        sign, m = pair[0], pair[1] * unit
        inside = _within_beat(num, den, 2 * m, beat)
        total = Fraction(self.num, self.den)
        if not inside and bar_length is not None and total < bar_length:
            start = Fraction(num, den) + bar_length - total  # a pickup: beats from its end
            inside = _within_beat(start.numerator, start.denominator, 2 * m, beat)
        if inside:
            text = length_text(m, unit)
            self.pieces[piece] = stem + text + sign
            self.pieces[next_piece] = next_stem + text
        return inside

    def text(
        self,
        bar_length: Fraction | None,
        beat: Fraction | None,
        unit: Fraction,
        group: Fraction | None = None,
    ) -> str:
        """The bar's text, its dotted pairs written inside ``beat`` (`dotted_pairs`), broken
        into beat groups of ``group`` (no second space after a mid-bar ending, `` [1 ``, which
        brings its own); a bar longer than ``bar_length`` (an irregular one) is not broken."""
        if self.pickup and bar_length is not None and not self.fills(bar_length):
            self.breaks = self._pickup_breaks(group, bar_length)
        self.dotted_pairs(beat, bar_length, unit)
        pieces = self.pieces
        total = Fraction(self.num, self.den)
        if bar_length is None or total > bar_length:
            return "".join(pieces)
        return "".join(
            (" " if i in self.breaks and not pieces[i - 1].endswith(" ") else "") + piece
            for i, piece in enumerate(pieces)
        )
