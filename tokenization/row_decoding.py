"""Feature rows back to parser tokens and ABC text: the decoding half of `AbcTokenizer`."""

from __future__ import annotations

import functools
import inspect
import reprlib
import sys
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from .abc_parser import Token
from .abc_spelling import Speller
from .abc_writer import chord_problem, write_abc
from .encoded_tune import (
    DUR_COLUMN,
    KEY_COLUMN,
    MAIN_COLUMN,
    METER_COLUMN,
    RHYTHM_COLUMN,
    as_numpy,
)
from .features import FEATURE_NAMES
from .keys import Key, first_out_of_midi, output_shift, parse_key, transpose_tokens
from .measure import EIGHTHS_PER_WHOLE, compound_meter, tuplet_factor
from .tokenizer_checks import batch_item, check_meter, convert_shape_error, decode_shape_error
from .vocabulary import PAD_ID, SPECIALS, UNK_ID, AbcVocab

__all__ = [
    "UnreadableRowsError",
    "check_decode_options",
    "check_ids_type",
    "check_some_music",
    "decode_rows",
    "holds_tunes",
    "main_ids",
    "row_token",
    "rows_compound",
    "rows_key",
    "rows_to_tokens",
    "RowsToAbc",
]

#: The header columns `rows_compound` reads where the meter is ``<unk>``.
NUMER_COLUMN, COMPOUND_COLUMN = FEATURE_NAMES.index("numer"), FEATURE_NAMES.index("is_compound")


class UnreadableRowsError(ValueError):
    """Feature rows that cannot be read back into tokens: a row whose ``main`` token, or a note
    or rest whose length, the tokenizer's vocabulary reads as `<unk>`, or a key or meter it
    reads so (the ids came from a corpus it was not built on); chord rows that no ABC holds
    (a ``]`` closing no chord, a bar line inside a chord: sampled without the constraints); or,
    for `decode`, rows with no note or rest (bar lines and tuplet marks alone: no tune).

    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
    >>> tok.decode(tok("X:1\\nK:D\\nDFA|")["input_ids"][0][:1])  # the <start> row alone
    Traceback (most recent call last):
    ...
    tokenization.row_decoding.UnreadableRowsError: the rows hold no note or rest (no token at ...
    """


@functools.cache  # a few thousand (main, dur, meter kind) triples at most
def row_token(main: str, dur: str, compound: bool) -> Token:
    """The parser token of a row's ``main`` and ``dur`` values (``dur`` in eighths, read for
    notes and rests; ``compound``: whether the meter is compound, for a tuplet's factor).

    >>> row_token("pitch62", "3/2", False).dur, row_token("|:", "<pad>", False).kind
    (Fraction(3, 16), 'bar')
    """
    if main.startswith("pitch"):
        return Token("note", "", int(main[5:]), Fraction(dur) / EIGHTHS_PER_WHOLE)
    if main == "z":
        return Token("rest", "z", None, Fraction(dur) / EIGHTHS_PER_WHOLE)
    if main.startswith("("):
        return Token("tuplet", main, None, tuplet_factor(main, compound))
    if main == "-":
        return Token("tie", "-", None, None)
    if main == "[":
        return Token("chord_start", "[", None, None)
    if main == "]":
        return Token("chord_end", "]", None, None)
    return Token("bar", main, None, None)


