"""abc2midi's ``%%MIDI program`` among the notes (a ``%%MIDI`` line between lines of music, an
inline ``[I:MIDI program N]``): the MIDI of render changes the instrument from there on, each
time playing passes it, where it named the directive in a warning and played one program."""

from __future__ import annotations

import shutil

import pytest
from render_helpers import abc2midi_file, midi_events

TUNE = "X:1\nT:A\nM:4/4\nL:1/8\nK:D\n%%MIDI program 73\nDEFG ABcd|\n{}dcBA GFED|\nDE{}FG ABcd|]\n"


def _programs(path) -> list[tuple[float, int]]:
    """``(quarter note, program)`` of each program change of a MIDI file, a repeat at one
    time (music21 writes the start's twice) once."""
    import music21

    quarter, events = midi_events(path)
    change = music21.midi.ChannelVoiceMessages.PROGRAM_CHANGE
    found = [(round(now / quarter, 2), e.data) for now, e in events if e.type == change]
    return list(dict.fromkeys(found))


def test_a_program_among_the_notes_changes_the_instrument_from_there(tmp_path, caplog):
    from modeling_irish.render import to_midi

    abc = TUNE.format("%%MIDI program 20\n", " [I:MIDI program 40] ")
    assert _programs(to_midi(abc, str(tmp_path / "t.mid"))) == [(0, 73), (4, 20), (9, 40)]
    assert not [m for m in caplog.messages if "MIDI" in m], caplog.messages


def test_the_notes_before_the_first_program_among_them_play_on_the_piano(tmp_path):
    """Without a program before the music, music21 wrote the first one among the notes at the
    start too: bar 1 sounded on it, where abc2midi plays the player's default, the piano (0)."""
    from modeling_irish.render import to_midi

    abc = "X:1\nM:4/4\nL:1/8\nK:G\nGABc dedB|\n%%MIDI program 30\nGABc dedB|]\n"
    assert _programs(to_midi(abc, str(tmp_path / "t.mid"))) == [(0, 0), (4, 30)]
    inline = "X:1\nM:4/4\nL:1/8\nK:G\nGABc [I:MIDI program 40]dedB|]\n"
    assert _programs(to_midi(inline, str(tmp_path / "i.mid"))) == [(0, 0), (2, 40)]
    first = "X:1\nM:4/4\nL:1/8\nK:G\n[I:MIDI program 40]GABc dedB|]\n"  # at the start: alone
    assert _programs(to_midi(first, str(tmp_path / "f.mid"))) == [(0, 40)]


def test_a_program_in_a_repeat_is_played_on_each_pass():
    from modeling_irish.render_directives import program_marks
    from tokenization.abc_parser import parse_abc

    tune = parse_abc("X:1\nL:1/4\nK:C\n|:C [I:MIDI program 20] D:|E [I:MIDI program 2 30] F|]")
    marks = program_marks(tune, [(0, len(tune.tokens))])
    assert [(float(start), program) for start, program in marks] == [(1, 20), (3, 20)]


def test_a_program_among_a_voice_not_kept_is_not_recorded():
    from tokenization.abc_parser import parse_abc

    abc = "X:1\nL:1/8\nV:1\nV:2\nK:D\n[V:1] DE|\n[V:2] FG|\n%%MIDI program 3\nFG|\n"
    abc += "[V:1]\nI:MIDI program 5\nAB|\n"
    assert parse_abc(abc).program_changes == [(3, "MIDI program 5")]


def test_a_program_after_the_last_note_plays_on_in_the_part_played_after_it():
    """One after the last token was dropped without a word; abc2midi plays it where the part
    ending there ends (``P:BA``: part A plays on program 20, at 2 quarter notes)."""
    from modeling_irish.render_directives import program_marks
    from modeling_irish.render_playing import played_spans
    from tokenization.abc_parser import parse_abc

    tune = parse_abc("X:1\nP:BA\nL:1/4\nK:C\nP:A\nCD|\nP:B\nEF|\n%%MIDI program 20\n")
    marks = program_marks(tune, played_spans(tune, "X:1"))
    assert [(float(start), program) for start, program in marks] == [(2, 20)]
    plain = parse_abc("X:1\nL:1/4\nK:C\nCD|\n%%MIDI program 20\n")
    assert program_marks(plain, [(0, len(plain.tokens))]) == [(2, 20)]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_the_programs_among_the_notes_are_where_abc2midi_plays_them(tmp_path):

    from modeling_irish.render import to_midi

    abc = TUNE.format("%%MIDI program 20\n", " [I:MIDI program 40] ")
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    abc2midi_file(tmp_path)
    ours = _programs(to_midi(abc, str(tmp_path / "o.mid")))
    assert ours == [(round(t), p) for t, p in _programs(tmp_path / "a.mid")]


def _ninth_note_seconds(path) -> float:
    """When the 9th note of a MIDI file starts, in seconds, by the tempo in force there."""
    import music21

    quarter, events = midi_events(path)
    tempos = sorted(
        (now, int.from_bytes(e.data, "big"))
        for now, e in events
        if e.type == music21.midi.MetaEvents.SET_TEMPO
    )
    on = music21.midi.ChannelVoiceMessages.NOTE_ON
    ninth = sorted(now for now, e in events if e.type == on and e.velocity)[8]
    micros = [tempo for now, tempo in tempos if now <= ninth][-1]
    return ninth / quarter * micros / 1e6


