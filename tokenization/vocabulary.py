"""Per-feature vocabularies of the 20 MeasureNote features: build, save as JSON, encode."""

from __future__ import annotations

import json
import os
import reprlib
from collections.abc import Iterable, Mapping
from fractions import Fraction

import numpy as np

from .features import (
    END,
    FEATURE_NAMES,
    HEADER_FEATURES,
    MAX_M_IDX,
    PAD,
    POSITION_FEATURES,
    START,
    TOKEN_FEATURES,
    UNIT_LENGTH,
    UNK,
    TuneRows,
)
from .keys import MODES

__all__ = [
    "END_ID",
    "PAD_ID",
    "SPECIALS",
    "START_ID",
    "TONICS",
    "UNK_ID",
    "AbcVocab",
    "value_sort_key",
]

SPECIALS = (PAD, START, END, UNK)
PAD_ID, START_ID, END_ID, UNK_ID = 0, 1, 2, 3
VOCAB_FORMAT_VERSION = 1

#: The spelling of each of the 12 tonics (pitch class 0..11) in every vocabulary's `key` and
#: `root` (key augmentation writes its keys this way).
TONICS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Every bar text the reader's canonical bars give (`abc_lexer.canonical_bar`: `[|` is `||`,
# `::` is `:|:`), with the first and second endings in each of their three spellings (`[1`
# opens an ending mid-bar: O'Neill's 980). Other ending numbers (`|3`, `|1,3`) are open.
_BARS = ("|", "||", "|]", "|:", ":|", ":|:", "|1", "|2", ":|1", ":|2", "[1", "[2")
# ties, chord brackets, rests, and the tuplets of ABC 2.1's table (`(2`..`(9`, q implied); a
# tuplet written in full (`(3:2:4`) or of more notes is open
_OTHER_TOKENS = ("-", "[", "]", "z", *(f"({p}" for p in range(2, 10)))
# Values every vocabulary holds, whatever the corpus: each closed set of values the reader and
# `tokenization.features` define in code, whole, so that a tune of another source (O'Neill's
# `[1`, a Lydian tune) is not read as <unk> by a vocabulary built without it, and so that the
# ids of these features do not depend on the tunes seen. The tonics and keys in every
# spelling of `TONICS` leave room for key augmentation and generation in any key. The open
# features (pitches, `dur`, `m_offset`, `meter`, `numer`, `denom`, `rhythm`) hold what the
# corpus holds, and `octave` the octaves of the (widened) pitches.
_BASE_VALUES: dict[str, tuple[str, ...]] = {
    "main": _BARS + _OTHER_TOKENS,
    "pitch_class": tuple(str(i) for i in range(12)),
    "m_idx": tuple(str(i) for i in range(MAX_M_IDX + 1)),
    "m_idx_mod4": ("0", "1", "2", "3"),
    "is_onbeat": ("False", "True"),
    "is_middle_beat": ("False", "True"),
    "key": tuple(f"{tonic} {mode}" for tonic in TONICS for mode in MODES),
    "unit_length": (UNIT_LENGTH,),
    "root": TONICS,
    "mode": tuple(MODES),
    "key_sig": tuple(str(i) for i in range(-7, 8)),
    "is_compound": ("False", "True"),
    "is_triple": ("False", "True"),
    "rhythm": ("unspecified",),
}
#: Semitones of room kept above and below the corpus's pitch range (key augmentation).
PITCH_MARGIN = 7


def value_sort_key(value: str) -> tuple[int, Fraction, str]:
    """Natural order of feature values: numbers by value, then pitches by number, then text.

    >>> sorted(["pitch100", "pitch29", "10", "2", "3/2", "|"], key=value_sort_key)
    ['3/2', '2', '10', 'pitch29', 'pitch100', '|']
    """
    try:  # the text breaks ties of equal values ("6/8" and "3/4"), so the order is total
        return (0, Fraction(value), value)
    except (ValueError, ZeroDivisionError):
        pass
    if value.startswith("pitch") and value[5:].isdigit():
        return (1, Fraction(int(value[5:])), value)
    return (2, Fraction(0), value)


