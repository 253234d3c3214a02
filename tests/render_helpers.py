"""The tune, tunebook and small readers and writers shared by the render tests (test_render*.py)."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

ABC = "X:1\nT:Test\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAB d2e|1dBG A3:|2dBG G3|]\n"


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


def midi_events(path) -> tuple[int, list[tuple[int, object]]]:
    """The ticks a quarter note and ``(tick, event)`` of every event of a MIDI file but its
    delta times, track by track, read back with music21's MIDI reader (each track's ticks from
    its start)."""
    import music21

    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    found = []
    for track in midi.tracks:
        now = 0
        for event in track.events:
            if isinstance(event, music21.midi.DeltaTime):
                now += event.time
            else:
                found.append((now, event))
    return midi.ticksPerQuarterNote, found


def midi_tempos(path) -> list[tuple[Fraction, float]]:
    """``(quarter notes in, quarter notes a minute)`` where a MIDI file's tempo changes (an
    event that sets the tempo in force changes nothing), read from its events (`midi_events`);
    abc2midi's one tick late start rounded off."""
    import music21

    tick, events = midi_events(path)
    changes = [
        (Fraction(round(now / tick * 12), 12), round(60e6 / int.from_bytes(event.data, "big"), 2))
        for now, event in events
        if event.type == music21.midi.MetaEvents.SET_TEMPO
    ]
    tempos = sorted(dict(changes).items())  # the last at a time is the one played
    return [tempo for i, tempo in enumerate(tempos) if not i or tempo[1] != tempos[i - 1][1]]


def _midi_notes(path) -> list[tuple[Fraction, int, Fraction]]:
    """``(start, MIDI pitch, length)`` in quarter notes of every note of a MIDI file, read from
    its events (music21's reader would split notes at its barlines); none may be left on."""
    import music21

    tick, events = midi_events(path)
    sounding, notes = {}, []
    for now, event in events:
        if event.type == music21.midi.ChannelVoiceMessages.NOTE_ON and event.velocity:
            assert event.pitch not in sounding, f"{event.pitch} started twice"
            sounding[event.pitch] = now
        elif event.type in (
            music21.midi.ChannelVoiceMessages.NOTE_OFF,
            music21.midi.ChannelVoiceMessages.NOTE_ON,
        ):
            start = sounding.pop(event.pitch)  # a NOTE_OFF before its NOTE_ON fails here
            notes.append((start, event.pitch, now - start))
    assert not sounding, f"notes never released: {sounding}"
    return sorted((Fraction(start, tick), p, Fraction(n, tick)) for start, p, n in notes)


def _fake_fluidsynth(
    monkeypatch, returncode: int, writes: bool, stderr: str = "", seconds: float = 60.0
):
    """fluidsynth and a soundfont 'found'; the program writes a WAV of ``seconds`` of silence
    (or none) and exits with ``returncode``. Returns the list of commands it was given."""
    import subprocess
    import wave

    import modeling_irish.render as render

    commands = []

    def run(command, **kwargs):
        commands.append(command)
        if writes:
            with wave.open(command[command.index("-F") + 1], "wb") as handle:
                handle.setparams((1, 1, 1000, 0, "NONE", "not compressed"))  # 1000 bytes a second
                handle.writeframes(bytes(round(seconds * 1000)))
        return subprocess.CompletedProcess(command, returncode, "", stderr)

    monkeypatch.setattr(render, "_wav_tools", lambda soundfont: ("fluidsynth", "gm.sf2", None))
    monkeypatch.setattr(render.subprocess, "run", run)
    return commands


def abc2midi_file(folder: Path) -> Path:
    """abc2midi's MIDI of ``folder / "t.abc"``, written to ``folder / "a.mid"``: the reference
    player the renders are compared with (tests that call it skip where it is not installed)."""
    out = Path(folder) / "a.mid"
    subprocess.run(
        ["abc2midi", str(Path(folder) / "t.abc"), "-o", str(out)], capture_output=True, check=True
    )
    return out
