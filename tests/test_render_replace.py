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
    from modeling_irish import render_midi

    monkeypatch.setattr(render_midi, "_midi_file", lambda *a, **k: 1 / 0)


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


def test_a_folder_at_one_of_a_tunes_names_stops_the_run_before_any_file_is_replaced(
    tmp_path, monkeypatch, capsys
):
    """A folder where the WAV goes fails the run (exit status 2, naming it) with the tune's
    earlier MIDI left as it was: not replaced while its WAV is not."""
    from modeling_irish.cli import main

    _fake_fluidsynth(monkeypatch, 0, writes=True)
    book = _write(tmp_path / "tune.abc", ABC)
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 0
    (out / "tune.wav").mkdir()
    before = (out / "tune.mid").read_bytes()
    _write(tmp_path / "tune.abc", OTHER)
    capsys.readouterr()
    assert main(["render", book, "--out", str(out), "--formats", "midi,wav"]) == 2
    assert f"{out / 'tune.wav'}: Is a directory" in capsys.readouterr().err
    assert (out / "tune.mid").read_bytes() == before
    assert sorted(path.name for path in out.iterdir()) == ["tune.mid", "tune.wav"]


def _pages(monkeypatch, count: int, text: str) -> None:
    """verovio engraves ``count`` pages (``<svg>TEXT N</svg>``)."""
    import modeling_irish.render_svg as render_svg

    pages = [f"<svg>{text} {n}</svg>" for n in range(1, count + 1)]
    monkeypatch.setattr(render_svg._ENGRAVER, "pages", lambda abc: pages)


def _page(text: str, page: int, stem: str = "tune") -> bytes:
    """The file `to_svg` writes of `_pages`'s page ``page``: its SVG, then its marker."""
    return f'<svg>{text} {page}</svg>\n<!-- irish-tune page {page} of stem "{stem}" -->\n'.encode()


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
        "tune.svg": _page("new", 1), "tune-2.svg": _page("new", 2), **mine
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
    assert _files(out) == {"tune.svg": _page("new", 1)}


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_a_render_never_removes_nor_writes_over_another_tunes_page(tmp_path, monkeypatch, capsys):
    # t-2.svg, the one page of a tune t-2 rendered by an earlier run, was written over as page 2
    # of a tune t of three pages, then removed as an earlier page of t when t had one page
    from modeling_irish.cli import main

    out = tmp_path / "out"
    _pages(monkeypatch, 1, "t-2's page")
    book = _write(tmp_path / "t-2.abc", ABC)
    assert main(["render", book, "--out", str(out), "--formats", "svg"]) == 0
    other = _page("t-2's page", 1, "t-2")
    assert _files(out) == {"t-2.svg": other}
    book = _write(tmp_path / "t.abc", OTHER)
    _pages(monkeypatch, 3, "t's page")
    assert main(["render", book, "--out", str(out), "--formats", "svg"]) == 0
    assert _files(out) == {
        "t-2.svg": other, "t.svg": _page("t's page", 1, "t"),
        "t-2-2.svg": _page("t's page", 2, "t"), "t-3.svg": _page("t's page", 3, "t"),
    }  # fmt: skip
    _pages(monkeypatch, 1, "t's one page")
    capsys.readouterr()
    assert main(["render", book, "--out", str(out), "--formats", "svg"]) == 0
    removed = f"{out / 't-2-2.svg'} {out / 't-3.svg'}"  # t's own earlier pages 2 and 3
    assert f"  removed earlier svg pages: {removed}\n" in capsys.readouterr().out
    assert _files(out) == {"t-2.svg": other, "t.svg": _page("t's one page", 1, "t")}


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_a_page_without_a_marker_is_kept_and_named(tmp_path, monkeypatch, caplog):
    # an unmarked tune-3.svg (an older version's page 3 of tune, or another tune's) was
    # removed, and an unmarked tune-2.svg written over
    from helpers import warnings_of

    older = {"tune-2.svg": b"<svg>older 2</svg>", "tune-3.svg": b"<svg>older 3</svg>"}
    for name, data in older.items():
        (tmp_path / name).write_bytes(data)
    _pages(monkeypatch, 2, "new")
    out = render_abc(OTHER, str(tmp_path / "tune"), formats=["svg"])
    assert out["svg"] == [str(tmp_path / "tune.svg"), str(tmp_path / "tune-2-2.svg")]
    assert out["removed"] == []
    assert _files(tmp_path) == {
        "tune.svg": _page("new", 1), "tune-2-2.svg": _page("new", 2), **older
    }  # fmt: skip
    said = warnings_of(caplog, "modeling_irish.render")
    for name in older:
        assert [line for line in said if line.startswith(f"{tmp_path / name} has no irish-tune")]


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_a_tunes_first_page_never_writes_over_another_tunes_page(tmp_path, monkeypatch):
    # page 1 of a tune t-2 was always written to t-2.svg, over page 2 of an earlier tune t
    stem = str(tmp_path / "t-2")
    _pages(monkeypatch, 2, "t's page")
    render_abc(ABC, str(tmp_path / "t"), formats=["svg"])
    t_2 = _page("t's page", 2, "t")
    _pages(monkeypatch, 1, "t-2's page")
    out = render_abc(OTHER, stem, formats=["svg"])
    assert out["svg"] == [f"{stem}-1-2.svg"]  # a free name, as other displaced pages get
    assert _files(tmp_path)["t-2.svg"] == t_2
    assert _files(tmp_path)["t-2-1-2.svg"] == _page("t-2's page", 1, "t-2")
    _pages(monkeypatch, 1, "t-2 again")
    assert render_abc(OTHER, stem, formats=["svg"])["svg"] == [f"{stem}-1-2.svg"]  # its own
    assert _files(tmp_path)["t-2-1-2.svg"] == _page("t-2 again", 1, "t-2")
    # the tune's own name without a marker (an older version's rendering): written over
    (tmp_path / "t-2.svg").write_bytes(b"<svg>older</svg>")
    assert render_abc(OTHER, stem, formats=["svg"])["svg"] == [f"{stem}.svg"]
    assert _files(tmp_path)["t-2.svg"] == _page("t-2 again", 1, "t-2")


