"""`irish-tune check` made faster without changing what it reports: the rows of a tune that
reads back with the same tokens and header are not made twice, and ``--jobs N`` checks the
tunes in N worker processes, reporting them in the order of the input."""

from __future__ import annotations

import tokenization.check as check
from tokenization.abc_parser import parse_abc

GOOD = "X:1\nT:Good\nR:reel\nM:4/4\nL:1/8\nK:D\n|:DFAF GBAG|FAdA BAFA:|\n"


def _counted_rows(monkeypatch) -> list[int]:
    """Count the calls of `tune_to_rows` that `tokenization.check` makes."""
    calls: list[int] = []
    real = check.tune_to_rows

    def counted(tokens, header):
        calls.append(len(tokens))
        return real(tokens, header)

    monkeypatch.setattr(check, "tune_to_rows", counted)
    return calls


def test_a_round_trip_that_holds_makes_the_rows_once(monkeypatch):
    calls = _counted_rows(monkeypatch)
    rows, again, _ = check.round_trip_rows(parse_abc(GOOD))
    assert len(calls) == 1  # the tune read back has the same tokens and header: rows copied
    assert again == rows and again.token_rows is not rows.token_rows  # a copy, not the same


def test_a_round_trip_that_changes_the_tokens_makes_the_rows_again(monkeypatch):
    calls = _counted_rows(monkeypatch)
    real = check.write_abc
    monkeypatch.setattr(check, "write_abc", lambda *a, **k: real(*a, **k).replace("dA", "dB"))
    rows, again, _ = check.round_trip_rows(parse_abc(GOOD))
    assert len(calls) == 2
    assert [r[0] for r in rows.token_rows] != [r[0] for r in again.token_rows]
    report = check.check_text(GOOD, "good.abc")
    assert report.round_trip_ok == 0
    assert report.failures[0]["error"] == (
        "row 14 differs after the round trip: main 'pitch67' became 'pitch69', "
        "pitch_class '7' became '9'"
    )
