"""The writer writes back the parts a tune's body marks (``P:B`` lines, inline ``[P:B]``), and
inline fields inside a bar."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tokenization.abc_parser import parse_abc
from tokenization.abc_writer import write_abc

HEADER = "X:1\nT:Parts\nP:AABB\nM:6/8\nL:1/8\nK:G\n"
PARTS = HEADER + (
    "P:A\n|:D|GAB cBA|BGE EDE|1 BGG G2:|2 BGG G2||\n"
    "P:B\n|:d|gfg efg|dBG GBd|1 dBG G2:|2 dBG G2|]\n"
    "[P:C]ABc|\n"
)


def written(tune) -> str:
    return write_abc(
        tune.tokens,
        key=tune.key,
        meter=tune.meter,
        title=tune.title,
        fields={"P": tune.fields["P"]},
        part_changes=tune.part_changes,
        inline_parts=tune.inline_parts,
    )


def test_parts_are_written_back_as_lines_or_inline_as_they_were():
    """The writer wrote no part: a tune's ``P:A``/``P:B`` were lost on the way back, and
    `render.to_midi` could no longer play it in the header's order (``P:AABB``)."""
    tune = parse_abc(PARTS)
    # part B starts at its `|:` (merged with the `||` before `P:B`), not after it
    assert tune.part_changes == [(0, "A"), (26, "B"), (53, "C")] and tune.inline_parts == [2]
    text = written(tune)
    assert text == HEADER + (
        "P:A\n|: D | GAB cBA | BGE EDE |1 BGG G2 :|2 BGG G2 |\n"
        "P:B\n|: d | gfg efg | dBG GBd |1 dBG G2 :|2 dBG G2 |]\n"
        "[P:C]ABc |\n"
    )
    again = parse_abc(text)
    assert again.tokens == tune.tokens and again.fields["P"] == ["AABB"]
    assert (again.part_changes, again.inline_parts) == (tune.part_changes, tune.inline_parts)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        # `:|` `P:B` `|:` read as one `:|:`, the part after it: written in two again
        ("|:GAB cBA:|\nP:B\n|:dBG GBd:|", "|: GAB cBA :|\nP:B\n|: dBG GBd :|"),
        # `|` `P:B` `|:` read as one `|:`, the part at it: written in two again, the tempo
        # change after `P:B` in part B, one before it ending part A, as abc2midi plays them
        ("GAB cBA|\nP:B\n|:dBG GBd:|", "GAB cBA |\nP:B\n|: dBG GBd :|"),
        ("GAB cBA|[P:B]|:dBG GBd:|", "GAB cBA |[P:B]|: dBG GBd :|"),
        ("GAB cBA|\nP:B\nQ:1/4=60\n|:dBG GBd:|", "GAB cBA |\nP:B\n[Q:1/4=60]|: dBG GBd :|"),
        ("GAB cBA|\nQ:1/4=60\nP:B\n|:dBG GBd:|", "GAB cBA |[Q:1/4=60]\nP:B\n|: dBG GBd :|"),
        # a tempo change on each side of `P:B`: the first ends part A, the second starts B
        (
            "GAB cBA|\nQ:1/4=60\nP:B\nQ:1/4=90\n|:dBG GBd:|",
            "GAB cBA |[Q:1/4=60]\nP:B\n|: [Q:1/4=90]dBG GBd :|",
        ),
        # after a `:|`, the tempo change before `P:B` ends part A there, after the bar line
        ("|:GAB cBA:|\nQ:1/4=60\nP:B\n|:dBG GBd:|", "|: GAB cBA :|[Q:1/4=60]\nP:B\n|: dBG GBd :|"),
        (
            "|:GAB cBA:|\nQ:1/4=60\nP:B\nQ:1/4=90\ndBG GBd|]",
            "|: GAB cBA :| [Q:1/4=60]\nP:B\n[Q:1/4=90]dBG GBd |]",
        ),
        ("GAB [Q:1/4=60][P:B][Q:1/4=90]cBA|]", "GAB [Q:1/4=60][P:B][Q:1/4=90]cBA |]"),
        ("GAB cBA|]\nP:B\n|dBG GBd|]", "GAB cBA |]\nP:B\n| dBG GBd |]"),
        ("GAB cBA|:\nP:B\ndBG GBd:|", "GAB cBA |:\nP:B\ndBG GBd :|"),  # after `|:`: no merge
        ("GAB cBA|]\nP:B\ndBG GBd|]", "GAB cBA |]\nP:B\ndBG GBd |]"),  # no merged bar line
        ("GAB\nP:B\ncBA|dBG GBd|]", "GAB [P:B]cBA | dBG GBd |]"),  # inside a bar: inline
        ("GAB cBA|[P:B]dBG [P:C]GBd|]", "GAB cBA | [P:B]dBG [P:C]GBd |]"),
        ("GAB cBA|\nP:B", "GAB cBA |\nP:B"),  # after the last note
        # a part before the tempo change at its token, one after it: the change stays between
        # them (it was written before both, and then ended the part before the first too)
        ("P:A\nQ:1/4=90\nP:B\nGAB cBA|]", "P:A\n[Q:1/4=90]\nP:B\nGAB cBA |]"),
        ("GAB cBA|[P:A2][Q:1/4=60][P:B]dBG|]", "GAB cBA | [P:A2][Q:1/4=60][P:B]dBG |]"),
        ("GAB cBA|]\nP:A2\nQ:1/4=60\nP:B\n", "GAB cBA |]\nP:A2\n[Q:1/4=60]\nP:B"),
    ],
)
def test_each_part_reads_back_where_it_was(body, text):
    tune = parse_abc(f"X:1\nM:6/8\nL:1/8\nK:G\n{body}")
    abc = write_abc(tune.tokens, key=tune.key, meter=tune.meter, part_changes=tune.part_changes,
                    inline_parts=tune.inline_parts, tempo_changes=tune.tempo_changes,
                    parts_after_tempo=tune.parts_after_tempo)  # fmt: skip
    assert abc.split("K:G\n", 1)[1] == text + "\n"
    again = parse_abc(abc)
    assert again.tokens == tune.tokens and again.part_changes == tune.part_changes
    assert again.tempo_changes == tune.tempo_changes
    assert again.parts_after_tempo == tune.parts_after_tempo


