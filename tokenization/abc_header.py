"""ABC header and field handling: `M:`/`L:`/`K:`/`V:` values, the unit default, the fields of
the body. The tunebook's lines and fields are abc_field_lines.py's, its file header and its cut
into tunes abc_tunebook.py's, the titles abc_titles.py's, the directives that change how the
tune is read and the file header's fields it inherits abc_header_directives.py's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import TypeVar

from .abc_field_lines import (
    HeaderSpan,
    abc_lines,
    field_match,
    field_value,
    header_fields,
    header_span,
    prose_word,
    stray_line_warning,
    strip_comment,
    x_number,
)
from .abc_header_directives import HeaderDirectives
from .abc_lexer import clipped, read_number, shown, user_symbol
from .abc_tempo import tempo_form_warning
from .abc_titles import TitleFields, continued_values, header_title, text_tune_name, tune_name
from .abc_tune import METER_RE, WRITTEN_METER_SYMBOLS, in_force_at, meter_as_written
from .abc_tunebook import (
    NO_ENDTEXT,
    NOT_READ_AFTER_BLANK,
    bang_is_line_break,
    begintext_warning,
    blank_line_warning,
    directive_fields,
    file_header_fields,
    file_header_transposes,
    fold_lines,
    needs_folding,
    split_tunebook,
    split_tunebook_noted,
    transpose_directive_warning,
    tune_end,
    unnumbered_tunes,
    with_file_header,
)
from .keys import Key, octave_option, parse_key_field

# the tunebook names (abc_field_lines.py, abc_tunebook.py) and the titles' (abc_titles.py) are
# re-exported: the package, its tests, benchmarks and docs import them from here
__all__ = [
    "MAX_METER_PART",
    "abc_lines",
    "bang_is_line_break",
    "directive_fields",
    "NO_ENDTEXT",
    "NOT_READ_AFTER_BLANK",
    "default_unit",
    "file_header_fields",
    "file_header_transposes",
    "fold_lines",
    "HeaderSpan",
    "header_span",
    "header_title",
    "needs_folding",
    "parse_meter",
    "begintext_warning",
    "blank_line_warning",
    "split_tunebook",
    "split_tunebook_noted",
    "text_tune_name",
    "tune_end",
    "tune_name",
    "unnumbered_tunes",
    "with_file_header",
    "x_number",
    "HeaderFields",
    "lines_listed",
    "NO_KEY",
]

#: What the reader says of a tune without ``K:`` (ABC 2.1: the field that ends the header, and
#: required): ``no K: field: read as C major (line N)``, at the tune's ``X:`` line; `irish-tune
#: check` prints it (`reader_warnings.SHOWN_KINDS`), `identify` does not where no score reads
#: the key (`scored_read_warnings`)
NO_KEY = "no K: field: read as C major"

#: the field letters of ABC 2.1 (§3.1), and ``+:``, which continues the field before it
_FIELD_LETTERS = frozenset("ABCDFGHIKLMmNOPQRrSsTUVWwXZ+")
#: What the ABC 2.1 fields (§3.1) that the reader does not read in the body hold, by letter: one
#: there (a field line after the music starts, or inline, ``[W:...]``) is dropped with a warning
#: (`HeaderFields._dropped_field_warnings`); a remark (``r:``) is ignored by design, as a comment
_NOT_READ_IN_BODY = {
    "A": "area",
    "B": "book",
    "C": "composer",
    "D": "discography",
    "F": "file URL",
    "G": "group",
    "H": "history",
    "I": "instruction",
    "m": "macro",
    "N": "notes",
    "O": "origin",
    "R": "rhythm",
    "S": "source",
    "s": "symbol line",
    "W": "words",
    "w": "lyrics",
    "X": "reference number",
    "Z": "transcription",
}
_VOICE_RE = re.compile(r"\[V:\s*([^\]\s]*)[^\]]*\]")
#: an inline ``[T:...]``, ``[U:...]`` or ``[I:...]`` and its value, in music not read
#: (`_skipped_music`)
_SKIPPED_FIELD_RE = re.compile(r"\[([TUI]):([^\]]*)\]")
_CORPUS_KEY_RE = re.compile(r"\s*C\s+(major|minor|dorian|mixolydian)\s*", re.I)
_V = TypeVar("_V")  # the value of a recorded change: a meter, unit or key
#: the largest numerator (an additive one summed) and denominator of an ``M:`` meter: well above
#: any real meter (the largest in thesession, O'Neill's, Ryan's and music21's ABC is 12/8); a
#: huge one is a typo, and the measure features build a list as long as its numerator
MAX_METER_PART = 64


def parse_meter(value: str) -> str | None:
    """The meter of an ``M:`` value as ``N/D`` (None for free meter); a `ValueError` for
    one that cannot be read (an additive one with unbalanced brackets, ``(2+3/8``, too), is
    zero or has a part that is (``0+5/8``), or has a numerator or denominator above
    `MAX_METER_PART` (64).

    >>> [parse_meter(v) for v in ("4/4", "C", "C|", "none", "2+3/8", "(2+3+2)/8")]
    ['4/4', '4/4', '2/2', None, '5/8', '7/8']
    >>> parse_meter("2+3)/8")
    Traceback (most recent call last):
    ...
    ValueError: cannot read meter '2+3)/8' (unbalanced brackets)
    """
    v = value.replace(" ", "")
    if v in ("", "none", "None", "NONE"):
        return None
    if v in WRITTEN_METER_SYMBOLS:  # common and cut time, ``C`` and ``C|``
        return WRITTEN_METER_SYMBOLS[v]
    m = METER_RE.fullmatch(v)
    if m is None:
        hint = " (unbalanced brackets)" if v.count("(") != v.count(")") else ""
        raise ValueError(f"cannot read meter {shown(value.strip())}{hint}")
    # `read_number` checks the count of digits first: `int` raises on more than 4,300
    parts = [read_number(part, MAX_METER_PART) for part in m[2].split("+")]
    counts = [part for part in parts if part is not None]
    num = sum(counts) if len(counts) == len(parts) else None
    den = read_number(m[3], MAX_METER_PART)
    if num == 0 or den == 0:
        raise ValueError(f"zero meter {shown(value.strip())}")
    if 0 in counts:  # ``0+5/8``: a group of no beats
        raise ValueError(f"zero part in additive meter {shown(value.strip())}")
    if num is None or den is None or num > MAX_METER_PART:
        raise ValueError(
            f"meter {shown(value.strip())} too large (numerator and denominator at most "
            f"{MAX_METER_PART})"
        )
    return f"{num}/{den}"


def _parse_unit(value: str) -> Fraction:
    m = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+))?\s*", value)
    num, den = (None, None) if m is None else (read_number(m[1]), read_number(m[2] or "1"))
    if not num or not den:  # unreadable, zero, or beyond int64 (`int` raises on 4,300+ digits)
        raise ValueError(f"cannot read unit length {shown(value.strip())}")
    return Fraction(num, den)


def default_unit(meter: str | None) -> Fraction:
    """Unit note length when a tune has no `L:` field: 1/16 below 3/4, else 1/8 (ABC 2.1).

    >>> default_unit("2/4"), default_unit("3/4"), default_unit(None)
    (Fraction(1, 16), Fraction(1, 8), Fraction(1, 8))
    """
    short = meter is not None and Fraction(meter) < Fraction(3, 4)
    return Fraction(1, 16) if short else Fraction(1, 8)


def _unknown_header_field(letter: str, line: int) -> str:
    """The warning for a header field line whose ``letter`` is no ABC 2.1 field's, naming the
    field it likely means where that is the same letter upper case (field letters are case
    sensitive: ``k:D`` gives no key).

    >>> _unknown_header_field("k", 3)
    'unknown field k: (not an ABC 2.1 field letter; did you mean K:?) ignored (line 3)'
    """
    hint = f"; did you mean {letter.upper()}:?" if letter.upper() in _FIELD_LETTERS else ""
    return f"unknown field {letter}: (not an ABC 2.1 field letter{hint}) ignored (line {line})"


class HeaderFields(TitleFields, HeaderDirectives):
    """Header and field handling of `_TuneParser` (the parser subclasses this; the titles'
    methods are `TitleFields`', the directives' and the file header's `HeaderDirectives`').

    The parser supplies the state these methods read and write (`fields`, `key`, `meter`,
    `voices`...), `error` for positioned errors, `_set_unit` and `_lex`.
    """

    def _parse_header(self, lines: list[str]) -> int:
        """Read the header's field lines; return the index of the first line of music.

        The header ends with ``K:`` (ABC 2.1), where the file header's fields it does not set
        apply (`_inherit`); the field lines after it and before the music are read here too,
        as the body's start (`_body_start_field`). A line before ``K:`` that
        is not a field but that field lines follow up to ``K:`` (a bare ``N``, ``I :: ::``) is
        stray text in the header, passed over with a warning (`header_span`). A blank
        line before ``K:`` that is not followed by more fields ends the tune (ABC 2.1: text
        after it is free text, not music); `ended` says so. Music after ``K:`` and a blank line
        is read, but not text there (a tune without notes, its text refused as it is without
        ``K:``). `header_span` says which lines are the header, stray or music (render uses it
        too)."""
        span, fields = header_fields(lines)
        values = continued_values(fields)
        seen_x = seen_k = False  # only the first X: gives the tune number
        blank_after_k: int | None = None  # the first blank line after K:
        section_title: tuple[str, int] | None = None  # the first T: after K:, and its line
        for i in range(span.end):
            self.lineno, self.col = self.line_offset + i + 1, 1
            m = fields.get(i)
            if m is None:  # stray text, or a blank or comment line (`header_span`)
                if i in span.stray:
                    self.warnings.append(stray_line_warning(self.lineno, strip_comment(lines[i])))
                elif seen_k and blank_after_k is None and "%" not in lines[i]:
                    blank_after_k = i
                self._header_directive(lines[i])  # `%%linebreak !`: the I: field it equals
                continue
            if i not in values:  # a `+:` line, read with the field line before it
                continue
            letter, value = m[1], values[i]
            self.col = m.start(2) + 1 + (len(m[2]) - len(m[2].lstrip()))
            if letter == "X" and not seen_x:
                seen_x, self.x_line = True, self.lineno
                # None for `X:abc` and beyond int64, as the corpus's `x` (`read_number`: `int`
                # raises on more than 4,300 digits, and on `X:²`, which `isdigit` takes)
                self.x = read_number(value) if value.isdecimal() else None
            if letter == "T" and self.title is None:
                if not seen_k:
                    self.title = value
                elif section_title is None:  # a section's (ABC 2.1), the title if none before
                    section_title = (value, self.lineno)
            if seen_k and self._body_start_field(letter, value):
                continue
            if letter not in _FIELD_LETTERS:  # `k:D` typed for `K:D` was dropped unsaid
                self.warnings.append(_unknown_header_field(letter, self.lineno))
            self.fields.setdefault(letter, []).append(value)
            self._header_field(letter, value)
            if letter == "K" and not seen_k:  # the header ends: the file header's defaults
                seen_k = True
                self._inherit(self.file_header, lines[: span.end])
        if not seen_k:
            self._inherit(self.file_header, lines[: span.end])
        if self.title is None and section_title is not None:
            self._title_after_key(*section_title)
        if span.ended:
            self.ended = True
            return len(lines)
        if span.end < len(lines) and field_match(strip_comment(lines[span.end])) is None:
            self.lineno, self.col = self.line_offset + span.end + 1, 1  # the first line of music
            if not seen_k:
                self._refuse_prose(lines, span.end, "no K: field")
                self.warnings.append(f"{NO_KEY} (line {self.x_line})")
            elif blank_after_k is not None:
                line_no = self.line_offset + blank_after_k + 1
                self._refuse_prose(lines, span.end, f"blank line {line_no} after K:")
        return span.end

    def _body_start_field(self, letter: str, value: str) -> bool:
        """Read a field line between ``K:`` and the music, a field of the body's start (ABC 2.1:
        the header ends with ``K:``, abc2midi plays them so); True when it is not a header field.

        ``Q:`` and ``P:`` are body changes at the first token (`AbcTune.tempo_changes`,
        `AbcTune.part_changes`), not the header's tempo or order of parts, and a ``T:`` titles
        the first section (`AbcTune.section_titles`; the tune only when its header has no
        ``T:``, `_title_after_key`). ``M:``, ``L:`` and
        ``K:`` stay header fields: the tune starts in that meter, unit and key (the rows
        hold no change at the start), but an ``M:`` there does not set the default unit,
        which is the header's meter's (`_default_unit`). Other fields (``W:``, ``N:``,
        ``I:``...) are kept in `fields` as metadata."""
        if letter in ("Q", "P"):
            self._inline_field(letter, value, inline=False)
            return True
        if letter == "T":
            self.section_titles.append((len(self.tokens), value))
            return True
        if letter == "M" and not self.meter_after_k:
            self.meter_after_k, self.meter_at_k = True, self.meter
        return False

    def _default_unit(self) -> Fraction:
        """The unit of a tune without ``L:`` (`default_unit`) by the header's meter, the one
        in force at ``K:``: an ``M:`` after ``K:`` changes the meter, not the unit (abc2midi)."""
        return default_unit(self.meter_at_k if self.meter_after_k else self.meter)

    def _refuse_prose(self, lines: list[str], start: int, where: str) -> None:
        """A body (from ``lines[start]`` to a blank line) that holds words is text, not music:
        raise, the error opening with ``where`` (a word is 4+ letters with 2+ that no note,
        rest or decoration is written with; quoted text, !..! decorations and inline fields
        aside)."""
        for i in range(start, len(lines)):
            line = strip_comment(lines[i])
            if not line.strip():
                break
            word = prose_word(line)
            if word is not None:
                self.lineno, self.col = self.line_offset + i + 1, word.start() + 1
                raise self.error(f"{where}, and {word[0]!r} reads as text, not music")

    def _header_field(self, letter: str, value: str) -> None:
        try:
            if letter == "M":
                self.meter = parse_meter(value)
            elif letter == "L":
                self.unit = _parse_unit(value)
            elif letter == "K":
                self.key_text = value
                self._set_key(value, header=True)
            elif letter == "V":
                self._declare_voice(value)
            elif letter == "U":
                self._define_symbol(value, None)
            elif letter == "Q":
                self._tempo_form(value, None)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def _define_symbol(self, value: str, column: int | None) -> None:
        """Read the ``U:`` field ``value`` (`user_symbol`: ``U: W = !trill!``): the letter is
        that decoration from here on, in the header or the body, a standard one (``T``, ``~``)
        redefined too; a ``U:`` that cannot be read is passed over with a warning naming its
        line (and ``column``, inline), not an error: a decoration changes no note. ``U:`` was
        not read, and a letter it defined was said to be an unknown decoration."""
        try:
            symbol, decoration = user_symbol(value)
        except ValueError as exc:
            where = f"line {self.lineno}" + ("" if column is None else f", column {column}")
            self.warnings.append(f"{exc}: ignored ({where})")
            return
        self.user_symbols[symbol] = decoration

    def _set_key(self, value: str, header: bool) -> None:
        spec = parse_key_field(value)
        self.warnings.extend(spec.warnings)
        if spec.octave is not None:
            self.octave = 12 * spec.octave
        if not spec.has_tonic and (self.key_given or not header):
            return  # clef options only (`[K:bass]`): the key in force stays (abc2midi, music21)
        self.key_given = True
        is_corpus_key = _CORPUS_KEY_RE.fullmatch(value.split("%")[0]) is not None
        if header:
            self.key = spec.key
            if self.corpus_format == "corpus" and is_corpus_key:
                self.key = spec.key.white
                self.keysig = self.key.accidentals
                return
        else:
            self.key_changed = True
            self.warnings.append(f"mid-tune key change to {spec.key.name}")
            self._change_key(spec.key)
            self.bar_acc = {}  # the bar's accidentals end with its key (abc2midi, music21)
        self.keysig = spec.accidentals

    def _declare_voice(self, value: str) -> None:
        """A header ``V:`` declares a voice and its options (ABC 2.1 §7: in the header, ``V:``
        defines properties; in the body it selects the voice): it starts no voice, and its
        ``octave=`` applies once the voice is the kept one (`_keep_voice`)."""
        vid = value.split()[0] if value.split() else ""
        if vid not in self.declared:
            self.declared.append(vid)
        self.declared_options[vid] = (value, self.lineno, self.col)

    def _keep_voice(self, vid: str) -> None:
        """Make ``vid`` the kept voice, with the ``octave=`` of its header declaration."""
        self.voice = vid
        if vid not in self.voices:
            self.voices.append(vid)
        if vid in self.declared_options:
            value, line, col = self.declared_options[vid]
            here = self.lineno, self.col
            self.lineno, self.col = line, col  # an error is the declaration's
            try:
                self._voice_octave(vid, value)
            except ValueError as exc:
                raise self.error(str(exc)) from None
            self.lineno, self.col = here

    def _voice_octave(self, vid: str, value: str) -> None:
        """``octave=N`` on a ``V:`` line of the kept voice: its notes sound N octaves from where
        they are written, as after ``K: octave=N`` (abc2midi); other voices' are not read."""
        if vid != self.voice:
            return
        octave = octave_option(value, value.strip(), field="voice")
        if octave is not None:
            self.octave = 12 * octave

    def _implicit_voice(self) -> None:
        """Music before any body ``V:`` is voice 1 (as abc2midi numbers voices, and the first
        voice kept): the voice the header declares ``V:1``, else one it declares first by
        name (``V:T1``, ``V:Melody``), never one of another number: after a header ``V:2``
        such music is not voice 2's, and a body ``V:2`` starts a second voice."""
        if self.voice is None:
            named = [v for v in self.declared[:1] if not v.isdigit()]
            self._keep_voice("1" if "1" in self.declared or not named else named[0])

    def _switch_voice(self, value: str) -> None:
        vid = value.split()[0] if value.split() else ""
        if vid not in self.voices:
            self.voices.append(vid)
        if self.voice is None:  # the body opens with a V:: the first voice declared is kept
            self._keep_voice(self.declared[0] if self.declared else vid)
        self.skipping, self.current_voice = vid != self.voice, vid
        try:
            self._voice_octave(vid, value)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def _voice_segments(self, line: str) -> None:
        pos = 0
        for m in _VOICE_RE.finditer(line):
            if not self.skipping:
                if line[pos : m.start()].strip():
                    self._implicit_voice()
                self._lex(line, pos, m.start())
            else:
                self._skipped_music(line, pos, m.start())
            self.col = m.start() + 1
            self._switch_voice(m[0][3:-1])  # the whole value: `[V:1 octave=-1]`
            pos = m.end()
        if not self.skipping:
            self._lex(line, pos, len(line))
        else:
            self._skipped_music(line, pos, len(line))

    def _skipped_music(self, line: str, start: int = 0, end: int | None = None) -> None:
        """Read the inline fields of ``line[start:end]``, music of a voice that is not kept,
        that are the tune's, not the voice's: a ``[T:...]`` (`_other_voice_title`), a
        ``[U:...]`` (`_other_voice_symbol`) and an ``[I:propagate-accidentals ...]``
        (`_voice_directive`, as its ``I:`` line there), in the order written; any other
        ``[I:...]`` (``[I:linebreak !]``, ``[I:MIDI transpose -2]``) is said as its ``I:`` line
        there is, with its column (it was ignored unsaid); the music is not read."""
        for m in _SKIPPED_FIELD_RE.finditer(line, start, len(line) if end is None else end):
            self.col = m.start() + 1
            column = self._field_column(True)  # as written (`=3D` cuts counted)
            if m[1] == "T":
                self._other_voice_title(field_value(m[2]))
            elif m[1] == "U":
                self._other_voice_symbol(m[2], column)
            elif m[2].split()[:1] == ["propagate-accidentals"]:
                self._voice_directive(m[2], column)
            else:  # said not read or dropped, as its `I:` line there (`_body_field`)
                self._transpose_directive(m[0])
                self._drop_field("I", m[2], inline=True)

    def _body_field(self, letter: str, value: str, column: int) -> None:
        self.col = column
        if letter == "X":  # a tunebook without blank lines: `parse_tunebook` cuts it at X:
            self.col = 1
            raise self.error("X: starts another tune here; read tunebooks with parse_tunebook")
        if letter == "V":
            self._switch_voice(value.strip())
            return
        if self.skipping:  # a field line among a voice not kept
            if letter == "T":
                self._other_voice_title(field_value(value))
            elif letter == "I" and value.split()[:1] == ["propagate-accidentals"]:
                self._voice_directive(value)  # the tune's, not the voice's
            elif letter == "I":  # `I:linebreak !`: said dropped, as `%%linebreak` is there
                self._drop_field(letter, value, inline=False)
            elif letter == "U":  # the tune's symbols, not a voice's (`_other_voice_symbol`)
                self._other_voice_symbol(value, None)
            return
        if letter == "I" and self._program_change(value):  # `I:MIDI program 20`: played
            return
        self._inline_field(letter, value, inline=False)

    def _other_voice_symbol(self, value: str, column: int | None) -> None:
        """A ``U:`` field line, or an inline ``[U:...]`` at ``column``, among the lines of a
        voice not kept: ABC 2.1 (§4.16) defines ``U:`` for a file or a tune and gives it no
        voice's scope, so, as a directive line there (`_voice_directive`), it is the tune's from
        where it stands and applies to the voice kept, said with its line (and column, inline).
        It was ignored without a word, and a letter it defined then dropped as an unknown
        decoration."""
        field = f"U:{clipped(value.strip())}"
        where = f"line {self.lineno}" + ("" if column is None else f", column {column}")
        self.warnings.append(
            f"{field if column is None else f'[{field}]'} among the lines of voice "
            f"V:{self.current_voice}, not kept, applies to voice V:{self.voice} from here ({where})"
        )
        self._define_symbol(value, column)

    def _inline_field(self, letter: str, value: str, inline: bool = True) -> None:
        """Read a field of the body: inline (``[M:3/4]``), or a field line (``inline`` false).
        One the reader does not read is dropped with a warning (`_drop_field`), an ``r:``
        remark aside."""
        if letter not in _FIELD_LETTERS:  # a typo, or a letter of some program's own
            column = self._field_column(inline)
            where = f"line {self.lineno}" + ("" if column is None else f", column {column}")
            self.warnings.append(
                f"unknown field {letter}: (not an ABC 2.1 field letter) ignored ({where})"
            )
            return
        if letter == "T":
            self._section_title(field_value(value))
            return
        if letter == "I" and value.split()[:1] == ["propagate-accidentals"]:
            self._change_accidental_scope(value, self._field_column(inline))
            return
        if letter == "U":
            self._define_symbol(value, self._field_column(inline))
            return
        if letter in _NOT_READ_IN_BODY:
            self._drop_field(letter, value, inline)
            return
        try:
            if letter == "K":
                self._set_key(value, header=False)
            elif letter == "L":
                self._change_unit(_parse_unit(value))
            elif letter == "M":
                meter = parse_meter(value)
                if meter != self.meter:
                    self.warnings.append(
                        f"mid-tune meter change to {meter or 'none (free meter)'}: read "
                        "(tuplets, rests, bar checks), "
                        "but the measure features keep the header's M:"
                    )
                    self._change_meter(meter, value)
            elif letter == "Q":
                self._tempo_form(value, self._field_column(inline))
                self._change_tempo(field_value(value))
            elif letter == "P":  # a part starts: `render.to_midi` plays the header P:'s order
                at = len(self.tokens)
                if self.tempo_changes and self.tempo_changes[-1][0] == at:
                    self.parts_after_tempo.add(len(self.part_changes))
                self.part_changes.append((at, field_value(value)))
                self.part_lines.append(self.lineno)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def _drop_field(self, letter: str, value: str, inline: bool) -> None:
        """Note that a field of the body that the reader does not read (`_NOT_READ_IN_BODY`) is
        dropped, where it stands: said once a letter (`_dropped_field_warnings`). A
        transposing ``I:`` is said already (`_transpose_directive`)."""
        if letter == "I" and transpose_directive_warning(f"I:{value}", 0) is not None:
            return
        self.dropped_fields.setdefault(letter, []).append((self.lineno, self._field_column(inline)))

    def _field_column(self, inline: bool) -> int | None:
        """The column of the inline field being read, for a warning, as written (`=3D` cuts
        counted, `error`); None for a field line, whose line is said alone."""
        return self.written_column() if inline else None

    def _dropped_field_warnings(self) -> list[str]:
        """One warning for each letter of the fields of the body that were dropped
        (`_drop_field`), naming where they stood: the line and column of one, the lines of
        several.

        >>> from tokenization.abc_parser import parse_abc
        >>> parse_abc("X:1\\nT:t\\nK:G\\nGA [N:slowly] B|\\nW:Words\\nW:more\\n").warnings
        ['N: field (notes) in the body not read: dropped (line 4, column 4)', \
'W: fields (words) in the body not read: dropped (lines 5 and 6)']
        """
        said = []
        for letter, places in self.dropped_fields.items():
            what = f"{letter}: field ({_NOT_READ_IN_BODY[letter]})"
            if len(places) == 1:
                line, column = places[0]
                where = f"line {line}" + ("" if column is None else f", column {column}")
            else:
                what = what.replace("field", "fields", 1)
                where = lines_listed([line for line, _ in places])
            said.append(f"{what} in the body not read: dropped ({where})")
        return said

    def _change_meter(self, meter: str | None, written: str) -> None:
        """Record a meter change (a later change at the same token replaces it), and the
        symbol it was ``written`` as, ``C`` or ``C|``, or its additive spelling, ``2+3/8``
        (`AbcTune.meter_symbols`)."""
        at = len(self.tokens)
        _replace_change(self.meter_changes, at).append((at, meter))
        self.meter = meter
        symbol = meter_as_written(written, meter)
        if symbol != meter and symbol is not None:
            self.meter_symbols[at] = symbol
        else:
            self.meter_symbols.pop(at, None)

    def _change_unit(self, unit: Fraction) -> None:
        """Read the notes from here on in ``unit`` and record the change where it differs from
        the unit in force (a later change at the same token replaces it; one back to the unit
        before it there is none)."""
        at = len(self.tokens)
        changes = _replace_change(self.unit_changes, at)
        before = in_force_at(changes, at, self.header_unit)
        if unit != before:
            changes.append((at, unit))
        self._set_unit(unit)

    def _change_key(self, key: Key) -> None:
        """Record a mid-tune key change (a later change at the same token replaces it)."""
        at = len(self.tokens)
        _replace_change(self.key_changes, at).append((at, key))

    def _tempo_form(self, value: str, column: int | None, where: str = "") -> None:
        """Say where a ``Q:`` field (``value``, its text as written) on the line being read, at
        ``column`` (None for a field line), or at ``where`` (a file header's, `_inherit`), has
        a beat that is not ABC 2.1: read as abc2midi reads it, or not read
        (`tempo_form_warning`)."""
        if not where:
            where = f"line {self.lineno}" + ("" if column is None else f", column {column}")
        said = tempo_form_warning(field_value(value), where)
        if said is not None:
            self.warnings.append(said)

    def _change_tempo(self, tempo: str, unit: Fraction | None = None) -> None:
        """Record a tempo change, its ``Q:`` text as written (a later change at the same token
        replaces it, unless a part written between them starts there: the first then ends the
        part before, `AbcTune.parts_after_tempo`), and ``unit``, the unit it is read in: by
        default the one in force now, where it is written (`AbcTune.tempo_units`); the tokens
        and rows do not carry tempo, `render.to_midi` plays it."""
        changes, at, parts = self.tempo_changes, len(self.tokens), self.part_changes
        ends_part = (  # the change at `at` is the first there, and a part written after it
            bool(parts)
            and parts[-1][0] == at
            and len(parts) - 1 in self.parts_after_tempo
            and (len(changes) < 2 or changes[-2][0] != at)
        )
        if changes and changes[-1][0] == at and not ends_part:
            changes.pop()
            self.tempo_units.pop()
        changes.append((at, tempo))
        self.tempo_units.append(self.unit if unit is None else unit)

    def _looks_like_corpus(self) -> bool:
        return (
            self.n_bare == 0
            and self.n_notes > 0
            and not self.used_flat
            and not self.key_changed
            and _CORPUS_KEY_RE.fullmatch(self.key_text.split("%")[0]) is not None
        )


def _replace_change(changes: list[tuple[int, _V]], at: int) -> list[tuple[int, _V]]:
    """``changes`` (``(token index, value)``, in order) without its last change where that one is
    at token ``at``, which the change about to be recorded there replaces.

    >>> _replace_change([(0, "3/4"), (4, "6/8")], 4), _replace_change([(0, "3/4")], 4)
    ([(0, '3/4')], [(0, '3/4')])
    """
    if changes and changes[-1][0] == at:
        changes.pop()
    return changes


def lines_listed(numbers: Sequence[int]) -> str:
    """The line ``numbers`` (in order, a line given twice once) in words for a warning, the
    first three and a count when there are more than four.

    >>> lines_listed([7, 7]), lines_listed([7, 11]), lines_listed([3, 7, 11])
    ('line 7', 'lines 7 and 11', 'lines 3, 7 and 11')
    >>> lines_listed(range(1, 10))
    'lines 1, 2, 3... (9 lines)'
    """
    words = [str(n) for n in dict.fromkeys(numbers)]
    if len(words) == 1:
        return f"line {words[0]}"
    if len(words) > 4:
        return f"lines {', '.join(words[:3])}... ({len(words)} lines)"
    return f"lines {', '.join(words[:-1])} and {words[-1]}"
