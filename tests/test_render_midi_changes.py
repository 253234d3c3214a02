"""MIDI rendering of mid-tune meter and key changes: the time and key signature meta-events are
where playing reaches them, the notes played as without them."""

from __future__ import annotations

from fractions import Fraction

from render_helpers import _midi_notes, midi_events


def _signatures(path) -> list[tuple[Fraction, str]]:
    """``(quarter note, "M:3/4" or "K:2" (sharps; "m" after it for minor))`` of each time and
    key signature meta-event of a MIDI file, read back with music21's MIDI reader."""
    import music21

    per_quarter, events = midi_events(path)
    found = []
    for now, event in events:
        if event.type == music21.midi.MetaEvents.TIME_SIGNATURE:
            found.append((now, f"M:{event.data[0]}/{2 ** event.data[1]}"))
        elif event.type == music21.midi.MetaEvents.KEY_SIGNATURE:
            sharps = int.from_bytes(event.data[:1], "big", signed=True)
            found.append((now, f"K:{sharps}{'m' if event.data[1] else ''}"))
    return sorted((Fraction(now, per_quarter), what) for now, what in found)


def test_meter_and_key_changes_are_written_where_they_are_played(tmp_path):
    from modeling_irish.render import to_midi

    body = "GABc dedB|[M:3/4][K:D] FAdf a2|\nM:6/8\nK:Em\nGAB efg|]\n"
    changed = to_midi(f"X:1\nM:4/4\nL:1/8\nK:G\n{body}", str(tmp_path / "changed.mid"))
    assert _signatures(changed) == [
        (Fraction(0), "K:1"),
        (Fraction(0), "M:4/4"),
        (Fraction(4), "K:2"),
        (Fraction(4), "M:3/4"),
        (Fraction(7), "K:1m"),
        (Fraction(7), "M:6/8"),
    ]
    # the notes are those of the same music written without the changes
    plain = "X:1\nM:4/4\nL:1/8\nK:G\nGABc dedB|^F=Adf a2|GAB efg|]\n"
    assert _midi_notes(changed) == _midi_notes(to_midi(plain, str(tmp_path / "plain.mid")))


def test_a_repeat_back_past_a_change_goes_back_to_the_signatures_before_it(tmp_path):
    from modeling_irish.render import to_midi

    abc = "X:1\nM:2/4\nL:1/8\nK:D\n|:DEFA|[K:F][M:3/4]FGAc2d:|]\n"
    path = to_midi(abc, str(tmp_path / "r.mid"))
    assert _signatures(path) == [
        (Fraction(0), "K:2"),
        (Fraction(0), "M:2/4"),
        (Fraction(2), "K:-1"),
        (Fraction(2), "M:3/4"),
        (Fraction(5), "K:2"),  # the second time round, in D and 2/4 again
        (Fraction(5), "M:2/4"),
        (Fraction(7), "K:-1"),
        (Fraction(7), "M:3/4"),
    ]


def test_a_meter_change_midi_cannot_write_is_said_and_the_one_before_holds(tmp_path, caplog):
    from modeling_irish.render import to_midi

    abc = "X:1\nT:Odd\nM:none\nL:1/8\nK:D\nDEFA|[M:3/4]DEF A2|[M:3/5]DE F|]\n"
    with caplog.at_level("WARNING", logger="modeling_irish.render"):
        path = to_midi(abc, str(tmp_path / "odd.mid"))
    # free meter: no 4/4 of music21's at the start, nor 3/4 for 3/5
    assert [what for _, what in _signatures(path) if what.startswith("M:")] == ["M:3/4"]
    assert (Fraction(2), "M:3/4") in _signatures(path)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1
    assert said[0].startswith("X:1 T:Odd: M:3/5 in the body has no MIDI time signature")
    assert "readers keep the one before" in said[0]


def test_a_key_of_more_than_seven_sharps_or_flats_is_written_as_its_enharmonic(tmp_path):
    # a MIDI key signature holds -7 to 7: K:D# (9 sharps) was written as 9, Fb (8 flats) as -8
    from modeling_irish.render import to_midi

    path = to_midi("X:1\nL:1/8\nK:D#\nDEF|[K:Fb]DEF|[K:G#m]DEF|]\n", str(tmp_path / "k.mid"))
    keys = [what for _, what in _signatures(path) if what.startswith("K:")]
    assert keys == ["K:-3", "K:4", "K:5m"]  # E flat, E, and G# minor as it is


def test_midi_key_value_is_what_midi_writes_of_the_key():
    """A key's MIDI value is its sharps and minor flag, clamped to 7 (`_midi_key`), worked out
    once a key; each mark made of it is a new element that music21 writes the same."""
    import music21

    from modeling_irish.render_midi import _key_mark, _midi_key_value
    from tokenization.keys import Key

    assert _midi_key_value(Key("E", "dorian")) == (2, False)
    assert _midi_key_value(Key("D#", "minor")) == (6, True)
    assert _midi_key_value(Key("D#", "major")) == (-3, False)
    first, second = _key_mark((-1, True)), _key_mark((-1, True))
    assert first is not second
    assert isinstance(first, music21.key.Key) and first.mode == "minor" and first.sharps == -1
    events = music21.midi.translate.keySignatureToMidiEvents
    assert events(_key_mark((2, False)), False)[0].data == b"\x02\x00"
    assert events(first, False)[0].data == b"\xff\x01"
