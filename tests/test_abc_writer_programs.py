"""abc2midi's ``%%MIDI program`` among the notes (`AbcTune.program_changes`, which render plays)
is written back where it stood: ``irish-tune transpose``, normalising and `check`'s round trip
dropped it without a word."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from render_helpers import midi_events

from tokenization.abc_parser import parse_abc
from tokenization.keys import Key
from tokenization.round_trip import _changes_lost, round_trip_rows, write_tune
from tokenization.transposition import transposed_abc

TUNE = (
    "X:1\nT:A\nM:4/4\nL:1/8\nK:D\n|:DEFG [I:MIDI program 20] ABcd:|\n"
    "%%MIDI program 40\ndcBA GFED|\nI:MIDI program 1 73\nDEFG ABcd|]\n%%MIDI program 22\n"
)


def test_the_program_changes_are_written_back_where_they_stood():
    tune = parse_abc(TUNE)
    assert [at for at, _ in tune.program_changes] == [5, 10, 19, 28]
    text = write_tune(tune, tune.tokens, tune.key, tune.fields)
    assert "[I:MIDI program 20]" in text and "[I:MIDI program 1 73]" in text
    assert parse_abc(text).program_changes == tune.program_changes
    round_trip_rows(tune)  # raises when the text read back lost or moved a change


def test_transpose_keeps_the_program_changes():
    tune = parse_abc(TUNE)
    for written in (transposed_abc(tune, Key("E", "major")), transposed_abc(tune)):
        assert parse_abc(written).program_changes == tune.program_changes


def test_a_round_trip_that_drops_a_program_change_says_so():
    tune = parse_abc(TUNE)
    lost = _changes_lost(tune, parse_abc(TUNE.replace("[I:MIDI program 20]", "")))
    assert lost is not None and lost.startswith("the program changes [(5, 'MIDI program 20')")


def _abc2midi_programs(path, tmp_path) -> list[tuple[int, int]]:
    """``(tick, program)`` of each program change abc2midi plays for the ABC file ``path``."""
    import music21

    midi = tmp_path / "t.mid"
    subprocess.run(["abc2midi", str(path), "-o", str(midi)], capture_output=True, check=True)
    change = music21.midi.ChannelVoiceMessages.PROGRAM_CHANGE
    return [(now, event.data) for now, event in midi_events(midi)[1] if event.type == change]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_abc2midi_plays_the_written_programs_where_it_played_the_read_ones(tmp_path):
    tune = parse_abc(TUNE)
    (tmp_path / "a.abc").write_text(TUNE, encoding="utf-8")
    (tmp_path / "b.abc").write_text(transposed_abc(tune, tune.key), encoding="utf-8")
    before = _abc2midi_programs(tmp_path / "a.abc", tmp_path)
    assert len({program for _, program in before}) == 4
    assert _abc2midi_programs(tmp_path / "b.abc", tmp_path) == before


def test_transpose_keeps_a_header_program_where_abc2midi_plays_it_in_the_same_order():
    """A ``%%MIDI program`` line of the header, or between ``K:`` and the music, was dropped
    without a word (an ``I:MIDI program`` line was kept): both are kept, in their order."""
    abc = "X:1\n%%MIDI program 73\nI:MIDI program 74\nL:1/8\nK:C\n%%MIDI program 22\nCD|\n"
    tune = parse_abc(abc)
    assert tune.fields["I"] == ["MIDI program 73", "MIDI program 74", "MIDI program 22"]
    written = transposed_abc(tune, Key("D", "major"))
    assert parse_abc(written).fields["I"] == tune.fields["I"]
    assert written.index("I:MIDI program 74") < written.index("I:MIDI program 22")
    round_trip_rows(tune)
