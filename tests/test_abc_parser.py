"""Tests for tokenization.abc_parser: golden rows per ABC feature, errors, fuzzing, corpora."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from helpers import require_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenization.abc_parser import AbcParseError, AbcTune, Token, parse_abc, parse_tunebook
from tokenization.keys import Key


def rows(body: str, header: str = "L:1/8\nK:C") -> list[tuple]:
    """(kind, text, pitch, dur) rows of a tune body, durations as strings."""
    tune = parse_abc(f"X:1\n{header}\n{body}", corpus_format="standard")
    return [(t.kind, t.text, t.pitch, None if t.dur is None else str(t.dur)) for t in tune.tokens]


def notes(body: str, header: str = "L:1/8\nK:C") -> list[tuple]:
    return [(p, d) for k, _, p, d in rows(body, header) if k == "note"]


def n(pitch: int, dur: str = "1/8") -> tuple:
    return ("note", "", pitch, dur)


BAR = ("bar", "|", None, None)
CS, CE = ("chord_start", "[", None, None), ("chord_end", "]", None, None)


# ---------------------------------------------------------------- header
def test_header_fields_any_order_and_spacing():
    tune = parse_abc("X: 3\nR:reel\nT: My Tune\nT:Alt\nC:Trad.\nM: 4/4\nL:  1/8\nK: G\nGA")
    assert tune.x == 3 and tune.line == 1 and tune.title == "My Tune"
    assert tune.fields["T"] == ["My Tune", "Alt"] and tune.fields["R"] == ["reel"]
    assert tune.fields["C"] == ["Trad."] and tune.meter == "4/4" and tune.unit == F(1, 8)
    assert tune.key == Key("G", "major")
    assert [t.pitch for t in tune.tokens] == [67, 69]


@pytest.mark.parametrize(
    ("header", "unit"),
    [("M:2/4", F(1, 16)), ("M:6/8", F(1, 8)), ("M:3/4", F(1, 8)), ("", F(1, 8)),
     ("M:2/4\nL:1/4", F(1, 4)), ("L:1", F(1))],
)  # fmt: skip
def test_unit_length_default_rule(header, unit):
    assert parse_abc(f"X:1\n{header}\nK:C\nA").unit == unit


@pytest.mark.parametrize(
    ("meter", "expected"),
    [("C", "4/4"), ("C|", "2/2"), ("none", None), ("2+3/8", "5/8"), (" 6/8 ", "6/8"),
     ("3/4 % waltz", "3/4")],
)  # fmt: skip
def test_meter_forms(meter, expected):
    assert parse_abc(f"X:1\nM:{meter}\nK:C\nA").meter == expected


def test_plus_field_continuation_and_comments():
    tune = parse_abc("X:1\n% a comment\nT:Long\n+:Title\nK:D % key\nA % note\n")
    assert tune.title == "Long Title" and tune.key == Key("D", "major")


# ---------------------------------------------------------------- notes and lengths
def test_accidentals_and_octaves():
    assert notes("^C _D __E ^^F =G c' C, c, b") == [
        (61, "1/8"),
        (61, "1/8"),
        (62, "1/8"),
        (67, "1/8"),
        (67, "1/8"),
        (85, "1/8"),
        (49, "1/8"),
        (61, "1/8"),
        (83, "1/8"),
    ]  # fmt: skip  (`c'`, `C,`, `c,`: the bar's `^C` holds in every octave)


def test_all_length_forms():
    assert [d for _, d in notes("A2 A/2 A/ A// A3/2 A/4 A3 A3/")] == [
        "1/4", "1/16", "1/16", "1/32", "3/16", "1/32", "3/8", "3/16",
    ]  # fmt: skip
    assert [d for _, d in notes("A2 A/", "L:1/16\nK:C")] == ["1/8", "1/32"]


def test_broken_rhythm_local_factors():
    assert [d for _, d in notes("A>B A<B A>>B A<<B c2>d2")] == [
        "3/16", "1/16", "1/16", "3/16", "7/32", "1/32", "1/32", "7/32", "3/8", "1/8",
    ]  # fmt: skip
    # the old pyabc bug: a later `<` must not reverse an earlier `>`
    assert [d for _, d in notes("A>B C<D")] == ["3/16", "1/16", "1/16", "3/16"]


def test_triple_broken_rhythm():
    # ABC 2.1 4.4: `>>>` makes the first note double-double-dotted, 1 + 1/2 + 1/4 + 1/8 = 15/8
    # of its length, and the second 1/8 of it (the pair keeps two units); `<<<` the reverse.
    # With L:1/8 that is 15/64 and 1/64.
    assert [d for _, d in notes("A>>>B A<<<B")] == ["15/64", "1/64", "1/64", "15/64"]
    assert [d for _, d in notes("c2>>>d2")] == ["15/32", "1/32"]


def test_broken_rhythm_across_chord():
    assert rows("[CE]>G A<[ce]") == [
        CS, n(60, "3/16"), n(64, "3/16"), CE, n(67, "1/16"), n(69, "1/16"),
        CS, n(72, "3/16"), n(76, "3/16"), CE,
    ]  # fmt: skip


def test_ties_and_dotted_ties_carry_pitch_across_bar():
    assert rows("^c-|c c .-c") == [
        n(73), ("tie", "-", None, None), BAR, n(73), n(72), ("tie", "-", None, None), n(72),
    ]  # fmt: skip


def test_a_tie_into_a_chord_carries_the_accidental_across_the_bar():
    # a tie joins two notes of one pitch, so the note the tie reaches keeps the sharp written
    # before the bar line, inside a chord as outside (`^c-|c` above); the chord's other note
    # and the untied `c` after the chord follow the new bar's key signature (ABC 2.1 4.2: an
    # accidental holds to the end of its bar only)
    assert rows("^c2-|[ce] c") == [
        n(73, "1/4"), ("tie", "-", None, None), BAR, CS, n(73), n(76), CE, n(72),
    ]  # fmt: skip
    assert rows("[^ce]2-|[ce]") == [
        CS, n(73, "1/4"), n(76, "1/4"), CE, ("tie", "-", None, None), BAR, CS, n(73), n(76), CE,
    ]  # fmt: skip


def test_a_tie_to_another_pitch_is_dropped_with_a_warning():
    # a tie joins notes of one pitch; O'Neill's writes slurs as `A3-B` (897 times)
    tune = parse_abc("X:1\nL:1/8\nK:C\nA3-B c2-|d2 [CE]2-E2 [CE]-D A-^A A-A|]")
    kinds = [t.kind if t.kind != "note" else t.pitch for t in tune.tokens]
    assert kinds == [
        69, 71, 72, "bar", 74, "chord_start", 60, 64, "chord_end", "tie", 64,
        "chord_start", 60, 64, "chord_end", 62, 69, 70, 70, "tie", 70, "bar",
    ]  # fmt: skip
    assert tune.warnings == [
        "4 ties between notes of different pitches dropped (a tie joins one pitch; read as slurs)"
    ]
    # a chord tied on to any one of its pitches keeps its tie, two spellings of one letter too
    chord = parse_abc("X:1\nL:1/8\nK:C\n[C,,^C,,]-=C,, [C-E-][CE]|]")
    assert [t.kind for t in chord.tokens].count("tie") == 3 and not chord.warnings


def test_key_signature_and_bar_scoped_accidentals():
    # D major: F and C sharp; `=F` holds to the bar end in every octave (ABC 2.1's default)
    assert [p for p, _ in notes("F =F F f | F ^c c C", "L:1/8\nK:D")] == [
        66, 65, 65, 77, 66, 73, 73, 61,
    ]  # fmt: skip
    assert [p for p, _ in notes("B E _A A", "L:1/8\nK:Bb")] == [70, 63, 68, 68]


def test_tuplets_with_defaults():
    r = rows("(3abc (3:2:3abc (3::2ab (2ab (3:4:3abc (4abcd")
    tuplets = [(t, d) for k, t, _, d in r if k == "tuplet"]
    assert tuplets == [
        ("(3", "2/3"), ("(3", "2/3"), ("(3:2:2", "2/3"), ("(2", "3/2"), ("(3:4:3", "4/3"),
        ("(4", "3/4"),
    ]  # fmt: skip
    assert all(d == "1/8" for k, _, _, d in r if k == "note")  # written lengths kept


@pytest.mark.parametrize(("meter", "dur"), [("6/8", "3/5"), ("4/4", "2/5"), ("9/8", "3/5")])
def test_tuplet_default_q_depends_on_meter(meter, dur):
    r = rows("(5abcde", f"M:{meter}\nL:1/8\nK:C")
    assert r[0] == ("tuplet", "(5", None, dur)


def test_chords_inner_times_outer_length():
    assert rows("[CEG]2 [C2E]/2") == [
        ("chord_start", "[", None, None), n(60, "1/4"), n(64, "1/4"), n(67, "1/4"),
        ("chord_end", "]", None, None),
        ("chord_start", "[", None, None), n(60, "1/8"), n(64, "1/16"),
        ("chord_end", "]", None, None),
    ]  # fmt: skip


def test_decorated_invisible_rest_before_a_bar_line_is_a_bar_decoration():
    # O'Neill's puts a fermata on a double bar as `Hx||`: the x only carries the symbol
    cases = {
        "G2 Hx||c": ["note", "bar", "note"],
        "G2 !fermata!x :|c": ["note", "bar", "note"],
        'G2 Hx "D.C." |]': ["note", "bar"],
    }
    for body, kinds in cases.items():
        assert [k for k, *_ in rows(body)] == kinds, body
    tune = parse_abc("X:1\nL:1/8\nK:C\nG2 Hx||c", corpus_format="standard")
    assert any("decorated invisible rest" in w for w in tune.warnings)
    # everywhere else an x keeps its length, as ABC says
    assert rows("G2 x||c")[1] == ("rest", "z", None, "1/8")
    assert rows("G2 Hx c|")[1] == ("rest", "z", None, "1/8")
    assert rows("G2 Hx\n|c")[1] == ("rest", "z", None, "1/8")  # a line break is not a bar line
    assert rows('G2 "D.C."x|')[1] == ("rest", "z", None, "1/8")


def test_rests_invisible_and_multimeasure():
    assert rows("z2 x/") == [("rest", "z", None, "1/4"), ("rest", "z", None, "1/16")]
    r = rows("A4 B4 | Z3 | c8", "M:4/4\nL:1/8\nK:C")
    assert r == [
        n(69, "1/2"), n(71, "1/2"), BAR, ("rest", "z", None, "1"), BAR, ("rest", "z", None, "1"),
        BAR, ("rest", "z", None, "1"), BAR, n(72, "1"),
    ]  # fmt: skip


def test_bar_lines_canonical():
    r = rows("A|A||A|]A[|A|:A:|A::A:|:A:||:A||:A|||A")
    assert [t for k, t, _, _ in r if k == "bar"] == [
        "|", "||", "|]", "||", "|:", ":|", ":|:", ":|:", ":|:", "|:", "||",
    ]  # fmt: skip


def test_invisible_bar_lines():
    # `[|]` is an invisible bar line: beside another bar line it adds nothing, so `[|]:|` still
    # ends a repeat (John Chambers' Ryan's Mammoth writes `"D.C."[|]:|`; it was read as `|]`)
    r = rows("A[|]B[|]:|c[|]|]d|[|]e[|]|:f:[|]|]g[|]::a")
    assert [t for k, t, _, _ in r if k == "bar"] == [
        "|", ":|", "|]", "|", "|:", ":|", ":|:",
    ]  # fmt: skip


def test_an_invisible_bar_between_two_lines_is_a_double_bar():
    # `|[|]|` was lexed `|` then `[|]|`, merged into a plain `|`, while `canonical_bar` (the
    # invisible bar taken out: `||`) and abc2midi 4.84 (one bar line of several lines, no empty
    # bar) read it as one bar line: the reader now reads it whole
    r = rows("A|[|]|B|[|]c:|[|]|:d|[|]|]")
    assert [t for k, t, _, _ in r if k == "bar"] == ["||", "|", ":|:", "|]"]


def test_endings_canonical():
    r = rows("A|1 B:|2 c|[1 d:|[2 e| [1 f:||2 g|1,3 a [2 b")
    assert [t for k, t, _, _ in r if k == "bar"] == [
        "|1", ":|2", "|1", ":|2", "|1", ":|2", "|1,3", "[2",
    ]  # fmt: skip


def test_an_ending_among_a_bars_notes_is_no_bar_line():
    """``[1`` after a note opens the ending mid-bar (O'Neill's 980, 12/8: ``Bcd edc [1 d2B
    A2G:|``): it was read as ``|1``, a bar line, and written back so (abc2midi: two half
    bars). Its token is ``[1``; the bar's accidentals stay in force across it, as abc2midi
    plays them; a bar line beside it (``[1|``, ``| [1``) makes it an ordinary ``|1``."""
    r = rows("^c2 [1 c2 d2:|[2 c2 e2|]")
    assert [t for k, t, _, _ in r if k == "bar"] == ["[1", ":|2", "|]"]
    assert [p for k, _, p, _ in r if k == "note"] == [73, 73, 74, 72, 76]
    for body in (
        "c2|[1 d2:|[2 e2|]",
        "c2[1|d2:|[2 e2|]",
        "c2|\\\n[1 d2:|[2 e2|]",
        "[1 d2:|[2 e2|]",
    ):
        assert [t for k, t, _, _ in rows(body) if k == "bar"] == ["|1", ":|2", "|]"], body
    with pytest.raises(AbcParseError, match="ending inside a chord"):
        rows("[C[1E]")


def test_an_ending_number_follows_its_bar_line_with_blanks_only():
    # `:|` at a line end and `2` at the next line's start is an ending (Ryan's "Eviction")
    assert [t for k, t, _, _ in rows("A:|\n2B|") if k == "bar"] == [":|2", "|"]
    assert [t for k, t, _, _ in rows("A| 1B|") if k == "bar"] == ["|1", "|"]
    # after a guitar chord or a decoration a number is a stray one, not an ending
    for body in ('A| "D"2B|', "A| !3!5!!B|"):
        with pytest.raises(AbcParseError, match="unexpected number"):
            rows(body)


def test_adjacent_bars_across_lines_merge():
    r = rows("A B |\n| c d :|\n|: e f ||\n:g")
    assert [t for k, t, _, _ in r if k == "bar"] == ["|", ":|:", "|:"]


def test_decorations_dropped():
    body = "~A .B HC !trill!D +fermata+E uF vG TA !4!B MC"
    assert [p for p, _ in notes(body)] == [69, 71, 60, 62, 64, 65, 67, 69, 71, 60]


def test_user_defined_symbols_and_letter_decorations():
    header = "U: T = !trill!\nU: k = !accent!\nL:1/8\nK:D"
    assert [p for p, _ in notes("kf2 Tg nA", header)] == [78, 79, 69]


def test_grace_notes_annotations_spacers_dropped():
    assert rows('{gab}A "Am"B "^text"c y `d ! e $ f') == [
        n(69), n(71), n(72), n(74), n(76), n(77),
    ]  # fmt: skip


def test_multiline_comments_continuations_blank_line_end():
    text = "X:1\nL:1/8\nK:C\nA B % comment\\\nc \\\nd|\n\nthis is free text e f g\n"
    tune = parse_abc(text)
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [69, 71, 72, 74]


def test_body_field_lines_and_inline_fields():
    body = "A B|\nK:D\nF c|\nL:1/4\nF [L:1/8] F [K:Bb] B [M:3/4] E|\nP:B\nW:words\nw:lyr ics\nE"
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nK:C\n{body}")
    ns = [(t.pitch, str(t.dur)) for t in tune.tokens if t.kind == "note"]
    assert ns == [
        (69, "1/8"), (71, "1/8"), (66, "1/8"), (73, "1/8"), (66, "1/4"), (66, "1/8"),
        (70, "1/8"), (63, "1/8"), (63, "1/8"),
    ]  # fmt: skip
    assert tune.key == Key("C", "major") and tune.meter == "4/4"
    assert any("key change" in w for w in tune.warnings)
    assert any("meter change" in w for w in tune.warnings)


def test_voices_keep_first():
    text = "X:1\nL:1/8\nK:C\nV:1\nAB|\nV:2\ncd|\nV:1\nef|[V:2] ga|"
    tune = parse_abc(text)
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [69, 71, 76, 77]
    assert tune.voice_count == 2 and any("V:2" in w for w in tune.warnings)


def test_key_none_and_highland_pipes():
    assert notes("F c", "L:1/8\nK:HP") == [(66, "1/8"), (73, "1/8")]
    tune = parse_abc("X:1\nK:none\nF")
    assert tune.key == Key("C", "major") and tune.warnings


# ---------------------------------------------------------------- corpus format
CORPUS_TUNE_2 = """X: 2
T: Devil In The Kitchen, The
S: https://thesession.org/tunes/1746#setting1746
Z: A Mixolydian
R: strathspey
M:4/4
L:1/8
K: C Mixolydian
|:=d=D=D/2=D/2=D=A=D=D/2=D/2=D|=d=D=D/2=D/2=D=c2=B=c|=d=D=D/2=D/2=D=A=G^F=A|"""

CORPUS_TUNE_3 = """X: 3
T: 10th Bat Crossing Rhine
S: https://thesession.org/tunes/7078#setting18649
Z: A Mixolydian
R: jig
M:6/8
L:1/8
K: C Mixolydian
=c>=e=G=c2=e|=e>=f=g=e>=d=c|"""


def test_corpus_format_detected_on_real_tunes():
    t2 = parse_abc(CORPUS_TUNE_2)
    assert t2.corpus_format and t2.key == Key("G", "mixolydian")
    ps = [t.pitch for t in t2.tokens if t.kind == "note"]
    assert ps[:4] == [74, 62, 62, 62] and 66 in ps and 70 not in ps  # ^F kept; no B flat
    assert t2.fields["R"] == ["strathspey"] and t2.title == "Devil In The Kitchen, The"
    t3 = parse_abc(CORPUS_TUNE_3)
    assert t3.corpus_format and t3.key == Key("G", "mixolydian")
    assert [(t.pitch, str(t.dur)) for t in t3.tokens[:3]] == [
        (72, "3/16"), (76, "1/16"), (67, "1/8"),
    ]  # fmt: skip


def test_corpus_format_standard_and_not_detected_for_real_keys():
    assert parse_abc(CORPUS_TUNE_2, corpus_format="standard").key == Key("C", "mixolydian")
    assert parse_abc("X:1\nK: C minor\n_E_B").key == Key("C", "minor")  # flats: a real C minor
    assert parse_abc("X:1\nK: C minor\n=A=B c").key == Key("C", "minor")  # a bare note
    forced = parse_abc("X:1\nK: C Dorian\nF B", corpus_format="corpus")
    assert forced.key == Key("D", "dorian") and [t.pitch for t in forced.tokens] == [65, 71]


# ---------------------------------------------------------------- tunebook
def test_tunebook_splits_and_yields_errors():
    book = "header text\n\nX:1\nT:One\nK:G\nGAB|\n\nfree text\n\nX:2\nT:Two\nK:G\nG}A|\nX:3\nK:D\nd"
    out = list(parse_tunebook(book))
    assert isinstance(out[0], AbcTune) and out[0].title == "One" and out[0].line == 3
    assert isinstance(out[1], AbcParseError)
    assert (out[1].tune, out[1].line, out[1].column) == ("Two", 13, 2)
    assert isinstance(out[2], AbcTune) and out[2].line == 14 and out[2].tokens[0].pitch == 74


def test_tunebook_without_x_lines():
    out = list(parse_tunebook("T:a\nK:C\nCD\n\nnot a tune\n\nK:G\nG"))
    assert [len(t.tokens) for t in out] == [2, 1]


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("X:1\nT:Bad\nK:C\nABc|\nde}f|", 5, 3, "unexpected character '}'"),
        ("X:1\nK:C\nA [CE", 3, 3, "unclosed chord"),
        ("X:1\nK:C\nA ]", 3, 3, "without a chord"),
        ("X:1\nK:Qrs\nA", 2, 3, "cannot read key"),
        ("X:1\nL:1/0\nK:C\nA", 2, 3, "unit length"),
        ("X:1\nM:7/x\nK:C\nA", 2, 3, "meter"),
        ("X:1\nK:C\n(3>A", 3, 3, "broken rhythm"),  # `| >A` is read (test_abc_recoveries)
        ("X:1\nK:C\nA0", 3, 1, "zero note length"),
        ("X:1\nK:C\n(1abc", 3, 1, "tuplet"),
        ("X:1\nK:C\nc,,,,,,,", 3, 1, "MIDI range"),
        ("\nX:1\nT:Empty\nK:C\n", 2, 1, "no notes"),
        # an empty or blank text said "tune has no notes", as if it were a tune without music
        ("", 1, 1, "the text is an empty string, not an ABC tune"),
        (" \n\t", 1, 1, "the text is only whitespace (3 characters), not an ABC tune"),
        # bar lines around chord symbols or grace notes alone were read as a tune of nothing
        ('X:1\nT:Chords only\nM:4/4\nL:1/8\nK:G\n"G" "D" | "Em" "C" |]', 1, 1, "no notes"),
        ("\nX:1\nT:Graces\nK:G\n{gag} | {ded} |]", 2, 1, "no notes"),
    ],
)
def test_error_positions(text, line, column, fragment):
    with pytest.raises(AbcParseError) as info:
        parse_abc(text)
    err = info.value
    assert (err.line, err.column) == (line, column) and fragment in err.message
    assert not err.internal
    assert f"line {line}, column {column}" in str(err)


def test_pitch_range_ends_at_midi_127():
    # MIDI pitches run 0..127 (C = 60, c = 72, each ' an octave up): g'''' is 127, the highest,
    # and ^g'''' (128) is the first pitch above it; C,,,,, is 0 and _C,,,,, (-1) below it
    assert notes("g''''") == [(127, "1/8")]
    assert notes("C,,,,,") == [(0, "1/8")]
    for body, column in (("^g''''", 1), ("A _C,,,,,", 3), ("c''''''", 1)):
        with pytest.raises(AbcParseError, match="outside the MIDI range") as info:
            rows(body)
        assert info.value.column == column and not info.value.internal


def test_error_names_tune_by_x_and_line_offset():
    with pytest.raises(AbcParseError) as info:
        parse_abc("X:12\nK:C\nA}B", line_offset=100)
    assert (info.value.tune, info.value.line, info.value.column) == ("X:12", 103, 2)


# ---------------------------------------------------------------- fuzzing
def _check_any(text: str) -> None:
    try:
        tune = parse_abc(text)
    except AbcParseError as err:
        assert not err.internal, err  # a converted bug, not bad input
        assert err.line is not None and err.column is not None
        return
    assert isinstance(tune, AbcTune) and tune.tokens
    for tok in tune.tokens:
        assert isinstance(tok, Token)
        if tok.kind in ("note", "rest"):
            assert tok.dur > 0
        if tok.kind == "note":
            assert 0 <= tok.pitch <= 127


ABC_ALPHABET = "ABCDEFGabcdefgzxZ^_=',/23456789<>()[]{}|:-~.!+\"%\\ \nKLMV:TuvH&#;"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_fuzz_random_text(text):
    _check_any(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ABC_ALPHABET, max_size=60))
def test_fuzz_abc_alphabet(body):
    _check_any("X:1\nM:6/8\nL:1/8\nK:D\n" + body)
    _check_any(body)


REAL_TUNE = (
    'X:5\nT:Real\nM:C|\nL:1/8\nK:Ador\n|:~E2 AB cBAG|[1 (3efg {a}ge d2 "Am"cB:|'
    "[2 e>d BG A2|]\nK:G\nV:1\n[CE]2 z2 (3::2GA Z|]"
)
SNIPPETS = [CORPUS_TUNE_2, CORPUS_TUNE_3, REAL_TUNE]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SNIPPETS),
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 3), st.sampled_from(ABC_ALPHABET)),
        max_size=6,
    ),
)
def test_fuzz_mutated_real_abc(snippet, edits):
    text = snippet
    for pos, op, ch in edits:
        pos %= len(text) + 1
        if op == 0:
            text = text[:pos] + ch + text[pos:]  # insert
        elif op == 1:
            text = text[:pos] + text[pos + 1 :]  # delete
        elif op == 2:
            text = text[:pos] + ch + text[pos + 1 :]  # replace
        else:
            text = text[:pos] + text[pos : pos + 5] * 2 + text[pos + 5 :]  # duplicate a run
    _check_any(text)


# ---------------------------------------------------------------- whole corpora (slow)
@pytest.mark.slow
def test_whole_shared_corpus_parses():
    text = require_corpus().read_text(encoding="utf-8")
    results = list(parse_tunebook(text))  # speed: benchmarks/bench_tokenization.py
    ok = [r for r in results if isinstance(r, AbcTune)]
    rate = len(ok) / len(results)
    assert len(results) == 20721 and rate >= 0.995
    assert not any(r.internal for r in results if isinstance(r, AbcParseError))
    assert sum(t.corpus_format for t in ok) == len(ok)


def test_rests_alone_are_a_tune_bar_lines_alone_are_not():
    """Rests are written time (a bar's length, a pickup): a body of rests parses, and the
    tools that need pitches refuse it by name; bar lines alone hold no time at all."""
    assert [t.kind for t in parse_abc("X:1\nM:4/4\nK:G\nz8|z8|]").tokens] == ["rest", "bar"] * 2
    with pytest.raises(AbcParseError, match="no notes: bar lines but no note or rest"):
        parse_abc("X:1\nM:4/4\nK:G\n!fermata! | [|] |]")


def test_pitch_shift_checks_the_moved_pitch_at_the_note_and_keeps_the_written_one():
    """`parse_abc(pitch_shift=...)` stops at the note a transposition would move out of MIDI's
    0-127 (`refuse_moved_out_of_midi` finds where with it); the tokens keep written pitches."""
    assert [t.pitch for t in parse_abc("X:1\nK:C\nA g''''|", pitch_shift=-1).tokens[:2]] == [
        69,
        127,
    ]
    with pytest.raises(AbcParseError) as info:
        parse_abc("X:1\nT:Top\nK:C\nA g''''|", pitch_shift=1)
    err = info.value
    assert (err.tune, err.line, err.column) == ("Top", 4, 3)
    assert err.message == "pitch 127 moves to 128, outside the MIDI range 0-127"


def test_note_parts_cached_by_text_equal_the_match_groups():
    """The reader's hot loop reads a note's accidental, natural pitch, letter and length from
    one cache entry keyed by the note's text: the same as the match groups give, whether the
    entry is new or cached (same text, same parts, even for a note read in another line)."""
    from tokenization.abc_lexer import ACC, BODY_RE, NOTE_PARTS, note_base, note_parts

    for text in ["^c'3/2", "__B,,//", "=F", "d", "_e4", "^^G,/3"]:
        m = BODY_RE.match(text)
        acc, nk, nl = m.group("acc", "nk", "nl")
        expected = (ACC[acc] if acc else None, *note_base(nk), nl)
        assert note_parts(m) == expected
        assert NOTE_PARTS[text] == expected
        assert note_parts(BODY_RE.match(f"|{text}", 1)) == expected
