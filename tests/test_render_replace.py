"""Rendering a tune again into files an earlier run wrote: a tune is rendered whole or not at
all, so that one that fails leaves the earlier files of its names as they were (it deleted
them), and one that succeeds replaces them all."""

from __future__ import annotations

import os

import pytest
from helpers import stderr_said
from render_helpers import ABC, _fake_fluidsynth, _has_verovio, _write

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


def _pages(monkeypatch, count: int, text: str) -> None:
    """verovio engraves ``count`` pages (``<svg>TEXT N</svg>``)."""
    import modeling_irish.render_svg as render_svg

    pages = [f"<svg>{text} {n}</svg>" for n in range(1, count + 1)]
    monkeypatch.setattr(render_svg._ENGRAVER, "pages", lambda abc: pages)


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_a_render_of_fewer_pages_removes_the_earlier_renderings_further_pages(
    tmp_path, monkeypatch
):
    # tune-3.svg, page 3 of the earlier rendering, stayed beside the new two pages
    stem = str(tmp_path / "tune")
    _pages(monkeypatch, 3, "earlier")
    render_abc(ABC, stem, formats=["svg"])
    mine = {"tune-03.svg": b"mine", "tune-2-2.svg": b"mine", "tune-x.svg": b"mine"}
    for name, data in mine.items():  # not pages of tune.svg: never removed
        (tmp_path / name).write_bytes(data)
    _pages(monkeypatch, 1, "failed")
    _failing_midi(monkeypatch)
    with pytest.raises(RenderError):  # a failed render removes no earlier page
        render_abc(OTHER, stem, formats=["svg", "midi"])
    assert sorted(_files(tmp_path)) == sorted(["tune.svg", "tune-2.svg", "tune-3.svg", *mine])
    monkeypatch.undo()
    _pages(monkeypatch, 2, "new")
    out = render_abc(OTHER, stem, formats=["svg"])
    assert out["removed"] == [f"{stem}-3.svg"]
    assert _files(tmp_path) == {
        "tune.svg": b"<svg>new 1</svg>", "tune-2.svg": b"<svg>new 2</svg>", **mine
    }  # fmt: skip
    # a page name that another output of the run takes (a tune t-3.abc beside t.abc) is kept
    _pages(monkeypatch, 3, "again")
    render_abc(OTHER, stem, formats=["svg"])
    _pages(monkeypatch, 1, "one")
    out = render_abc(OTHER, stem, formats=["svg"], taken=[f"{stem}-3.svg"])
    assert out["removed"] == [f"{stem}-2.svg"]
    assert sorted(_files(tmp_path)) == sorted(["tune.svg", "tune-3.svg", *mine])


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_render_names_the_earlier_pages_it_removed(tmp_path, monkeypatch, capsys):
    from modeling_irish.cli import main

    book = _write(tmp_path / "tune.abc", ABC)
    out = tmp_path / "out"
    _pages(monkeypatch, 3, "earlier")
    assert main(["render", book, "--out", str(out), "--formats", "svg"]) == 0
    _pages(monkeypatch, 1, "new")
    capsys.readouterr()
    assert main(["render", book, "--out", str(out), "--formats", "svg"]) == 0
    said = capsys.readouterr().out
    removed = f"{os.path.join(out, 'tune-2.svg')} {os.path.join(out, 'tune-3.svg')}"
    assert f"  removed earlier svg pages: {removed}\n" in said
    assert _files(out) == {"tune.svg": b"<svg>new 1</svg>"}
