"""An additive ``M:`` (``2+3/8``, ``(2+3+2)/8``: ABC 2.1 §3.1.6, how the beats are grouped) is
read as its sum (5/8, 7/8) and written back as it was spelled, without its spaces, in the header
and in mid-tune changes (``[M:2+3/8]``): by `write_abc` given `AbcTune.written_meter`, by
`irish-tune transpose` and by `check`'s round trip. Before, they wrote ``M:5/8``. A meter with
unbalanced brackets or a zero part is refused, where the reader refuses other meters."""

from __future__ import annotations

import pytest

import irish_tune
from irish_tune.value_checks import check_meter
from tokenization.abc_header import parse_meter
from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.abc_writer import write_abc
from tokenization.round_trip import round_trip_rows

ADDITIVE = "X:1\nT:Grouped\nM:2+3/8\nL:1/8\nK:G\nGA BcD|GA BcD|\n"
CHANGES = "X:2\nT:Changes\nM:6/8\nL:1/8\nK:G\nGAB cBA|[M:(3+2+2)/8]GAB cd ef|[M:C|]GABc d4|\n"


def _written(text: str) -> str:
    tune = parse_abc(text)
    return write_abc(
        tune.tokens,
        key=tune.key,
        meter=tune.written_meter,
        meter_changes=tune.written_meter_changes(),
        title=tune.title,
    )


@pytest.mark.parametrize(
    ("spelled", "meter", "written"),
    [("2+3/8", "5/8", "2+3/8"), (" 3 + 2 / 8 ", "5/8", "3+2/8"), ("(2+3+2)/8", "7/8", "(2+3+2)/8")],
)
def test_write_abc_keeps_the_header_additive_meter(spelled, meter, written):
    text = _written(ADDITIVE.replace("M:2+3/8", f"M:{spelled}"))
    assert f"\nM:{written}\n" in text and f"M:{meter}" not in text
    again = parse_abc(text)
    assert (again.meter, again.written_meter) == (meter, written)  # still read as the sum


def test_an_inline_additive_change_keeps_its_spelling_and_cut_time_its_symbol():
    text = _written(CHANGES)
    assert "[M:(3+2+2)/8]" in text and "[M:C|]" in text
    assert "7/8" not in text and "2/2" not in text
    again = parse_abc(text)
    assert again.meter_changes == parse_abc(CHANGES).meter_changes == [(7, "7/8"), (15, "2/2")]
    assert again.written_meter_changes() == [(7, "(3+2+2)/8"), (15, "C|")]


def test_a_plain_meter_stays_plain():
    text = _written(ADDITIVE.replace("M:2+3/8", "M:5/8"))
    assert "\nM:5/8\n" in text and "+" not in text


def test_transpose_keeps_the_additive_meters(tmp_path, capsys):
    source = tmp_path / "in.abc"
    source.write_text(ADDITIVE + "\n" + CHANGES, encoding="utf-8")
    assert irish_tune.main(["transpose", str(source), "--key", "D"]) == 0
    out = capsys.readouterr().out
    assert "\nM:2+3/8\n" in out and "[M:(3+2+2)/8]" in out and "[M:C|]" in out
    assert "5/8" not in out and "7/8" not in out


@pytest.mark.parametrize(
    ("text", "spelled"), [(ADDITIVE, "\nM:2+3/8\n"), (CHANGES, "[M:(3+2+2)/8]")]
)
def test_the_round_trip_writes_the_additive_meters_and_holds(text, spelled):
    rows, again, written = round_trip_rows(parse_abc(text))
    assert rows == again and spelled in written
    assert parse_abc(written).written_meter == parse_abc(text).written_meter
    assert parse_abc(written).written_meter_changes() == parse_abc(text).written_meter_changes()


@pytest.mark.parametrize(
    ("meter", "said"),
    [
        ("(2+3/8", r"cannot read meter '\(2\+3/8' \(unbalanced brackets\)"),
        ("2+3)/8", r"cannot read meter '2\+3\)/8' \(unbalanced brackets\)"),
        ("0+5/8", r"zero part in additive meter '0\+5/8'"),
        ("3+0+2/8", r"zero part in additive meter '3\+0\+2/8'"),
    ],
)
def test_unbalanced_brackets_and_zero_parts_are_refused_where_they_are(meter, said):
    with pytest.raises(ValueError, match=said):
        parse_meter(meter)
    with pytest.raises(AbcParseError, match=f"line 3, column 3: {said}"):
        parse_abc(f"X:1\nL:1/8\nM:{meter}\nK:G\nGA BcD|")
    with pytest.raises(AbcParseError, match=f"line 5, column 5: {said}"):
        parse_abc(f"X:1\nM:5/8\nK:G\nGA BcD|\nGA B[M:{meter}]cD|")
    with pytest.raises(ValueError, match="is not a meter"):
        check_meter(meter)  # generation's --meter refuses what the reader refuses


@pytest.mark.parametrize(
    ("meter", "fault"),
    [
        ("(2+3/8", "unbalanced brackets"),
        ("2+3)/8", "unbalanced brackets"),
        ("0+5/8", "a zero part"),
        ("0/8", "no beats"),
    ],
)
def test_generation_meter_says_why_the_reader_refuses_it(meter, fault):
    with pytest.raises(ValueError, match=rf"is not a meter \({fault}\): give N/D"):
        check_meter(meter)
