"""Tests of SVG, MIDI and WAV rendering (WAV skipped with a reason when fluidsynth is absent)."""

from __future__ import annotations

import argparse
import os
import shutil
import wave
from fractions import Fraction
from pathlib import Path

import pytest
from helpers import (  # noqa: F401 (fixtures: the tiny model of `irish-tune generate`)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.render import RenderError, find_soundfont, render_abc, to_wav

ABC = "X:1\nT:Test\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAB d2e|1dBG A3:|2dBG G3|]\n"


def test_svg_is_engraved(tmp_path):
    pytest.importorskip("verovio")
    out = render_abc(ABC, str(tmp_path / "tune"), formats=["svg"])
    (path,) = out["svg"]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert text.startswith("<svg") and text.count("<g ") > 10


def test_a_tune_without_x_is_engraved(tmp_path):
    pytest.importorskip("verovio")
    out = render_abc("T:t\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|]\n", str(tmp_path / "t"), ["svg"])
    (path,) = out["svg"]
    assert Path(path).read_text(encoding="utf-8").startswith("<svg")


def test_midi_has_the_notes_with_repeats(tmp_path):
    import music21

    out = render_abc(ABC, str(tmp_path / "tune"), formats=["midi"])
    score = music21.converter.parse(out["midi"]).stripTies()  # notes split at barlines
    pitches = [p.midi for n in score.recurse().notes for p in n.pitches]
    # Two passes over G A B d e d B G, first ending A, second ending G (repeats expanded).
    assert pitches == [67, 69, 71, 74, 76, 74, 71, 67, 69, 67, 69, 71, 74, 76, 74, 71, 67, 67]


@pytest.mark.skipif(
    shutil.which("fluidsynth") is None or find_soundfont() is None,
    reason="fluidsynth or a GM soundfont is not installed (apt-get install fluidsynth "
    "fluid-soundfont-gm)",
)
def test_wav_is_synthesised(tmp_path):
    out = render_abc(ABC, str(tmp_path / "tune"), formats=["wav"])
    with wave.open(out["wav"]) as handle:
        seconds = handle.getnframes() / handle.getframerate()
    assert 3.0 < seconds < 20.0  # 24 eighths at 200 quarters a minute, plus the release tail
    assert not os.path.exists(tmp_path / "tune.mid")


def test_missing_soundfont_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr("modeling_irish.render.SOUNDFONT_PATHS", ())
    monkeypatch.delenv("SOUNDFONT", raising=False)
    # with fluidsynth installed the note names the soundfont package only
    with pytest.raises(RenderError, match="apt-get install fluid"):
        to_wav(str(tmp_path / "x.mid"), str(tmp_path / "x.wav"))
    out = render_abc(ABC, str(tmp_path / "tune"), formats=["wav"])
    assert "wav" not in out and "apt-get" in out["skipped"][0]


@pytest.mark.parametrize(
    ("program", "font", "says", "not_said"),
    [
        (None, True, "the fluidsynth program (apt-get install fluidsynth)", "$SOUNDFONT"),
        ("/usr/bin/fluidsynth", False, "a General MIDI soundfont", "install fluidsynth"),
        (None, False, "the fluidsynth program and a General MIDI soundfont", None),
    ],
)
def test_the_wav_note_says_what_is_missing(tmp_path, monkeypatch, program, font, says, not_said):
    from modeling_irish import render

    monkeypatch.setattr(render.shutil, "which", lambda name: program)
    monkeypatch.setattr(render, "SOUNDFONT_PATHS", ())
    monkeypatch.delenv("SOUNDFONT", raising=False)
    if font:  # a valid font in $SOUNDFONT: setting it again cannot help
        path = tmp_path / "gm.sf2"
        path.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
        monkeypatch.setenv("SOUNDFONT", str(path))
    problem = render.unavailable_formats(["wav"])["wav"]
    assert says in problem
    assert not_said is None or not_said not in problem
    if not font:
        assert "$SOUNDFONT" in problem


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown formats"):
        render_abc(ABC, str(tmp_path / "tune"), formats=["png"])


def _midi_pitches(path) -> list[int]:
    import music21

    score = music21.converter.parse(str(path)).stripTies()  # notes split at barlines
    return [p.midi for n in score.recurse().notes for p in n.pitches]


BOOK = (
    "X:1\nT:First\nM:6/8\nL:1/8\nK:G\nGAG GAB|]\n\n"
    "X:2\nT:Broken\nM:6/8\nL:1/8\nK:G\n[[AF]\n\n"
    "X:3\nT:Third\nM:6/8\nL:1/8\nK:G\nBAB GAB|]\n"
)


def _write(path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def _has_verovio() -> bool:
    import importlib.util

    return importlib.util.find_spec("verovio") is not None


def _no_wav(monkeypatch) -> None:
    """No soundfont anywhere: WAV cannot be made, whether fluidsynth is installed or not."""
    monkeypatch.setattr("modeling_irish.render.SOUNDFONT_PATHS", ())
    monkeypatch.delenv("SOUNDFONT", raising=False)


def _midi_notes(path) -> list[tuple[Fraction, int, Fraction]]:
    """``(start, MIDI pitch, length)`` in quarter notes of every note of a MIDI file, read from
    its events (music21's reader would split notes at its barlines); none may be left on."""
    import music21

    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    sounding, notes = {}, []
    for track in midi.tracks:
        now = 0
        for event in track.events:
            if isinstance(event, music21.midi.DeltaTime):
                now += event.time
            elif event.type == music21.midi.ChannelVoiceMessages.NOTE_ON and event.velocity:
                assert event.pitch not in sounding, f"{event.pitch} started twice"
                sounding[event.pitch] = now
            elif event.type in (
                music21.midi.ChannelVoiceMessages.NOTE_OFF,
                music21.midi.ChannelVoiceMessages.NOTE_ON,
            ):
                start = sounding.pop(event.pitch)  # a NOTE_OFF before its NOTE_ON fails here
                notes.append((start, event.pitch, now - start))
    assert not sounding, f"notes never released: {sounding}"
    tick = midi.ticksPerQuarterNote
    return sorted((Fraction(start, tick), p, Fraction(n, tick)) for start, p, n in notes)


def _played(body: str, header: str = "M:4/4\nL:1/8\n", tmp_path=None) -> list[int]:
    from modeling_irish.render import to_midi

    path = to_midi(f"X:1\nT:t\n{header}{body}\n", str(tmp_path / "t.mid"))
    return [pitch for _, pitch, _ in _midi_notes(path)]


C, D, E, F, G, A, B, c, d = 60, 62, 64, 65, 67, 69, 71, 72, 74


def test_midi_plays_repeats_as_the_package_unfolds_them(tmp_path):
    # a :| with no |: goes back to the end of the last repeat, not to the start: A A B B
    got = _played("K:C\nCDEF|DEFG:|GABc|ABcd:|", tmp_path=tmp_path)
    assert got == [C, D, E, F, D, E, F, G] * 2 + [G, A, B, c, A, B, c, d] * 2
    assert _played("K:C\nCDEF:|GABc:|", tmp_path=tmp_path) == [C, D, E, F] * 2 + [G, A, B, c] * 2
    # a |: never closed is played once
    assert _played("K:C\n|:CDE CDE|GAB GAd|", tmp_path=tmp_path) == [
        C,
        D,
        E,
        C,
        D,
        E,
        G,
        A,
        B,
        G,
        A,
        d,
    ]


@pytest.mark.parametrize(
    ("body", "pitches"),
    [
        ("K:G\n^c2 c2|c2", [73, 73, 72]),  # an accidental holds to the bar line
        ("K:D\n=c2 c2|c2", [72, 72, 73]),
        ("K:G\nB2 [K:Bb] B2|", [71, 70]),  # inline key change
        ("K:D^g\nG2 c2|", [68, 73]),  # explicit accidentals of K:
        ("K:HP\nG2 c2 f2|", [67, 73, 78]),  # highland pipes: A mixolydian
    ],
)
def test_midi_pitches_are_those_the_package_reads(tmp_path, body, pitches):
    assert _played(body, tmp_path=tmp_path) == pitches


def test_midi_notes_and_lengths_follow_the_package_reading(tmp_path):
    from modeling_irish.render import played_events, to_midi
    from tokenization.abc_parser import parse_abc

    abc = "X:1\nT:t\nM:6/8\nL:1/8\nK:D\n|:(3ABc d2-d|[DF]2 z A/B/c:|\n"
    notes, now = [], Fraction(0)
    for pitches, length, held in played_events(parse_abc(abc).tokens):
        assert not held  # no tie between different events here
        notes += [(now, pitch, length) for pitch in pitches]
        now += length
    assert _midi_notes(to_midi(abc, str(tmp_path / "t.mid"))) == sorted(notes)
    assert (Fraction(1), 74, Fraction(3, 2)) in notes  # tied d2-d: one note of 3 eighths


@pytest.mark.parametrize(
    ("body", "notes"),
    [  # (start, pitch, length) in quarter notes, as abc2midi plays them
        ("[DA-]2A2|", [(0, D, 1), (0, A, 2)]),  # chord to note: A struck once, D ends
        ("[DA]2-[DA]2|", [(0, D, 2), (0, A, 2)]),  # chord to chord: both held
        ("A2-[DA]2|", [(0, A, 2), (1, D, 1)]),  # note to chord
        ("[DA-]2[FA]2|", [(0, D, 1), (0, A, 2), (1, F, 1)]),
        ("[D-A]2[DF]|", [(0, D, Fraction(3, 2)), (0, A, 1), (1, F, Fraction(1, 2))]),
        ("[DA-]2A2-A2|", [(0, D, 1), (0, A, 3)]),  # held on through a second tie
    ],
)
def test_tied_chord_members_are_held_not_struck_again(tmp_path, body, notes):
    from modeling_irish.render import to_midi

    path = to_midi(f"X:1\nT:t\nM:4/4\nL:1/8\nK:C\n{body}\n", str(tmp_path / "t.mid"))
    assert _midi_notes(path) == sorted(notes)


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_chord_ties_are_played_as_abc2midi_plays_them(tmp_path):
    import subprocess

    from modeling_irish.render import to_midi

    # thesession.org's "Devil In The Kitchen" (setting as the shared corpus writes it)
    abc = (
        "X:1\nT:Devil In The Kitchen\nM:4/4\nL:1/8\nK:C\n"
        "=A2[=F=A]2[=D=A-]2[=F=A]=A-|=A=G=A=B=c2=B=c|[=f-=a]3[=d=f]=a=d[=d=f]=d|"
        "[=A=d-]=d(3=d=d=d=c2=B=c|]\n"
    )
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    subprocess.run(
        ["abc2midi", str(tmp_path / "t.abc"), "-o", str(tmp_path / "a.mid"), "-NGRA", "-NFNP"],
        capture_output=True,
        check=True,
    )

    def rounded(notes):  # abc2midi starts a tick late and ends a note a little early
        return [(round(start * 12), p, round(length * 12)) for start, p, length in notes]

    ours = rounded(_midi_notes(to_midi(abc, str(tmp_path / "o.mid"))))
    assert ours == rounded(_midi_notes(tmp_path / "a.mid"))
    assert (24, A, 18) in ours  # [=D=A-]2[=F=A]: one A of three eighths, from beat 3


def test_graces_and_chord_symbols_are_not_played(tmp_path):
    # they were NOTE_OFF before NOTE_ON, notes never released (a 22 s WAV of a 4 s tune)
    got = _played('K:D\n"D"{g}A2 {ag}fe "G"{/B}d2 AF|]', tmp_path=tmp_path)
    assert got == [69, 78, 76, 74, 69, 66]


def _midi_quarters(path) -> Fraction:
    """How long a MIDI file lasts, in quarter notes: its longest track, to END_OF_TRACK."""
    import music21

    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    ticks = max(
        sum(e.time for e in track.events if isinstance(e, music21.midi.DeltaTime))
        for track in midi.tracks
    )
    return Fraction(ticks, midi.ticksPerQuarterNote)


def test_a_closing_rest_lasts_to_the_end_of_the_midi(tmp_path):
    # music21 ends the file a quarter after the last note ends: C4 z4 was the file of C4 alone
    from modeling_irish.render import to_midi

    def quarters(body: str) -> Fraction:
        path = to_midi(f"X:1\nT:t\nM:4/4\nL:1/8\nK:C\n{body}|]\n", str(tmp_path / "t.mid"))
        return _midi_quarters(path)

    assert quarters("C4") == 3  # the note's 2 quarters, and music21's quarter to let it ring
    assert quarters("C4 z4") == 4  # as abc2midi plays it: the rest, and the file ends
    assert quarters("C4 z") == 3  # a rest shorter than that quarter changes nothing
    assert quarters("z2 C4 z6 z4") == 8  # 1 + 2 + 3 + 2


def test_a_tune_without_meter_or_unit_is_rendered(tmp_path):
    assert _played("K:D\nDEFG ABcd|]", header="", tmp_path=tmp_path)[:2] == [62, 64]


@pytest.mark.parametrize(
    ("field", "quarters"), [("", 200), ("Q:1/4=120\n", 120), ("Q:3/8=60\n", 90),
                            ('Q:"Lively" 1/2=60\n', 120), ("Q:100\n", 50),
                            # C<n>: n unit notes (abc2midi); C2 was read as C, 60
                            ("Q:C=120\n", 60), ("Q:C2=120\n", 120), ("Q:C3/2=120\n", 90)]
)  # fmt: skip
def test_midi_tempo_is_the_q_field_or_the_default(tmp_path, field, quarters):
    import music21

    from modeling_irish.render import to_midi

    path = to_midi(f"X:1\nL:1/8\n{field}K:D\nDEFG|]\n", str(tmp_path / "t.mid"))
    score = music21.converter.parse(path)
    (mark,) = score.recurse().getElementsByClass(music21.tempo.MetronomeMark)
    assert mark.getQuarterBPM() == pytest.approx(quarters, rel=1e-4)


def _midi_tempos(path) -> list[tuple[Fraction, float]]:
    """``(quarter notes in, quarter notes a minute)`` where a MIDI file's tempo changes (an
    event that sets the tempo in force changes nothing), read with music21; abc2midi's one
    tick late start rounded off."""
    import music21

    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    events = []
    for track in midi.tracks:
        ticks = 0
        for event in track.events:
            if isinstance(event, music21.midi.DeltaTime):
                ticks += event.time
            elif event.type == music21.midi.MetaEvents.SET_TEMPO:
                at = Fraction(round(ticks / midi.ticksPerQuarterNote * 12), 12)
                events.append((at, round(60e6 / int.from_bytes(event.data, "big"), 2)))
    tempos = sorted(dict(events).items())  # the last at a time is the one played
    return [tempo for i, tempo in enumerate(tempos) if not i or tempo[1] != tempos[i - 1][1]]


#: tempo changes of the body, and where abc2midi (4.84) plays them: each time playing passes
#: one; a repeat goes on at the tempo in force, not back to the one it started at
TEMPO_CHANGES = [
    ("CDEF GABc|[Q:1/4=60]GABc|]", [(0, 120), (4, 60)]),
    (  # inside a repeat: on each pass; a Q: line after :|, once
        "|:CDEF [Q:1/4=60]GABc|[Q:1/4=90]GABc cBAG:|\nQ:1/4=100\n|:CDEF GABc:|",
        [(0, 120), (2, 60), (4, 90), (10, 60), (12, 90), (16, 100)],
    ),
    (  # before :|, each pass; before an ending, both passes; in the second ending; C form
        "|:CDEF GA [Q:3/8=40]:|\n|:CDEF [Q:1/4=100]|1 GABc:|2 [Q:C4=35]cBAG|]",
        [(0, 120), (3, 60), (8, 100), (12, 70)],
    ),
    (  # a Q: line between two bar lines that merge (| and |:) is played once, not each pass
        "CDEF GABc|\nQ:1/4=60\n|:GABc [Q:1/4=90]cBAG:|",
        [(0, 120), (4, 60), (6, 90)],
    ),
]


@pytest.mark.parametrize(("body", "tempos"), TEMPO_CHANGES)
def test_tempo_changes_in_the_body_are_played_each_time_they_are_passed(tmp_path, body, tempos):
    # a body Q: or [Q:] was not played at all: the header's tempo held throughout
    from modeling_irish.render import to_midi

    abc = f"X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nK:C\n{body}\n"
    assert _midi_tempos(to_midi(abc, str(tmp_path / "t.mid"))) == tempos


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(("body", "tempos"), TEMPO_CHANGES)
def test_tempo_changes_are_played_as_abc2midi_plays_them(tmp_path, body, tempos):
    import subprocess

    abc = f"X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nK:C\n{body}\n"
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    subprocess.run(
        ["abc2midi", str(tmp_path / "t.abc"), "-o", str(tmp_path / "a.mid")],
        capture_output=True,
        check=True,
    )
    assert _midi_tempos(tmp_path / "a.mid") == tempos


def test_a_q_field_with_no_tempo_is_said_and_changes_nothing(tmp_path, caplog):
    # abc2midi: "malformed Q: field ignored"; a comment is no Q: at all
    import logging

    from modeling_irish.render import to_midi

    body = 'K:D\nDEFG [Q:"Slower"] ABcd|\n%Q:1/4=50 a comment\nd8|]\n'
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        path = to_midi(f"X:1\nT:Slow\nL:1/8\nQ:1/4=120\n{body}", str(tmp_path / "t.mid"))
    assert caplog.messages == [
        'X:1 T:Slow: Q:"Slower" in the body gives no tempo to play: the tempo in force plays on'
    ]
    assert _midi_tempos(path) == [(0, 120)]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        path = to_midi('X:2\nL:1/8\nQ:"Allegro"\nK:D\nDEFG|]\n', str(tmp_path / "t.mid"))
    assert caplog.messages == [
        'X:2: Q:"Allegro" in the header gives no tempo to play: the MIDI starts at 200 '
        "quarter notes a minute"
    ]
    assert _midi_tempos(path) == [(0, 200)]
    caplog.clear()
    to_midi("X:1\nT:Steady\nL:1/8\nQ:1/4=120\nK:D\nDEFG ABcd|]\n", str(tmp_path / "t.mid"))
    assert caplog.messages == []


def test_a_tune_music21_cannot_read_leaves_no_file(tmp_path, monkeypatch):
    import modeling_irish.render as render

    def fails(*args, **kwargs):  # after the SVG is written: that file must go too
        raise RenderError("music21 could not read the tune: Bad chord")

    monkeypatch.setattr(render, "to_midi", fails)
    formats = ["svg", "midi"] if _has_verovio() else ["midi"]
    with pytest.raises(RenderError, match="music21 could not read the tune: Bad chord"):
        render_abc("X:1\nT:b\nM:6/8\nL:1/8\nK:G\nGAB cde|\n", str(tmp_path / "tune"), formats)
    assert list(tmp_path.iterdir()) == []


def test_abc_our_reader_refuses_never_reaches_the_engravers(tmp_path, monkeypatch):
    # verovio aborts the process (SIGSEGV / std::out_of_range) on some malformed chords
    import modeling_irish.render as render

    def boom(*args, **kwargs):
        raise AssertionError("an engraver was called")

    monkeypatch.setattr(render, "to_svg", boom)
    monkeypatch.setattr(render, "to_midi", boom)
    for bad, why in (("|: DFAF ] dFAF) | [A2B2 |", "without a chord"),
                     ("[[[DF]A]B] c|", "nested chord"), ("z4 | z4 |", "no notes")):  # fmt: skip
        with pytest.raises(RenderError, match=why):
            render_abc(f"X:1\nT:Bad\nM:4/4\nL:1/8\nK:D\n{bad}\n", str(tmp_path / "t"))
    assert not list(tmp_path.iterdir())


def test_render_cli_names_the_unreadable_tune_and_renders_the_others(tmp_path, capsys):
    from modeling_irish.cli import main

    book = _write(tmp_path / "book.abc", BOOK)
    formats = "svg,midi" if _has_verovio() else "midi"
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", formats]) == 1
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    printed = [line.strip() for line in captured.out.splitlines() if ": " in line]
    # each format's files as plain paths (not a Python list for the SVG pages)
    assert printed and all("[" not in line and "'" not in line for line in printed), printed
    (line,) = [e for e in err if "nested chord" in e]
    assert line.startswith(f"irish-tune render: {book} line 8 (X:2 T:Broken): not readable ABC")
    assert "Broken: line 13, column 2: nested chord" in line  # the file's line, as check says
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "book_1.mid" in names and "book_3.mid" in names
    assert not [n for n in names if n.startswith("book_2")]  # no partial svg either


def test_render_cli_names_a_dump_tune_by_its_row(tmp_path, capsys):
    # every row was "line 1": a dump's tune text is built from its row, its X: on line 1
    import csv

    from modeling_irish.cli import main

    row = {"tune_id": 1, "setting_id": 1, "name": "A", "type": "reel", "meter": "4/4",
           "mode": "Dmajor", "abc": "DEFG ABcd|defg abag|"}  # fmt: skip
    rows = [row, {**row, "name": "B"}, {**row, "name": "C", "abc": "DEFG [[AF]|"}]
    dump = tmp_path / "d.csv"
    with dump.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    assert main(["render", str(dump), "--out", str(out), "--formats", "midi"]) == 1
    (line,) = [e for e in capsys.readouterr().err.splitlines() if "not readable" in e]
    assert line.startswith(f"irish-tune render: {dump} row 3 (X:3 T:C): not readable ABC")
    assert sorted(p.name for p in out.iterdir()) == ["d_1.mid", "d_2.mid"]


def test_render_cli_says_once_that_wav_cannot_be_made(tmp_path, capsys, monkeypatch):
    from modeling_irish.cli import main

    _no_wav(monkeypatch)
    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", "midi,wav"]) == 0
    assert capsys.readouterr().err.count("WAV needs") == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"two_{i}.mid" for i in (1, 2, 3)
    ]
    # Only WAV asked for and none can be made: an error before any work.
    assert main(["render", book, "--out", str(tmp_path / "wav"), "--formats", "wav"]) == 2
    assert "irish-tune render: WAV needs" in capsys.readouterr().err
    assert not (tmp_path / "wav").exists()


def test_generate_refuses_a_render_of_only_formats_it_cannot_make(tmp_path, capsys, monkeypatch):
    """As render does: exit 2 with the note before the model is read, no folder made (it used
    to write the tunes, render nothing and exit 0)."""
    from modeling_irish.cli import build_parser, main

    _no_wav(monkeypatch)
    argv = ["generate", "--model", "unused", "--num-tunes", "1", "--out", str(tmp_path / "g")]
    assert main([*argv, "--render", "wav"]) == 2
    assert "irish-tune generate: WAV needs" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()
    # render's --help says what happens, not that WAV is merely skipped
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = " ".join(sub.choices["render"].format_help().split())
    assert "none of those asked can be made the command stops with the note, exit status 2" in text


def test_render_cli_checks_formats_and_out_up_front(tmp_path, capsys):
    from modeling_irish.cli import main

    abc = _write(tmp_path / "t.abc", ABC)
    with pytest.raises(SystemExit) as exit_info:
        main(["render", abc, "--out", str(tmp_path / "out"), "--formats", "svg,pdf"])
    assert exit_info.value.code == 2
    assert "unknown format 'pdf'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["render", abc, "--out", abc, "--formats", "midi"]) == 2
    assert f"irish-tune render: --out {abc} is a file, not a folder" in capsys.readouterr().err


def test_render_cli_reads_stdin_and_latin1(tmp_path, monkeypatch, capsys):
    import io

    from modeling_irish.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(ABC))
    assert main(["render", "-", "--out", str(tmp_path), "--formats", "midi"]) == 0
    assert (tmp_path / "stdin.mid").stat().st_size > 0
    latin = _write(tmp_path / "cafe.abc", ABC.replace("T:Test", "T:Café"), "latin-1")
    assert main(["render", latin, "--out", str(tmp_path), "--formats", "midi"]) == 0
    assert (tmp_path / "cafe.mid").stat().st_size > 0


