"""Causal bar, offset and measure-group bookkeeping shared by the tokenizer and the sampler."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = [
    "EIGHTHS_PER_WHOLE",
    "TICKS_PER_EIGHTH",
    "MeasureTracker",
    "Position",
    "compound_meter",
    "to_ticks",
    "bar_length_in_eighths",
    "tuplet_factor",
    "tuplet_size",
]

#: Positions and feature durations are counted in eighth notes (the corpus's ``L:1/8``).
EIGHTHS_PER_WHOLE = 8
#: Internally, time is an integer count of ticks: exact for lengths down to 1/32 of an eighth and
#: for triplets, quintuplets, septuplets and nonuplets, and much faster than `Fraction` arithmetic.
TICKS_PER_EIGHTH = 2**5 * 3**2 * 5 * 7
TICKS_PER_WHOLE = TICKS_PER_EIGHTH * EIGHTHS_PER_WHOLE
_ZERO = Fraction(0)
_TICKS: dict[tuple[int, int], int | Fraction] = {}


def to_ticks(length: Fraction) -> int | Fraction:
    """Ticks of a length given as a fraction of a whole note (an int whenever exact), cached.

    >>> to_ticks(Fraction(1, 8)) == TICKS_PER_EIGHTH
    True
    >>> to_ticks(Fraction(1, 12)) * 3 == 2 * TICKS_PER_EIGHTH
    True
    """
    key = (length.numerator, length.denominator)
    ticks = _TICKS.get(key)
    if ticks is None:
        exact = Fraction(key[0] * TICKS_PER_WHOLE, key[1])
        ticks = _TICKS[key] = int(exact) if exact.denominator == 1 else exact
    return ticks


@dataclass(frozen=True)
class Position:
    """Where the next token goes: repeat-relative bar index, offset in the bar, measure group.

    Attributes:
        m_idx: bar index inside the current repeated section (reset by ``|:``; endings share it).
        m_offset: offset from the start of the bar, in eighth notes (exact).
        measure: measure-group number (a pickup shares group 0 with the first full bar).

    >>> from tokenization.abc_parser import Token
    >>> tracker = MeasureTracker(Fraction(4))  # 2/4: a bar of 4 eighths
    >>> for pitch in (62, 64, 66):
    ...     tracker.push(Token("note", "", pitch, Fraction(1, 8)))
    >>> tracker.position
    Position(m_idx=0, m_offset=Fraction(3, 1), measure=0)
    """

    m_idx: int
    m_offset: Fraction
    measure: int


def bar_length_in_eighths(meter: str | None) -> Fraction | None:
    """Length of a full bar in eighth notes, or ``None`` for free meter.

    >>> bar_length_in_eighths("6/8"), bar_length_in_eighths("3/2"), bar_length_in_eighths(None)
    (Fraction(6, 1), Fraction(12, 1), None)
    """
    if not meter or "/" not in meter:
        return None
    numerator, denominator = meter.split("/", 1)
    total = sum(int(part) for part in numerator.split("+"))
    return Fraction(total * EIGHTHS_PER_WHOLE, int(denominator))


def tuplet_size(text: str) -> int:
    """Number of notes a tuplet token covers: ``(3`` -> 3, ``(3:2:4`` -> 4, ``(5:4`` -> 5.

    >>> tuplet_size("(3"), tuplet_size("(3:2:4"), tuplet_size("(6:4")
    (3, 4, 6)
    """
    parts = text[1:].split(":")
    if len(parts) >= 3 and parts[2]:
        return int(parts[2])
    return int(parts[0])


def _bar_ending(text: str) -> str:
    """The ending label of a canonical bar text (``":|2"`` -> ``"2"``, ``"|"`` -> ``""``; the
    mid-bar ``"[2"`` -> ``"2"``)."""
    return text.lstrip(":|]").lstrip("[")


class MeasureTracker:
    """Consume tokens one at a time and tell the position of the next one.

    The rules (a causal variant of the reference semantics, used both to build training rows and
    while sampling, so the two can never disagree):

    - notes and rests advance the offset by their length; members of a tuplet advance nothing
      until the last member, which adds ``q/p`` times the members' written lengths (a tuplet
      goes on across a bar line: the members before it count in the bar it closes); chord members
      advance nothing and the chord end adds the first chord note's length;
    - a bar line sits at the end of the measure it closes (its offset is the measure's length); the
      offset then restarts at 0;
    - a bar line advances ``m_idx`` and ``measure`` only when the measure it closes is longer than
      half a bar: a pickup therefore shares group 0 and index 0 with the first full bar;
    - ``|:`` (and ``:|:``) restart ``m_idx`` at 0; a first ending remembers ``m_idx`` and later
      endings restore it, so endings share bar indices;
    - an ending that opens mid-bar (``[1``, no bar line: ``Bcd edc [1 d2B A2G :|``) closes no
      bar: the bar goes on across it, and later endings restore its offset with ``m_idx``, so
      the second ending completes the bar the first one did (``:|2 d2z d2z ||``).

    Args:
        bar_length: length of a full bar in eighth notes, ``None`` for free meter.

    Example:
        >>> from tokenization.abc_parser import Token
        >>> t = MeasureTracker(Fraction(6))
        >>> t.push(Token("bar", "|:", None, None)); t.position
        Position(m_idx=0, m_offset=Fraction(0, 1), measure=0)
        >>> t.push(Token("note", "", 62, Fraction(1, 8))); t.position.m_offset
        Fraction(1, 1)
    """

    def __init__(self, bar_length: Fraction | None) -> None:
        #: full bar and current offset in ticks (`TICKS_PER_EIGHTH` per eighth note)
        self.bar_length = None if bar_length is None else to_ticks(bar_length / EIGHTHS_PER_WHOLE)
        self.half_bar = self.bar_length / 2 if self.bar_length else 0
        self.offset: int | Fraction = 0
        self.m_idx = 0
        self.measure = 0
        #: ``(m_idx, offset)`` where the first ending opened, for the later endings to restore
        self.ending_at: tuple[int, int | Fraction] | None = None
        self.tuplet_left = 0
        self.tuplet_factor = Fraction(1)
        self.tuplet_sum: int | Fraction = 0
        self.in_chord = False
        self.chord_length: int | Fraction | None = None

    @property
    def position(self) -> Position:
        """Position of the next token (offset in eighth notes)."""
        return Position(self.m_idx, Fraction(self.offset) / TICKS_PER_EIGHTH, self.measure)

    @property
    def in_tuplet(self) -> bool:
        """Whether a tuplet is open (some of its notes are still to come)."""
        return self.tuplet_left > 0

    def push(self, token: Any) -> None:
        """Advance past ``token`` (a `tokenization.abc_parser.Token` or any object with
        ``kind``, ``text`` and ``dur``; ``dur`` is a fraction of a whole note)."""
        kind = token.kind
        if kind == "note" or kind == "rest":
            length = to_ticks(token.dur)
            if self.in_chord:
                if self.chord_length is None:
                    self.chord_length = length
            else:
                self._advance(length)
        elif kind == "chord_start":
            self.in_chord, self.chord_length = True, None
        elif kind == "chord_end":
            self.in_chord = False
            if self.chord_length is not None:
                self._advance(self.chord_length)
        elif kind == "tuplet":
            self.tuplet_left = tuplet_size(token.text)
            self.tuplet_factor = token.dur
            self.tuplet_sum = 0
        elif kind == "bar":
            self._close_bar(token.text)

    def _advance(self, length: int | Fraction) -> None:
        if self.tuplet_left <= 0:
            self.offset += length
            return
        self.tuplet_sum += length
        self.tuplet_left -= 1
        if self.tuplet_left == 0:
            total = self.tuplet_sum * self.tuplet_factor
            self.offset += int(total) if total.denominator == 1 else total

    @property
    def bar_offset(self) -> int | Fraction:
        """The offset in ticks a bar line here would close the measure at: `offset`, plus the
        members so far of a tuplet still open (``(3AB|c``), at ``q/p`` times their written
        lengths: a tuplet goes on across a bar line, as the reader (and abc2midi, music21)
        times it, the rest of its members counting in the next bar."""
        if self.tuplet_left <= 0 or not self.tuplet_sum:
            return self.offset
        total = self.offset + self.tuplet_sum * self.tuplet_factor
        return int(total) if total.denominator == 1 else total

    def _split_tuplet(self) -> None:
        """Close a bar inside a tuplet: its members so far count in this bar (`bar_offset`)."""
        self.offset, self.tuplet_sum = self.bar_offset, 0

    def _close_bar(self, text: str) -> None:
        if not text.startswith("["):  # `[2` opens an ending mid-bar: no bar line to close
            self._split_tuplet()
            if self.offset > self.half_bar:
                self.m_idx += 1
                self.measure += 1
            self.offset = 0
        ending = _bar_ending(text)
        if ending.startswith("1"):
            self.ending_at = (self.m_idx, self.offset)
        elif ending and self.ending_at is not None:
            self.m_idx, self.offset = self.ending_at
        if text.endswith(":") and not ending:
            self.m_idx = 0
            self.ending_at = None


def compound_meter(meter: str | None) -> bool:
    """Whether ``meter`` counts in dotted beats for the tuplet rule of ABC 2.1 (4.13): a
    numerator that is a multiple of 3 above 3. No meter counts as 4/4.

    >>> compound_meter("6/8"), compound_meter("15/8"), compound_meter("3/4"), compound_meter(None)
    (True, True, False, False)
    """
    numerator = (meter or "4/4").split("/")[0]
    return numerator.isdigit() and int(numerator) % 3 == 0 and int(numerator) > 3


def tuplet_factor(text: str, compound: bool = False) -> Fraction:
    """Time factor ``q/p`` of a tuplet token, with the ABC 2.1 default ``q`` when it is absent.

    >>> tuplet_factor("(3"), tuplet_factor("(2"), tuplet_factor("(5", compound=True)
    (Fraction(2, 3), Fraction(3, 2), Fraction(3, 5))
    """
    parts = text[1:].split(":")
    p = int(parts[0])
    if len(parts) >= 2 and parts[1]:
        q = int(parts[1])
    elif p in (2, 4, 8):
        q = 3
    elif p in (3, 6):
        q = 2
    else:
        q = 3 if compound else 2
    return Fraction(q, p)
