"""WAV synthesis (skipped with a reason when fluidsynth is absent): soundfonts found, refused or
damaged, what the note says is missing, fluidsynth's failures, and no partial file left after a
failed MIDI write or WAV synthesis."""

from __future__ import annotations

import os
import shutil
import wave
from pathlib import Path

import pytest
from helpers import (  # noqa: F401 (fixtures: the tiny model of `irish-tune generate`)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)
from render_helpers import ABC, BOOK, _fake_fluidsynth, _write

from modeling_irish.render import RenderError, find_soundfont, render_abc, to_wav


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


def test_a_soundfont_that_does_not_exist_is_an_error_not_a_fallback(tmp_path):
    from modeling_irish.render import find_soundfont

    with pytest.raises(FileNotFoundError, match="--soundfont"):
        find_soundfont(str(tmp_path / "missing.sf2"))
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")  # a SoundFont 2 file's first chunk
    assert find_soundfont(str(font)) == str(font)
    # anything else fluidsynth would only warn about, then render with its own font
    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nK:G\nGAB|\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a SoundFont"):
        find_soundfont(str(tune))


def test_a_soundfont_folder_is_named_a_folder_not_a_missing_file(tmp_path, monkeypatch, capsys):
    """``--soundfont DIR`` (or ``$SOUNDFONT`` naming a folder) said "no such file" of a path
    that exists: now that it is a folder, refused before any tune (exit status 2)."""
    from modeling_irish.cli import main

    folder = tmp_path / "fonts"
    folder.mkdir()
    tune = _write(tmp_path / "good.abc", ABC)
    argv = ["render", tune, "--out", str(tmp_path / "R"), "--formats", "wav"]
    assert main([*argv, "--soundfont", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"--soundfont {folder}: is a folder, not a SoundFont (.sf2) file" in err, err
    assert "no such file" not in err and not (tmp_path / "R").exists()
    monkeypatch.setenv("SOUNDFONT", str(folder))
    with pytest.raises(IsADirectoryError, match=r"^\$SOUNDFONT .*fonts: is a folder"):
        find_soundfont()


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
    with pytest.raises(SystemExit) as refused:  # a usage error, with the usage line
        main([*argv, "--soundfont", "gm.sf2"])
    assert refused.value.code == 2
    assert "--soundfont is used only for WAV files: add wav to --formats" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    argv = ["generate", "--model", "unused", "--out", str(tmp_path / "g"), "--render", "svg"]
    with pytest.raises(SystemExit) as refused:  # refused before the model is read
        main([*argv, "--soundfont", "gm.sf2"])
    assert refused.value.code == 2
    assert "add wav to --render" in capsys.readouterr().err


# ----- no partial file after a failed MIDI write or WAV synthesis --------------------------------
def test_a_midi_writer_failure_removes_its_partial_file(tmp_path, monkeypatch):
    import music21

    from modeling_irish import render_midi
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
    monkeypatch.setattr(render_midi, "_midi_file", lambda *a, **k: 1 / 0)
    with pytest.raises(RenderError, match="music21 could not write MIDI: division by zero"):
        to_midi(ABC, str(path))
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_writing_midi_stops_the_command_and_leaves_no_file(
    tmp_path, monkeypatch, capsys
):
    # it was each tune's RenderError ("music21 could not write MIDI: [Errno 28] ..."): every
    # tune of the book failed in turn, exit status 1, and a .mid cut short was left in place
    import errno

    import music21

    from modeling_irish.cli import main
    from modeling_irish.render import to_midi

    def full_disk(self):
        self.file.write(b"MThd\x00\x00")  # a header, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(music21.midi.MidiFile, "write", full_disk)
    (tmp_path / "tune.mid").write_bytes(b"MThd of an earlier run")
    with pytest.raises(OSError) as info:  # not a RenderError: the caller stops
        to_midi(ABC, str(tmp_path / "tune.mid"))
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "tune.mid")
    assert [p.name for p in tmp_path.iterdir()] == ["tune.mid"]  # no temporary file left
    assert (tmp_path / "tune.mid").read_bytes() == b"MThd of an earlier run"
    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 2
    said = f"irish-tune render: {out / 'two_1.mid'}: No space left on device\n"
    assert capsys.readouterr().err == said  # the first tune stops the run
    assert list(out.iterdir()) == []


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
    written = Path(commands[0][-3])  # a temporary name beside out.wav, renamed when whole
    assert commands[0][-2:] == ["gm.sf2", str(tmp_path / "in.mid")]
    assert written.parent == tmp_path and written.suffix == ".wav"  # fluidsynth's format
    assert [p.name for p in tmp_path.iterdir()] == ["in.mid"]


def test_fluidsynth_exiting_0_without_a_wav_is_a_failure(tmp_path, monkeypatch):
    _fake_fluidsynth(monkeypatch, 0, writes=False, stderr="no audio driver")
    with pytest.raises(RenderError, match="fluidsynth failed: no audio driver"):
        to_wav(str(tmp_path / "in.mid"), str(tmp_path / "out.wav"))
    assert list(tmp_path.iterdir()) == []


FULL_DISK = "fluidsynth: error: Audio file write error: System error : No space left on device.\n"


def test_a_full_disk_writing_wav_stops_the_command_and_leaves_no_file(
    tmp_path, monkeypatch, capsys
):
    # fluidsynth says so on stderr, stops, and exits 0: the WAV cut short (2.3 s of a 24.4 s
    # tune) was reported rendered, exit status 0
    import errno

    _fake_fluidsynth(monkeypatch, 0, writes=True, stderr=FULL_DISK, seconds=0.5)
    midi = render_abc(ABC, str(tmp_path / "tune"), formats=["midi"])["midi"]
    with pytest.raises(OSError) as info:  # the caller stops: no other tune would fare better
        to_wav(midi, str(tmp_path / "tune.wav"))
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "tune.wav")
    assert [p.name for p in tmp_path.iterdir()] == ["tune.mid"]
    from modeling_irish.cli import main

    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "wav"]) == 2
    said = f"irish-tune render: {out / 'two_1.wav'}: No space left on device\n"
    assert capsys.readouterr().err == said
    assert list(out.iterdir()) == []


