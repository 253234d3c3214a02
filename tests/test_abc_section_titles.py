"""Section titles: a ``T:`` after ``K:`` (ABC 2.1: ``T:Part B`` before the B part) is read where
it stands (`AbcTune.section_titles`) and written back there as a body ``T:`` line; it came back
as one more header ``T:``, an alternative name of the tune, and one among the music was lost."""

from __future__ import annotations

import pytest

import tokenization.round_trip as round_trip
from tests.helpers import run_program
from tokenization.abc_parser import parse_abc
from tokenization.abc_writer import write_abc
from tokenization.check import check_text, round_trip_rows
from tokenization.keys import Key

HEADER = "X:1\nT:The Sections\nM:4/4\nL:1/8\nK:D\n"
SOURCE = HEADER + (
    "T:Part One\n"
    "|:DEFG ABcd|d2fd ABcd:|\n"
    "T:Part Two % a comment\n"
    "|:ABcd ABcd|ABcd A\n"
    "T:Middle \\% Title\n"
    "Bcd:|\n"
    "T:Coda\n"
    "DEFG A4|]\n"
)
#: `write_abc`'s text of SOURCE, read and written back: each title where it stood, mid-bar too
WRITTEN = HEADER + (
    "T:Part One\n"
    "|: DEFG ABcd | d2fd ABcd :|\n"
    "T:Part Two\n"
    "|: ABcd ABcd | ABcd A\n"
    "T:Middle \\% Title\n"
    "Bcd :|\n"
    "T:Coda\n"
    "DEFG A4 |]\n"
)
TITLES = [(0, "Part One"), (18, "Part Two"), (32, "Middle % Title"), (36, "Coda")]


def written(tune) -> str:
    return write_abc(tune.tokens, key=tune.key, meter=tune.meter, title=tune.fields["T"],
                     section_titles=tune.section_titles)  # fmt: skip


def test_section_titles_are_read_where_they_stand_not_as_header_titles():
    tune = parse_abc(SOURCE)
    assert tune.section_titles == TITLES
    assert tune.title == "The Sections" and tune.fields["T"] == ["The Sections"]
    assert not tune.warnings


def test_section_titles_are_written_back_where_they_stood():
    tune = parse_abc(SOURCE)
    text = written(tune)
    assert text == WRITTEN
    again = parse_abc(text)
    assert again.tokens == tune.tokens and again.section_titles == TITLES
    assert again.fields["T"] == ["The Sections"] and not again.warnings


