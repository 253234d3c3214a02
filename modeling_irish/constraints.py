"""Measure-aware sampling constraints: masks over the main and dur vocabularies."""

from __future__ import annotations

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
    "reachable_offsets",
    "validate_tune",
]

#: Bar texts the sampler may write (the rest of the vocabulary's bars are never sampled).
SAMPLED_BARS = ("|", "||", "|]", "|:", ":|", ":|:", "|1", ":|2")
#: Bars after which a tune may stop (and, in closing mode, must).
FINAL_BARS = ("|]", "||", ":|")
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


def reachable_offsets(grid: set[Fraction], durations: list[Fraction], target: Fraction) -> set:
    """Offsets of ``grid`` from which ``target`` is reached by steps of ``durations``, every
    intermediate offset staying on the grid.

    >>> g = {Fraction(x) for x in (0, 1, 2, 3, 4)} | {Fraction(7, 2)}
    >>> sorted(reachable_offsets(g, [Fraction(1)], Fraction(4)))
    [Fraction(0, 1), Fraction(1, 1), Fraction(2, 1), Fraction(3, 1), Fraction(4, 1)]
    """
    if target not in grid:
        return set()
    good = {target}
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
        # length bar - p can be filled.
        self.pickups = frozenset(
            bar - t
            for t in self.good
            if t != bar and bar - t <= bar / 2 and bar - t in self.good[bar]
        )
        self._dur_cache: dict[tuple, np.ndarray] = {}

    def _read_main(self, values: list[str]) -> None:
        self.main_size = len(values)
        self.kind = ["special"] * len(values)
        self.protos: list[Token | None] = [None] * len(values)
        self.pitch_ids, self.tuplets, self.advance, self.bar_id = [], {}, {}, {}
        for i, value in enumerate(values):
            if i < 4:
                continue
            kind, proto = _main_kind(value, self.compound)
            self.kind[i], self.protos[i] = kind, proto
            if kind == "note":
                self.pitch_ids.append(i)
            elif kind == "tuplet":
                self.advance[i] = proto.dur * tuplet_size(value)  # per tick of member length
                if value in SAMPLED_TUPLETS:
                    self.tuplets[i] = self.advance[i]
            elif kind == "bar":
                self.bar_id[value] = i
        self.pitch_ids = np.asarray(self.pitch_ids, dtype=np.int64)
        self.end_id = 2
        lookup = {v: i for i, v in enumerate(values)}
        self.rest_id = lookup.get("z")
        self.tie_id, self.open_id, self.close_id = lookup.get("-"), lookup.get("["), lookup.get("]")

    def dur_allowed(self, target: Fraction, offset: Fraction, factor: Fraction = 1) -> np.ndarray:
        """Bool over the dur vocabulary: lengths ``d`` with ``offset + factor * d`` on a grid
        offset from which ``target`` stays reachable."""
        key = (target, offset, factor)
        mask = self._dur_cache.get(key)
        if mask is None:
            good = self.good.get(target, ())
            mask = np.zeros(self.dur_size, dtype=bool)
            for j, d in enumerate(self.durs):
                if d is None or d <= 0 or offset + factor * d not in good:
                    continue
                mask[j] = factor == 1 or d in self.member_durs
            self._dur_cache[key] = mask
        return mask


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
    if "|" in value or value.startswith(":"):
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
        """``(len(keys), width)`` bool masks."""
        rows = [self.lookup(key) for key in keys]
        return self.table()[torch.tensor(rows, dtype=torch.long)]

    def table(self) -> torch.Tensor:
        """All rows as one ``(n_keys, width)`` tensor."""
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

    Args:
        tables: the batch's `ConstraintTables`.
        num_bars: bars after which the tune is steered to its close (``None``: no target).
        max_rows: soft cap on the rows; the tune is steered to close before it.
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
        self.pickup = Fraction(0)
        self.closing = self.must_end = self.endable = self.done = self.truncated = False
        self.tie_main: int | None = None
        self.last_main: int | None = None
        self.tie_ok = False
        self.chord_notes = self.chord_last = 0
        self.fixed_dur: int | None = None
        self.tuplet_total = Fraction(0)

    # ----- what may come next --------------------------------------------------------------
    def keys(self) -> tuple[tuple, tuple]:
        """Hashable keys of the main mask and the dur mask of the next token."""
        if self.must_end or self.done:
            return ("end",), ("none",)
        tr = self.tracker
        if tr.tuplet_left > 0:
            if self.fixed_dur is not None:
                return ("members",), ("fixed", self.fixed_dur)
            return ("members",), ("plain", self._target(), tr.offset, self.tuplet_total)
        if tr.in_chord:
            return self._chord_keys()
        target, offset = self._target(), tr.offset
        bars = self._bar_choices(target, offset)
        if offset >= target:
            return ("bars", bars), ("none",)
        dur_key = ("plain", target, offset, 1)
        if self.tie_main is not None:
            return ("tied", self.tie_main, bars), dur_key
        if self.rows == 0:
            bars = ("|:",)
        tie = self.tie_ok and not self.closing
        return ("free", target, offset, bars, self.endable, tie), dur_key

    def _chord_keys(self) -> tuple[tuple, tuple]:
        if self.chord_notes == 0:
            return ("chord", 0, False), ("plain", self._target(), self.tracker.offset, 1)
        if self.chord_notes >= MAX_CHORD_NOTES:
            return ("chord_close",), ("none",)
        return ("chord", self.chord_last, self.chord_notes >= 2), ("fixed", self.fixed_dur)

    def _target(self) -> Fraction:
        if self.closing and self.pickup and self.sections.closable_after_bar:
            return self.tables.bar - self.pickup
        return self.tables.bar

    def _bar_choices(self, target: Fraction, offset: Fraction) -> tuple[str, ...]:
        tables, tie = self.tables, self.tie_main is not None
        if offset == target:
            final = self.closing and self.sections.closable_after_bar
            bars = self.sections.bars(tie, final)
            if not final and (self.pickup or self.bars_done + 1 < self.min_bars):
                bars = tuple(b for b in bars if b != "|]")
            return bars
        if self.bars_seen == 0 and offset in tables.pickups:
            return tuple(b for b in self.sections.bars(tie, False) if b in ("|", "|:"))
        if (
            self.pickup
            and offset == tables.bar - self.pickup
            and not tie
            and self.bars_done + 1 >= self.min_bars
            and self.sections.closable_after_bar
        ):
            return self.sections.bars(False, True)
        return ()

    # ----- consuming a sampled token -------------------------------------------------------
    def push(self, main_id: int, dur_id: int) -> Token | None:
        """Consume the sampled ``main`` (and its ``dur`` for notes and rests); returns the parser
        token pushed into the tracker, ``None`` for ``<end>``."""
        tables, tr = self.tables, self.tracker
        kind = tables.kind[main_id]
        if kind == "special":
            self.done = True
            return None
        self.rows += 1
        token = tables.protos[main_id]
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
        tables, length = self.tables, self.tracker.offset
        self.tie_ok = False
        if length > 0:
            if self.bars_seen == 0 and length < tables.bar:
                self.pickup = length
            else:
                self.bars_done += 1
            self.bars_seen += 1
        was_closing = self.closing
        self.sections.push(text)
        closed = self.sections.closed and self.tie_main is None
        short = bool(self.pickup) and self.bars_done > 0 and length == tables.bar - self.pickup
        if text == "|]" or (closed and (was_closing or short)):
            self.must_end = True
            return
        self.endable = closed and text in FINAL_BARS and not self.pickup
        self.endable = self.endable and self.bars_done >= self.min_bars
        self.closing = self.closing or self._should_close()

    def _should_close(self) -> bool:
        if self.num_bars and self.bars_done + 1 >= self.num_bars:
            return True
        if self.max_rows:
            per_bar = self.rows / max(self.bars_done, 1)
            return self.rows + (2 * MAX_ENDING_BARS + 1) * per_bar + 8 >= self.max_rows
        return False


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
        _, target, offset, bars, endable, tie = key
        if tables.dur_allowed(target, offset).any():
            mask[tables.pitch_ids] = True
            _set(mask, tables.rest_id)
            _set(mask, tables.open_id)
        for main_id, total in tables.tuplets.items():
            mask[main_id] = tables.dur_allowed(target, offset, total).any()
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