def rows_to_tokens(vocab: AbcVocab, input_ids: Any) -> list[Token]:
    """Parser tokens (in the normalised key) of a tune's feature rows, read with ``vocab``;
    ``<pad>``, ``<start>`` and ``<end>`` rows are skipped. A row whose ``main`` is ``<unk>`` (a
    bar line, ending, tuplet or note this vocabulary never had) is an `UnreadableRowsError`:
    skipping it would merge bars or drop a tuplet's timing without a word; so is a note or rest
    whose length is a special token (``<unk>``, or ``<pad>``, ``<start>``, ``<end>``: ids that
    no encoded note has), named by its row, and so are chord rows that cannot be written as ABC
    that reads back (`abc_writer.chord_problem`: a ``]`` that closes no chord, an empty chord,
    a ``[``, bar line, tuplet or rest inside a chord, a chord never closed): the writer would
    drop or move their notes. Errors number the rows as given, ``<pad>`` rows counted (on
    either side); the header columns are read from the first row that is not ``<pad>``.

    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
    >>> ids = np.asarray(tok("X:1\\nK:D\\nDFA|")["input_ids"][0])
    >>> ids[2, MAIN_COLUMN] = UNK_ID
    >>> rows_to_tokens(tok.abc_vocab, np.concatenate([np.zeros_like(ids[:3]), ids]))
    Traceback (most recent call last):
    ...
    tokenization.row_decoding.UnreadableRowsError: row 5: its main token is not in this ...
    """
    ids, kept = _without_pad_rows(as_numpy(input_ids))
    compound = rows_compound(vocab, ids)
    tokens, token_rows = [], []  # the row of each token as given, to name it
    mains, durs = vocab.values["main"], vocab.values["dur"]
    for row, (main_id, dur_id) in zip(kept, ids[:, [MAIN_COLUMN, DUR_COLUMN]].tolist()):
        if main_id == UNK_ID:
            raise UnreadableRowsError(
                f"row {row}: its main token is not in this tokenizer's vocabulary (<unk>: a "
                "bar line, ending, tuplet or note its training corpus never had), so the "
                "rows cannot be read back"
            )
        if main_id < UNK_ID:  # <pad>, <start>, <end>: the tune's frame, not its text
            continue
        # (list lookups; `token` only for an id out of range, which it refuses by name)
        main = mains[main_id] if main_id < len(mains) else vocab.token("main", main_id)
        dur = durs[dur_id] if 0 <= dur_id < len(durs) else vocab.token("dur", dur_id)
        if dur in SPECIALS and (main.startswith("pitch") or main == "z"):
            named = _row_named(vocab, ids, main)
            raise UnreadableRowsError(f"row {row}: {_no_length(named, dur)}")
        tokens.append(row_token(main, dur, compound))
        token_rows.append(row)
    problem = chord_problem(tokens)
    if problem is not None:
        where = problem.text(lambda i: f"row {token_rows[i]}")
        raise UnreadableRowsError(f"{where}, so the rows cannot be written as ABC")
    return tokens


