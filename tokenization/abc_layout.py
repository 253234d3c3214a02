"""Where the ABC writer's lines and beats fall: the beats bars are beamed in (`beat_group`), the
beat a dotted pair must lie in (`pair_beat`), the lines of `tokens_to_body`'s own layout
(`LineBreaks`, `LINE_BARS`...), and lengths written as tied notes that engravers can show
(`engraved_lengths`)."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from .abc_header import parse_meter
from .measure import compound_meter

if TYPE_CHECKING:
    from .abc_bar_text import BarText

__all__ = [
    "beat_group",
    "engraved_lengths",
    "pair_beat",
    "LineBreaks",
    "full_bar_length",
    "meter_numbers",
]


def meter_numbers(meter: str | None) -> tuple[int, int] | None:
    """``(N, D)`` of a meter as the reader reads ``M:`` (``C``, ``C|``, ``2+3/8``), or None for
    free and unreadable meters."""
    try:
        text = parse_meter(meter or "")
    except ValueError:
        return None
    if text is None:
        return None
    num, den = text.split("/")
    return int(num), int(den)


def full_bar_length(meter: str | None) -> Fraction | None:
    """Whole notes in a full bar of ``meter`` (None for free or unreadable meters)."""
    numbers = meter_numbers(meter)
    return None if numbers is None else Fraction(*numbers)


def _compound_beat(n: int, d: int) -> Fraction | None:
    """A dotted beat, ``3/d``, in a compound meter ``n/d`` of eighths or sixteenths; else None."""
    return Fraction(3, d) if d in (8, 16) and compound_meter(f"{n}/{d}") else None


def beat_group(meter: str | None) -> Fraction | None:
    """Length (whole notes) of the beat groups a bar of ``meter`` is written in, the way
    Irish tunes are usually beamed: a dotted quarter in compound x/8 meters (6/8, 9/8, 12/8,
    15/8...: a multiple of 3 above 3, `compound_meter`), half a bar in 4/4 and 2/2 (``ABcd
    efga``), a half note in 3/2, a quarter in other x/4 meters; None (the bar unbroken) for free
    meter and for irregular ones such as 5/8 or 7/8.

    >>> [beat_group(m) for m in ("6/8", "15/8", "C", "2/4", "3/2", "7/8", None)]
    [Fraction(3, 8), Fraction(3, 8), Fraction(1, 2), Fraction(1, 4), Fraction(1, 2), None, None]
    """
    numbers = meter_numbers(meter)
    if numbers is None:
        return None
    n, d = numbers
    if _compound_beat(n, d):
        return _compound_beat(n, d)
    if d == 2:
        return Fraction(1, 2)
    if d == 4:
        return Fraction(1, 2) if n == 4 else Fraction(1, 4)
    return None


def engraved_lengths(dur: Fraction) -> list[Fraction]:
    """``dur`` as the lengths, longest first, of tied notes that each show as one notehead with
    at most three dots (abcm2ps 8.14 refuses others, "Note too much dotted": 5/8 or 9/32 of a
    whole note, ``c5`` or ``c9/4`` at ``L:1/8``); ``[dur]`` when one note shows it, or when
    no sum of such notes makes it (a third, written in a tuplet).

    >>> [[str(p) for p in engraved_lengths(Fraction(n, 32))] for n in (9, 12, 20, 44, 7)]
    [['1/4', '1/32'], ['3/8'], ['1/2', '1/8'], ['1', '3/8'], ['7/32']]
    """
    num, den = dur.numerator, dur.denominator
    if den & (den - 1) or num & (num + 1) == 0 and num < 16:  # a third; 1, 3, 7 or 15
        return [dur]
    parts = []
    while num:
        top = num.bit_length() - 1
        run = 1  # a run of r set bits from the top is one note with r - 1 dots
        while run < 4 and run <= top and num >> (top - run) & 1:
            run += 1
        value = ((1 << run) - 1) << (top - run + 1)
        parts.append(Fraction(value, den))
        num -= value
    return parts


#: Bars of the meter's length a line holds in `tokens_to_body`'s own layout (`LineBreaks`)
LINE_BARS = 4
#: Bar lines a line holds at most there (bars far shorter than the meter's, free meter)
LINE_BAR_LINES = 8
#: Notes, rests and chords a line holds at least there, before the bar line that ends it
LINE_NOTES = 12
#: The bar lines that end a section, and a line in that layout
_SECTION_ENDS = frozenset({":|", ":|:", "||", "|]"})


class LineBreaks:
    """Where `tokens_to_body` ends its lines. With ``bars_per_line``, after every that many bar
    lines (0: never). Without, as thesession.org lays out reels and jigs: after the bar line
    that completes `LINE_BARS` bars of the meter's length on the line (twice as many when
    those hold fewer than `LINE_NOTES` notes, rests and chords), and after a section end
    (``:|``, ``:|:``, ``||``, ``|]``) that closes half as many bars at least: a pickup joins
    the first line (``D | GABc dedB | ... |`` holds four full bars) and an 8-bar part takes two
    lines. A line holds `LINE_BAR_LINES` bar lines at most, and a bar line that opens an
    ending (``|1``, ``:|2``) stays with its bar: the line ends at the next one. Measured with
    abcm2ps 8.14 on 998 tunes of the shared corpus and O'Neill's and Ryan's written back:
    with eight bars a line, the layout before, 77 lines were "too much shrunk" (an error) and
    661 overfull; with this one none, and 9 underfull (lines that end a section; 38 when four
    bars of long notes made a line too)."""

    def __init__(self, bars_per_line: int | None, bar_length: Fraction | None) -> None:
        self.fixed = bars_per_line
        self.bar_lines = 0  # on this line (in the tune, with `fixed`)
        self.filled = 0.0  # bars of the meter's length on this line
        self.count = 0  # notes, rests and chords on this line
        self.at_four: int | None = None  # how many when the line held LINE_BARS bars
        self.meter(bar_length)

    def meter(self, bar_length: Fraction | None) -> None:
        """The meter's bar is ``bar_length`` whole notes long from here on (None: free)."""
        # a float is close enough to lay out lines, and a tenth of a Fraction's time
        self.bars_per_whole = None if bar_length is None else 1 / float(bar_length)

    def ends_after(self, bar: str, text: BarText) -> bool:
        """Whether the line ends after the bar line ``bar`` that closes the bar ``text``."""
        if self.fixed is not None:
            self.bar_lines += 1
            return bool(self.fixed) and self.bar_lines % self.fixed == 0
        if not text.num and not self.filled:  # a bar line that opens the line (`|:`)
            return False
        self.bar_lines += 1
        self.count += text.count
        if text.num:
            per_whole = self.bars_per_whole
            self.filled += 1 if per_whole is None else text.num / text.den * per_whole
        if self.at_four is None and self.filled > LINE_BARS - 1e-9:
            self.at_four = self.count
        if bar[-1:].isdigit():  # an ending's bar line stays with its bar
            return False
        sparse = self.at_four is not None and self.at_four < LINE_NOTES
        full = self.filled > (2 * LINE_BARS if sparse else LINE_BARS) - 1e-9
        section = bar in _SECTION_ENDS and self.filled > LINE_BARS / 2 - 1e-9
        if full or section or self.bar_lines >= LINE_BAR_LINES:
            self.restart()
            return True
        return False

    def restart(self) -> None:
        """A line starts here (after a line that ends as `ends_after` says, or a ``P:`` line)."""
        self.bar_lines, self.filled, self.count, self.at_four = 0, 0.0, 0, None


def pair_beat(meter: str | None) -> Fraction | None:
    """Length (whole notes) of the beat a dotted pair (``G>A``) is written inside of: a dotted
    note of the meter's denominator in compound x/8 and x/16 meters (as `beat_group`), one of
    the denominator elsewhere (a quarter in 4/4, 3/4 and 2/4, a half in 2/2 and 3/2, an eighth
    in 7/8); None in free and unreadable meters, where no pair is written.

    >>> [pair_beat(m) for m in ("6/8", "C", "C|", "3/2", "7/8", None)]
    [Fraction(3, 8), Fraction(1, 4), Fraction(1, 2), Fraction(1, 2), Fraction(1, 8), None]
    """
    numbers = meter_numbers(meter)
    if numbers is None:
        return None
    return _compound_beat(*numbers) or Fraction(1, numbers[1])
