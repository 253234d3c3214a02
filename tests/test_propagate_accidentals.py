"""How far a bar's accidental reaches (ABC 2.1 §11.3, ``%%propagate-accidentals``): by default
(``pitch``) to every note of its letter in every octave up to the bar line, as abc2midi plays
it; ``octave`` to its own octave, ``not`` to its own note."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_parser import Token, parse_abc, parse_tunebook
from tokenization.abc_tunebook import file_header_fields
from tokenization.abc_writer import write_abc
from tokenization.keys import Key


def pitches(text: str) -> list[int]:
    return [t.pitch for t in parse_abc(text).tokens if t.kind == "note"]


def test_an_accidental_holds_in_every_octave_by_default():
    # ABC 2.1 §11.3: the default is `pitch`; abc2midi plays `^c C` as C sharp twice
    assert pitches("X:1\nL:1/8\nK:C\n^c C C, C2 z2|C|]") == [73, 61, 49, 61, 60]
    assert pitches("X:1\nL:1/8\nK:F\n=b B [B,D] z4|B|]") == [83, 71, 59, 62, 70]
    # a key change still ends the bar's accidentals, in every octave
    assert pitches("X:1\nL:1/8\nK:C\n^c[K:G]C z6|]") == [73, 60]


@pytest.mark.parametrize(
    ("directive", "expected"),
    [
        ("%%propagate-accidentals octave", [73, 60, 73, 72]),
        ("I:propagate-accidentals octave", [73, 60, 73, 72]),
        ("%%propagate-accidentals not", [73, 60, 72, 72]),
        ("I:propagate-accidentals not % comment", [73, 60, 72, 72]),
        ("%%propagate-accidentals pitch", [73, 61, 73, 72]),
    ],
)
def test_the_tune_header_sets_how_far_accidentals_reach(directive, expected):
    assert pitches(f"X:1\nL:1/8\n{directive}\nK:C\n^c C c z5|c|]") == expected


def test_the_file_header_sets_it_for_every_tune_that_does_not_set_its_own():
    text = (
        "%%propagate-accidentals octave\n\n"
        "X:1\nL:1/8\nK:C\n^c C c z5|]\n\n"
        "X:2\nL:1/8\nI:propagate-accidentals not\nK:C\n^c C c z5|]\n\n"
        "X:3\nL:1/8\n%%propagate-accidentals pitch\nK:C\n^c C c z5|]\n"
    )
    assert file_header_fields(text) == [("%%", "propagate-accidentals octave")]
    got = [[t.pitch for t in tune.tokens if t.kind == "note"] for tune in parse_tunebook(text)]
    assert got == [[73, 60, 73], [73, 60, 72], [73, 61, 73]]


def test_an_unknown_value_is_said_and_the_default_kept():
    tune = parse_abc("X:1\nL:1/8\n%%propagate-accidentals bar\nK:C\n^c C z6|]")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 61]
    assert any("propagate-accidentals 'bar' is not" in w and "(line 3)" in w for w in tune.warnings)


def test_the_writer_marks_a_natural_in_another_octave():
    # C sharp then C natural an octave down, in one bar: the natural needs its `=`
    e = F(1, 8)
    tokens = [Token("note", "", p, e) for p in (73, 60, 61, 72)]
    tokens.append(Token("bar", "|", None, None))
    text = write_abc(tokens, key=Key("C", "major"), meter="2/4")
    assert "^c=C ^C=c |" in text
    for rule in ("pitch", "octave", "not"):
        again = text.replace("K:C", f"%%propagate-accidentals {rule}\nK:C")
        assert pitches(again) == [73, 60, 61, 72], rule


@pytest.mark.parametrize(
    "directive",
    [
        "[I:propagate-accidentals not]",
        "\nI:propagate-accidentals not\n",
        "\n%%propagate-accidentals not\n",
    ],
)
def test_a_directive_in_the_body_applies_from_where_it_stands(directive):
    """ABC 2.1 lets an ``I:`` field stand in the body: it was dropped (the ``I:`` with a
    warning, the ``%%`` line without a word), the header's scope kept to the end."""
    tune = parse_abc(f"X:1\nL:1/8\nK:C\n^c c z6|c {directive} ^c c z6|]")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 73, 72, 73, 72]
    assert tune.warnings == []


