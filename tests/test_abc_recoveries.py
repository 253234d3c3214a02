"""The reader's recoveries from the shared corpus's last failures: a stray ``]`` next to a bar
line, an empty chord ``[]``, a broken rhythm opening a bar, each dropped with a warning naming
its line and column, the tune read and round-tripped; the ambiguous ones still refused."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.check import check_text

HEADER = "X:1\nT:Stray\nM:4/4\nL:1/8\nK:C\n"


def rows(body: str) -> list[tuple[str, int | None, Fraction | None]]:
    """The tokens of ``body`` read under `HEADER`: kind, pitch and length (text for bars)."""
    tokens = parse_abc(HEADER + body).tokens
    return [(t.text if t.kind == "bar" else t.kind, t.pitch, t.dur) for t in tokens]


E8, NOTE = Fraction(1, 8), "note"


@pytest.mark.parametrize(
    ("body", "same_as", "warning"),
    [
        # thesession's `=c2=e2=c2=e=f]|:` and `=d8]|`: `|]` typed the wrong way round
        ("c2e2c2ef]|:g8|", "c2e2c2ef|:g8|", "']' without a chord before a bar line dropped "
         "(line 6, column 9)"),
        ("c2ccc]:||2 c8|", "c2ccc:||2 c8|", "before a bar line dropped (line 6, column 6)"),
        # `|1]=D3`: after a bar line with an ending
        ("A8|1]D3 A4|", "A8|1D3 A4|", "']' without a chord after a bar line dropped (line 6, "
         "column 5)"),
        # a `]` inside a bar line no bar line spells: dropped unsaid, as the canonical bar
        ("A8|]]B8|", "A8|]B8|", "']' without a chord in bar line |]] dropped: read as |] (line "
         "6, column 3)"),
        ("A8||]|B8|", "A8|]B8|", "bar line ||]| dropped: read as |] (line 6, column 3)"),
        ("A8:||]]|[|B8|", "A8:|B8|", "bar line :||]]| dropped: read as :|"),
        ("A8[|]]B8|", "A8|]B8|", "bar line [|]] dropped: read as |]"),
        # `[=G,2=E2][=A,2=D2]=G,2=E2]|`
        ("[G,2E2][A,2D2]G,2E2]|", "[G,2E2][A,2D2]G,2E2|", "(line 6, column 20)"),
        # `=c2[]:||:`: an empty chord holds nothing to play
        ("c6[]:||:A8|", "c6:||:A8|", "empty chord [] dropped (line 6, column 3)"),
        # a tie or broken rhythm before it goes on to the note after it
        ("A2-[]A2 B4|", "A2-A2 B4|", "empty chord [] dropped (line 6, column 4)"),
        ("A3>[]A B4|", "A3>A B4|", "empty chord [] dropped"),
        # `|:>=e=g>=f`, `:||:>=A=G`, `|>=F=B`: a dot with no note before it
        ("|:>eg>f e4|", "|:eg>f e4|", "broken rhythm '>' at the start of a bar, with no note "
         "before it, dropped (line 6, column 3)"),
        ("C8:||:>AG>F E4|", "C8:||:AG>F E4|", "(line 6, column 7)"),
        ("C8|\n>FB>A G4|", "C8|\nFB>A G4|", "start of a bar, with no note before it, dropped "
         "(line 7, column 1)"),
        ("<A8|", "A8|", "broken rhythm '<' at the start of the tune, with no note before it"),
    ],
)  # fmt: skip
def test_a_stray_mark_is_dropped_with_a_warning_and_the_tune_round_trips(body, same_as, warning):
    """These were `AbcParseError`s (21 tunes of thesession's 20,721 refused): abcm2ps and
    abc2midi warn and go on, and so does the reader now."""
    tune = parse_abc(HEADER + body)
    assert rows(body) == rows(same_as)
    assert [w for w in tune.warnings if warning in w], tune.warnings
    report = check_text(HEADER + body)
    assert (report.parsed, report.round_trip_ok) == (1, 1)


@pytest.mark.parametrize(
    "bar",
    ["|]", "||]", ":|]", "|:]", "::]", ":]", "|]:", "[|]", "[|]|]", "[|]:|", ":[|]|]", "|][|"],
)
def test_a_bracket_a_bar_line_spells_is_no_stray(bar):
    """The thick line of ``|]`` and its kin, and the invisible bar ``[|]`` (O'Neill's
    ``[|]|]``, ``[|]:|``), are bar lines as written: no stray ``]`` is said dropped."""
    tune = parse_abc(HEADER + f"A8{bar}B8|")
    assert not [w for w in tune.warnings if "without a chord" in w], tune.warnings


def test_the_rows_of_a_dropped_empty_chord_keep_the_tie_and_the_dot():
    """The tie before ``[]`` still joins the two A's, and the dot still pairs them."""
    assert rows("A2-[]A2 B4|") == [
        (NOTE, 69, 2 * E8), ("tie", None, None), (NOTE, 69, 2 * E8), (NOTE, 71, 4 * E8),
        ("|", None, None),
    ]  # fmt: skip
    assert [r[2] for r in rows("A3>[]A B4|")][:2] == [Fraction(9, 16), Fraction(1, 16)]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        # a `[` lost or a `]` stray? (`=E2=G2][=F,=B,=D]`)
        ("E2G2][FA]2 c2|", "line 6, column 5: ']' without a chord"),
        ("A ]", "']' without a chord"),
        ("A]2|", "']' without a chord"),  # a chord's length: no bar typo
        ("A8|\n]B8|", "']' without a chord"),  # not on the bar line's line
        # `[=c=c>]=G`: the dot may belong after the chord
        ("[cc>]G", "broken rhythm '>' without a preceding note"),
        ("(3>ABc", "broken rhythm '>' without a preceding note"),
        # `[=e3=g3[=e=g]`: a `]` lost, or a stray `[`?
        ("[e3g3[eg]", "nested chord"),
        # `|[=c'=b=a...|`: a chord of eight notes or a stray `[`?
        ("|[c'bab|", "bar line inside a chord"),
    ],
)
def test_an_ambiguous_stray_mark_is_still_an_error(body, error):
    with pytest.raises(AbcParseError, match=r".*" + error.replace("[", r"\[")):
        parse_abc(HEADER + body)


