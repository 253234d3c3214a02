"""Measure analysis of a parsed tune: where every token sits in the bar, the phrase and the form."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

from .abc_lexer import clipped, read_number
from .features import beat_points
from .measure import TICKS_PER_EIGHTH, MeasureTracker, bar_length_in_eighths

__all__ = [
    "MAX_PARTS",
    "TokenPosition",
    "analyse_measures",
    "expand_parts",
    "part_spans",
    "played_order",
    "bar_parts",
    "ending_passes",
]


@dataclass(frozen=True)
class TokenPosition:
    """Where one token of a tune sits.

    Attributes:
        token: the parser token.
        bar: absolute bar number (0 = the first bar, a pickup included).
        m_idx: bar index inside the repeated section (the MeasureNote ``m_idx`` feature).
        m_idx_mod4: ``m_idx`` modulo 4: position in a four-bar phrase.
        offset: offset from the start of the bar in eighth notes, as the ``m_offset`` feature
            sees it (tuplet members share the tuplet's start, as in the reference).
        onset: exact sounding onset from the start of the bar, in eighth notes (tuplet members
            at their scaled positions: ``(3`` members of an eighth at 0, 2/3, 4/3).
        is_onbeat: whether ``offset`` falls on a beat of the meter (compound meters by the
            dotted beat).
        is_middle_beat: whether ``offset`` is the middle of the bar (4/4 and 12/8 only).
        measure: measure-group number (a pickup shares group 0 with the first full bar).
        is_pickup: the token belongs to an anacrusis (a first bar shorter than the meter).
        ending: the ending this token belongs to (``"1"``, ``"2"``, ``"1,3"``) or ``""``.
        in_tuplet: the token is a member of a tuplet.
        in_chord: the token is a note inside ``[...]``.
    """

    token: Any
    bar: int
    m_idx: int
    m_idx_mod4: int
    offset: Fraction
    onset: Fraction
    is_onbeat: bool
    is_middle_beat: bool
    measure: int
    is_pickup: bool
    ending: str
    in_tuplet: bool
    in_chord: bool


def _ending_after(text: str, current: str) -> str:
    """The ending in force after a bar line."""
    label = text.lstrip(":|]").lstrip("[")
    if label:
        return label
    if ":" in text or text in ("||", "|]"):
        return ""
    return current


def analyse_measures(tokens: Sequence[Any], meter: str | None) -> list[TokenPosition]:
    """Position of every token of a tune (see `TokenPosition`), with the tokenizer's own tracker.

    Example:
        >>> from tokenization.abc_parser import parse_abc
        >>> tune = parse_abc("X:1\\nM:6/8\\nL:1/8\\nK:G\\nD|GAG (3Bcd e|1 d3 d2D:|2 d3 d3|]")
        >>> rows = analyse_measures(tune.tokens, tune.meter)
        >>> [(p.bar, str(p.offset), p.is_pickup) for p in rows[:3]]
        [(0, '0', True), (0, '1', True), (1, '0', False)]
        >>> [p.ending for p in rows if p.token.kind == "note"][-4:]
        ['1', '1', '2', '2']
        >>> rows[5].token.text, rows[5].in_tuplet, rows[6].in_tuplet, str(rows[9].offset)
        ('(3', False, True, '5')
    """
    tracker = MeasureTracker(bar_length_in_eighths(meter))
    onbeats, middles = beat_points(meter)
    out: list[TokenPosition] = []
    bar, ending = 0, ""
    for token in tokens:
        member = token.kind in ("note", "rest", "chord_start") and tracker.tuplet_left > 0
        offset = tracker.offset
        onset = offset
        if tracker.tuplet_left > 0:
            onset = offset + tracker.tuplet_sum * tracker.tuplet_factor
        out.append(
            TokenPosition(
                token=token,
                bar=bar,
                m_idx=tracker.m_idx,
                m_idx_mod4=tracker.m_idx % 4,
                offset=Fraction(offset) / TICKS_PER_EIGHTH,
                onset=Fraction(onset) / TICKS_PER_EIGHTH,
                is_onbeat=offset in onbeats,
                is_middle_beat=offset in middles,
                measure=tracker.measure,
                is_pickup=False,
                ending=ending,
                in_tuplet=member or (tracker.in_chord and tracker.tuplet_left > 0),
                in_chord=tracker.in_chord and token.kind in ("note", "rest"),
            )
        )
        if token.kind == "bar":
            length = tracker.bar_length
            first_bar_short = bar == 0 and length is not None and 0 < tracker.offset < length
            if first_bar_short:
                out = [_as_pickup(p) for p in out]
            ending = _ending_after(token.text, ending)
            bar += 1 if tracker.offset > 0 else 0
        tracker.push(token)
    return out


def _as_pickup(position: TokenPosition) -> TokenPosition:
    return replace(position, is_pickup=True)


_SECTION_LINES = ("||", "|]", "|:")


#: the passes an ending plays on, as inclusive ranges ``(low, high)``: ``|1-10000000`` costs
#: two numbers, not a set of ten million (a fuzzed tune took a minute and 2.4 GB to render)
_Passes = tuple[tuple[int, int], ...]


def ending_passes(label: str) -> _Passes:
    """The passes an ending label plays on: ``"1"``, ``"1,3"``, ``"1-3"`` (ABC 2.1), as ranges.

    >>> ending_passes("1,3-5"), ending_passes("3-1")
    (((1, 1), (3, 5)), ())
    """
    ranges = []
    for part in label.split(","):
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            first, last = _pass_number(low), _pass_number(high or low)
            ranges += [(first, last)] * (first <= last)
    return tuple(ranges)


#: a pass that is never played: `played_order` stops at 8 times a tune's tokens
_NEVER_PLAYED = 10**18


def _pass_number(digits: str) -> int:
    """The number of an ending's ``digits``; one above `_NEVER_PLAYED` is `_NEVER_PLAYED` (read
    by `read_number`: a fuzzed ``|1-99...9`` of 5,000 digits is past what `int` reads).
    """
    number = read_number(digits, _NEVER_PLAYED)
    return _NEVER_PLAYED if number is None else number


def _plays_on(passes: _Passes, number: int) -> bool:
    """Whether an ending of ``passes`` (`ending_passes`) plays on pass ``number``."""
    return any(low <= number <= high for low, high in passes)


@lru_cache(maxsize=4096)  # a tune has few bar texts, read again at every pass
def bar_parts(text: str) -> tuple[bool, _Passes]:
    """Whether a canonical bar text ends a repeat, and the passes of the ending it starts."""
    label = text.lstrip(":|]").lstrip("[")
    return text.startswith(":"), ending_passes(label) if label else ()


def played_order(bars: Sequence[str]) -> list[int]:
    """Indices of a tune's tokens in the order they are played, repeats and endings unfolded.

    `bars` holds each token's canonical bar text (``"|:"``, ``":|"``, ``":|2"``, ``"||"``...;
    anything else, e.g. ``""``, for a token that is not a bar line). A ``:|`` goes back to the
    last ``|:``, section line (``||``, ``|]``) or passed ``:|``, or to the start; a section is
    played twice, or as many times as its highest ending number; on each later pass an ending
    whose numbers do not include it is skipped, up to the ending that does. Endings the text
    never comes back to (a ``|2`` with no ``:|`` before it, as some transcriptions have) are
    played through, so no note is lost. Non-bar tokens are kept in order and each bar line is
    kept where it is passed through.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:G\\n|:GA|1 Bc:|2 de||fg:|")
    >>> bars = [t.text if t.kind == "bar" else "" for t in tune.tokens]
    >>> names = {67: "G", 69: "A", 71: "B", 72: "c", 74: "d", 76: "e", 78: "f", 79: "g"}
    >>> " ".join(bars[i] or names[tune.tokens[i].pitch] for i in played_order(bars))
    '|: G A |1 B c G A :|2 d e || f g f g :|'
    """
    n, order = len(bars), list[int]()
    i, start, passes_done, last_ending = 0, 0, 1, False
    while i < n and len(order) <= 8 * n:
        ends_repeat, ending = bar_parts(bars[i]) if bars[i] else (False, ())
        if ends_repeat and passes_done < _section_passes(bars, start, i):
            i, passes_done = start, passes_done + 1  # back to the start of the section
            continue
        if ending and passes_done > 1 and not _plays_on(ending, passes_done):
            j = _next_ending(bars, i + 1, passes_done)
            if j is None:  # no ending of this pass: skip this one to its close
                close = _ending_end(bars, i + 1)
                if close is not None:
                    i = close + 1
                    start, passes_done, last_ending = i, 1, False
                    continue
            else:
                i, ending = j, bar_parts(bars[j])[1]  # go on inside the ending of this pass
        order.append(i)
        if ends_repeat or bars[i] in _SECTION_LINES or (last_ending and bars[i] and not ending):
            start, passes_done, last_ending = i + 1, 1, False  # the section is over
        elif ending and passes_done >= _section_passes(bars, start, i):
            last_ending = True  # the section ends with the bar this last ending opens
        i += 1
    return order


def _next_ending(bars: Sequence[str], begin: int, pass_number: int) -> int | None:
    """The next bar whose ending includes `pass_number`, before the section ends."""
    for j in range(begin, len(bars)):
        if not bars[j]:
            continue
        ends_repeat, ending = bar_parts(bars[j])
        if _plays_on(ending, pass_number):
            return j
        if bars[j] in _SECTION_LINES or (ends_repeat and not ending):
            return None
    return None


def _ending_end(bars: Sequence[str], begin: int) -> int | None:
    """Index of the bar line that closes an ending (a repeat end or section line), if any."""
    for j in range(begin, len(bars)):
        if bars[j] and (bars[j].startswith(":") or bars[j] in _SECTION_LINES):
            return j
    return None


def _section_passes(bars: Sequence[str], start: int, here: int) -> int:
    """How often the section from `start` is played: 2, or its highest ending number."""
    highest = 2
    for j in range(start, len(bars)):
        if bars[j]:
            _, ending = bar_parts(bars[j])
            highest = max([highest] + [high for _, high in ending])
            if j > here and (bars[j] in _SECTION_LINES or bars[j].startswith(":")):
                break
    return highest


#: the most parts a header ``P:`` may play: far above any tune's (``P:((AB)3C)2`` plays 14), so
#: that ``P:(A9)99`` is refused as a typo rather than unfolded into hundreds of parts
MAX_PARTS = 256

_PART_COUNT = re.compile(r"\d*")


def expand_parts(spec: str) -> list[str]:
    """The parts a header ``P:`` value plays, in order (ABC 2.1 section 3.1.10): a letter
    ``A``-``Z`` per part, a number after a letter or a ``)`` plays it that many times,
    parentheses group (however deep: they are read with a stack, not by recursion), dots and
    blanks are ignored. A `ValueError` that says what cannot be read, when ``spec`` names no
    part or more than `MAX_PARTS`.

    >>> ["".join(expand_parts(s)) for s in ("AABB", "A2B", "(AB)2", "((AB)2C)2", "A.B C")]
    ['AABB', 'AAB', 'ABAB', 'ABABCABABC', 'ABC']
    """
    text = re.sub(r"[.\s]", "", spec)
    groups: list[list[str]] = [[]]  # the parts of each group still open, the whole value first
    i = 0
    while i < len(text):
        if text[i] == "(":
            groups.append([])
            i += 1
            continue
        if text[i] == ")":
            if len(groups) == 1:
                raise ValueError(f"cannot read P:{clipped(spec)}: a ')' that no '(' opens")
            group, i = groups.pop(), i + 1
        elif "A" <= text[i] <= "Z":
            group, i = [text[i]], i + 1
        else:
            raise ValueError(
                f"cannot read P:{clipped(spec)}: {text[i]!r} is no part (A-Z), '(' or ')'"
            )
        count = _PART_COUNT.match(text, i)
        assert count is not None  # \d* matches anywhere, if only ""
        times, i = _part_times(count[0]), count.end()
        if len(groups[-1]) + len(group) * times > MAX_PARTS:
            raise ValueError(f"P:{clipped(spec)} plays more than {MAX_PARTS} parts")
        groups[-1] += group * times
    if len(groups) > 1:
        raise ValueError(f"cannot read P:{clipped(spec)}: a '(' that no ')' closes")
    if not groups[0]:
        raise ValueError(f"P:{clipped(spec)} names no part")
    return groups[0]


def _part_times(digits: str) -> int:
    """How often the number ``digits`` after a part or group plays it (once without one); one
    past `MAX_PARTS` as `MAX_PARTS` + 1, which refuses any part it repeats (and cannot be too
    long for `int`, as ``A`` and 5,000 nines are: `read_number`)."""
    times = read_number(digits, MAX_PARTS) if digits else 1
    return MAX_PARTS + 1 if times is None else times


def part_spans(spec: str, changes: Sequence[tuple[int, str]], end: int) -> list[tuple[int, int]]:
    """``(first token, token after the last)`` of each stretch of a tune's ``end`` tokens, in
    the order they are played when its header's ``P:`` is ``spec`` and its body marks the
    parts at ``changes`` (`AbcTune.part_changes`: where each ``P:`` of the body is, and its
    label): what comes before the first part, once, then each part `expand_parts` names, as
    abc2midi plays them (a part runs to the next ``P:`` of the body, or to the end; of two
    ``P:`` at the same token the later counts; a label marked twice is its last part, as
    abc2midi plays it, "Part defined more than once": ABC 2.1 does not say, and the reader
    warns, `AbcTune.part_changes`). Each stretch is unfolded on its own (`played_order` of its
    bar lines). A `ValueError` when ``spec`` cannot be read or names a part the body does not
    mark.

    >>> part_spans("BA2", [(2, "A"), (5, "C"), (5, "B")], 9)
    [(0, 2), (5, 9), (2, 5), (2, 5)]
    >>> part_spans("AB", [(0, "A"), (3, "B"), (6, "A")], 9)  # the second A is played
    [(6, 9), (3, 6)]
    """
    order = expand_parts(spec)
    starts = dict(changes)  # token -> the label of the last P: before it
    stops = [*list(starts)[1:], end]
    sections: dict[str, tuple[int, int]] = {}
    for (at, label), stop in zip(starts.items(), stops):
        sections[label.strip()] = (at, stop)  # the last of a label marked twice
    missing = [label for label in dict.fromkeys(order) if label not in sections]
    if missing:
        marked = ", ".join(f"P:{label}" for label in sections) or "no P:"
        raise ValueError(
            f"P:{clipped(spec)} names part {', '.join(missing)}, but the body marks {marked}"
        )
    first = min(starts, default=end)
    return [(0, first)] * (first > 0) + [sections[label] for label in order]
