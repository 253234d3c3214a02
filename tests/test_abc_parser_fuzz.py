"""Tests for what fuzzing the reader found: lengths and numbers far beyond any tune's, refused
where they stand (not crashes further on), and lines long enough to show quadratic work."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.abc_writer import write_abc

HEADER = "X:1\nT:Fuzz\nM:4/4\nL:1/8\nK:D\n"
GOOD = f"{HEADER}DEFG ABcd|\n"


def round_trip(tune) -> list:
    """The tokens of ``tune`` written back and read again."""
    text = write_abc(tune.tokens, key=tune.key, meter=tune.meter, unit=tune.unit)
    return parse_abc(text).tokens


@pytest.mark.parametrize(
    "music, column",
    [
        ("A" + "/" * 15000, 6),
        ("A" + "/" * 1030, 6),
        ("A" + "/" * 11, 6),
        ("A/1025", 6),
        ("A3/2048", 6),
        ("A/" + "9" * 5000, 6),
        ("z" + "/" * 11, 6),
        ("[CE]" + "/" * 11, 9),  # a chord's length: at its `]`
    ],
)
def test_a_length_shorter_than_a_1024th_is_refused_where_it_stands(music, column):
    """`A` with 15,000 slashes was read, and then `irish-tune check` failed its round trip
    ("Exceeds the limit (4300 digits) for integer string conversion"), `AbcTokenizer.train`
    raised a ValueError naming no tune, and `irish-tune render` overflowed in music21 at 1,030
    slashes."""
    with pytest.raises(AbcParseError, match="too short: its denominator is above 1024") as err:
        parse_abc(f"{HEADER}DEFG {music}Bcd|")
    assert (err.value.line, err.value.column, err.value.internal) == (6, column, False)
    assert len(err.value.message) < 120  # 15,000 slashes are not written out


def test_a_1024th_is_read_and_written_back():
    tune = parse_abc(f"{HEADER}DEFG A//////////B/1024 z3/1024 [CE]/1024 A30/|")
    lengths = [t.dur for t in tune.tokens if t.kind in ("note", "rest")][4:]
    assert lengths == [F(1, 8192), F(1, 8192), F(3, 8192), F(1, 8192), F(1, 8192), F(15, 8)]
    assert round_trip(tune) == tune.tokens


def test_train_leaves_a_tune_with_a_refused_length_out():
    """It raised a bare ValueError for the whole corpus, naming no tune."""
    from tokenization.tokenization_abc import AbcTokenizer

    bad = f"{HEADER}DEFG A{'/' * 15000}Bcd|\n"
    assert AbcTokenizer.train([GOOD, bad]) == AbcTokenizer.train([GOOD])


HUGE = "9" * 4301  # one digit more than `int` reads from a string


@pytest.mark.parametrize(
    "text, message",
    [
        (f"{HEADER}Z{HUGE}|", "multi-measure rest 'Z999"),
        (f"{HEADER}({HUGE}ABc|", r"bad tuplet '\(999"),
        (f"{HEADER}(3:{HUGE}ABc|", r"bad tuplet '\(3:999"),
        (f"{HEADER}(3:2:{HUGE}ABc|", r"bad tuplet '\(3:2:999"),
        (f"X:1\nM:{HUGE}/4\nK:D\nDEF|", "meter .* too large"),
        (f"X:1\nL:1/{HUGE}\nK:D\nDEF|", "cannot read unit length '1/999"),
    ],
)
def test_a_number_of_thousands_of_digits_is_a_positioned_error_not_a_parser_bug(text, message):
    """`int` refuses more than 4,300 digits: ``Z``, ``(3:`` and ``(`` with more gave "internal
    error ValueError: Exceeds the limit (4300 digits)", flagged as a parser bug; ``M:`` and
    ``L:`` gave Python's message."""
    with pytest.raises(AbcParseError, match=message) as err:
        parse_abc(text)
    assert not err.value.internal and "4300" not in err.value.message
    assert len(err.value.message) < 160


@pytest.mark.parametrize("number", [HUGE, "9" * 20, "²"])
def test_an_x_number_beyond_int64_or_not_ascii_reads_as_none(number):
    """``X:`` with 4,301 nines was an internal error (and ``X:²``, which `str.isdigit` takes):
    the loader skipped the tune as a parser bug, where README says such a number reads as
    ``x`` 0."""
    tune = parse_abc(f"X:{number}\nT:Big\nK:D\nDEF|")
    assert (tune.x, tune.fields["X"], tune.title) == (None, [number], "Big")
    assert parse_abc("X:9223372036854775807\nK:D\nDEF|").x == 2**63 - 1  # int64 still is


def test_the_loader_reads_an_x_number_of_thousands_of_digits_as_x_0(tmp_path):
    from modeling_irish.abc_corpus import load_abc_corpus

    book = tmp_path / "huge.abc"
    book.write_text(f"X:1\nT:Good\nK:D\nDEFG ABcd|\n\nX:{HUGE}\nT:Huge\nK:D\nABcd efga|\n")
    data = load_abc_corpus(book, split_ratios=(1, 0, 0))
    assert data.report["parsed"] == 2 and data.report["skipped"] == 0
    assert sorted(zip(data["train"]["title"], data["train"]["x"])) == [("Good", 1), ("Huge", 0)]
