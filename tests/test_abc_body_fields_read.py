"""Fields among the music: an inline ``[T:Part B]`` is a section title where it stands, as
abcm2ps prints it (it was passed over without a word), and a field the reader does not read
there (``[W:...]``, ``[N:...]``, a ``W:`` line after the music...) is said dropped, once a
letter, naming where it stood (they were passed over without a word too)."""

from __future__ import annotations

import pytest

from tests.helpers import run_program
from tokenization.abc_parser import parse_abc
from tokenization.abc_writer import write_abc
from tokenization.check import check_text

HEADER = "X:1\nT:Tune\nM:4/4\nL:1/8\nK:G\n"
INLINE = HEADER + "GABc dedc|GABc [T:Part B] dedc|GABc dedc|]\n"
#: `write_abc`'s text of INLINE: the title a `T:` line where it stood, mid-bar
WRITTEN = HEADER + "GABc dedc | GABc\nT:Part B\ndedc | GABc dedc |]\n"


def written(tune) -> str:
    return write_abc(tune.tokens, key=tune.key, meter=tune.meter, title=tune.fields["T"],
                     section_titles=tune.section_titles)  # fmt: skip


def test_an_inline_t_is_a_section_title_where_it_stands():
    tune = parse_abc(INLINE)
    assert tune.section_titles == [(13, "Part B")]
    assert tune.title == "Tune" and tune.fields["T"] == ["Tune"] and not tune.warnings
    assert written(tune) == WRITTEN
    again = parse_abc(WRITTEN)
    assert again.tokens == tune.tokens and again.section_titles == tune.section_titles
    assert check_text(INLINE).round_trip_ok == 1


def test_an_inline_t_that_opens_the_music_of_an_untitled_tune_titles_it():
    """As a ``T:`` line between ``K:`` and the music does: the writer writes it as one."""
    tune = parse_abc("X:1\nM:4/4\nL:1/8\nK:G\n[T:Part A] GABc dedc|[T:Part B] GABc d4|]\n")
    assert tune.title == "Part A"
    assert tune.section_titles == [(0, "Part A"), (9, "Part B")]
    assert tune.warnings == [
        "line 5: no T: before K:; the T: after K: ('Part A', a section title in ABC 2.1) is "
        "taken as the tune's title"
    ]
    assert check_text("X:1\nM:4/4\nL:1/8\nK:G\n[T:Part A] GABc dedc|]\n").round_trip_ok == 1


@pytest.mark.parametrize(
    "music",
    [
        '"Am" [T:Part A] GABc|]',
        "!p!~ [T:Part A] GABc|]",
        "|: z [T:Part A] GABc:|",
        '"Am"|\nT:Part A\nGABc|]',
    ],
)
def test_a_section_title_before_the_first_note_of_an_untitled_tune_titles_it(music):
    """Only a ``[T:]`` opening the line did (``"Am" [T:A]`` did not), so `check`'s round trip,
    whose ``T:`` line before the music titles the tune, said the title '' became 'Part A'."""
    text = f"X:1\nM:4/4\nL:1/8\nK:G\n{music}\n"
    tune = parse_abc(text)
    assert tune.title == "Part A" and tune.fields.get("T") is None
    assert tune.warnings[-1].endswith(
        "('Part A', a section title in ABC 2.1) is taken as the tune's title"
    )
    report = check_text(text)
    assert (report.round_trip_ok, report.failures) == (1, [])
    # after the first note it is a section's title only, written back after an empty T:
    tune = parse_abc('X:1\nM:4/4\nL:1/8\nK:G\n"Am" G [T:Part A] ABc|]\n')
    assert (tune.title, tune.section_titles, tune.warnings) == ("", [(1, "Part A")], [])
    assert check_text('X:1\nM:4/4\nL:1/8\nK:G\n"Am" G [T:Part A] ABc|]\n').round_trip_ok == 1


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ("[W:la la]", "W: field (words)"),
        ("[w:la la]", "w: field (lyrics)"),
        ("[N:slowly]", "N: field (notes)"),
        ("[R:reel]", "R: field (rhythm)"),
        ("[I:MIDI gchord fzf]", "I: field (instruction)"),  # a program is played
        ("[m:~G3=G/A/G]", "m: field (macro)"),
        ("[Z:me]", "Z: field (transcription)"),
        ("[C:Trad]", "C: field (composer)"),
        ("[X:2]", "X: field (reference number)"),
    ],
)
def test_an_inline_field_the_reader_does_not_read_is_said_dropped(field, said):
    tune = parse_abc(f"{HEADER}GABc {field} dedc|]\n")
    assert tune.warnings == [f"{said} in the body not read: dropped (line 6, column 6)"]
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [67, 69, 71, 72, 74, 76, 74, 72]


