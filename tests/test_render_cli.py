"""The render command (`irish-tune render`): several files and stdin, names never written twice,
unreadable tunes named by line or row, and formats, --out and WAV checked before any work."""

from __future__ import annotations

import argparse

import pytest
from helpers import RENDER_LOGGER, stderr_said, warnings_of
from render_helpers import ABC, BOOK, _has_verovio, _midi_notes, _no_wav, _write


def test_render_cli_names_the_unreadable_tune_and_renders_the_others(tmp_path, capsys, caplog):
    from modeling_irish.cli import main

    book = _write(tmp_path / "book.abc", BOOK)
    formats = "svg,midi" if _has_verovio() else "midi"
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", formats]) == 1
    captured = capsys.readouterr()
    err = warnings_of(caplog, RENDER_LOGGER)  # the tunes not rendered: warnings, capped
    printed = [line.strip() for line in captured.out.splitlines() if ": " in line]
    # each format's files as plain paths (not a Python list for the SVG pages)
    assert printed and all("[" not in line and "'" not in line for line in printed), printed
    (line,) = [e for e in err if "nested chord" in e]
    assert line.startswith(f"irish-tune render: {book} line 8 (X:2 T:Broken): not readable ABC")
    assert "Broken: line 13, column 2: nested chord" in line  # the file's line, as check says
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "book_1.mid" in names and "book_3.mid" in names
    assert not [n for n in names if n.startswith("book_2")]  # no partial svg either


def test_render_cli_names_a_dump_tune_by_its_row(tmp_path, caplog):
    # every row was "line 1": a dump's tune text is built from its row, its X: on line 1
    import csv

    from modeling_irish.cli import main

    row = {"tune_id": 1, "setting_id": 1, "name": "A", "type": "reel", "meter": "4/4",
           "mode": "Dmajor", "abc": "DEFG ABcd|defg abag|"}  # fmt: skip
    rows = [row, {**row, "name": "B"}, {**row, "name": "C", "abc": "DEFG [[AF]|"}]
    dump = tmp_path / "d.csv"
    with dump.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    assert main(["render", str(dump), "--out", str(out), "--formats", "midi"]) == 1
    (line,) = [e for e in warnings_of(caplog, RENDER_LOGGER) if "not readable" in e]
    assert line.startswith(f"irish-tune render: {dump} row 3 (X:3 T:C): not readable ABC")
    # its line counts in the tune text built from the row, as check says ("line 8" alone
    # named a line of the dump file, another row's)
    assert line.endswith("C: line 8 of its tune text, column 7: nested chord"), line
    assert sorted(p.name for p in out.iterdir()) == ["d_1.mid", "d_2.mid"]


def test_render_cli_says_once_that_wav_cannot_be_made(tmp_path, capsys, monkeypatch):
    from modeling_irish.cli import main

    _no_wav(monkeypatch)
    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", "midi,wav"]) == 0
    assert capsys.readouterr().err.count("WAV needs") == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"two_{i}.mid" for i in (1, 2, 3)
    ]
    # Only WAV asked for and none can be made: an error before any work.
    assert main(["render", book, "--out", str(tmp_path / "wav"), "--formats", "wav"]) == 2
    assert "irish-tune render: WAV needs" in capsys.readouterr().err
    assert not (tmp_path / "wav").exists()


def test_generate_refuses_a_render_of_only_formats_it_cannot_make(tmp_path, capsys, monkeypatch):
    """As render does: exit 2 with the note before the model is read, no folder made (it used
    to write the tunes, render nothing and exit 0)."""
    from modeling_irish.cli import build_parser, main

    _no_wav(monkeypatch)
    argv = ["generate", "--model", "unused", "--num-tunes", "1", "--out", str(tmp_path / "g")]
    assert main([*argv, "--render", "wav"]) == 2
    assert "irish-tune generate: WAV needs" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()
    # render's --help says what happens, not that WAV is merely skipped
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = " ".join(sub.choices["render"].format_help().split())
    assert "none of those asked can be made the command stops with the note, exit status 2" in text


def test_render_cli_checks_formats_and_out_up_front(tmp_path, capsys):
    from modeling_irish.cli import main

    abc = _write(tmp_path / "t.abc", ABC)
    with pytest.raises(SystemExit) as exit_info:
        main(["render", abc, "--out", str(tmp_path / "out"), "--formats", "svg,pdf"])
    assert exit_info.value.code == 2
    assert "unknown format 'pdf'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["render", abc, "--out", abc, "--formats", "midi"]) == 2
    assert f"irish-tune render: --out {abc} is a file, not a folder" in capsys.readouterr().err


