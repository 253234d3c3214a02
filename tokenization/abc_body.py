"""The body walk of the ABC reader: the `_TuneParser` methods that read the music lines.

The lines after the header, field lines and ``+:`` continuations among them, and the lexer's
hot loop (`BodyWalk._lex_piece`) that turns a line of music into tokens; voice overlays
(``&``, skipped to their bar line), and the warnings said while reading: transposing
directives, unknown ``!..!`` decorations, lone ``!`` read as line breaks.
"""

from __future__ import annotations

import re

from .abc_bars import bar_token
from .abc_field_lines import field_match, strip_comment
from .abc_lexer import (
    BODY_RE,
    DECORATIONS,
    IGNORED,
    MUSIC_GROUPS,
    NOTE_PARTS,
    QP_EQUALS_RE,
    QP_TAIL_RE,
    clipped,
    colon_ending,
    note_parts,
    repeat_start_dropped,
    stray_bar_bracket,
    surplus_bar_marks,
    unknown_decoration,
)
from .abc_parser_state import ParserState
from .abc_tune import Token
from .abc_tunebook import directive_fields, propagate_accidentals, transpose_directive_warning

# BANG_LINE_BREAK and BARE_FIELD are re-exported by abc_parser, where check.py takes them from
__all__ = [
    "BANG_LINE_BREAK",
    "BARE_FIELD",
    "BodyWalk",
]

#: what the warning of an unknown ``!..!`` decoration that holds music says (`check_text` logs
#: those warnings: music was dropped)
BANG_LINE_BREAK = "a `!` that breaks the line needs I:linebreak !"
#: what the warning of a field written inside a line without brackets says (`_bare`: read as
#: the inline field, a guess; `check_text` logs it)
BARE_FIELD = "an inline field is written in brackets"
#: the opening of an inline field (``[K:``), at a ``[`` `BODY_RE` reads as no field: no ``]``
_OPEN_FIELD_RE = re.compile(r"\[[A-Za-z]:")
#: the name a ``!`` with no closing ``!`` is followed by (``!trill``: `_lone_bang`)
_NAME_AFTER_BANG_RE = re.compile(r"[^!\s|]+")


def _continued(lines: list[str], i: int, value: str, taken: set[int]) -> str:
    """``value``, that of the field line ``lines[i]`` of the body, with the values of the
    ``+:`` lines that continue it joined on, a space between (ABC 2.1: ``+:`` continues the
    field line just above it; comment lines between are passed over), as the header's are
    (`continued_values`); their indexes are added to ``taken``. A ``Q:`` or ``P:`` line's
    continuation was dropped without a word.

    >>> _continued(["Q:1/4=60", "% slower", '+:"slowly"', "DE|"], 0, "1/4=60", set())
    '1/4=60 "slowly"'
    """
    for j in range(i + 1, len(lines)):
        line = strip_comment(lines[j])
        if not line.strip():
            if "%" in lines[j]:  # a comment line
                continue
            break
        m = field_match(line)
        if m is None or m[1] != "+":
            break
        value = f"{value.rstrip()} {m[2].strip()}"
        taken.add(j)
    return value