def test_the_render_help_says_the_tunes_own_unmarked_page_is_written_over(capsys):
    # --help said only files marked as the tune's pages are written over, an unmarked one
    # named; its own t.svg without a marker is written over (the test above)
    import irish_tune

    with pytest.raises(SystemExit):
        irish_tune.main(["render", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "and its own t.svg (one without a marker" in help_text
    assert "another unmarked one is kept and named" in help_text


def test_a_failed_tune_names_only_its_own_earlier_pages(tmp_path):
    # t-2.svg, another tune's page, was named as t's page 2, and t's page 2 moved aside
    # (t-2-2.svg) was not named
    from modeling_irish.generation_cli_outputs import _earlier_outputs
    from modeling_irish.render_svg import _with_marker

    pages = {"t.svg": ("t", 1), "t-2.svg": ("t-2", 1), "t-2-2.svg": ("t", 2), "t-3.svg": ("t", 3)}
    for name, (stem, page) in pages.items():
        (tmp_path / name).write_text(_with_marker("<svg/>", f"{stem}.svg", page), encoding="utf-8")
    (tmp_path / "t-4.svg").write_text("<svg/>", encoding="utf-8")  # unmarked: not the tune's
    (tmp_path / "t.mid").write_bytes(b"MThd")
    names = ["t.svg", "t-2-2.svg", "t-3.svg", "t.mid"]
    said = _earlier_outputs(str(tmp_path / "t"), ["svg", "midi", "wav"])
    assert said == "; earlier files left as they were: " + ", ".join(
        str(tmp_path / name) for name in names
    )
    # t-2's page 1 is t-2.svg; t.svg marked as another stem's page is not t's
    assert _earlier_outputs(str(tmp_path / "t-2"), ["svg"]).endswith(f": {tmp_path / 't-2.svg'}")
    (tmp_path / "t.svg").write_text(_with_marker("<svg/>", "s.svg", 2), encoding="utf-8")
    assert _earlier_outputs(str(tmp_path / "t"), ["svg"]).endswith(
        f": {tmp_path / 't-2-2.svg'}, {tmp_path / 't-3.svg'}"
    )


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_render_caps_its_warnings_about_unmarked_pages(tmp_path, monkeypatch, capsys, caplog):
    # seven unmarked pages tune-2.svg... gave seven warnings on modeling_irish.render, uncapped
    from helpers import warnings_of

    from modeling_irish.cli import main

    book = _write(tmp_path / "tune.abc", ABC)
    out = tmp_path / "out"
    out.mkdir()
    for page in range(2, 9):
        (out / f"tune-{page}.svg").write_bytes(b"<svg>older</svg>")
    _pages(monkeypatch, 1, "new")
    assert main(["render", book, "--out", str(out), "--formats", "svg"]) == 0
    said = stderr_said(capsys, caplog)
    assert not warnings_of(caplog, "modeling_irish.render")
    lines = [line for line in said.splitlines() if "page marker" in line]
    assert len(lines) == 6, said
    assert lines[0].startswith(f"{out / 'tune-2.svg'} has no irish-tune page marker")
    assert lines[5].startswith("... and 2 more files without an irish-tune page marker kept")
    assert "7 in all, by reason: {'not removed': 7}" in lines[5]


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_a_render_removes_its_earlier_pages_moved_aside(tmp_path, monkeypatch):
    # t-2-2.svg, t's page 2 moved aside while t-2.svg was a tune t-2's page, stayed when a
    # re-render of t could write page 2 to t-2.svg again; so did t-2-1-2.svg, t-2's page 1
    # moved aside, when t-2 could write it to t-2.svg
    from modeling_irish.render_svg import _with_marker

    t, t_2 = str(tmp_path / "t"), str(tmp_path / "t-2")
    _pages(monkeypatch, 1, "t-2's page")
    render_abc(ABC, t_2, formats=["svg"])
    _pages(monkeypatch, 2, "t's page")
    assert render_abc(OTHER, t, formats=["svg"])["svg"] == [f"{t}.svg", f"{t}-2-2.svg"]
    mine = {  # not pages of t nor of t-2: never removed
        "t-2-3.svg": b"<svg>unmarked</svg>",
        "t-2-4.svg": _with_marker("<svg/>", "s.svg", 2).encode(),
        "t-3-2.svg": _with_marker("<svg/>", "t-3.svg", 2).encode(),
    }
    for name, data in mine.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "t-2.svg").unlink()  # t-2's page gone: t's page 2 can have its name again
    _pages(monkeypatch, 2, "t again")
    out = render_abc(OTHER, t, formats=["svg"])
    assert out["svg"] == [f"{t}.svg", f"{t}-2.svg"]
    assert out["removed"] == [f"{t}-2-2.svg"]  # t's earlier page 2, moved aside
    assert _files(tmp_path) == {
        "t.svg": _page("t again", 1, "t"), "t-2.svg": _page("t again", 2, "t"), **mine
    }  # fmt: skip
    # t-2's page 1 goes to t-2-1-2.svg while t-2.svg is t's page 2, then back to t-2.svg
    _pages(monkeypatch, 1, "t-2 moved")
    assert render_abc(ABC, t_2, formats=["svg"])["svg"] == [f"{t_2}-1-2.svg"]
    _pages(monkeypatch, 1, "t alone")
    assert render_abc(OTHER, t, formats=["svg"])["removed"] == [f"{t}-2.svg"]
    _pages(monkeypatch, 1, "t-2 back")
    out = render_abc(ABC, t_2, formats=["svg"])
    assert (out["svg"], out["removed"]) == ([f"{t_2}.svg"], [f"{t_2}-1-2.svg"])
    assert _files(tmp_path) == {
        "t.svg": _page("t alone", 1, "t"), "t-2.svg": _page("t-2 back", 1, "t-2"), **mine
    }  # fmt: skip


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_a_tune_of_a_long_name_is_rendered_under_it(tmp_path, monkeypatch):
    # a 240-character stem: its pages' temporary names (.<stem>.<writer>.tmp.svg) were longer than
    # a file name may be, and the render failed with an OSError naming the temporary file
    stem = "L" * 240
    _pages(monkeypatch, 2, "long")
    out = render_abc(ABC, str(tmp_path / stem), formats=["svg"])
    assert out["svg"] == [str(tmp_path / f"{stem}.svg"), str(tmp_path / f"{stem}-2.svg")]
    assert _files(tmp_path) == {
        f"{stem}.svg": _page("long", 1, stem), f"{stem}-2.svg": _page("long", 2, stem)
    }  # fmt: skip


def test_render_names_the_files_of_a_larger_earlier_render_it_left(tmp_path, capsys):
    # a book of 3 tunes rendered where one of 5 was left t_4 and t_5 without a word (generate
    # named such files); the input ABC, another book's files and a page-numbered MIDI are not
    # render's, so never named
    from modeling_irish.cli import main

    tunes = "".join(f"X:{i}\nT:T{i}\nM:6/8\nL:1/8\nK:G\nGAG GAB|]\n\n" for i in range(1, 6))
    out = tmp_path / "out"
    book = _write(tmp_path / "t.abc", tunes)
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 0
    for name in ("t.abc", "other_1.mid", "t_1-2.mid", "notes.txt"):
        (out / name).write_text("mine", encoding="utf-8")
    _write(tmp_path / "t.abc", tunes.split("X:4")[0])
    capsys.readouterr()
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 0
    err = capsys.readouterr().err
    said = f"irish-tune render: warning: {out} still holds 2 file(s) of an earlier run that "
    assert said + "this one did not replace: t_4.mid, t_5.mid (this run did not" in err, err
    assert err.count("earlier run") == 1 and (out / "t_5.mid").exists()  # once; never deleted
    _write(tmp_path / "t.abc", tunes)
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 0
    assert "earlier run" not in capsys.readouterr().err  # every one replaced


def test_render_does_not_call_its_other_formats_files_other_tunes(tmp_path, capsys):
    # the same book rendered to MIDI, then to MusicXML: the warning named the .mid files "not
    # this run's tunes", generate's wording, though they are the same tunes' (another --formats)
    from modeling_irish.cli import main

    out = tmp_path / "out"
    book = _write(tmp_path / "t.abc", "".join(f"X:{i}\nT:T{i}\nK:G\nGAG GAB|]\n\n" for i in (1, 2)))
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 0
    capsys.readouterr()
    assert main(["render", book, "--out", str(out), "--formats", "musicxml"]) == 0
    err = capsys.readouterr().err
    said = f"{out} still holds 2 file(s) of an earlier run that this one did not replace: "
    said += "t_1.mid, t_2.mid (this run did not write them; remove them or use another --out)"
    assert said in err and "this run's tunes" not in err, err