BARE_TEMPO = "X:1\nT:A\nM:4/4\nL:1/8\nQ:120\nK:D\nDEFG ABcd|dcBA GFED|]\n"


def test_a_bare_q_is_quarter_notes_a_minute_as_abc2midi_plays_it(tmp_path):
    """``Q:120`` (no ``1/4=``) with ``L:1/8`` was played as 120 eighths a minute, half the
    speed abc2midi plays: eight eighths take 2 seconds at 120 quarters a minute."""
    from modeling_irish.render import to_midi

    path = to_midi(BARE_TEMPO, str(tmp_path / "t.mid"))
    assert _ninth_note_seconds(path) == pytest.approx(2.0, abs=0.01)


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize("unit", ["1/8", "1/16"])
def test_a_bare_q_sounds_as_abc2midi_plays_it(tmp_path, unit):

    from modeling_irish.render import to_midi

    abc = BARE_TEMPO.replace("L:1/8", f"L:{unit}")
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    abc2midi_file(tmp_path)
    ours = _ninth_note_seconds(to_midi(abc, str(tmp_path / "o.mid")))
    assert ours == pytest.approx(_ninth_note_seconds(tmp_path / "a.mid"), abs=0.01)


@pytest.mark.parametrize("written", ["[I:MIDI program 20]", "\nI:MIDI program 20\n"])
def test_the_reader_does_not_say_a_played_program_is_dropped(written):
    """The reader said ``I: field (instruction) in the body not read: dropped`` of a program
    among the notes that render plays from there; other ``I:`` fields there are still said."""
    from tokenization.abc_parser import parse_abc

    tune = parse_abc(f"X:1\nL:1/8\nK:D\nDEFG {written} ABcd|\n")
    assert tune.program_changes == [(4, "MIDI program 20")]
    assert not [w for w in tune.warnings if "I: field" in w], tune.warnings
    other = parse_abc("X:1\nL:1/8\nK:D\nDEFG [I:MIDI gchord fzf] ABcd|\n").warnings
    assert [w for w in other if "I: field" in w] == [
        "I: field (instruction) in the body not read: dropped (line 4, column 6)"
    ]


def test_a_file_header_directive_is_said_as_written(caplog):
    """A file header's ``%%MIDI gchord fzf`` was written into each tune as ``I:MIDI gchord
    fzf``, and said so; the ``I:MIDI`` form the user wrote stays that."""
    from modeling_irish.render_directives import midi_program
    from tokenization.abc_tunebook import split_tunebook

    book = "%%MIDI gchord fzf\nI:MIDI drone 70\n\nX:1\nT:A\nK:G\nGA|\n"
    ((_, tune),) = split_tunebook(book, standalone=True)
    assert tune.startswith("X:1\n%%MIDI gchord fzf\nI:MIDI drone 70\n")
    assert midi_program(tune, "X:1 T:A") is None
    (said,) = [m for m in caplog.messages if "not played" in m]
    assert said.endswith(": %%MIDI gchord fzf; I:MIDI drone 70"), said


BOOK = (
    "%%MIDI program 73\n%%MIDI gchord fzf\n\n"
    "X:1\nT:A\n%%MIDI program 22\nK:G\nGA|\n\n"
    "X:2\nT:B\nK:G\nI:MIDI program 40\nGA|\n\n"
    "X:3\nT:C\nK:G\nGA|\n"
)


def test_a_tunes_own_program_is_its_only_one():
    """A tune's own ``%%MIDI program`` before its music was passed over as a blank line: the
    file header's was written in (and read) too, a second program."""
    from modeling_irish.render_directives import midi_directives
    from tokenization.abc_parser import parse_tunebook
    from tokenization.abc_tunebook import split_tunebook

    texts = [text for _, text in split_tunebook(BOOK, standalone=True)]
    programs = [[d.text for d in midi_directives(t) if d.words[0] == "program"] for t in texts]
    assert programs == [["%%MIDI program 22"], ["I:MIDI program 40"], ["%%MIDI program 73"]]
    assert all("%%MIDI gchord fzf" in text for text in texts)  # another setting: written in
    tunes = parse_tunebook(BOOK)
    assert ["MIDI program 73" in tune.fields.get("I", []) for tune in tunes] == [False, False, True]
    assert all("MIDI gchord fzf" in tune.fields["I"] for tune in tunes)


@pytest.mark.parametrize(
    ("fields", "bpm"),
    [
        ("[Q:C=120][L:1/16]", 60.0),
        ("[L:1/16][Q:C=120]", 30.0),
        # between two unit changes at one token: the first was forgotten, the Q: read in the
        # header's unit (60) or the one before the token (60), not the 1/16 or 1/4 it is in
        ("[L:1/16][Q:C=120][L:1/8]", 30.0),
        ("[L:1/4][Q:C=120][L:1/16]", 120.0),
        ("[L:1/16][Q:C=120][L:1/4]", 30.0),
    ],
)
def test_a_tempo_is_read_in_the_unit_in_force_where_it_is_written(fields, bpm):
    """``[Q:C=120][L:1/16]`` at one token was read with the new unit (30 quarter notes a
    minute), though the ``Q:`` was written before it: C is the eighth note there (60)."""
    from modeling_irish.render_playing import tempo_marks
    from tokenization.abc_parser import parse_abc

    for body in (f"C4|{fields}C8|", fields.replace("][", "]\n[") + "\nC8|"):
        tune = parse_abc(f"X:1\nL:1/8\nK:C\n{body}")
        assert tempo_marks(tune, 100, "X:1")[-1][1] == bpm, body
