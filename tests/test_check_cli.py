"""`irish-tune check`: counts, JSON shape, failures with reasons; whole-corpus round trip (slow)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modeling_irish.cli import main
from tokenization.check import check_files

GOOD = """X:1
T:Good One
R:reel
M:4/4
L:1/8
K:Ador
|:EAAB c2BA|GEDE G2ED|EAAB c2Bc|dcBG A2A2:|
"""
BAD = """X:2
T:Broken One
M:4/4
L:1/8
K:G
GABc ]d|
"""
CORPUS = Path(
    os.environ.get(
        "MODELING_IRISH_CORPUS",
        Path(__file__).resolve().parents[2] / "shared" / "data" / "thesession-c.abc",
    )
)


@pytest.fixture
def tunebook(tmp_path: Path) -> Path:
    path = tmp_path / "book.abc"
    path.write_text(GOOD + "\n" + BAD + "\n" + GOOD.replace("X:1", "X:3"))
    return path


def test_check_json_prints_exactly_one_object(tunebook, capsys):
    assert main(["check", str(tunebook), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one JSON document
    assert set(data) == {"tunes", "parsed", "round_trip_ok", "failures"}
    assert (data["tunes"], data["parsed"], data["round_trip_ok"]) == (3, 2, 2)
    (failure,) = data["failures"]
    assert "Broken One" in failure["tune"]
    assert "line 14, column 6" in failure["error"]  # the stray "]" in the file


def test_check_text_mode_lists_failures(tunebook, capsys):
    main(["check", str(tunebook)])
    out = capsys.readouterr().out
    assert "tunes: 3" in out and "FAIL" in out


def test_check_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.abc")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_whole_shared_corpus_parses_and_round_trips():
    if not CORPUS.exists():
        pytest.skip(f"shared corpus not found at {CORPUS} (set MODELING_IRISH_CORPUS)")
    report = check_files([CORPUS])
    assert report.tunes == 20721
    assert report.round_trip_ok / report.tunes >= 0.995
    assert report.tunes - report.round_trip_ok == len(report.failures)
    assert all(f["error"] for f in report.failures)
