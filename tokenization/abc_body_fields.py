"""The fields the ABC writer writes among the music (``P:`` and ``T:`` lines, inline ``[P:B]``,
``[Q:]``), the bar lines it splits around them, and a field's value as ABC text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence

from .abc_bar_text import BarText
from .abc_header import abc_lines
from .abc_layout import LineBreaks

# the writer's helpers (`abc_writer`), shared with it by name
__all__: list[str] = [
    "SPLIT_AT_PART",
    "SPLIT_BEFORE_PART",
    "SPLIT_BEFORE_TITLE",
    "field_text",
    "flush_written",
    "inline_field",
    "parts_at",
    "parts_before_tempo",
    "changes_at",
    "titles_at",
    "write_parts",
    "write_parts_and_tempo",
    "write_titles",
]

#: Bar lines written in two around the ``P:`` line of a part that starts after them (``:|``,
#: ``P:B``, ``|:``), as their sources write them: the reader merges the two back into one, the
#: part after it, and abc2midi finds each part's repeat inside the part (``:|:`` then ``P:B``
#: was "Expected end repeat not found" in part A)
SPLIT_BEFORE_PART = {":|:": (":|", "|:")}
#: Bar lines after notes written in two around the ``T:`` lines of the section titles that
#: stand after them (``:|``, ``T:Part B``, ``|:``): the title comes before the part that starts
#: at the ``|:``, as its source wrote it, where written whole (``:||:`` then ``T:Part B``) the
#: ``|:`` ended the line above the title; the reader merges the two back into one, the titles
#: after it
SPLIT_BEFORE_TITLE = {":|:": (":|", "|:"), "|:": ("|", "|:")}
#: Bar lines written in two around the ``P:`` line (or inline ``[P:B]``) of a part that starts
#: at them, after notes: those that playing only passes through, before which the reader places
#: a part written between the two bar lines it merges into one (``|``, ``P:B``, ``|:``:
#: `tokenization.abc_bars._played_through`), the part then starting with its own ``|:``
SPLIT_AT_PART = {"|": ("|", "|"), "||": ("||", "|"), "|]": ("|]", "|"), "|:": ("|", "|:")}


def changes_at(
    changes: Sequence[tuple[int, str]], places: Collection[int], keep: bool = True
) -> list[tuple[int, str]]:
    """Those of ``changes`` at ``places`` in the list (or, not ``keep``, the others).

    >>> changes_at([(0, "A"), (4, "B"), (4, "C")], {1}, keep=False)
    [(0, 'A'), (4, 'C')]
    """
    return [change for n, change in enumerate(changes) if (n in places) == keep]


def _end_tempo(field: str | None, bar: BarText, out: list[str]) -> None:
    """Write ``field``, the ``[Q:...]`` of a tempo change that ends the part before the parts
    written next (`part_ending_tempos`), before them: into ``bar`` inside a bar, else into
    ``out``, after the bar line, so that a ``P:`` line written next stays a line."""
    if field is None:
        return
    if bar.pieces:
        bar.field(field)
    else:
        out.append(field)


def parts_at(
    part_changes: Sequence[tuple[int, str]], inline_parts: Collection[int]
) -> dict[int, list[tuple[str, bool]]]:
    """The parts of `tokens_to_body` by the token they start at: their ``P:`` texts, in order,
    and whether each is written inline.

    >>> parts_at([(0, "A"), (8, "B"), (8, "C")], [2])
    {0: [('A', False)], 8: [('B', False), ('C', True)]}
    """
    inline = set(inline_parts)
    parts: dict[int, list[tuple[str, bool]]] = {}
    for n, (at, text) in enumerate(part_changes):
        parts.setdefault(at, []).append((text, n in inline))
    return parts


def parts_before_tempo(
    part_changes: Sequence[tuple[int, str]], parts_after_tempo: Collection[int]
) -> dict[int, int]:
    """How many of the parts that start at each token are written before a tempo change there
    (not in ``parts_after_tempo``): the reader reads those first (``P:A``, ``Q:``, ``P:B``).

    >>> parts_before_tempo([(0, "A"), (0, "B"), (8, "C")], [1])
    {0: 1, 8: 1}
    """
    after = set(parts_after_tempo)
    return dict(Counter(at for n, (at, _) in enumerate(part_changes) if n not in after))


def write_parts_and_tempo(
    parts: list[tuple[str, bool]],
    before: int,
    end_tempo: str | None,
    bar: BarText,
    out: list[str],
    done: list[str],
    lines: LineBreaks,
) -> None:
    """Write the parts that start at one token (`write_parts`) and ``end_tempo``, the tempo
    change there that ends the part before (`_end_tempo`): after the first ``before`` parts,
    those written before it (`parts_before_tempo`), and before the others."""
    write_parts(parts[:before], bar, out, done, lines)
    _end_tempo(end_tempo, bar, out)
    write_parts(parts[before:], bar, out, done, lines)


def write_parts(
    parts: list[tuple[str, bool]],
    bar: BarText | None,
    out: list[str],
    done: list[str],
    lines: LineBreaks,
) -> None:
    """Write the ``(P: text, inline)`` parts that start where ``bar`` stands (``None``: between
    the two halves of a bar line, `SPLIT_AT_PART`): inline, ``[P:B]``, where asked or inside a
    bar (a ``P:`` line would split it), into the bar or between the halves; else as a ``P:``
    line, which ends the text so far (``out``, moved to ``done``) and starts a line."""
    for text, inline in parts:
        if inline and bar is None:
            out.append(inline_field("P", text))
            continue
        if bar is not None and (inline or bar.pieces):
            bar.field(inline_field("P", text))
            continue
        flush_written(out, done)
        done.append(f"P:{field_text(text)}")
        lines.restart()


#: What brackets a section title's ``T:`` line in the text `tokens_to_body` writes, inside a bar
#: too (`write_titles`); `flush_written` makes each a line of its own
_TITLE_MARK = "\x00"


def titles_at(section_titles: Sequence[tuple[int, str]], tokens: int) -> dict[int, list[str]]:
    """The section titles of `tokens_to_body` (`AbcTune.section_titles`) by the token they stand
    before, in order; a `ValueError` for one past the ``tokens`` (how many there are).

    >>> titles_at([(0, "Part A"), (8, "Part B"), (8, "Variation")], 8)
    {0: ['Part A'], 8: ['Part B', 'Variation']}
    """
    titles: dict[int, list[str]] = {}
    for at, text in section_titles:
        if not 0 <= at <= tokens:
            raise ValueError(
                f"section title {text!r} stands before token {at}, outside the {tokens} tokens"
            )
        titles.setdefault(at, []).append(text)
    return titles


def write_titles(texts: list[str], bar: BarText, out: list[str], lines: LineBreaks) -> None:
    """Write the section titles ``texts`` that stand before the next token as ``T:`` lines (ABC
    2.1 has no inline ``[T:]``): into ``bar`` as a field where it holds notes (its line breaks
    there, as the reader read it), else after the text so far (``out``); a line starts after
    them."""
    for text in texts:
        line = f"{_TITLE_MARK}T:{field_text(text).replace(_TITLE_MARK, '')}{_TITLE_MARK}"
        if bar.pieces:
            bar.field(line)
        else:
            out.append(line)
    lines.restart()


def flush_written(out: list[str], done: list[str]) -> None:
    """Move the text written so far (``out``) to the lines written (``done``): its music, no
    line of it read as a field (`_no_field_lookalike`), and each section title's ``T:`` line
    (`write_titles`) a line of its own.

    >>> done = []
    >>> flush_written(["GAB ", _TITLE_MARK + "T:Part B" + _TITLE_MARK, "G :|"], done)
    >>> done
    ['GAB', 'T:Part B', 'G1 :|']
    """
    pieces = "".join(out).split(_TITLE_MARK)
    done += [text if n % 2 else _no_field_lookalike(text.strip()) for n, text in enumerate(pieces)]
    out.clear()


def inline_field(letter: str, text: str) -> str:
    """An inline field (``[Q:...]``, ``[P:...]``) of a field's text, as the reader reads it
    back: ``%`` escaped, line breaks made spaces (`field_text`), and no ``]``, which would end
    it.

    >>> inline_field("Q", '"Slower] 50%" 1/4=60')
    '[Q:"Slower 50\\\\%" 1/4=60]'
    """
    return f"[{letter}:{field_text(text).replace(']', '')}]"


#: A music line that opens with one letter and a colon, as a bar of one unit note before a
#: repeat does (``G :|``): ABC tools read it as a field line (abc2abc drops it).
_FIELD_LOOKALIKE = re.compile(r"^([A-Za-z])(\s*:)", re.MULTILINE)


def _no_field_lookalike(body: str) -> str:
    """``body`` with every line that would read as a field joined to the line before it (the
    first line's note gets an explicit length, ``G1 :|``, instead).

    >>> _no_field_lookalike("GAG GAB |\\nG :|2 EGf")
    'GAG GAB | G :|2 EGf'
    >>> _no_field_lookalike("G :| ABc")
    'G1 :| ABc'
    """
    body = re.sub(r"\n(?=[A-Za-z]\s*:)", " ", body)
    return _FIELD_LOOKALIKE.sub(r"\g<1>1\2", body)


def field_text(value: str) -> str:
    """A header field's value as ABC text: ``%`` escaped (it starts a comment, ABC 2.1 §2.2.5:
    ``T:100% Reel`` reads as ``100``), line breaks made spaces (a field is one line; the
    breaks the parser ends a line at, `abc_lines`: a U+2028 it keeps in the value stays).

    >>> field_text("The 100% Reel")
    'The 100\\\\% Reel'
    """
    return " ".join(abc_lines(str(value))).replace("%", "\\%")
