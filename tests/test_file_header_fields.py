"""A tunebook's file header (its fields before the first ``X:`` line, applied to every tune):
an error of one of its fields is at its own line and column, as a tune's own field's is."""

from __future__ import annotations

import pytest
from helpers import stderr_said

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


AS_CHECK = "line 2, column {column}: {message} (the file header's {letter}: field, before the first X: line, applied to this tune)"  # noqa: E501


@pytest.mark.parametrize(
    ("header", "message", "column"),
    [("M:7/x", "cannot read meter '7/x'", 3), ("L: 1/x", "cannot read unit length '1/x'", 4)],
)
def test_a_tune_read_alone_says_an_inherited_fields_error_where_check_does(header, message, column):
    """A tune of `text_tunes` (the file header written in after its X:) said it at its X: line
    (4, 9), as its own field, where `irish-tune check` says it at the file header's line 2."""
    from modeling_irish.abc_sources import text_tunes
    from tokenization.check import check_text

    book = BAD_METER.replace("M:7/x", header)
    said = []
    for raw in text_tunes(book, "b.abc"):
        with pytest.raises(AbcParseError) as err:
            parse_abc(raw.text)
        said.append(raw.locate(err.value))
    at = AS_CHECK.format(column=column, message=message, letter=header[0])
    assert said == [f"b.abc: X:1 A: {at}", f"b.abc: X:2 B: {at}"]
    checked = check_text(book, "b.abc").failures
    assert [f"{failure['tune']}: {failure['error']}" for failure in checked] == [
        one.replace(": line 2", ": parse: line 2") for one in said
    ]


def test_transpose_says_an_inherited_fields_error_at_the_file_headers_line(
    tmp_path, capsys, caplog
):
    """It said 'X:1 A: line 4, column 3: cannot read meter '7/x'', at the tune's X: line."""
    import irish_tune

    book = tmp_path / "fh.abc"
    book.write_text(BAD_METER, encoding="utf-8")
    assert irish_tune.main(["transpose", str(book), "--key", "D"]) != 0
    at = AS_CHECK.format(column=3, message="cannot read meter '7/x'", letter="M")
    err = stderr_said(capsys, caplog, "modeling_irish.transpose_cli")
    assert f"{book}: X:1 A: {at}" in err and f"{book}: X:2 B: {at}" in err


def test_the_loaders_skip_report_says_an_inherited_fields_error_at_its_line(tmp_path):
    """The loader's skip report named the tune's X: line (4) for the file header's M:."""
    from modeling_irish.abc_corpus import load_abc_corpus

    book = tmp_path / "book.abc"
    own = "X:2\nT:B\nM:4/4\nK:G\nGABc dcBA|GABc dcBA|\n"  # its own M:: read
    book.write_text(BAD_METER.split("X:2")[0] + own, encoding="utf-8")
    report = load_abc_corpus([book], split_ratios=(1, 0, 0)).report
    at = AS_CHECK.format(column=3, message="cannot read meter '7/x'", letter="M")
    assert report["skipped_at"] == {
        "AbcParseError: cannot read meter '7/x'": [f"{book} line 4: X:1 A: {at}"]
    }


def test_a_prompts_inherited_fields_error_is_at_its_line_past_a_transpose_left_out(tmp_path):
    """`generate --prompt` leaves the file header's transposing directive out of the tune: the
    M: written in after it is still at its own line (3) of the file."""
    from modeling_irish.generation_cli import _read_prompt

    prompt = tmp_path / "p.abc"
    prompt.write_text("I:MIDI transpose 2\nM:7/x\n\nX:1\nT:A\nK:G\nGABc|\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        _read_prompt(str(prompt))
    at = AS_CHECK.format(column=3, message="cannot read meter '7/x'", letter="M")
    assert str(err.value) == f"--prompt {prompt}: X:1 A: {at}"
