"""Measure analysis: bars, offsets, beats (compound meters too), pickups, endings, members."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from tokenization.abc_parser import parse_abc
from tokenization.analysis import (
    _plays_on,
    analyse_measures,
    ending_passes,
    expand_parts,
    part_spans,
    played_order,
)


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


# ---------------------------------------------------------------- played order

_NAMES = {67: "G", 69: "A", 71: "B", 72: "c", 74: "d", 76: "e", 78: "f", 79: "g", 81: "a", 83: "b"}


def _played(body: str) -> str:
    tune = parse_abc("X:1\nM:2/4\nL:1/8\nK:G\n" + body)
    bars = [t.text if t.kind == "bar" else "" for t in tune.tokens]
    return "".join(_NAMES[tune.tokens[i].pitch] for i in played_order(bars) if not bars[i])


@pytest.mark.parametrize(
    "body, played",
    [
        ("GA|Bc|]", "GABc"),
        ("|:GA:|", "GAGA"),
        ("GA:|", "GAGA"),  # no start repeat: back to the beginning
        ("GA:|Bc::de:|", "GAGABcBcdede"),  # `::` ends one section and starts the next
        ("|:GA|1 Bc:|2 de||fg:|", "GABcGAdefgfg"),
        ("|:GA|[1 Bc:|[2 de||", "GABcGAde"),
        ("|:GA|1Bc:|2de|:fg|1ab:|2ga|]", "GABcGAdefgabfgga"),
        ("|:GA|1Bc:|2de|fg|1ab:|2ga|]", "GABcGAdefgabfgga"),  # a last ending lasts one bar
        ("|:GA|1Bc:|2de|fg:|", "GABcGAdefgfg"),
        ("|:GA|[1 Bc:|[2 de:|[3 fg|]", "GABcGAdeGAfg"),  # three endings, three passes
        ("|:GA|1,3Bc:|2de:|", "GABcGAdeGABc"),  # ending 1,3; the third pass ends the tune
        ("GA||Bc:|", "GABcBc"),  # a section line is where a repeat goes back to
        ("GA|Bc|2 de|fg|]", "GABcdefg"),  # an ending never returned to is played through
        ("GA|1 Bc|2 de|]", "GABcde"),  # endings without a repeat: as written
    ],
)
def test_played_order_unfolds_repeats_and_endings(body, played):
    assert _played(body) == played


def test_played_order_of_a_tune_without_bars_is_its_order():
    assert played_order(["", "", ""]) == [0, 1, 2]
    assert played_order([]) == []


def _naive_passes(label: str) -> frozenset[int]:
    """The passes of an ending label as a set of every number (the former reading: the oracle)."""
    passes: set[int] = set()
    for part in label.split(","):
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            passes.update(range(int(low), int(high or low) + 1))
    return frozenset(passes)


@pytest.mark.parametrize(
    "label", ["1", "2", "1,3", "1-3", "2-4,6", "3-1", "0", "1-2,2-3", "1,", "a"]
)
def test_ending_ranges_play_the_passes_the_naive_set_does(label):
    passes, naive = ending_passes(label), _naive_passes(label)
    assert [_plays_on(passes, p) for p in range(8)] == [p in naive for p in range(8)]
    assert max((high for _, high in passes), default=0) == max(naive, default=0)
    assert bool(passes) == bool(naive)


def test_a_wide_ending_range_is_kept_as_its_bounds():
    # |1-10000000 was a set of ten million numbers, built again at each bar: minutes, GBs
    passes = ending_passes("1-10000000,20000000")
    assert passes == ((1, 10_000_000), (20_000_000, 20_000_000))
    assert _plays_on(passes, 9_999_999) and not _plays_on(passes, 10_000_001)
    bars = ["|:", "", "|1-10000000", "", ":|"]
    assert played_order(bars)[:8] == [0, 1, 2, 3, 1, 2, 3, 1]  # pass after pass
    assert len(played_order(bars)) == 8 * len(bars) + 1  # up to the player's bound


def test_an_ending_number_too_long_to_read_is_a_pass_never_played():
    # int() refuses a text of more than 4,300 digits: played_order raised ValueError
    bars = ["|:", "", "|1-" + "9" * 5000, "", ":|", "", "|]"]
    assert played_order(bars)[:8] == [0, 1, 2, 3, 1, 2, 3, 1]
    far, near = (["|:", "", "|" + nines, "", ":|2", "", "|]"] for nines in ("9" * 5000, "99999"))
    assert played_order(far) == played_order(near) == [0, 1, 2, 3, 1, 4, 5, 6]


# ---------------------------------------------------------------- parts (header P:)


@pytest.mark.parametrize(
    "spec, parts",
    [
        ("AABB", "AABB"),
        ("A2B", "AAB"),
        ("(AB)2", "ABAB"),
        ("((AB)2C)2", "ABABCABABC"),
        ("A. B", "AB"),
    ],
)
def test_expand_parts_reads_the_abc_2_1_part_order(spec, parts):
    assert "".join(expand_parts(spec)) == parts


@pytest.mark.parametrize(
    "spec, error",
    [
        ("(AB", "a '(' that no ')' closes"),
        ("AB)", "a ')' that no '(' opens"),
        ("Intro", "'n' is no part"),
        ("A0", "names no part"),
        ("(A9)99", "more than 256 parts"),  # refused before it is unfolded
    ],
)
def test_expand_parts_refuses_what_it_cannot_read(spec, error):
    with pytest.raises(ValueError, match=re.escape(error)):
        expand_parts(spec)


def test_expand_parts_errors_cut_a_long_value():
    # a P: of 6,000 parts was quoted whole in the warning `irish-tune render` gives for it
    with pytest.raises(ValueError) as caught:
        expand_parts("AB" * 3000 + "Z")
    assert str(caught.value) == f"P:{'AB' * 20}... (6001 characters) plays more than 256 parts"


def test_expand_parts_reads_parentheses_nested_past_the_recursion_limit():
    # each '(' was a recursive call: 3,000 of them ended `irish-tune render` in RecursionError
    deep = 3000
    assert expand_parts("(" * deep + "A" + ")" * deep + "B") == ["A", "B"]
    assert expand_parts("(" * deep + "AB" + ")" * deep + "2") == ["A", "B", "A", "B"]
    with pytest.raises(ValueError, match="more than 256 parts"):
        expand_parts("(" * deep + "A" + ")2" * deep)
    with pytest.raises(ValueError, match=re.escape("a '(' that no ')' closes")):
        expand_parts("(" * deep + "A" + ")" * (deep - 1))
    with pytest.raises(ValueError, match=re.escape("a ')' that no '(' opens")):
        expand_parts("(" * deep + "A" + ")" * (deep + 1))
    with pytest.raises(ValueError, match="more than 256 parts"):  # not int()'s digit limit
        expand_parts("A" + "9" * 5000)


def test_part_spans_play_the_intro_then_the_body_parts_in_the_header_order():
    changes = [(2, "A"), (5, "B"), (8, "C")]
    assert part_spans("BAB", changes, 10) == [(0, 2), (5, 8), (2, 5), (5, 8)]
    assert part_spans("A", [(0, "B"), (0, "A"), (3, "B")], 6) == [(0, 3)]  # the later at 0
    # a part marked twice is its last, as abc2midi plays it (it was the first)
    assert part_spans("ABA", [(0, "A"), (3, "B"), (6, "A")], 9) == [(6, 9), (3, 6), (6, 9)]
    with pytest.raises(ValueError, match="P:AD names part D, but the body marks P:A, P:B, P:C"):
        part_spans("AD", changes, 10)
    with pytest.raises(ValueError, match="but the body marks no P:"):
        part_spans("A", [], 10)