class AbcVocab:
    """Vocabularies of the 20 features; ids 0-3 of every feature are ``<pad> <start> <end> <unk>``.

    Args:
        values: for each feature name, its values in id order (specials first).

    Example:
        >>> vocab = AbcVocab.from_values({name: [] for name in FEATURE_NAMES})
        >>> vocab.sizes["main"] > 4, vocab.id("main", "|:") > 3, vocab.id("main", "???")
        (True, True, 3)
    """

    def __init__(self, values: dict[str, list[str]]) -> None:
        if not isinstance(values, Mapping):
            raise ValueError(f"vocabulary is a dict of features, not a {type(values).__name__}")
        missing = [name for name in FEATURE_NAMES if name not in values]
        if missing:
            raise ValueError(f"vocabulary lacks features {missing}")
        for name in FEATURE_NAMES:
            _check_feature_values(name, values[name])
        self.values = {name: list(values[name]) for name in FEATURE_NAMES}
        self.index = {
            name: {v: i for i, v in enumerate(vals)} for name, vals in self.values.items()
        }

    @classmethod
    def from_values(cls, observed: Mapping[str, Iterable[str]]) -> AbcVocab:
        """Vocabulary from observed values per feature, plus the fixed base values (every value
        of the closed features), each feature's sorted in `value_sort_key` order: the same
        values give the same ids, whatever order they were seen in."""
        values: dict[str, list[str]] = {}
        for name in FEATURE_NAMES:
            seen = set(observed.get(name, ())) | set(_BASE_VALUES.get(name, ()))
            seen -= set(SPECIALS)
            if name == "main":
                seen |= _widened_pitches(seen)
            if name == "octave":  # every octave of the widened pitches (key augmentation)
                pitches = [int(v[5:]) for v in values["main"] if v.startswith("pitch")]
                seen |= {str(p // 12) for p in pitches}
            values[name] = list(SPECIALS) + sorted(seen, key=value_sort_key)
        return cls(values)

    @classmethod
    def build(cls, tunes: Iterable[TuneRows]) -> AbcVocab:
        """Build from the rows of a corpus (see `tokenization.features.tune_to_rows`)."""
        observed: dict[str, set[str]] = {name: set() for name in FEATURE_NAMES}
        for rows in tunes:
            for j, name in enumerate(TOKEN_FEATURES):
                observed[name].update(row[j] for row in rows.token_rows)
            for j, name in enumerate(POSITION_FEATURES):
                observed[name].update(row[j] for row in rows.position_rows)
            for name, value in zip(HEADER_FEATURES, rows.header):
                observed[name].add(value)
        return cls.from_values(observed)

    @property
    def sizes(self) -> dict[str, int]:
        """Number of ids of each feature."""
        return {name: len(vals) for name, vals in self.values.items()}

    def id(self, feature: str, value: str) -> int:
        """Id of ``value`` in ``feature``; ``<unk>`` (3) when unknown."""
        return self.index[feature].get(value, UNK_ID)

    def token(self, feature: str, index: int) -> str:
        """Value of id ``index`` in ``feature``."""
        values = self.values[feature]
        if not 0 <= index < len(values):
            raise ValueError(f"id {index} of feature {feature!r} is not in the vocabulary "
                             f"(0..{len(values) - 1})")  # fmt: skip
        return values[index]

    def encode(self, rows: TuneRows) -> np.ndarray:
        """Encode a tune's rows into an ``(n_rows, 20)`` int64 array."""
        n = len(rows)
        out = np.empty((n, len(FEATURE_NAMES)), dtype=np.int64)
        tables = [self.index[name] for name in TOKEN_FEATURES + POSITION_FEATURES]
        width = len(TOKEN_FEATURES)
        for j, table in enumerate(tables[:width]):
            out[:, j] = [table.get(row[j], UNK_ID) for row in rows.token_rows]
        for j, table in enumerate(tables[width:]):
            out[:, width + j] = [table.get(row[j], UNK_ID) for row in rows.position_rows]
        out[:, width + len(POSITION_FEATURES) :] = self.encode_header(rows.header)
        return out

    def encode_header(self, header: tuple[str, ...]) -> np.ndarray:
        """Ids of the 11 header values."""
        return np.array([self.id(n, v) for n, v in zip(HEADER_FEATURES, header)], dtype=np.int64)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"format_version": VOCAB_FORMAT_VERSION, "features": self.values}

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON."""
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, indent=1, ensure_ascii=False)
            handle.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> AbcVocab:
        """Read a vocabulary written by `save`. A file that is not one (not JSON, no
        ``features``, a feature missing, not a list of strings, ...) is a `ValueError` naming
        it and what is wrong."""
        with open(path, encoding="utf-8") as handle:
            try:
                data = json.load(handle)
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise ValueError(f"{path}: not a vocabulary JSON file ({err})") from None
        if not isinstance(data, dict):
            raise ValueError(
                f"{path}: not a vocabulary JSON file (a JSON {type(data).__name__}, not an object)"
            )
        version = data.get("format_version")
        if version != VOCAB_FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported vocabulary format {version}")
        if not isinstance(data.get("features"), dict):
            raise ValueError(f"{path}: not a vocabulary JSON file (no 'features' object)")
        try:
            return cls(data["features"])
        except ValueError as err:
            raise ValueError(f"{path}: not a vocabulary JSON file ({err})") from None

    def __eq__(self, other: object) -> bool:
        # by name, not isinstance: a tokenizer loaded with trust_remote_code has its own copy
        # of this class (transformers_modules...), and its vocabulary is still the same
        return type(other).__name__ == "AbcVocab" and self.values == getattr(other, "values", None)

    def __repr__(self) -> str:
        return f"AbcVocab(sizes={self.sizes})"


def _check_feature_values(name: str, values: object) -> None:
    """Refuse (`ValueError`) the values of feature ``name`` unless they are a list of distinct
    strings starting with `SPECIALS` (a damaged file gave a bare `TypeError` on ``null``, and
    a repeated value would give two ids one meaning).

    >>> _check_feature_values("dur", ["<pad>", "<start>", "<end>", "<unk>", "1", "1"])
    Traceback (most recent call last):
    ...
    ValueError: vocabulary of 'dur' holds '1' twice
    """
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ValueError(
            f"vocabulary of {name!r} must be a list of strings, got {reprlib.repr(values)}"
        )
    if tuple(values[:4]) != SPECIALS:
        raise ValueError(f"vocabulary of {name!r} must start with {SPECIALS}")
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"vocabulary of {name!r} holds {value!r} twice")
        seen.add(value)


def _widened_pitches(values: set[str]) -> set[str]:
    pitches = [int(v[5:]) for v in values if v.startswith("pitch") and v[5:].isdigit()]
    if not pitches:
        return {f"pitch{p}" for p in range(48, 97)}
    low = max(0, min(pitches) - PITCH_MARGIN)
    high = min(127, max(pitches) + PITCH_MARGIN)
    return {f"pitch{p}" for p in range(low, high + 1)}