@pytest.mark.parametrize(
    ("body", "titles", "text"),
    [
        # between K: and the music, before a part there: the title first, as read
        ("T:A\nP:A\nGAB cBA|]", [(0, "A")], "T:A\nP:A\nGAB cBA |]"),
        # after the last token
        ("GAB cBA|]\nT:Fine", [(7, "Fine")], "GAB cBA |]\nT:Fine"),
        # two at one token, in order
        ("GAB cBA|\nT:B\nT:Variation\ndBG GBd|]", [(7, "B"), (7, "Variation")],
         "GAB cBA |\nT:B\nT:Variation\ndBG GBd |]"),
        # `|`, `T:`, `|:` read as one `|:`, the title after it: written as read, the title
        # before the part that starts at `|:`
        ("GAB cBA|\nT:B\n|:dBG GBd:|", [(7, "B")], "GAB cBA |\nT:B\n|: dBG GBd :|"),
        # `:|`, `T:`, `|:` read as one `:|:`: not `:||:` above the title
        ("GAB cBA:|\nT:B\n|:dBG GBd:|", [(7, "B")], "GAB cBA :|\nT:B\n|: dBG GBd :|"),
        # and its part, after the title as read; an inline one stays in the part
        ("GAB cBA:|\nT:B\nP:B\n|:dBG GBd:|", [(7, "B")], "GAB cBA :|\nT:B\nP:B\n|: dBG GBd :|"),
        ("GAB cBA:|\nT:B\n|:[P:B]dBG GBd:|", [(7, "B")], "GAB cBA :|\nT:B\n|: [P:B]dBG GBd :|"),
        # `|:`, `T:`, `P:B` (a part after the `|:`): the part line stays after the `|:`
        ("GAB cBA|\nT:B\n|:\nP:B\ndBG GBd:|", [(7, "B")], "GAB cBA |\nT:B\n|:\nP:B\ndBG GBd :|"),
        # continued by a `+:` line
        ("GAB cBA|\nT:B\n+:part\ndBG GBd|]", [(7, "B part")], "GAB cBA |\nT:B part\ndBG GBd |]"),
        # a tie dropped before a rest: the title moves back with the tokens after it
        ("GAB c2-\nT:B\nz|]", [(4, "B")], "GAB c2\nT:B\nz |]"),
        # `G :|` opening a line after a title: written `G1 :|`, read as no field
        ("GAB cBA|\nT:B\nG:|", [(7, "B")], "GAB cBA |\nT:B\nG1 :|"),
    ],
)  # fmt: skip
def test_each_section_title_reads_back_where_it_was(body, titles, text):
    tune = parse_abc(f"X:1\nT:t\nM:6/8\nL:1/8\nK:G\n{body}")
    assert tune.section_titles == titles
    abc = write_abc(tune.tokens, key=tune.key, meter=tune.meter, title="t",
                    part_changes=tune.part_changes, inline_parts=tune.inline_parts,
                    section_titles=tune.section_titles)  # fmt: skip
    assert abc.split("K:G\n", 1)[1] == text + "\n"
    again = parse_abc(abc)
    assert again.tokens == tune.tokens and again.section_titles == titles
    assert (again.part_changes, again.inline_parts) == (tune.part_changes, tune.inline_parts)


def test_a_header_without_t_keeps_its_title_from_the_section_title_it_opens_with():
    """Read, such a tune is titled by its first section title (with a warning); written with an
    empty header ``T:``, it read back untitled, so no header ``T:`` is written for it."""
    source = "X:1\nM:6/8\nL:1/8\nK:G\nT:Part A\nGAB cBA|\nT:Part B\ndBG GBd|]\n"
    tune = parse_abc(source)
    assert tune.title == "Part A" and "T" not in tune.fields
    text = write_abc(tune.tokens, key=tune.key, meter=tune.meter, title=[],
                     section_titles=tune.section_titles)  # fmt: skip
    assert text == source.replace("|\n", " |\n").replace("|]", " |]")
    again = parse_abc(text)
    assert (again.title, again.section_titles) == ("Part A", [(0, "Part A"), (7, "Part B")])
    # a section title later in the tune titles nothing: the empty header T: is written
    later = write_abc(tune.tokens, key=tune.key, meter="6/8", title=[], section_titles=[(7, "B")])
    assert later.startswith("X:1\nT:\nM:6/8\n")


def test_a_section_title_past_the_tokens_is_refused():
    tune = parse_abc("X:1\nK:G\nGAB|")
    with pytest.raises(ValueError, match=r"^section title 'B' stands before token 5, outside "):
        write_abc(tune.tokens, key=Key("G", "major"), meter=None, section_titles=[(5, "B")])


