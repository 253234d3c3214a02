"""Golden tests for rarer ABC that the reader read without a word, compared with abc2midi 4.84
and ABC 2.1: a ``+:`` line in the body, a part marked twice, a transposing directive in a file
header."""

from __future__ import annotations

import pytest

from tokenization.abc_parser import parse_abc


@pytest.mark.parametrize(
    ("body", "tempos", "parts"),
    [
        ('DE|\nQ:1/4=60\n+:"slowly"\nFG|]', [(3, '1/4=60 "slowly"')], []),
        ("DE|\nP:A\n% a comment between\n+:B\nFG|]", [], [(3, "A B")]),
        ('DE|\nQ:1/4=60\n+:"slowly"\n+:"softly"\nFG|]', [(3, '1/4=60 "slowly" "softly"')], []),
    ],
)  # fmt: skip
def test_a_continuation_line_in_the_body_continues_the_field_line_above_it(body, tempos, parts):
    """A ``+:`` line after the music has started was passed over: a body ``Q:`` or ``P:`` lost
    its continuation without a word (the header's are joined, `continued_values`)."""
    tune = parse_abc(f"X:1\nT:t\nL:1/8\nK:D\n{body}", corpus_format="standard")
    assert tune.tempo_changes == tempos and tune.part_changes == parts
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [62, 64, 66, 67]
    assert tune.warnings == []


def test_a_continuation_line_after_music_is_said_not_read():
    tune = parse_abc('X:1\nT:t\nL:1/8\nK:D\nDE|\n+:"slowly"\nFG|]', corpus_format="standard")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [62, 64, 66, 67]
    assert tune.warnings == ["+: line 6 continues no field line (music is above it): ignored"]
    # one continuing a directive in the body is read with it
    said = parse_abc("X:1\nT:t\nL:1/8\nK:D\nDE|\nI:MIDI\n+:transpose 2\nFG|]").warnings
    assert said == [
        "I:MIDI transpose 2 not read (line 6): the notes are read and played as written"
    ]


PARTS_TWICE = "X:1\nT:Parts\nM:2/4\nL:1/8\n{header}K:C\nP:A\nCDEF|]\nP:B\nGABc|]\n[P:A]cBAG|]\n"


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("P:ABA\n", "the header's P:ABA plays the last, as abc2midi does"),
        ("", "played as written, each where it is (a header P: would play the last)"),
    ],
)
def test_a_part_marked_twice_is_said_with_its_lines(header, said):
    """abc2midi plays the last of two ``P:A`` ("Part defined more than once"; ABC 2.1 does not
    say); the header's ``P:`` played the first without a word."""
    tune = parse_abc(PARTS_TWICE.format(header=header), corpus_format="standard")
    first = 6 + bool(header)
    assert tune.part_changes == [(0, "A"), (5, "B"), (10, "A")]
    assert tune.warnings == [
        f"part A marked more than once (lines {first} and {first + 4}): {said}"
    ]


def test_parts_marked_at_one_token_or_on_one_line_are_named_once():
    # of two P: at one token the later marks the part: no A marked twice
    assert parse_abc("X:1\nP:AB\nK:C\nP:A\nP:B\nCD|\nP:A\nEF|]").warnings == []
    said = parse_abc("X:1\nP:AB\nK:C\n[P:A]CD[P:B]EF[P:A]GA|]").warnings
    assert said == [
        "part A marked more than once (line 4): the header's P:AB plays the last, as abc2midi does"
    ]


TRANSPOSED_BOOK = (
    "%abc-2.1\n%%MIDI transpose -2\nI:MIDI transpose 3\n%%transpose 1 % up\nM:2/4\n\n"
    "X:1\nT:a\nK:G\nGA|\n\nX:2\nT:b\nK:G\nGA|\n"
)
ONCE = (
    "in the file header not read (line {}): the notes of every tune are read and played as written"
)


def test_a_transposing_directive_in_a_file_header_is_said_once_for_the_file():
    """Before the first ``X:`` it was passed over without a word (in a tune's header or body it
    is said, `transpose_directive_warning`); it applies to every tune, and is said once."""
    from tokenization.abc_parser import parse_tunebook

    tunes = list(parse_tunebook(TRANSPOSED_BOOK))
    assert [[t.pitch for t in tune.tokens if t.kind == "note"] for tune in tunes] == [[67, 69]] * 2
    assert tunes[0].warnings == [
        f"%%MIDI transpose -2 {ONCE.format(2)}",
        f"I:MIDI transpose 3 {ONCE.format(3)}",
        f"%%transpose 1 {ONCE.format(4)}",
    ]
    assert tunes[1].warnings == []
    # the first tune read says them: one the reader refuses does not take them away
    broken = list(parse_tunebook(TRANSPOSED_BOOK.replace("K:G\nGA|\n\nX:2", "K:G\n\nX:2")))
    assert len(broken[1].warnings) == 3


def test_a_directive_of_the_file_header_is_said_once_by_the_sources(caplog):
    import logging

    from modeling_irish.abc_sources import text_tunes

    with caplog.at_level(logging.WARNING, logger="modeling_irish.abc_sources"):
        raws = list(text_tunes(TRANSPOSED_BOOK, "book.abc"))
    assert len(raws) == 2
    # the I: one too, at its line of the file: both MIDI directives are written into each tune
    # as written (ABC 2.1: a tune cut out keeps its file header), whose reader says them
    # again, naming the lines written into; own_warnings leaves them to the file's one line
    assert caplog.messages == [
        f"book.abc: %%MIDI transpose -2 {ONCE.format(2)}",
        f"book.abc: I:MIDI transpose 3 {ONCE.format(3)}",
        f"book.abc: %%transpose 1 {ONCE.format(4)}",
    ]
    for raw in raws:
        said = parse_abc(raw.text).warnings
        assert said == [
            "%%MIDI transpose -2 not read (line 2): the notes are read and played as written",
            "I:MIDI transpose 3 not read (line 3): the notes are read and played as written",
        ]
        assert raw.own_warnings(said) == []
        shifted = parse_abc(raw.text, line_offset=raw.line_offset).warnings
        assert shifted and raw.own_warnings(shifted, raw.line_offset) == []
    own = parse_abc(raws[0].text + "[I:MIDI transpose 3]GA|\n").warnings
    assert raws[0].own_warnings(own) == [  # its own, in its music, is its own to say
        "I:MIDI transpose 3 not read (line 8): the notes are read and played as written"
    ]
