"""Measure-aware sampling constraints: masks over the main and dur vocabularies."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from tokenization.abc_parser import Token
from tokenization.measure import (
    TICKS_PER_EIGHTH,
    MeasureTracker,
    bar_length_in_eighths,
    compound_meter,
    to_ticks,
    tuplet_factor,
    tuplet_size,
)

# the independent checker lives in its own module; re-exported here for existing imports
from .tune_validation import SectionState, TuneValidity, validate_tune

__all__ = [
    "ConstraintTables",
    "MaskBank",
    "TuneConstraint",
    "TuneValidity",
    "allowed_bar_texts",
    "build_dur_mask",
    "build_main_mask",
    "reachable_offsets",
    "validate_tune",
]

#: Bar texts the sampler may write (the rest of the vocabulary's bars are never sampled).
SAMPLED_BARS = ("|", "||", "|]", "|:", ":|", ":|:", "|1", ":|2")
#: Bars after which a tune may stop (and, in closing mode, must).
FINAL_BARS = ("|]", "||", ":|")
#: Bars after which the music goes back to the start of the repeat (or of the tune).
JUMP_BARS = (":|", ":|:", ":|2")
#: Longest first ending, in bars (the second ending then has the same length).
MAX_ENDING_BARS = 2
#: Written lengths (in eighths) a tuplet member may have: music21 and abc2midi refuse others.
TUPLET_MEMBER_EIGHTHS = (Fraction(1, 2), Fraction(1), Fraction(2))
#: Tuplets the sampler writes: readers disagree on the default ``q`` of the others (abc2midi
#: reads ``(9`` in 9/8 differently from the ABC 2.1 rule that music21 and our parser follow).
SAMPLED_TUPLETS = ("(2", "(3", "(4")
#: Most notes in a chord.
MAX_CHORD_NOTES = 3
_EIGHTHS = 8


def reachable_offsets(
    grid: AbstractSet[int | Fraction],
    durations: Sequence[int | Fraction],
    target: int | Fraction,
) -> set[int | Fraction]:
    """Offsets of ``grid`` from which ``target`` is reached by steps of ``durations``, every
    intermediate offset staying on the grid.

    >>> g = {Fraction(x) for x in (0, 1, 2, 3, 4)} | {Fraction(7, 2)}
    >>> sorted(reachable_offsets(g, [Fraction(1)], Fraction(4)))
    [Fraction(0, 1), Fraction(1, 1), Fraction(2, 1), Fraction(3, 1), Fraction(4, 1)]
    """
    if target not in grid:
        return set()
    good: set[int | Fraction] = {target}
    for offset in sorted((o for o in grid if o < target), reverse=True):
        if any(offset + d in good for d in durations):
            good.add(offset)
    return good


def allowed_bar_texts(
    rep_open: bool,
    implicit_ok: bool,
    ending: int,
    ending1_bars: int,
    ending2_bars: int,
    tie_pending: bool,
    final: bool,
) -> tuple[str, ...]:
    """Bar lines that keep repeats and endings balanced, given the section state.

    ``ending`` is 0 (none), 1 (in a first ending) or 2 (in a second ending); ``implicit_ok``
    says that a ``:|`` or ``|1`` may repeat from the start of the tune without a ``|:`` (only
    true before any other bar line but ``|``: abc2midi reports an error otherwise). ``final``
    asks for bars that close the tune (or, in a first ending, lead to the last bar).

    >>> allowed_bar_texts(True, False, 0, 0, 0, False, True)
    (':|',)
    >>> allowed_bar_texts(False, False, 1, 0, 0, False, False)
    ('|', ':|2')
    """
    if tie_pending:  # a tie never crosses a repeat or a section line
        return () if final else ("|",)
    if ending == 1:
        return (":|2",) if final or ending1_bars + 1 >= MAX_ENDING_BARS else ("|", ":|2")
    if ending == 2:
        if ending2_bars + 1 < ending1_bars:
            return ("|",)
        return ("|]", "||") if final else ("||", "|:", "|]")
    if final:
        if rep_open:
            return (":|",)
        return ("|]", ":|", "||") if implicit_ok else ("|]", "||")
    if rep_open or implicit_ok:
        opened = () if rep_open else ("||", "|:", "|]")
        return ("|", ":|", ":|:", "|1") + opened
    return ("|", "||", "|:", "|]")


class ConstraintTables:
    """Vocabulary- and meter-dependent tables shared by every sample of a batch.

    Args:
        vocab: the tokenizer's `AbcVocab`.
        meter: e.g. ``"6/8"`` (free meter is refused).
    """

    def __init__(self, vocab: Any, meter: str) -> None:
        eighths = bar_length_in_eighths(meter)
        if eighths is None:
            raise ValueError("constrained sampling needs a meter such as 4/4")
        # Time is counted in the tracker's integer ticks (`tokenization.measure`).
        bar = to_ticks(eighths / _EIGHTHS)
        self.vocab, self.meter, self.bar, self.bar_eighths = vocab, meter, bar, eighths
        self.compound = compound_meter(meter)
        self._read_main(vocab.values["main"])
        self.durs = [_ticks(v) for v in vocab.values["dur"]]
        self.whole = [
            None if d is None else Fraction(d) / (_EIGHTHS * TICKS_PER_EIGHTH) for d in self.durs
        ]
        self.dur_size = len(self.durs)
        # Only dyadic written lengths (abc2midi refuses `A/3`: "3 b is not a power of 2").
        for j, v in enumerate(vocab.values["dur"]):
            if self.durs[j] is not None and not _dyadic(Fraction(v)):
                self.durs[j] = None
        self.plain_durs = sorted({d for d in self.durs if d is not None and d > 0})
        self.member_durs = {e * TICKS_PER_EIGHTH for e in TUPLET_MEMBER_EIGHTHS}
        offsets = {_ticks(v): i for i, v in enumerate(vocab.values["m_offset"])}
        self.offset_id = {o: i for o, i in offsets.items() if o is not None and 0 <= o <= bar}
        if bar not in self.offset_id:
            raise ValueError(f"bar length {bar} of {meter} is not an m_offset of the vocabulary")
        grid = set(self.offset_id)
        # closing bars for any pickup shorter than a bar (a prompt may bring a long one) ...
        targets = [bar] + sorted(bar - p for p in grid if 0 < p < bar and bar - p in grid)
        self.good = {t: reachable_offsets(grid, self.plain_durs, t) for t in targets}
        self.good = {t: good for t, good in self.good.items() if 0 in good}
        if bar not in self.good:
            raise ValueError(f"no note lengths of the vocabulary fill a bar of {meter}")
        # ... but a sampled pickup p is at most half a bar, and allowed when the closing bar of
        # length bar - p can be filled, and a bar of p too (a repeat that goes back to the pickup
        # ends on bar - p, and the music after it then opens with another pickup of p).
        to_bar = self.good[bar]
        self.pickups = frozenset(
            bar - t
            for t in self.good
            if t != bar and bar - t <= bar / 2 and bar - t in to_bar and bar - t in self.good
        )
        self._dur_cache: dict[tuple, np.ndarray] = {}
        self._union_cache: dict[tuple, frozenset] = {}

    def fills(self, eighths: Fraction) -> bool:
        """Whether the vocabulary's note lengths fill a bar of ``eighths`` from its start (a
        closing bar after a pickup of the rest of the meter; `check_prompt_scans`).

        >>> from tokenization.vocabulary import AbcVocab
        >>> tables = ConstraintTables(AbcVocab.from_values({"m_offset": ["0", "1", "2", "3"],
        ...     "dur": ["1"], "main": ["pitch60"]}), "3/8")
        >>> tables.fills(Fraction(2)), tables.fills(Fraction(1, 2))
        (True, False)
        """
        return to_ticks(eighths / _EIGHTHS) in self.good

    def _read_main(self, values: list[str]) -> None:
        self.main_size = len(values)
        self.kind = ["special"] * len(values)
        self.protos: list[Token | None] = [None] * len(values)
        pitch_ids: list[int] = []
        self.tuplets, self.advance, self.bar_id = {}, {}, {}
        for i, value in enumerate(values):
            if i < 4:
                continue
            kind, proto = _main_kind(value, self.compound)
            self.kind[i], self.protos[i] = kind, proto
            if kind == "note":
                pitch_ids.append(i)
            elif kind == "tuplet":  # per tick of member length (`proto.dur`: its time factor)
                self.advance[i] = tuplet_factor(value, self.compound) * tuplet_size(value)
                if value in SAMPLED_TUPLETS:
                    self.tuplets[i] = self.advance[i]
            elif kind == "bar":
                self.bar_id[value] = i
        self.pitch_ids = np.asarray(pitch_ids, dtype=np.int64)
        self.end_id = 2
        lookup = {v: i for i, v in enumerate(values)}
        self.rest_id = lookup.get("z")
        self.tie_id, self.open_id, self.close_id = lookup.get("-"), lookup.get("["), lookup.get("]")

    def dur_allowed(
        self, target: Fraction | tuple, offset: Fraction | int, factor: Fraction | int = 1
    ) -> np.ndarray:
        """Bool over the dur vocabulary: lengths ``d`` with ``offset + factor * d`` on a grid
        offset from which ``target`` (a bar length, or a tuple of them: any one) stays
        reachable (``offset`` and ``factor``: a Fraction or an int, e.g. the plain factor 1)."""
        key = (target, offset, factor)
        mask = self._dur_cache.get(key)
        if mask is None:
            good = self._reaching(target if isinstance(target, tuple) else (target,))
            mask = np.zeros(self.dur_size, dtype=bool)
            for j, d in enumerate(self.durs):
                if d is None or d <= 0 or offset + factor * d not in good:
                    continue
                mask[j] = factor == 1 or d in self.member_durs
            self._dur_cache[key] = mask
        return mask

    def _reaching(self, targets: tuple) -> frozenset:
        """Grid offsets from which one of ``targets`` is reachable (cached)."""
        good = self._union_cache.get(targets)
        if good is None:
            good = frozenset().union(*(self.good.get(t, ()) for t in targets))
            self._union_cache[targets] = good
        return good


def _dyadic(value: Fraction) -> bool:
    return value > 0 and value.denominator & (value.denominator - 1) == 0


def _ticks(text: str) -> int | Fraction | None:
    """Ticks of a length or offset written in eighths (``"3/2"``), ``None`` for specials."""
    try:
        value = Fraction(text) * TICKS_PER_EIGHTH
    except (ValueError, ZeroDivisionError):
        return None
    return int(value) if value.denominator == 1 else value


def _main_kind(value: str, compound: bool) -> tuple[str, Token | None]:
    if value.startswith("pitch") and value[5:].isdigit():
        return "note", Token("note", "", int(value[5:]), None)
    if value == "z":
        return "rest", Token("rest", "z", None, None)
    if value.startswith("(") and value[1:2].isdigit():
        return "tuplet", Token("tuplet", value, None, tuplet_factor(value, compound))
    if value == "-":
        return "tie", Token("tie", "-", None, None)
    if value == "[":
        return "chord_start", Token("chord_start", "[", None, None)
    if value == "]":
        return "chord_end", Token("chord_end", "]", None, None)
    # an ending that opens mid-bar (`[1`, `tokenization.abc_bars`) is a bar token too: the
    # tracker keeps the bar going across it (it was "other", with no token to push: a prompt
    # or an unconstrained sample holding one was an AttributeError)
    if "|" in value or value.startswith(":") or (value[:1] == "[" and value[1:2].isdigit()):
        return "bar", Token("bar", value, None, None)
    return "other", None


class MaskBank:
    """Unique boolean mask rows, built once per key and gathered per step as one tensor.

    >>> bank = MaskBank(lambda key: np.array([key == "a", True]))
    >>> bank.gather(["a", "b", "a"]).tolist()
    [[True, True], [False, True], [True, True]]
    """

    def __init__(self, build: Any) -> None:
        self.build = build
        self.index: dict[Any, int] = {}
        self.rows: list[np.ndarray] = []
        self._tensor: torch.Tensor | None = None

    def lookup(self, key: Any) -> int:
        """Row number of ``key`` (built on first use)."""
        row = self.index.get(key)
        if row is None:
            row = self.index[key] = len(self.rows)
            self.rows.append(self.build(key))
            self._tensor = None
        return row

    def gather(self, keys: list[Any]) -> torch.Tensor:
        """``(len(keys), width)`` bool masks, on the CPU (as `table`)."""
        rows = [self.lookup(key) for key in keys]
        table = self.table()
        return table[torch.tensor(rows, dtype=torch.long, device=table.device)]

    def table(self) -> torch.Tensor:
        """All rows as one ``(n_keys, width)`` tensor, on the CPU (`torch.from_numpy`)."""
        if self._tensor is None:
            self._tensor = torch.from_numpy(np.stack(self.rows))
        return self._tensor


class _Sections(SectionState):
    """`SectionState` plus the bar lines the sampler may write next."""

    def bars(self, tie_pending: bool, final: bool) -> tuple[str, ...]:
        return allowed_bar_texts(
            self.rep_open,
            self.implicit_ok,
            self.ending,
            self.ending1_bars,
            self.ending2_bars,
            tie_pending,
            final,
        )


class TuneConstraint:
    """Grammar state of one sample: the allowed next tokens, and consumption of sampled ones.

    Positions come from the shared `MeasureTracker` (``self.tracker``); this class adds only what
    the grammar needs on top: repeats and endings, the pickup, ties, chords, tuplet member
    lengths and the length cap. `keys` names the masks (`build_main_mask`, `build_dur_mask`).

    Bars are placed in played time, as `validate_tune` checks them: at the start of each bar
    (`_plan`) the lengths it may have are listed, each with the bar lines that may close it. A
    full bar takes any balanced line; the bar before a jump back (``:|``, ``:|:``, the first
    ending's ``:|2``) must end where the repeat's first bar starts (the complement of its
    pickup); the last bar must end where the tune starts (the complement of the tune's pickup);
    a short jump bar that the tune does not end on is completed by the next bar, which opens the
    music after the repeat as a pickup of the same length.

    Args:
        tables: the batch's `ConstraintTables`.
        num_bars: bars after which the tune is steered to its close (``None``: no target).
        max_rows: soft cap on the rows (``<start>`` and ``<end>`` counted); the tune is
            steered to close before it (`_should_close`).
        min_bars: fewest full bars before the tune may stop by itself.

    Example:
        >>> from tokenization.vocabulary import AbcVocab
        >>> tables = ConstraintTables(AbcVocab.from_values({"m_offset": ["0", "1", "2"],
        ...     "dur": ["1"], "main": ["pitch60"]}), "2/8")
        >>> c = TuneConstraint(tables, num_bars=1)
        >>> c.keys()[0][0], c.push(tables.vocab.id("main", "pitch60"), 4).pitch
        ('free', 60)
    """

    def __init__(
        self,
        tables: ConstraintTables,
        num_bars: int | None = None,
        max_rows: int | None = None,
        min_bars: int = 4,
    ) -> None:
        self.tables, self.num_bars, self.max_rows = tables, num_bars, max_rows
        self.min_bars = min(min_bars, num_bars) if num_bars else min_bars
        self.tracker = MeasureTracker(tables.bar_eighths)
        self.sections = _Sections()
        self.rows = self.bars_done = self.bars_seen = 0
        #: rows at the last bar line, and the most rows a bar has taken (its bar line included)
        self.bar_start_rows = self.widest_bar = 0
        self.pickup: int | Fraction = 0
        self.closing = self.must_end = self.endable = self.done = self.truncated = False
        self.tie_main: int | None = None
        self.last_main: int | None = None
        self.tie_ok = False
        self.chord_notes = self.chord_last = 0
        self.fixed_dur: int | None = None
        self.tuplet_total = Fraction(0)
        # Played time, in ticks: where in its bar the current bar starts (0, or partway after a
        # short bar), where the first bar of the repeat a jump goes back to starts (None: the
        # tune's first bar), and where the second ending starts.
        self.start: int | Fraction = 0
        self.target: int | Fraction | None = None
        self.endings_start: int | Fraction = 0
        #: a prompt's first ending opened mid-bar (``[1``) in the bar now open
        self.ending_in_bar = False
        self.options: dict[int | Fraction, tuple[str, ...]] = {}
        self.lengths: tuple = ()
        self._plan()

    # ----- what may come next --------------------------------------------------------------
    def keys(self) -> tuple[tuple, tuple]:
        """Hashable keys of the main mask and the dur mask of the next token."""
        if self.must_end or self.done:
            return ("end",), ("none",)
        tr, lengths = self.tracker, self.lengths
        if tr.tuplet_left > 0:
            if self.fixed_dur is not None:
                return ("members",), ("fixed", self.fixed_dur)
            return ("members",), ("plain", lengths, tr.offset, self.tuplet_total)
        if tr.in_chord:
            return self._chord_keys()
        offset = tr.offset
        bars = self.options.get(offset, ())
        if self.tie_main is not None:  # a tie crosses only a plain bar line
            bars = ("|",) if "|" in bars else ()
        if not lengths or offset >= lengths[-1]:
            return ("bars", bars), ("none",)
        dur_key = ("plain", lengths, offset, 1)
        if self.tie_main is not None:
            if not self.tables.dur_allowed(lengths, offset).any():  # (only after a prompt)
                return ("bars", bars), ("none",)  # no length of the tied note fits
            return ("tied", self.tie_main, bars), dur_key
        if self.rows == 0:
            bars = ("|:",)
        tie = self.tie_ok and not self.closing and self._tie_fits(bars, offset)
        return ("free", lengths, offset, bars, self.endable, tie), dur_key

    def _tie_fits(self, bars: tuple[str, ...], offset: int | Fraction) -> bool:
        """Whether a tie here can be followed: by a plain bar line, or by its note with a length
        that the bar can take (always, short of a length the bar may have, in the bars the
        sampler writes: their notes were drawn to reach one; not in a prompt's)."""
        if "|" in bars:
            return True
        return bool(self.tables.dur_allowed(self.lengths, offset).any())

    def can_go_on(self) -> bool:
        """Whether the sampler has a token to draw next: the main mask of `keys`
        (`build_main_mask`) allows one. Always, in a tune the sampler wrote; a prompt may leave
        a bar that no note lengths complete (`check_prompt_goes_on`)."""
        return bool(build_main_mask(self.tables, self.keys()[0]).any())

    def _chord_keys(self) -> tuple[tuple, tuple]:
        if self.chord_notes == 0:
            return ("chord", 0, False), ("plain", self.lengths, self.tracker.offset, 1)
        if self.chord_notes >= MAX_CHORD_NOTES:
            return ("chord_close",), ("none",)
        return ("chord", self.chord_last, self.chord_notes >= 2), ("fixed", self.fixed_dur)

    def _plan(self) -> None:
        """List the lengths the bar now starting may have, each with its closing bar lines
        (``self.options``; ``self.lengths`` those that the vocabulary's lengths can fill)."""
        tables, sections = self.tables, self.sections
        complete = tables.bar - self.start
        final, jump = self._final_length(), self._jump_length()
        options: dict[int | Fraction, list[str]] = {}

        def add(length: int | Fraction | None, text: str) -> None:
            if length is not None and length > 0 and length in tables.good:
                options.setdefault(length, []).append(text)

        if self.start:  # completes the short bar before it: a pickup into the next section
            for text in sections.bars(False, False):
                if text in ("|", "|:"):
                    add(complete, text)
        elif self.closing and sections.closable_after_bar:
            for text in sections.bars(False, True):
                if text == ":|" and jump != final:  # the repeat cannot end the tune: endings
                    add(complete, "|1")
                else:
                    add(final, text)
        else:
            can_end = self.bars_done + 1 >= self.min_bars
            # closing in a first ending: this bar is its last (`_bars_to_close` counts on it)
            last_ending_bar = self.closing and sections.ending == 1 and jump in tables.good
            for text in sections.bars(False, False):
                if text == "|" and last_ending_bar:
                    continue
                if text in JUMP_BARS:
                    if self._continues(jump, text):
                        add(jump, text)
                elif text != "|]":
                    add(complete, text)
            if can_end and sections.closable_after_bar:
                for text in sections.bars(False, True):
                    if text not in JUMP_BARS:
                        add(final, text)
            if self.bars_seen == 0:
                for pickup in sorted(tables.pickups):
                    for text in sections.bars(False, False):
                        if text in ("|", "|:"):
                            add(pickup, text)
        self.options = {length: tuple(dict.fromkeys(t)) for length, t in options.items()}
        self.lengths = tuple(sorted(self.options))

    def _final_length(self) -> int | Fraction | None:
        """Length of a last bar from here: it ends where the tune starts (after its pickup)."""
        start = self.tables.bar - self.pickup if self.pickup else 0
        length = (start or self.tables.bar) - self.start
        return length if length > 0 else None

    def _repeat_start(self) -> int | Fraction:
        """Where the first bar of the repeat that a jump goes back to starts in its bar."""
        if self.target is None:  # the repeat goes back to the start of the tune
            return self.tables.bar - self.pickup if self.pickup else 0
        return self.target

    def _jump_length(self) -> int | Fraction | None:
        """Length of a bar before a jump back: it ends where the repeat's first bar starts."""
        length = (self._repeat_start() or self.tables.bar) - self.start
        return length if length > 0 else None

    def _continues(self, length: int | Fraction | None, text: str) -> bool:
        """Whether the music can go on after a jump bar of ``length``: a short one is followed
        (after ``:|`` or ``:|:``, the second time through) by a bar that completes it."""
        if length is None:
            return False
        left = self.tables.bar - self.start - length
        return text == ":|2" or left == 0 or left in self.tables.good

    # ----- consuming a sampled token -------------------------------------------------------
    def push(self, main_id: int, dur_id: int) -> Token | None:
        """Consume the sampled ``main`` (and its ``dur`` for notes and rests); returns the parser
        token pushed into the tracker, ``None`` for ``<end>``."""
        tables, tr = self.tables, self.tracker
        kind = tables.kind[main_id]
        if kind == "special":
            self.done = True
            return None
        token = tables.protos[main_id]
        if token is None:  # an "other" main value (`_main_kind`): no token the tracker reads
            raise ValueError(
                f"main value {tables.vocab.values['main'][main_id]!r} (id {main_id}) is no "
                "token constrained sampling can place"
            )
        self.rows += 1
        self.endable = False
        if kind == "note" or kind == "rest":
            token = token._replace(dur=tables.whole[dur_id])
            self._push_member(kind, token, main_id, dur_id)
        elif kind == "bar":
            self._push_bar(token.text)
        elif kind == "tuplet":
            self.fixed_dur, self.tuplet_total = None, tables.advance[main_id]
        elif kind == "tie":
            self.tie_main, self.tie_ok = self.last_main, False
        elif kind == "chord_start":
            self.chord_notes, self.chord_last, self.tie_ok = 0, 0, False
        elif kind == "chord_end":
            self.fixed_dur = None
        in_tuplet = tr.tuplet_left > 0
        tr.push(token)
        if in_tuplet and tr.tuplet_left == 0:
            self.fixed_dur = None  # that was the last tuplet member
        return token

    def _push_member(self, kind: str, token: Token, main_id: int, dur_id: int) -> None:
        tr = self.tracker
        if tr.in_chord:
            self.chord_notes += 1
            self.chord_last = main_id
            if self.chord_notes == 1:
                self.fixed_dur = dur_id
        elif tr.tuplet_left > 0:
            if self.fixed_dur is None:
                self.fixed_dur = dur_id
            self.tie_ok = False
        else:
            self.tie_main = None
            self.tie_ok = kind == "note"
        self.last_main = main_id

    def _push_bar(self, text: str) -> None:
        bar, length = self.tables.bar, self.tracker.offset
        self.tie_ok = False
        if text.startswith("["):  # an ending opened mid-bar (a prompt's): the bar goes on
            self.sections.push(text)
            self.ending_in_bar = self.ending_in_bar or text[1:2] == "1"
            self._plan()  # the bar lines that may close the bar are those of the ending
            return
        self.widest_bar = max(self.widest_bar, self.rows - self.bar_start_rows)
        self.bar_start_rows = self.rows
        first = self.bars_seen == 0 and length > 0
        if length > 0:
            if first and length < bar:
                self.pickup = length
            else:
                self.bars_done += 1
            self.bars_seen += 1
        # where the music is in a bar after this one (0: at a bar line; a prompt's bar that is
        # too long, or short before a plain bar line, is counted as a bar, as `validate_tune`
        # counts it once)
        end = bar if first else self.start + length
        if self.ending_in_bar:  # the second ending starts where the bar of a `[1` started
            self.endings_start, self.ending_in_bar = max(end - length, 0), False
        placed = end if end < bar and text != "|" else 0
        if text in JUMP_BARS and placed != self._repeat_start():
            placed = 0  # (only a prompt's jump lands elsewhere)
        self.start = self.endings_start if text == ":|2" else placed
        if text == "|1":
            self.endings_start = placed
        elif text in ("|:", ":|:") and self.bars_seen:
            self.target = self.start
        was_closing = self.closing
        self.sections.push(text)
        closed = self.sections.closed and self.tie_main is None
        at_start = placed == (bar - self.pickup if self.pickup else 0)  # the tune may end here
        # a short bar the sampler writes before a section line is the tune's last (a prompt's
        # may lead into the next section's pickup); one before a jump back ends the tune if
        # it is time to close, and otherwise leads into a pickup after the repeat
        short_final = placed and closed and at_start and text not in JUMP_BARS
        self.closing = self.closing or self._should_close()
        short_jump_end = placed and closed and at_start and self.closing
        if text == "|]" or short_final or (closed and at_start and was_closing) or short_jump_end:
            self.must_end = True
            return
        self.endable = closed and text in FINAL_BARS and at_start
        self.endable = self.endable and self.bars_done >= self.min_bars
        self._plan()

    def _should_close(self) -> bool:
        """Whether to close from here: ``num_bars`` reached, or one more bar and the bars that
        would then close the tune (`_bars_to_close`) could pass ``max_rows``, each bar judged as
        wide as the widest so far and at least a bar of eighth notes with its bar line (the
        ``<start>`` and ``<end>`` rows counted). Bars no wider than that never pass it."""
        if self.num_bars and self.bars_done + 1 >= self.num_bars:
            return True
        if self.max_rows:
            per_bar = max(Fraction(self.widest_bar), self.tables.bar_eighths + 1)
            return self.rows + 2 + self._bars_to_close() * per_bar > self.max_rows
        return False

    def _bars_to_close(self) -> int:
        """Most bars the tune takes to close if it writes one more bar before it starts closing:
        in a first ending, that bar, the rest of the ending (closed at once by closing) and a
        second ending as long; in a second ending, the bars it still needs; else that bar may
        open a repeat or a first ending, so a bar before ``|1``, a one-bar first ending and a
        second ending follow, after a bar completing a short one (a tune with a pickup)."""
        s = self.sections
        if s.ending == 1:
            return s.ending1_bars + (4 if s.ending1_bars + 1 < MAX_ENDING_BARS else 2)
        if s.ending == 2 and s.ending1_bars - s.ending2_bars > 1:
            return s.ending1_bars - s.ending2_bars
        return 1 + (4 if self.pickup else 2)


def build_main_mask(tables: ConstraintTables, key: tuple) -> np.ndarray:
    """Bool over the main vocabulary for a key of `TuneConstraint.keys`."""
    mask = np.zeros(tables.main_size, dtype=bool)
    tag = key[0]
    if tag == "end":
        mask[tables.end_id] = True
    elif tag == "bars":
        _set_bars(tables, mask, key[1])
    elif tag == "tied":
        mask[key[1]] = True
        _set_bars(tables, mask, key[2])
    elif tag == "members":
        mask[tables.pitch_ids] = True
        _set(mask, tables.rest_id)
    elif tag == "chord":
        last, close_ok = key[1], key[2]
        higher = tables.pitch_ids[tables.pitch_ids > last]
        mask[higher] = True
        if close_ok or (last and not len(higher)):
            _set(mask, tables.close_id)
    elif tag == "chord_close":
        _set(mask, tables.close_id)
    else:  # "free": notes, rests, chords and tuplets that fit; bars; end; tie
        _, lengths, offset, bars, endable, tie = key
        if tables.dur_allowed(lengths, offset).any():
            mask[tables.pitch_ids] = True
            _set(mask, tables.rest_id)
            _set(mask, tables.open_id)
        for main_id, total in tables.tuplets.items():
            mask[main_id] = tables.dur_allowed(lengths, offset, total).any()
        _set_bars(tables, mask, bars)
        mask[tables.end_id] = endable
        if tie:
            _set(mask, tables.tie_id)
    return mask


def build_dur_mask(tables: ConstraintTables, key: tuple) -> np.ndarray:
    """Bool over the dur vocabulary for a key of `TuneConstraint.keys` (``<pad>`` alone when no
    length is sampled, so that every row can be drawn from)."""
    tag = key[0]
    if tag == "plain":
        mask = tables.dur_allowed(key[1], key[2], key[3]).copy()
    else:
        mask = np.zeros(tables.dur_size, dtype=bool)
        mask[key[1] if tag == "fixed" else 0] = True
    if not mask.any():
        mask[0] = True
    return mask


def _set(mask: np.ndarray, index: int | None) -> None:
    if index is not None:
        mask[index] = True


def _set_bars(tables: ConstraintTables, mask: np.ndarray, texts: tuple[str, ...]) -> None:
    for text in texts:
        _set(mask, tables.bar_id.get(text))