def test_render_cli_refuses_an_out_link_that_leads_nowhere(tmp_path, monkeypatch, capsys):
    # a looping or dangling link said only "cannot create the folder (File exists)"
    from modeling_irish.cli import main

    abc = _write(tmp_path / "t.abc", ABC)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loopA").symlink_to("loopB")
    (tmp_path / "loopB").symlink_to("loopA")
    (tmp_path / "dangling").symlink_to("/no/such/folder")
    assert main(["render", abc, "--out", "loopA", "--formats", "midi"]) == 2
    assert "--out loopA: it is a symbolic link loop" in capsys.readouterr().err
    assert main(["render", abc, "--out", "dangling", "--formats", "midi"]) == 2
    err = capsys.readouterr().err
    assert "--out dangling: it is a broken symbolic link (to /no/such/folder)" in err
    assert not (tmp_path / "loopA").exists() and not (tmp_path / "dangling").exists()


def test_render_cli_reads_stdin_and_latin1(tmp_path, monkeypatch, capsys):
    import io

    from modeling_irish.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(ABC))
    assert main(["render", "-", "--out", str(tmp_path), "--formats", "midi"]) == 0
    assert (tmp_path / "stdin.mid").stat().st_size > 0
    latin = _write(tmp_path / "cafe.abc", ABC.replace("T:Test", "T:Café"), "latin-1")
    assert main(["render", latin, "--out", str(tmp_path), "--formats", "midi"]) == 0
    assert (tmp_path / "cafe.mid").stat().st_size > 0


def test_render_cli_names_a_compressed_files_tunes_without_its_suffixes(tmp_path, capsys):
    """``book.abc.gz`` is read as ``book.abc``: its tunes are ``book_1``..., not ``book.abc_1``."""
    import gzip
    import lzma

    from modeling_irish.cli import main

    book = tmp_path / "book.abc.gz"
    book.write_bytes(gzip.compress(BOOK.replace("[[AF]", "ABA ABd|]").encode("utf-8")))
    one = tmp_path / "one.ABC.xz"
    one.write_bytes(lzma.compress(ABC.encode("utf-8")))
    out = tmp_path / "out"
    assert main(["render", str(book), str(one), "--out", str(out), "--formats", "midi"]) == 0
    names = ["book_1.mid", "book_2.mid", "book_3.mid", "one.mid"]
    assert sorted(p.name for p in out.iterdir()) == names


def test_render_cli_takes_several_files(tmp_path, capsys):
    from modeling_irish.cli import main

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = _write(tmp_path / "a" / "t.abc", ABC)
    two = _write(tmp_path / "b" / "t.abc", ABC.replace("T:Test", "T:Other"))
    book = _write(tmp_path / "book.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    out = tmp_path / "out"
    assert main(["render", one, two, book, "--out", str(out), "--formats", "midi"]) == 0
    # one tune a file keeps the file's name; a name met again gets -2; a book numbers its tunes
    assert sorted(p.name for p in out.iterdir()) == [
        "book_1.mid", "book_2.mid", "book_3.mid", "t-2.mid", "t.mid"
    ]  # fmt: skip
    # every file is read first: a missing one fails before anything is written
    assert main(["render", one, str(tmp_path / "nope.abc"), "--out", str(tmp_path / "o2")]) == 2
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "o2").exists()
    with pytest.raises(SystemExit) as refused:  # a usage error, with the usage line
        main(["render", "-", "-", "--out", str(tmp_path / "o3"), "--formats", "midi"])
    assert refused.value.code == 2
    assert "irish-tune render: error: '-' (stdin) can be given once" in capsys.readouterr().err


