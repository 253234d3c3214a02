"""Free meter (``M:none``, an empty ``M:``, or none at all) through the reader, the writer and
``check``'s round trip: read as meter None, written back as ``M:none`` / ``[M:none]``, its bars
neither beamed in beats nor checked against a length, and read alike by abc2midi and abcm2ps."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction

import pytest

from tokenization.abc_parser import parse_abc
from tokenization.bar_check import bar_report
from tokenization.round_trip import round_trip_rows

FREE = "X:1\nT:Free\nM:none\nL:1/8\nK:G\nGABc dcBA G>A|(5cdefg c4|dBG|]\n"


@pytest.mark.parametrize("meter_line", ["M:none\n", "M: None \n", "M:\n", ""])
def test_free_meter_is_read_as_no_meter_with_the_eighth_note_unit(meter_line):
    """``M:none``, in any case, an empty ``M:`` and no ``M:`` are free meter: meter None, the
    unit 1/8 (ABC 2.1), and ``(5`` five notes in the time of two, as abc2midi plays them."""
    tune = parse_abc(f"X:1\n{meter_line}K:G\n(5cdefg c4|]\n")
    assert tune.meter is None and tune.unit == Fraction(1, 8) and not tune.meter_changes
    assert tune.tokens[0].text == "(5" and tune.tokens[0].dur == Fraction(2, 5)


def test_free_meter_is_written_back_as_m_none_and_round_trips():
    """Written ``M:none``, each bar one beam group (no beats to break it at) and a dotted pair
    as lengths (no beat to pair in), the same rows read back; ``--bars`` checks no bar."""
    tune = parse_abc(FREE)
    rows, again, text = round_trip_rows(tune)
    assert "\nM:none\nL:1/8\nK:G\nGABcdcBAG3/2A/2 | (5cdefgc4 | dBG |]\n" in text
    assert rows.rows() == again.rows()
    read = parse_abc(text)
    assert read.meter is None and [t.dur for t in read.tokens] == [t.dur for t in tune.tokens]
    assert bar_report(tune).skipped


def test_a_change_to_free_meter_is_said_and_written_as_m_none():
    """``[M:none]`` (or an ``M:`` line) mid-tune: the warning names free meter (it said "change
    to None"), and the writer writes ``[M:none]`` back at the same token."""
    tune = parse_abc("X:1\nM:4/4\nL:1/8\nK:G\nGABc dcBA|\nM:none\nGABc dcBA GA|[M:3/4]G6|]\n")
    assert tune.meter_changes == [(9, None), (20, "3/4")]
    assert any("meter change to none (free meter):" in w for w in tune.warnings)
    assert not any("None" in w for w in tune.warnings)
    rows, again, text = round_trip_rows(tune)
    assert "| [M:none]GABcdcBAGA | [M:3/4]G6 |]" in text
    assert parse_abc(text).meter_changes == tune.meter_changes
    assert rows.rows() == again.rows()


@pytest.mark.skipif(not shutil.which("abc2midi"), reason="abc2midi is not installed")
def test_abc2midi_reads_the_free_meter_written_without_a_complaint(tmp_path):
    """abc2midi (4.84) reads the written ``M:none`` and ``[M:none]`` without a warning."""
    for source in (FREE, "X:1\nT:C\nM:4/4\nL:1/8\nK:G\nGABc dcBA|[M:none]GAB|]\n"):
        path = tmp_path / "free.abc"
        path.write_text(round_trip_rows(parse_abc(source))[2], encoding="utf-8")
        run = [shutil.which("abc2midi"), str(path), "-o", str(tmp_path / "free.mid")]
        said = subprocess.run(run, capture_output=True, text=True, encoding="utf-8", timeout=30)
        assert said.returncode == 0
        assert not [line for line in said.stdout.splitlines() if "rror" in line or "arning" in line]
