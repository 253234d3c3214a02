"""Tempo beats that are not ABC 2.1 (``Q:=120``, ``Q:"Allegro"=120``, ``Q:2=120``,
``Q:x=120``) are read as abc2midi reads them, the player the MIDI is compared against, with a
warning naming the field and where it is (`tokenization.abc_tempo`)."""

from __future__ import annotations

import shutil
from fractions import Fraction

import pytest
from render_helpers import abc2midi_file, midi_tempos

from tokenization.abc_parser import parse_abc, parse_tunebook
from tokenization.abc_tempo import quarters_a_minute

#: (Q: text, quarter notes a minute as abc2midi 4.84 plays it under any L:, None: not read)
FORMS = [
    ("=120", 480.0),  # a whole note: was one unit note (60 under L:1/8)
    ('"Allegro"=120', 480.0),
    ("2=120", 960.0),  # two whole notes: was one unit note
    ('"Allegro" 2=120', 960.0),
    ("x=120", None),  # abc2midi: "malformed Q: field ignored"; was one unit note
    ("1/4 x=120", None),  # was a quarter note, the x dropped silently
]


@pytest.mark.parametrize(("field", "quarters"), FORMS)
@pytest.mark.parametrize("unit", [Fraction(1, 8), Fraction(1, 16)])
def test_a_beat_that_is_not_abc_2_1_reads_as_abc2midi_reads_it(field, quarters, unit):
    assert quarters_a_minute(field, unit) == quarters


def test_a_beat_that_is_not_abc_2_1_is_said_where_it_is_written():
    abc = 'X:1\nT:t\nL:1/8\nQ:=120\nK:C\nQ:"Allegro" 2=120\nCDEF|[Q:x=120]GABc|\nQ:1/4=90\nc|]\n'
    assert parse_abc(abc).warnings == [
        "Q:=120 (line 4) is not ABC 2.1: read as abc2midi reads it, a beat of a whole note "
        "(1/1=120)",
        'Q:"Allegro" 2=120 (line 6) is not ABC 2.1: read as abc2midi reads it, a beat of 2 '
        "whole notes (2/1=120)",
        "Q:x=120 (line 7, column 6) is not ABC 2.1: its beat 'x' is not read, nor its tempo",
    ]


def test_a_file_headers_beat_that_is_not_abc_2_1_is_said_at_the_file_headers_line():
    # it was said at each tune's X: line (line 5, line 9), where it is applied
    book = "%abc-2.1\nQ:=120\nM:4/4\n\nX:1\nK:C\nCDEF|]\n\nX:2\nK:D\nDEFG|]\n"
    said = "Q:=120 (the file header's, line 2) is not ABC 2.1: read as abc2midi reads it, a beat"
    assert [tune.warnings for tune in parse_tunebook(book)] == [
        [f"{said} of a whole note (1/1=120)"]
    ] * 2
    alone = parse_abc("X:1\nK:C\nC|]\n", line_offset=4, file_header=[("Q", "=120")]).warnings
    assert alone == [
        "Q:=120 (the file header's, applied at line 5) is not ABC 2.1: read as abc2midi reads "
        "it, a beat of a whole note (1/1=120)"
    ]


@pytest.mark.parametrize("field", ["1/4=120", "1/4 3/8=40", '"Slow" 3/8=40', "C2=120", "120"])
def test_a_beat_of_abc_2_1_or_one_it_deprecates_is_read_without_a_word(field):
    assert parse_abc(f"X:1\nT:t\nL:1/8\nQ:{field}\nK:C\nCDEF|[Q:{field}]GABc|]\n").warnings == []


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(("field", "quarters"), FORMS)
@pytest.mark.parametrize("unit", ["1/8", "1/16"])
def test_a_beat_that_is_not_abc_2_1_is_played_as_abc2midi_plays_it(tmp_path, field, quarters, unit):
    # in the header and in the body; one not read plays the default (abc2midi's 120), then
    # the tempo in force
    from modeling_irish.render import to_midi

    abc = f"X:1\nT:t\nM:4/4\nL:{unit}\nQ:{field}\nK:C\nCD[Q:1/4=100]EF|[Q:{field}]GABc|]\n"
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    abc2midi_file(tmp_path)
    theirs = midi_tempos(tmp_path / "a.mid")
    bar = 4 * 4 * Fraction(unit)  # in quarter notes
    played = [(0, quarters or 120), (bar / 2, 100)] + ([(bar, quarters)] if quarters else [])
    assert theirs == played
    assert midi_tempos(to_midi(abc, str(tmp_path / "t.mid"), tempo=120)) == theirs
