"""The directives of a tune's header that change how the reader reads it: ``linebreak`` (is
``!`` a line break), ``propagate-accidentals`` (how far a bar's accidental reaches, in the header
and from where one stands in the body), and the file header's fields and directives a tune does
not set itself (`HeaderDirectives._inherit`). The directives' text is abc_tunebook.py's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .abc_parser_state import ParserState
from .abc_tunebook import (
    DIRECTIVE,
    bang_is_line_break,
    directive_settings,
    header_directive_fields,
    header_setting,
    inherited_field_error,
    propagate_accidentals,
)
from .keys import LETTER_PC

__all__ = ["HeaderDirectives", "rescoped"]


def rescoped(bar_acc: dict[str | int, int], old: str, new: str) -> dict[str | int, int]:
    """The accidentals of a bar read under the ``propagate-accidentals`` scope ``old`` (by
    letter for ``pitch``, by natural MIDI pitch for ``octave``), keyed for the scope ``new``:
    none for ``not``; a letter's in every octave for ``octave``; a natural pitch's by its
    letter for ``pitch``.

    >>> rescoped({"C": 1}, "pitch", "octave")[60], rescoped({60: 1, 71: -1}, "octave", "pitch")
    (1, {'C': 1, 'B': -1})
    """
    if new == "not" or old == new:
        return {} if new == "not" else bar_acc
    if new == "octave":
        return {
            nat: alt
            for letter, alt in bar_acc.items()
            for nat in range(LETTER_PC[str(letter)], 128, 12)
        }
    letters = {pc: letter for letter, pc in LETTER_PC.items()}
    return {letters[int(nat) % 12]: alt for nat, alt in bar_acc.items()}


class HeaderDirectives(ParserState):
    """Directive handling of `_TuneParser` (`HeaderFields`, and so the parser, subclasses this).

    The parser supplies the state these methods read and write (`fields`, `file_header`,
    `acc_scope`, `scope_changes`, `tokens`, `bar_acc`, `warnings`, `line_offset`, `x_line`,
    `lineno`, `col`), `error` for positioned errors and `_header_field` (`HeaderFields`), which
    applies an inherited field.
    """

    def _header_directive(self, line: str) -> None:
        """Keep a ``%%linebreak``, ``%%propagate-accidentals`` or ``%%MIDI`` line of the header
        as the ``I:`` field it equals (`header_directive_fields`, ABC 2.1 §11), among the ``I:``
        fields in the order of their lines: the last of ``%%`` and ``I:`` holds (the ``%%`` one
        held, read after them all), and the writer reads it there too (`AbcTune.fields`). A
        ``%%MIDI`` line is kept there as the file header's is (`_inherit`): a tune's
        ``fields["I"]`` is the same read in its tunebook and alone (it was the file header's
        alone)."""
        for value in header_directive_fields([line]):
            self.fields.setdefault("I", []).append(value)

    def _bang_is_line_break(self) -> bool:
        """Whether ``!`` is a line break in the body (`bang_is_line_break`): the last
        ``linebreak`` directive of the header, ``I:linebreak ... ! ...`` or ``%%linebreak``
        (`_header_directive`; the tune's, or else the file header's, `_inherit`), names ``!``
        (otherwise ``!`` brackets a decoration)."""
        return bang_is_line_break(self.fields.get("I", []))

    def _accidental_scope(self, header: list[str]) -> str:
        """How far a bar's accidental reaches (`propagate_accidentals`: ``pitch``, ``octave`` or
        ``not``) by the last ``propagate-accidentals`` directive of the header, ``I:`` or ``%%``
        (`_header_directive`; its own, or else the file header's), ``pitch`` by default (ABC
        2.1 §11.3); a value that is none of those is said in a warning, at the last of the
        tune's ``header`` lines that names it (else at its ``X:``: the file header's)."""
        scope, unknown = propagate_accidentals(self.fields.get("I", []))
        if unknown is not None:
            said = [i for i, text in enumerate(header) if "propagate-accidentals" in text]
            line = self.line_offset + said[-1] + 1 if said else self.x_line  # else the file's
            self.warnings.append(
                f"propagate-accidentals {unknown!r} is not one of not, octave, pitch (line "
                f"{line}): pitch kept, an accidental holds in every octave to the bar line"
            )
        return scope

    def _change_accidental_scope(self, value: str, column: int | None) -> None:
        """Apply a ``propagate-accidentals`` directive of the body (``I:`` line, ``[I:...]`` or
        ``%%`` line; ABC 2.1 §11 lets one stand there) from where it stands: the accidentals of
        the bar so far keep reaching the notes they reached (`rescoped`). A value that is none
        of not, octave, pitch is said in a warning and changes nothing."""
        scope, unknown = propagate_accidentals([value])
        if unknown is not None:
            where = f"line {self.lineno}" + ("" if column is None else f", column {column}")
            self.warnings.append(
                f"propagate-accidentals {unknown!r} is not one of not, octave, pitch ({where}): "
                f"ignored, {self.acc_scope} kept"
            )
            return
        self.bar_acc = rescoped(self.bar_acc, self.acc_scope, scope)
        self.acc_scope = scope
        self.scope_changes.append((len(self.tokens), scope))  # `AbcTune.scope_changes`

    def _inherit(self, defaults: list[tuple[str, str]], header: Sequence[str]) -> None:
        """Apply a tunebook's file-header fields that the tune's header (its fields up to
        ``K:``) does not set itself (an ``I:`` directive it does not set: `header_setting`; a
        ``%%`` or ``I:`` one of its ``header`` lines, up to the music: `directive_settings`), as
        the header ends: a field between ``K:`` and the music is the body's start, read
        after them (a ``Q:`` there is a tempo change, the file header's ``Q:`` stays the
        header's), as in the text `with_file_header` writes. Two of one setting (``M:`` twice,
        two ``%%MIDI program``) are applied in order, the last one holding, as they read in
        that text and as abc2midi reads them. In ``fields`` the file header's come first, then
        the tune's own (``I:``, ``U:``), as they stand in that text. A ``Q:`` whose beat is not
        ABC 2.1 is said at the file header's line, and an error of a field (``M:7/x``) at its
        line and column (`file_header_lines`; unknown: at the tune's ``X:`` line), saying it is
        the file header's, where it is written, not at the tune's."""
        own = {header_setting(k, v) for k, values in self.fields.items() for v in values}
        own |= directive_settings(header)
        places = self.file_header_lines
        inherited: Counter[str] = Counter()  # the file header's fields applied, by letter
        for n, (letter, value) in enumerate(defaults):
            if header_setting(letter, value) in own:  # the tune's own: not the file header's
                continue
            letter = "I" if letter == DIRECTIVE else letter  # `%%MIDI program 73`: its I: field
            # before the tune's own of the letter (its other I: or U: fields), as in the text
            # `with_file_header` writes, so that `fields` read the same in the book and alone
            self.fields.setdefault(letter, []).insert(inherited[letter], value)
            inherited[letter] += 1
            known = n < len(places)
            # where it is written, else the tune it is applied to
            self.lineno, self.col = places[n] if known else (self.x_line, 1)
            if letter == "Q":  # all `_header_field` does with one: say a beat not ABC 2.1
                where = f"line {self.lineno}" if known else f"applied at line {self.x_line}"
                self._tempo_form(value, None, f"the file header's, {where}")
                continue
            try:
                self._header_field(letter, value)
            except ValueError as err:  # an AbcParseError; its line is the file's, not the tune's
                raise self.error(
                    inherited_field_error(getattr(err, "message", str(err)), letter)
                ) from None
