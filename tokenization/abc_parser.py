"""ABC 2.1 reader: one tune or a tunebook -> `AbcTune` with exact `Fraction` durations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .abc_bars import BarsAndTies
from .abc_body import BANG_LINE_BREAK, BARE_FIELD, BodyWalk
from .abc_field_lines import strip_comment, unix_text
from .abc_header import HeaderFields, lines_listed
from .abc_lexer import BODY_BANG_BREAK_RE, clipped
from .abc_notes import NotesAndChords, default_tuplet_q
from .abc_tune import AbcParseError, AbcTune, Token, in_force_at
from .abc_tunebook import (
    begintext_warning,
    blank_line_warning,
    file_header_fields,
    file_header_lines,
    file_header_transposes,
    fold_lines,
    needs_folding,
    split_tunebook_noted,
)
from .keys import normalise_shift

#: how `parse_abc` refuses a tune without a note or rest (its header alone, or bar lines alone,
#: followed by ``: bar lines but no note or rest``): the start of its `AbcParseError.message`
NO_NOTES = "tune has no notes"

# AbcParseError, AbcTune, Token (abc_tune.py), default_tuplet_q (abc_notes.py) and
# BANG_LINE_BREAK (abc_body.py) are re-exported: the package, its tests and its users import
# them from here
__all__ = [
    "BANG_LINE_BREAK",
    "BARE_FIELD",
    "NO_NOTES",
    "AbcParseError",
    "AbcTune",
    "Token",
    "TuneChunk",
    "default_tuplet_q",
    "parse_abc",
    "parse_tunebook",
    "read_chunk",
    "refuse_moved_out_of_midi",
    "refuse_normalised_out_of_midi",
    "tunebook_chunks",
]

CORPUS_FORMATS = ("auto", "corpus", "standard")
_ONE = Fraction(1)


class _TuneParser(BodyWalk, NotesAndChords, BarsAndTies, HeaderFields):
    """Parser state for one tune. Use `parse_abc`.

    Its methods by topic: the body walk, the lexer's hot loop and overlays (`BodyWalk`,
    abc_body.py), header and fields (`HeaderFields`, abc_header.py), titles (`TitleFields`,
    abc_titles.py), bar lines, endings and ties (`BarsAndTies`, abc_bars.py), lengths, rests,
    chords and tuplets (`NotesAndChords`, abc_notes.py), each a `ParserState`
    (abc_parser_state.py: the state they share, and the methods one calls on another); the
    header's end and the result are here.
    """

    # ---------------------------------------------------------------- header
    def parse(self, text: str) -> AbcTune:
        # CR LF (Windows) or CR alone (old Mac files) end lines too, and a byte-order mark saved
        # by some editors (at the start of any line: `cat` of two such files) is no text
        text = unix_text(text)
        lines = text.split("\n")
        if needs_folding(text):  # continued field lines, `%%begintext` blocks
            unclosed: list[int] = []
            lines = fold_lines(lines, unclosed)
            self.warnings += [begintext_warning(self.line_offset + i + 1) for i in unclosed]
        body_start = self._parse_header(lines)  # the file header applied at its K:
        for i in range(body_start):  # the header's own (`%%transpose 2` before the music)
            if lines[i].lstrip().startswith(("%%", "I:")):
                self._transpose_directive(lines[i], self.line_offset + i + 1)
        self._finish_header()
        if self._bang_is_line_break():
            self.body_re = BODY_BANG_BREAK_RE
        self.acc_scope = self._accidental_scope(lines[:body_start])
        if not self.ended:
            self._parse_body(lines, body_start)
        return self._build()

    def _finish_header(self) -> None:
        if self.unit is None:
            self.unit = self._default_unit()
        self._set_unit(self.unit)
        self.header_meter, self.header_unit = self.meter, self.unit
        self._start_body()

    # ---------------------------------------------------------------- result
    def _note_text_after(self, lines: list[str], blank: int) -> None:
        """Say that the lines after the blank line that ends the tune are not read (ABC 2.1:
        free text), when any holds more than a comment: music there was lost without a word."""
        rest = [j for j in range(blank + 1, len(lines)) if strip_comment(lines[j]).strip()]
        if rest:
            at = self.line_offset + 1
            self.warnings.append(blank_line_warning(len(rest), at + blank, at + rest[0]))

    def _parts_marked_twice(self) -> list[str]:
        """A warning for each part the body marks more than once (``P:A`` ... ``P:B`` ...
        ``P:A``), naming its lines: ABC 2.1 does not say which one the header's ``P:`` plays;
        abc2midi plays the last ("Part defined more than once"), and so does `render`
        (`part_spans`). Of two ``P:`` at the same token only the later marks a part."""
        lines: dict[str, list[int]] = {}
        marks = dict(zip([at for at, _ in self.part_changes], range(len(self.part_changes))))
        for n in marks.values():  # the last change at each token, in token order
            lines.setdefault(self.part_changes[n][1].strip(), []).append(self.part_lines[n])
        header = (self.fields.get("P") or [""])[0].strip()
        played = (
            f"the header's P:{clipped(header)} plays the last, as abc2midi does"
            if header
            else "played as written, each where it is (a header P: would play the last)"
        )
        return [
            f"part {label} marked more than once ({lines_listed(at)}): {played}"
            for label, at in lines.items()
            if len(at) > 1
        ]

    def _build(self) -> AbcTune:
        if self.in_chord:
            self.lineno = self.chord_line
            raise self.error("unclosed chord", self.chord_col)
        if not any(token.kind in ("note", "rest") for token in self.tokens):
            # bar lines alone (around chord symbols, grace notes, decorations) are no music:
            # refused as an empty body is, not read as a tune of nothing
            self.lineno = self.x_line
            detail = ": bar lines but no note or rest" if self.tokens else ""
            raise self.error(f"{NO_NOTES}{detail}", 1)
        if self.pending is not None:
            self._undo_pending_brk()
        # the dangling tie first: `tie_at` holds token indexes, which the chord pass can shift
        if self.next_carry and not self.keep_final_tie:
            self._drop_dangling_tie()
        self._drop_ties_into_other_chords()
        if self.dropped_ties:
            self.warnings.append(
                f"{self.dropped_ties} ties between notes of different pitches dropped (a tie "
                "joins one pitch; read as slurs)"
            )
        if self.dangling_ties:
            self.warnings.append(
                f"{self.dangling_ties} ties with no note to join dropped (before a rest or at "
                "the end of the tune)"
            )
        self.warnings += self._tuplet_short_of_notes()
        self.warnings += self._lone_bang_warning()
        self.warnings += self._surplus_bar_warnings()
        self.warnings += self._parts_marked_twice()
        self.warnings += self._dropped_field_warnings()
        if len(self.voices) > 1:
            dropped = ", ".join(f"V:{v}" for v in self.voices if v != self.voice)
            self.warnings.append(f"voice {dropped} dropped")
        self.warnings += self._other_voice_titles()
        key, corpus = self.key, self.corpus_format == "corpus"
        if self.corpus_format == "auto" and self._looks_like_corpus():
            key, corpus = self.key.white, True
        return AbcTune(
            fields=self.fields,
            title=self.title or "",
            key=key,
            meter=self.header_meter,
            unit=self.header_unit,
            tokens=self.tokens,
            warnings=self.warnings,
            line=self.x_line,
            x=self.x,
            original_key=key,
            voice_count=max(1, len(self.voices)),
            voice=self.voice,
            corpus_format=corpus,
            accidentals=dict(self.keysig),
            meter_changes=self.meter_changes,
            meter_symbols=self.meter_symbols,
            key_changes=self.key_changes,
            unit_changes=self.unit_changes,
            tempo_changes=self.tempo_changes,
            part_changes=self.part_changes,
            inline_parts=self.inline_parts,
            parts_after_tempo=sorted(self.parts_after_tempo),
            tempo_units=self._tempo_units(),
            markings=self.markings,
            section_titles=self.section_titles,
            program_changes=self.program_changes,
            scope_changes=self.scope_changes,
        )

    def _tempo_units(self) -> dict[int, Fraction]:
        """`AbcTune.tempo_units`: the unit each tempo change was read in (the header's where
        none was set yet), where it is not the one in force at its token."""
        read = zip(self.tempo_changes, self.tempo_units, strict=True)
        return {
            n: unit
            for n, ((at, _), written) in enumerate(read)
            if (unit := written or self.header_unit)
            != in_force_at(self.unit_changes, at, self.header_unit)
        }


def parse_abc(
    text: str,
    *,
    tune_name: str | None = None,
    corpus_format: str = "auto",
    line_offset: int = 0,
    file_header: Sequence[tuple[str, str]] = (),
    file_header_lines: Sequence[tuple[int, int]] = (),
    keep_final_tie: bool = False,
    pitch_shift: int = 0,
) -> AbcTune:
    """Parse one ABC tune. Raises `AbcParseError` (and nothing else) on malformed input (an
    empty or whitespace-only ``text`` says it is one), and a `TypeError` when ``text`` is not a
    `str`.

    `corpus_format`: `"auto"` detects the shared corpus's `K: C <mode>` placeholder (mode
    major, minor, dorian or mixolydian; every note with an explicit accidental, no flats, no
    mid-tune `K:`) and reads the key as the white-key mode;
    `"corpus"` always does so for `K: C <mode>`; `"standard"` never does.
    `line_offset` is added to line numbers (for tunes cut out of a larger text).
    `file_header`: the ``(letter, value)`` fields of the tunebook's file header
    (`file_header_fields`), applied where the tune does not set them itself.
    `file_header_lines`: the line of the tunebook each of them is on and the column of its
    value (`file_header_lines`), which a warning or an error of one names (else it names the
    tune's ``X:`` line, where it is applied).
    `keep_final_tie`: keep a tie that no note follows at the end of the text (an incipit to be
    continued, `A2-|`); a whole tune drops it, with a warning, as it does one before a rest.
    `pitch_shift`: a note whose pitch moved by that many semitones leaves MIDI's 0-127 is an
    error at that note, as one written out of it is (`refuse_moved_out_of_midi` finds where a
    transposition fails so); the tokens keep the pitches as written.

    >>> t = parse_abc("X:1\\nT:Demo\\nM:6/8\\nK:D\\nFA>B c/d/e|")
    >>> t.title, t.meter, t.unit
    ('Demo', '6/8', Fraction(1, 8))
    >>> [(k.kind, k.pitch, str(k.dur)) for k in t.tokens][:3]
    [('note', 66, '1/8'), ('note', 69, '3/16'), ('note', 71, '1/16')]
    """
    _require_text(text, "parse_abc")
    _refuse_blank(text)
    if corpus_format not in CORPUS_FORMATS:
        raise ValueError(f"corpus_format must be one of {CORPUS_FORMATS}")
    parser = _TuneParser(corpus_format, line_offset, tune_name, file_header, keep_final_tie)
    parser.pitch_shift = pitch_shift
    parser.file_header_lines = list(file_header_lines)
    try:
        return parser.parse(text)
    except AbcParseError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, ZeroDivisionError, AttributeError) as exc:
        # A parser bug, not bad input: still an AbcParseError (with position) for callers,
        # flagged `internal` so that tests can tell the two apart.
        message = f"internal error {type(exc).__name__}: {exc}"
        raise parser.error(message, internal=True) from exc


def refuse_moved_out_of_midi(
    tune: AbcTune,
    shift: int,
    how: str,
    text: str | None = None,
    line_offset: int = 0,
    file_header: Sequence[tuple[str, str]] = (),
) -> None:
    """Raise an `AbcParseError` when moving every note of ``tune`` by ``shift`` semitones takes
    one out of MIDI's 0-127 (``how`` says where it goes: ``"into B major"``): written back it
    is ABC no reader takes, and as rows a value sampling cannot place. The error is at that
    note's line and column when ``text`` (the ABC ``tune`` was read from, with
    ``line_offset`` and the book's ``file_header``, as `parse_abc` takes them) is given, else
    at the tune's X: line.

    >>> text = "X:1\\nT:High\\nK:G\\nB g''''|"
    >>> try:
    ...     refuse_moved_out_of_midi(parse_abc(text), 1, "into Ab major", text)
    ... except AbcParseError as err:
    ...     err.line, err.column, err.message
    (4, 3, 'pitch 127 moves to 128 into Ab major, outside the MIDI range 0-127')
    """
    moved = (t.pitch + shift for t in tune.tokens if t.kind == "note" and t.pitch is not None)
    bad = next((p for p in moved if not 0 <= p <= 127), None)
    if bad is None:
        return
    name = tune.title or (f"X:{tune.x}" if tune.x is not None else None)
    line: int | None = tune.line
    column: int | None = None
    if text is not None:
        try:  # read again, checking the moved pitches: the first one out stops it where it is
            parse_abc(text, line_offset=line_offset, file_header=file_header, pitch_shift=shift)
        except AbcParseError as err:
            name, line, column = err.tune or name, err.line, err.column
    raise AbcParseError(
        f"pitch {bad - shift} moves to {bad} {how}, outside the MIDI range 0-127",
        tune=name,
        line=line,
        column=column,
    )


def refuse_normalised_out_of_midi(
    tune: AbcTune,
    text: str | None = None,
    line_offset: int = 0,
    file_header: Sequence[tuple[str, str]] = (),
) -> None:
    """`refuse_moved_out_of_midi` for the move `normalise_tune` makes onto the white keys
    (`normalise_shift`): the tune that every model command and training reads, and that
    ``irish-tune check`` fails, as its rows would hold a pitch no MIDI note has.

    >>> text = "X:1\\nT:Low\\nK:D\\nD C,,,,,|"
    >>> try:
    ...     refuse_normalised_out_of_midi(parse_abc(text), text)
    ... except AbcParseError as err:
    ...     err.line, err.column, err.message
    (4, 3, 'pitch 1 moves to -1 when the tune goes from D major onto the white keys (C major), \
outside the MIDI range 0-127')
    """
    how = f"when the tune goes from {tune.key.name} onto the white keys ({tune.key.white.name})"
    shift = normalise_shift(tune.key)
    refuse_moved_out_of_midi(tune, shift, how, text, line_offset, file_header)


def _require_text(text: object, caller: str) -> None:
    """Raise a `TypeError` naming ``caller`` unless ``text`` is a `str` (bytes, None...)."""
    if not isinstance(text, str):
        hint = " (decode it first, e.g. data.decode('utf-8'))" if isinstance(text, bytes) else ""
        raise TypeError(f"{caller} reads ABC text, a str; got {type(text).__name__}{hint}")


def _refuse_blank(text: str) -> None:
    """Raise an `AbcParseError` at line 1, column 1 when ``text`` is empty or only whitespace,
    saying so: "tune has no notes" would read as an ABC tune without music, where a
    dataset's empty cell or an unfilled string is no tune at all.

    >>> try:
    ...     _refuse_blank(" \\n ")
    ... except AbcParseError as err:
    ...     err.line, err.column, err.message
    (1, 1, 'the text is only whitespace (3 characters), not an ABC tune')
    """
    if text.strip():
        return
    n = len(text)
    what = f"only whitespace ({n} character{'s' * (n != 1)})" if n else "an empty string"
    raise AbcParseError(f"the text is {what}, not an ABC tune", line=1, column=1)


def parse_tunebook(text: str) -> Iterator[AbcTune | AbcParseError]:
    """Split a tunebook on `X:` lines and yield each tune, or the `AbcParseError` it raised.

    Free text between tunes is ignored; a blank line ends a tune, and a tune followed by
    lines of music in the free text after it warns that they are not read, as `parse_abc`
    does (`split_tunebook_noted`). A block without an `X:`
    line whose header has a `K:` field and music after it is a tune too (`split_tunebook`),
    between numbered tunes as in a book without `X:` lines. The fields of a file header
    (before the first `X:`, e.g. ``M:`` or ``L:``) apply to every tune that does not set them;
    a transposing directive there (``%%MIDI transpose 2``), not read, is said once, in the
    first tune's warnings (`file_header_transposes`).
    A ``text`` that is not a `str` is a `TypeError` at the call, before any tune is read.

    >>> book = "X:1\\nK:G\\nGAB|\\n\\nfree text\\n\\nX:2\\nK:G\\nG<<A|"
    >>> [len(t.tokens) for t in parse_tunebook(book)]
    [4, 3]
    """
    _require_text(text, "parse_tunebook")
    return _tunebook_tunes(text)


def _tunebook_tunes(text: str) -> Iterator[AbcTune | AbcParseError]:
    """The tunes of `parse_tunebook`, read as they are asked for."""
    said, chunks = tunebook_chunks(text)  # once for the file: the first tune read says them
    for chunk in chunks:
        tune = read_chunk(chunk)
        if isinstance(tune, AbcParseError):
            yield tune
            continue
        tune.warnings[:0], said = said, []
        yield tune


@dataclass(frozen=True)
class TuneChunk:
    """The text of one tune of a tunebook, as `parse_tunebook` cuts it out (`tunebook_chunks`):
    the line of the book it starts at (``start``), its ``text``, the ``notes`` of what the cut
    left out (`split_tunebook_noted`), the book's ``file_header`` fields and the lines (and
    columns) they are on (``file_header_lines``). `read_chunk` reads it alone, so the tunes of
    a book can be read apart (in other processes: it pickles)."""

    start: int
    text: str
    notes: tuple[str, ...]
    file_header: tuple[tuple[str, str], ...]
    file_header_lines: tuple[tuple[int, int], ...] = ()


def tunebook_chunks(text: str) -> tuple[list[str], Iterator[TuneChunk]]:
    """The warnings of the file header of a tunebook (a transposing directive, not read:
    `file_header_transposes`), which `parse_tunebook` puts first among the warnings of the
    first tune it reads, and its tunes' texts (`TuneChunk`), cut as they are asked for.

    >>> said, chunks = tunebook_chunks("M:6/8\\n\\nX:1\\nK:G\\nGAB|\\n\\nX:2\\nK:D\\nDFA|")
    >>> said, [(chunk.start, chunk.file_header) for chunk in chunks]
    ([], [(2, (('M', '6/8'),)), (6, (('M', '6/8'),))])
    """
    _require_text(text, "tunebook_chunks")
    # the text as `split_tunebook` reads it, so that the file header is found in CR files too
    text = unix_text(text)
    header, lines = tuple(file_header_fields(text)), tuple(file_header_lines(text))
    chunks = (
        TuneChunk(start, chunk, tuple(notes), header, lines)
        for start, chunk, notes in split_tunebook_noted(text)
    )
    return file_header_transposes(text), chunks


def read_chunk(chunk: TuneChunk) -> AbcTune | AbcParseError:
    """The tune of a `TuneChunk`, or the `AbcParseError` it raised, as `parse_tunebook`
    reads it but for the file header's warnings (`tunebook_chunks`)."""
    try:
        tune = parse_abc(
            chunk.text,
            line_offset=chunk.start,
            file_header=chunk.file_header,
            file_header_lines=chunk.file_header_lines,
        )
    except AbcParseError as err:
        return err
    # what the cut left out of `chunk` (music after its blank line, an unclosed text block
    # before it); an unclosed block inside it `parse_abc` has named already
    tune.warnings += [note for note in chunk.notes if note not in tune.warnings]
    return tune
