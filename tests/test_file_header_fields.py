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
