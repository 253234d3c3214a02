"""One ABC tune read, normalised and encoded into MeasureNote feature rows, with its labels.

It imports no torch (reading and encoding a tune need none): `as_numpy` takes a tensor only where
torch is loaded already.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .abc_header import abc_lines
from .abc_parser import AbcParseError, AbcTune, parse_abc, refuse_normalised_out_of_midi
from .features import FEATURE_NAMES, HeaderInfo, TuneRows, tune_to_rows
from .keys import Key, normalise_tune
from .vocabulary import PAD_ID, START_ID, UNK_ID, AbcVocab

__all__ = [
    "DUR_COLUMN",
    "IGNORE_INDEX",
    "KEY_COLUMN",
    "MAIN_COLUMN",
    "METER_COLUMN",
    "RHYTHM_COLUMN",
    "EncodedTune",
    "as_numpy",
    "encode_tune",
    "make_labels",
    "read_tune",
    "unknown_values",
]

IGNORE_INDEX = -100
#: The columns of a feature row ``(20,)`` that the tokenizer reads itself.
MAIN_COLUMN, DUR_COLUMN = FEATURE_NAMES.index("main"), FEATURE_NAMES.index("dur")
KEY_COLUMN, METER_COLUMN = FEATURE_NAMES.index("key"), FEATURE_NAMES.index("meter")
RHYTHM_COLUMN = FEATURE_NAMES.index("rhythm")


@dataclass
class EncodedTune:
    """One tune read, normalised and encoded.

    Attributes:
        input_ids: ``(n_rows, 20)`` feature ids.
        measure_numbers: ``(n_rows,)`` measure group of each row's next token.
        tune: the normalised `AbcTune` (white-key mode).
        original_key: the key as written in the source (a thesession-format tune on the white
            keys: the key its `Z:` names, as `normalise_tune` reads it).
        rows: the string rows the ids encode.

    >>> from tokenization.vocabulary import AbcVocab
    >>> vocab = AbcVocab.from_values({"dur": ["1"], "m_offset": ["0", "1", "2"]})
    >>> enc = encode_tune(vocab, "X:1\\nT:Tune\\nL:1/8\\nK:D\\nDFA|")
    >>> enc.input_ids.shape, enc.measure_numbers.tolist(), enc.labels.shape
    ((6, 20), [0, 0, 0, 0, 1, 1], (6, 2))
    >>> enc.original_key.name, enc.tune.key.name  # read in D, encoded on the white keys
    ('D major', 'C major')
    >>> [row[0] for row in enc.rows.rows()]
    ['<start>', 'pitch60', 'pitch64', 'pitch67', '|', '<end>']
    """

    input_ids: np.ndarray
    measure_numbers: np.ndarray
    tune: AbcTune
    original_key: Key
    rows: TuneRows = field(repr=False)

    @property
    def labels(self) -> np.ndarray:
        """``(n_rows, 2)`` main and dur ids of each row, -100 where nothing is predicted."""
        return make_labels(self.input_ids)

    def unknown_values(self) -> dict[str, list[str]]:
        """The values the vocabulary read as ``<unk>``, per feature (`unknown_values`).

        >>> from tokenization.vocabulary import AbcVocab
        >>> vocab = AbcVocab.from_values({"dur": ["1"], "m_offset": ["0", "1", "2", "3"]})
        >>> encode_tune(vocab, "X:1\\nM:3/8\\nL:1/8\\nK:D\\nD2E|").unknown_values()["dur"]
        ['2']
        """
        return unknown_values(self.rows, self.input_ids)


def unknown_values(rows: TuneRows, ids: np.ndarray) -> dict[str, list[str]]:
    """The values of ``rows`` that their ids ``ids`` (``(n, 20)``, the first ``n`` rows, as
    `AbcVocab.encode` gives them) hold as ``<unk>``, per feature (in `FEATURE_NAMES` order,
    only those with any): one per row that holds one, in row order (a header value, on every
    row, once per row)."""
    at_row, at_column = np.nonzero(np.asarray(ids) == UNK_ID)
    if not at_row.size:
        return {}
    full = rows.rows()
    found: dict[str, list[str]] = {}
    for column in sorted(set(at_column.tolist())):
        found[FEATURE_NAMES[column]] = [
            full[r][column] for r in at_row[at_column == column].tolist()
        ]
    return found


def make_labels(input_ids: np.ndarray) -> np.ndarray:
    """Labels for `MeasureNoteForCausalLM` (it shifts them): main everywhere but the ``<start>``
    row, dur only on note and rest rows.

    >>> ids = np.zeros((3, 20), dtype=np.int64)
    >>> ids[:, MAIN_COLUMN], ids[1, DUR_COLUMN] = [START_ID, 30, 2], 7
    >>> make_labels(ids).tolist()
    [[-100, -100], [30, 7], [2, -100]]
    """
    labels = input_ids[:, [MAIN_COLUMN, DUR_COLUMN]].copy()
    labels[labels[:, 0] == START_ID, 0] = IGNORE_INDEX
    labels[input_ids[:, DUR_COLUMN] == PAD_ID, 1] = IGNORE_INDEX
    return labels


def read_tune(
    text: str, *, keep_final_tie: bool = False, line_offset: int = 0
) -> tuple[AbcTune, AbcTune]:
    """Parse one ABC tune and normalise it onto the white keys; returns (original, normalised).

    A text holding several tunes (a second ``X:`` line) is an `AbcParseError`: the parser reads
    one tune, and the others would be dropped without a word (`parse_tunebook` reads a book).
    ``keep_final_tie``: keep a tie at the very end (an incipit to continue, `parse_abc`).
    ``line_offset``: added to the line numbers of its warnings and errors (`parse_abc`).
    A note that moving onto the white keys takes out of MIDI's 0-127 (``C,,,,,`` in D major
    to -1) is an `AbcParseError` too, at that note (`refuse_normalised_out_of_midi`).

    >>> original, tune = read_tune("X:1\\nK:D\\nDFA|")
    >>> original.key.name, tune.key.name
    ('D major', 'C major')
    """
    if not isinstance(text, str):
        raise TypeError(f"an ABC tune is a string of text, got {type(text).__name__}")
    tune = parse_abc(text, keep_final_tie=keep_final_tie, line_offset=line_offset)
    if text.count("X:") > 1:  # cheap test first; then the real one, on line starts
        lines = enumerate(abc_lines(text), line_offset + 1)
        starts = [i for i, line in lines if line.startswith("X:")]
        if len(starts) > 1:
            raise AbcParseError(
                f"{len(starts)} tunes in one text (X: lines {', '.join(map(str, starts[:5]))}"
                f"{', ...' if len(starts) > 5 else ''}); give one tune per string, e.g. a list",
                tune=tune.title or None,
                line=starts[1],
                column=1,
            )
    refuse_normalised_out_of_midi(tune, text, line_offset)
    return tune, normalise_tune(tune)


def encode_tune(vocab: AbcVocab, text: str, rhythm: str | None = None) -> EncodedTune:
    """Read one ABC tune into ``vocab``'s feature ids (raises `AbcParseError` on bad input);
    ``rhythm`` stands in for the tune's ``R:`` (`HeaderInfo.from_tune`); either is spelled as
    ``vocab`` spells its type, whatever its case, spaces, ``-`` and ``_`` (`rhythm_spelling`).

    >>> from tokenization.vocabulary import AbcVocab
    >>> vocab = AbcVocab.from_values({"dur": ["1"], "rhythm": ["reel"]})
    >>> enc = encode_tune(vocab, "X:1\\nL:1/8\\nK:D\\nDFA|", rhythm="reel")  # no R: line
    >>> vocab.token("rhythm", int(enc.input_ids[0, RHYTHM_COLUMN]))
    'reel'
    """
    _, tune = read_tune(text)
    header = HeaderInfo.from_tune(tune, rhythm, vocab.values["rhythm"])
    rows = tune_to_rows(tune.tokens, header)
    ids = vocab.encode(rows)
    measures = np.asarray(rows.measure_numbers, dtype=np.int64)
    assert tune.original_key is not None  # normalise_tune (in read_tune) always sets it
    return EncodedTune(ids, measures, tune, tune.original_key, rows)


def as_numpy(ids: Any) -> np.ndarray:
    """``ids`` (a tensor, on any device, an array or nested lists) as a numpy array.

    >>> as_numpy([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    # a tensor exists only once torch is imported: no need to import it (seconds) to ask
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(ids, torch.Tensor):
        return ids.detach().cpu().numpy()
    return np.asarray(ids)
