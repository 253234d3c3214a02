"""`header_title`, the corpus loader's title look-up (`modeling_irish.tune_embedding`), gives the
title `parse_abc` reads: it read the header alone, so a tune whose header has no ``T:`` lost the
section title before its first note (``"Am" [T:A] GAB``, or a ``T:`` line after a chord-symbol
line), which the parser takes as the tune's title."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenization.abc_header import header_title
from tokenization.abc_parser import AbcParseError, parse_abc

#: (tune, the title both read)
GOLDEN = [
    ("X:1\nK:G\n[T:A] GAB|", "A"),
    ('X:1\nK:G\n"Am" [T:A] GAB|', "A"),
    ("X:1\nK:G\n|: z [T:A] GA|\n[T:B] Bc|", "A"),
    ('X:1\nK:G\n"Am" |\nT:A\nGAB|', "A"),
    ("X:1\nK:G\n!trill! x |\nT:Part\n+:One\nGAB|", "Part One"),
    ('X:1\nK:G\n"Am" !trill! (3 y [T:A] GAB|', "A"),
    ("X:1\nK:G\nGAB|[T:A] GAB|", ""),
    # a grace note sounds (abc2midi plays it before the title): a T: after it titles nothing
    ("X:1\nK:G\n{g}[T:A] GAB|", ""),
    ("X:1\nK:G\n{gA}\nT:A\nGAB|", ""),
    ("X:1\nK:G\nz | {g}\nT:A\nGAB|", ""),
    ("X:1\nK:G\nGAB|\nT:A\nABc|", ""),
    ("X:1\nK:G\nz % [T:A]\nGAB|", ""),
    ('X:1\nK:G\n"[T:A]" GAB|', ""),
    ("X:1\nT:Reel\nK:G\n[T:A] GAB|", "Reel"),
    ("X:1\nK:G\nT:Part A\n[T:B] GAB|", "Part A"),
    ("X:1\nT:\nK:G\n[T:A] GAB|", ""),
]


@pytest.mark.parametrize(("text", "title"), GOLDEN)
def test_header_title_reads_the_title_the_parser_reads(text, title):
    assert parse_abc(text).title == title
    assert header_title(text) == title


#: pieces of a tune's music: notes, what may stand before the first note, titles, voices
_PIECES = [
    "GAB",
    "[CEG]",
    "{g}A",
    '"Am"',
    "|",
    "|:",
    "z",
    "x",
    "y",
    "!trill!",
    "~",
    "(3",
    "[T:A]",
    "[T:B]",
    '"[T:C]"',
    "% [T:D]",
    "[M:3/4]",
    "[V:2]",
    "[V:1]",
]
#: whole lines of the body
_LINES = ["T:E", "T:F", "+:more", "V:1", "V:2", "w: [T:G]", "N:[T:H]", "%T:I", ""]


@st.composite
def _tunes(draw: st.DrawFn) -> str:
    """A small tune: a header with or without ``T:`` (or ``V:``), then lines of music and
    field lines."""
    header = ["X:1"]
    header += draw(st.lists(st.sampled_from(["T:Head", "T:", "M:4/4", "V:2", "L:1/8"]), max_size=3))
    header.append("K:G")
    header += draw(st.lists(st.sampled_from(["T:After", "V:1", "M:3/4", "+:x"]), max_size=2))
    music = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=5).map(" ".join)
    body = draw(st.lists(st.one_of(music, st.sampled_from(_LINES)), min_size=1, max_size=5))
    return "\n".join(header + body) + "\n"


@given(_tunes())
def test_header_title_agrees_with_parse_abc(text):
    try:
        title = parse_abc(text).title
    except AbcParseError:  # a tune the parser refuses (no notes): no title to agree with
        assert isinstance(header_title(text), str)
        return
    assert header_title(text) == title
