"""The ``M:`` symbols of common and cut time (``C``, ``C|``) are written back as written, in
the header and in mid-tune changes (``[M:C|]``): by `irish-tune transpose`, by `check`'s round
trip and by `write_abc` given `AbcTune.written_meter`; the reader still reads them as N/D."""

from __future__ import annotations

import pytest

import irish_tune
from tokenization.abc_parser import parse_abc
from tokenization.abc_writer import write_abc
from tokenization.round_trip import round_trip_rows

CUT = "X:1\nT:Cut\nM:C|\nL:1/8\nK:G\nGABc dedB|GABc d4|\n"
CHANGES = "X:2\nT:Changes\nM:6/8\nL:1/8\nK:G\nGAB cBA|[M:C]GABc d4|[M:C|]GABc d4|[M:3/4]GA Bc d2|\n"


def _transposed(text: str, tmp_path, capsys) -> str:
    source = tmp_path / "in.abc"
    source.write_text(text, encoding="utf-8")
    assert irish_tune.main(["transpose", str(source), "--key", "D"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("symbol, meter", [("C|", "2/2"), ("C", "4/4"), (" C | ", "2/2")])
def test_transpose_keeps_the_header_meter_symbol(symbol, meter, tmp_path, capsys):
    out = _transposed(CUT.replace("M:C|", f"M:{symbol}"), tmp_path, capsys)
    assert f"\nM:{symbol.replace(' ', '')}\n" in out
    again = parse_abc(out)
    assert again.meter == meter  # the reader still reads N/D
    assert again.written_meter == symbol.replace(" ", "")


def test_transpose_keeps_mid_tune_meter_symbols(tmp_path, capsys):
    out = _transposed(CHANGES, tmp_path, capsys)
    assert "[M:C]" in out and "[M:C|]" in out and "[M:3/4]" in out
    assert "4/4" not in out and "2/2" not in out
    assert parse_abc(out).meter_changes == parse_abc(CHANGES).meter_changes


def test_a_numeric_meter_is_written_as_it_was():
    tune = parse_abc(CUT.replace("M:C|", "M:2/2"))
    assert tune.written_meter == "2/2"
    assert "\nM:2/2\n" in write_abc(tune.tokens, key=tune.key, meter=tune.written_meter)


def test_write_abc_with_written_meter_keeps_cut_time():
    tune = parse_abc(CUT)
    text = write_abc(tune.tokens, key=tune.key, meter=tune.written_meter, title=tune.title)
    assert "\nM:C|\n" in text


@pytest.mark.parametrize("text", [CUT, CHANGES])
def test_the_round_trip_writes_the_symbols_and_holds(text):
    rows, again, written = round_trip_rows(parse_abc(text))
    assert rows == again
    assert parse_abc(written).written_meter == parse_abc(text).written_meter
    assert "2/2" not in written and "4/4" not in written
