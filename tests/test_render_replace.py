"""Rendering a tune again into files an earlier run wrote: a tune is rendered whole or not at
all, so that one that fails leaves the earlier files of its names as they were (it deleted
them), and one that succeeds replaces them all."""

from __future__ import annotations

import os

import pytest
from helpers import stderr_said
from render_helpers import ABC, _fake_fluidsynth, _write

from modeling_irish.render import RenderError, render_abc

OTHER = ABC.replace("GAB d2e", "BAG e2d")  # another tune, so other files


def _files(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _failing_midi(monkeypatch) -> None:
    import music21

    monkeypatch.setattr(music21.midi.translate, "music21ObjectToMidiFile", lambda *a, **k: 1 / 0)


def _failing_wav(monkeypatch) -> None:
    _fake_fluidsynth(monkeypatch, 1, writes=True, stderr="bad note")


@pytest.mark.parametrize("fail", [_failing_midi, _failing_wav])
def test_a_failed_render_leaves_the_earlier_files_of_its_stem_as_they_were(
    tmp_path, monkeypatch, fail
):
    # the MIDI written, then the WAV failing, removed the new MIDI and the earlier WAV; a
    # failing MIDI removed the earlier one
    _fake_fluidsynth(monkeypatch, 0, writes=True)
    stem = str(tmp_path / "tune")
    render_abc(ABC, stem, formats=["midi", "wav"])
    before = _files(tmp_path)
    assert sorted(before) == ["tune.mid", "tune.wav"]
    fail(monkeypatch)
    with pytest.raises(RenderError):
        render_abc(OTHER, stem, formats=["midi", "wav"])
    assert _files(tmp_path) == before  # no temporary file left either


def test_a_successful_render_replaces_every_earlier_file(tmp_path, monkeypatch):
    _fake_fluidsynth(monkeypatch, 0, writes=True)
    stem = str(tmp_path / "tune")
    render_abc(ABC, stem, formats=["midi", "wav"])
    before = _files(tmp_path)
    _fake_fluidsynth(monkeypatch, 0, writes=True, seconds=61.0)  # another WAV
    render_abc(OTHER, stem, formats=["midi", "wav"])
    after = _files(tmp_path)
    assert sorted(after) == ["tune.mid", "tune.wav"]
    assert all(after[name] != before[name] for name in after)


def test_render_names_the_earlier_files_a_failed_tune_left(tmp_path, monkeypatch, capsys, caplog):
    from modeling_irish.cli import main

    _fake_fluidsynth(monkeypatch, 0, writes=True)
    book = _write(tmp_path / "tune.abc", ABC)
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "midi,wav"]) == 0
    before = _files(out)
    _write(tmp_path / "tune.abc", OTHER)
    _failing_wav(monkeypatch)
    capsys.readouterr()
    caplog.clear()
    assert main(["render", book, "--out", str(out), "--formats", "midi,wav"]) == 1
    said = stderr_said(capsys, caplog).splitlines()
    earlier = f"{os.path.join(out, 'tune.mid')}, {os.path.join(out, 'tune.wav')}"
    ending = f"fluidsynth failed: bad note; earlier files left as they were: {earlier}"
    assert [line for line in said if line.endswith(ending)], said
    assert _files(out) == before
