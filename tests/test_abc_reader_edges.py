"""Edge cases of the ABC reader against ABC 2.1: a multi-measure rest ``Z`` that shares its bar
with notes (§4.5), a ``]`` that closes no chord (§4.8), and ``propagate-accidentals`` in the
body (§11)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_parser import AbcParseError, parse_abc

HEADER = "X:1\nM:4/4\nL:1/8\nK:C\n"


def kinds_and_lengths(text: str) -> list[tuple[str, F | None]]:
    return [(t.kind, t.dur) for t in parse_abc(text).tokens]


def test_z_alone_in_its_bars_is_that_many_full_bar_rests():
    tune = parse_abc(f"{HEADER}Z2|AB|")
    assert [(t.kind, t.dur) for t in tune.tokens][:4] == [
        ("rest", F(1)),
        ("bar", None),
        ("rest", F(1)),
        ("bar", None),
    ]
    assert tune.warnings == []


def test_z_that_ends_a_bar_of_notes_rests_to_the_bar_line_with_a_warning():
    """It was read as a rest of one unit (``AB Z|``: a bar of 3/8 in 4/4), said without a
    column."""
    tune = parse_abc(f"{HEADER}cd|AB Z|cdef|")
    assert [t.dur for t in tune.tokens if t.kind == "rest"] == [F(3, 4)]
    assert tune.warnings == [
        "multi-measure rest 'Z' after notes read as a rest of 3/4 to the end of its bar "
        "(line 5, column 7)"
    ]


@pytest.mark.parametrize(
    ("body", "column", "shares"),
    [
        ("Z A|", 1, "after it"),
        ("AB Z cd|", 4, "before and after it"),
        ("AB Z2|", 4, "before it"),  # two bars after notes: no reading of it
        ("A8 Z|", 4, "before it"),  # the bar is full already
        ("(3ABZ|", 5, "before it"),  # a tuplet still open
    ],
)
def test_z_among_notes_that_cannot_be_read_is_a_positioned_error(body, column, shares):
    """Each was read as a rest of n units (``Z A|``: an eighth rest) with a warning."""
    with pytest.raises(AbcParseError, match=f"shares its bar with notes {shares}") as err:
        parse_abc(HEADER + body)
    assert (err.value.line, err.value.column) == (5, column)


def test_a_linebreak_directive_line_in_the_body_is_said_dropped():
    """``%%linebreak !`` after the music has started changes how lines were cut, which the
    reader does not redo: it was passed over without a word."""
    tune = parse_abc(f"{HEADER}AB|\n%%linebreak !\ncd|")
    assert tune.warnings == ["I: field (instruction) in the body not read: dropped (line 6)"]


@pytest.mark.parametrize("field", ["I:linebreak !", "%%linebreak !", "I:MIDI program 1"])
def test_an_instruction_among_a_dropped_voice_is_said_dropped(field):
    """``I:linebreak !`` among the lines of a voice not kept was passed over without a word,
    where ``%%linebreak !`` there was said dropped."""
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nV:1\nV:2\nK:C\nV:1\nAB|\nV:2\n{field}\ncd|\nV:1\ncd|")
    assert tune.warnings == [
        "I: field (instruction) in the body not read: dropped (line 10)",
        "voice V:2 dropped",
    ]


@pytest.mark.parametrize(
    ("meter", "body", "said"),
    [
        ("none", "Z|", "'Z' read as a rest of 1 unit (L:1/8), not 1 bar: no meter gives"),
        ("none", "Z3|", "'Z3' read as a rest of 3 units (L:1/8), not 3 bars: no meter gives"),
        ("4/4", "Z300|", "'Z300' read as a rest of 300 units (L:1/8), not 300 bars: 256 bars"),
    ],
)
def test_z_read_as_units_says_so_plainly(meter, body, said):
    """It said ``Z read as a rest of 1 units``: no grammar, and not why, nor what Z means."""
    tune = parse_abc(f"X:1\nM:{meter}\nL:1/8\nK:C\n{body}")
    assert [t.dur for t in tune.tokens if t.kind == "rest"] == [F(int(body[1:-1] or 1), 8)]
    [warning] = tune.warnings
    assert warning.startswith(f"multi-measure rest {said}")
    assert warning.endswith("(line 5, column 1)")
