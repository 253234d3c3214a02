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
        """Take the bar token ``text``. An ending opened mid-bar (``[1``, no bar line) opens it
        as ``|1`` does, but closes no bar: it is not counted among the ending's bars."""
        if text.startswith("["):
            text = "|" + text[1:]
        elif self.ending == 1:
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


#: Bar lines after which the music goes back to the start of the repeat (or of the tune). Not a
#: bare ``|2``: the reader merges ``:| |2`` into ``:|2``, so a ``|2`` has no ``:|`` before it,
#: and the player (`tokenization.analysis.played_order`) plays such endings through.
JUMP_BARS = frozenset((":|", ":|:", ":|2"))
#: Bar lines a tune may open with, before any note (ordinary ABC: ``|GAG GAB|``, ``[|`` and
#: ``||`` read as ``||``, ``|:``); the others (``:|``, ``|1``, ``|]``) make no sense there.
OPENING_BARS = frozenset(("|", "||", "|:"))


class _Checker:
    """Independent checker of the sampler's grammar (an oracle for the tests).

    Bars are placed in played time: each starts where the music before it left off, 0 after a
    full bar, or partway into a bar after a short one (a pickup starts at ``bar - pickup``). A
    short bar is allowed only before a section line, a repeat or an ending, where what follows in
    played order completes it: the next bar as written, the start of the repeat after a jump back
    (``:|``, ``:|:``, the first ending's ``:|2``), and the tune's start after its last bar (a tune
    is played round again).
    """

    def __init__(self, bar_eighths: Fraction) -> None:
        self.tracker = MeasureTracker(bar_eighths)
        bar = self.tracker.bar_length
        assert bar is not None  # a meter's bar (`bar_eighths`) makes no free-meter tracker
        #: a full bar in ticks
        self.bar: int | Fraction = bar
        self.sections = SectionState()
        self.errors: list[str] = []
        self.bars = self.seen = 0
        #: the first bar's length when it is a pickup (ticks; 0 when the tune has none)
        self.pickup: int | Fraction = Fraction(0)
        self.tie_pitch: int | None = None
        #: pitch of the last note, which a tie after it joins
        self._last_pitch: int | None = None
        self.prev_kind = ""
        self.chord_size = 0
        #: offset in its bar at which the next bar starts (ticks; 0 after a complete bar)
        self.start: int | Fraction = 0
        #: where the tune's first bar starts (``bar - pickup``), and the first bar of the repeat
        #: that a jump goes back to (``None``: the tune's first bar), and of the second ending
        self.first_start: int | Fraction = 0
        self.target: int | Fraction | None = None
        self.endings_start: int | Fraction = 0
        #: a first ending opened mid-bar (``[1``) in the bar now open: the bar line closing it
        #: sets ``endings_start`` to where the bar started (known there for a first bar too)
        self.ending_in_bar = False

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
        tr, length, bar = self.tracker, self.tracker.offset, self.bar
        if tr.tuplet_left > 0 or tr.in_chord:
            self.errors.append(f"token {i}: bar line inside a tuplet or chord")
        if text.startswith("["):  # an ending opened mid-bar: no bar line, the bar goes on
            self._sections(i, text)
            self.ending_in_bar = self.ending_in_bar or text[1:2] == "1"
            return
        if length == 0:
            if i != 0 or text not in OPENING_BARS:
                self.errors.append(f"token {i}: empty bar before {text!r}")
            if self._sections(i, text) and text in ("|:", ":|:") and self.seen:
                self.target = self.start
            return
        first, number = self.seen == 0, self.bars + 1
        if first:
            self.pickup = length if length < bar and not last else Fraction(0)
            self.first_start = self.start = bar - self.pickup if self.pickup else 0
        start, end = self.start, self.start + length
        if self.ending_in_bar:  # the second ending starts where the bar of a mid-bar `[1` did
            self.endings_start, self.ending_in_bar = start, False
        placed = end if end < bar else 0  # where the music is in a bar once this one is played
        errors = len(self.errors)
        if end > bar or (end < bar and text == "|" and not last):
            self.errors.append(self._lasts(i, number, length, bar - start))
            placed = 0  # counted once: the next bar starts afresh
        elif last and placed != self.first_start:
            if self.pickup:
                self.errors.append(
                    f"last bar {_eighths(length)} does not complete the pickup "
                    f"{_eighths(self.pickup)}"
                )
            else:
                self.errors.append(self._lasts(i, number, length, bar - start))
        self.seen += 1
        self.bars += not (first and self.pickup)
        fits = len(self.errors) == errors  # one problem per bar: a jump is checked if it fits
        balanced = self._sections(i, text)
        if (
            balanced
            and text in JUMP_BARS
            and fits
            and not self._jump(i, text, number, length, start, placed)
        ):
            placed = 0  # counted once: the music after the repeat starts afresh
        self.start = self.endings_start if text == ":|2" else placed
        if text == "|1":
            self.endings_start = placed
        elif text in ("|:", ":|:"):
            self.target = self.start

    def open_bar(self, i: int) -> None:
        """Check the bar a prompt leaves open after its last token ``i``: no continuation can
        shorten it, so it must not already pass the bar line (`validate_tune`'s ``goes_on``)."""
        length, need = self.tracker.offset, self.bar - self.start
        if length > need:
            self.errors.append(
                f"token {i}: bar {self.bars + 1} already lasts {_eighths(length)}, more than "
                f"{_eighths(need)}"
            )

    @staticmethod
    def _lasts(i: int, number: int, length: int | Fraction, need: int | Fraction) -> str:
        return f"token {i}: bar {number} lasts {_eighths(length)}, not {_eighths(need)}"

    def _jump(
        self,
        i: int,
        text: str,
        number: int,
        length: int | Fraction,
        start: int | Fraction,
        placed: int | Fraction,
    ) -> bool:
        """A jump back must leave the music where the first bar of the repeat starts: after a
        full bar when that bar is full, after the complement of its pickup when it is short.
        Records the error and returns False where it does not."""
        target = self.first_start if self.target is None else self.target
        if placed == target:
            return True
        what = f"a pickup of {_eighths(self.bar - target)}" if target else "a full bar"
        need = (target or self.bar) - start
        lasts = f"bar {number} lasts {_eighths(length)}"
        lasts += f", not {_eighths(need)}" if need > 0 else ""
        self.errors.append(f"token {i}: {lasts}: {text!r} goes back to {what}")
        return False

    def _sections(self, i: int, text: str) -> bool:
        """Check and push a bar line's repeat/ending role; whether it was balanced."""
        s = self.sections
        # an ending opened mid-bar (`[1`, `tokenization.abc_bars`) is balanced as `|1` is
        key = "|" + text[1:] if text.startswith("[") else text
        ok = {
            "|": True,
            "||": not s.rep_open and s.ending != 1,
            "|]": not s.rep_open and s.ending != 1,
            "|:": not s.rep_open and s.ending != 1,
            ":|": s.ending == 0 and (s.rep_open or s.implicit_ok),
            ":|:": s.ending == 0 and (s.rep_open or s.implicit_ok),
            "|1": s.ending == 0 and (s.rep_open or s.implicit_ok),
            ":|2": s.ending == 1,
            # no `:|` before it (`JUMP_BARS`): the first ending never goes back, and abc2midi
            # refuses the second ending; an unbalanced bar line, as the sampler never writes it
            "|2": False,
        }.get(key)
        if ok is None:
            self.errors.append(f"token {i}: unsupported bar {text!r}")
        elif not ok:
            self.errors.append(f"token {i}: unbalanced {text!r}")
        s.push(text)
        return bool(ok)


