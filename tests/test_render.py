"""Tests of SVG, MIDI and WAV rendering (WAV skipped with a reason when fluidsynth is absent)."""

from __future__ import annotations

import os
import shutil
import wave

import pytest

from modeling_irish.render import RenderError, find_soundfont, render_abc, to_wav

ABC = "X:1\nT:Test\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAB d2e|1dBG A3:|2dBG G3|]\n"


def test_svg_is_engraved(tmp_path):
    pytest.importorskip("verovio")
    out = render_abc(ABC, str(tmp_path / "tune"), formats=["svg"])
    (path,) = out["svg"]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert text.startswith("<svg") and text.count("<g ") > 10


def test_midi_has_the_notes_with_repeats(tmp_path):
    import music21

    out = render_abc(ABC, str(tmp_path / "tune"), formats=["midi"])
    score = music21.converter.parse(out["midi"])
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
    with pytest.raises(RenderError, match="apt-get install fluidsynth"):
        to_wav(str(tmp_path / "x.mid"), str(tmp_path / "x.wav"))
    out = render_abc(ABC, str(tmp_path / "tune"), formats=["wav"])
    assert "wav" not in out and "apt-get" in out["skipped"][0]


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown formats"):
        render_abc(ABC, str(tmp_path / "tune"), formats=["png"])
