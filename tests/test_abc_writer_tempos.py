"""The writer writes a body tempo change back so that it reads at the same tempo: a beat in
unit notes (``Q:C=120``) written where another unit was in force is spelled out, and check's
round trip compares the tempos as read, not their text."""

from __future__ import annotations

from modeling_irish.render_playing import tempo_marks
from tokenization.abc_parser import parse_abc
from tokenization.round_trip import _changes_lost, parse_abc_strict, round_trip_rows, write_tune

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


def test_the_round_trip_names_a_tempo_read_at_another_rate():
    tune = parse_abc(UNIT_THEN_TEMPO)
    # the same text read under L:1/8 is another tempo: a lost change, though the text is equal
    lost = _changes_lost(tune, parse_abc("X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc|[Q:C=120]GABc|"))
    assert lost == "the tempo changes [(5, 30.0)] became [(5, 60.0)] after the round trip"
