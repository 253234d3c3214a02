"""A tunebook's file header (its fields before the first ``X:`` line, applied to every tune):
an error of one of its fields is at its own line and column, as a tune's own field's is."""

from __future__ import annotations

import pytest

from tokenization.abc_parser import AbcParseError, parse_abc, parse_tunebook

BAD_METER = "%abc-2.1\nM:7/x\n\nX:1\nT:A\nK:G\nGABc|\n\nX:2\nT:B\nK:G\nGABc|\n"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("M:7/x", "cannot read meter '7/x'"),
        ("L: 1/x", "cannot read unit length '1/x'"),
    ],
)
def test_an_inherited_fields_error_is_at_the_file_headers_line_and_column(header, message):
    """It was at each tune's X: line, column 1 (lines 4 and 9), not the header's line 2."""
    book = BAD_METER.replace("M:7/x", header)
    own = parse_tunebook(f"X:1\nT:A\n{header}\nK:G\nGABc|\n")
    (own_err,) = list(own)
    errors = list(parse_tunebook(book))
    assert all(isinstance(err, AbcParseError) for err in errors)
    # the column of its value, as a tune's own field's (there on line 3)
    assert (own_err.line, own_err.column) == (3, header.index(header.split(":")[1].strip()) + 1)
    assert [(err.line, err.column) for err in errors] == [(2, own_err.column)] * 2
    letter = header[0]
    assert [err.message for err in errors] == [
        f"{message} (the file header's {letter}: field, before the first X: line, applied to "
        "this tune)"
    ] * 2


def test_an_inherited_fields_error_without_its_line_is_at_the_tunes_x_line():
    with pytest.raises(AbcParseError) as err:
        parse_abc("X:1\nT:A\nK:G\nGA|\n", line_offset=6, file_header=[("M", "7/x")])
    assert (err.value.line, err.value.column) == (7, 1)


MERGED = (
    "I:linebreak !\n%%MIDI program 73\nU: W = !trill!\n\n"
    "X:1\nT:A\nI:abc-charset utf-8\n%%MIDI gchord fzf\nU: T = !fermata!\nK:G\nGAWB TcA|\n\n"
    "X:2\nT:B\nK:G\nGABc|\n"
)


def test_merged_fields_are_in_one_order_in_the_book_and_in_a_tunes_text_alone():
    """The book gave the tune's own I: (and U:) fields first, then the file header's; its text
    alone (the file header written in after X:, `text_tunes`) the file header's first."""
    from modeling_irish.abc_sources import text_tunes
    from tokenization.check import check_text

    book = [tune.fields for tune in parse_tunebook(MERGED)]
    alone = [parse_abc(raw.text).fields for raw in text_tunes(MERGED, "b.abc")]
    assert book == alone
    own = ["abc-charset utf-8", "MIDI gchord fzf"]
    assert book[0]["I"] == ["linebreak !", "MIDI program 73", *own]
    assert book[0]["U"] == ["W = !trill!", "T = !fermata!"]
    assert book[1]["I"] == ["linebreak !", "MIDI program 73"]
    assert check_text(MERGED, "b.abc").round_trip_ok == 2


def test_a_file_headers_q_beat_not_abc_2_1_is_said_once_for_the_file_read_as_tunes(caplog):
    """`text_tunes`' tunes each said it again (`read_warnings`, at their own line: 4, 9),
    where the book says it at the file header's line; now the file says it once, there."""
    from modeling_irish.abc_sources import text_tunes

    book = "%abc-2.1\nQ:=120\n\nX:1\nT:A\nK:G\nGABc|\n\nX:2\nT:B\nK:G\nGABc|\n"
    with caplog.at_level("WARNING"):
        tunes = list(text_tunes(book, "b.abc"))
    said = [r.getMessage() for r in caplog.records if "Q:=120" in r.getMessage()]
    assert said == [
        "b.abc: Q:=120 (the file header's, line 2) is not ABC 2.1: read as abc2midi reads it, "
        "a beat of a whole note (1/1=120)"
    ]
    assert [raw.read_warnings() for raw in tunes] == [[], []]
    own = "X:1\nT:A\nQ:=120\nK:G\nGABc|\n"  # a tune's own is its own to say
    assert len(next(text_tunes(own, "c.abc")).read_warnings()) == 1
