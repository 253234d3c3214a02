"""A tune's titles: the header's ``T:``, a ``T:`` after ``K:`` or in the body (a section's
title, the tune's when its header has none), those of voices that are not kept, and the names
messages give a tune (`header_title`, `tune_name`) read cheaply from its text. The parser's other
header and field handling is abc_header.py's, which re-exports these names."""

from __future__ import annotations

import re

from .abc_field_lines import abc_lines, field_value, header_fields, strip_comment, x_number
from .abc_parser_state import ParserState

__all__ = [
    "header_title",
    "text_tune_name",
    "tune_name",
    "TitleFields",
    "continued_values",
]


def continued_values(fields: dict[int, re.Match]) -> dict[int, str]:
    """The value of each field line among a header's ``fields`` (`header_fields`: their
    `field_match` by line index), with the values of the ``+:`` lines after it joined on,
    a space between (ABC 2.1: ``+:`` continues the field line just before it, a ``Q:`` or
    ``P:`` after ``K:`` too). A ``+:`` line that continues a field has no value of its own;
    one before any field line is a field ``+`` (nothing to continue, kept in `fields`).
    `header_title` reads the header's titles so, and `HeaderFields._parse_header` every field.

    >>> lines = ["X:1", "T:Reel", "M:4/4", "T:Alt", "+:title", "K:D", "Q:1/4=60", "+:slowly"]
    >>> continued_values(header_fields(lines)[1])
    {0: '1', 1: 'Reel', 2: '4/4', 3: 'Alt title', 5: 'D', 6: '1/4=60 slowly'}
    """
    values: dict[int, str] = {}
    last: int | None = None  # the field line a `+:` continues
    for i, m in fields.items():
        value = field_value(m[2])
        if m[1] == "+" and last is not None:
            values[last] += " " + value
        else:
            values[i], last = value, i
    return values


class TitleFields(ParserState):
    """Title handling of `_TuneParser` (`HeaderFields`, and so the parser, subclasses this).

    The parser supplies the state these methods read and write (`title`, `section_titles`,
    `other_voice_titles`, `tokens`, `markings`, `warnings`, `lineno`, `voice`...).
    """

    def _title_after_key(self, value: str, line_no: int) -> None:
        """Title a tune whose header has no ``T:`` by the first ``T:`` after ``K:`` (ABC 2.1
        makes that a section title; abc2midi, abcm2ps and music21 take it as the tune's), with a
        warning naming its line."""
        self.title = value
        self.warnings.append(
            f"line {line_no}: no T: before K:; the T: after K: ({value!r}, a section title in "
            "ABC 2.1) is taken as the tune's title"
        )

    def _section_title(self, value: str) -> None:
        """A ``T:`` in the body, a field line or inline ``[T:...]`` (not an inline field in ABC
        2.1, but abcm2ps prints it as the line it would be, and abc2midi passes over it): the
        title of the section that starts at the next token (`AbcTune.section_titles`). One
        before the first note of a tune without a header ``T:`` titles it (`_title_after_key`;
        abc2midi writes it as the track's name at the time it stands), as the ``T:`` line the
        writer writes for it reads back. Before the first note is before any sound: bar lines,
        rests (``z``, ``x``, ``y``), tuplet marks, and what the next note carries (chord
        symbols, annotations, decorations) may come before it; a note, a chord and a grace
        note group (``{g}[T:A]``: abc2midi plays the grace before the title) may not."""
        if self.title is None and not self._sounded():
            self._title_after_key(value, self.lineno)
        self.section_titles.append((len(self.tokens), value))

    def _sounded(self) -> bool:
        """Whether the body read so far sounds: a note or chord among the tokens, or a grace
        note group (not a token, but counted in `markings`)."""
        return bool(self.markings.get("grace")) or any(t.kind == "note" for t in self.tokens)

    def _other_voice_title(self, value: str) -> None:
        """A ``T:`` of a voice that is not kept (after ``V:2``, a field line or inline): a
        section title titles the section for every voice (abcm2ps prints it once, above the
        staves), so it is the tune's, where the kept voice stands (`AbcTune.section_titles`),
        unless the kept voice has one of that text (its copy), `_other_voice_titles`."""
        self.other_voice_titles[len(self.section_titles)] = (self.lineno, self.current_voice)
        self.section_titles.append((len(self.tokens), value))

    def _other_voice_titles(self) -> list[str]:
        """Keep the section titles of voices not kept (`_other_voice_title`) that the kept
        voice has no title of the same text for, with a warning naming each one's line, and
        drop the others, copies (``T:Part B`` written in each voice)."""
        own = {text for n, (_, text) in enumerate(self.section_titles)
               if n not in self.other_voice_titles}  # fmt: skip
        said, kept = [], []
        for n, (at, text) in enumerate(self.section_titles):
            if n not in self.other_voice_titles:
                kept.append((at, text))
            elif text not in own:
                own.add(text)
                line, voice = self.other_voice_titles[n]
                kept.append((at, text))
                said.append(
                    f"line {line}: the section title {text!r} of voice V:{voice}, not kept, is "
                    f"read as the tune's, where voice V:{self.voice} stands"
                )
        self.section_titles[:] = kept
        return said


