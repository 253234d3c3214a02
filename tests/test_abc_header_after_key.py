"""Field lines after ``K:`` (ABC 2.1: the header ends with ``K:``; the field lines between it
and the music are the body's start): what is the tune's header, and what is the body's."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_header import header_title
from tokenization.abc_parser import AbcParseError, parse_abc, parse_tunebook
from tokenization.abc_tunebook import split_tunebook
from tokenization.features import FEATURE_NAMES


def test_a_continuation_line_continues_the_field_line_just_above_it():
    # `+:` after a Q: or P: between K: and the music continued the last header field (the K:,
    # "D slowly"), and after a second T: the letter first met last (the M:, "4/4 title")
    tune = parse_abc('X:1\nT:Reel\nM:4/4\nT:Alt\n+:title\nL:1/8\nK:D\nQ:1/4=60\n+:"slowly"\nDEF|')
    assert tune.fields["T"] == ["Reel", "Alt title"] and tune.fields["M"] == ["4/4"]
    assert tune.fields["K"] == ["D"] and tune.key.name == "D major"
    assert tune.tempo_changes == [(0, '1/4=60 "slowly"')]
    parts = parse_abc("X:1\nP:AB\nK:D\nP:A\n+:B\nDEF|")
    assert parts.fields["K"] == ["D"] and parts.part_changes == [(0, "A B")]
    # the title look-up reads the header as the parser does
    assert header_title("X:1\nT:Reel\nM:4/4\n+:x\nT:Alt\n+:title\nK:D\nDEF|") == "Reel"
    assert header_title("X:1\nT:Reel\n+:of Tulloch\nK:D\nDEF|") == "Reel of Tulloch"


def test_a_title_after_k_titles_a_section_unless_the_header_has_none():
    # ABC 2.1: a T: in the body (between K: and the music too) is a section title; the header's
    # first T: is the tune's title, and a T: after K: is only when the header has none (as
    # abc2midi and music21 read it), said in a warning
    both = parse_abc("X:1\nT:The Kesh\nM:6/8\nK:G\nT:Part A\nGAG GAB|")
    assert both.title == "The Kesh" and both.fields["T"] == ["The Kesh"]
    assert both.section_titles == [(0, "Part A")]  # the header's titles alone are fields["T"]
    assert not any("T:" in w for w in both.warnings)
    text = "X:1\nM:6/8\nL:1/8\nK:G\nT:Part A\nT:Part B\nGAG GAB|ABA ABd|"
    tune = parse_abc(text)
    assert tune.title == header_title(text) == "Part A"
    assert "T" not in tune.fields and tune.section_titles == [(0, "Part A"), (0, "Part B")]
    assert [w for w in tune.warnings if "T:" in w] == [
        "line 5: no T: before K:; the T: after K: ('Part A', a section title in ABC 2.1) is "
        "taken as the tune's title"
    ]
    # an error names the tune by that title, as the corpus's title column does
    with pytest.raises(AbcParseError, match="^Part A: line 4"):
        parse_abc("X:7\nK:G\nT:Part A\nGA^^^B|")


def test_a_file_header_reads_the_same_applied_by_the_tunebook_and_written_into_the_text():
    # a Q: (or M:) between K: and the music is the body's start, not the tune's header: the
    # file header's Q: applied by parse_tunebook, not written in by with_file_header (and so
    # missing from the corpus's `abc` text), and its M: the other way round (the unit: 1/8)
    book = "Q:1/4=100\nM:2/4\n\nX:1\nT:a\nK:D\nQ:1/4=60\nM:6/8\nDEF DEF|\n"
    by_book = next(parse_tunebook(book))
    (_, text), *_ = split_tunebook(book, standalone=True)
    alone = parse_abc(text)
    for tune in (by_book, alone):
        assert tune.fields["Q"] == ["1/4=100"] and tune.tempo_changes == [(0, "1/4=60")]
        assert tune.fields["M"] == ["2/4", "6/8"] and tune.meter == "6/8"
        assert tune.unit == F(1, 16)  # the header meter's, 2/4's (as when written there)
    assert text.startswith("X:1\nQ:1/4=100\nM:2/4\nT:a\nK:D\n")
    # a field the header sets itself is its own, in both
    own = next(parse_tunebook("Q:1/4=100\n\nX:1\nQ:1/4=80\nK:D\nQ:1/4=60\nDEF|\n"))
    assert own.fields["Q"] == ["1/4=80"] and own.tempo_changes == [(0, "1/4=60")]


def test_the_meter_and_key_downstream_are_those_the_music_starts_in_not_the_first_written():
    # fields["M"] and fields["K"] list an M: or K: between K: and the music after the header's;
    # the loader's columns (tune.meter, tune.key), the rows and the checker's round trip all
    # read the one in force at the first note (the last before the music), never [0]
    from tokenization.check import round_trip_rows

    body = "DEF GAB|ded cBA|GFE D3|DEF GAB|\n"
    tune = parse_abc(f"X:1\nT:t\nR:jig\nM:2/4\nL:1/8\nK:G\nM:6/8\nK:D\n{body}")
    assert tune.fields["M"] == ["2/4", "6/8"] and tune.fields["K"] == ["G", "D"]
    assert (tune.meter, tune.key.name, tune.original_key.name) == ("6/8", "D major", "D major")
    assert tune.meter_changes == [] and tune.unit == F(1, 8)
    rows, again, text = round_trip_rows(tune)
    assert rows.rows() == again.rows() and "\nM:6/8\n" in text and "\nK:D\n" in text
    assert rows.rows()[0][FEATURE_NAMES.index("meter")] == "6/8"


def test_mid_tune_key_changes_are_recorded_where_they_stand():
    """An inline ``[K:]`` and a ``K:`` line among the music are recorded at the first token
    under the new key (`AbcTune.key_changes`, which the MusicXML writes); a ``K:`` before the
    music is the header's key, a clef alone changes no key, and two at one token keep the
    later; the tune's `key` stays the header's."""
    from tokenization.keys import Key

    tune = parse_abc("X:1\nL:1/8\nK:G\nK:A\nGA [K:Bb]Bc|[K:D][K:F]\nK:bass\nDF|\nK:Em\nEG|]")
    assert tune.key.name == "A major"
    assert tune.key_changes == [
        (2, Key("Bb", "major")),
        (5, Key("F", "major")),
        (8, Key("E", "minor")),
    ]
    assert [t.pitch for t in tune.tokens if t.kind == "note"][2:6] == [70, 72, 62, 65]