class BodyWalk(ParserState):
    """The body walk of `_TuneParser` (the parser subclasses this): its lines, the hot loop
    of the lexer, overlays and the warnings said while reading.

    The parser supplies the state these methods read and write (`tokens`, `lens`, `keysig`,
    `bar_acc`, `carry`, `pending`, `in_chord`, `warnings`, `lineno`, `col`...) and the other
    topic methods they call (`_body_field`, `_merged_bar`, `_drop_tie`, `_len`...).
    """

    def _parse_body(self, lines: list[str], start: int) -> None:
        started = False
        continuations: set[int] = set()  # the `+:` lines joined to a field line above them
        for i in range(start, len(lines)):
            self.lineno, self.col = self.line_offset + i + 1, 1
            line = strip_comment(lines[i])
            if lines[i].lstrip().startswith("%%"):
                self._transpose_directive(lines[i])
                self._program_change(lines[i].lstrip()[2:].split("%")[0])  # `%%MIDI program 20`
                for value in directive_fields(lines[i : i + 1]):  # `%%propagate-accidentals not`
                    self._body_directive(value)
            if i in continuations:
                continue
            if not line.strip():
                if started and "%" not in lines[i]:
                    self._note_text_after(lines, i)
                    break  # a blank line ends the tune (ABC 2.1); a `%` comment line does not
                continue
            started = True
            if line.endswith("=") or line.endswith("=20"):
                line = QP_TAIL_RE.sub("", line)  # quoted-printable soft breaks in old files
            self.qp_cuts = []
            if "=3D" in line:  # a quoted-printable `=` before a note
                found = enumerate(QP_EQUALS_RE.finditer(line))
                self.qp_cuts = [m.start() - 2 * k for k, m in found]
                line = QP_EQUALS_RE.sub("=", line)
            m = field_match(line)
            if m is not None:
                if m[1] == "+":  # none of the lines above is a field line: nothing to continue
                    self.warnings.append(
                        f"+: line {self.lineno} continues no field line (music is above it): "
                        "ignored"
                    )
                    continue
                value = _continued(lines, i, m[2], continuations)
                if m[1] == "I":
                    self._transpose_directive(f"I:{value}")
                self._body_field(m[1], value, m.start(2) + 1)
            elif "[V:" in line:
                self._voice_segments(line)
            elif not self.skipping:
                self._implicit_voice()
                start = self._overlay_end(line, 0, len(line)) if self.in_overlay else 0
                self._lex(line, start, len(line))
            else:
                self._skipped_music(line)

    def _program_change(self, value: str) -> bool:
        """Record the ``I:`` value (or ``%%`` directive) ``value`` of the body where it is
        abc2midi's ``MIDI program [channel] N`` among the voice kept: at the next token
        (`AbcTune.program_changes`), where `render.to_midi` changes the instrument; whether it
        was (so it is not said dropped, `_drop_field`). One among a voice not kept is that
        voice's (abc2midi plays it on its channel), not recorded."""
        if value.split()[:2] != ["MIDI", "program"] or self.skipping:
            return False
        self.program_changes.append((len(self.tokens), " ".join(value.split())))
        return True

    def _body_directive(self, value: str) -> None:
        """Read the ``%%`` directive line of the body that is the ``I:`` field ``value``
        (`directive_fields`): ``propagate-accidentals`` applies from there on, in the voice
        kept, wherever it stands (`_voice_directive`); ``linebreak``, which changes how the
        body is cut into lines, is dropped with a warning (it was passed over without a word),
        among a voice not kept too."""
        if value.split()[:1] == ["propagate-accidentals"]:
            self._voice_directive(value)
        else:
            self.dropped_fields.setdefault("I", []).append((self.lineno, None))

    def _voice_directive(self, value: str, column: int | None = None) -> None:
        """Apply the ``propagate-accidentals`` directive line ``value`` (``%%`` or ``I:``), or
        the inline ``[I:...]`` at ``column``, from here on. A directive is the tune's from where
        it stands, as abc2midi reads it, not a voice's: one among the lines of a voice not kept
        applies to the voice kept, said with its line (and column, inline; it was ignored
        without a word)."""
        if self.skipping and propagate_accidentals([value])[1] is None:  # a value it knows
            written = value.strip() if column is None else f"[I:{value.strip()}]"
            where = f"line {self.lineno}" + ("" if column is None else f", column {column}")
            self.warnings.append(
                f"{written} among the lines of voice V:{self.current_voice}, not kept, "
                f"applies to voice V:{self.voice} from here ({where})"
            )
        self._change_accidental_scope(value, column)

    def _lex(self, line: str, start: int, end: int) -> None:
        """Read ``line[start:end]`` into tokens (in pieces when voice overlays are skipped)."""
        self.unclosed_deco_end = -1  # a place on the line before
        while start < end:
            start = self._lex_piece(line, start, end)

    def _lex_piece(self, line: str, start: int, end: int) -> int:  # noqa: C901 (the hot loop)
        """Read tokens from ``line[start:end]`` up to a voice overlay; return where reading goes
        on (``end`` when the piece ran to it)."""
        # State lives in locals inside the loop (this is the parser's hot path); it is
        # written back to `self` around the rare tokens that are handled by methods.
        tokens = self.tokens
        append, parts_get, new = tokens.append, NOTE_PARTS.get, tuple.__new__
        lens, keysig, bar_acc, octave = self.lens, self.keysig, self.bar_acc, self.octave
        in_chord, pending = self.in_chord, self.pending
        carry, next_carry = self.carry, self.next_carry
        last_nat, last_pitch = self.last_note
        # a bar's accidental is kept by letter (every octave), by natural pitch, or not at all
        by_letter, kept = self.acc_scope == "pitch", self.acc_scope != "not"
        markings = self.markings
        n_notes = n_bare = 0
        shift = self.pitch_shift
        for m in self.body_re.finditer(line, start, end):
            kind = m.lastgroup or "bad"  # every alternative is named: `bad` takes the rest
            if kind == "note":
                alt, nat, letter, nl = parts_get(m[0]) or note_parts(m)
                if octave:
                    nat += octave
                if not in_chord:
                    carry = next_carry
                    if next_carry:
                        next_carry = {}
                if alt is not None:
                    if kept:
                        bar_acc[letter if by_letter else nat] = alt
                    if alt < 0:
                        self.used_flat = True
                    pitch = nat + alt
                elif carry and nat in carry:
                    pitch = carry[nat]
                else:
                    n_bare += 1
                    held = bar_acc.get(letter if by_letter else nat) if bar_acc else None
                    pitch = nat + (keysig[letter] if held is None else held)
                dur = lens.get(nl)
                if dur is None:
                    dur = self._len(nl, m)
                n_notes += 1
                if pitch + shift < 0 or pitch + shift > 127:
                    self.col = m.start() + 1
                    moved = f" moves to {pitch + shift}," if shift else ""
                    raise self.error(f"pitch {pitch}{moved} outside the MIDI range 0-127")
                if in_chord:
                    self.chord_notes.append((nat, pitch))
                else:
                    if carry and pitch not in self.tied_pitches:
                        self._drop_tie()  # `A-B`: a tie joins one pitch; O'Neill's slurs so
                    if pending is not None:
                        self.pended = (len(tokens), pending)
                        dur, pending = dur * pending, None
                    self.last_group = len(tokens)
                last_nat, last_pitch = nat, pitch
                append(new(Token, ("note", "", pitch, dur)))
            elif kind == "bar":
                if in_chord:
                    self.col = m.start() + 1
                    raise self.error("bar line inside a chord")
                bar_acc = {}
                tok = bar_token(*m.group(6, 7))
                if tok.text[-1:] == ":" and m[6][-1] != ":":  # `|:]`, `::]`, `|:|`
                    self._repeat_dots_inside(m)
                elif m[7] is not None and repeat_start_dropped(m[6], m[7]):  # `|:2`, `::2`
                    self._repeat_start_dropped(f"bar line {m[0]}", tok.text, m.start() + 1)
                elif m[7] is not None and colon_ending(m[6], m[7]):  # `:2`, read as `:|2`
                    self._colon_ending(m)
                if "]" in m[6] and stray_bar_bracket(m[6]):  # `|]]`, `||]|`
                    self._stray_bar_bracket(m, tok.text)
                if surplus_bar_marks(m[6]):  # `|||`, `::::`
                    self._surplus_bar_marks(m, tok.text)
                if tokens and tokens[-1].kind == "bar" or tok.text == "":
                    self.col = m.start() + 1
                    tok = self._merged_bar(tok, m[0])
                append(tok)
            elif kind in IGNORED:
                if kind != "ws" and kind != "lone" and m[0] != ")":  # a slur counted at its "("
                    if kind == "deco" and self.user_symbols.get(m[0], "!")[0] == '"':
                        kind = "text"  # a letter `U: W = "^text"` defines: an annotation
                    markings[kind] = markings.get(kind, 0) + 1
                    if (
                        kind == "deco"
                        and m.start() >= self.unclosed_deco_end
                        and unknown_decoration(m[0], self.user_symbols)
                    ):
                        self._unknown_decoration(m)
                elif kind == "lone" and self.body_re is BODY_RE:
                    self._lone_bang(m)
                continue
            else:
                self.col = m.start() + 1
                self.in_chord, self.pending, self.bar_acc = in_chord, pending, bar_acc
                self.carry, self.next_carry = carry, next_carry
                self.last_note = (last_nat, last_pitch)
                getattr(self, "_" + kind)(m, line)
                if kind == "ovl":  # a voice overlay: go on from the bar line that ends it
                    self.n_notes += n_notes
                    self.n_bare += n_bare
                    return self._overlay_end(line, m.end(), end)
                lens, keysig, bar_acc, octave = self.lens, self.keysig, self.bar_acc, self.octave
                in_chord, pending = self.in_chord, self.pending
                carry, next_carry = self.carry, self.next_carry
                by_letter, kept = self.acc_scope == "pitch", self.acc_scope != "not"  # [I:...]
        self.in_chord, self.pending, self.bar_acc = in_chord, pending, bar_acc
        self.carry, self.next_carry = carry, next_carry
        self.last_note = (last_nat, last_pitch)
        self.n_notes += n_notes
        self.n_bare += n_bare
        return end

    def _field(self, m: re.Match, line: str) -> None:
        self._read_inline(m["fk"], m["fv"], m[0])

    def _read_inline(self, letter: str, value: str, text: str) -> None:
        """Read the inline field ``text`` (``[P:B]``), of letter ``letter`` and value ``value``."""
        if letter == "I":
            self._transpose_directive(text)
            if self._program_change(value):  # played from here, not dropped
                return
        parts = len(self.part_changes)
        self._inline_field(letter, value)
        if len(self.part_changes) > parts:  # an inline `[P:B]`, written back inline
            self.inline_parts.append(parts)

    def _bare(self, m: re.Match, line: str) -> None:
        """A field written inside a line without its brackets (``|K:F ABcd|``, ``M:3/4``,
        ``P:B`` after a bar line or a space), where ABC 2.1 writes the inline field ``[K:F]``:
        read as that, its value running to the next space or bar line, with a warning naming
        its line and column. ``K`` was a decoration and ``:`` a bar line (``|K:`` a start
        repeat), dropped without a word, and ``F`` read in the old key. Where the reading is a
        guess it is an `AbcParseError`: no value after the colon (``K: G``: the key, or a
        note?) and ``V:`` (a voice is switched in brackets or on a line of its own)."""
        letter, value = m["bk"], m["bv"]
        if not value:
            raise self.error(
                f"field {letter}: inside a line, no value after its colon: write it in "
                f"brackets, [{letter}:...]"
            )
        text = f"[{letter}:{value}]"
        if letter == "V":
            raise self.error(
                f"field V:{clipped(value)} inside a line: write the voice switch in brackets, "
                f"{clipped(text)}, or on a line of its own"
            )
        column = self.written_column()  # as written (`=3D` cuts counted back)
        self.warnings.append(
            f"field {letter}:{clipped(value)} inside a line read as {clipped(text)} "
            f"(line {self.lineno}, column {column}): {BARE_FIELD}"
        )
        self._read_inline(letter, value, text)

    def _stray(self, m: re.Match, line: str) -> None:
        """Pass over a reserved character (``# * ; ? @``: ABC 2.1 §8.1 reserves them for future
        use, and asks programs to ignore them, perhaps with a warning) or a ``\\`` inside a
        line (it continues a line only at its end), with a warning naming the first of each
        character in the tune (``*`` and ``\\`` were passed over as spaces without a word, the
        others were an `AbcParseError`, "unexpected character")."""
        mark = m[0][0]
        if mark in self.stray_marks:
            return
        self.stray_marks.add(mark)
        why = "a line continuation only at a line's end" if mark == "\\" else "a reserved character"
        self.warnings.append(
            f"`{mark}` inside the music ignored ({why}; line {self.lineno}, column "
            f"{self.written_column()})"
        )

    def _ovl(self, m: re.Match, line: str) -> None:
        """``&``: a second voice over the bar so far (ABC 2.1 §7.4); the first voice is kept,
        so what follows is skipped to the next bar line (see `_overlay_end`)."""
        if self.in_chord:
            raise self.error("voice overlay (&) inside a chord")
        if not self.overlaid:
            self.warnings.append(f"voice overlay (&) read as its first voice (line {self.lineno})")
        self.overlaid = True

    def _overlay_end(self, line: str, start: int, end: int) -> int:
        """Where the overlay that starts at ``line[start]`` ends: its bar line, or ``end`` (and
        the skipping goes on at the next line of music, `in_overlay`)."""
        for m in self.body_re.finditer(line, start, end):
            if m.lastgroup == "bar":
                self.in_overlay = False
                return m.start()
        self.in_overlay = True
        return end

    def _transpose_directive(self, text: str, line: int | None = None) -> None:
        """Warn that a transposing directive on line ``line`` (by default the line being read)
        of the tune (``%%transpose 2``, ``%%MIDI transpose 2``, ``[I:MIDI transpose 2]``:
        `transpose_directive_warning`) is not read: the notes keep their written pitches. It
        was passed over without a word, though abc2midi plays ``%%MIDI transpose`` and abcm2ps
        prints ``%%transpose``."""
        warning = transpose_directive_warning(text, self.lineno if line is None else line)
        if warning is not None:
            self.warnings.append(warning)

    def _unknown_decoration(self, m: re.Match) -> None:
        """Warn, once a name, that a ``!..!`` or ``+..+`` decoration outside `DECORATIONS` is
        dropped with what it holds: in a file that writes ``!`` for a line break without
        declaring ``I:linebreak !``, ``CDEF!GABc!`` is music, and abc2midi drops it too. A
        letter ``U:`` defined as such a decoration is said with its definition."""
        text = m[0]
        if text in self.user_symbols:  # `U: W = !x!`
            text = f"{self.user_symbols[text]} (U: {text})"
        if text in self.unknown_decorations:
            return
        self.unknown_decorations.add(text)
        column = self.written_column(m.start() + 1)  # as written (`=3D` cuts counted back)
        inside = BODY_RE.finditer(text, 1, len(text) - 1)
        music = text[0] == "!" and all(part.lastgroup in MUSIC_GROUPS for part in inside)
        music = music and text == m[0]  # a letter `U:` defined is no `!` line break
        hint = f"; {BANG_LINE_BREAK}" if music else ""
        self.warnings.append(
            f"unknown decoration {text} dropped (line {self.lineno}, column {column}){hint}"
        )

    def _lone_bang(self, m: re.Match) -> None:
        """Count a lone ``!`` (no ``!..!`` decoration: no closing ``!`` on its line, or a space
        or bar line before it) in a tune that does not declare ``I:linebreak !``: passed over as
        the line break of older ABC (Aird's ``A2g|!fed c2A|``), as abc2midi plays it, where
        ABC 2.1 wants the declaration; `_build` warns once a tune, naming the first (abc2midi
        says nothing of one at a line's end). A known decoration's name after it (``!trill``:
        no closing ``!``) is that decoration not closed: its letters (``t r i l``) are not each
        said to be an unknown decoration, this one warning says where it is."""
        name = _NAME_AFTER_BANG_RE.match(m.string, m.end())
        if name is not None and name[0].lower() in DECORATIONS:
            self.unclosed_deco_end = name.end()
        if not self.lone_bangs:
            self.first_lone_bang = (self.lineno, self.written_column(m.start() + 1))
        self.lone_bangs += 1

    def _lone_bang_warning(self) -> list[str]:
        """The warning of the tune's lone ``!`` (`_lone_bang`): how many, where the first is."""
        if not self.lone_bangs:
            return []
        line, column = self.first_lone_bang
        said = "a lone `!` (no `!..!` decoration) read as a line break"
        if self.lone_bangs > 1:
            said = (
                f"{self.lone_bangs} lone `!` (no `!..!` decoration) read as line breaks, the first"
            )
        return [f"{said} at line {line}, column {column}; {BANG_LINE_BREAK}"]

    def _bad(self, m: re.Match, line: str) -> None:
        """An `AbcParseError` for a character the music cannot hold; a ``[`` that opens an
        inline field with no ``]`` on its line (``[K:G GBd|``) says so (it was only an
        "unexpected character '['")."""
        field = _OPEN_FIELD_RE.match(line, m.start())
        if field is not None:
            raise self.error(f"inline field {field[0]}... not closed: no ] after it on its line")
        raise self.error(f"unexpected character {m[0]!r}")

    def _unquote(self, m: re.Match, line: str) -> None:
        raise self.error('guitar chord or annotation not closed: no second " on its line')
