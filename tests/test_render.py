"""SVG and MIDI rendering: engraving, the formats asked for, tunes no engraver is given, and
verovio in a process of its own (its crash or stall fails one tune). MIDI's notes and tempos are
in test_render_midi.py, WAV synthesis in test_render_wav.py, the command in test_render_cli.py."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from helpers import fill_disk_on, stderr_said
from render_helpers import ABC, _has_verovio, _write

from modeling_irish.render import RenderError, render_abc


def test_svg_is_engraved(tmp_path):
    pytest.importorskip("verovio")
    out = render_abc(ABC, str(tmp_path / "tune"), formats=["svg"])
    (path,) = out["svg"]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert text.startswith("<svg") and text.count("<g ") > 10
    # it ends with the marker that says whose page it is, and is still an SVG document
    assert text.endswith('</svg>\n<!-- irish-tune page 1 of stem "tune" -->\n')
    assert ElementTree.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"


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


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'png'; choose from svg, midi, wav, mu"):
        render_abc(ABC, str(tmp_path / "tune"), formats=["png"])


@pytest.mark.parametrize(
    ("formats", "said"),
    [
        (["midi", "svg", "midi"], "format 'midi' is given twice"),
        (["midi", ""], "empty format in ['midi', '']; choose from svg, midi, wav, musicxml"),
        ("svg", "formats is a list of formats, not one string 'svg'"),
    ],
)
def test_a_repeated_or_empty_format_is_refused_as_the_command_line_does(tmp_path, formats, said):
    """``formats=["midi", "midi"]`` rendered the MIDI once without a word (and ``"svg"`` was
    refused as the unknown formats 's', 'v', 'g'), where ``--formats midi,midi`` is refused."""
    with pytest.raises(ValueError) as refused:
        render_abc(ABC, str(tmp_path / "tune"), formats=formats)
    assert str(refused.value).startswith(said)
    assert not list(tmp_path.iterdir())  # refused before anything is written


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


def test_an_empty_text_is_said_to_be_one(tmp_path):
    # it was "not readable ABC ...: tune has no notes", as if it were a tune without music
    from modeling_irish.render_midi import to_midi

    with pytest.raises(RenderError, match=r"the text is an empty string, not an ABC tune$"):
        render_abc("", str(tmp_path / "t"), ["midi"])
    with pytest.raises(RenderError, match=r"only whitespace \(2 characters\), not an ABC tune$"):
        to_midi(" \n", str(tmp_path / "t.mid"))
    assert not list(tmp_path.iterdir())


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
    monkeypatch.setattr(render, "to_wav", lambda midi, path, font, **kwargs: path)
    assert render_abc(ABC, str(tmp_path / "tune"), formats)["midi"] == str(tmp_path / "tune.mid")
    assert (tmp_path / "tune.mid").is_file()


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


def test_a_stray_header_line_is_left_out_of_what_verovio_engraves(tmp_path):
    """Aird's Airs' bare `N` in the header, which the reader passes over, was given to verovio
    after a `K:C` put in before it (the header's end by render's own rule): the tune was
    engraved in C, without its `M:6/8` and `K:G`."""
    from modeling_irish.render_svg import _engravable

    text = "X:1\nT:t\nN\nM:6/8\nL:1/8\nK:G\nGBd dBd|geg dBd|]\n"
    assert _engravable(text) == text.replace("N\n", "")
    if _has_verovio():  # one sharp in the key signature, and the 6/8 meter
        (path,) = render_abc(text, str(tmp_path / "t"), ["svg"])["svg"]
        svg = Path(path).read_text(encoding="utf-8")
        assert svg.count('class="keyAccid"') == 1 and svg.count('class="meterSig"') == 1


@pytest.mark.parametrize(
    "header", ["I:linebreak !", "%%linebreak ! % old style", "I:linebreak $ !"]
)
def test_a_declared_bang_line_break_is_engraved_as_one(tmp_path, header):
    """Under `I:linebreak !` the reader (and the MIDI) reads `!f2g2!` as two notes between line
    breaks, but verovio was given it as written and took it for a decoration: notes lost."""
    from modeling_irish.render_svg import _engravable

    text = f"X:1\nT:t\nM:4/4\nL:1/8\n{header}\nK:D\nd2e2!f2g2!|a8|] % end\n"
    assert _engravable(text).endswith("K:D\nd2e2\nf2g2\n|a8|] % end\n")
    # without it `!f2g2!` is a decoration to verovio as to the reader
    plain = text.replace(f"{header}\n", "I:linebreak $\n")
    assert _engravable(plain) == plain
    if _has_verovio():
        (path,) = render_abc(text, str(tmp_path / "t"), ["svg"])["svg"]
        assert Path(path).read_text(encoding="utf-8").count('class="note"') == 5


@pytest.mark.parametrize(
    ("header", "breaks"),
    [
        ("%%linebreak !\nI:linebreak <EOL>", False),
        ("I:linebreak <EOL>\n%%linebreak !", True),
        ("I:linebreak !\n%%linebreak <EOL>", False),
    ],
)
def test_the_last_linebreak_of_the_header_holds_for_render_as_for_the_reader(header, breaks):
    """Render read a header's `I:` fields first and its `%%linebreak` lines after them: under
    `%%linebreak !` then `I:linebreak <EOL>` it broke lines at `!` where the reader (its last
    one holds) reads `!f2g2!` as a decoration."""
    from modeling_irish.render_svg import _engravable
    from tokenization.abc_parser import parse_abc

    text = f"X:1\nT:t\nM:4/4\nL:1/8\n{header}\nK:D\nd2e2!f2g2!|a8|]\n"
    notes = [token.kind for token in parse_abc(text).tokens].count("note")
    assert notes == (5 if breaks else 3)  # the reader's reading
    engraved = _engravable(text).split("K:D\n")[1]
    assert engraved == ("d2e2\nf2g2\n|a8|]\n" if breaks else "d2e2!f2g2!|a8|]\n")


def test_a_verovio_crash_fails_its_tune_and_the_others_are_rendered(
    tmp_path, monkeypatch, capsys, caplog
):
    # verovio given the text as it is: tune 2 aborts it, tune 3 crashes it (they ended the run)
    pytest.importorskip("verovio")
    import modeling_irish.render_svg as render_svg
    from modeling_irish.cli import main

    monkeypatch.setattr(render_svg, "_engravable", lambda abc: abc)
    book = _write(
        tmp_path / "book.abc",
        "X:1\nT:One\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|]\n\n"
        "X:2\nT:Two\nM:4/4\nL:1/8\nK:D\nGABc d!edB|]\n\n"
        "X:3\nT:Three\nM:4/4\nL:1/8\nCDEF GABc|]\n\n"
        "X:4\nT:Four\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|]\n",
    )
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "svg,midi"]) == 1
    err = stderr_said(capsys, caplog)
    assert f"{book} line 8 (X:2 T:Two): verovio aborted (SIGABRT: terminate called" in err
    assert "std::out_of_range" in err
    assert f"{book} line 15 (X:3 T:Three): verovio crashed (SIGSEGV)" in err
    assert "2 of 4 tunes not rendered" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "book_1.mid", "book_1.svg", "book_4.mid", "book_4.svg"
    ]  # fmt: skip


def test_verovio_taking_too_long_fails_the_tune_and_the_next_is_engraved(tmp_path, monkeypatch):
    pytest.importorskip("verovio")
    import modeling_irish.render_svg as render_svg

    render_svg._ENGRAVER.close()  # the next tune starts a process that reads it and never answers
    stalls = "import sys, time\nsys.stdin.readline()\ntime.sleep(60)\n"
    monkeypatch.setattr(render_svg, "_ENGRAVER_PROGRAM", stalls)
    monkeypatch.setattr(render_svg._ENGRAVER, "timeout", 0.5)
    with pytest.raises(RenderError, match="verovio took more than 0.5 s; nothing engraved"):
        render_abc(ABC, str(tmp_path / "slow"), ["svg", "midi"])
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()  # verovio again, in a new process
    assert render_abc(ABC, str(tmp_path / "t"), ["svg"])["svg"] == [str(tmp_path / "t.svg")]


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_a_full_disk_leaves_no_svg_page_and_names_the_file(tmp_path, monkeypatch, capsys):
    # page 2 was left cut mid-element, page 1 whole, and the error named no file; then page 1
    # was written over an earlier run's, and removed: the earlier page was lost
    import errno

    import modeling_irish.render_svg as render_svg
    from modeling_irish.cli import main

    pages = ["<svg>page 1</svg>", "<svg>page 2</svg>", "<svg>page 3</svg>"]
    monkeypatch.setattr(render_svg._ENGRAVER, "pages", lambda abc: pages)
    fill_disk_on(monkeypatch, render_svg, "-2")
    (tmp_path / "tune.svg").write_text("<svg>an earlier run's</svg>", encoding="utf-8")
    with pytest.raises(OSError) as info:
        render_svg.to_svg(ABC, str(tmp_path / "tune.svg"))
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "tune-2.svg")
    # no page renamed into place: no partial rendering, and the earlier run's page kept
    assert [(p.name, p.read_text(encoding="utf-8")) for p in tmp_path.iterdir()] == [
        ("tune.svg", "<svg>an earlier run's</svg>")
    ]
    # the command stops (exit status 2), the page named
    tune = _write(tmp_path / "one.abc", ABC)
    out = tmp_path / "out"
    assert main(["render", tune, "--out", str(out), "--formats", "svg"]) == 2
    said = f"irish-tune render: {out / 'one-2.svg'}: No space left on device"
    assert capsys.readouterr().err.strip() == said
    assert list(out.iterdir()) == []


def test_a_rendering_stopped_between_formats_writes_nothing_and_keeps_the_earlier_one(tmp_path):
    """`render_abc` had no stop: a demo request cut short had each tune's formats made to the
    end. ``should_stop``, asked before each format, now stops it with no file written."""
    pytest.importorskip("verovio")
    from modeling_irish.render import RenderingStopped

    stem = str(tmp_path / "tune")
    earlier = render_abc(ABC, stem, ["midi"])["midi"]
    before = Path(earlier).read_bytes()
    asked = []

    def stop_before_midi() -> bool:  # no before the SVG, yes before the MIDI
        asked.append(len(asked))
        return len(asked) > 1

    with pytest.raises(RenderingStopped, match="before its MIDI"):
        render_abc("X:1\nT:o\nM:4/4\nL:1/8\nK:G\nGABc d4|]\n", stem, ["svg", "midi"],
                   should_stop=stop_before_midi)  # fmt: skip
    assert asked == [0, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.mid"]  # no SVG, no temporary
    assert Path(earlier).read_bytes() == before
