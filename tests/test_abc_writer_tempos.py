"""The writer writes the header's tempo and a body tempo change back so that they read at the
same tempo: a beat in unit notes (``Q:C=120``) written where another unit was in force is
spelled out, and check's round trip compares the tempos as read, not their text."""

from __future__ import annotations

from fractions import Fraction

import pytest

from modeling_irish.render_playing import tempo_marks
from tokenization.abc_parser import parse_abc
from tokenization.abc_tempo import explicit_tempo, quarters_a_minute
from tokenization.keys import Key
from tokenization.round_trip import (
    _changes_lost,
    _header_changed,
    parse_abc_strict,
    round_trip_rows,
    write_tune,
)

G = Key("G", "major")

UNIT_THEN_TEMPO = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc|[L:1/16][Q:C=120]G4A4B4c4|"


def test_a_tempo_in_unit_notes_after_a_unit_change_reads_back_at_its_tempo():
    # the writer writes every length in L:1/8 and dropped the [L:1/16]: `C=120` read back as
    # 120 eighths a minute (60 quarters), not 120 sixteenths (30)
    tune = parse_abc(UNIT_THEN_TEMPO)
    again = parse_abc_strict(write_tune(tune, tune.tokens, tune.key, tune.fields))
    assert tempo_marks(again, 100, "X:1") == tempo_marks(tune, 100, "X:1")
    assert [bpm for _, bpm in tempo_marks(tune, 100, "X:1")] == [100, 30.0]
    round_trip_rows(tune)  # the tempo read back is the same: no failure


def test_a_tempo_written_before_the_unit_change_keeps_the_unit_before_it():
    tune = parse_abc("X:1\nT:t\nL:1/16\nK:G\nG4A4|[Q:C=60][L:1/8]GABc|")
    again = parse_abc_strict(write_tune(tune, tune.tokens, tune.key, tune.fields))
    assert tempo_marks(again, 100, "X:1") == tempo_marks(tune, 100, "X:1")


@pytest.mark.parametrize("bar", ["|:", "|"])
def test_a_tempo_moved_before_a_merged_bar_line_keeps_the_unit_it_was_written_in(bar):
    # the `|` ending a line and the `|:` opening the next merge into one bar line, and the
    # tempo between them goes before it: it was then read in the unit in force there (L:1/8,
    # 60 quarter notes a minute), not the [L:1/16] it was written after (30)
    tune = parse_abc(f"X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc|\n[L:1/16][Q:C=120]{bar}G4A4B4c4|]")
    assert tune.tempo_changes == [(4, "C=120")] and tune.tokens[4].text == bar
    assert [bpm for _, bpm in tempo_marks(tune, 100, "X:1")] == [100, 30.0]
    again = parse_abc_strict(write_tune(tune, tune.tokens, tune.key, tune.fields))
    assert tempo_marks(again, 100, "X:1") == tempo_marks(tune, 100, "X:1")
    round_trip_rows(tune)


def test_the_round_trip_names_a_tempo_read_at_another_rate():
    tune = parse_abc(UNIT_THEN_TEMPO)
    # the same text read under L:1/8 is another tempo: a lost change, though the text is equal
    lost = _changes_lost(tune, parse_abc("X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc|[Q:C=120]GABc|"))
    assert lost == "the tempo changes [(5, 30.0)] became [(5, 60.0)] after the round trip"


#: M:2/4 with no L: reads its lengths in sixteenths (the default unit), the writer in eighths
HEADER_TEMPO = "X:1\nT:t\nM:2/4\nQ:C=120\nK:G\nG2A2B2c2|"


def test_a_header_tempo_in_unit_notes_under_another_unit_reads_back_at_its_tempo():
    # the header Q:C=120 was copied as it is under the written L:1/8: 30 -> 60 quarters a minute
    tune = parse_abc(HEADER_TEMPO)
    text = write_tune(tune, tune.tokens, tune.key, tune.fields)
    again = parse_abc_strict(text)
    assert "Q:1/16=120\n" in text
    assert tempo_marks(again, 100, "X:1") == tempo_marks(tune, 100, "X:1") == [(0, 30.0)]
    round_trip_rows(tune)  # the same tempo read back, in other text: no failure


def test_the_round_trip_names_a_header_tempo_read_at_another_rate():
    tune = parse_abc(HEADER_TEMPO)
    # the same text read under L:1/8 is another tempo: the header changed, though its text is
    lost = _header_changed(tune, parse_abc(HEADER_TEMPO.replace("M:2/4", "M:2/4\nL:1/8")), G)
    assert lost == "the header Q: 30.0 became 60.0 after the round trip"


def test_the_round_trip_names_a_header_tempo_as_written_where_it_changed():
    tune = parse_abc(HEADER_TEMPO)
    lost = _header_changed(tune, parse_abc(HEADER_TEMPO.replace("C=120", "1/4=120")), G)
    assert lost == "the header Q: 'C=120' became '1/4=120' after the round trip"


@pytest.mark.parametrize("beat", ["C3/2=120", "c=120"])
def test_every_beat_read_in_unit_notes_is_spelled_out_as_it_is_read(beat):
    unit = Fraction(1, 16)
    written = explicit_tempo(beat, unit)
    assert quarters_a_minute(written, Fraction(1, 8)) == quarters_a_minute(beat, unit)
    tune = parse_abc(HEADER_TEMPO.replace("C=120", beat) + f"[Q:{beat}]G2A2B2c2|")
    again = parse_abc_strict(write_tune(tune, tune.tokens, tune.key, tune.fields))
    assert tempo_marks(again, 100, "X:1") == tempo_marks(tune, 100, "X:1")


@pytest.mark.parametrize(
    ("beat", "quarters"), [("=120", 480.0), ('"Allegro"=120', 480.0), ("2=120", 960.0)]
)
def test_a_beat_in_whole_notes_is_written_as_it_is_and_reads_back_at_its_tempo(beat, quarters):
    # not ABC 2.1: whole notes as abc2midi reads them (they were one unit note, spelled out as
    # `1/16=120`), the same under any unit
    tune = parse_abc(HEADER_TEMPO.replace("C=120", beat) + f"[Q:{beat}]G2A2B2c2|")
    text = write_tune(tune, tune.tokens, tune.key, tune.fields)
    assert f"Q:{beat}\n" in text and f"[Q:{beat}]" in text
    again = parse_abc_strict(text)
    marks = tempo_marks(tune, 100, "X:1")
    assert tempo_marks(again, 100, "X:1") == marks and {bpm for _, bpm in marks} == {quarters}
    round_trip_rows(tune)


def test_a_beat_that_is_not_read_is_written_as_it_is():
    # `x=120`: no tempo (abc2midi ignores it), compared as text; it was read as one unit note
    tune = parse_abc(HEADER_TEMPO.replace("C=120", "x=120") + "[Q:x=120]G2A2B2c2|")
    text = write_tune(tune, tune.tokens, tune.key, tune.fields)
    assert "Q:x=120\n" in text and "[Q:x=120]" in text
    assert tempo_marks(parse_abc_strict(text), 100, "X:1") == [(0, 100)]
    round_trip_rows(tune)


def test_a_tempo_with_no_tempo_to_read_is_written_as_it_is():
    # compared as text where it reads no tempo: spelling its beat out lost it in the round trip
    tune = parse_abc("X:1\nT:t\nM:2/4\nQ:C=fast\nK:G\nG2A2|[Q:C=slow]B2c2|")
    text = write_tune(tune, tune.tokens, tune.key, tune.fields)
    assert "Q:C=fast\n" in text and "[Q:C=slow]" in text
    round_trip_rows(tune)
