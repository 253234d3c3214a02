"""The 20 MeasureNote features of a tune: header features and one row of strings per token."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from .measure import (
    EIGHTHS_PER_WHOLE,
    TICKS_PER_EIGHTH,
    MeasureTracker,
    bar_length_in_eighths,
    compound_meter,
)
from .rhythm_types import rhythm_spelling

__all__ = [
    "END",
    "FEATURE_NAMES",
    "HEADER_FEATURES",
    "PAD",
    "POSITION_FEATURES",
    "START",
    "TOKEN_FEATURES",
    "UNIT_LENGTH",
    "HeaderInfo",
    "TuneRows",
    "beat_points",
    "position_features",
    "token_features",
    "tune_to_rows",
]

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"

#: Token columns (what was read), position columns (where the next token goes), header columns.
TOKEN_FEATURES = ("main", "dur", "pitch_class", "octave")
POSITION_FEATURES = ("m_idx", "m_idx_mod4", "m_offset", "is_onbeat", "is_middle_beat")
HEADER_FEATURES = (
    "key",
    "meter",
    "unit_length",
    "rhythm",
    "root",
    "mode",
    "key_sig",
    "numer",
    "denom",
    "is_compound",
    "is_triple",
)
#: The 20 features of the specification, in column order.
FEATURE_NAMES = TOKEN_FEATURES + POSITION_FEATURES + HEADER_FEATURES

#: The ``unit_length`` of every row: durations are always counted in eighths (the corpus's L:1/8).
UNIT_LENGTH = "1/8"

#: Bar indices above this share one id (the reference's m_idx was sparse beyond ~40).
MAX_M_IDX = 63

# Beats and mid-bar points per meter numerator, in units of the meter's denominator
# (reference-measurenote.md 2.3); other numerators have a beat on every denominator unit.
_BEATS = {4: (0, 1, 2, 3), 2: (0, 1), 3: (0, 1, 2), 6: (0, 3), 9: (0, 3, 6), 12: (0, 3, 6, 9)}
_MIDDLE = {4: (2,), 12: (6,)}

_TICKS_STR: dict[int | Fraction, str] = {}
_DUR_STR: dict[tuple[int, int], str] = {}


def ticks_str(ticks: int | Fraction) -> str:
    """Text of an offset given in ticks, in eighth notes (``3/2``), cached."""
    text = _TICKS_STR.get(ticks)
    if text is None:
        text = _TICKS_STR[ticks] = str(Fraction(ticks) / TICKS_PER_EIGHTH)
    return text


def dur_str(length: Fraction) -> str:
    """Text of a length given as a fraction of a whole note, in eighth notes, cached.

    >>> dur_str(Fraction(3, 16)), dur_str(Fraction(1, 4))
    ('3/2', '2')
    """
    key = (length.numerator, length.denominator)
    text = _DUR_STR.get(key)
    if text is None:
        text = _DUR_STR[key] = str(Fraction(key[0] * EIGHTHS_PER_WHOLE, key[1]))
    return text


@dataclass(frozen=True)
class HeaderInfo:
    """What a tune's header contributes to every row (after normalisation).

    Attributes:
        key_name: key as ``"<tonic> <mode>"``, e.g. ``"D dorian"``.
        tonic: tonic spelling, e.g. ``"D"``.
        mode: mode name, e.g. ``"dorian"``.
        key_sig: sharps (> 0) or flats (< 0) of the key.
        meter: ``"6/8"`` or ``None`` for free meter.
        rhythm: tune type (``"reel"``), ``"unspecified"`` when unknown.
    """

    key_name: str
    tonic: str
    mode: str
    key_sig: int
    meter: str | None
    rhythm: str = "unspecified"

    @classmethod
    def from_tune(
        cls, tune: Any, rhythm: str | None = None, known: Iterable[str] = ()
    ) -> HeaderInfo:
        """Header of a parsed (normally already normalised) `AbcTune`. Its rhythm (``rhythm``,
        else its first ``R:``) is read as ``irish-tune generate --rhythm`` reads one
        (`rhythm_spelling`): whatever its case, spaces, ``-`` and ``_``, a type is spelled as
        ``known`` (a vocabulary's rhythm values) spells it, else as `RHYTHM_METERS` does
        (``R:Slip-Jig`` is thesession's ``slip jig``), else lower-cased.

        >>> from tokenization.abc_parser import parse_abc
        >>> HeaderInfo.from_tune(parse_abc("X:1\\nR:Slip-Jig\\nK:D\\nD|")).rhythm
        'slip jig'
        """
        key = tune.key
        if rhythm is None:
            values = tune.fields.get("R") or [""]
            rhythm = values[0]
        rhythm = rhythm.strip().lower()
        rhythm = rhythm_spelling(rhythm, known) if rhythm else "unspecified"
        return cls(key.name, key.tonic, key.mode, key.signature, tune.meter, rhythm)

    @property
    def bar_length(self) -> Fraction | None:
        """Full bar in eighth notes."""
        return bar_length_in_eighths(self.meter)

    def values(self) -> tuple[str, ...]:
        """The 11 header feature values, in `HEADER_FEATURES` order."""
        numer, denom = _meter_parts(self.meter)
        top = int(numer) if numer.isdigit() else 0
        return (
            self.key_name,
            self.meter or "none",
            UNIT_LENGTH,
            self.rhythm,
            self.tonic,
            self.mode,
            str(self.key_sig),
            numer,
            denom,
            # the musical rule (a multiple of 3 above 3: 15/8 too), the reference's {6, 9, 12}
            # on its corpus, whose meters stop at 12/8
            str(compound_meter(self.meter)),
            str(top in (3, 9)),
        )


def _meter_parts(meter: str | None) -> tuple[str, str]:
    if not meter or "/" not in meter:
        return "none", "none"
    numer, denom = meter.split("/", 1)
    return numer, denom


@lru_cache(maxsize=64)
def beat_points(meter: str | None) -> tuple[frozenset[int], frozenset[int]]:
    """On-beat and mid-bar offsets of a meter, in ticks (see `tokenization.measure`)."""
    numer, denom = _meter_parts(meter)
    if not numer.isdigit() or not denom.isdigit():
        return frozenset({0}), frozenset()
    top, unit = int(numer), EIGHTHS_PER_WHOLE * TICKS_PER_EIGHTH // int(denom)
    beats = _BEATS[top] if top in _BEATS else _other_beats(top, compound_meter(meter))
    middle = _MIDDLE.get(top, ())
    return frozenset(b * unit for b in beats), frozenset(m * unit for m in middle)


def _other_beats(top: int, compound: bool) -> tuple[int, ...]:
    """Beats (in units of the meter's denominator) of a numerator outside the reference's
    table: every third unit in a compound meter (15/8 in 5 dotted beats, as 6/8 in 2), every
    unit in an irregular one (5/8, 7/8).

    >>> _other_beats(15, compound=True), _other_beats(5, compound=False)
    ((0, 3, 6, 9, 12), (0, 1, 2, 3, 4))
    """
    return tuple(range(0, top, 3 if compound else 1))


_M_IDX_STR = [str(i) for i in range(MAX_M_IDX + 1)]
_MOD4 = ("0", "1", "2", "3")


def position_features(
    m_idx: int, offset: int | Fraction, onbeats: frozenset[int], middles: frozenset[int]
) -> tuple[str, str, str, str, str]:
    """The five position columns of a row; ``offset`` in ticks (`MeasureTracker.offset`).
    ``m_idx`` is capped at `MAX_M_IDX`; ``m_idx_mod4`` is taken of the uncapped index, so it
    keeps cycling through long sections.

    >>> on, mid = beat_points("4/4")
    >>> position_features(5, 4 * TICKS_PER_EIGHTH, on, mid)
    ('5', '1', '4', 'True', 'True')
    >>> position_features(MAX_M_IDX + 1, 0, on, mid)[:2]
    ('63', '0')
    """
    idx, mod4 = _M_IDX_STR[min(m_idx, MAX_M_IDX)], _MOD4[m_idx % 4]
    return (idx, mod4, ticks_str(offset), str(offset in onbeats), str(offset in middles))


def token_features(token: Any) -> tuple[str, str, str, str]:
    """The four token columns (main, dur, pitch_class, octave) of a parsed token.

    >>> from tokenization.abc_parser import Token
    >>> token_features(Token("note", "", 62, Fraction(3, 16)))
    ('pitch62', '3/2', '2', '5')
    >>> token_features(Token("bar", ":|2", None, None))
    (':|2', '<pad>', '<pad>', '<pad>')
    """
    kind = token.kind
    if kind == "note":
        pitch = token.pitch
        if 0 <= pitch < 128:
            name, pitch_class, octave = _PITCH_STR[pitch]
        else:
            name, pitch_class, octave = f"pitch{pitch}", str(pitch % 12), str(pitch // 12)
        return name, dur_str(token.dur), pitch_class, octave
    if kind == "rest":
        return "z", dur_str(token.dur), PAD, PAD
    return token.text, PAD, PAD, PAD


@dataclass
class TuneRows:
    """String rows of one tune.

    Attributes:
        token_rows: ``(n_rows, 4)`` main, dur, pitch_class, octave.
        position_rows: ``(n_rows, 5)`` position columns (of the *next* token).
        header: the 11 header values shared by every row.
        measure_numbers: measure group of each row's next token.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nM:2/4\\nL:1/8\\nR:polka\\nK:D\\nDF A2|")
    >>> rows = tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))
    >>> [row[0] for row in rows.token_rows], rows.measure_numbers
    (['<start>', 'pitch62', 'pitch66', 'pitch69', '|', '<end>'], [0, 0, 0, 0, 1, 1])
    >>> len(rows), len(rows.rows()[0])  # 4 token, 5 position and 11 header columns a row
    (6, 20)
    """

    token_rows: list[tuple[str, ...]]
    position_rows: list[tuple[str, ...]]
    header: tuple[str, ...]
    measure_numbers: list[int]

    def __len__(self) -> int:
        return len(self.token_rows)

    def rows(self) -> list[tuple[str, ...]]:
        """Full 20-column rows (for inspection and tests; encoding uses the parts)."""
        return [t + p + self.header for t, p in zip(self.token_rows, self.position_rows)]


_PITCH_STR = [(f"pitch{p}", str(p % 12), str(p // 12)) for p in range(128)]
_START_TOKEN = (START, PAD, PAD, PAD)
_END_TOKEN = (END, PAD, PAD, PAD)
_END_POSITION = (END,) * 5


def tune_to_rows(tokens: Sequence[Any], header: HeaderInfo) -> TuneRows:
    """Rows ``<start>, t1..tN, <end>``; row k holds token k and the position of token k+1.

    Example:
        >>> from tokenization.abc_parser import Token
        >>> header = HeaderInfo("C major", "C", "major", 0, "2/4", "polka")
        >>> toks = [Token("note", "", 72, Fraction(1, 4)), Token("bar", "|", None, None)]
        >>> r = tune_to_rows(toks, header)
        >>> [row[0] for row in r.token_rows], [row[2] for row in r.position_rows]
        (['<start>', 'pitch72', '|', '<end>'], ['0', '2', '0', '<end>'])
    """
    tracker = MeasureTracker(header.bar_length)
    onbeats, middles = beat_points(header.meter)
    token_rows: list[tuple[str, ...]] = [_START_TOKEN]
    position_rows: list[tuple[str, ...]] = [position_features(0, 0, onbeats, middles)]
    measures = [0]
    push = tracker.push
    for token in tokens:
        token_rows.append(token_features(token))
        push(token)
        position_rows.append(position_features(tracker.m_idx, tracker.offset, onbeats, middles))
        measures.append(tracker.measure)
    token_rows.append(_END_TOKEN)
    position_rows.append(_END_POSITION)
    measures.append(tracker.measure)
    return TuneRows(token_rows, position_rows, header.values(), measures)