def test_a_soundfont_that_does_not_exist_is_an_error_not_a_fallback(tmp_path):
    from modeling_irish.render import find_soundfont

    with pytest.raises(FileNotFoundError, match="--soundfont"):
        find_soundfont(str(tmp_path / "missing.sf2"))
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")  # a SoundFont 2 file's first chunk
    assert find_soundfont(str(font)) == str(font)
    # anything else fluidsynth would only warn about, then render with its own font
    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nK:G\nGAB|\n")
    with pytest.raises(ValueError, match="not a SoundFont"):
        find_soundfont(str(tune))


def test_an_invalid_soundfont_variable_is_an_error_not_a_fallback(tmp_path, monkeypatch, capsys):
    from modeling_irish.cli import main

    prose = _write(tmp_path / "prose.txt", "Not a soundfont at all.\n")
    monkeypatch.setenv("SOUNDFONT", prose)
    with pytest.raises(ValueError, match=r"^\$SOUNDFONT .*prose.txt: not a SoundFont"):
        find_soundfont()
    # fluidsynth would warn, render with its default font and exit 0: refused before any tune
    tune = _write(tmp_path / "good.abc", ABC)
    argv = ["render", tune, "--out", str(tmp_path / "R"), "--formats", "wav"]
    assert main(argv) == 2
    assert "$SOUNDFONT" in capsys.readouterr().err and not (tmp_path / "R").exists()
    monkeypatch.setenv("SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(FileNotFoundError, match=r"^\$SOUNDFONT .*missing.sf2: no such file"):
        find_soundfont()
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    monkeypatch.setenv("SOUNDFONT", str(font))
    assert find_soundfont() == str(font)
    assert find_soundfont(prose.replace("prose.txt", "gm.sf2")) == str(font)  # --soundfont first


def test_a_soundfont_without_wav_is_refused_not_ignored(tmp_path, capsys):
    from modeling_irish.cli import main

    tune = _write(tmp_path / "tune.abc", ABC, "utf-8")
    argv = ["render", tune, "--out", str(tmp_path / "out"), "--formats", "midi"]
    assert main([*argv, "--soundfont", "gm.sf2"]) == 2
    assert "--soundfont is used only for WAV files: add wav to --formats" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    argv = ["generate", "--model", "unused", "--out", str(tmp_path / "g"), "--render", "svg"]
    assert main([*argv, "--soundfont", "gm.sf2"]) == 2  # refused before the model is read
    assert "add wav to --render" in capsys.readouterr().err


# ----- no partial file after a failed MIDI write or WAV synthesis --------------------------------
def test_a_midi_writer_failure_removes_its_partial_file(tmp_path, monkeypatch):
    import music21

    from modeling_irish.render import to_midi

    def half_written(self):
        self.file.write(b"MThd\x00\x00")  # a header, then the writer gives up
        raise music21.exceptions21.StreamException("cannot write this\nsecond line")

    monkeypatch.setattr(music21.midi.MidiFile, "write", half_written)
    path = tmp_path / "tune.mid"
    with pytest.raises(RenderError) as info:
        to_midi(ABC, str(path))
    assert str(info.value) == "music21 could not write MIDI: cannot write this"
    assert list(tmp_path.iterdir()) == []
    # the same failure before anything is written: still the error, nothing to remove
    monkeypatch.setattr(music21.midi.translate, "music21ObjectToMidiFile", lambda *a, **k: 1 / 0)
    with pytest.raises(RenderError, match="music21 could not write MIDI: division by zero"):
        to_midi(ABC, str(path))
    assert list(tmp_path.iterdir()) == []


def _fake_fluidsynth(monkeypatch, returncode: int, writes: bool, stderr: str = ""):
    """fluidsynth and a soundfont 'found'; the program writes part of its WAV (or not) and
    exits with ``returncode``. Returns the list of commands it was given."""
    import subprocess

    import modeling_irish.render as render

    commands = []

    def run(command, **kwargs):
        commands.append(command)
        if writes:
            with open(command[command.index("-F") + 1], "wb") as handle:
                handle.write(b"RIFF\x00\x00")
        return subprocess.CompletedProcess(command, returncode, "", stderr)

    monkeypatch.setattr(render, "_wav_tools", lambda soundfont: ("fluidsynth", "gm.sf2", None))
    monkeypatch.setattr(render.subprocess, "run", run)
    return commands


def test_a_damaged_soundfont_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    font = tmp_path / "cut.sf2"
    font.write_bytes(b"RIFF\xda\x60\xd8\x08sfbkLIST" + bytes(200))  # a big font's first bytes
    with pytest.raises(ValueError, match="damaged SoundFont"):
        find_soundfont(str(font))
    # and whatever fluidsynth could not load, although it wrote a WAV and exited 0
    _fake_fluidsynth(monkeypatch, 0, writes=True, stderr="Failed to load the SoundFont x.sf2\n")
    with pytest.raises(RenderError, match="Failed to load the SoundFont x.sf2"):
        to_wav(str(tmp_path / "in.mid"), str(tmp_path / "out.wav"))
    assert not (tmp_path / "out.wav").exists()


def test_a_file_fluidsynth_says_is_no_soundfont_is_an_error(tmp_path, monkeypatch):
    # fluidsynth 2.3 on a font that is not one: a warning, its default font, exit status 0
    said = (
        "fluidsynth: error: fluid_is_soundfont(): expected RIFF chunk id\n"
        "Parameter 'prose.txt' not a SoundFont or MIDI file or error occurred identifying it.\n"
    )
    _fake_fluidsynth(monkeypatch, 0, writes=True, stderr=said)
    with pytest.raises(RenderError, match="fluidsynth: Parameter 'prose.txt' not a SoundFont"):
        to_wav(str(tmp_path / "in.mid"), str(tmp_path / "out.wav"))
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")
def test_the_real_fluidsynth_on_no_soundfont_is_an_error(tmp_path, monkeypatch):
    import modeling_irish.render as render

    prose = _write(tmp_path / "prose.txt", "Not a soundfont at all.\n")
    program = shutil.which("fluidsynth")
    monkeypatch.setattr(render, "_wav_tools", lambda soundfont: (program, prose, None))
    midi = render.to_midi(ABC, str(tmp_path / "in.mid"))
    with pytest.raises(RenderError, match="not a SoundFont or MIDI file"):
        to_wav(midi, str(tmp_path / "out.wav"))
    assert not (tmp_path / "out.wav").exists()


def test_a_fluidsynth_failure_removes_its_partial_wav(tmp_path, monkeypatch):
    commands = _fake_fluidsynth(monkeypatch, 1, writes=True, stderr="x" * 600 + "bad font")
    (tmp_path / "in.mid").write_bytes(b"MThd")
    with pytest.raises(RenderError) as info:
        to_wav(str(tmp_path / "in.mid"), str(tmp_path / "out.wav"))
    assert str(info.value) == "fluidsynth failed: " + ("x" * 600 + "bad font")[-500:]
    assert commands[0][-3:] == [str(tmp_path / "out.wav"), "gm.sf2", str(tmp_path / "in.mid")]
    assert [p.name for p in tmp_path.iterdir()] == ["in.mid"]


def test_fluidsynth_exiting_0_without_a_wav_is_a_failure(tmp_path, monkeypatch):
    _fake_fluidsynth(monkeypatch, 0, writes=False, stderr="no audio driver")
    with pytest.raises(RenderError, match="fluidsynth failed: no audio driver"):
        to_wav(str(tmp_path / "in.mid"), str(tmp_path / "out.wav"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("stop", ["timeout", "interrupt"])
def test_fluidsynth_stopped_mid_write_leaves_no_wav(tmp_path, monkeypatch, stop):
    import subprocess

    import modeling_irish.render as render

    def stopped(command, **kwargs):  # half a WAV written, then the clock or Ctrl-C
        Path(command[command.index("-F") + 1]).write_bytes(b"RIFF partial")
        if stop == "timeout":
            raise subprocess.TimeoutExpired(command, kwargs.get("timeout"))
        raise KeyboardInterrupt

    monkeypatch.setattr(render, "_wav_tools", lambda soundfont: ("fluidsynth", "gm.sf2", None))
    monkeypatch.setattr(render.subprocess, "run", stopped)
    stem = str(tmp_path / "tune")
    if stop == "timeout":  # a RenderError like any other failure: the tune is not rendered
        with pytest.raises(RenderError, match=f"fluidsynth took more than 300 s on {stem}.mid"):
            render_abc(ABC, stem, formats=["midi", "wav"])
    else:
        with pytest.raises(KeyboardInterrupt):
            render_abc(ABC, stem, formats=["midi", "wav"])
    assert list(tmp_path.iterdir()) == []


def test_a_failed_wav_fails_the_tune_and_leaves_no_file(tmp_path, monkeypatch):
    # it was "skipped" (a missing tool's word) and the tune counted as rendered, exit status 0
    commands = _fake_fluidsynth(monkeypatch, 1, writes=True, stderr="bad note")
    with pytest.raises(RenderError, match="^fluidsynth failed: bad note$"):
        render_abc(ABC, str(tmp_path / "asked"), formats=["midi", "wav"])
    # WAV alone: the MIDI it was made from is not left either
    with pytest.raises(RenderError, match="^fluidsynth failed: bad note$"):
        render_abc(ABC, str(tmp_path / "wav_only"), formats=["wav"])
    assert list(tmp_path.iterdir()) == [] and not os.path.exists(commands[-1][-1])


def _fluidsynth_on_path(tmp_path, monkeypatch, script: str) -> None:
    """A fake ``fluidsynth`` program (a shell ``script``) first on PATH, and a soundfont."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "fluidsynth"
    program.write_text(f"#!/bin/sh\n{script}\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    monkeypatch.setenv("SOUNDFONT", str(font))


@pytest.mark.skipif(os.name != "posix", reason="the fake fluidsynth is a shell script")
def test_a_fluidsynth_failure_is_a_tune_not_rendered_exit_status_1(tmp_path, monkeypatch, capsys):
    from modeling_irish.cli import main

    _fluidsynth_on_path(tmp_path, monkeypatch, "echo 'cannot synthesise' >&2; exit 3")
    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "midi,wav"]) == 1
    err = capsys.readouterr().err
    assert err.count("fluidsynth failed: cannot synthesise") == 3 and "skipped" not in err
    assert "3 of 3 tunes not rendered" in err
    assert list(out.iterdir()) == []  # no MIDI of a tune that was not rendered
    (tmp_path / "quiet").mkdir()
    _fluidsynth_on_path(tmp_path / "quiet", monkeypatch, "exit 3")  # and when it says nothing
    assert main(["render", book, "--out", str(out), "--formats", "wav"]) == 1
    assert "(X:1 T:First): fluidsynth failed: exit status 3, no message" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="the fake fluidsynth is a shell script")
def test_a_soundfont_fluidsynth_cannot_load_is_exit_status_2(
    tmp_path, monkeypatch, capsys, model_dir
):
    """render and generate --render: a font with a SoundFont's header but damaged inside
    (fluidsynth says so, then synthesises with its default font, or nothing, and exits 0)."""
    from modeling_irish.cli import main

    _fluidsynth_on_path(tmp_path, monkeypatch, "echo 'Failed to load the SoundFont gm.sf2' >&2")
    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    assert main(["render", book, "--out", str(tmp_path / "r"), "--formats", "wav"]) == 2
    assert capsys.readouterr().err == (
        "irish-tune render: fluidsynth: Failed to load the SoundFont gm.sf2\n"
    )
    assert list((tmp_path / "r").iterdir()) == []
    argv = ["generate", "--model", model_dir, "--num-tunes", "1", "--num-bars", "4"]
    assert main([*argv, "--out", str(tmp_path / "g"), "--render", "wav"]) == 2
    assert (
        "irish-tune generate: fluidsynth: Failed to load the SoundFont" in capsys.readouterr().err
    )
    assert not (tmp_path / "g" / "tune_1.wav").exists()


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")
def test_the_real_fluidsynth_on_a_damaged_soundfont_is_a_soundfont_error(tmp_path, monkeypatch):
    from modeling_irish.render import SoundFontError

    junk = b"sfbk" + bytes(range(256)) * 8  # a SoundFont's RIFF header, nothing readable inside
    font = tmp_path / "bad.sf2"
    font.write_bytes(b"RIFF" + len(junk).to_bytes(4, "little") + junk)
    with pytest.raises(SoundFontError, match=f"Failed to load the SoundFont {font}"):
        render_abc(ABC, str(tmp_path / "tune"), formats=["midi", "wav"], soundfont=str(font))
    assert list(tmp_path.iterdir()) == [font]


def test_wav_alone_leaves_a_midi_of_the_same_name_alone(tmp_path, monkeypatch):
    # the MIDI synthesised was written to stem.mid, then removed: a file already there was lost
    commands = _fake_fluidsynth(monkeypatch, 0, writes=True)
    (tmp_path / "tune.mid").write_bytes(b"MThd mine")
    out = render_abc(ABC, str(tmp_path / "tune"), formats=["wav"])
    assert out["wav"] == str(tmp_path / "tune.wav")
    assert (tmp_path / "tune.mid").read_bytes() == b"MThd mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.mid", "tune.wav"]
    assert not os.path.exists(commands[0][-1])  # the temporary MIDI is gone


def test_an_interrupted_render_removes_what_it_wrote(tmp_path, monkeypatch):
    import modeling_irish.render as render

    def interrupted(*args, **kwargs):  # Ctrl-C while synthesising: not an Exception
        raise KeyboardInterrupt

    monkeypatch.setattr(render, "to_wav", interrupted)
    formats = ["svg", "midi", "wav"] if _has_verovio() else ["midi", "wav"]
    with pytest.raises(KeyboardInterrupt):
        render_abc(ABC, str(tmp_path / "tune"), formats)
    assert list(tmp_path.iterdir()) == []
    # the control: without the interruption the same call leaves its files
    monkeypatch.setattr(render, "to_wav", lambda midi, path, font: path)
    assert render_abc(ABC, str(tmp_path / "tune"), formats)["midi"] == str(tmp_path / "tune.mid")
    assert (tmp_path / "tune.mid").is_file()


def test_render_cli_takes_several_files(tmp_path, capsys):
    from modeling_irish.cli import main

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = _write(tmp_path / "a" / "t.abc", ABC)
    two = _write(tmp_path / "b" / "t.abc", ABC.replace("T:Test", "T:Other"))
    book = _write(tmp_path / "book.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    out = tmp_path / "out"
    assert main(["render", one, two, book, "--out", str(out), "--formats", "midi"]) == 0
    # one tune a file keeps the file's name; a name met again gets -2; a book numbers its tunes
    assert sorted(p.name for p in out.iterdir()) == [
        "book_1.mid", "book_2.mid", "book_3.mid", "t-2.mid", "t.mid"
    ]  # fmt: skip
    # every file is read first: a missing one fails before anything is written
    assert main(["render", one, str(tmp_path / "nope.abc"), "--out", str(tmp_path / "o2")]) == 2
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "o2").exists()
    assert main(["render", "-", "-", "--out", str(tmp_path / "o3"), "--formats", "midi"]) == 2
    assert "'-' (stdin) can be given once" in capsys.readouterr().err


def test_render_cli_never_writes_one_name_twice(tmp_path, capsys):
    from modeling_irish.cli import main

    # two.abc's first tune is two_1, and so is the only tune of two_1.abc
    books = tmp_path / "col"
    books.mkdir()
    two = _write(books / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    one = _write(books / "two_1.abc", ABC)
    out = tmp_path / "out"
    assert main(["render", two, one, "--out", str(out), "--formats", "midi"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["two_1-2.mid", "two_1.mid", "two_2.mid", "two_3.mid"]
    assert len(_midi_notes(out / "two_1-2.mid")) == 18  # ABC's tune, not two.abc's first
    assert len(_midi_notes(out / "two_1.mid")) == 6


def test_a_second_svg_page_never_takes_another_tunes_name(tmp_path, capsys):
    pytest.importorskip("verovio")
    from modeling_irish.cli import main

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    long = "X:1\nT:Long\nM:4/4\nL:1/8\nK:D\n" + "DEFG ABcd|" * 120 + "]\n"
    first = _write(tmp_path / "a" / "t.abc", long)  # t.svg, t-2.svg (its second page)
    second = _write(tmp_path / "b" / "t.abc", ABC)  # t-2.svg
    out = tmp_path / "out"
    assert main(["render", first, second, "--out", str(out), "--formats", "svg"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed.count(str(out / "t-2.svg")) == 1 and str(out / "t-2-2.svg") in printed
    assert sorted(p.name for p in out.iterdir()) == ["t-2-2.svg", "t-2.svg", "t.svg"]
    assert (out / "t-2.svg").stat().st_size < (out / "t.svg").stat().st_size  # the short tune


# ----- verovio in a process of its own: its crash fails one tune, not the run ------------------
HEAD = "X:1\nT:t\nM:4/4\nL:1/8\n"


@pytest.mark.parametrize(
    "abc",
    [  # text our reader accepts that verovio aborted (std::out_of_range) or crashed (SIGSEGV) on
        HEAD + "CDEF GABc|]\n",  # no K: (C major, as the reader assumes)
        HEAD + "K:\nCDEF GABc|]\n",  # an empty K:
        "X:\nT:t\nK:C\nCDEF GABc|]\n",  # an empty X:
        HEAD + "K:D\nGABc d!edB|]\n",  # a ! that opens no decoration
        HEAD + "K:C\nCD!trill EF|]\n",
        HEAD + "K:C\n!CDEF GABc|]\n",
        HEAD + "I:linebreak !\nK:C\nCDEF GABc!\nCDEF|]\n",
    ],
)
def test_abc_verovio_crashed_on_is_engraved_as_the_reader_reads_it(tmp_path, abc):
    pytest.importorskip("verovio")
    (path,) = render_abc(abc, str(tmp_path / "t"), ["svg"])["svg"]
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("<svg") and text.count('class="note"') >= 4


def test_a_verovio_crash_fails_its_tune_and_the_others_are_rendered(tmp_path, monkeypatch, capsys):
    # verovio given the text as it is: tune 2 aborts it, tune 3 crashes it (they ended the run)
    pytest.importorskip("verovio")
    import modeling_irish.render as render
    from modeling_irish.cli import main

    monkeypatch.setattr(render, "_engravable", lambda abc: abc)
    book = _write(
        tmp_path / "book.abc",
        "X:1\nT:One\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|]\n\n"
        "X:2\nT:Two\nM:4/4\nL:1/8\nK:D\nGABc d!edB|]\n\n"
        "X:3\nT:Three\nM:4/4\nL:1/8\nCDEF GABc|]\n\n"
        "X:4\nT:Four\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|]\n",
    )
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "svg,midi"]) == 1
    err = capsys.readouterr().err
    assert f"{book} line 8 (X:2 T:Two): verovio aborted (SIGABRT: terminate called" in err
    assert "std::out_of_range" in err
    assert f"{book} line 15 (X:3 T:Three): verovio crashed (SIGSEGV)" in err
    assert "2 of 4 tunes not rendered" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "book_1.mid", "book_1.svg", "book_4.mid", "book_4.svg"
    ]  # fmt: skip


def test_verovio_taking_too_long_fails_the_tune_and_the_next_is_engraved(tmp_path, monkeypatch):
    pytest.importorskip("verovio")
    import modeling_irish.render as render

    render._ENGRAVER.close()  # the next tune starts a process that reads it and never answers
    stalls = "import sys, time\nsys.stdin.readline()\ntime.sleep(60)\n"
    monkeypatch.setattr(render, "_ENGRAVER_PROGRAM", stalls)
    monkeypatch.setattr(render._ENGRAVER, "timeout", 0.5)
    with pytest.raises(RenderError, match="verovio took more than 0.5 s; nothing engraved"):
        render_abc(ABC, str(tmp_path / "slow"), ["svg", "midi"])
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()  # verovio again, in a new process
    assert render_abc(ABC, str(tmp_path / "t"), ["svg"])["svg"] == [str(tmp_path / "t.svg")]