def test_check_writes_section_titles_back_in_the_body():
    rows, again, text = round_trip_rows(parse_abc(SOURCE))
    assert text == WRITTEN and rows.rows() == again.rows()
    assert check_text(SOURCE).round_trip_ok == 1
    untitled = "X:1\nM:6/8\nL:1/8\nK:G\nT:Part A\nGAB cBA|]\n"
    assert check_text(untitled).round_trip_ok == 1
    # after a grace note the title is a section's only: written back with an empty header T:
    grace = untitled.replace("T:Part A\n", "{g}[T:Part A]")
    assert parse_abc(grace).title == "" and check_text(grace).round_trip_ok == 1
    assert round_trip_rows(parse_abc(grace))[2].startswith("X:1\nT:\nM:6/8")


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        (  # a section title made a header title: an alternative name of the tune
            lambda text: text.replace("T:Coda\n", "").replace("M:4/4", "T:Coda\nM:4/4"),
            "the header T: (the titles) ['The Sections'] became ['The Sections', 'Coda']",
        ),
        (
            lambda text: text.replace("T:Part Two\n", ""),
            f"the section titles {TITLES} became {TITLES[:1] + TITLES[2:]}",
        ),
        (  # moved after the next bar line
            lambda text: text.replace("A\nT:Middle \\% Title\nBcd :|", "ABcd :|\nT:Middle"),
            f"the section titles {TITLES} became {TITLES[:2] + [(36, 'Middle')] + TITLES[3:]}",
        ),
    ],
    ids=["made a header title", "dropped", "moved"],
)
def test_check_reports_a_section_title_the_round_trip_lost(monkeypatch, broken, error):
    real = round_trip.write_abc
    monkeypatch.setattr(round_trip, "write_abc", lambda *a, **k: broken(real(*a, **k)))
    (failure,) = check_text(SOURCE, "book.abc").failures
    assert failure["error"] == f"round trip: {error} after the round trip"


def test_check_reports_a_title_from_a_section_title_that_the_round_trip_changed(monkeypatch):
    """A header without ``T:`` takes the title of a section title before the first note: one
    written after a note titles nothing (a chord symbol before it does, since the reader takes
    the title so too), and the header and section titles read back the same."""
    untitled = "X:1\nM:6/8\nL:1/8\nK:G\nT:Part A\nGAB cBA|]\n"
    real = round_trip.write_abc
    monkeypatch.setattr(round_trip, "write_abc", lambda *a, **k: real(*a, **k).replace(
                        "K:G\nT:Part A\nG", "K:G\nG\nT:Part A\n"))  # fmt: skip
    (failure,) = check_text(untitled, "book.abc").failures
    assert failure["error"] == "round trip: the title 'Part A' became '' after the round trip"


def test_abcm2ps_engraves_each_section_title_in_the_music(tmp_path):
    """abcm2ps prints a body ``T:`` above the staff it stands before (``% --- + (Part Two) ---``
    in its PostScript); a header ``T:`` is a subtitle under the title (``titlesub``)."""
    (tmp_path / "written.abc").write_text(written(parse_abc(SOURCE)), encoding="utf-8")
    said = run_program("abcm2ps", str(tmp_path / "written.abc"), "-O", str(tmp_path / "written.ps"))
    assert "error" not in said.lower() and "warning" not in said.lower(), said
    ps = (tmp_path / "written.ps").read_text(encoding="latin-1")
    shown = [title.replace("%", "\\%") for _, title in TITLES]  # as written, `\%`
    places = [ps.find(f"% --- + ({title}) ---") for title in shown]
    assert -1 not in places and places == sorted(places), places
    assert ps.find("% --- title The Sections") < places[0]


def test_abc2midi_reads_the_written_section_titles_as_the_source_ones(tmp_path):
    """Without a warning, and plays the same notes (the files differ in their text events)."""
    from tests.render_helpers import _midi_notes

    for name, text in (("source", SOURCE), ("written", written(parse_abc(SOURCE)))):
        (tmp_path / f"{name}.abc").write_text(text, encoding="utf-8")
    said = [
        run_program("abc2midi", str(tmp_path / f"{name}.abc"), "-o", str(tmp_path / f"{name}.mid"))
        for name in ("source", "written")
    ]
    warned = [[line for line in s.splitlines() if "arning" in line or "rror" in line] for s in said]
    assert warned == [[], []], said
    played = [_midi_notes(tmp_path / f"{name}.mid") for name in ("source", "written")]
    assert played[1] == played[0] and len(played[0]) == 2 * (15 + 16) + 5  # repeats played
