"""One tune written back as ABC in another key: the engine of `irish-tune transpose`. Without a
key, in the normalised form the training corpus uses (the white keys of its mode, `normalise_tune`,
written as `AbcTokenizer.decode` writes it: ``K:Ddor``, a real key); with one, in that key, in the
octave nearest the tune's own. Imports neither torch nor transformers (the reader and writer do
not), so the command starts in a fraction of a second."""

from __future__ import annotations

from .abc_parser import AbcTune, refuse_moved_out_of_midi
from .keys import Key, normalise_shift, normalise_tune, output_shift, transpose_tokens
from .round_trip import write_tune

__all__ = ["ModeMismatchError", "mode_mismatch", "transposed_abc", "write_tune"]


class ModeMismatchError(ValueError):
    """A tune asked for in a key of another mode (`mode_mismatch` says why)."""


def mode_mismatch(tune_key: Key, target: Key) -> str | None:
    """Why a tune in ``tune_key`` cannot be written in ``target`` (a key of another mode: its
    notes would change, not move), in the words `generate` refuses a prompt's mode with; None
    when the modes agree.

    >>> print(mode_mismatch(Key("E", "dorian"), Key("A", "major")).replace("; ", ";\\n"))
    in E dorian, not a major key: transposing keeps the tune's mode;
    to write it in A, give --key 'A dorian'
    >>> mode_mismatch(Key("G", "major"), Key("A", "major")) is None
    True
    """
    if tune_key.mode == target.mode:
        return None
    asked = Key(target.tonic, tune_key.mode).name
    return (
        f"in {tune_key.name}, not a {target.mode} key: transposing keeps the tune's mode; "
        f"to write it in {target.tonic}, give --key {asked!r}"
    )


def transposed_abc(
    tune: AbcTune, key: Key | None = None, text: str | None = None, line_offset: int = 0
) -> str:
    """The ABC of ``tune`` in ``key``, or, when None, normalised as the training corpus is
    (`normalise_tune`: its tonic on the white tonic of its mode, in the corpus's octave, and the
    key it was read in written first in ``Z:``), written in that white key (``K:Ddor``: a real
    key, as `AbcTokenizer.decode` writes a tune of the corpus's rows, not the corpus's ``K: C
    Dorian`` placeholder, which other readers take for C dorian). In ``key``, the notes move by
    the nearest interval (-6..+5 semitones: the octave whose middle note is nearest the tune's
    own; a tritone goes down, `output_shift`), so a tune asked for in its own key keeps its
    pitches.

    The header is kept as `irish-tune check`'s round trip keeps it: its number, every title and
    rhythm, the meter, and every other field but ``L:`` and ``V:`` (``C:``, ``Q:``, ``P:``,
    ``Z:``...), and so are the mid-tune meter and tempo changes, the parts the body marks, its
    section titles and its ``%%MIDI program`` changes among the notes (``[I:MIDI program 20]``);
    its mid-tune key changes move with it (`written_key_changes`).
    A `ModeMismatchError` when ``key``'s mode is not the tune's
    (`mode_mismatch`), and an `AbcParseError` when a note would move out of MIDI's 0-127 (ABC
    no reader takes back), at that note's line and column given ``text``, the ABC the tune was
    read from (with ``line_offset``), else at its X: line (`refuse_moved_out_of_midi`).

    >>> from tokenization.abc_parser import parse_abc
    >>> kesh = parse_abc("X:1\\nT:The Kesh\\nR:jig\\nM:6/8\\nL:1/8\\nK:G\\nGAG GAB|")
    >>> print(transposed_abc(kesh, Key("A", "major")).split("K:", 1)[1], end="")
    A
    ABA ABc |
    >>> print(transposed_abc(kesh).split("Z:", 1)[1], end="")
    G major
    R:jig
    M:6/8
    L:1/8
    K:C
    CDC CDE |
    """
    normal = normalise_tune(tune)
    if key is None:
        target, shift, fields = normal.key, 0, normal.fields
    else:
        problem = mode_mismatch(normal.original_key or tune.key, key)
        if problem is not None:
            raise ModeMismatchError(problem)
        written = [t.pitch for t in tune.tokens if t.pitch is not None]
        pitches = [t.pitch for t in normal.tokens if t.pitch is not None]
        centre = sorted(written)[len(written) // 2] if written else None
        target, fields = key, tune.fields
        if centre is None:
            shift = output_shift(normal.key, key)
        else:
            shift = output_shift(normal.key, key, pitches, centre=centre)
    into = f"onto the white keys ({target.name})" if key is None else f"into {target.name}"
    how = f"when the tune goes from {tune.key.name} {into}"
    refuse_moved_out_of_midi(tune, normalise_shift(tune.key) + shift, how, text, line_offset)
    return write_tune(tune, transpose_tokens(normal.tokens, shift), target, fields)
