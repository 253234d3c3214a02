"""Measure analysis: bars, offsets, beats (compound meters too), pickups, endings, members."""

from __future__ import annotations

from fractions import Fraction

from tokenization.abc_parser import parse_abc
from tokenization.analysis import analyse_measures


def _notes(text: str):
    tune = parse_abc(text)
    return [p for p in analyse_measures(tune.tokens, tune.meter) if p.token.kind == "note"]


def test_jig_offsets_and_compound_beats():
    notes = _notes("X:1\nM:6/8\nL:1/8\nK:G\nGAG GAB|d2B c2A|]")
    assert [str(p.offset) for p in notes] == ["0", "1", "2", "3", "4", "5", "0", "2", "3", "5"]
    assert [p.is_onbeat for p in notes[:6]] == [True, False, False, True, False, False]
    assert [p.bar for p in notes] == [0] * 6 + [1] * 4
    assert not any(p.is_middle_beat for p in notes)


def test_reel_middle_of_bar_and_phrase_position():
    notes = _notes("X:1\nM:4/4\nL:1/8\nK:D\n" + "|".join(["DEFG ABcd"] * 5) + "|]")
    assert [p.is_middle_beat for p in notes[:8]] == [False] * 4 + [True] + [False] * 3
    assert [p.m_idx_mod4 for p in notes[::8]] == [0, 1, 2, 3, 0]


def test_pickup_endings_tuplets_and_chords():
    notes = _notes("X:1\nM:2/4\nL:1/8\nK:G\nD|:G2 (3ABc|[GB]2 A2|1 G4:|2 G2 z2|]")
    pickup = notes[0]
    assert pickup.is_pickup and pickup.bar == 0 and pickup.measure == 0
    first_full = notes[1]
    assert not first_full.is_pickup and first_full.measure == 0 and first_full.bar == 1
    assert [p.in_tuplet for p in notes[1:5]] == [False, True, True, True]
    chord = [p for p in notes if p.in_chord]
    assert len(chord) == 2 and {str(p.offset) for p in chord} == {"0"}
    assert [p.ending for p in notes[-2:]] == ["1", "2"]
    assert notes[-1].m_idx == notes[-2].m_idx  # endings share the bar index
    # the feature offset of tuplet members is the tuplet's start; the onset is exact
    assert [p.offset for p in notes[2:5]] == [2, 2, 2]
    assert [p.onset for p in notes[2:5]] == [2, Fraction(8, 3), Fraction(10, 3)]


def test_three_two_beats():
    notes = _notes("X:1\nM:3/2\nL:1/8\nK:G\nG2A2 B2c2 d2e2|]")
    assert [p.is_onbeat for p in notes] == [True, False, True, False, True, False]