def test_an_error_fluidsynth_says_fails_the_wav_though_it_exits_0(tmp_path, monkeypatch):
    midi = render_abc(ABC, str(tmp_path / "tune"), formats=["midi"])["midi"]
    said = "fluidsynth: warning: No preset found on channel 9\nfluidsynth: error: out of memory\n"
    _fake_fluidsynth(monkeypatch, 0, writes=True, stderr=said)
    with pytest.raises(RenderError, match="^fluidsynth failed: fluidsynth: error: out of memory$"):
        to_wav(midi, str(tmp_path / "tune.wav"))
    assert not (tmp_path / "tune.wav").exists()
    # the control: its warnings alone are harmless
    _fake_fluidsynth(monkeypatch, 0, writes=True, stderr=said.splitlines()[0])
    assert to_wav(midi, str(tmp_path / "tune.wav")) == str(tmp_path / "tune.wav")


def test_a_wav_shorter_than_the_music_is_a_failure(tmp_path, monkeypatch):
    # a WAV cut short without a word from fluidsynth: 12 quarter notes at 200 a minute, and
    # the quarter music21 ends its track on, are 3.9 s
    midi = render_abc(ABC, str(tmp_path / "tune"), formats=["midi"])["midi"]
    _fake_fluidsynth(monkeypatch, 0, writes=True, seconds=1.0)
    with pytest.raises(RenderError, match=r"fluidsynth wrote 1\.0 s of the 3\.9 s of .*cut short"):
        to_wav(midi, str(tmp_path / "tune.wav"))
    assert not (tmp_path / "tune.wav").exists()
    _fake_fluidsynth(monkeypatch, 0, writes=True, seconds=3.9)  # the whole of it: rendered
    assert to_wav(midi, str(tmp_path / "tune.wav")) == str(tmp_path / "tune.wav")
    import subprocess

    import modeling_irish.render as render

    def raw(command, **kwargs):  # a fluidsynth without libsndfile: samples, no WAV header
        Path(command[command.index("-F") + 1]).write_bytes(bytes(800_000))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(render.subprocess, "run", raw)
    with pytest.raises(RenderError, match="fluidsynth wrote no WAV file"):
        to_wav(midi, str(tmp_path / "raw.wav"))
    assert not (tmp_path / "raw.wav").exists()


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
    program.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    monkeypatch.setenv("SOUNDFONT", str(font))


@pytest.mark.skipif(os.name != "posix", reason="the fake fluidsynth is a shell script")
def test_a_fluidsynth_failure_is_a_tune_not_rendered_exit_status_1(
    tmp_path, monkeypatch, capsys, caplog
):
    from helpers import stderr_said

    from modeling_irish.cli import main

    _fluidsynth_on_path(tmp_path, monkeypatch, "echo 'cannot synthesise' >&2; exit 3")
    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "midi,wav"]) == 1
    err = stderr_said(capsys, caplog)
    assert err.count("fluidsynth failed: cannot synthesise") == 3 and "skipped" not in err
    assert "3 of 3 tunes not rendered" in err
    assert list(out.iterdir()) == []  # no MIDI of a tune that was not rendered
    (tmp_path / "quiet").mkdir()
    _fluidsynth_on_path(tmp_path / "quiet", monkeypatch, "exit 3")  # and when it says nothing
    caplog.clear()
    assert main(["render", book, "--out", str(out), "--formats", "wav"]) == 1
    assert "(X:1 T:First): fluidsynth failed: exit status 3, no message" in stderr_said(
        capsys, caplog
    )


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
