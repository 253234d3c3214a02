"""ABC 2.1 reader: one tune or a tunebook -> `AbcTune` with exact `Fraction` durations."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from .abc_header import (
    _field_match,
    _HeaderFields,
    _strip_comment,
    default_unit,
    file_header_fields,
    fold_lines,
    needs_folding,
    split_tunebook,
)
from .abc_lexer import (
    _ACC,
    _BODY_RE,
    _DECO_BEFORE_RE,
    _IGNORED,
    _NOTE_BASE,
    _QP_EQUALS_RE,
    _QP_TAIL_RE,
    _XBAR_AFTER_RE,
    _ZBAR_AFTER_RE,
    _canonical_bar,
    _length,
    _merge_bar_texts,
    _note_base,
)
from .keys import Key
from .measure import compound_meter

__all__ = ["AbcParseError", "AbcTune", "Token", "parse_abc", "parse_tunebook"]

CORPUS_FORMATS = ("auto", "corpus", "standard")


class AbcParseError(ValueError):
    """Malformed ABC; names the tune, the 1-based line and column in the source text.

    `internal` is True when an unexpected error (a parser bug) was converted.
    """

    def __init__(
        self,
        message: str,
        *,
        tune: str | None = None,
        line: int | None = None,
        column: int | None = None,
        internal: bool = False,
    ) -> None:
        self.message = message
        self.tune = tune
        self.line = line
        self.column = column
        self.internal = internal
        super().__init__(f"{tune or 'tune'}: line {line}, column {column}: {message}")


class Token(NamedTuple):
    """One body token; see DESIGN.md section 1 for the meaning of each field by kind."""

    kind: str
    text: str
    pitch: int | None
    dur: Fraction | None


@dataclass
class AbcTune:
    """One parsed tune: header fields, key, meter, unit and the body tokens."""

    fields: dict[str, list[str]]
    title: str
    key: Key
    meter: str | None
    unit: Fraction
    tokens: list[Token]
    warnings: list[str]
    line: int
    x: int | None = None
    original_key: Key | None = None
    voice_count: int = 1
    corpus_format: bool = False
    accidentals: dict[str, int] = field(default_factory=dict)
    #: mid-tune meter changes: ``(index of the first token under the new meter, meter)``. The
    #: reader follows them (tuplet defaults, ``Z`` lengths, `bar_check`); `meter` stays the
    #: header's, and so do the measure features of the rows.
    meter_changes: list[tuple[int, str | None]] = field(default_factory=list)
    #: tempo changes in the body (a ``Q:`` line after the header, an inline ``[Q:...]``):
    #: ``(index of the first token played at the new tempo, the Q: text)``, e.g.
    #: ``(9, "1/4=60")``. Only `render.to_midi` reads them: the tokens, rows and features
    #: carry no tempo; the header's ``Q:`` stays in `fields`.
    tempo_changes: list[tuple[int, str]] = field(default_factory=list)


_DEFAULT_Q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}
_ONE = Fraction(1)
_LEN_CACHE: dict[Fraction, dict[str, Fraction]] = {}
_BAR_TOKENS: dict[tuple[str, str | None], Token] = {}


def _bar_token(raw: str, ending: str | None) -> Token:
    tok = _BAR_TOKENS.get((raw, ending))
    if tok is None:
        tok = Token("bar", _canonical_bar(raw, ending), None, None)
        if len(_BAR_TOKENS) < 1024:
            _BAR_TOKENS[(raw, ending)] = tok
    return tok


def default_tuplet_q(p: int, meter: str | None) -> int:
    """The ABC 2.1 default q of a tuplet ``(p`` (p notes in the time of q) in ``meter``.

    >>> default_tuplet_q(3, "6/8"), default_tuplet_q(5, "4/4"), default_tuplet_q(5, "6/8")
    (2, 2, 3)
    """
    if p in _DEFAULT_Q:
        return _DEFAULT_Q[p]
    return 3 if compound_meter(meter) else 2


def _chord_pitches(tokens: list[Token], at: int, backwards: bool = False) -> list[int]:
    """Pitches of the chord whose ``chord_start`` (or, ``backwards``, ``chord_end``) is
    ``tokens[at]``."""
    step, stop = (-1, "chord_start") if backwards else (1, "chord_end")
    pitches, i = [], at + step
    while 0 <= i < len(tokens) and tokens[i].kind != stop:
        if tokens[i].kind == "note":
            pitches.append(tokens[i].pitch)
        i += step
    return pitches


class _TuneParser(_HeaderFields):
    """Parser state for one tune (header and field methods: `_HeaderFields`). Use `parse_abc`."""

    def __init__(
        self,
        corpus_format: str,
        line_offset: int,
        tune_name: str | None,
        file_header: Sequence[tuple[str, str]] = (),
        keep_final_tie: bool = False,
    ) -> None:
        self.corpus_format = corpus_format
        self.keep_final_tie = keep_final_tie
        self.file_header = list(file_header)
        self.ended = False
        self.line_offset = line_offset
        self.name = tune_name
        self.lineno = line_offset + 1
        self.col = 1
        self.fields: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.tokens: list[Token] = []
        self.key = Key("C", "major")
        self.keysig: dict[str, int] = self.key.accidentals
        self.key_text = ""
        self.key_given = False  # a K: field with a key (not only a clef) was read
        self.octave = 0  # semitones the notes sound from where they are written (K: octave=)
        self.meter: str | None = None
        self.header_meter: str | None = None
        self.meter_changes: list[tuple[int, str | None]] = []
        self.tempo_changes: list[tuple[int, str]] = []
        self.unit: Fraction | None = None
        self.x: int | None = None
        self.x_line = line_offset + 1
        self.voices: list[str] = []
        self.voice: str | None = None
        self.skipping = False
        self.n_bare = 0
        self.n_notes = 0
        self.used_flat = False
        self.key_changed = False
        self.overlaid = False  # a `&` voice overlay was read (and warned of)
        #: where the line being read had `=3D` cut to `=` (columns of errors are moved back)
        self.qp_cuts: list[int] = []
        self.tie_at: list[int] = []  # where the pending tie's tokens went (several in a chord)
        self.tied_pitches: set[int] = set()  # the pitches it ties (a chord's, or one note's)
        self.dropped_ties = 0  # ties before a note of another pitch, dropped
        self.dangling_ties = 0  # ties before a rest or at the end, dropped
        self.in_overlay = False  # skipping an overlay that runs past the end of its line

    # ---------------------------------------------------------------- errors
    def error(self, message: str, column: int | None = None, internal: bool = False):
        title = (self.fields.get("T") or [""])[0]
        name = self.name or title or (f"X:{self.x}" if self.x is not None else None)
        col = self.col if column is None else column
        # a column of a line read with `=3D` shortened to `=`: counted in the text as written
        col += 2 * sum(cut < col - 1 for cut in self.qp_cuts)
        return AbcParseError(message, tune=name, line=self.lineno, column=col, internal=internal)

    # ---------------------------------------------------------------- header
    def parse(self, text: str) -> AbcTune:
        if "\r" in text:  # CR LF (Windows) or CR alone (old Mac files) end lines too
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines[0] = lines[0].removeprefix("\ufeff")  # a byte-order mark saved by some editors
        if needs_folding(text):  # continued field lines, `%%begintext` blocks
            lines = fold_lines(lines)
        body_start = self._parse_header(lines)
        self._inherit(self.file_header)
        self._finish_header()
        if not self.ended:
            self._parse_body(lines, body_start)
        return self._build()

    def _finish_header(self) -> None:
        if self.unit is None:
            self.unit = default_unit(self.meter)
        self._set_unit(self.unit)
        self.header_meter = self.meter
        self.pending: Fraction | None = None
        self.pended: tuple[int, Fraction] = (-1, _ONE)  # (group, factor) of the last `pending`
        self.in_chord = False
        self.chord_start = 0
        self.chord_col = 0
        self.last_group = 0  # index of the first token of the last note, rest or chord
        self.carry: dict[int, int] = {}
        self.next_carry: dict[int, int] = {}
        self.last_note: tuple[int, int] = (0, 0)
        self.chord_notes: list[tuple[int, int]] = []
        self.bar_acc: dict[int, int] = {}

    def _set_unit(self, unit: Fraction) -> None:
        self.unit = unit
        cache = _LEN_CACHE.get(unit)
        if cache is None:
            if len(_LEN_CACHE) > 64:
                _LEN_CACHE.clear()
            cache = _LEN_CACHE[unit] = {"": unit}
        self.lens = cache

    # ---------------------------------------------------------------- body
    def _parse_body(self, lines: list[str], start: int) -> None:
        started = False
        for i in range(start, len(lines)):
            self.lineno, self.col = self.line_offset + i + 1, 1
            line = _strip_comment(lines[i])
            if not line.strip():
                if started and "%" not in lines[i]:
                    self._note_text_after(lines, i)
                    break  # a blank line ends the tune (ABC 2.1); a `%` comment line does not
                continue
            started = True
            if line.endswith("=") or line.endswith("=20"):
                line = _QP_TAIL_RE.sub("", line)  # quoted-printable soft breaks in old files
            self.qp_cuts = []
            if "=3D" in line:  # a quoted-printable `=` before a note
                found = enumerate(_QP_EQUALS_RE.finditer(line))
                self.qp_cuts = [m.start() - 2 * k for k, m in found]
                line = _QP_EQUALS_RE.sub("=", line)
            m = _field_match(line)
            if m is not None:
                if m[1] != "+":  # `+:` continues a body field (lyrics, words): nothing to do
                    self._body_field(m[1], m[2], m.start(2) + 1)
            elif "[V:" in line:
                self._voice_segments(line)
            elif not self.skipping:
                self._implicit_voice()
                start = self._overlay_end(line, 0, len(line)) if self.in_overlay else 0
                self._lex(line, start, len(line))

    def _lex(self, line: str, start: int, end: int) -> None:
        """Read ``line[start:end]`` into tokens (in pieces when voice overlays are skipped)."""
        while start < end:
            start = self._lex_piece(line, start, end)

    def _lex_piece(self, line: str, start: int, end: int) -> int:  # noqa: C901 (the hot loop)
        """Read tokens from ``line[start:end]`` up to a voice overlay; return where reading goes
        on (``end`` when the piece ran to it)."""
        # State lives in locals inside the loop (this is the parser's hot path); it is
        # written back to `self` around the rare tokens that are handled by methods.
        tokens = self.tokens
        append, note_get, new = tokens.append, _NOTE_BASE.get, tuple.__new__
        lens, keysig, bar_acc, octave = self.lens, self.keysig, self.bar_acc, self.octave
        in_chord, pending = self.in_chord, self.pending
        carry, next_carry = self.carry, self.next_carry
        last_nat, last_pitch = self.last_note
        n_notes = n_bare = 0
        for m in _BODY_RE.finditer(line, start, end):
            kind = m.lastgroup
            if kind == "note":
                acc, nk, nl = m.group(2, 3, 4)
                nat, letter = note_get(nk) or _note_base(nk)
                if octave:
                    nat += octave
                if not in_chord:
                    carry = next_carry
                    if next_carry:
                        next_carry = {}
                if acc:
                    alt = _ACC[acc]
                    bar_acc[nat] = alt
                    if alt < 0:
                        self.used_flat = True
                    pitch = nat + alt
                elif carry and nat in carry:
                    pitch = carry[nat]
                else:
                    n_bare += 1
                    alt = bar_acc.get(nat)
                    pitch = nat + (keysig[letter] if alt is None else alt)
                dur = lens.get(nl)
                if dur is None:
                    dur = self._len(nl, m)
                n_notes += 1
                if pitch < 0 or pitch > 127:
                    self.col = m.start() + 1
                    raise self.error(f"pitch {pitch} outside the MIDI range")
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
                tok = _bar_token(*m.group(6, 7))
                if tokens and tokens[-1].kind == "bar" or tok.text == "":
                    tok = self._merged_bar(tok)
                append(tok)
            elif kind in _IGNORED:
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
        self.in_chord, self.pending, self.bar_acc = in_chord, pending, bar_acc
        self.carry, self.next_carry = carry, next_carry
        self.last_note = (last_nat, last_pitch)
        self.n_notes += n_notes
        self.n_bare += n_bare
        return end

    def _len(self, text: str, m: re.Match) -> Fraction:
        try:
            dur = self.unit * _length(text)
        except ValueError as exc:
            self.col = m.start() + 1
            raise self.error(str(exc)) from None
        if len(self.lens) < 256:
            self.lens[text] = dur
        return dur

    def _bar(self, raw: str, ending: str | None, m: re.Match) -> None:
        if self.in_chord:
            raise self.error("bar line inside a chord")
        self.bar_acc = {}
        tok = _bar_token(raw, ending)
        if self.tokens and self.tokens[-1].kind == "bar":
            tok = self._merged_bar(tok)
        self.tokens.append(tok)

    def _end(self, m: re.Match, line: str) -> None:
        """An ending number: ``[2``, or a number after a bar line with only blanks (or a line
        break) between (``:| 2``, ``|\\`` then ``1`` on the next line: ``|1``, ``:|2``). A number
        after a guitar chord or a decoration (``| "D"2D6``) is no ending: an error, as a stray
        number anywhere is."""
        if m[0][0] != "[":
            before = line[: m.start()].rstrip(" \t\\")
            after_bar = before == "" or before[-1] in "|:]"
            if not self.tokens or self.tokens[-1].kind != "bar" or not after_bar:
                raise self.error(f"unexpected number {m[0]!r}")
        self._bar("|", m["en"], m)

    def _merged_bar(self, tok: Token) -> Token:
        """Merge a bar with the bar just before it (`|` at a line end and `|` at the next
        line start, `||\\` + `:` ...), so that no measure is empty."""
        tokens = self.tokens
        prev = tokens[-1].text if tokens and tokens[-1].kind == "bar" else None
        text = tok.text
        if text == "":  # a lone `:` (its bar is on the other side of a line break)
            text = "|:" if prev is not None or not tokens else ":|"
        if prev is None:
            return Token("bar", text, None, None)
        tokens.pop()
        merged = _merge_bar_texts(prev, text)
        if self.tempo_changes and self.tempo_changes[-1][0] > len(tokens):
            self._tempo_between_bars(merged)
        return Token("bar", merged, None, None)

    def _tempo_between_bars(self, merged: str) -> None:
        """Place a tempo change written between two bar lines that merge into ``merged`` (``|``
        ending a line, ``Q:1/4=90``, ``|:`` opening the next). Before the merged bar where
        playing only passes through it (``|:``, ``||``), so that the change is not played again
        on each pass of the section after it; after it where playing also jumps from it or
        into it (``:|``, ``:|:``, ``|2``), so that a repeat's first pass does not play it and
        an ending does (after a ``:|:``, the next section's repeat plays it again: the same
        tempo, unless that section changes it)."""
        if merged.startswith(":") or merged.lstrip("|")[:1].isdigit():
            return
        self._change_tempo(self.tempo_changes.pop()[1])

    def _brk(self, m: re.Match, line: str) -> None:
        if self.in_chord or not self.tokens or self.tokens[-1].kind not in _BRK_AFTER:
            raise self.error(f"broken rhythm {m[0]!r} without a preceding note")
        short = Fraction(1, 2 ** len(m[0]))
        first, second = (2 - short, short) if m[0][0] == ">" else (short, 2 - short)
        tokens = self.tokens
        factor = first
        if self.pended[0] == self.last_group:
            # a chain `a>b>c`: b already took the first pair's factor p; the two pairs each
            # move a share of b's written length, so b gets p + first - 1 (not p * first)
            applied = self.pended[1]
            if applied + first > 1:
                factor = (applied + first - 1) / applied
        for i in range(self.last_group, len(tokens)):
            if tokens[i].dur is not None:
                tokens[i] = tokens[i]._replace(dur=tokens[i].dur * factor)
        self.pending = second

    def _tup(self, m: re.Match, line: str) -> None:
        if self.in_chord:  # a chord's notes sound together: nothing in it can be a tuplet
            raise self.error(f"tuplet {m[0]!r} inside a chord")
        p = int(m["tp"])
        if p < 2 or p > 64:
            raise self.error(f"bad tuplet ({p}")
        q = int(m["tq"]) if m["tq"] else default_tuplet_q(p, self.meter)
        r = int(m["tr"]) if m["tr"] else p
        if q == 0 or r == 0:
            raise self.error(f"bad tuplet {m[0]}")
        # the short form only where readers of the tokens, who know the header's meter and not
        # a later [M:], take the same q from it
        short = q == default_tuplet_q(p, self.header_meter) and r == p
        text = f"({p}" if short else f"({p}:{q}:{r}"
        self.tokens.append(Token("tuplet", text, None, Fraction(q, p)))

    def _tie(self, m: re.Match, line: str) -> None:
        prev = self.tokens[-1].kind if self.tokens else None
        if prev == "note":
            nat, pitch = self.last_note
            self.next_carry[nat] = pitch
            tied = {pitch} | (self.tied_pitches if self.in_chord else set())
        elif prev == "chord_end":
            self.next_carry.update(self.chord_notes)
            tied = {pitch for _, pitch in self.chord_notes}
        else:
            self.warnings.append(f"tie after {prev or 'nothing'} dropped (line {self.lineno})")
            return
        inner = prev == "note" and self.in_chord
        self.tie_at = [*self.tie_at, len(self.tokens)] if inner else [len(self.tokens)]
        self.tied_pitches = tied
        self.tokens.append(Token("tie", "-", None, None))

    def _drop_tie(self) -> None:
        """Drop the tie before a note of another pitch (a tie joins notes of one pitch: ``A3-B``
        is a slur written as a tie, as in 897 places of O'Neill's); `_build` warns once."""
        self.dropped_ties += self._delete_ties()

    def _drop_dangling_tie(self) -> None:
        """Drop a tie that no note follows (before a rest, or at the end of the tune): nothing
        sounds on, and abc2midi rejects it; `_build` warns once."""
        self.dangling_ties += self._delete_ties()

    def _delete_ties(self) -> int:
        """Delete the pending tie's tokens (all of a chord's inner ties); return 1 if any."""
        at = [i for i in self.tie_at if i < len(self.tokens) and self.tokens[i].kind == "tie"]
        for i in reversed(at):
            del self.tokens[i]
            self._token_deleted(i)
        self.tie_at = []
        return int(bool(at))

    def _token_deleted(self, i: int) -> None:
        """Token ``i`` was deleted: a meter or tempo change recorded after it (`d4-|[M:3/4]z`)
        moves back with the tokens."""
        self.meter_changes = [(j - (j > i), m) for j, m in self.meter_changes]
        self.tempo_changes = [(j - (j > i), q) for j, q in self.tempo_changes]

    def _rest(self, m: re.Match, line: str) -> None:
        if self.in_chord:
            self.warnings.append(f"rest inside a chord dropped (line {self.lineno})")
            return
        dur = self.lens.get(m["rl"]) or self._len(m["rl"], m)
        if m[0][0] == "x" and self._decorates_bar(m, line):
            self.warnings.append(
                f"decorated invisible rest {m[0]!r} before a bar line read as a decoration of "
                f"the bar line, with no length (line {self.lineno})"
            )
            return
        self._append_rest(dur)

    @staticmethod
    def _decorates_bar(m: re.Match, line: str) -> bool:
        """Whether an invisible rest is the old way of putting a decoration on a bar line: a
        decorated `x` with nothing but spaces or annotations before the next bar line on its line
        (O'Neill's `G2 Hx||`, a fermata over the double bar). ABC gives `x` a
        length, but there it only carries the symbol: counted, it would lengthen the bar."""
        # the anchored look after the rest first: it fails at once for all but an `x` before a
        # bar line, and the search before it scans the line (quadratic over a line of `x`)
        return bool(_XBAR_AFTER_RE.match(line, m.end())) and bool(
            _DECO_BEFORE_RE.search(line, 0, m.start())
        )

    def _append_rest(self, dur: Fraction) -> None:
        if self.next_carry:  # `A2-z2`: the tie has no note to join
            self._drop_dangling_tie()
        self.carry, self.next_carry = {}, {}
        if self.pending is not None:
            self.pended = (len(self.tokens), self.pending)
            dur, self.pending = dur * self.pending, None
        self.last_group = len(self.tokens)
        self.tokens.append(Token("rest", "z", None, dur))

    def _mrest(self, m: re.Match, line: str) -> None:
        count = int(m["mn"]) if m["mn"] else 1
        alone = (not self.tokens or self.tokens[-1].kind == "bar") and _ZBAR_AFTER_RE.match(
            line, m.end()
        )
        if self.in_chord or count == 0:
            raise self.error(f"bad multi-measure rest {m[0]!r}")
        if not alone or self.meter is None or count > 256:
            self.warnings.append(f"{m[0]} read as a rest of {count} units (line {self.lineno})")
            self._append_rest(self.unit * count)
            return
        for i in range(count):
            if i:
                self.tokens.append(Token("bar", "|", None, None))
            self._append_rest(Fraction(self.meter))

    def _cs(self, m: re.Match, line: str) -> None:
        if self.in_chord:
            raise self.error("nested chord")
        self.carry, self.next_carry = self.next_carry, {}
        self.tie_at = []  # a tie into a chord stays; its inner ties start a new group
        self.in_chord, self.chord_start, self.chord_notes = True, len(self.tokens), []
        self.chord_col, self.chord_line = self.col, self.lineno
        self.tokens.append(Token("chord_start", "[", None, None))

    def _oldchord(self, m: re.Match, line: str) -> None:
        """An ABC 1.x chord `+CEG+` (`+ff+` and other names stay decorations)."""
        self._cs(m, line)
        self._lex(line, m.start("oc"), m.end("oc"))
        self._close_chord("", m)

    def _ce(self, m: re.Match, line: str) -> None:
        self._close_chord(m["cl"], m)

    def _close_chord(self, length: str, m: re.Match) -> None:
        if not self.in_chord:
            raise self.error("']' without a chord")
        if not self.chord_notes:
            raise self.error("empty chord")
        factor = self.lens.get(length) or self._len(length, m)
        factor /= self.unit
        if self.pending is not None:
            self.pended = (self.chord_start, self.pending)
            factor, self.pending = factor * self.pending, None
        tokens = self.tokens
        if factor != 1:
            for i in range(self.chord_start, len(tokens)):
                if tokens[i].kind == "note":
                    tokens[i] = tokens[i]._replace(dur=tokens[i].dur * factor)
        self.in_chord, self.last_group = False, self.chord_start
        self.tokens.append(Token("chord_end", "]", None, None))

    def _field(self, m: re.Match, line: str) -> None:
        self._inline_field(m["fk"], m["fv"])

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
        for m in _BODY_RE.finditer(line, start, end):
            if m.lastgroup == "bar":
                self.in_overlay = False
                return m.start()
        self.in_overlay = True
        return end

    def _bad(self, m: re.Match, line: str) -> None:
        raise self.error(f"unexpected character {m[0]!r}")

    def _unquote(self, m: re.Match, line: str) -> None:
        raise self.error('guitar chord or annotation not closed: no second " on its line')

    # ---------------------------------------------------------------- result
    def _note_text_after(self, lines: list[str], blank: int) -> None:
        """Say that the lines after the blank line that ends the tune are not read (ABC 2.1:
        free text), when any holds more than a comment: music there was lost without a word."""
        rest = [j for j in range(blank + 1, len(lines)) if _strip_comment(lines[j]).strip()]
        if rest:
            first = self.line_offset + rest[0] + 1
            self.warnings.append(
                f"{len(rest)} line(s) after the blank line {self.line_offset + blank + 1} not "
                f"read (a blank line ends a tune), the first at line {first}"
            )

    def _drop_ties_into_other_chords(self) -> None:
        """Drop a tie into a chord that holds none of the pitches it ties (``A2-[CE]2``,
        ``[CE]2-[DF]2``): it joins nothing, like a tie between two different notes, and is
        counted with those (a tie into a chord is only known to be wrong once it closes)."""
        tokens, doomed = self.tokens, []
        for i in range(1, len(tokens) - 1):
            if tokens[i].kind != "tie" or tokens[i + 1].kind != "chord_start":
                continue
            if tokens[i - 1].kind == "note":
                tied = {tokens[i - 1].pitch}
            elif tokens[i - 1].kind == "chord_end":
                tied = set(_chord_pitches(tokens, i - 1, backwards=True))
            else:
                continue
            if not tied & set(_chord_pitches(tokens, i + 1)):
                doomed.append(i)
        for i in reversed(doomed):
            del tokens[i]
            self._token_deleted(i)
        self.dropped_ties += len(doomed)

    def _build(self) -> AbcTune:
        if self.in_chord:
            self.lineno = self.chord_line
            raise self.error("unclosed chord", self.chord_col)
        if not any(token.kind in ("note", "rest") for token in self.tokens):
            # bar lines alone (around chord symbols, grace notes, decorations) are no music:
            # refused as an empty body is, not read as a tune of nothing
            self.lineno = self.x_line
            detail = ": bar lines but no note or rest" if self.tokens else ""
            raise self.error(f"tune has no notes{detail}", 1)
        if self.pending is not None:
            self.warnings.append("broken rhythm at the end of the tune ignored")
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
        if len(self.voices) > 1:
            dropped = ", ".join(f"V:{v}" for v in self.voices if v != self.voice)
            self.warnings.append(f"voice {dropped} dropped")
        key, corpus = self.key, self.corpus_format == "corpus"
        if self.corpus_format == "auto" and self._looks_like_corpus():
            key, corpus = self.key.white, True
        return AbcTune(
            fields=self.fields,
            title=(self.fields.get("T") or [""])[0],
            key=key,
            meter=self.header_meter,
            unit=self.unit,
            tokens=self.tokens,
            warnings=self.warnings,
            line=self.x_line,
            x=self.x,
            original_key=key,
            voice_count=max(1, len(self.voices)),
            corpus_format=corpus,
            accidentals=dict(self.keysig),
            meter_changes=self.meter_changes,
            tempo_changes=self.tempo_changes,
        )


_BRK_AFTER = ("note", "rest", "chord_end", "tie")


def parse_abc(
    text: str,
    *,
    tune_name: str | None = None,
    corpus_format: str = "auto",
    line_offset: int = 0,
    file_header: Sequence[tuple[str, str]] = (),
    keep_final_tie: bool = False,
) -> AbcTune:
    """Parse one ABC tune. Raises `AbcParseError` (and nothing else) on malformed input, and a
    `TypeError` when ``text`` is not a `str`.

    `corpus_format`: `"auto"` detects the shared corpus's `K: C <mode>` placeholder (mode
    major, minor, dorian or mixolydian; every note with an explicit accidental, no flats, no
    mid-tune `K:`) and reads the key as the white-key mode;
    `"corpus"` always does so for `K: C <mode>`; `"standard"` never does.
    `line_offset` is added to line numbers (for tunes cut out of a larger text).
    `file_header`: the ``(letter, value)`` fields of the tunebook's file header
    (`file_header_fields`), applied where the tune does not set them itself.
    `keep_final_tie`: keep a tie that no note follows at the end of the text (an incipit to be
    continued, `A2-|`); a whole tune drops it, with a warning, as it does one before a rest.

    >>> t = parse_abc("X:1\\nT:Demo\\nM:6/8\\nK:D\\nFA>B c/d/e|")
    >>> t.title, t.meter, t.unit
    ('Demo', '6/8', Fraction(1, 8))
    >>> [(k.kind, k.pitch, str(k.dur)) for k in t.tokens][:3]
    [('note', 66, '1/8'), ('note', 69, '3/16'), ('note', 71, '1/16')]
    """
    _require_text(text, "parse_abc")
    if corpus_format not in CORPUS_FORMATS:
        raise ValueError(f"corpus_format must be one of {CORPUS_FORMATS}")
    parser = _TuneParser(corpus_format, line_offset, tune_name, file_header, keep_final_tie)
    try:
        return parser.parse(text)
    except AbcParseError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, ZeroDivisionError, AttributeError) as exc:
        # A parser bug, not bad input: still an AbcParseError (with position) for callers,
        # flagged `internal` so that tests can tell the two apart.
        message = f"internal error {type(exc).__name__}: {exc}"
        raise parser.error(message, internal=True) from exc


def _require_text(text: object, caller: str) -> None:
    """Raise a `TypeError` naming ``caller`` unless ``text`` is a `str` (bytes, None...)."""
    if not isinstance(text, str):
        hint = " (decode it first, e.g. data.decode('utf-8'))" if isinstance(text, bytes) else ""
        raise TypeError(f"{caller} reads ABC text, a str; got {type(text).__name__}{hint}")


def parse_tunebook(text: str) -> Iterator[AbcTune | AbcParseError]:
    """Split a tunebook on `X:` lines and yield each tune, or the `AbcParseError` it raised.

    Free text between tunes is ignored; a blank line ends a tune. A block without an `X:`
    line whose header has a `K:` field and music after it is a tune too (`split_tunebook`),
    between numbered tunes as in a book without `X:` lines. The fields of a file header
    (before the first `X:`, e.g. ``M:`` or ``L:``) apply to every tune that does not set them.
    A ``text`` that is not a `str` is a `TypeError` at the call, before any tune is read.

    >>> book = "X:1\\nK:G\\nGAB|\\n\\nfree text\\n\\nX:2\\nK:G\\nG<<A|"
    >>> [len(t.tokens) for t in parse_tunebook(book)]
    [4, 3]
    """
    _require_text(text, "parse_tunebook")
    return _tunebook_tunes(text)


def _tunebook_tunes(text: str) -> Iterator[AbcTune | AbcParseError]:
    """The tunes of `parse_tunebook`, read as they are asked for."""
    # line ends as `split_tunebook` reads them, so that the file header is found in CR files too
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    header = file_header_fields(text)
    for start, chunk in split_tunebook(text):
        try:
            yield parse_abc(chunk, line_offset=start, file_header=header)
        except AbcParseError as err:
            yield err
