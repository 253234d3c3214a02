"""Tests for tokenization.bar_check: golden bars and rule cases, and O'Neill's/Ryan's shares."""

from __future__ import annotations

import json
from fractions import Fraction as F

import pytest

from modeling_irish.cli import main
from modeling_irish.render_playing import played_events
from tokenization.abc_parser import AbcTune, parse_abc
from tokenization.bar_check import NO_BAR_LINES, bar_report, bars_of


def tune(body: str, meter: str = "6/8", unit: str = "1/8") -> AbcTune:
    return parse_abc(f"X:1\nM:{meter}\nL:{unit}\nK:D\n{body}")


def problems(body: str, meter: str = "6/8", unit: str = "1/8") -> list[str]:
    return bar_report(tune(body, meter, unit)).problems


def test_bar_lengths_with_tuplets_chords_broken_rhythm():
    # 2/4 L:1/16: (3 triplet of eighths = one quarter; [df]2 counts its first note; A>B
    bars = bars_of(tune("(3A2B2c2 [d2f2]2|A>B c6|]", meter="2/4", unit="1/16"))
    assert [(b.length, b.opened_by, b.closed_by) for b in bars] == [
        (F(4), None, "|"),
        (F(4), "|", "|]"),
    ]


def test_pickup_and_complement_pass():
    assert problems("A|:dfa agf|e3 E2:|") == []
    assert problems("AB|dfa agf|e3 e||fg|a3 a3|]") == []  # pickup after ||, short before ||


def test_long_and_short_bars_are_flagged_with_lengths():
    assert problems("|:dfa agf a|e3 e3:|") == ["bar 1: 7 of 6 eighths in 6/8 (long)"]
    assert problems("|:dfa agf|e3 E|e3 e3:|") == ["bar 2: 4 of 6 eighths in 6/8 (short)"]


def test_long_pickup_is_a_problem():
    assert problems("ABcdefg|dfa agf|]") == ["bar 1: 7 of 6 eighths in 6/8 (long)"]


def test_last_bar_may_be_short_after_a_plain_bar_line():
    assert problems("A|dfa agf|e3 e2|") == []


def test_endings_last_bar_short_other_bars_compared():
    assert problems("|:dfa agf|1 e3 e2:|2 e3 e3||") == []
    assert problems("|:dfa agf|1 e3 e|e3 e3:|2 e3 e3||") == ["bar 2: 4 of 6 eighths in 6/8 (short)"]


def test_ending_that_starts_mid_bar():
    # `[1` among the notes is no bar line: one 12/8 bar across it, and the second ending
    # goes on from where the first opened (O'Neill's 980)
    body = "F2D DFD DFD DFD|Bcd edc [1 d2B A2G:|[2 d2z d2z||"
    assert problems(body, meter="12/8") == []
    bars = bars_of(tune(body, meter="12/8"))
    assert [(b.length, b.opened_by, b.closed_by) for b in bars[1:]] == [
        (F(12), "|", ":|2"),
        (F(12), ":|2", "||"),
    ]
    # measured across the ending, a bar too long is too long (O'Neill's 995, `AFA[1 Bcd`:
    # a bar line left out, as abc2midi says too)
    assert problems("dcB AFA[1 Bcd edc|dAG FED:|[2 Bcd efg|fdd d2||") == [
        "bar 1: 12 of 6 eighths in 6/8 (long)",
        "bar 3: 12 of 6 eighths in 6/8 (long)",
    ]
    # a bar line written there (`|1`): the two short halves pass when they sum to the meter
    assert problems("F2D DFD DFD DFD|Bcd edc |1 d2B A2G:|2 d2z d2z||", meter="12/8") == []
    # a short bar before an ending that the ending does not complete is still a problem
    assert problems("F2D DFD DFD DFD|Bcd ed |1 d2B A2G:|2 d2z d2z||", meter="12/8") == [
        "bar 2: 5 of 12 eighths in 12/8 (short)"
    ]


def test_free_meter_is_skipped():
    report = bar_report(parse_abc("X:1\nM:none\nL:1/8\nK:D\nABC|DEFGAB|"))
    assert report.ok and report.skipped == "free meter"
    assert bar_report(tune("A|dfa agf|]")).skipped is None


NOBARLINES = """X:1
T:Unbarred
%%MIDI nobarlines
M:6/8
L:1/8
K:D
V:1
dfa agf e3 E3 dfa agf d3 d3
V:2
D3 F3 A,3 A,3 D3 D3 D6
"""


