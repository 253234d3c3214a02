"""`irish-tune check`'s round trip: each tune is written back and read again, and every
difference (rows, measure numbers, keys, meter, tempo and part changes) is a failure with its
reason (the command's counts and JSON shape: `test_check_cli.py`)."""

from __future__ import annotations

import json
import warnings

from test_check_cli import GOOD

from modeling_irish.cli import main


def _spoiled_round_trip(monkeypatch, spoil):
    """Make every round trip of `check` come back changed by ``spoil(rows_again)``."""
    import tokenization.check as check

    real = check.round_trip_rows

    def changed(tune):
        rows, again, text = real(tune)
        spoil(again)
        return rows, again, text

    monkeypatch.setattr(check, "round_trip_rows", changed)
    return real


def test_check_writes_a_corpus_tune_back_in_the_key_its_z_names():
    """The shared corpus writes each tune on the white keys (``K: C Dorian``, a placeholder for
    D dorian) and its real key in ``Z:``: the round trip writes it in that key, as README says,
    at the pitches it was read at, not in the placeholder's ``K:Ddor``."""
    from tokenization.abc_parser import parse_abc
    from tokenization.check import round_trip_rows

    corpus = (
        "X: 7\nT: 1st August\nZ: E Dorian\nR: reel\nM:4/4\nL:1/8\nK: C Dorian\n"
        "=C=D=D=D=F=D=F=G|=A3=A=A=G=F=A|\n"
    )
    rows, again, text = round_trip_rows(parse_abc(corpus))
    assert "\nK:Edor\n" in text
    assert text.splitlines()[-1] == "DEEE GEGA | B3B BAGB |"
    assert rows.rows() == again.rows()


def test_check_names_each_tune_written_in_a_respelled_key(tmp_path, capsys, caplog):
    """A key beyond 7 flats is written back in its usual spelling: check logs that for every
    such tune, with its file and name, and lets no Python warning through (it named a line of
    check.py and no tune, once a run)."""
    path = tmp_path / "dbm.abc"
    path.write_text(
        "".join(f"X:{x}\nT:{t}\nK:Dbm\nDEFG ABcd|]\n\n" for x, t in ((1, "One"), (2, "Two"))),
        encoding="utf-8",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["check", str(path)]) == 0
    assert [str(w.message) for w in caught] == []
    assert "round-trip ok: 2" in capsys.readouterr().out
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: X:{x} {title}: Db minor needs 8 flats, more than an ABC key signature holds: "
        "written in C# minor, the same notes"
        for x, title in ((1, "One"), (2, "Two"))
    ]


def test_check_reports_a_row_the_round_trip_changed(tmp_path, monkeypatch, capsys):
    from tokenization.abc_parser import parse_abc

    path = tmp_path / "good.abc"
    path.write_text(GOOD, encoding="utf-8")
    real = _spoiled_round_trip(
        monkeypatch, lambda again: again.token_rows.__setitem__(3, ("pitch76", "1", "4", "6"))
    )
    rows, _, _ = real(parse_abc(GOOD))
    main_was, _, pc_was, octave_was = rows.rows()[3][:4]
    why = (
        f"row 3 differs after the round trip: main {main_was!r} became 'pitch76', pitch_class "
        f"{pc_was!r} became '4', octave {octave_was!r} became '6'"
    )
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["tunes"], data["parsed"], data["round_trip_ok"]) == (1, 1, 0)
    assert data["failures"] == [{"tune": f"{path}: X:1 Good One", "error": why}]
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "round-trip ok: 0" in out and f"FAIL {path}: X:1 Good One: {why}" in out
    assert main(["check", "--exit-zero", str(path)]) == 0


def test_check_reports_rows_the_round_trip_lost(tmp_path, monkeypatch, capsys):
    path = tmp_path / "good.abc"
    path.write_text(GOOD, encoding="utf-8")

    def lose_the_end(again):  # the <end> row, in both halves of the rows
        again.token_rows.pop()
        again.position_rows.pop()

    _spoiled_round_trip(monkeypatch, lose_the_end)
    assert main(["check", str(path), "--json"]) == 1
    (failure,) = json.loads(capsys.readouterr().out)["failures"]
    assert failure["error"] == "34 rows became 33 after the round trip"


def test_check_reports_a_measure_number_the_round_trip_changed(tmp_path, monkeypatch, capsys):
    path = tmp_path / "good.abc"
    path.write_text(GOOD, encoding="utf-8")

    def shift_the_last(again):
        again.measure_numbers[-1] += 1

    _spoiled_round_trip(monkeypatch, shift_the_last)
    assert main(["check", str(path), "--json"]) == 1
    (failure,) = json.loads(capsys.readouterr().out)["failures"]
    assert failure["error"].startswith("row 33: measure number ")
    assert failure["error"].endswith("after the round trip")


def test_check_reports_a_round_trip_that_raises(tmp_path, monkeypatch, capsys):
    import tokenization.check as check

    def broken(tune):
        raise ValueError("the writer lost its way")

    path = tmp_path / "book.abc"
    path.write_text(GOOD + "\n" + GOOD.replace("X:1", "X:2"), encoding="utf-8")
    monkeypatch.setattr(check, "round_trip_rows", broken)
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["tunes"], data["parsed"], data["round_trip_ok"]) == (2, 2, 0)
    assert data["failures"] == [
        {"tune": f"{path}: X:{x} Good One", "error": "round trip: the writer lost its way"}
        for x in (1, 2)
    ]
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {path}: X:2 Good One: round trip: the writer lost its way" in out