@pytest.mark.parametrize(
    ("body", "tempos", "after"),
    [
        # `Q:`, `P:B`, `Q:` at one token: both kept, the first ending part A
        ("GAB cBA|\nQ:1/4=60\nP:B\nQ:1/4=90\ndBG|]", [(7, "1/4=60"), (7, "1/4=90")], [1]),
        ("GAB [Q:1/4=60][Q:1/4=70][P:B]cBA|]", [(3, "1/4=70")], [1]),  # the later replaces
        ("GAB [P:B][Q:1/4=60][Q:1/4=70]cBA|]", [(3, "1/4=70")], []),
        # `|`, `Q:`, `P:B`, `Q:`, `|:` merged: the first before the `|:`, in part A
        ("GAB cBA|\nQ:1/4=60\nP:B\nQ:1/4=90\n|:dBG:|", [(6, "1/4=60"), (7, "1/4=90")], []),
        # `:|`, `Q:`, `P:B`, `|:` merged into `:|:`: the change stays after it, at the part
        ("|:GAB cBA:|\nQ:1/4=60\nP:B\n|:dBG:|", [(8, "1/4=60")], [1]),
    ],
)
def test_a_tempo_change_written_before_a_part_is_kept_apart_from_the_part(body, tempos, after):
    """``Q:1/4=60``, ``P:B``, ``Q:1/4=90``: the second change replaced the first, so part A
    no longer ended at 60; and which change ends part A and which starts B was not kept."""
    tune = parse_abc(f"X:1\nP:A\nM:6/8\nL:1/8\nK:G\n[P:A]{body}")
    assert tune.tempo_changes == tempos and tune.parts_after_tempo == after


def test_a_tune_with_parts_written_back_plays_as_its_source_to_abc2midi(tmp_path):
    """abc2midi plays the parts in the header's order: AABB, twice each with its repeats."""
    from tests.render_helpers import _midi_notes

    program = shutil.which("abc2midi")
    if program is None:
        pytest.skip("abc2midi is not installed")
    source = PARTS.replace("[P:C]ABc|\n", "")
    played = []
    for name, text in (("source", source), ("written", written(parse_abc(source)))):
        (tmp_path / f"{name}.abc").write_text(text, encoding="utf-8")
        run = [program, str(tmp_path / f"{name}.abc"), "-o", str(tmp_path / f"{name}.mid")]
        said = subprocess.run(run, capture_output=True, text=True, check=True, encoding="utf-8")
        assert "Error" not in said.stdout + said.stderr, said.stdout
        played.append(_midi_notes(tmp_path / f"{name}.mid"))
    assert played[1] == played[0] and len(played[0]) > 2 * 26


def test_an_inline_field_inside_a_bar_follows_the_beat_group_space():
    """``dBG[Q:1/4=90] GBd``: the field that starts the second group was written before its
    space, as if it ended the first."""
    tune = parse_abc("X:1\nM:6/8\nL:1/8\nK:G\ndBG [Q:1/4=90]GBd|")
    text = write_abc(tune.tokens, key=tune.key, meter="6/8", tempo_changes=tune.tempo_changes)
    assert text.split("K:G\n", 1)[1] == "dBG [Q:1/4=90]GBd |\n"
