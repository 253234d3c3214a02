"""Golden tests for parser fixes found by the bar check on O'Neill's and Ryan's books."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_parser import AbcParseError, parse_abc, parse_tunebook
from tokenization.reader_warnings import shown_kind

TUPLET_KIND = "tuplets the tune ends inside (too few notes after them)"


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


def test_tempo_changes_in_the_body_are_recorded_and_change_no_token():
    # abc2midi plays a body Q: line or [Q:...] (render.to_midi needs where each is); the
    # tokens, and so the rows, stay those of the tune without them
    body = 'ABc def|[Q:1/4=60]ABc def|\nQ:1/4=90\ngab [Q:"Slower"]gab|]'
    tune = parse_abc(f"X:1\nM:6/8\nL:1/8\nQ:3/8=80\nK:G\n{body}")
    assert tune.tempo_changes == [(7, "1/4=60"), (14, "1/4=90"), (17, '"Slower"')]
    assert [tune.tokens[i].pitch for i, _ in tune.tempo_changes] == [69, 79, 79]
    plain = parse_abc("X:1\nM:6/8\nL:1/8\nQ:3/8=80\nK:G\nABc def|ABc def|\ngab gab|]")
    assert tune.tokens == plain.tokens and tune.warnings == plain.warnings == []
    assert tune.fields["Q"] == ["3/8=80"] and plain.tempo_changes == []
    # the later of two at one place wins; one after a dropped tie keeps its note
    tied = parse_abc("X:1\nL:1/8\nK:G\nG8-|[Q:1/4=60][Q:1/4=70]z8|]", corpus_format="standard")
    assert tied.tempo_changes == [(2, "1/4=70")] and tied.tokens[2].kind == "rest"
    # between two bar lines that merge (`|` at a line end, `|:` on the next line), it stays
    # before the merged bar: not inside the section that repeats after it
    merged = parse_abc("X:1\nL:1/8\nK:G\nGABc|\nQ:1/4=60\n|:dedB:|")
    assert merged.tempo_changes == [(4, "1/4=60")] and merged.tokens[4].text == "|:"
    # but after one that ends a repeat: the first pass jumps back from it, before the change
    repeat = parse_abc("X:1\nL:1/8\nK:G\n|:GABc:|\nQ:1/4=60\n|:dedB:|")
    assert repeat.tempo_changes == [(6, "1/4=60")] and repeat.tokens[5].text == ":|:"


def test_the_parts_of_the_body_are_recorded_and_change_no_token():
    # render.to_midi plays the parts in the header P:'s order, and needs where each starts: a
    # P: after K: (before the music too) marks the first part, it is no header P:
    body = "P:A\nABc def|]\nP:B\ngab [P:C]gab|]"
    tune = parse_abc(f"X:1\nM:6/8\nL:1/8\nP:ABAC\nK:G\n{body}")
    assert tune.part_changes == [(0, "A"), (7, "B"), (10, "C")]
    assert tune.inline_parts == [2]  # the [P:C]: the writer writes it back inline
    assert tune.fields["P"] == ["ABAC"]
    plain = parse_abc("X:1\nM:6/8\nL:1/8\nP:ABAC\nK:G\nABc def|]\ngab gab|]")
    assert tune.tokens == plain.tokens and tune.warnings == plain.warnings == []
    assert plain.part_changes == []
    # one after a dropped tie keeps its note
    tied = parse_abc("X:1\nL:1/8\nK:G\nG8-|[P:B]z8|]", corpus_format="standard")
    assert tied.part_changes == [(2, "B")] and tied.tokens[2].kind == "rest"


def test_a_q_field_between_k_and_the_music_is_a_tempo_change_not_the_header_tempo():
    # ABC 2.1: the header ends with K:; the Q: after it was read as a second header Q:, and
    # render played the first, 120, where abc2midi plays 60 from the start
    tune = parse_abc("X:1\nM:4/4\nL:1/4\nQ:1/4=120\nK:D\nQ:1/4=60\nDEFG|ABcd|]")
    assert tune.fields["Q"] == ["1/4=120"] and tune.tempo_changes == [(0, "1/4=60")]
    assert tune.tokens == parse_abc("X:1\nM:4/4\nL:1/4\nQ:1/4=120\nK:D\nDEFG|ABcd|]").tokens
    # next to a P: there, as in the body: before it, the change ends the part before (none)
    parts = parse_abc("X:1\nL:1/4\nP:BA\nK:D\nQ:1/4=60\nP:A\nDEFG|]\nP:B\nABcd|]")
    assert parts.tempo_changes == [(0, "1/4=60")] and parts.parts_after_tempo == [0]
    after = parse_abc("X:1\nL:1/4\nP:BA\nK:D\nP:A\nQ:1/4=60\nDEFG|]\nP:B\nABcd|]")
    assert after.tempo_changes == [(0, "1/4=60")] and after.parts_after_tempo == []


@pytest.mark.parametrize(
    ("header", "meter", "unit"),
    [
        ("M:2/4\nK:D\nM:6/8", "6/8", F(1, 16)),  # the unit of M:2/4, the header's (abc2midi)
        ("M:6/8\nK:D\nM:2/4", "2/4", F(1, 8)),
        ("M:2/4\nK:D\nM:6/8\nL:1/8", "6/8", F(1, 8)),  # an L: there sets it
        ("K:D\nM:2/4", "2/4", F(1, 8)),  # no header M:: the default's, 1/8
        ("M:2/4\nM:6/8\nK:D", "6/8", F(1, 8)),  # two before K:: the last is the header's
    ],
)
def test_a_meter_between_k_and_the_music_starts_the_tune_but_keeps_the_header_unit(
    header, meter, unit
):
    # ABC 2.1 and abc2midi: the default unit is the header M:'s; an M: after K: changes the
    # meter from the first note (the tune starts in it: no meter change to record), not the
    # unit, which it set (M:2/4, K:, M:6/8 read eighths where abc2midi plays sixteenths)
    tune = parse_abc(f"X:1\n{header}\nDEF GAB|]", corpus_format="standard")
    assert (tune.meter, tune.unit, tune.meter_changes) == (meter, unit, [])


def test_the_markings_the_reader_skips_are_counted_and_change_no_token():
    # `generate` says how many of a prompt's markings its tunes leave out
    body = '"D"(A2 ~B2) {g}c2 !roll!T.d2|\n% ~B ~c\ne2 (3efg "^x"a2)|[V:2] ~A8|'
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nK:D\n{body}")
    # a slur once, at its "(" (a tuplet's is none); the comment and the second voice unread
    assert tune.markings == {"text": 2, "slur": 1, "deco": 4, "grace": 1}
    plain = parse_abc("X:1\nM:4/4\nL:1/8\nK:D\nA2 B2 c2 d2|\ne2 (3efg a2|")
    assert tune.tokens == plain.tokens and plain.markings == {}


def test_later_meter_sets_tuplet_default_and_full_bar_rests():
    tune = parse_abc("X:1\nM:4/4\nL:1/8\nK:C\n(5abcde fgab|\nM:6/8\n(5abcde f|Z|")
    tuplets = [t for t in tune.tokens if t.kind == "tuplet"]
    assert [t.dur for t in tuplets] == [F(2, 5), F(3, 5)]  # q = 2 in 4/4, q = 3 in 6/8
    assert tune.tokens[-2].kind == "rest" and tune.tokens[-2].dur == F(6, 8)


# ----- found by an audit against ABC 2.1, music21 and abc2midi ---------------------------------
def pitches(text: str) -> list[int]:
    return [t.pitch for t in parse_abc(text, corpus_format="standard").tokens if t.kind == "note"]


def test_a_key_field_with_only_a_clef_keeps_the_key():
    # abc2midi and music21 keep D major through `[K:clef=bass]`, `[K:]` and `K:treble`
    text = "X:1\nL:1/8\nK:D\nF [K:clef=bass]F,C,|F [K:]F|\nK:treble\nFc|]"
    tune = parse_abc(text, corpus_format="standard")
    assert pitches(text) == [66, 54, 49, 66, 66, 66, 73]
    assert tune.key.name == "D major" and not tune.warnings
    # a header with a clef alone is C major; a later clef-only K: there keeps the key before it
    assert pitches("X:1\nL:1/8\nK:bass\nF,c|") == [53, 72]
    assert pitches("X:1\nL:1/8\nK:D\nK:bass\nF,c|") == [54, 73]


def test_octave_option_moves_the_notes_by_octaves():
    # ABC 2.1 §4.6: octave=N raises (lowers) the music code by N octaves; abc2midi 83 84 78 79
    assert pitches("X:1\nL:1/8\nK:G octave=1\nBcFG|") == [83, 84, 78, 79]
    assert pitches("X:1\nL:1/8\nK:G\nBc [K:octave=-1]BF [K:D]F|") == [71, 72, 59, 54, 54]
    with pytest.raises(AbcParseError, match="octave=up"):
        parse_abc("X:1\nL:1/8\nK:G octave=up\nB|")


def test_octave_option_on_the_kept_voice_moves_its_notes():
    """`V:1 octave=-1` was ignored (K: octave= was read): abc2midi plays 55 57 59 60."""
    assert pitches("X:1\nL:1/8\nM:2/4\nV:1 octave=-1\nK:G\nGABc|") == [55, 57, 59, 60]
    assert pitches("X:1\nL:1/8\nK:G\nGA|\nV:1 octave=1\nGA|[V:1 octave=0]GA|") == [
        67, 69, 79, 81, 67, 69
    ]  # fmt: skip
    # a dropped voice's octave does not move the kept voice's notes
    assert pitches("X:1\nL:1/8\nV:1\nV:2 octave=1\nK:G\nV:2\nG|\nV:1\nGA|") == [67, 69]
    with pytest.raises(AbcParseError, match="line 4, column 3: cannot read octave=up in voice"):
        parse_abc("X:1\nL:1/8\nK:G\nV:1 octave=up\nB|")


def test_a_key_change_ends_the_bar_accidentals():
    # abc2midi and music21: `^C[K:G]C` is C sharp then C natural
    assert pitches("X:1\nL:1/8\nK:C\n^C[K:G]C z6|]") == [61, 60]
    assert pitches("X:1\nL:1/8\nK:C\n^CC z6|]") == [61, 61]  # the control: same bar, same key


def test_an_unclosed_guitar_chord_is_an_error_not_a_lost_line():
    text = 'X:1\nT:Reel\nL:1/8\nK:G\nGABc dBAF|\nB2 "G GABc dBAF|GABc dBAG|\nd2dB c2cA|G8|]'
    with pytest.raises(AbcParseError) as err:
        parse_abc(text)
    assert (err.value.line, err.value.column) == (6, 4)
    assert "not closed" in str(err.value)
    assert pitches('X:1\nL:1/8\nK:G\n"G"GA "^high"B|') == [67, 69, 71]


def test_a_second_x_line_is_an_error_of_parse_abc_and_a_new_tune_of_parse_tunebook():
    text = "X:1\nT:First\nM:4/4\nL:1/8\nK:G\nGABc dBAF|\nX:2\nT:Second\nM:3/4\nK:D\nABc|]"
    with pytest.raises(AbcParseError, match="X: starts another tune") as err:
        parse_abc(text)
    assert (err.value.line, err.value.column) == (7, 1)
    assert [t.title for t in parse_tunebook(text)] == ["First", "Second"]


def test_ties_with_no_note_to_join_are_dropped_and_said():
    tune = parse_abc("X:1\nM:4/4\nL:1/8\nK:G\nG2-z2 ABcd|GABc d4-|]")
    assert [t.kind for t in tune.tokens].count("tie") == 0
    assert tune.warnings == [
        "2 ties with no note to join dropped (before a rest or at the end of the tune)"
    ]
    # every inner tie of a chord goes; a tie that reaches its note stays
    chord = parse_abc("X:1\nL:1/8\nK:G\nG-G [G-B-]z|]")
    assert [t.kind for t in chord.tokens].count("tie") == 1
    # a meter change after the dropped tie keeps its place, the rest after it
    meter = parse_abc("X:1\nM:4/4\nL:1/8\nK:G\nG8-|[M:3/4]z6|]", corpus_format="standard")
    at = meter.meter_changes[-1][0]
    assert meter.tokens[at].kind == "rest" and meter.meter_changes[-1][1] == "3/4"


def test_tuplets_decode_with_the_q_they_were_read_with():
    # (5 in 15/8 is 5 in the time of 3 (a numerator that is a multiple of 3 above 3), and a (5
    # after [M:6/8] in a 4/4 tune too: the tokens say so, so that decoding, which knows only the
    # header's meter, gives the same lengths
    from tokenization.tokenization_abc import AbcTokenizer

    texts = [
        "X:1\nT:a\nM:15/8\nL:1/8\nK:G\n(5GABAG A2B2 c2d2e2f2|]\n",
        "X:2\nT:b\nM:4/4\nL:1/8\nK:G\nGABc dedB|[M:6/8](5GABAG A|]\n",
    ]
    tok = AbcTokenizer.train(texts)
    for text in texts:
        read = parse_abc(text)
        decoded = parse_abc(tok.decode(tok.encode_tune(text).input_ids))
        tuplets = [t.dur for t in read.tokens if t.kind == "tuplet"]
        assert tuplets == [F(3, 5)]
        assert [t.dur for t in decoded.tokens if t.kind == "tuplet"] == tuplets


def test_keep_final_tie_keeps_only_the_tie_at_the_end():
    # an incipit to be continued (`TuneGenerator.generate(prompt=...)`) keeps its last tie;
    # one before a rest has no note to join either way
    text = "X:1\nM:4/4\nL:1/8\nK:G\nG2-z2 ABcd|GABc d4-|"
    kept = parse_abc(text, keep_final_tie=True)
    assert [t.kind for t in kept.tokens][-3:] == ["note", "tie", "bar"]
    assert [t.kind for t in kept.tokens].count("tie") == 1
    assert kept.warnings == [
        "1 ties with no note to join dropped (before a rest or at the end of the tune)"
    ]
    assert [t.kind for t in parse_abc(text).tokens].count("tie") == 0  # the default drops it


@pytest.mark.parametrize(
    "body, ties",
    [("A2-[CE]2|", 0), ("[CE]2-[DF]2|", 0), ("A2-[Ac]2|", 1), ("[CE]2-[CF]2|", 1)],
)
def test_a_tie_into_a_chord_without_its_pitch_is_dropped_and_said(body, ties):
    """It was kept without a word, though a tie into a note of another pitch is dropped."""
    tune = parse_abc(f"X:1\nL:1/8\nK:C\n{body}")
    assert sum(t.kind == "tie" for t in tune.tokens) == ties
    said = any("ties between notes of different pitches dropped" in w for w in tune.warnings)
    assert said == (ties == 0)


@pytest.mark.parametrize(
    "body",
    [
        "[CE-G]2-[DF]2|",  # the outer tie went; the inner E- stayed, tied into [DF]
        "[CE-G]2 [DF]2|",
        "[C-E-G]2 (3[DF]AB|",  # past a tuplet mark
        "[CE-G]2|[DF]2|",  # across a bar line, as ties are held
        "A2-|[CE]2|",
    ],
)
def test_a_chords_inner_tie_into_a_chord_without_its_pitch_is_dropped_and_said(body):
    """An inner tie was only checked against a following single note (`[CE-G]A`): into a chord
    that lacks its pitch it stayed, tying E into nothing. Now it goes, with the chord's outer
    tie, the tune warns once, and it reads back the same."""
    from tokenization.abc_writer import write_abc

    tune = parse_abc(f"X:1\nT:Tie\nM:4/4\nL:1/8\nK:C\n{body}")
    assert [t.kind for t in tune.tokens].count("tie") == 0
    dropped = [w for w in tune.warnings if "ties between notes of different pitches" in w]
    assert dropped == ["1 ties between notes of different pitches dropped (a tie joins one "
                       "pitch; read as slurs)"]  # fmt: skip
    text = write_abc(tune.tokens, key=tune.key, meter=tune.meter, unit=tune.unit)
    assert parse_abc(text).tokens == tune.tokens
    # a chord's ties are one group: kept when one of their pitches reaches the next chord
    for kept in ("[CE-G]2 [EG]2|", "[CE-G-]2 [EG]2|", "[CE-G]2-[EG]2|"):
        ties = [t.kind for t in parse_abc(f"X:1\nL:1/8\nK:C\n{kept}").tokens].count("tie")
        assert ties == kept.count("-"), kept


def test_music_after_the_blank_line_that_ends_a_tune_is_said_not_read():
    """ABC 2.1 ends a tune at a blank line; the music after it was dropped without a word."""
    tune = parse_abc("X:1\nK:C\nABc|\n\ndef|\nga|\n")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [69, 71, 72]
    assert (
        "2 line(s) after the blank line 4 not read (a blank line ends a tune), the first at "
        "line 5" in tune.warnings
    )
    assert parse_abc("X:1\nK:C\nABc|\n\n% a comment\n\n").warnings == []


@pytest.mark.parametrize("body", ["A-[CE]2 c2-|]", "G-[CE]2-(3"])
def test_a_dangling_tie_after_a_dropped_tie_into_a_chord_is_dropped(body):
    """The dropped tie into the chord moved the tokens, so the dangling tie at the end was
    looked for at the wrong index and kept: the tune did not read back the same."""
    from tokenization.abc_writer import write_abc

    tune = parse_abc(f"X:1\nM:3/4\nL:1/8\nK:C\n{body}")
    assert [t.kind for t in tune.tokens].count("tie") == 0
    assert any("ties with no note to join dropped" in w for w in tune.warnings)
    assert any("ties between notes of different pitches dropped" in w for w in tune.warnings)
    text = write_abc(tune.tokens, key=tune.key, meter=tune.meter, unit=tune.unit)
    assert parse_abc(text).tokens == tune.tokens


@pytest.mark.parametrize(
    "body, lengths, warning",
    [
        ("A2 B>|]", ["2", "1"], "'>' at the end of the tune ignored (line 5, column 5)"),
        ("A>G G> ||", ["3/2", "1/2", "1"], "'>' at the end of the tune ignored (line 5, column 6)"),
        ("g>f> |]\n", ["3/2", "1/2"], "'>' at the end of the tune ignored (line 5, column 4)"),
        ("A2 B<<\n|]", ["2", "1"], "'<<' at the end of the tune ignored (line 5, column 5)"),
    ],
)
def test_a_broken_rhythm_at_the_end_leaves_the_note_before_it_as_written(body, lengths, warning):
    """`>` lengthened the note before it at once; at the end, with no note to shorten, the
    warning said the sign was ignored while the note kept its dot (O'Neill's No. 9). It names
    the sign's line and column, as the reader's other warnings do (it named neither)."""
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nK:C\n{body}")
    assert [str(t.dur * 8) for t in tune.tokens if t.kind == "note"] == lengths
    assert tune.warnings == [f"broken rhythm {warning}"]


@pytest.mark.parametrize(
    "body, column", [("DFAd fdAF (3", 11), ("DFAd (3\n", 6), ("DFAd (3:2:3 |]", 6)]
)
def test_a_tuplet_with_no_note_after_it_is_named_with_its_line_and_column(body, column):
    """A ``(3`` that no note follows before the tune ends times nothing: it was kept without a
    word, and `irish-tune check` said the tune round-tripped clean."""
    tune = parse_abc(f"X:1\nT:t\nM:4/4\nL:1/8\nK:D\n{body}")
    assert any(
        w.startswith("tuplet '(3") and w.endswith(f"(line 6, column {column})")
        for w in tune.warnings
    )
    assert shown_kind(tune.warnings[-1]) == TUPLET_KIND


@pytest.mark.parametrize(
    "body, expected",
    [
        ("(3DF|]", "tuplet '(3' with 2 of its 3 notes or rests"),
        ("DFAd (3D[FA]", "tuplet '(3' with 2 of its 3 notes or rests"),
        ("(3:2:4DFA|]", "tuplet '(3:2:4' with 3 of its 4 notes or rests"),
    ],
)
def test_a_tuplet_the_tune_ends_inside_is_named_with_its_line_and_column(body, expected):
    """``(3DF|]`` times two notes as a triplet's: it was kept without a word, as ``DFAd (3``
    was, and `irish-tune check` said the tune round-tripped clean."""
    column = body.index("(") + 1
    tune = parse_abc(f"X:1\nT:t\nM:4/4\nL:1/8\nK:D\n{body}")
    assert tune.warnings == [f"{expected} before the end of the tune (line 6, column {column})"]
    assert shown_kind(tune.warnings[0]) == TUPLET_KIND


@pytest.mark.parametrize(
    "body",
    ["(3DFA|", "DFAd (3|fdAF|", "(3 z2 z z |]", "(3D[FA]B|", "DFAd (3DF|fdAF|]", "(3DFA (3DFA|]"],
)
def test_a_tuplet_with_notes_after_it_is_no_warning(body):
    assert parse_abc(f"X:1\nM:4/4\nL:1/8\nK:D\n{body}").warnings == []


@pytest.mark.parametrize(
    "body, expected",
    [
        ("(3DF (3DFA|]", "tuplet '(3' with 2 of its 3 notes or rests before the next tuplet '(3'"),
        ("A2 (3D|(3:2:4DFAd|]", "tuplet '(3' with 1 of its 3 notes or rests before the next"),
        ("(3(3DFA|]", "tuplet '(3' with no note or rest after it before the next tuplet '(3'"),
    ],
)
def test_a_tuplet_the_next_tuplet_mark_cuts_short_is_named_at_its_first_mark(body, expected):
    """``(3DF (3DFA`` times two notes as a triplet's that the bar check counts as taking no
    time: it was kept without a word (only a tuplet the tune ends inside was named)."""
    column = body.index("(") + 1
    tune = parse_abc(f"X:1\nT:t\nM:4/4\nL:1/8\nK:D\n{body}")
    assert len(tune.warnings) == 1
    assert tune.warnings[0].startswith(expected)
    assert tune.warnings[0].endswith(f" (line 6, column {column})")
    assert shown_kind(tune.warnings[0]) == (
        "tuplets the next tuplet mark starts inside (too few notes after them)"
    )


@pytest.mark.parametrize(
    "body, column", [("A><B|", 3), ("A<>B|", 3), ("A>>>>B|", 5), ("A> >B|", 4)]
)
def test_a_malformed_broken_rhythm_is_an_error_at_its_second_sign(body, column):
    """`A><B` was read as A 7/4, B 1/4 (and `A>>>>B`, `A> >B` alike): lengths no reader of
    ABC would give, without a word."""
    with pytest.raises(AbcParseError, match="right after another one") as err:
        parse_abc(f"X:1\nL:1/8\nK:C\n{body}")
    assert (err.value.line, err.value.column) == (4, column)
    assert durs('"x><y"A>B|') == ["3/2", "1/2"]  # `><` in quoted text is text


@pytest.mark.parametrize(
    "header, body, line, column",
    [
        ("M:2+3+99999999999/8", "DEFG ABcd|", 2, 3),
        ("M:4/128", "DEFG|", 2, 3),
        ("M:4/4", "DEFG [M:65/8]ABcd|", 5, 6),
    ],
)
def test_a_huge_meter_is_an_error_at_its_field(header, body, line, column):
    """`M:2+3+99999999999/8` was read, and the measure features then ran out of memory
    building its beats (`irish-tune check` died with a MemoryError traceback)."""
    with pytest.raises(AbcParseError, match="too large") as err:
        parse_abc(f"X:1\n{header}\nL:1/8\nK:D\n{body}")
    assert (err.value.line, err.value.column) == (line, column)
    assert parse_abc("X:1\nM:64/64\nL:1/8\nK:D\nDEFG|").meter == "64/64"


BLANK_IN_TUNE = (
    "X:1\nT:A\nM:4/4\nL:1/8\nK:D\n|:DEFG ABcd|defg abag:|\n\n|:fgaf gfed|cdec BAGF:|\n\n"
    "Words about the tune\n\nX:2\nT:B\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n"
)
LOST = "1 line(s) after the blank line 7 not read (a blank line ends a tune), the first at line 8"


def test_music_after_a_blank_line_in_a_tunebook_tune_is_said_not_read():
    """`parse_abc` warned of it; a tunebook dropped part B without a word (free text after a
    tune, here the words, is no music and is not named)."""
    one, two = parse_tunebook(BLANK_IN_TUNE)
    assert len([t for t in one.tokens if t.kind == "note"]) == 16  # what is read is unchanged
    assert one.warnings == [LOST] and two.warnings == []
    assert LOST in parse_abc(BLANK_IN_TUNE.split("\n\nWords")[0]).warnings  # the same words


def test_an_unclosed_begintext_block_ends_at_the_next_tune_and_is_said():
    """A `%%begintext` without `%%endtext` turned every later line of the file into text:
    the tunes after it were lost without a word."""
    book = (
        "X:1\nT:A\nK:D\nDEFG|\n%%begintext\nsome words\n\nmore\nX:2\nT:B\nK:D\nDEFG|\n\n"
        "%%begintext\nfree text\n\nX:3\nT:C\nK:G\nGABc|\n\nX:4\nT:D\nK:G\nG|\n%%begintext\n"
        "a closed block\nX: in its text\n%%endtext\nAB|\n"
    )
    tunes = list(parse_tunebook(book))
    assert [t.title for t in tunes] == ["A", "B", "C", "D"]
    said = "has no %%endtext: its text ends at the next X: line (or the end)"
    assert [t.warnings for t in tunes] == [
        [f"%%begintext at line 5 {said}"], [], [f"%%begintext at line 14 {said}"], []
    ]  # fmt: skip
    assert len([t for t in tunes[3].tokens if t.kind == "note"]) == 3  # a closed block holds X:
    alone = parse_abc("X:1\nT:A\nK:D\nDEFG|\n%%begintext\nsome words\n")
    assert alone.warnings == [f"%%begintext at line 5 {said}"]


@pytest.mark.parametrize(
    "body, warning",
    [
        ("[CE-G]2-A2 B2c2|", "ties between notes of different pitches dropped"),
        ("[CE-G]-z|", "ties with no note to join dropped"),
        ("[CE-G]-|", "ties with no note to join dropped"),
    ],
)
def test_a_dropped_outer_tie_of_a_chord_takes_its_inner_ties_along(body, warning):
    """The outer tie went and the inner `E-` stayed, tying E into the A (or nothing): the
    tune did not read back the same (`irish-tune check` failed it)."""
    from tokenization.abc_writer import write_abc

    tune = parse_abc(f"X:1\nT:Tie\nM:4/4\nL:1/8\nK:C\n{body}")
    assert [t.kind for t in tune.tokens].count("tie") == 0
    assert any(warning in w for w in tune.warnings)
    text = write_abc(tune.tokens, key=tune.key, meter=tune.meter, unit=tune.unit)
    assert parse_abc(text).tokens == tune.tokens
    kept = parse_abc("X:1\nL:1/8\nK:C\n[CE-G]2-[CEG]2|")  # a tie that reaches its notes stays
    assert [t.kind for t in kept.tokens].count("tie") == 2


@pytest.mark.parametrize("change", ["[L:1/16]", "\nL:1/16\n"])
def test_a_unit_change_in_the_body_is_recorded_and_the_header_unit_kept(change):
    # `unit` was the last L: read (1/4), so the c2 before it was typed back as c
    from tokenization.abc_writer import typed_token

    tune = parse_abc(f"X:1\nL:1/8\nK:G\nc2|{change}c4|[L:1/16]c|[L:1/4]c|")
    assert [str(t.dur) for t in tune.tokens if t.kind == "note"] == ["1/4", "1/4", "1/16", "1/4"]
    assert tune.unit == F(1, 8)
    assert tune.unit_changes == [(2, F(1, 16)), (6, F(1, 4))]  # a repeated [L:1/16] is none
    assert [tune.unit_at(i) for i in (0, 2, 4, 6)] == [F(1, 8), F(1, 16), F(1, 16), F(1, 4)]
    assert [typed_token(tune, i) for i in (0, 2, 4, 6)] == ["c2", "c4", "c", "c"]


def test_a_unit_change_after_a_dropped_tie_moves_back_with_the_tokens():
    # the tie before the rest is dropped after the [L:1/16] was recorded: the change stayed at
    # its old index, one past the rest, so the rest read z4 was typed back as z2
    from tokenization.abc_writer import typed_token

    tune = parse_abc("X:1\nL:1/8\nK:G\nd4-|[M:3/4][L:1/16]z4 c4|")
    assert [t.kind for t in tune.tokens] == ["note", "bar", "rest", "note", "bar"]
    assert tune.meter_changes == [(2, "3/4")]
    assert tune.unit_changes == [(2, F(1, 16))]
    assert [typed_token(tune, i) for i in (2, 3)] == ["z4", "c4"]


def test_an_unclosed_inline_field_is_named_at_its_bracket():
    with pytest.raises(AbcParseError, match=r"inline field \[K:\.\.\. not closed") as err:
        parse_abc("X:1\nT:Reel\nL:1/8\nK:D\nABcd|\nAB [K:G GBd|")
    assert (err.value.line, err.value.column) == (6, 4)
    assert pitches("X:1\nL:1/8\nK:D\nF [K:C]F|") == [66, 65]  # the control: closed


def test_a_decoration_not_closed_is_one_lone_bang_warning_not_one_a_letter():
    # `!trill`: the lone `!` is said once; its letters t, r, i, l were each "unknown decoration"
    tune = parse_abc("X:1\nT:Reel\nL:1/8\nK:D\nAB !trill cd|")
    assert tune.warnings == [
        "a lone `!` (no `!..!` decoration) read as a line break at line 5, column 4; "
        "a `!` that breaks the line needs I:linebreak !"
    ]
    warned = parse_abc("X:1\nL:1/8\nK:D\nAB !hA|").warnings  # the control: no decoration's name
    assert warned[0] == "unknown decoration h dropped (line 4, column 5)"