def test_a_remark_and_a_transposing_directive_are_not_said_dropped():
    """``r:`` is ignored by design (a comment); a transposing ``I:`` is said as one already."""
    tune = parse_abc(f"{HEADER}GABc [r:a remark] dedc|\n[I:MIDI transpose 2] GABc d4|]\n")
    assert tune.warnings == [
        "I:MIDI transpose 2 not read (line 7): the notes are read and played as written"
    ]


def test_field_lines_dropped_after_the_music_are_said_once_a_letter():
    tune = parse_abc(f"{HEADER}GABc dedc|]\nW:Words of it\nN:a note\nW:more words\n")
    assert tune.warnings == [
        "W: fields (words) in the body not read: dropped (lines 7 and 9)",
        "N: field (notes) in the body not read: dropped (line 8)",
    ]


def test_abcm2ps_prints_an_inline_t_as_the_section_title_written_back(tmp_path):
    """abcm2ps 8.14 takes ``[T:Part B]`` as the ``T:Part B`` line the writer writes for it."""
    marks = []
    for name, text in (("inline", INLINE), ("written", WRITTEN)):
        (tmp_path / f"{name}.abc").write_text(text, encoding="utf-8")
        said = run_program(
            "abcm2ps", str(tmp_path / f"{name}.abc"), "-O", str(tmp_path / f"{name}.ps")
        )
        assert "error" not in said.lower(), said
        ps = (tmp_path / f"{name}.ps").read_text(encoding="latin-1")
        marks.append([line for line in ps.splitlines() if line.startswith("% --- ")])
    assert "% --- + (Part B) ---" in marks[0] and marks[1] == marks[0]


VOICES = "X:1\nT:Voices\nM:4/4\nL:1/8\nV:1\nV:2\nK:G\n"


def test_a_section_title_in_a_voice_not_kept_is_the_tunes_where_the_kept_voice_stands():
    """A ``T:`` after ``V:2`` was dropped with the voice; abcm2ps prints it for all the voices."""
    body = "V:1\n|:GABc dedc:|\nV:2\n|:G,A,B,C D4:|\nT:Part B\nV:1\n|:gfed cBAG:|\nV:2\nG,8|]\n"
    tune = parse_abc(VOICES + body)
    assert tune.section_titles == [(10, "Part B")]
    assert tune.tokens[10].kind == "note" and tune.tokens[10].pitch == 79  # the B part's g
    assert tune.warnings == [
        "voice V:2 dropped",
        "line 12: the section title 'Part B' of voice V:2, not kept, is read as the tune's, "
        "where voice V:1 stands",
    ]
    inline = parse_abc(VOICES + "[V:1] GABc dedc|[V:2] [T:Low] G,8|\n[V:1] gfed cBAG|]\n")
    assert inline.section_titles == [(9, "Low")]
    assert "line 8: the section title 'Low' of voice V:2" in inline.warnings[-1]


def test_a_section_title_each_voice_writes_is_kept_once():
    body = (
        "V:1\nT:Part A\n|:GABc dedc:|\nV:2\nT:Part A\n|:G,A,B,C D4:|\n"
        "V:1\nT:Part B\n|:gfed cBAG:|\nV:2\nT:Part B\n|:G,4 D4:|\n"
    )
    tune = parse_abc(VOICES + body)
    assert tune.section_titles == [(0, "Part A"), (10, "Part B")]
    assert tune.warnings == ["voice V:2 dropped"]
