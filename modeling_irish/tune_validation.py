"""Independent tune checker: does a token sequence scan (the raw-validity measure, test oracle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from tokenization.measure import TICKS_PER_EIGHTH, MeasureTracker, bar_length_in_eighths

__all__ = ["SectionState", "TuneValidity", "validate_tune"]


@dataclass
class SectionState:
    """Repeat/ending state: what the bar lines so far leave open (shared with the sampler)."""

    rep_open: bool = False
    implicit_ok: bool = True
    ending: int = 0
    ending1_bars: int = 0
    ending2_bars: int = 0

    def push(self, text: str) -> None:
        if self.ending == 1:
            self.ending1_bars += 1
        elif self.ending == 2:
            self.ending2_bars += 1
        if text == "|1":
            self.ending, self.ending1_bars = 1, 0
        elif text in (":|2", "|2"):
            self.ending, self.ending2_bars, self.rep_open = 2, 0, False
        elif text in ("|:", ":|:"):
            self.rep_open, self.ending = True, 0
        elif text == ":|":
            self.rep_open, self.ending = False, 0
        elif text in ("||", "|]"):
            self.ending = 0
        # abc2midi accepts a repeat without `|:` only from the start of the tune.
        self.implicit_ok = self.implicit_ok and text == "|"

    @property
    def closed(self) -> bool:
        """No repeat or ending left open."""
        if self.rep_open or self.ending == 1:
            return False
        return self.ending != 2 or self.ending2_bars >= self.ending1_bars

    @property
    def closable_after_bar(self) -> bool:
        """Whether the bar being written may be the last one."""
        return self.ending == 0 or (self.ending == 2 and self.ending2_bars + 1 >= self.ending1_bars)


@dataclass
class TuneValidity:
    """Result of `validate_tune`: ``ok``, the problems found (empty when ok), the number of
    bars and the pickup length in eighths."""

    ok: bool
    errors: list[str] = field(default_factory=list)
    bars: int = 0
    pickup: Fraction = Fraction(0)


def _eighths(ticks: int | Fraction) -> str:
    return str(Fraction(ticks) / TICKS_PER_EIGHTH)


class _Checker:
    """Independent checker of the sampler's grammar (an oracle for the tests)."""

    def __init__(self, bar_eighths: Fraction) -> None:
        self.tracker = MeasureTracker(bar_eighths)
        self.bar = self.tracker.bar_length
        self.sections = SectionState()
        self.errors: list[str] = []
        self.bars = self.seen = 0
        self.pickup = Fraction(0)
        self.tie_pitch: int | None = None
        self.prev_kind = ""
        self.chord_size = 0

    def token(self, i: int, tok: Any, last: bool) -> None:
        tr, kind = self.tracker, tok.kind
        if tr.tuplet_left > 0 and kind not in ("note", "rest"):
            self.errors.append(f"token {i}: {kind} inside a tuplet")
        if kind == "note":
            if self.tie_pitch is not None and tok.pitch != self.tie_pitch and not tr.in_chord:
                self.errors.append(f"token {i}: tie to a different pitch")
            if not tr.in_chord:
                self.tie_pitch = None
            self.chord_size += tr.in_chord
        elif kind == "rest" and self.tie_pitch is not None:
            self.errors.append(f"token {i}: tie to a rest")
        elif kind == "tie" and self.prev_kind != "note":
            self.errors.append(f"token {i}: tie after {self.prev_kind or 'nothing'}")
        elif kind == "tie":
            self.tie_pitch = self._last_pitch
        elif kind == "chord_start":
            if tr.in_chord:
                self.errors.append(f"token {i}: nested chord")
            self.chord_size = 0
        elif kind == "chord_end" and (not tr.in_chord or not self.chord_size):
            self.errors.append(f"token {i}: chord end without chord notes")
        elif kind == "bar":
            self._bar(i, tok.text, last)
        if kind == "note":
            self._last_pitch = tok.pitch
        self.prev_kind = kind
        tr.push(tok)

    def _bar(self, i: int, text: str, last: bool) -> None:
        tr, length = self.tracker, self.tracker.offset
        if tr.tuplet_left > 0 or tr.in_chord:
            self.errors.append(f"token {i}: bar line inside a tuplet or chord")
        if length == 0:
            if i != 0 or text != "|:":
                self.errors.append(f"token {i}: empty bar before {text!r}")
        elif self.seen == 0 and length < self.bar and not last:
            self.pickup = length
        elif last and self.pickup and length != self.bar - self.pickup:
            self.errors.append(
                f"last bar {_eighths(length)} does not complete the pickup {_eighths(self.pickup)}"
            )
        elif length != self.bar and not (last and self.pickup):
            self.errors.append(
                f"token {i}: bar {self.bars + 1} lasts {_eighths(length)}, not {_eighths(self.bar)}"
            )
        self.seen += length > 0
        self.bars += length > 0 and not (self.seen == 1 and self.pickup)
        self._sections(i, text)

    def _sections(self, i: int, text: str) -> None:
        s = self.sections
        ok = {
            "|": True,
            "||": not s.rep_open and s.ending != 1,
            "|]": not s.rep_open and s.ending != 1,
            "|:": not s.rep_open and s.ending != 1,
            ":|": s.ending == 0 and (s.rep_open or s.implicit_ok),
            ":|:": s.ending == 0 and (s.rep_open or s.implicit_ok),
            "|1": s.ending == 0 and (s.rep_open or s.implicit_ok),
            ":|2": s.ending == 1,
            "|2": s.ending == 1,
        }.get(text)
        if ok is None:
            self.errors.append(f"token {i}: unsupported bar {text!r}")
        elif not ok:
            self.errors.append(f"token {i}: unbalanced {text!r}")
        s.push(text)


def validate_tune(tokens: list[Any], meter: str | None) -> TuneValidity:
    """Check that parser tokens form a tune that scans: every bar lasts the meter (a pickup
    with its complementary last bar), tuplets and chords close inside bars, ties join equal
    pitches, repeats and endings are balanced, and the tune ends with a bar line.

    >>> from tokenization.abc_parser import parse_abc
    >>> validate_tune(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:C\\n|:CDEF|1G4:|2c4|]").tokens, "2/4").ok
    True
    >>> validate_tune(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:C\\nCDEF|G3|c4|]").tokens, "2/4").errors
    ['token 6: bar 2 lasts 3, not 4']
    """
    bar = bar_length_in_eighths(meter)
    if bar is None:
        return TuneValidity(False, ["no meter"])
    if not tokens:
        return TuneValidity(False, ["empty tune"])
    checker = _Checker(bar)
    for i, tok in enumerate(tokens):
        checker.token(i, tok, i == len(tokens) - 1)
    if tokens[-1].kind != "bar":
        checker.errors.append("the tune does not end with a bar line")
    if checker.tie_pitch is not None:
        checker.errors.append("the tune ends inside a tie")
    s = checker.sections
    if s.rep_open or s.ending == 1:
        checker.errors.append("a repeat or first ending is left open")
    pickup = Fraction(checker.pickup) / TICKS_PER_EIGHTH
    return TuneValidity(not checker.errors, checker.errors, checker.bars, pickup)