@pytest.mark.parametrize(
    ("body", "same_as", "warning"),
    [
        ("A8|||B8|", "A8||B8|", "bar line ||| has more lines or dots than a bar line spells: "
         "read as || (line 6, column 3)"),
        ("|:A8::::B8:|", "|:A8::B8:|", "bar line :::: has more lines or dots than a bar line "
         "spells: read as :|: (line 6, column 5)"),
        ("A8|||:B8:|", "A8||:B8:|", "bar line |||: has more lines or dots"),
    ],
)  # fmt: skip
def test_surplus_lines_or_dots_in_a_bar_line_are_read_as_two_with_a_warning(body, same_as, warning):
    """``|||`` and ``::::`` (no bar line of ABC 2.1) were read as ``||`` and ``:|:`` without
    a word; abc2midi 4.84 plays them so, and the reader now says so at the line and column."""
    tune = parse_abc(HEADER + body)
    assert rows(body) == rows(same_as)
    assert [w for w in tune.warnings if warning in w], tune.warnings


def test_surplus_bar_lines_are_said_once_a_spelling_with_their_count():
    """40 ``|||`` gave 40 warnings; they are said once a spelling, as a lone colon with an
    ending is, with how many and where the first is; a single one keeps its line and column."""
    body = "A8|||" * 40 + "B8|\n" + "|:A8::::B8:|"
    tune = parse_abc(HEADER + body)
    surplus = [w for w in tune.warnings if "more lines or dots" in w]
    assert surplus == [
        "bar line ||| has more lines or dots than a bar line spells: read as || "
        "(40 times, the first at line 6, column 3)",
        "bar line :::: has more lines or dots than a bar line spells: read as :|: "
        "(line 7, column 5)",
    ], tune.warnings
    assert rows("A8|||" * 40) == rows("A8||" * 40)


@pytest.mark.parametrize("bar", ["||", "::", ":||:", "|[|]|", "[|]|]"])
def test_a_bar_line_of_two_lines_or_dots_says_nothing_of_surplus(bar):
    """Two thin lines or dots, and the invisible bar ``[|]`` beside lines, are no surplus."""
    tune = parse_abc(HEADER + f"|:A8{bar}B8:|")
    assert not [w for w in tune.warnings if "more lines or dots" in w], tune.warnings
