"""The text of an ABC tunebook: its file header (`file_header_fields`) and the directives the
reader reads or warns of, line folding (``%%begintext``, continued lines), and the cut into
tunes (`split_tunebook`). Its lines, comments and field lines, and where a tune's header ends,
are abc_field_lines.py's (`abc_lines`, `unix_text`, `header_span`, `x_number` are re-exported)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from .abc_field_lines import (
    X_RE,
    HeaderSpan,
    abc_lines,
    field_match,
    field_value,
    fields_follow,
    header_span,
    prose_word,
    stray_header_line,
    strip_comment,
    unix_text,
    x_number,
)
from .abc_tempo import tempo_form_warning

# abc_field_lines.py's public names are re-exported: the package and its users import them from
# here (and from abc_header.py)
__all__ = [
    "abc_lines",
    "unix_text",
    "bang_is_line_break",
    "directive_fields",
    "header_directive_fields",
    "propagate_accidentals",
    "PROPAGATE_ACCIDENTALS",
    "NO_ENDTEXT",
    "NOT_READ_AFTER_BLANK",
    "begintext_warning",
    "blank_line_warning",
    "file_header_fields",
    "file_header_lines",
    "file_header_tempo_forms",
    "file_header_transposes",
    "fold_lines",
    "HeaderSpan",
    "header_span",
    "needs_folding",
    "split_tunebook",
    "split_tunebook_noted",
    "transpose_directive_warning",
    "tune_end",
    "unnumbered_tunes",
    "with_file_header",
    "header_field_line",
    "inherited_field_error",
    "written_header_places",
    "x_number",
    "header_setting",
    "DIRECTIVE",
    "directive_settings",
]

#: fields of a file header (ABC 2.1 §2.2.2) that do not carry over into its tunes
_NOT_INHERITED = frozenset("XTKPVWw+")
#: a ``%%linebreak`` or ``%%propagate-accidentals`` directive, the same as the ``I:`` field of
#: its name (ABC 2.1 §6.1.1, §11): the two directives the reader reads
_I_DIRECTIVE_RE = re.compile(r"\s*%%((?:linebreak|propagate-accidentals)\b[^%]*)")
#: how far a bar's accidental reaches by ``propagate-accidentals`` (ABC 2.1 §11.3): its note
#: alone, its octave, or its letter in every octave (the default)
PROPAGATE_ACCIDENTALS = ("not", "octave", "pitch")
#: an abc2midi ``%%MIDI`` directive (``%%MIDI program 73``), the same as the ``I:MIDI`` field: a
#: file header's applies to every tune (abc2midi), so it is written in, as written
_MIDI_DIRECTIVE_RE = re.compile(r"\s*%%(MIDI\b[^%]*)")
#: a tune's own directive line, ``%%`` or ``I:`` (ABC 2.1 §11: the same), and its value
#: (``%%MIDI program 22``, ``I:linebreak !``, ``%%propagate-accidentals not``)
_OWN_DIRECTIVE_RE = re.compile(r"\s*(?:%%|I:\s*)(\w[\w-]*[^%]*)")
#: the letter `file_header_fields` gives a ``%%`` directive line (``%%MIDI program 73``): the
#: ``I:`` field it equals, written back as the user wrote it (`with_file_header`)
DIRECTIVE = "%%"


def file_header_fields(text: str) -> list[tuple[str, str]]:
    """The fields of a tunebook's file header, which apply to every tune that does not set them
    (ABC 2.1 §2.2.2): the field lines before the first ``X:`` line, in blocks made only of
    field and comment lines (free text around them is not a header). ``X T K P V W w`` do not
    carry over. A ``%%linebreak`` or ``%%propagate-accidentals`` directive is given as the
    ``I:`` field it equals (`directive_fields`), and so is a ``%%MIDI`` one (``%%MIDI program
    73``: `render` plays it in every tune, as abc2midi does), under the letter `DIRECTIVE`
    (``%%``), so that it is written into a tune, and said, as the user wrote it.

    >>> file_header_fields("%abc-2.1\\nM:2/4\\nL:1/16\\nR:polka\\n\\nX:1\\nK:G\\nGA|")
    [('M', '2/4'), ('L', '1/16'), ('R', 'polka')]
    >>> file_header_fields("%%linebreak !\\nI:MIDI program 73\\n\\nX:1\\nK:G\\nGA|")
    [('%%', 'linebreak !'), ('I', 'MIDI program 73')]
    """
    return [(letter, value) for _, _, letter, value in _numbered_file_header(text)]


def file_header_lines(text: str) -> list[tuple[int, int]]:
    """The line of the tunebook ``text`` (from 1) each of its `file_header_fields` is on, and
    the column its value starts at (as the reader gives a tune's own field's), in their order:
    where the reader names a warning or an error of a file-header field applied to a tune
    (`parse_abc`'s ``file_header_lines``), not at the tune's ``X:`` line.

    >>> file_header_lines("%abc-2.1\\nM: 2/4\\n% a comment\\nL:1/16\\n%%MIDI program 73\\n\\nX:1")
    [(2, 4), (4, 3), (5, 3)]
    """
    return [(line, column) for line, column, _, _ in _numbered_file_header(text)]


def _numbered_file_header(text: str) -> list[tuple[int, int, str, str]]:
    """``(line from 1, column of the value, letter, value)`` of each of the
    `file_header_fields` of ``text``."""
    lines = abc_lines(text)
    first = next((i for i, line in enumerate(lines) if X_RE.match(line)), None)
    if not first:
        return []
    found: list[tuple[int, int, str, str]] = []
    block: list[tuple[int, int, str, str]] = []
    prose = False
    for number, raw in enumerate([*lines[:first], ""], 1):
        if not raw.strip():  # a blank line closes a block
            found += [] if prose else block
            block, prose = [], False
            continue
        directive = _I_DIRECTIVE_RE.match(raw) or _MIDI_DIRECTIVE_RE.match(raw)
        if directive:  # as `header_directive_fields` reads it
            block.append((number, directive.start(1) + 1, DIRECTIVE, directive[1].strip()))
            continue
        line = strip_comment(raw).rstrip("\r")
        if not line.strip():  # a comment or `%%` directive
            continue
        m = field_match(line)
        if m is None:
            prose = True
        elif m[1] not in _NOT_INHERITED:
            column = m.start(2) + 1 + len(m[2]) - len(m[2].lstrip())  # as `HeaderFields` says
            block.append((number, column, m[1], field_value(m[2])))
    return found


#: a transposing directive in a tune or a file header: abcm2ps's ``%%transpose N`` (the score
#: is printed N semitones off; abc2midi ignores it) and abc2midi's ``%%MIDI transpose N``
#: (played N off), also as an ``I:`` field; neither changes the written notes, which the tokens
#: keep
_TRANSPOSE_DIRECTIVE_RE = re.compile(r"\s*(?:%%|I:\s*|\[I:\s*)(MIDI\s+)?transpose\b[^\]%]*")
#: what the warning of a transposing directive says the reader does (`check_text` logs them)
_PLAYED_AS_WRITTEN = "read and played as written"


def _transpose_directive(text: str) -> str | None:
    """The transposing directive ``text`` opens with (``%%MIDI transpose -2``, without the
    ``[`` of an inline field or a comment), or None."""
    m = _TRANSPOSE_DIRECTIVE_RE.match(text)
    return None if m is None else m[0].strip().lstrip("[")


def transpose_directive_warning(text: str, line: int) -> str | None:
    """The warning of a transposing directive ``text`` (a ``%%`` line, an ``I:`` field line or
    an inline ``[I:...]``) on line ``line`` of a tune, or None when it is none: the reader
    keeps the notes as written, so the rows, and the MIDI of `render`, do not transpose.

    >>> transpose_directive_warning("%%MIDI transpose -2", 7)
    '%%MIDI transpose -2 not read (line 7): the notes are read and played as written'
    >>> transpose_directive_warning("%%titlefont Times 14", 7) is None
    True
    """
    said = _transpose_directive(text)
    if said is None:
        return None
    return f"{said} not read (line {line}): the notes are {_PLAYED_AS_WRITTEN}"


def file_header_transposes(text: str) -> list[str]:
    """The warnings of the transposing directives (`transpose_directive_warning`) in the file
    header of the tunebook ``text`` (its lines before the first ``X:`` line), each naming its
    line of the file: they would apply to every tune and none is read, so they are said once
    for the file, not once a tune (they were passed over without a word).

    >>> said = file_header_transposes("%%MIDI transpose -2\\nM:6/8\\n\\nX:1\\nK:G\\nGA|")
    >>> said == ["%%MIDI transpose -2 in the file header not read (line 1): the notes of "
    ...          "every tune are read and played as written"]
    True
    """
    lines = abc_lines(text)
    numbered = [i for i, line in enumerate(lines) if X_RE.match(line)]
    directives = [
        (i, _transpose_directive(line)) for i, line in enumerate(lines[: min(numbered, default=0)])
    ]
    found = [(i, said) for i, said in directives if said is not None]
    if found:  # not one in a tune without X: before the first X: (that tune says it)
        first = min(unnumbered_tunes(lines, numbered), default=len(lines))
        found = [(i, said) for i, said in found if i < first]
    return [
        f"{said} in the file header not read (line {i + 1}): the notes of every tune are "
        f"{_PLAYED_AS_WRITTEN}"
        for i, said in found
    ]


def file_header_tempo_forms(text: str) -> list[str]:
    """The warnings of the ``Q:`` fields of the file header of the tunebook ``text`` whose beat
    is not ABC 2.1 (`tempo_form_warning`), each at its line of the file, as the reader says
    them in a tune of the book (`parse_abc`'s ``file_header_lines``): `text_tunes` says them
    once for the file, not once a tune (`RawTune.own_warnings`).

    >>> file_header_tempo_forms("Q:=120\\n\\nX:1\\nK:G\\nGA|")[0][:37]
    "Q:=120 (the file header's, line 1) is"
    """
    places = file_header_lines(text)
    found = (
        tempo_form_warning(value, f"the file header's, line {line}")
        for (letter, value), (line, _) in zip(file_header_fields(text), places)
        if letter == "Q"
    )
    return [said for said in found if said is not None]


def directive_fields(lines: Iterable[str]) -> list[str]:
    """The ``I:`` values that the ``%%linebreak`` and ``%%propagate-accidentals`` directive
    lines among ``lines`` equal (ABC 2.1 §11: a ``%%`` directive is the ``I:`` field of the same
    name).

    >>> directive_fields(["X:1", "%%linebreak ! % old style", "%%propagate-accidentals not"])
    ['linebreak !', 'propagate-accidentals not']
    """
    return [m[1].strip() for line in lines if (m := _I_DIRECTIVE_RE.match(line))]


def header_directive_fields(lines: Iterable[str]) -> list[str]:
    """The ``I:`` values that the ``%%`` directive lines among ``lines`` that a header keeps
    equal: ``%%linebreak`` and ``%%propagate-accidentals`` (`directive_fields`) and abc2midi's
    ``%%MIDI`` (``I:MIDI``). One rule for a file header's (`file_header_fields`) and a tune's
    own (`HeaderDirectives._header_directive`), so that a tune read in its tunebook and alone
    (its file header written in, `with_file_header`) has the same ``fields["I"]``.

    >>> header_directive_fields(["%%MIDI program 73 % flute", "%%linebreak !", "%%score 1"])
    ['MIDI program 73', 'linebreak !']
    """
    return [
        m[1].strip()
        for line in lines
        if (m := _I_DIRECTIVE_RE.match(line) or _MIDI_DIRECTIVE_RE.match(line))
    ]


def propagate_accidentals(values: Iterable[str]) -> tuple[str, str | None]:
    """How far a bar's accidental reaches (`PROPAGATE_ACCIDENTALS`) under a tune's ``I:``
    field ``values`` (as `bang_is_line_break` takes them): the last ``propagate-accidentals``
    among them, else ``pitch``, the ABC 2.1 default; and the value that is none of the three,
    if the last one is such (the default is kept), for a warning.

    >>> propagate_accidentals(["linebreak !", "propagate-accidentals octave"])
    ('octave', None)
    >>> propagate_accidentals([]), propagate_accidentals(["propagate-accidentals bar"])
    (('pitch', None), ('pitch', 'bar'))
    """
    scope, unknown = "pitch", None
    for value in values:
        words = value.split()
        if words and words[0] == "propagate-accidentals":
            said = " ".join(words[1:2])
            scope, unknown = (said, None) if said in PROPAGATE_ACCIDENTALS else ("pitch", said)
    return scope, unknown


def bang_is_line_break(values: Iterable[str]) -> bool:
    """Whether ``!`` is a line break in a tune's body (ABC 2.1 §6.1.1), not the bracket of a
    decoration, under its ``I:`` field ``values`` (its header's, then the file header's it does
    not override, then its `directive_fields`): the last ``linebreak`` among them names
    ``!``. The parser lexes the body by it; `render` gives verovio such a ``!`` as a line break.

    >>> bang_is_line_break(["abc-charset utf-8", "linebreak <EOL> !"])
    True
    >>> bang_is_line_break(["linebreak !", "linebreak $"])
    False
    """
    breaks = False
    for value in values:
        words = value.split()
        if words and words[0] == "linebreak":
            breaks = "!" in words[1:]
    return breaks


def header_setting(letter: str, value: str) -> str:
    """What a header field sets, which a tune's own field of the same setting overrides: its
    letter, for ``I:`` its directive (``I:linebreak !`` and ``I:abc-charset`` are two; for
    ``I:MIDI``, abc2midi's directive: ``I:MIDI program`` and ``I:MIDI gchord`` are two), for
    ``U:`` its symbol (``U: W = !trill!`` and ``U: T = !fermata!`` are two).

    >>> header_setting("M", "6/8"), header_setting("I", "linebreak !")
    ('M', 'I:linebreak')
    >>> header_setting("U", " W = !trill!"), header_setting("I", "MIDI program 73")
    ('U:W', 'I:MIDI program')
    """
    if letter == "U":
        return "U:" + value.strip()[:1]
    if letter not in ("I", DIRECTIVE):  # `%%MIDI program` is `I:MIDI program`
        return letter
    words = value.split()
    return "I:" + " ".join(words[:2] if words[:1] == ["MIDI"] else words[:1])


def directive_settings(lines: Iterable[str]) -> set[str]:
    """The `header_setting` (``I:linebreak``, ``I:MIDI program``) of each ``%%`` directive line
    and ``I:`` field line among a tune's ``lines`` (those before its music, after ``K:`` too):
    the tune sets these itself, so a file header's of the same setting is neither written in
    (`with_file_header`) nor applied (the tune's alone holds, as abc2midi plays the later one;
    written in too, it was a second one, which `%%MIDI program` played twice).

    >>> sorted(directive_settings(["X:1", "%%MIDI program 22", "K:G", "I:MIDI gchord fzf"]))
    ['I:MIDI gchord', 'I:MIDI program']
    >>> sorted(directive_settings(["%%linebreak <EOL>", "%%propagate-accidentals not", "%abc"]))
    ['I:linebreak', 'I:propagate-accidentals']
    """
    found = (_OWN_DIRECTIVE_RE.match(line) for line in lines)
    return {header_setting("I", m[1].strip()) for m in found if m}


def header_field_line(letter: str, value: str) -> str:
    """The line `with_file_header` writes into a tune for the file-header field ``(letter,
    value)`` (`file_header_fields`): ``M:2/4``, or a directive as written (`DIRECTIVE`). Its
    value starts at column 3.

    >>> header_field_line("M", "2/4"), header_field_line(DIRECTIVE, "MIDI program 73")
    ('M:2/4', '%%MIDI program 73')
    """
    return f"{letter}{value}" if letter == DIRECTIVE else f"{letter}:{value}"


def inherited_field_error(message: str, letter: str) -> str:
    """The reader's error ``message`` of a file-header field (``letter``: ``M``; ``I`` for a
    directive) applied to a tune: said to be the file header's, not the tune's own field's.

    >>> inherited_field_error("cannot read meter '7/x'", "M")
    "cannot read meter '7/x' (the file header's M: field, before the first X: line, applied to this tune)"
    """  # noqa: E501
    return (
        f"{message} (the file header's {letter}: field, before the first X: line, applied to "
        "this tune)"
    )


def written_header_places(
    written: Sequence[str], header: Sequence[tuple[str, str]], places: Sequence[tuple[int, int]]
) -> tuple[tuple[int, int], ...]:
    """Where in the tunebook each of the lines ``written`` is (its line and its value's column,
    `file_header_lines`): the file-header fields `with_file_header` wrote into a tune, in the
    order of ``header`` (`file_header_fields`) at ``places``. Empty when a line is not one of
    them (nothing known then: the tune's ``X:`` line stands for them all).

    >>> written_header_places(["L:1/16"], [("M", "2/4"), ("L", "1/16")], [(2, 3), (3, 4)])
    ((3, 4),)
    """
    fields = iter(zip(header, places))
    found = []
    for line in written:
        place = next((at for (k, v), at in fields if header_field_line(k, v) == line), None)
        if place is None:
            return ()
        found.append(place)
    return tuple(found)


def with_file_header(tune: str, header: list[tuple[str, str]]) -> str:
    """``tune``'s text with the file-header fields its header (up to ``K:``) does not set
    itself written in after its first line (its ``X:``), so that the text reads alone as it
    reads in its tunebook (the lines after them move down by as many lines). A field between
    ``K:`` and the music is the body's start, not the header's (a ``Q:`` there is a tempo
    change): the file header's field is written in all the same, as the parser applies it;
    but not a directive (``%%linebreak``, ``%%MIDI program``) that the tune sets itself before
    its music, ``%%`` or ``I:`` (`directive_settings`: its own is its only one). A directive is
    written as written (`DIRECTIVE`).

    >>> print(with_file_header("X:1\\nR:reel\\nK:G\\nGA|", [("L", "1/16"), ("R", "polka")]))
    X:1
    L:1/16
    R:reel
    K:G
    GA|
    """
    own = set()
    lines = tune.split("\n")
    for i, raw in enumerate(lines):
        line = strip_comment(raw)
        if not line.strip():
            continue
        m = field_match(line)
        if m is None:
            if "K" not in own and stray_header_line(lines, i):
                continue  # the header goes on past it, as the parser reads it
            break
        own.add(header_setting(m[1], field_value(m[2])))
        if m[1] == "K":  # the header ends; the fields after it are the body's start
            break
    own |= directive_settings(lines[: header_span(lines).end])
    missing = [header_field_line(k, v) for k, v in header if header_setting(k, v) not in own]
    if not missing:
        return tune
    first, _, rest = tune.partition("\n")
    return "\n".join([first, *missing, rest])


def split_tunebook(text: str, standalone: bool = False) -> Iterator[tuple[int, str]]:
    """Yield ``(line offset, text)`` of each tune of a tunebook: the 0-based index of its first
    line and its text, from its ``X:`` line to where the tune ends (`tune_end`). Outside the
    numbered tunes, a block whose header has a ``K:`` field and music after it is a tune without
    an ``X:`` line (`unnumbered_tunes`), in a book with ``X:`` lines as in one without; other
    text is free text and belongs to no tune (ABC 2.1). The text is read as `unix_text` reads it
    (CR LF and CR line ends as LF, a byte-order mark at the start of any line dropped); an
    ``X:`` line may be indented, as any field line, and its tune's text starts at its ``X``.
    `split_tunebook_noted` also says where music was left out.

    Args:
        text: the tunebook.
        standalone: write the file header's fields (`file_header_fields`) into every tune that
            does not set them (`with_file_header`), so that each text reads alone as it reads in
            its book; the parser, which is given the header, does not need them.

    >>> book = "M:6/8\\nX:1\\nK:G\\n\\nGAB|\\n\\nfree text\\n\\nX:2\\nK:G\\nG<<A|"
    >>> list(split_tunebook(book))
    [(1, 'X:1\\nK:G\\n\\nGAB|\\n'), (8, 'X:2\\nK:G\\nG<<A|\\n')]
    >>> [text for _, text in split_tunebook(book, standalone=True)][1]
    'X:2\\nM:6/8\\nK:G\\nG<<A|\\n'
    >>> [start for start, _ in split_tunebook("X:1\\nK:G\\nGA|\\n\\nT:b\\nK:D\\nDE|\\n")]
    [0, 4]
    >>> list(split_tunebook("\\ufeffX:1\\nK:G\\nGA|\\n\\ufeffX:2\\nK:D\\nDE|\\n  X:3\\nK:A\\nA|"))
    [(0, 'X:1\\nK:G\\nGA|\\n'), (3, 'X:2\\nK:D\\nDE|\\n'), (6, 'X:3\\nK:A\\nA|\\n')]
    """
    for start, tune, _ in split_tunebook_noted(text, standalone):
        yield start, tune


def split_tunebook_noted(
    text: str, standalone: bool = False
) -> Iterator[tuple[int, str, list[str]]]:
    """`split_tunebook`'s ``(line offset, text)`` of each tune, and the warnings of what the
    cut leaves out or changes around it:

    - lines of music in the free text after the blank line that ends the tune, before the next
      tune: a blank line inside a tune ends it there, and they are not read
      (`blank_line_warning`; free text that holds words or fields is not music, and not named);
    - a ``%%begintext`` block without ``%%endtext`` in the tune or in the free text before it,
      ended at the next ``X:`` line (`begintext_warning`; see `fold_lines`).

    >>> book = "X:1\\nK:D\\nDEFG|\\n\\nfgaf|\\n\\nWords about it\\n\\nX:2\\nK:G\\nG|"
    >>> [[note[:40] for note in notes] for _, _, notes in split_tunebook_noted(book)]
    [['1 line(s) after the blank line 4 not rea'], []]
    """
    text = unix_text(text)
    lines = text.split("\n")
    unclosed: list[int] = []
    folded = fold_lines(lines, unclosed) if needs_folding(text) else lines  # where tunes end
    header = file_header_fields(text) if standalone else []
    numbered = [i for i, line in enumerate(folded) if X_RE.match(line)]
    starts = sorted(numbered + unnumbered_tunes(folded, numbered))
    before = 0  # where the free text before the tune starts
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        end = tune_end(folded, start, stop)
        # an indented X: line (`X_RE`) is written from its `X`: readers of the text find it
        tune = "\n".join([lines[start].lstrip(), *lines[start + 1 : end]]) + "\n"
        notes = [begintext_warning(i + 1) for i in unclosed if before <= i < end]
        music = _music_lines(folded, end + 1, stop)
        if music:
            notes.append(blank_line_warning(len(music), end + 1, music[0] + 1))
        before = end
        yield start, with_file_header(tune, header) if header else tune, notes


#: what `begintext_warning` says of its block (`check_text` logs those warnings)
NO_ENDTEXT = "has no %%endtext"


def begintext_warning(line: int) -> str:
    """The warning for a ``%%begintext`` block at ``line`` (1-based) that no ``%%endtext``
    closes (`fold_lines` ends it at the next ``X:`` line).

    >>> begintext_warning(7)
    '%%begintext at line 7 has no %%endtext: its text ends at the next X: line (or the end)'
    """
    return (
        f"%%begintext at line {line} {NO_ENDTEXT}: its text ends at the next X: line (or the end)"
    )


def _music_lines(lines: list[str], start: int, stop: int) -> list[int]:
    """Indexes of the lines of ``lines[start:stop]`` (free text) that look like music: not
    blank or a comment, not a field line, and no word that no line of music holds."""
    found = []
    for i in range(start, stop):
        line = strip_comment(lines[i])
        if line.strip() and field_match(line) is None and prose_word(line) is None:
            found.append(i)
    return found


#: what `blank_line_warning` says of the lines it names (`check_text` logs those warnings)
NOT_READ_AFTER_BLANK = "not read (a blank line ends a tune)"


def blank_line_warning(count: int, blank: int, first: int) -> str:
    """The warning for ``count`` lines after the blank line ``blank`` that ends a tune, from
    line ``first`` (1-based line numbers), which are not read.

    >>> blank_line_warning(2, 4, 5)
    '2 line(s) after the blank line 4 not read (a blank line ends a tune), the first at line 5'
    """
    lines = f"{count} line(s) after the blank line {blank}"
    return f"{lines} {NOT_READ_AFTER_BLANK}, the first at line {first}"


def tune_end(lines: list[str], start: int, stop: int) -> int:
    """Index of the line after the last line of the tune that starts at ``lines[start]`` and
    cannot run past ``lines[stop]``, by the parser's rule: a blank line ends a tune (ABC 2.1),
    except a blank line in the header that more fields follow, or one between the header and the
    first line of music; a line holding only a ``%`` comment is not blank.

    >>> tune_end(["X:1", "T:a", "", "K:G", "", "GA|", "", "words"], 0, 8)
    6
    """
    seen_k = started = False
    for i in range(start, stop):
        line = strip_comment(lines[i])
        if not line.strip():
            if "%" in lines[i]:
                continue
            if started or (not seen_k and not fields_follow(lines, i, stop)):
                return i
            continue
        if not started:
            m = field_match(line)
            started = m is None or (seen_k and m[1] == "V")
            seen_k = seen_k or (m is not None and m[1] == "K")
    return stop


_TEXT_START_RE = re.compile(r"\s*%%begintext\b")
_TEXT_END_RE = re.compile(r"\s*%%endtext\b")


def needs_folding(text: str) -> bool:
    """Whether `fold_lines` can change any line of ``text`` (a quick test on the whole text)."""
    return "\\" in text or "%%begintext" in text


def fold_lines(lines: list[str], unclosed: list[int] | None = None) -> list[str]:
    """``lines`` with what is not music or a field taken out, each taken line left as a ``%``
    comment so that line numbers hold:

    - the text of a ``%%begintext`` ... ``%%endtext`` block (typeset text, blank lines included);
      a block that no ``%%endtext`` closes before the next ``%%begintext`` or the end ends at the
      next ``X:`` line (else it would take in every later tune), and its index is appended to
      ``unclosed`` when a list is given;
    - continued lines (ABC 2.1 §6.1.1): a header field whose text ends with ``\\`` (before any
      comment) takes in the next line, and a ``%%`` directive ending with ``\\`` the next line
      (BarFly's ``%%Bfly`` lines). Fields among the music (``w:`` lyrics ending with ``\\``)
      are left alone, so that no line of music is taken for their text; lines of music ending
      with ``\\`` too: the lexer reads them as one line already.

    >>> fold_lines(["X:1", "T:The Kesh\\\\", " Jig", "%%begintext", "", "words", "%%endtext"])
    ['X:1', 'T:The Kesh Jig', '%', '%', '%', '%', '%']
    >>> fold_lines(["X:1", "K:G", "G|", "%%begintext", "words", "X:2", "K:D", "D|"])
    ['X:1', 'K:G', 'G|', '%', '%', 'X:2', 'K:D', 'D|']
    """
    out = list(lines)
    i, n = 0, len(out)
    in_header = True  # from an X: line to the first line of music
    while i < n:
        line = out[i]
        if X_RE.match(line):
            in_header = True
        elif in_header and strip_comment(line).strip() and field_match(strip_comment(line)) is None:
            in_header = False
        if _TEXT_START_RE.match(line):
            i = _fold_text_block(out, i, unclosed)
            continue
        if "\\" in line:
            i = _fold_continued(out, i, in_header)
        i += 1
    return out


def _fold_text_block(out: list[str], first: int, unclosed: list[int] | None) -> int:
    """Turn the ``%%begintext`` block at ``out[first]`` into ``%`` lines in place (see
    `fold_lines`); return the index of the line after it."""
    n = len(out)
    end = first + 1
    while end < n and not _TEXT_END_RE.match(out[end]) and not _TEXT_START_RE.match(out[end]):
        end += 1
    closed = end < n and _TEXT_END_RE.match(out[end]) is not None
    if not closed:  # the next tune's X: line ends it
        end = next((j for j in range(first + 1, end) if X_RE.match(out[j])), end)
        if unclosed is not None:
            unclosed.append(first)
    for j in range(first, end + closed):
        out[j] = "%"
    return end + closed


def _fold_continued(out: list[str], first: int, in_header: bool) -> int:
    """Fold the lines continued from ``out[first]`` (see `fold_lines`) in place; return the
    index of the last line taken."""
    line = out[first]
    directive = line.lstrip().startswith("%%")
    head = line.rstrip() if directive else strip_comment(line).rstrip()
    if not directive and (not in_header or field_match(head) is None):
        return first
    i = first
    while head.endswith("\\") and i + 1 < len(out) and _continues(out[i + 1], directive):
        i += 1
        if directive:
            head = out[i].rstrip()
        else:
            head = head[:-1] + strip_comment(out[i]).rstrip()
            out[first] = head
        out[i] = "%"
    return i


def _continues(line: str, directive: bool) -> bool:
    """Whether ``line`` can continue a field (not blank, not a field line of its own) or a
    directive (not blank)."""
    if not line.strip():
        return False
    return directive or field_match(strip_comment(line)) is None


def unnumbered_tunes(lines: list[str], numbered: list[int]) -> list[int]:
    """Indexes of the first lines of the tunes without an ``X:`` line: the blocks outside the
    tunes that start at ``numbered`` (their ``X:`` lines) whose header has a ``K:`` field and
    music after it. A block without them (prose, a file header, a lone ``K:``) is free text.

    >>> unnumbered_tunes(["X:1", "K:G", "GA|", "", "words", "", "T:b", "K:D", "DE|"], [0])
    [6]
    """
    starts = []
    bounds = [0, *numbered, len(lines)]
    for n, (start, stop) in enumerate(zip(bounds, bounds[1:])):
        i = start if n == 0 else tune_end(lines, start, stop)  # past the numbered tune
        while i < stop:
            if not strip_comment(lines[i]).strip():  # blank, or only a comment
                i += 1
                continue
            end = max(tune_end(lines, i, stop), i + 1)
            if _key_then_music(lines[i:end]):
                starts.append(i)
            i = end
    return starts


def _key_then_music(block: list[str]) -> bool:
    """Whether the header of ``block`` (its field lines up to the first other line) has a ``K:``
    field, and a line of music follows it."""
    seen_k = False
    for i, raw in enumerate(block):
        line = strip_comment(raw)
        if not line.strip():
            continue
        m = field_match(line)
        if m is None:
            if not seen_k and stray_header_line(block, i):
                continue
            return seen_k
        seen_k = seen_k or m[1] == "K"
    return False
