"""The lines of ABC text as the reader reads them: line ends (`unix_text`, `abc_lines`), ``%``
comments, field lines and the music that looks like one, stray text in a tune's header, and
where the header ends and the body starts (`header_span`). The tunebook built on them (its file
header, line folding, the cut into tunes) is abc_tunebook.py's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "abc_lines",
    "HeaderSpan",
    "header_span",
    "stray_line_warning",
    "unix_text",
    "x_number",
    "X_RE",
    "field_match",
    "field_value",
    "fields_follow",
    "header_fields",
    "prose_word",
    "stray_header_line",
    "strip_comment",
]

_FIELD_RE = re.compile(r"([A-Za-z+]):(.*)")
#: a line of music that opens like a field line: a note, or a rest (``z``, ``x``: no field has
#: those letters), before a repeat sign (``A:|``, ``z:|``, ``x::``)
_MUSIC_NOT_FIELD_RE = re.compile(r"[A-Ga-gxz]:[|:]")
#: an ``X:`` line: indented or not, as any field line (`field_match`)
X_RE = re.compile(r"\s*X:")
#: a byte-order mark at the start of a line (`unix_text`)
_LINE_BOM_RE = re.compile("^\ufeff+", re.M)


def unix_text(text: str) -> str:
    """ABC ``text`` as the reader reads it: CR LF and CR line ends read as LF, and a byte-order
    mark at the start of any line dropped (``cat a.abc b.abc`` of two files saved with one puts
    one before the second file's ``X:``; a BOM is no text).

    >>> unix_text("\\ufeffX:1\\r\\nK:D\\rD|\\n\\ufeffX:2")
    'X:1\\nK:D\\nD|\\nX:2'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _LINE_BOM_RE.sub("", text) if "\ufeff" in text else text


def abc_lines(text: str) -> list[str]:
    """The lines of ABC ``text`` as the parser reads them (`unix_text`): split at LF, CR LF and CR
    only, not at the other breaks `str.splitlines` takes (U+2028, U+0085, form feed, vertical
    tab...), which the parser keeps inside a line; a byte-order mark opening a line dropped.

    >>> abc_lines("T:Reel\\u2028of Tulloch\\r\\nK:D\\r\\ufeffDEF|")
    ['T:Reel\\u2028of Tulloch', 'K:D', 'DEF|']
    """
    return unix_text(text).split("\n")


def strip_comment(line: str) -> str:
    """``line`` without its ``%`` comment (``\\%`` is an escaped, literal percent sign)."""
    i = line.find("%")
    while i > 0 and line[i - 1] == "\\":
        i = line.find("%", i + 1)
    return line if i < 0 else line[:i]


def field_value(value: str) -> str:
    """A field's value as text: stripped, with ``\\%`` unescaped."""
    return value.strip().replace("\\%", "%")


def field_match(line: str) -> re.Match | None:
    """The ``letter:value`` match of a field line (leading blanks allowed), or None for music
    (``A:|`` is a note and a repeat sign, ``z:|`` a rest and one, not fields)."""
    m = _FIELD_RE.match(line, len(line) - len(line.lstrip()))
    if m is None or _MUSIC_NOT_FIELD_RE.match(line, m.start()):
        return None
    return m


_NOTE_OR_REST_RE = re.compile(r"[A-Ga-gxzXZ]")
_NOT_NOTES_RE = re.compile(r'"[^"]*"|![^!]*!|\+[^+]*\+|\[[A-Za-z]:[^\]]*\]')
_WORD_RE = re.compile(r"[A-Za-z]{4,}")
_MUSIC_LETTERS = frozenset("ABCDEFGabcdefgzxZXHLMOPSTuv")  # notes, rests, decorations


def prose_word(line: str) -> re.Match | None:
    """The first word of ``line`` that no line of music holds (see `_refuse_prose`)."""
    masked = _NOT_NOTES_RE.sub(lambda m: " " * len(m[0]), line)
    for word in _WORD_RE.finditer(masked):
        if sum(ch not in _MUSIC_LETTERS for ch in word[0]) >= 2:
            return word
    return None


def fields_follow(lines: Sequence[str], blank: int, stop: int) -> bool:
    """Whether the next non-blank line after ``lines[blank]`` (before ``lines[stop]``) is a
    field line."""
    for i in range(blank + 1, stop):
        line = strip_comment(lines[i])
        if line.strip():
            return field_match(line) is not None
    return False


def stray_header_line(lines: Sequence[str], i: int) -> bool:
    """Whether ``lines[i]``, a line before ``K:`` that is not a field line, is stray text inside
    the header (a bare ``N``, ``I :: ::``, ``3/8=120``, a note without its ``N:``): it holds
    no note or rest, or a word (`prose_word`), and the lines after it are field lines (or
    comment lines) up to a ``K:`` line. The header goes on past it, as abc2midi ("Ignoring
    text") and music21 read it, instead of the music starting there.

    >>> stray_header_line(["X:1", "N", "M:6/8", "K:G", "GAB|"], 1)
    True
    >>> stray_header_line(["X:1", "T:t", "GAB|", "K:G"], 2)  # music in a tune without K:
    False
    >>> stray_header_line(["X:1", "I :: ::", "", "K:G"], 1)  # a blank line: the body's
    False
    """
    line = strip_comment(lines[i])
    if _NOTE_OR_REST_RE.search(line) and prose_word(line) is None:
        return False
    for j in range(i + 1, len(lines)):
        line = strip_comment(lines[j])
        if not line.strip():
            if "%" in lines[j]:  # a comment line
                continue
            return False
        m = field_match(line)
        if m is None:
            return False
        if m[1] == "K":
            return True
    return False


def stray_line_warning(line: int, text: str) -> str:
    """The warning for the stray header line ``text`` at ``line`` (1-based) that the reader
    passes over (`stray_header_line`).

    >>> stray_line_warning(3, "I :: ::")
    "line 3 of the header, 'I :: ::', is not a field: ignored (more fields and K: follow)"
    """
    more = "ignored (more fields and K: follow)"
    return f"line {line} of the header, {text.strip()!r}, is not a field: {more}"


class HeaderSpan(NamedTuple):
    """Where a tune's header lies among its lines, as the reader reads it (`header_span`)."""

    #: index of the first line after the header: the first line of the body (music, or a
    #: ``V:`` line after ``K:``), or the blank line that ends the tune in its header (`ended`);
    #: the number of lines when the header runs to the end
    end: int
    #: indices of the stray lines in the header that the reader passes over with a warning
    #: (`stray_header_line`: a bare ``N``, ``I :: ::``); every other line before `end` is a
    #: field, comment or blank line
    stray: tuple[int, ...]
    #: a blank line before ``K:`` that no field line follows ends the tune (ABC 2.1): it has no
    #: body, and the lines from `end` on are not read
    ended: bool


def header_span(lines: Sequence[str]) -> HeaderSpan:
    """Which of a tune's ``lines`` (`abc_lines`, folded by `fold_lines` where it `needs_folding`)
    are its header, which of those are stray text, and where its body starts: the rule of the
    parser (which reads the header with it), for whoever needs the tune's lines as the reader
    sees them (`render` gives verovio the header without the stray lines).

    The header runs to the first line that is neither a field line, a comment or blank line,
    nor stray text before ``K:``, or to a ``V:`` line after ``K:`` (which selects a voice). Its
    field lines after ``K:`` are the body's start (ABC 2.1: the header ends with ``K:``), which
    the parser reads with the header (`HeaderFields._body_start_field`).

    >>> header_span(["X:1", "T:t", "N", "M:6/8", "K:G", "V:1", "GAB|"])
    HeaderSpan(end=5, stray=(2,), ended=False)
    >>> header_span(["X:1", "T:t", "", "Some words.", "GAB|"])
    HeaderSpan(end=2, stray=(), ended=True)
    """
    return header_fields(lines)[0]


def header_fields(lines: Sequence[str]) -> tuple[HeaderSpan, dict[int, re.Match]]:
    """`header_span`, and the `field_match` of each field line in the header by its index:
    one walk over the header for the parser, which reads those fields (`_parse_header`)."""
    seen_k = False
    stray: list[int] = []
    fields: dict[int, re.Match] = {}
    for i, raw in enumerate(lines):
        line = strip_comment(raw)
        if not line.strip():
            if not seen_k and "%" not in raw and not fields_follow(lines, i, len(lines)):
                return HeaderSpan(i, tuple(stray), True), fields
            continue
        m = field_match(line)
        if m is None and not seen_k and stray_header_line(lines, i):
            stray.append(i)
            continue
        if m is None or (seen_k and m[1] == "V"):
            return HeaderSpan(i, tuple(stray), False), fields
        fields[i] = m
        seen_k = seen_k or m[1] == "K"
    return HeaderSpan(len(lines), tuple(stray), False), fields


def x_number(tune: str) -> str:
    """The ``X:`` value `parse_abc` reads from a tune's first line (stripped, comment dropped),
    ``""`` when the tune does not open with an ``X:`` line: what names the tune in its ids.

    >>> [x_number(f"{first}\\nK:G\\nG|") for first in ("X: 1 % Alpha", " X:1", "T:Beta")]
    ['1', '1', '']
    """
    first = strip_comment(tune.split("\n", 1)[0].removeprefix("\ufeff"))
    m = X_RE.match(first)
    return field_value(first[m.end() :]) if m else ""