def test_a_change_of_scope_keeps_the_bars_accidentals_where_they_reached():
    # `^c` reached C in every octave (pitch); after `octave` it still does, as before
    text = (
        "X:1\nL:1/8\nK:C\n^c [I:propagate-accidentals octave] C c z5|[I:propagate-accidentals not] "
    )
    assert pitches(text + "^c C c z5|c|]") == [73, 61, 73, 73, 60, 72, 72]


def test_an_unknown_value_in_the_body_is_said_with_its_place_and_changes_nothing():
    tune = parse_abc("X:1\nL:1/8\nK:C\n^c [I:propagate-accidentals bar] c z6|]")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 73]
    assert tune.warnings == [
        "propagate-accidentals 'bar' is not one of not, octave, pitch (line 4, column 4): "
        "ignored, pitch kept"
    ]


@pytest.mark.parametrize(
    "directive", ["%%propagate-accidentals not", "I:propagate-accidentals not % comment"]
)
def test_a_directive_line_among_a_voice_not_kept_applies_to_the_kept_voice_and_is_said(directive):
    """A directive line is the tune's from where it stands (abc2midi's is one for the tune):
    written among voice 2's lines it was ignored without a word, the kept voice's scope kept."""
    tune = parse_abc(
        f"X:1\nL:1/8\nV:1\nV:2\nK:C\nV:1\n^c c z6|\nV:2\nC8|\n{directive}\n"
        "V:1\n^c c z6|]\nV:2\nC8|]\n"
    )
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 73, 73, 72]
    assert tune.warnings == [
        "propagate-accidentals not among the lines of voice V:2, not kept, applies to voice V:1 "
        "from here (line 10)",
        "voice V:2 dropped",
    ]


def test_an_inline_directive_among_a_voice_not_kept_applies_to_the_kept_voice_and_is_said():
    """``[I:propagate-accidentals not]`` on voice 2's music line was ignored without a word,
    while its ``I:`` line form there applies to the kept voice, said: it now reads as the line."""
    tune = parse_abc(
        "X:1\nL:1/8\nV:1\nV:2\nK:C\nV:1\n^c c z6|\nV:2\nC4 [I:propagate-accidentals not] C4|\n"
        "V:1\n^c c z6|]\nV:2\nC8|]\n"
    )
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 73, 73, 72]
    assert tune.warnings == [
        "[I:propagate-accidentals not] among the lines of voice V:2, not kept, applies to voice "
        "V:1 from here (line 9, column 4)",
        "voice V:2 dropped",
    ]


def test_an_unknown_inline_directive_among_a_voice_not_kept_is_said_with_its_column():
    tune = parse_abc(
        "X:1\nL:1/8\nV:1\nV:2\nK:C\nV:1\n^c c z6|\nV:2\nC4 [I:propagate-accidentals bar] C4|\n"
    )
    assert tune.warnings[0] == (
        "propagate-accidentals 'bar' is not one of not, octave, pitch (line 9, column 4): "
        "ignored, pitch kept"
    )


@pytest.mark.parametrize(
    ("directive", "said"),
    [
        ("%%propagate-accidentals bar", "propagate-accidentals 'bar' is not one of not, octave"),
        ("%%linebreak !", "I: field (instruction) in the body not read: dropped (line 10)"),
    ],
)
def test_a_directive_line_among_a_voice_not_kept_that_is_not_read_is_said(directive, said):
    tune = parse_abc(f"X:1\nL:1/8\nV:1\nV:2\nK:C\nV:1\n^c c z6|\nV:2\nC8|\n{directive}\nC8|]\n")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 73]
    assert [w[: len(said)] for w in tune.warnings] == [said, "voice V:2 dropped"]
