"""`irish-tune check` writes a tune's header back and compares it: its number, titles, rhythms,
meter, key, tempo (``Q:``) and every other field the writer keeps (``C: O: S: Z: N: B:``...).
The round trip wrote ``X:1``, the title, ``R:``, ``M:``, ``L:``, ``K:`` and ``P:`` only and
compared the rows, which carry none of the others: a writer that lost the tempo passed."""

from __future__ import annotations

import pytest

import tokenization.round_trip as round_trip
from tokenization.abc_parser import parse_abc
from tokenization.check import check_text, round_trip_rows

HEADER = """X:980
T:The Full Header
T:A second title
C:Trad.
O:Ireland
S:O'Neill's 1850
Z:by hand
N:a note
N:another
B:Ryan
D:a recording
H:a history
W:words
Q:1/4=120
R:Reel
M:4/4
L:1/8
K:Ador
|:EAAB c2BA|GEDE G2ED|EAAB c2Bc|dcBG A2A2:|
"""


def test_check_writes_the_header_back():
    rows, again, text = round_trip_rows(parse_abc(HEADER))
    lines = text.splitlines()
    for line in HEADER.splitlines()[:17]:
        if line != "L:1/8":  # the writer's own L:
            assert line in lines
    assert lines.index("T:The Full Header") == 1 and lines.index("T:A second title") == 2
    assert rows.rows() == again.rows()
    report = check_text(HEADER, "book.abc")
    assert report.round_trip_ok == 1, report.failures


def _replaced(old: str, new: str):
    return lambda text: text.replace(old, new)


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        (_replaced("Q:1/4=120\n", ""), "the header Q: '1/4=120' became missing"),
        (_replaced("Q:1/4=120", "Q:1/4=100"), "the header Q: '1/4=120' became '1/4=100'"),
        (_replaced("X:980", "X:1"), "the header X: (the tune's number) 980 became 1"),
        (
            _replaced("T:The Full Header", "T:The Full"),
            "the header T: (the titles) ['The Full Header', 'A second title'] became "
            "['The Full', 'A second title']",
        ),
        (
            _replaced("T:A second title\n", ""),
            "the header T: (the titles) ['The Full Header', 'A second title'] became "
            "['The Full Header']",
        ),
        (_replaced("R:Reel\n", ""), "the header R: (the rhythms) 'Reel' became missing"),
        (_replaced("M:4/4", "M:2/4"), "the header M: (the meter) '4/4' became '2/4'"),
        (_replaced("K:Ador", "K:Gdor"), "the header K: (the key) 'A dorian' became 'G dorian'"),
        (_replaced("C:Trad.", "C:Trad"), "the header C: 'Trad.' became 'Trad'"),
        (_replaced("O:Ireland\n", ""), "the header O: 'Ireland' became missing"),
        (_replaced("S:O'Neill's 1850\n", ""), "the header S: \"O'Neill's 1850\" became missing"),
        (_replaced("Z:by hand\n", ""), "the header Z: 'by hand' became missing"),
        (
            _replaced("N:another\n", ""),
            "the header N: ['a note', 'another'] became ['a note']",
        ),
        (_replaced("B:Ryan\n", ""), "the header B: 'Ryan' became missing"),
        (_replaced("D:a recording\n", ""), "the header D: 'a recording' became missing"),
        (_replaced("H:a history\n", ""), "the header H: 'a history' became missing"),
        (_replaced("W:words\n", ""), "the header W: 'words' became missing"),
        (_replaced("K:", "I:linebreak $\nK:"), "the header I: missing became 'linebreak $'"),
    ],
    ids=["Q dropped", "Q changed", "X", "T", "second T dropped", *"RMKCOSZNBDHW", "I added"],
)
def test_check_reports_a_header_field_the_round_trip_changed(monkeypatch, broken, error):
    real = round_trip.write_abc
    monkeypatch.setattr(round_trip, "write_abc", lambda *a, **k: broken(real(*a, **k)))
    report = check_text(HEADER, "book.abc")
    assert report.round_trip_ok == 0
    (failure,) = report.failures
    assert failure["tune"] == "book.abc: X:980 The Full Header"
    assert failure["error"] == f"round trip: {error} after the round trip"


def test_check_writes_no_voice_declaration_back():
    """The tokens are the kept voice's at the pitches they sound: a ``V:`` written back with its
    ``octave=-1`` would move them an octave down again."""
    low = "X:1\nT:Low\nV:1 octave=-1\nM:4/4\nL:1/8\nK:G\nV:1\nGABc dBGB|\n"
    rows, again, text = round_trip_rows(parse_abc(low))
    assert "V:" not in text and rows.rows() == again.rows()
    assert check_text(low).round_trip_ok == 1


def test_check_passes_a_tune_number_the_writer_cannot_write():
    """``X:A1`` is no number (`AbcTune.x` is None): written ``X:1``, it is no failure."""
    report = check_text(HEADER.replace("X:980", "X:A1"), "book.abc")
    assert report.round_trip_ok == 1, report.failures


def test_check_compares_every_rhythm(monkeypatch):
    """A second ``R:`` was neither written back nor compared: a writer that lost it passed."""
    text = HEADER.replace("R:Reel\n", "R:Reel\nR:\nR:Hornpipe\n")
    rows, again, written = round_trip_rows(parse_abc(text))
    assert "\nR:Reel\nR:\nR:Hornpipe\nM:4/4\n" in written and rows.rows() == again.rows()
    assert check_text(text, "book.abc").round_trip_ok == 1
    real = round_trip.write_abc
    monkeypatch.setattr(round_trip, "write_abc", lambda *a, **k: real(*a, **k).replace("R:\n", ""))
    (failure,) = check_text(text, "book.abc").failures
    assert failure["error"] == (
        "round trip: the header R: (the rhythms) ['Reel', '', 'Hornpipe'] became "
        "['Reel', 'Hornpipe'] after the round trip"
    )