def test_a_round_trip_failure_names_the_features_that_differ():
    """It printed the first 9 columns of both rows, identical when a header feature differed."""
    from dataclasses import replace

    from tokenization.features import HeaderInfo, tune_to_rows
    from tokenization.round_trip import first_difference

    header = HeaderInfo("D major", "D", "major", 2, "4/4", rhythm="reel")
    rows, again = tune_to_rows([], header), tune_to_rows([], replace(header, rhythm="reel x"))
    assert first_difference(rows, again) == (
        "row 0 differs after the round trip: rhythm 'reel' became 'reel x'"
    )


def test_check_reports_a_mid_bar_ending_written_as_a_bar_line(tmp_path, monkeypatch, capsys):
    """``[1`` among a bar's notes (O'Neill's 980) was read as ``|1`` and written so: one 12/8
    bar became two halves (abc2midi warned), and check passed it, with ``--bars`` too, as the
    rows of both were the same. Now the tracker counts one bar across ``[1``, so a writer that
    put the bar line back would change the rows, and check says so."""
    import tokenization.round_trip as round_trip

    path = tmp_path / "beauties.abc"
    path.write_text(
        "X:980\nT:Beauties\nM:12/8\nL:1/8\nK:D\nFDF DFD|Bcd edc [1 d2B A2G:|[2 d2z d2z||\n",
        encoding="utf-8",
    )
    assert main(["check", "--bars", str(path)]) == 0
    assert "round-trip ok: 1" in capsys.readouterr().out
    real = round_trip.write_abc
    monkeypatch.setattr(round_trip, "write_abc", lambda *a, **k: real(*a, **k).replace("[1", "|1"))
    assert main(["check", "--json", str(path)]) == 1
    (failure,) = json.loads(capsys.readouterr().out)["failures"]
    assert failure["error"].startswith("row 14 differs after the round trip: main '[1' became '|1'")


METER_CHANGE = "X:1\nT:Meter change\nM:4/4\nL:1/8\nK:Am\nABcd efga|[M:3/4] a2 g2 e2|c2 B2 A2|]\n"


def test_check_writes_mid_tune_meter_and_tempo_changes_back():
    """The round trip wrote no ``[M:]`` or ``[Q:]`` (``ABcd efga | a2g2e2 |``, abc2midi: "Bar 1
    has 3 time units while the time signature has 4") and compared rows only, which carry
    neither: check said "round-trip ok"."""
    from tokenization.abc_parser import parse_abc
    from tokenization.check import round_trip_rows

    tempo = METER_CHANGE.replace("c2 B2 A2", "[Q:1/4=60]c2 B2 A2")
    rows, again, text = round_trip_rows(parse_abc(tempo))
    assert "| [M:3/4]a2 g2 e2 | [Q:1/4=60]c2 B2 A2 |]" in text
    assert rows.rows() == again.rows()


def test_check_reports_a_meter_or_tempo_change_the_round_trip_lost(tmp_path, monkeypatch, capsys):
    import tokenization.round_trip as round_trip

    tempo = METER_CHANGE.replace("X:1", "X:2").replace("[M:3/4] a2 g2 e2", "[Q:1/4=90] a2g2 e2f2")
    path = tmp_path / "changes.abc"
    path.write_text(METER_CHANGE + "\n" + tempo, encoding="utf-8")
    real = round_trip.write_abc

    def lose(*args, **kwargs):  # a writer that drops the changes
        return real(*args, **kwargs).replace("[M:3/4]", "").replace("[Q:1/4=90]", "")

    monkeypatch.setattr(round_trip, "write_abc", lose)
    assert main(["check", "--json", str(path)]) == 1
    failures = json.loads(capsys.readouterr().out)["failures"]
    assert [f["error"] for f in failures] == [
        "round trip: the meter changes [(9, '3/4')] became [] after the round trip",
        "round trip: the tempo changes [(9, '1/4=90')] became [] after the round trip",
    ]


PARTS = "X:1\nT:Parts\nP:AB\nM:6/8\nL:1/8\nK:G\nP:A\nGAB cBA:|\nP:B\n|:dBG [P:C]GBd:|\n"


def test_check_writes_the_parts_back():
    """The round trip wrote no ``P:`` and compared rows only, which carry no parts."""
    from tokenization.abc_parser import parse_abc
    from tokenization.check import round_trip_rows

    rows, again, text = round_trip_rows(parse_abc(PARTS))
    assert "P:AB\n" in text and "\nP:A\nGAB cBA :|\nP:B\n|: dBG [P:C]GBd :|" in text
    assert rows.rows() == again.rows()


def test_check_reports_a_part_the_round_trip_lost(tmp_path, monkeypatch, capsys):
    import tokenization.round_trip as round_trip

    path = tmp_path / "parts.abc"
    path.write_text(PARTS + "\n" + PARTS.replace("X:1\nT:Parts", "X:2\nT:Order"), encoding="utf-8")
    real = round_trip.write_abc

    def lose(*args, **kwargs):  # a writer that drops a part, then the header's order
        text = real(*args, **kwargs)
        return text.replace("[P:C]", "") if "T:Parts" in text else text.replace("P:AB\n", "")

    monkeypatch.setattr(round_trip, "write_abc", lose)
    assert main(["check", "--json", str(path)]) == 1
    failures = json.loads(capsys.readouterr().out)["failures"]
    assert [f["error"] for f in failures] == [
        "round trip: the parts [(0, 'A'), (7, 'B'), (10, 'C')] became [(0, 'A'), (7, 'B')] "
        "after the round trip",
        "round trip: the header P: (the order of the parts) 'AB' became missing after the round "
        "trip",
    ]