def test_render_cli_never_writes_one_name_twice(tmp_path, capsys):
    from modeling_irish.cli import main

    # two.abc's first tune is two_1, and so is the only tune of two_1.abc
    books = tmp_path / "col"
    books.mkdir()
    two = _write(books / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    one = _write(books / "two_1.abc", ABC)
    out = tmp_path / "out"
    assert main(["render", two, one, "--out", str(out), "--formats", "midi"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["two_1-2.mid", "two_1.mid", "two_2.mid", "two_3.mid"]
    assert len(_midi_notes(out / "two_1-2.mid")) == 18  # ABC's tune, not two.abc's first
    assert len(_midi_notes(out / "two_1.mid")) == 6


def test_a_second_svg_page_never_takes_another_tunes_name(tmp_path, capsys):
    pytest.importorskip("verovio")
    from modeling_irish.cli import main

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    long = "X:1\nT:Long\nM:4/4\nL:1/8\nK:D\n" + "DEFG ABcd|" * 120 + "]\n"
    first = _write(tmp_path / "a" / "t.abc", long)  # t.svg, t-2.svg (its second page)
    second = _write(tmp_path / "b" / "t.abc", ABC)  # t-2.svg
    out = tmp_path / "out"
    assert main(["render", first, second, "--out", str(out), "--formats", "svg"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed.count(str(out / "t-2.svg")) == 1 and str(out / "t-2-2.svg") in printed
    assert sorted(p.name for p in out.iterdir()) == ["t-2-2.svg", "t-2.svg", "t.svg"]
    assert (out / "t-2.svg").stat().st_size < (out / "t.svg").stat().st_size  # the short tune


def test_render_cli_a_fault_on_one_tune_fails_that_tune_alone(
    tmp_path, capsys, caplog, monkeypatch
):
    # an unexpected error (a bug of ours or music21's on one tune) was a traceback that lost
    # every later tune of the book; now that tune is named with the error and the rest rendered
    import modeling_irish.render as render
    from modeling_irish.cli import main

    real = render.to_midi

    def flaky(abc, path, tempo=200, group=None, **kwargs):
        if "T:Broken" in abc:
            raise TypeError("unsupported operand")
        return real(abc, path, tempo=tempo, group=group, **kwargs)

    monkeypatch.setattr(render, "to_midi", flaky)
    book = _write(tmp_path / "book.abc", BOOK.replace("[[AF]", "[AF]"))
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 1
    err = stderr_said(capsys, caplog)
    assert "(X:2 T:Broken): nothing rendered, internal error TypeError: unsupported operand" in err
    assert "1 of 3 tunes not rendered" in err
    assert sorted(p.name for p in out.iterdir()) == ["book_1.mid", "book_3.mid"]


def test_render_cli_a_full_disk_stops_the_command(tmp_path, capsys, monkeypatch):
    # an OSError is no fault of one tune: no later tune would fare better, so it stops the run
    import errno

    import modeling_irish.render as render
    from modeling_irish.cli import main

    def full(abc, path, tempo=200, group=None, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(render, "to_midi", full)
    book = _write(tmp_path / "book.abc", ABC)
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", "midi"]) == 2
    assert "No space left on device" in capsys.readouterr().err


def test_render_names_five_tunes_not_rendered_then_counts_them(tmp_path, capsys, caplog):
    """A book of many broken tunes gave one stderr line a tune: the first five are named, then
    one line counts all twelve by reason; the exit status and the final count are unchanged."""
    from modeling_irish.cli import main

    broken = [f"X:{n}\nT:Broken {n}\nK:D\n(3>A|\n" for n in range(1, 9)]
    nested = [f"X:{n}\nT:Nested {n}\nK:D\nDEFG [[AF]|\n" for n in range(9, 13)]
    book = _write(tmp_path / "book.abc", "\n".join([*broken, *nested, ABC]))
    out = tmp_path / "out"
    assert main(["render", book, "--out", str(out), "--formats", "midi"]) == 1
    assert "12 of 13 tunes not rendered" in capsys.readouterr().err
    said = warnings_of(caplog, RENDER_LOGGER)
    assert [line.split(": not readable ABC")[0] for line in said[:5]] == [
        f"irish-tune render: {book} line {5 * n - 4} (X:{n} T:Broken {n})" for n in range(1, 6)
    ]
    assert said[5:] == [
        '... and 7 more tunes not rendered (not shown); 12 in all, by reason: {"AbcParseError: '
        "broken rhythm '>' without a preceding note\": 8, 'AbcParseError: nested chord': 4}"
    ]
    assert sorted(p.name for p in out.iterdir()) == ["book_13.mid"]


def test_render_names_five_skipped_formats_then_counts_them(tmp_path, caplog, monkeypatch):
    """A format skipped for each tune (its tool gone after the command checked for it) gave one
    line a tune: the first five, then one line that counts them all."""
    import modeling_irish.render as render
    from modeling_irish.cli import main

    monkeypatch.setattr(
        render, "render_abc", lambda abc, stem, *a, **k: {"skipped": ["wav: WAV needs fluidsynth"]}
    )
    book = _write(
        tmp_path / "book.abc", "\n".join(ABC.replace("X:1", f"X:{n}") for n in range(1, 13))
    )
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", "midi"]) == 0
    said = warnings_of(caplog, RENDER_LOGGER)
    assert [line.split(" (X:")[1] for line in said[:5]] == [
        f"{n} T:Test): skipped wav: WAV needs fluidsynth" for n in range(1, 6)
    ]
    assert said[5:] == [
        "... and 7 more formats skipped (not shown); 12 in all, by reason: "
        "{'wav: WAV needs fluidsynth': 12}"
    ]


def test_render_says_what_the_reader_did_not_read_as_written_as_check_does(tmp_path, caplog):
    """A second voice was dropped from the rendering unsaid: render says it as check says it
    (the first few of each kind), renders the tune as read, and keeps its exit status."""
    from modeling_irish.cli import main

    book = _write(tmp_path / "two.abc", "X:1\nT:Two\nL:1/8\nK:G\nV:1\nGABc|]\nV:2\nDEFG|]\n")
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", "midi"]) == 0
    said = warnings_of(caplog, RENDER_LOGGER)
    assert said == [f"{book}: X:1 Two: voice V:2 dropped"]
    assert (tmp_path / "out" / "two.mid").exists()


def test_render_cli_shows_its_progress_on_a_terminal_clear_of_the_paths(
    tmp_path, capsys, monkeypatch
):
    """A book rendered with its paths redirected to a log showed nothing on the terminal for
    minutes (O'Neill's 2,000 tunes): a "Rendering" bar counts the tunes on stderr, cleared
    before each tune's paths are printed (not drawn into their lines) and at the end."""
    import sys

    from modeling_irish.cli import main

    book = _write(tmp_path / "two.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    assert main(["render", book, "--out", str(tmp_path / "log"), "--formats", "midi"]) == 0
    assert "Rendering" not in capsys.readouterr().err  # off a terminal (a log): no redraws
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar shows
    assert main(["render", book, "--out", str(tmp_path / "out"), "--formats", "midi"]) == 0
    captured = capsys.readouterr()
    draws = [d for d in captured.err.split("\r") if d.startswith("Rendering")]
    assert draws and "3/3" in draws[-1], captured.err  # every tune counted, of a known total
    bar, last = captured.err.rsplit("\r", 1)  # cleared: no bar left, then the closing line
    assert last == f"irish-tune render: rendered 3 tunes to 3 files in {tmp_path / 'out'}\n"
    assert "Rendering" not in captured.out and "two_3.mid" in captured.out


def test_render_reads_a_folder_as_check_does_each_file_its_own_names(tmp_path, capsys, caplog):
    """A folder is read as ``check`` and ``transpose`` read it (every ``*.abc`` under it), each
    file's tunes named by that file, made unique; a file given beside its folder is read once,
    with a warning; the last line on stderr counts the tunes and files."""
    from modeling_irish.cli import main

    folder = tmp_path / "books"
    (folder / "sub").mkdir(parents=True)
    book = _write(folder / "book.abc", BOOK.replace("[[AF]", "ABA ABd|]"))
    _write(folder / "sub" / "book.abc", ABC)
    out = tmp_path / "out"
    argv = ["render", str(folder), book, "--out", str(out), "--formats", "midi"]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "book-2.mid", "book_1.mid", "book_2.mid", "book_3.mid"
    ]  # fmt: skip
    said = f"{book} given twice (inside a folder also given {folder}): read once"
    assert said in caplog.text
    err = capsys.readouterr().err
    assert err.endswith(f"irish-tune render: rendered 4 tunes to 4 files in {out}\n")


def test_render_reads_music21s_books_by_name_each_file_its_own_names(tmp_path, monkeypatch):
    """``oneills1850``, ``ryansMammoth`` and ``music21`` (both) are read as ``check`` reads them
    (here from a small stand-in for music21's corpus), each file's tunes named by its file; a
    book given beside ``music21`` is read once."""
    from modeling_irish.cli import main

    books = [("oneills1850", "0001-0002.abc", BOOK), ("ryansMammoth", "r.abc", ABC)]
    for name, file, text in books:
        (tmp_path / name).mkdir()
        _write(tmp_path / name / file, text.replace("[[AF]", "ABA ABd|]"))
    monkeypatch.setattr("modeling_irish.abc_sources._music21_folder", lambda name: tmp_path / name)
    out = tmp_path / "out"
    assert main(["render", "oneills1850", "--out", str(out), "--formats", "midi"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"0001-0002_{n}.mid" for n in (1, 2, 3)]
    both = tmp_path / "both"
    argv = ["render", "music21", "ryansMammoth", "--out", str(both), "--formats", "midi"]
    assert main(argv) == 0
    assert sorted(p.name for p in both.iterdir()) == [
        "0001-0002_1.mid", "0001-0002_2.mid", "0001-0002_3.mid", "r.mid"
    ]  # fmt: skip