def test_a_tune_without_bar_lines_is_skipped_not_one_long_bar(capsys):
    """A ``%%MIDI nobarlines`` file (no bar line at all) was checked as one bar 4 times too
    long; the bar check skips it as it skips free meter, and says why."""
    report = bar_report(parse_abc(NOBARLINES))
    assert (report.ok, report.skipped, report.problems) == (True, NO_BAR_LINES, [])
    # a bar line at the start or the end alone leaves the notes one bar: skipped too
    assert bar_report(tune("|dfa agf e3 E3 dfa agf d3 d3|]")).skipped == NO_BAR_LINES
    # one bar line between the notes and the bars are checked
    assert problems("dfa agf e3 E3 | dfa agf d3 d3|]") == [
        "bar 1: 12 of 6 eighths in 6/8 (long)",
        "bar 2: 12 of 6 eighths in 6/8 (long)",
    ]


def test_mid_tune_meter_change_is_honoured():
    body = "dfa agf|dfa agf|\nM:9/8\ndfa agf edc|dfa agf edc|[M:2/4] d2f2|]"
    t = tune(body)
    assert t.meter == "6/8"
    assert [b.meter for b in bars_of(t)] == ["6/8", "6/8", "9/8", "9/8", "2/4"]
    assert bar_report(t).ok
    # the same bars with the change dropped are too long
    assert not bar_report(tune(body.replace("M:9/8", "N:9/8"))).ok


@pytest.mark.parametrize(
    "body",
    [
        "|A2B2 c2d2 |A2B2 c2d2\nM:3/4\n|ABc def|ABc def|]",  # O'Neill's layout: M: line, then |
        "|A2B2 c2d2 |A2B2 c2d2 [M:3/4]|ABc def|ABc def|]",  # inline, before the bar line
        "|A2B2 c2d2 |A2B2 c2d2 |[M:3/4]ABc def|ABc def|]",  # inline, after it
    ],
)
def test_meter_change_before_a_bar_line_starts_the_next_bar(body, tmp_path, capsys):
    """A change written just before the bar line that closes a bar (recorded at that bar
    token) judged the bar's 4/4 notes in 3/4: ``bar 2: 8 of 6 eighths in 3/4 (long)``."""
    t = tune(body, meter="4/4")
    assert [b.meter for b in bars_of(t)] == ["4/4", "4/4", "3/4", "3/4"]
    assert bar_report(t).problems == []
    # the bar after the change is a pickup in the new meter, wherever the change stands
    assert problems(body.replace("ABc def|A", "Bc def|A", 1), meter="4/4") == []
    path = tmp_path / "change.abc"
    path.write_text(f"X:1\nT:t\nM:4/4\nL:1/8\nK:G\n{body}\n", encoding="utf-8")
    assert main(["check", "--bars", str(path)]) == 0
    assert "(long)" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "body",
    [
        "D2 E2 F2 G2|B2 G2 G2 e<f|\nP:C\nE4|D2 E2 F2 D2|E8|]",  # a P: line (thesession's)
        "D2 E2 F2 G2|B2 G2 G2 e<f|[P:C] E4|D2 E2 F2 D2|E8|]",  # inline, after the bar line
        "D2 E2 F2 G2|B2 G2 G2 e<f [P:C]|E4|D2 E2 F2 D2|E8|]",  # inline, before it
    ],
)
def test_a_part_may_begin_with_a_pickup(body, tmp_path, capsys):
    """A part, like a tune, may begin with a short bar: ``check --bars`` said ``bar 3: 4 of 8
    eighths in 4/4 (short)`` of the lead-in after ``P:C``. The bar closed where the part starts
    may be cut short too, as one closed by a section line may."""
    assert problems(body, meter="4/4") == []
    assert problems(body.replace("e<f", "e"), meter="4/4") == []
    path = tmp_path / "parts.abc"
    path.write_text(f"X:1\nT:t\nM:4/4\nL:1/8\nP:AC\nK:G\n{body}\n", encoding="utf-8")
    assert main(["check", "--bars", str(path)]) == 0
    assert "(short)" not in capsys.readouterr().out


def test_a_part_change_among_a_bars_notes_starts_no_pickup():
    # a `[P:]` after the bar's first note: the bar is compared the usual way
    assert problems("D2 E2 F2 G2|B2 [P:C] E2|D2 E2 F2 D2|E8|]", meter="4/4") == [
        "bar 2: 4 of 8 eighths in 4/4 (short)"
    ]
    assert problems("D2 E2 F2 G2|E4|D2 E2 F2 D2|E8|]", meter="4/4") == [
        "bar 2: 4 of 8 eighths in 4/4 (short)"  # no part: the short bar is flagged
    ]