def _without_pad_rows(ids: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The rows of ``ids`` (one tune's, ``(n_rows, 20)``) that are not ``<pad>`` (padding on
    either side), and the index of each in ``ids``, by which errors name it.

    >>> rows, kept = _without_pad_rows(np.array([[0] * 20, [1] * 20, [5] * 20, [0] * 20]))
    >>> rows[:, 0].tolist(), kept
    ([1, 5], [1, 2])
    """
    kept = np.flatnonzero(ids[:, MAIN_COLUMN] != PAD_ID)
    return ids[kept], kept.tolist()


def rows_compound(vocab: AbcVocab, ids: np.ndarray) -> bool:
    """Whether the meter the rows were encoded in is compound for the tuplet rule of ABC 2.1
    (`compound_meter`: ``(5`` is 5 notes in the time of 3 in 9/8, of 2 in 3/4), as their
    tuplets' lengths were read: from their ``meter`` column, or where ``vocab`` reads it as
    ``<unk>`` (a meter its corpus never had) from their ``numer`` column, else their
    ``is_compound`` one (`compound_meter` too; always in the vocabulary). Not from the meter
    `decode` is asked to write: that only changes the ``M:`` line, and the writer spells
    the tuplets out for it (``(5:3:5`` in 4/4).

    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> tok = AbcTokenizer.train(["X:1\\nM:6/8\\nL:1/8\\nK:D\\nDEF GAB|]"])
    >>> [rows_compound(tok.abc_vocab, tok.encode_tune(f"X:1\\nM:{m}\\nK:D\\nD|").input_ids)
    ...  for m in ("6/8", "9/8", "3/4")]
    [True, True, False]
    """
    if not len(ids):
        return False
    for column in (METER_COLUMN, NUMER_COLUMN):
        value = vocab.token(FEATURE_NAMES[column], int(ids[0, column]))
        if value != "<unk>":
            return compound_meter(value)
    return vocab.token("is_compound", int(ids[0, COMPOUND_COLUMN])) == "True"


def _row_named(vocab: AbcVocab, ids: np.ndarray, main: str) -> str:
    """How an error names a note or rest row (``main``: ``"pitch64"`` or ``"z"``) to a user,
    who knows no internal pitch number: a note as ABC in the normalised key the rows carry
    (`Speller`: ``E`` in C major, ``^f`` outside its scale), that key named; where the
    vocabulary reads the key as ``<unk>``, spelled in C major, which has no accidental either.

    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
    >>> ids = tok.encode_tune("X:1\\nK:D\\nDFA|").input_ids
    >>> for main in ("pitch64", "pitch78", "z"):
    ...     print(_row_named(tok.abc_vocab, ids, main))
    the note E (ABC in the normalised key, C major)
    the note ^f (ABC in the normalised key, C major)
    a rest (z)
    """
    if main == "z":
        return "a rest (z)"
    value = vocab.token("key", int(ids[0, KEY_COLUMN])) if len(ids) else "<unk>"
    white = parse_key(value) if value not in SPECIALS else None
    text = Speller(white or parse_key("C")).note(int(main.removeprefix("pitch")))
    return f"the note {text} (ABC in the normalised key{f', {white.name}' if white else ''})"


def _no_length(named: str, dur: str) -> str:
    """Why a note or rest row (``named`` by `_row_named`) whose ``dur`` is a special token
    (``<unk>``, ``<pad>``, ...) cannot be read back.

    >>> _no_length("a rest (z)", "<pad>").split(", so")[0]
    'the length of a rest (z) is <pad>, a special token, not a length'
    """
    if dur == "<unk>":
        why = "is not in this tokenizer's vocabulary (<unk>)"
    else:
        why = f"is {dur}, a special token, not a length"
    return f"the length of {named} {why}, so the rows cannot be read back"


def check_decode_options(key: Any, title: Any, x: Any) -> None:
    """Refuse (`TypeError`, naming the argument) a ``key``, ``title`` or ``x`` of `decode` of a
    type it cannot write: ``key=5`` failed deep in the writer, ``x=None`` wrote ``X:None``.

    >>> check_decode_options("D", "The Kesh", 1), check_decode_options(None, "", np.int64(2))
    (None, None)
    >>> check_decode_options("D", None, 1)
    Traceback (most recent call last):
    ...
    TypeError: title is the T: field, a string; got NoneType
    """
    if key is not None and not isinstance(key, (str, Key)):
        raise TypeError(
            f"key is a key name such as 'D' or 'E dorian' (or a Key); got {type(key).__name__}"
        )
    if not isinstance(title, str):
        raise TypeError(f"title is the T: field, a string; got {type(title).__name__}")
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"x is the X: number, an int; got {type(x).__name__}")


def check_ids_type(ids: Any, where: str) -> None:
    """Refuse (`TypeError`, naming its type) what ``AbcTokenizer.{where}`` cannot read as ids:
    anything but a tensor, an array or (nested) lists; ``decode(None)`` or of a string said
    "got ()", a shape, and ``batch_decode(None)`` "'NoneType' object is not iterable".

    >>> check_ids_type([[1] * 20], "decode")
    >>> check_ids_type("X:1", "decode")
    Traceback (most recent call last):
    ...
    TypeError: AbcTokenizer.decode takes ids: feature rows (n_rows, 20) of one tune or ...
    """
    torch = sys.modules.get("torch")  # a tensor exists only once torch is imported
    if isinstance(ids, (list, tuple, np.ndarray)) or (
        torch is not None and isinstance(ids, torch.Tensor)
    ):
        return
    hint = ""
    if isinstance(ids, str):
        hint = ": ABC text, which is decoded already"
    elif isinstance(ids, Mapping):
        hint = ": give its ['input_ids']"
    elif isinstance(ids, (int, np.integer)):
        hint = ": one main id (tok.convert_ids_to_tokens names its token)"
    raise TypeError(
        f"AbcTokenizer.{where} takes ids: feature rows (n_rows, {len(FEATURE_NAMES)}) of one tune "
        "or (batch, n_rows, 20) of several, as tokenizer(abc)['input_ids'] gives (a tensor, an "
        f"array or nested lists); got {type(ids).__name__}{hint}"
    )


def holds_tunes(ids: Any) -> bool:
    """Whether ``ids`` (as `check_ids_type` lets through) are several tunes' rows, a batch: a
    tensor or array with 3 dimensions, or a list whose items are tunes' 2-D rows (tunes of
    different lengths); else one tune's (or main ids, which `decode` refuses by their shape).

    >>> holds_tunes(np.zeros((2, 5, 20))), holds_tunes([np.zeros((5, 20)), np.zeros((3, 20))])
    (True, True)
    >>> holds_tunes(np.zeros((5, 20))), holds_tunes([[1] * 20]), holds_tunes([])
    (False, False, False)
    """
    if isinstance(ids, (list, tuple)):
        return bool(len(ids)) and np.ndim(as_numpy(ids[0])) >= 2
    return as_numpy(ids).ndim >= 3


def decode_rows(
    vocab: AbcVocab,
    token_ids: Any,
    *,
    key: str | Key | None = None,
    title: str = "",
    x: int = 1,
    register: str = "inverse",
    meter: str | None = None,
) -> str:
    """ABC text of one tune's rows, read with ``vocab``: what `AbcTokenizer.decode` writes (its
    docstring says what each argument does)."""
    if register not in ("inverse", "auto"):
        raise ValueError(f"register must be 'inverse' or 'auto', got {register!r}")
    check_meter(meter)
    check_decode_options(key, title, x)
    ids = as_numpy(token_ids)
    if ids.ndim != 2 or ids.shape[1] != len(FEATURE_NAMES):
        raise ValueError(decode_shape_error(ids.shape))
    if not np.issubdtype(ids.dtype, np.integer):  # float ids index the vocabulary's lists
        raise TypeError(
            f"decode expects integer ids; got {ids.dtype} (as tokenizer(abc)['input_ids'] gives; "
            "convert them, e.g. ids.long())"
        )
    given_ids, ids = ids, _without_pad_rows(ids)[0]
    if not len(ids):
        raise ValueError("decode got no rows besides padding: there is no tune to write")
    tokens = rows_to_tokens(vocab, given_ids)  # its errors number the rows as given
    check_some_music(tokens)
    given = parse_key(key) if isinstance(key, str) else key
    white = rows_key(vocab, ids, given)
    target = given or white
    if target.mode != white.mode:
        raise ValueError(f"cannot write a {white.mode} tune in {target.name}")
    notes = [t.pitch for t in tokens if t.kind == "note" and t.pitch is not None]  # all of them
    pitches = notes if register == "auto" else None
    tokens = transpose_tokens(tokens, output_shift(white, target, pitches))
    out = first_out_of_midi(tokens)
    if out is not None:  # written, it is ABC no reader takes back; no pitch is clamped
        raise ValueError(
            f"decode: note {out} of the tune moves to pitch {tokens[out].pitch} in "
            f"{target.name}, outside the MIDI range 0-127; give another key or register"
        )
    meter = meter or _header_value(vocab, ids, METER_COLUMN, "meter")
    rhythm = vocab.token("rhythm", int(ids[0, RHYTHM_COLUMN]))
    return write_abc(
        tokens,
        key=target,
        meter=None if meter == "none" else meter,
        title=title,
        x=x,
        rhythm=None if rhythm in ("unspecified", "<unk>") else rhythm,
    )


def check_some_music(tokens: list[Token]) -> None:
    """Refuse (`UnreadableRowsError`) the tokens of rows with no note or rest: bar lines, tuplet
    marks or ties alone (``(3 |``), or nothing between ``<start>`` and ``<end>``. Their ABC
    would be a tune that the reader refuses ("tune has no notes"), so `decode` says so rather
    than write it; a tune of rests reads back and is written.

    >>> check_some_music([Token("rest", "z", None, Fraction(1, 8))])
    >>> check_some_music([Token("tuplet", "(3", None, Fraction(2, 3))])
    Traceback (most recent call last):
    ...
    tokenization.row_decoding.UnreadableRowsError: the rows hold no note or rest (only '(3'), ...
    """
    if any(token.kind in ("note", "rest") for token in tokens):
        return
    held = f"only {' '.join(repr(t.text) for t in tokens[:6])}" if tokens else "no token at all"
    raise UnreadableRowsError(
        f"the rows hold no note or rest ({held}{' ...' if len(tokens) > 6 else ''}), so they "
        "are no tune: their ABC would not read back (the reader refuses a tune with no notes)"
    )


def rows_key(vocab: AbcVocab, ids: np.ndarray, given: Key | None) -> Key:
    """The white key the rows were normalised onto; where ``vocab`` reads it as ``<unk>`` (a
    mode its training corpus never had) and a key is ``given``, the white key of the given
    key's mode, as ``meter=`` stands in for an ``<unk>`` meter."""
    if given is not None and vocab.token("key", int(ids[0, KEY_COLUMN])) == "<unk>":
        return given.white
    return parse_key(_header_value(vocab, ids, KEY_COLUMN, "key"))


def _header_value(vocab: AbcVocab, ids: np.ndarray, column: int, feature: str) -> str:
    """The ``feature`` (key or meter) the rows carry, or `UnreadableRowsError` when it is
    ``<unk>``: not in the vocabulary, so it cannot be written back."""
    value = vocab.token(feature, int(ids[0, column]))
    if value == "<unk>":
        example = "meter='6/8'" if feature == "meter" else "key='E phrygian'"
        hint = f"; give it, e.g. decode(ids, {example})"
        raise UnreadableRowsError(
            f"the rows' {feature} is <unk>: this tokenizer's training corpus had no tune in "
            f"it, so it cannot be written back{hint}"
        )
    return value


def main_ids(ids: Any) -> int | list[int]:
    """The ``main`` ids that `AbcTokenizer.convert_ids_to_tokens` converts, of a tensor, array
    or nested list of ``main`` ids or of one tune's feature rows ``(n, 20)`` (their ``main``
    column). A batch ``(batch, n, 20)`` or ragged nested lists are a `ValueError`.

    >>> main_ids(np.arange(40).reshape(2, 20)), main_ids(np.int64(5))
    ([0, 20], 5)
    """
    try:
        array = as_numpy(ids)
    except ValueError:  # ragged nested lists: several tunes of different lengths
        array = None
    if array is not None and array.ndim == 2 and array.shape[1] == len(FEATURE_NAMES):
        array = array[:, MAIN_COLUMN]
    if array is None or array.ndim > 1:
        raise ValueError(convert_shape_error(None if array is None else array.shape))
    return array.tolist()  # a 0-d array gives an int


class RowsToAbc:
    """The decoding methods of `AbcTokenizer` (it subclasses this before `PreTrainedTokenizer`,
    whose ``decode`` this replaces); `AbcTokenizer` supplies ``abc_vocab``."""

    abc_vocab: AbcVocab  # set by `AbcTokenizer.__init__`

    def ids_to_tokens(self, input_ids: Any) -> list[Token]:
        """Parser tokens (in the normalised key) of a tune's feature rows; ``<pad>``,
        ``<start>`` and ``<end>`` rows are skipped. A row whose ``main`` is ``<unk>`` (a bar
        line, ending, tuplet or note this vocabulary never had) is an `UnreadableRowsError`:
        skipping it would merge bars or drop a tuplet's timing without a word."""
        return rows_to_tokens(self.abc_vocab, input_ids)

    def decode(
        self,
        token_ids: Any,
        *positional: Any,
        key: str | Key | None = None,
        title: str = "",
        x: int = 1,
        register: str = "inverse",
        meter: str | None = None,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **unknown: Any,
    ) -> str | list[str]:
        """ABC text of one tune's rows: headers X, T, R, M, L, K and the body; of a batch, a list
        of texts, as `batch_decode` gives (as `transformers` 5's ``decode`` does).

        Args:
            token_ids: ``(n_rows, 20)`` integer ids (tensor, array or nested list); or a batch,
                ``(batch, n_rows, 20)`` or a list of tunes' rows. Anything else (None, a string,
                an int: one ``main`` id holds no tune) is a `TypeError`.
            key: the real key to write in (e.g. ``"D"``, ``"E dorian"``, or a `Key`); its mode
                must be the tune's. Defaults to the normalised white key, which must be in this
                tokenizer's vocabulary (a mode its training corpus never had is ``<unk>`` in the
                rows: then the tune is written in the ``key`` given, and refused without one).
            title: the ``T:`` field.
            x: the ``X:`` number.
            register: ``"inverse"`` (default) undoes the normalisation exactly, so the written
                tune reads back to the same rows; ``"auto"`` picks the octave that centres the
                tune on the usual playing register (for generated tunes).
            meter: the ``M:`` to write; by default the rows' own, which must be in this
                tokenizer's vocabulary (a meter its training corpus never had is ``<unk>`` in
                the rows, and is refused rather than written as ``M:<unk>``). A value the reader
                cannot read in ``M:`` (``"banana"``, ``"0/8"``) is a `ValueError`. It sets the
                ``M:`` line only: tuplets keep the lengths the rows were encoded with
                (`rows_compound`), spelled out where the meter written reads them otherwise.
            skip_special_tokens, clean_up_tokenization_spaces: the `transformers` keywords,
                accepted and without effect: the ABC is written by `abc_writer`, not joined from
                token strings. Any other keyword is a `TypeError`, as Python's own but naming
                ``AbcTokenizer.decode()`` and the keywords it takes (`_unknown_keywords`), and
                so is an argument of another type (``key=5``, ``x=None``, float ids).
                An option given by position (``decode(ids, True)``, `transformers`' way to
                skip special tokens) is a `TypeError` that says to give it by keyword
                (`_positional_options`), rather than Python's error naming this mixin.

        ``<pad>``, ``<start>`` and ``<end>`` rows frame the tune and are never written, whatever
        ``skip_special_tokens`` says. A row whose ``main`` is ``<unk>`` (a bar line, ending,
        tuplet or note the vocabulary never had) is refused, `UnreadableRowsError`, with
        ``skip_special_tokens=True`` too: leaving it out would merge bars or lose a tuplet's
        timing without a word (generation never samples ``<unk>``). So are rows with no note
        or rest (only bar lines, tuplet marks or ties, or none between ``<start>`` and
        ``<end>``): the reader refuses a tune with no notes, so their ABC would not read back.
        """
        if positional:  # (Python's own named this class and no keyword to give instead)
            raise TypeError(_positional_options("decode", positional))
        if unknown:  # (Python's own named this class: `RowsToAbc.decode() got ...`)
            raise TypeError(_unknown_keywords("decode", unknown))
        check_ids_type(token_ids, "decode")
        if holds_tunes(token_ids):
            return self.batch_decode(
                token_ids,
                key=key,
                title=title,
                x=x,
                register=register,
                meter=meter,
                skip_special_tokens=skip_special_tokens,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            )
        return decode_rows(
            self.abc_vocab, token_ids, key=key, title=title, x=x, register=register, meter=meter
        )

    def batch_decode(self, sequences: Any, *positional: Any, **kwargs: Any) -> list[str]:
        """`decode` of each tune of a batch (``tok(abcs)["input_ids"]``, or a list of tunes'
        rows), with the same keywords; one tune's rows ``(n_rows, 20)`` give a list of one text,
        as `transformers` gives for one sequence. An error that one tune's rows cause names that
        tune, as the errors of ``__call__`` do, and keeps its type (``ValueError``,
        `UnreadableRowsError`); a ``key`` or ``register`` that no tune could be written with is
        refused before the first, without naming one, as is a keyword `decode` does not take
        (a `TypeError`); so is a batch of batches (4-D ids), a `ValueError`, where each item
        would have given a list, not a text. An option given by position is a `TypeError`, as
        `decode` says it."""
        if positional:
            raise TypeError(_positional_options("batch_decode", positional))
        unknown = [name for name in kwargs if name not in _DECODE_KEYWORDS]
        if unknown:  # `decode`'s own check would come only at the first tune, and never for none
            raise TypeError(_unknown_keywords("batch_decode", unknown))
        if kwargs.get("register", "inverse") not in ("inverse", "auto"):
            raise ValueError(f"register must be 'inverse' or 'auto', got {kwargs['register']!r}")
        check_decode_options(kwargs.get("key"), kwargs.get("title", ""), kwargs.get("x", 1))
        if isinstance(kwargs.get("key"), str):
            kwargs["key"] = parse_key(kwargs["key"])
        check_meter(kwargs.get("meter"))
        check_ids_type(sequences, "batch_decode")
        if not holds_tunes(sequences) and not (
            isinstance(sequences, (list, tuple)) and not sequences
        ):
            sequences = [sequences]  # one tune (or main ids, which decode refuses by shape)
        texts = []
        for n, seq in enumerate(sequences):
            if holds_tunes(seq):  # decode would give a list for it, not one text
                raise ValueError(
                    f"batch_decode takes tunes' rows, (batch, n_rows, 20); {batch_item(n)} holds "
                    "several tunes' (ids of 4 dimensions, or nested one list too deep)"
                )
            try:
                text = self.decode(seq, **kwargs)
            except ValueError as err:
                raise type(err)(f"{err} ({batch_item(n)})") from err
            assert isinstance(text, str)  # one tune's rows (holds_tunes refused a batch above)
            texts.append(text)
        return texts


#: The keywords `RowsToAbc.decode` (and so `AbcTokenizer.decode` and ``batch_decode``) takes.
_DECODE_KEYWORDS = tuple(
    parameter.name
    for parameter in inspect.signature(RowsToAbc.decode).parameters.values()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)


def _positional_options(method: str, values: tuple[Any, ...]) -> str:
    """The `TypeError` message of ``values`` given by position after the ids to `AbcTokenizer`'s
    ``method`` (``decode``, ``batch_decode``), which takes its options by keyword only: what
    `transformers`' ``decode(ids, True)`` means (``skip_special_tokens``) is not a guess here.

    >>> _positional_options("decode", (True,))
    'AbcTokenizer.decode() takes the ids alone by position, got 1 more argument (True): give ...'
    """
    shown = ", ".join(reprlib.repr(value) for value in values)
    return (
        f"AbcTokenizer.{method}() takes the ids alone by position, got {len(values)} more "
        f"argument{'s' if len(values) > 1 else ''} ({shown}): give its options by keyword, "
        f"e.g. skip_special_tokens=True (it takes {', '.join(_DECODE_KEYWORDS)})"
    )


def _unknown_keywords(method: str, names: Any) -> str:
    """The `TypeError` message of keywords ``names`` that `AbcTokenizer`'s ``method``
    (``decode``, ``batch_decode``) does not take, in Python's words, naming the public method
    and the keywords it takes.

    >>> _unknown_keywords("decode", ["foo"])
    "AbcTokenizer.decode() got an unexpected keyword argument 'foo' (it takes key, title, ...)"
    """
    names = list(names)
    plural = "s" if len(names) > 1 else ""
    return (
        f"AbcTokenizer.{method}() got {'unexpected' if plural else 'an unexpected'} keyword "
        f"argument{plural} {', '.join(map(repr, names))} (it takes {', '.join(_DECODE_KEYWORDS)})"
    )