def validate_tune(tokens: list[Any], meter: str | None, goes_on: bool = False) -> TuneValidity:
    """Check that parser tokens form a tune that scans: every bar lasts the meter (a pickup
    with its complementary last bar), tuplets and chords close inside bars, ties join equal
    pitches, repeats and endings are balanced, and the tune ends with a bar line.

    Bars are checked in played order: a short bar is allowed only before a section line, a
    repeat or an ending where the music that follows completes it, so the bar before a jump
    back (``:|``, ``:|:``, the first ending's ``:|2``) is the complement of the pickup the
    repeat starts with, or a full bar when it starts with a full one; the last bar is the
    complement of the tune's pickup (the tune is played round again). An ending opened mid-bar
    (``[1``, no bar line: ``Bcd edc [1 d2B A2G:|``) is balanced as ``|1`` is but closes no bar:
    the bar is measured across it, and the second ending completes the bar it opened in.

    ``goes_on``: the tokens are a prompt that the tune continues, so their last bar is not the
    tune's last (a prompt that is only a pickup, ``A|``, is a pickup; `check_prompt_scans`),
    and a bar they leave open is refused only where it is already too long.

    >>> from tokenization.abc_parser import parse_abc
    >>> validate_tune(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:C\\n|:CDEF|1G4:|2c4|]").tokens, "2/4").ok
    True
    >>> validate_tune(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:C\\n|CDEF|G4|]").tokens, "2/4").ok
    True
    >>> validate_tune(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:C\\nCDEF|G3|c4|]").tokens, "2/4").errors
    ['token 6: bar 2 lasts 3, not 4']
    >>> validate_tune(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:C\\nC|DEFG:|c3|]").tokens, "2/4").errors
    ["token 6: bar 1 lasts 4, not 3: ':|' goes back to a pickup of 1"]
    >>> validate_tune(parse_abc("M:2/4\\nL:1/8\\nK:C\\nCDEF|G[1 ABc:|[2 cBA|]").tokens, "2/4").ok
    True
    """
    bar = bar_length_in_eighths(meter)
    if bar is None:
        return TuneValidity(False, ["no meter"])
    if not tokens:
        return TuneValidity(False, ["empty tune"])
    checker = _Checker(bar)
    for i, tok in enumerate(tokens):
        checker.token(i, tok, i == len(tokens) - 1 and not goes_on)
    if goes_on:
        checker.open_bar(len(tokens) - 1)
    if tokens[-1].kind != "bar":
        checker.errors.append("the tune does not end with a bar line")
    if checker.tie_pitch is not None:
        checker.errors.append("the tune ends inside a tie")
    s = checker.sections
    if s.rep_open or s.ending == 1:
        checker.errors.append("a repeat or first ending is left open")
    pickup = Fraction(checker.pickup) / TICKS_PER_EIGHTH
    return TuneValidity(not checker.errors, checker.errors, checker.bars, pickup)
