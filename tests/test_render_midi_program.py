"""abc2midi's ``%%MIDI program [channel] N`` in the MIDI of render: a program change at the
start, from a tune's header or its tunebook's file header; the other ``%%MIDI`` directives,
not played, named in one warning per tune (and not by ``check``)."""

from __future__ import annotations

import shutil

import pytest
from render_helpers import midi_events

RENDER = "modeling_irish.render"


def _programs(path) -> list[tuple[int, int, int]]:
    """``(tick, channel, program)`` of each program change of a MIDI file, read back with
    music21's MIDI reader."""
    import music21

    _, events = midi_events(path)
    change = music21.midi.ChannelVoiceMessages.PROGRAM_CHANGE
    return [(now, e.channel, e.data) for now, e in events if e.type == change]


def _render_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == RENDER and r.levelno >= 30]


@pytest.mark.parametrize(
    "directive",
    [
        "%%MIDI program 73",
        "I:MIDI program 73",
        "%%MIDI program 1 73",  # channel 1: the melody's
        "%%MIDI program 20\n%%MIDI program 73",  # the last
    ],
)
def test_a_midi_program_in_the_header_is_the_midi_instrument(tmp_path, caplog, directive):
    import music21

    from modeling_irish.render import to_midi

    abc = f"X:1\nT:Flute\n{directive}\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|]\n"
    path = to_midi(abc, str(tmp_path / "t.mid"))
    assert {(tick, program) for tick, _, program in _programs(path)} == {(0, 73)}
    score = music21.converter.parse(path)  # music21 reads the flute back as the part's
    assert {i.midiProgram for i in score.recurse().getElementsByClass("Instrument")} == {73}
    assert _render_warnings(caplog) == []


def test_a_program_between_k_and_the_music_plays_from_the_start(tmp_path):
    from modeling_irish.render import to_midi

    abc = "X:1\nM:4/4\nL:1/8\nK:D\n%%MIDI program 110\nDEFG ABcd|]\n"
    assert _programs(to_midi(abc, str(tmp_path / "t.mid"))) == [(0, 1, 110), (0, 1, 110)]


def test_no_midi_program_writes_no_program_change(tmp_path):
    from modeling_irish.render import to_midi

    assert _programs(to_midi("X:1\nL:1/8\nK:D\nDEFG|]\n", str(tmp_path / "t.mid"))) == []


def test_the_midi_directives_not_played_are_named_once_per_tune(tmp_path, caplog):
    from modeling_irish.render import to_midi

    abc = (
        "X:1\nT:Reel\n%%MIDI gchord fzf\n%%MIDI program 2 40\n%%MIDI program 73\n"
        "%%MIDI transpose -2\nL:1/8\nK:D\n%%MIDI drone 70 45 33 80 80\n"
        "DEFG [I:MIDI program 20] ABcd|]\n"
    )
    path = to_midi(abc, str(tmp_path / "t.mid"))
    assert {program for *_, program in _programs(path)} == {73, 20}  # 20 from its place
    assert _render_warnings(caplog) == [
        "X:1 T:Reel: 3 %%MIDI directive(s) not played by the MIDI (it plays the notes, tempo "
        "and program): %%MIDI gchord fzf; %%MIDI program 2 40 (on channel 2; the MIDI plays "
        "channel 1); %%MIDI drone 70 45 33 80 80"
    ]


def test_render_plays_a_file_header_program_in_every_tune(tmp_path, caplog, capsys):
    from modeling_irish.cli import main

    book = tmp_path / "b.abc"
    book.write_text(
        "%%MIDI program 73\n%%MIDI gchord fzf\n\n"
        "X:1\nT:A\nL:1/8\nK:G\nGABc|]\n\n"
        "X:2\nT:B\nL:1/8\nK:G\n%%MIDI program 22\nGABc|]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["render", str(book), "--out", str(out), "--formats", "midi"]) == 0
    assert {p for *_, p in _programs(out / "b_1.mid")} == {73}
    assert {p for *_, p in _programs(out / "b_2.mid")} == {22}  # the tune's own, after it
    said = [m for m in caplog.messages if "gchord" in m]
    assert len(said) == 2 and all("%%MIDI gchord fzf" in line for line in said), said
    caplog.clear()
    capsys.readouterr()
    assert main(["check", str(book)]) == 0  # playing instructions, not the music read
    assert "gchord" not in capsys.readouterr().err + "".join(m for m in caplog.messages)


def test_a_file_header_midi_directive_is_written_into_each_tune():
    from tokenization.abc_tunebook import split_tunebook

    book = "%%MIDI program 73\n\nX:1\nI:MIDI gchord fzf\nK:G\nGA|\n"
    # a tune's own I:MIDI gchord does not override the file's program: another directive
    assert [t for _, t in split_tunebook(book, standalone=True)] == [
        "X:1\n%%MIDI program 73\nI:MIDI gchord fzf\nK:G\nGA|\n"  # as written
    ]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_the_program_is_the_one_abc2midi_plays(tmp_path):
    import subprocess

    from modeling_irish.render import to_midi

    abc = "%%MIDI program 20\n\nX:1\nT:A\nL:1/8\nK:G\n%%MIDI program 1 73\nGABc|]\n"
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    subprocess.run(
        ["abc2midi", str(tmp_path / "t.abc"), "-o", str(tmp_path / "a.mid")],
        capture_output=True,
        check=True,
    )
    from tokenization.abc_tunebook import split_tunebook

    (_, tune), *_ = split_tunebook(abc, standalone=True)
    ours = {program for *_, program in _programs(to_midi(tune, str(tmp_path / "o.mid")))}
    assert ours == {program for *_, program in _programs(tmp_path / "a.mid")} == {73}


def test_a_file_header_directive_of_a_book_is_said_for_its_first_tunes_then_counted(
    tmp_path, caplog
):
    from modeling_irish.cli import main
    from tokenization.reader_warnings import TUNE_WARNINGS_SHOWN

    tunes = "".join(f"X:{n}\nT:T{n}\nL:1/8\nK:G\nGABc|]\n\n" for n in range(1, 6))
    book = tmp_path / "b.abc"
    book.write_text(f"%%MIDI gchord fzf\n\n{tunes}", encoding="utf-8")
    assert main(["render", str(book), "--out", str(tmp_path / "out"), "--formats", "midi"]) == 0
    said = [r.getMessage() for r in caplog.records if r.levelno >= 30 and "gchord" in r.message]
    assert len(said) == TUNE_WARNINGS_SHOWN == 3, said
    assert said[0].startswith("X:1 T:T1: 1 %%MIDI directive(s) not played"), said
    summary = [m for m in caplog.messages if m.startswith("... and")]
    assert summary == [
        "... and 2 more tune warnings '%%MIDI directives not played' (not shown); 5 in all"
    ]