def test_meter_change_among_a_bars_notes():
    # the bar is under both meters: long only when longer than the bar of each
    assert problems("|A2B2 c2d2 |A2B2 c2 [M:3/4] d2|ABc def|]", meter="4/4") == []
    assert problems("|A2B2 c2d2 |A [M:6/4] B2c2 d2e2 f|ABcdef ABcdef|]", meter="4/4") == []
    assert problems("|A2B2 c2d2 |A2B2 c2d2 [M:3/4] ABc def|]", meter="4/4") == [
        "bar 2: 14 of 8 eighths in 4/4 (long)"  # a bar line left out
    ]
    bar = bars_of(tune("|A2B2 c2 [M:3/4] d2|ABc def|]", meter="4/4"))[0]
    assert (bar.meter, bar.meters, "meter" in bar.flags) == ("3/4", ("4/4", "3/4"), True)


def test_free_meter_in_an_ending_is_not_checked_and_does_not_stop_the_run(capsys, monkeypatch):
    """`[M:none]` in a second ending raised ValueError (Fraction('none')), and `check --bars`
    lost its whole report with exit status 2."""
    import io

    text = "X:1\nM:4/4\nK:C\nA4|1 A4:|2 [M:none]A3|]\n"
    assert bar_report(parse_abc(text)).ok
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\nX:2\nM:4/4\nK:C\nA4|A5|A4|]\n"))
    assert main(["check", "--bars", "-"]) == 1  # the second tune's long bar, reported
    assert "X:2" in capsys.readouterr().out


def test_tuplet_across_a_bar_line_counts_in_both_bars():
    # (3F|GA: F in the first bar and G, A in the second, each 2/3 of an eighth, as the reader,
    # abc2midi ("Bar 1 has 13/6 time units") and music21 time them
    bars = bars_of(tune("CDE(3F|GAB cd|e4|]", meter="2/4"))
    assert [b.length for b in bars] == [F(11, 3), F(13, 3), F(4)]
    assert "tuplet" in bars[0].flags
    events = played_events(tune("CDE(3F|GAB cd|e4|]", meter="2/4").tokens)
    played = [event.length * 2 for event in events]  # quarter notes -> eighths
    assert [sum(played[:4]), sum(played[4:9]), sum(played[9:])] == [b.length for b in bars]


def test_tuplet_across_a_bar_line_is_checked_as_written():
    # (6 in 2/4: six eighths in the time of two; def end bar 1 (1 eighth), gab start bar 2
    assert problems("|:ABc(6def|gab c2d|e4:|", meter="2/4") == []
    # 2 + 4/3 | 2/3 + 3 + 2: both short, among full bars
    assert problems("|:dfa agf|d2(3ef|gfe d3|dfa agf:|") == [
        "bar 2: 10/3 of 6 eighths in 6/8 (short)",
        "bar 3: 17/3 of 6 eighths in 6/8 (short)",
    ]


# ---------------------------------------------------------------- music21's books (slow)
#: Shares honestly reached (2007 and 1052 tunes parsed); every remaining failure is an
#: error in the transcription, see the module report in the commit message and the lead's notes.
SHARES = {"oneills1850": 0.905, "ryansMammoth": 0.955}


@pytest.mark.slow
@pytest.mark.parametrize("folder", sorted(SHARES))
def test_music21_books_bars_fit_the_meter(folder, capsys):
    pytest.importorskip("music21")
    # the command a user runs: irish-tune check --bars oneills1850 --json
    assert main(["check", "--bars", folder, "--json"]) == 1  # some bars do not fit (below)
    report = json.loads(capsys.readouterr().out)
    bars = report["bars"]
    share = bars["fit"] / bars["checked"]
    with capsys.disabled():
        print(f"{folder}: {report['parsed']}/{report['tunes']} parse, {bars['free_meter']} free")
        print(f"  bars fit the meter in {bars['fit']}/{bars['checked']} = {share:.2%}")
    assert report["parsed"] / report["tunes"] >= 0.99
    assert bars["checked"] + bars["free_meter"] == report["parsed"]
    assert len(bars["problems"]) == bars["checked"] - bars["fit"]
    assert share >= SHARES[folder]
    assert all("internal error" not in f["error"] for f in report["failures"])