def header_title(text: str) -> str:
    """The title `parse_abc` gives a tune's ``text`` (``""`` without one), cheaply: its header's
    first ``T:`` (comment dropped, ``+:`` continuation joined). A ``T:`` after ``K:`` titles a
    section of the body (ABC 2.1); the first one before the first note (a field line or an
    inline ``[T:...]``, chord symbols, bar lines and rests before it notwithstanding, not a
    grace note: `_section_title`) is the tune's title only when the header has none (as
    abc2midi and music21 read it). Only such a
    tune whose body holds a ``T:`` is parsed whole (`_body_title`); a tune the parser refuses
    has no title but its header's.

    >>> header_title("X:1\\nT:The Kesh % learnt from Bob\\nT:Kesh Jig\\nK:G\\nGAG|")
    'The Kesh'
    >>> header_title("X:1\\nT:\\nM:4/4\\nK:D\\ndfaf|\\nT:Part Two\\nabc|")  # empty T:
    ''
    >>> header_title("X:1\\nM:4/4\\nK:D\\nT:Part One\\ndfaf|")
    'Part One'
    >>> header_title("X:1\\nT:Reel\\nK:D\\nT:Part One\\ndfaf|")
    'Reel'
    >>> header_title('X:1\\nK:D\\n"D" |: z [T:Part One] df|'), header_title("X:1\\nK:D\\nd[T:B]e|")
    ('Part One', '')
    """
    # the field lines `_parse_header` reads (stray lines passed over), continued by `+:`
    lines = abc_lines(text)
    span, fields = header_fields(lines)
    titles = [(fields[i][1], value) for i, value in continued_values(fields).items()]
    before_k = titles[: next((n for n, (letter, _) in enumerate(titles) if letter == "K"), None)]
    for candidates in (before_k, titles):  # none before K: -> the first after it (`parse_abc`)
        for letter, value in candidates:
            if letter == "T":
                return value
    if span.ended or not any("T:" in strip_comment(line) for line in lines[span.end :]):
        return ""  # no music, or no T: line nor [T:] among it
    return _body_title(text)


def tune_name(x: str, title: str) -> str:
    """How messages name a tune: ``X:23 The Kesh``, its ``X:`` number and title, either alone
    where the other is not known, ``""`` where neither is (books repeat titles, and numbers).

    >>> tune_name("23", "The Kesh"), tune_name("", "The Kesh"), tune_name("23", "")
    ('X:23 The Kesh', 'The Kesh', 'X:23')
    """
    return " ".join(part for part in (f"X:{x}" if x else "", title) if part)


def text_tune_name(text: str) -> str:
    """`tune_name` of a tune's text, read or not: its first line's ``X:`` (`x_number`) and
    its header's title (`header_title`).

    >>> text_tune_name("X:23\\nT:The Kesh\\nK:G\\nGA[B|")
    'X:23 The Kesh'
    """
    return tune_name(x_number(text), header_title(text))


def _body_title(text: str) -> str:
    """The title `parse_abc` reads from the body of a tune whose header has no ``T:`` (the
    section title before its first note, `_section_title`), ``""`` when it refuses the tune.
    The whole parse, as only it knows where the first note is (voices, overlays, decorations,
    ``I:linebreak !``...): `header_title` calls it only for such a tune with a ``T:`` there."""
    from .abc_parser import parse_abc  # abc_parser imports this module
    from .abc_tune import AbcParseError

    try:
        return parse_abc(text).title
    except AbcParseError:
        return ""
