"""Golden tests for parser fixes found by the bar check on O'Neill's and Ryan's books."""

from __future__ import annotations

from fractions import Fraction as F

from tokenization.abc_parser import parse_abc


def durs(body: str, header: str = "L:1/8\nK:C") -> list[str]:
    """Lengths of the notes and rests of a body, in eighth notes."""
    tune = parse_abc(f"X:1\n{header}\n{body}", corpus_format="standard")
    return [str(t.dur * 8) for t in tune.tokens if t.kind in ("note", "rest")]


def test_comment_line_does_not_end_the_tune():
    # Ryan's "Kitty O'Neil's Champion": parts separated by lines holding only `%`
    tune = parse_abc("X:1\nL:1/8\nK:C\nABc|\n%\ndef|\n  % a remark\ngab|\n\nCDE|")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [
        69, 71, 72, 74, 76, 77, 79, 81, 83
    ]  # fmt: skip


def test_abc16_plus_chord():
    # O'Neill's "Doherty's Fancy": `+E3A3+ cBA` is an ABC 1.6 chord, not a decoration
    tune = parse_abc("X:1\nM:6/8\nL:1/8\nK:A\n+E3A3+ cBA|", corpus_format="standard")
    kinds = [(t.kind, t.pitch, None if t.dur is None else t.dur * 8) for t in tune.tokens]
    assert kinds == [
        ("chord_start", None, None),
        ("note", 64, 3),
        ("note", 69, 3),
        ("chord_end", None, None),
        ("note", 73, 1),
        ("note", 71, 1),
        ("note", 69, 1),
        ("bar", None, None),
    ]


def test_plus_decorations_stay_decorations():
    assert durs("+ff+ A +trill+B +f+c +D.C.+ d|") == ["1", "1", "1", "1"]


def test_quoted_printable_equals_before_a_note():
    # Ryan's "I'm Over Young to Marry Yet": `=3D` is a mangled `=` (natural) sign
    tune = parse_abc("X:1\nL:1/8\nK:D\nf|=3Dg f>d=3DB>a|", corpus_format="standard")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [78, 79, 78, 74, 71, 81]


def test_chained_broken_rhythm_keeps_the_written_total():
    # `g>f>g`: f is lengthened by the second `>` from its written length, not from 1/2
    assert durs("g>f>ge") == ["3/2", "1", "1/2", "1"]
    assert durs("b<a>b") == ["1/2", "2", "1/2"]
    # a chain that would cancel the middle note falls back to the product
    assert durs("a>b<c") == ["3/2", "1/4", "3/2"]
    # a plain pair and a chord pair are unchanged
    assert durs("A>B [CE]<[DF]") == ["3/2", "1/2", "1/2", "1/2", "3/2", "3/2"]


def test_meter_changes_are_recorded():
    tune = parse_abc("X:1\nM:6/8\nL:1/8\nK:G\nABc def|\nM:9/8\nABc def gab|[M:6/8]ABc def|")
    assert tune.meter == "6/8"
    assert tune.meter_changes == [(7, "9/8"), (17, "6/8")]
    assert tune.tokens[7].pitch == 69 and tune.tokens[17].pitch == 69
    assert any("meter change" in w for w in tune.warnings)
    assert parse_abc("X:1\nM:6/8\nK:G\nABc|[M:6/8]def|").meter_changes == []


def test_later_meter_sets_tuplet_default_and_full_bar_rests():
    tune = parse_abc("X:1\nM:4/4\nL:1/8\nK:C\n(5abcde fgab|\nM:6/8\n(5abcde f|Z|")
    tuplets = [t for t in tune.tokens if t.kind == "tuplet"]
    assert [t.dur for t in tuplets] == [F(2, 5), F(3, 5)]  # q = 2 in 4/4, q = 3 in 6/8
    assert tune.tokens[-2].kind == "rest" and tune.tokens[-2].dur == F(6, 8)
