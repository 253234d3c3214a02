"""Bar check: does every full bar of a tune sum to its meter (pickups, endings aside)?

The rule (lengths are exact, summed by `tokenization.measure.MeasureTracker`, so tuplets, chords
and broken rhythm count exactly as the tokenizer counts them):

- The tune is cut into bars at its bar tokens; a bar holding no note or rest is skipped. The
  meter of a bar is the one in force for its notes: the header's ``M:``, then each mid-tune
  change the parser recorded in `AbcTune.meter_changes`, from where it stands. A change
  written just before a bar line (``c2d2 [M:3/4]|``, or an ``M:`` line before a line that
  starts with ``|``) leaves the bar it closes in the old meter and starts the next bar in the
  new one, as a change just after the bar line does.
- A meter change among a bar's notes (``A2B2 c2 [M:3/4] d2|``) puts the bar under both
  meters: it is long only when longer than the bar of each (`Bar.meters`), and is reported
  under the longer one.
- A bar longer than its meter is always a problem.
- A bar shorter than its meter is allowed only
  (a) as a pickup: the first bar of the tune, or the first bar after a section line
  (``||``, ``|:``, ``:|``, ``:|:``, ``|]``), after a meter change or at the start of a part
  (a ``P:`` line or an inline ``[P:]`` before its first note: a part, like a tune, may begin
  with a pickup);
  (b) before a section end: a bar closed by a section line, by the end of the tune, by a
  meter change or by the start of a part (it complements the pickup or is simply cut short
  by the boundary);
  (c) as the last bar of an ending: a bar closed by the start of a later ending (``|2``,
  ``:|2``); other bars inside endings are compared the usual way. An ending that opens
  mid-bar (``Bcd edc [1 d2B A2G :|``, legal ABC: the token ``[1``) is no bar line: the bar is
  measured across it, and a later ending goes on from where it opened (``:|2 d2z d2z ||``
  completes the bar). Where a bar line is written there instead (``Bcd edc |1 d2B A2G :|``, as
  transcriptions often type it), a short bar before a first ending and a short first bar of
  any of its endings are allowed when the two sum to the meter.
- The last bar of the tune may be short even when closed by a plain ``|``.
- A tuplet goes on across a bar line (``(3AB|c``: legal ABC, timed so by the reader, abc2midi
  and music21): its members before the line count in the bar it closes, at ``q/p`` times their
  written lengths, and the rest in the next bar; each bar is then checked as any other.
- (d) Tunes in free meter (``M:none`` or no ``M:``) are not checked, nor tunes with no bar line
  between their notes (files written for ``%%MIDI nobarlines``: the whole tune would be one bar
  too long): `BarReport.skipped` says which (`FREE_METER`, `NO_BAR_LINES`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from operator import itemgetter
from typing import TypeVar

from .abc_parser import AbcTune
from .abc_tune import in_force_at
from .measure import TICKS_PER_EIGHTH, MeasureTracker, to_ticks

__all__ = [
    "FREE_METER",
    "NO_BAR_LINES",
    "SECTION_BARS",
    "Bar",
    "BarReport",
    "bar_report",
    "bars_of",
    "full_bar",
]

_V = TypeVar("_V")

#: Bar lines that end one section and start the next.
SECTION_BARS = frozenset(("||", "|:", ":|", ":|:", "|]"))

#: `BarReport.skipped` of a tune in free meter (``M:none`` or no ``M:``)
FREE_METER = "free meter"
#: `BarReport.skipped` of a tune with no bar line between its notes (all of them one bar)
NO_BAR_LINES = "no bar lines"


@dataclass(frozen=True)
class Bar:
    """One bar: its number (1-based, empty bars not counted), length in eighth notes, meter
    (the one in force at its last note or rest), the bar lines that open and close it (``None``
    at the tune's start or end), the index of its first token, and why it is not a plain bar
    (``"meter"`` when it starts or ends at a meter change or holds one, ``"part"`` when it
    starts or ends where a part starts, ``"tuplet"`` when a tuplet goes on across its closing
    line: a note, not a problem). ``meters``: every meter in force among its notes, in
    order, when a change stands between them; empty otherwise."""

    number: int
    length: Fraction
    meter: str
    opened_by: str | None
    closed_by: str | None
    start: int
    flags: frozenset[str] = frozenset()
    meters: tuple[str, ...] = ()


@dataclass
class BarReport:
    """Result of `bar_report`: ``ok`` when every bar follows the rule, the ``problems`` found
    (and ``bad_bars``, the `Bar` of each), and ``skipped`` (a reason) for tunes that are not
    checked (`FREE_METER`, `NO_BAR_LINES`)."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None
    bad_bars: list[Bar] = field(default_factory=list)  # the bars behind ``problems``, in order


def _meter_at(tune: AbcTune, index: int) -> str | None:
    return in_force_at(tune.meter_changes, index, tune.meter)


def _within(changes: Sequence[tuple[int, _V]], low: int, high: int) -> Sequence[tuple[int, _V]]:
    """The ``changes`` (``(token index, value)``, in token order) at tokens ``low..high``,
    found by binary search: every bar asks, so a tune of many changes stays linear.

    >>> _within([(0, "3/4"), (4, "6/8"), (9, "2/4")], 1, 9)
    [(4, '6/8'), (9, '2/4')]
    """
    at = itemgetter(0)
    return changes[bisect_left(changes, low, key=at) : bisect_right(changes, high, key=at)]


def bars_of(tune: AbcTune) -> list[Bar]:
    """Every bar of a tune that holds a note or rest, with its length and meter.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:D\\nA|B2c2|]")
    >>> [(b.length, b.closed_by) for b in bars_of(tune)]
    [(Fraction(1, 1), '|'), (Fraction(4, 1), '|]')]
    """
    tracker, bars = MeasureTracker(None), list[Bar]()
    opened: str | None = None
    start, notes = 0, None  # notes: indices of the bar's first and last note or rest
    for i, tok in enumerate(tune.tokens):
        if tok.kind != "bar" or tok.text.startswith("["):  # `[1`: an ending opened mid-bar
            if tok.kind in ("note", "rest"):
                notes = (notes[0] if notes else i, i)
            tracker.push(tok)
            continue
        if notes:
            bars.append(_bar(tune, tracker, len(bars) + 1, opened, tok.text, start, i, notes))
            opened = tok.text
        elif not (tok.text == "|" and opened in SECTION_BARS):
            opened = tok.text  # an empty bar: keep the stronger of its two lines
        tracker.push(tok)
        start, notes = i + 1, None
    if notes:
        end = len(tune.tokens)
        bars.append(_bar(tune, tracker, len(bars) + 1, opened, None, start, end, notes))
    return bars


def _bar(
    tune: AbcTune,
    tracker: MeasureTracker,
    number: int,
    opened: str | None,
    closed: str | None,
    start: int,
    end: int,
    notes: tuple[int, int],
) -> Bar:
    """The bar of tokens ``start..end-1`` (``end``: its closing bar token), whose notes and
    rests run from ``notes[0]`` to ``notes[1]``. A change recorded at token ``k`` stands before
    it: at ``end`` it comes after the bar's notes, at ``start - 1`` (the opening bar token)
    before them; either way the bar starts or ends at a meter change. A part that starts
    before the bar's first note, or at its closing bar line or just after it, starts or ends
    the bar (a ``[P:]`` among its notes does neither)."""
    flags = set()
    first, last = notes
    if tracker.tuplet_left > 0:
        flags.add("tuplet")
    if _within(tune.meter_changes, start - 1, end + 1):
        flags.add("meter")
    parts = tune.part_changes
    if _within(parts, start - 1, first) or _within(parts, end, end + 1):
        flags.add("part")
    meters = [_meter_at(tune, first) or "none"]
    meters += [m or "none" for _, m in _within(tune.meter_changes, first + 1, last)]
    length = Fraction(tracker.bar_offset) / TICKS_PER_EIGHTH
    straddles = tuple(meters) if len(meters) > 1 else ()
    return Bar(number, length, meters[-1], opened, closed, start, frozenset(flags), straddles)


def full_bar(meter: str) -> Fraction:
    """Length of a full bar of ``meter`` in eighth notes.

    >>> full_bar("6/8"), full_bar("2/2")
    (Fraction(6, 1), Fraction(8, 1))
    """
    return Fraction(to_ticks(Fraction(meter))) / TICKS_PER_EIGHTH


def _ending(text: str | None) -> str:
    return (text or "").lstrip(":|")


def _short_allowed(bar: Bar, first: bool, last: bool) -> bool:
    if first or last or bar.opened_by in SECTION_BARS or bar.closed_by in SECTION_BARS:
        return True
    if bar.closed_by is None or "meter" in bar.flags or "part" in bar.flags:
        return True
    closing = _ending(bar.closed_by)
    return bool(closing) and not closing.startswith("1")


def _mid_bar_endings(bars: list[Bar]) -> set[int]:
    """Indices of the two halves of bars cut by a bar line where an ending starts mid-bar
    (``Bcd |1 efg``): the bar before a first ending and the first bar of each ending sum to
    the meter."""
    halves, before = set(), None
    for k, bar in enumerate(bars):
        ending = _ending(bar.opened_by)
        if ending and before is not None:
            if bar.meter != "none" and before[1] + bar.length == full_bar(bar.meter):
                halves |= {before[0], k}
        elif bar.opened_by in SECTION_BARS:
            before = None
        if _ending(bar.closed_by).startswith("1"):
            before = (k, bar.length)
    return halves


def bar_report(tune: AbcTune) -> BarReport:
    """Check every bar of ``tune`` against its meter by the rule of the module docstring.

    >>> from tokenization.abc_parser import parse_abc
    >>> bar_report(parse_abc("X:1\\nM:6/8\\nK:D\\nA|:dfa agf|e3 E2:|")).ok
    True
    >>> bar_report(parse_abc("X:1\\nM:6/8\\nK:D\\n|:dfa agf|e3 E|e3 e3:|")).problems
    ['bar 2: 4 of 6 eighths in 6/8 (short)']
    >>> bar_report(parse_abc("X:1\\nM:6/8\\nK:D\\ndfa agf e3 E3 dfa\\n")).skipped
    'no bar lines'
    >>> bar_report(parse_abc("X:1\\nM:6/8\\nK:D\\ndfa agf e3 E3 dfa|\\n")).problems
    ['bar 1: 15 of 6 eighths in 6/8 (long)']
    """
    if tune.meter is None and not any(m for _, m in tune.meter_changes):
        return BarReport(ok=True, skipped=FREE_METER)
    bars = bars_of(tune)
    if len(bars) == 1 and bars[0].closed_by in (None, "|]"):
        # no bar line between its notes, nor one closing a bar (`ABcde|`, a prompt's bar):
        # not one bar too long, but unbarred (`%%MIDI nobarlines`), at most ended by `|]`
        return BarReport(ok=True, skipped=NO_BAR_LINES)
    problems, bad = [], []
    halves = _mid_bar_endings(bars)
    for k, bar in enumerate(bars):
        if bar.meter == "none" or "none" in bar.meters:
            continue
        meter = max(bar.meters or (bar.meter,), key=full_bar)  # a change among its notes
        full = full_bar(meter)
        if bar.length > full:
            problem = _describe(bar, full, "long", meter)
        elif (
            bar.length < full
            and k not in halves
            and not _short_allowed(bar, k == 0, k == len(bars) - 1)
        ):
            problem = _describe(bar, full, "short", meter)
        else:
            continue
        problems.append(problem)
        bad.append(bar)
    return BarReport(ok=not problems, problems=problems, bad_bars=bad)


def _describe(bar: Bar, full: Fraction, what: str, meter: str | None = None) -> str:
    return f"bar {bar.number}: {bar.length} of {full} eighths in {meter or bar.meter} ({what})"
