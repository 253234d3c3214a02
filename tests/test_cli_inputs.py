"""What the commands that read ABC inputs (identify, index, render, evaluate-retrieval) make of
thesession dumps, files without tunes and files of mixed encodings: each read as `check` reads
it, and each warning or error said once, naming the file and why."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pytest
from helpers import RENDER_LOGGER, python_lines, stderr_said, synthetic_tune, warnings_of

from modeling_irish.cli import main

ROOT = Path(__file__).resolve().parents[1]

TRAIN = [synthetic_tune(i, f"Reel {i}", i, i, notes="CDEFGABcde") for i in range(1, 5)]


@pytest.fixture(scope="module")
def edit_index(tmp_path_factory) -> tuple[Path, Path]:
    """``(tokenizer folder, edit-distance index folder)`` over `TRAIN` (no model)."""
    from modeling_irish.name_that_tune import TuneIndex
    from tokenization.tokenization_abc import AbcTokenizer

    folder = tmp_path_factory.mktemp("index")
    corpus = folder / "train.abc"
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
    AbcTokenizer.train(TRAIN).save_pretrained(folder / "tok")
    tokenizer = AbcTokenizer.from_pretrained(folder / "tok")  # the index records its folder
    TuneIndex.build(None, tokenizer, str(corpus)).save(str(folder / "index"))
    return folder / "tok", folder / "index"


def _no_tune_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """An empty, a binary and a prose file, each with the reason `check` gives."""
    files = {
        "empty": (b"", "empty file"),
        "binary": (b"MThd\x00\x00\x00\x06", "not a text file (NUL bytes)"),
        "prose": (b"Some notes on tunes.\n", "a tune starts with an X: line"),
    }
    out = {}
    for name, (data, why) in files.items():
        path = folder / f"{name}.abc"
        path.write_bytes(data)
        out[name] = (path, why)
    return out


def test_identify_reads_a_thesession_dump_as_the_other_commands_do(edit_index, tmp_path, capsys):
    _, index = edit_index
    body = TRAIN[2].split("K:D\n", 1)[1]  # the notes of Reel 3, as a dump row holds them
    row = {"tune_id": 3, "setting_id": 9, "name": "Query", "type": "reel", "meter": "4/4",
           "mode": "Dmajor", "abc": body}  # fmt: skip
    dump = tmp_path / "tunes.json"
    dump.write_text(json.dumps([row]), encoding="utf-8")
    assert main(["identify", "--index", str(index), str(dump), "-k", "1", "--json"]) == 0
    (tune,) = json.loads(capsys.readouterr().out)["tunes"]
    assert tune["tune"] == "X:1 T:Query" and tune["top"] == [{"title": "Reel 3", "score": 0.0}]
    # a dump with no row: said with why, not read as bare ABC
    dump.write_text("[]", encoding="utf-8")
    assert main(["identify", "--index", str(index), str(dump)]) == 2
    assert f"{dump}: no tune to name (no dump row gives a tune)" in capsys.readouterr().err


def test_identify_fails_dump_rows_that_give_no_tune(edit_index, tmp_path, capsys, caplog):
    """A dump row without ABC (or not an object) is a tune that cannot be named, as in `check`:
    a failure named by its row, exit status 1 (it used to be a warning only, exit 0); --json
    places a dump's tunes by their row, not by a line 1 that every row's text starts on."""
    _, index = edit_index
    body = TRAIN[2].split("K:D\n", 1)[1]
    row = {"name": "Query", "type": "reel", "meter": "4/4", "mode": "Dmajor", "abc": body}
    dump = tmp_path / "tunes.json"
    dump.write_text(json.dumps([row, {**row, "abc": " "}, 7]), encoding="utf-8")
    assert main(["identify", "--index", str(index), str(dump), "-k", "1", "--json"]) == 1
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["tunes"] == [
        {"tune": "X:1 T:Query", "row": 1, "top": [{"title": "Reel 3", "score": 0.0}]}
    ]
    assert data["failures"] == [
        {"tune": "row 2", "row": 2, "error": "dump row without ABC text in 'abc'"},
        {"tune": "row 3", "row": 3, "error": "dump row that is not an object (int)"},
    ]
    said = warnings_of(caplog, "modeling_irish.retrieval_cli")  # the tunes' warnings, capped
    assert (
        f"irish-tune identify: the tune at {dump} row 2: dump row without ABC text in 'abc'" in said
    )
    assert "2 of 3 tunes could not be named" in err
    caplog.clear()
    assert main(["identify", "--index", str(index), str(dump), "-k", "1"]) == 1
    said = warnings_of(caplog, "modeling_irish.retrieval_cli")
    assert "Reel 3" in capsys.readouterr().out
    assert (
        f"irish-tune identify: the tune at {dump} row 3: dump row that is not an object (int)"
        in said
    )
    dump.write_text(
        json.dumps([{**row, "abc": ""}]), encoding="utf-8"
    )  # one tune: its error is the answer
    assert main(["identify", "--index", str(index), str(dump)]) == 2
    assert f"{dump} row 1: dump row without ABC text in 'abc'" in capsys.readouterr().err


def test_render_fails_dump_rows_that_give_no_tune(tmp_path, capsys, caplog):
    """A dump row without ABC was skipped by render, exit 0, and the dump's one other tune
    written as a single tune's file (``tunes.mid``): now a failure named by its row, exit 1, as
    in `check`, and the files named by the dump's rows (``tunes_1.mid``)."""
    body = TRAIN[2].split("K:D\n", 1)[1]
    row = {"name": "Reel", "type": "reel", "meter": "4/4", "mode": "Dmajor", "abc": body}
    dump = tmp_path / "tunes.json"
    dump.write_text(json.dumps([row, {**row, "abc": ""}]), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", str(dump), "--out", str(out), "--formats", "midi"]) == 1
    printed, err = capsys.readouterr()
    err += "\n".join(warnings_of(caplog, RENDER_LOGGER))
    assert f"midi: {out / 'tunes_1.mid'}" in printed
    assert f"irish-tune render: {dump} row 2: dump row without ABC text in 'abc'" in err
    assert "1 of 2 tunes not rendered" in err
    assert sorted(p.name for p in out.iterdir()) == ["tunes_1.mid"]


def test_index_counts_dump_rows_that_give_no_tune(edit_index, tmp_path, capsys):
    """A dump row without ABC is a tune that could not be read, listed by its row in the
    output and the index's report (it used to be left out of the counts altogether)."""
    from modeling_irish.name_that_tune import INDEX_FILE

    tok, _ = edit_index
    body = TRAIN[2].split("K:D\n", 1)[1]
    row = {"name": "Reel", "type": "reel", "meter": "4/4", "mode": "Dmajor", "abc": body}
    dump = tmp_path / "tunes.json"
    dump.write_text(json.dumps([row, {**row, "abc": None}]), encoding="utf-8")
    out = tmp_path / "ix"
    assert main(["index", "--tokenizer", str(tok), str(dump), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "read 2 tunes; left out 0 without a title and 1 that could not be read" in printed
    assert f"  {dump} row 2: dump row without ABC text in 'abc'" in printed
    report = json.loads((out / INDEX_FILE).read_text(encoding="utf-8"))["meta"]["report"]
    assert (report["read"], report["unreadable"]) == (
        2,
        [f"{dump} row 2: dump row without ABC text in 'abc'"],
    )


def test_the_index_built_in_python_counts_dump_rows_that_give_no_tune(edit_index, tmp_path, caplog):
    """`TuneIndex.build` counts them itself, as `index` prints them: its report left them out
    (the command read the dump a second time to count them), and the dump is read once, its
    warning given once."""
    from modeling_irish.name_that_tune import TuneIndex
    from tokenization.tokenization_abc import AbcTokenizer

    tok, _ = edit_index
    body = TRAIN[2].split("K:D\n", 1)[1]
    row = {"name": "Reel", "type": "reel", "meter": "4/4", "mode": "Dmajor", "abc": body}
    dump = tmp_path / "tunes.json"
    dump.write_text(
        json.dumps([{**row, "abc": None}, row, 7, {**row, "abc": "K:Q\n|"}]), encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING):
        index = TuneIndex.build(None, AbcTokenizer.from_pretrained(tok), str(dump))
    assert len(index.setting_title) == 1
    report = index.meta["report"]
    assert (report["read"], report["untitled"]) == (4, 0)
    assert report["unreadable"][:2] == [
        f"{dump} row 1: dump row without ABC text in 'abc'",
        f"{dump} row 3: dump row that is not an object (int)",
    ]
    assert len(report["unreadable"]) == 3 and f"{dump} row 4: " in report["unreadable"][2]
    assert [r.getMessage() for r in caplog.records].count(
        f"{dump}: 2 rows give no tune (row 1: dump row without ABC text in 'abc'; row 3: dump "
        "row that is not an object (int))"
    ) == 1


def _mixed_encoding_file(tmp_path: Path) -> Path:
    path = tmp_path / "mixenc.abc"
    path.write_bytes(
        TRAIN[0].replace("T:Reel 1", "T:Seán").encode() + b"\n"
        + TRAIN[1].replace("T:Reel 2", "T:Caf\xe9").encode("latin-1")
    )  # fmt: skip
    return path


def test_a_mixed_encoding_is_warned_about_once(edit_index, tmp_path, caplog, capsys):
    """identify and render read the file once (they read it, then read it again as a source)."""
    _, index = edit_index
    path = _mixed_encoding_file(tmp_path)
    for argv in (
        ["identify", "--index", str(index), str(path), "-k", "1"],
        ["render", str(path), "--out", str(tmp_path / "out"), "--formats", "midi"],
    ):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert main(argv) == 0, argv
        warnings = [r.getMessage() for r in caplog.records if "not UTF-8" in r.getMessage()]
        assert len(warnings) == 1 and str(path) in warnings[0], (argv, warnings)
    assert "T:Café" in capsys.readouterr().out  # the Latin-1 line read as such


def test_a_stray_nul_fails_its_tune_only_in_identify_and_render(
    edit_index, tmp_path, capsys, caplog
):
    """As in `check`: identify and render refused the whole tunebook ("not a text file (NUL
    bytes)", exit 2) for one NUL inside one tune's notes."""
    _, index = edit_index
    path = tmp_path / "nul.abc"
    path.write_text(TRAIN[0].replace("K:D\n", "K:D\nC\x00", 1) + "\n" + TRAIN[2], encoding="utf-8")
    assert main(["check", str(path)]) == 1
    assert "unexpected character" in capsys.readouterr().out
    assert main(["identify", "--index", str(index), str(path), "-k", "1", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert [t["top"][0]["title"] for t in found["tunes"]] == ["Reel 3"]
    assert [f["tune"] for f in found["failures"]] == ["X:1 T:Reel 1"]
    out = tmp_path / "out"
    assert main(["render", str(path), "--out", str(out), "--formats", "midi"]) == 1
    assert "unexpected character" in stderr_said(capsys, caplog)
    assert sorted(p.name for p in out.iterdir()) == ["nul_2.mid"]


def test_index_says_why_a_file_holds_no_tune(edit_index, tmp_path, capsys):
    tok, _ = edit_index
    for path, why in _no_tune_files(tmp_path).values():
        argv = ["index", "--tokenizer", str(tok), str(path), "--out", str(tmp_path / "ix")]
        assert main(argv) == 2
        assert f"irish-tune index: nothing to index: no tune in {path}: {why}" in (
            capsys.readouterr().err
        )
    assert not (tmp_path / "ix").exists()


def test_evaluate_retrieval_says_why_the_queries_hold_no_tune(tmp_path, capsys):
    from tokenization.tokenization_abc import AbcTokenizer

    AbcTokenizer.train(TRAIN).save_pretrained(tmp_path / "tok")
    train = tmp_path / "train.abc"
    train.write_text("\n".join(TRAIN), encoding="utf-8")
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--baseline",
            "edit-distance"]  # fmt: skip
    for path, why in _no_tune_files(tmp_path).values():
        said = f"no tunes in the queries '{path}' ({why})"
        assert main([*argv, "--train", str(train), "--queries", str(path)]) == 2
        assert said in capsys.readouterr().err
        # --json: the one object all the same (as evaluate-lm --json answers), exit status 1
        assert main([*argv, "--json", "--train", str(train), "--queries", str(path)]) == 1
        out, err = capsys.readouterr()
        assert said in err
        answer = json.loads(out)
        assert answer["queries"] == 0 and answer["mrr_at_20"] is None and said in answer["error"]
        assert answer["dropped_reasons"] == {"not_in_protocol": 0, "unreadable": 0}
        assert answer["scorer"] == "edit-distance" and answer["gallery"] is None
        # training tunes are not what --json answers: a usage error, exit status 2
        assert main([*argv, "--json", "--train", str(path), "--queries", str(train)]) == 2
        assert f"no training tunes in '{path}' ({why})" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["identify", "--index", "ix", "--hybrid-weight"],
        ["evaluate-retrieval", "--train", "oneills1850", "--queries", "q.abc", "--hybrid-weight"],
        ["evaluate-retrieval", "--train", "oneills1850", "--queries", "q.abc", "--eighths-weight"],
    ],
)
def test_a_weight_too_large_for_the_scores_is_refused(argv, capsys):
    """1e308 passed as a finite number >= 0, then overflowed the scores (a numpy warning and
    another ranking); it is refused when the arguments are read, the largest allowed kept."""
    from modeling_irish.cli import MAX_WEIGHT, build_parser

    with pytest.raises(SystemExit) as info:
        main([*argv, "1e308"])
    assert info.value.code == 2
    flag = argv[-1]
    assert f"argument {flag}: must be at most 1000000 (far larger weights overflow the scores), " \
        "got 1e308" in capsys.readouterr().err  # fmt: skip
    args = build_parser().parse_args([*argv, str(MAX_WEIGHT)])
    assert getattr(args, flag[2:].replace("-", "_")) == MAX_WEIGHT


def test_an_error_quoting_a_line_separator_is_printed_whole(edit_index, tmp_path, capsys):
    """A title holding a U+2028 and a form feed (ABC keeps both inside the line) cut the error
    at them: ``irish-tune identify: ls2.abc: a``, the line, column and reason lost."""
    _, index = edit_index
    path = tmp_path / "ls2.abc"
    path.write_text("X:1\nT:a\u2028b\x0cc\nK:D\nDFA]B|\n", encoding="utf-8")
    assert main(["identify", "--index", str(index), str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"irish-tune identify: {path}: X:1 a\u2028b\x0cc: line 4, column 4: ']' without a chord"
        in (err)
    )


def test_snippet_lines_are_counted_as_the_reader_counts_them(edit_index, tmp_path, capsys):
    """Snippets were cut into lines by `str.splitlines`, which also breaks at a form feed or
    U+2028 that the reader keeps inside a line: every later line number was one too many."""
    _, index = edit_index
    notes = TRAIN[2].split("K:D\n", 1)[1].strip()
    path = tmp_path / "snippets.abc"
    # a form-feed line between the two snippets: a page break, not a blank line to the reader
    path.write_text(f"K:D\n{notes}\n\x0c\n\nK:D\nDFAB|\nDFA]B|\n", encoding="utf-8")
    assert main(["identify", "--index", str(index), str(path), "-k", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [t["line"] for t in data["tunes"]] == [1]
    (failure,) = data["failures"]
    assert (failure["line"], failure["error"]) == (5, "line 7, column 4: ']' without a chord")
    # a U+2028 inside a snippet's line is no line break either
    path.write_text(f"K:D\n{notes}\n\nK:D\nDF\u2028AB|\nDFA]B|\n", encoding="utf-8")
    assert main(["identify", "--index", str(index), str(path), "-k", "1", "--json"]) == 1
    (failure,) = json.loads(capsys.readouterr().out)["failures"]
    assert (failure["line"], failure["error"]) == (4, "line 6, column 4: ']' without a chord")


def test_identify_names_five_tunes_it_cannot_name_then_counts_them(edit_index, tmp_path, caplog):
    """A file of many tunes that cannot be named (or too short to) gave one stderr line each: a
    flood. Of each kind the first five are named, then one line counts all twelve by reason;
    --json still lists every failure, and the exit status is still 1."""
    _, index = edit_index
    rests = [f"X:{n}\nT:Rests {n}\nK:D\nz8|z8|\n" for n in range(1, 9)]
    broken = [f"X:{n}\nT:Broken {n}\nK:D\n(3>A|\n" for n in range(9, 13)]
    short = [f"X:{n}\nT:Short {n}\nK:D\nDFA|\n" for n in range(13, 25)]
    path = tmp_path / "many.abc"
    path.write_text("\n".join(rests + broken + short), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert main(["identify", "--index", str(index), str(path), "-k", "1", "--json"]) == 1
    said = warnings_of(caplog, "modeling_irish.retrieval_cli")
    assert said == [
        f"irish-tune identify: the tune at line {5 * n - 4} of {path}: X:{n} Rests {n}: line "
        f"{5 * n - 4}, column 1: has no notes, only rests: nothing to compare"
        for n in range(1, 6)
    ] + [
        f"irish-tune identify: X:{n} T:Short {n} has 3 notes, too few to tell tunes apart (many "
        "match it exactly); 8 or more name a tune better"
        for n in range(13, 18)
    ] + [
        "... and 7 more tunes that could not be named (not shown); 12 in all, by reason: "
        "{'X:N Rests N: line N, column N: has no notes, only rests: nothing to compare': 8, "
        "\"X:N Broken N: line N, column N: broken rhythm '…' without a preceding note\": 4}",
        "... and 7 more tunes with too few notes (not shown); 12 in all, by reason: "
        "{'fewer than 8 notes': 12}",
    ]


def test_index_lists_five_unreadable_tunes_then_counts_the_rest(edit_index, tmp_path, capsys):
    """`index` listed the first ten unreadable tunes on stdout, a cap of its own: now the
    first five, as every capped warning, then how many more (all of them in the meta)."""
    tok, _ = edit_index
    book = tmp_path / "book.abc"
    book.write_text(
        "\n".join([TRAIN[0]] + [f"X:{n}\nT:Broken {n}\nK:D\n(3>A|\n" for n in range(2, 14)]),
        encoding="utf-8",
    )
    out = tmp_path / "index"
    assert main(["index", "--tokenizer", str(tok), str(book), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("left out 0 without a title and 12 that could not be read")
    assert [line.split(":")[0] for line in lines[2:7]] == [f"  {book}"] * 5
    assert lines[7:] == [f"  ... and 7 more (the index's meta: {out}/tune_index.json)"]


def test_a_file_without_read_permission_is_named_as_a_shell_tool_names_it(
    tmp_path, monkeypatch, capsys
):
    """An input the system refuses to read was ``[Errno 13] Permission denied: 'PATH'``; it is
    ``PATH: Permission denied`` (as ``cat`` says it), one line, exit status 2."""
    import tokenization.check

    path = tmp_path / "locked.abc"
    path.write_text(TRAIN[0], encoding="utf-8")

    def refuse(name):
        raise PermissionError(13, "Permission denied", str(name))

    monkeypatch.setattr(tokenization.check, "read_file_bytes", refuse)  # as root, chmod 000 reads
    assert main(["render", str(path), "--out", str(tmp_path / "out"), "--formats", "midi"]) == 2
    assert capsys.readouterr().err == f"irish-tune render: {path}: Permission denied\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["index", "--tokenizer", "tok", "-"],
        ["index", "--tokenizer", "tok", "oneills1850", "--out", "ix", "-"],  # after an option
        ["evaluate-retrieval", "--train", "oneills1850", "-", "--queries", "q.abc"],
    ],
)
def test_sources_that_do_not_read_stdin_refuse_a_dash_when_the_arguments_are_read(argv, capsys):
    """``-`` was taken for a missing file named '-' once the model had loaded; these options
    read no stdin, and say so as a usage error."""
    from irish_tune import parse_args

    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2
    flag = "corpus" if argv[0] == "index" else "--train"
    said = f"argument {flag}: - (stdin) is not read here: give ABC files, folders or thesession"
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["index", "--tokenizer", "tok", "missing.abc"],
        ["index", "--tokenizer", "tok", "oneills1850", "--out", "ix", "missing.abc"],
        ["evaluate-retrieval", "--train", "oneills1850", "missing.abc", "--queries", "q.abc"],
    ],
)
def test_a_missing_source_is_refused_when_the_arguments_are_read(argv, capsys):
    """A corpus or training source that does not exist was found out only once the model had
    loaded (after the reading's progress bars); it is a usage error at once, as
    ``evaluate-generation --train`` says it."""
    from irish_tune import parse_args

    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2
    flag = "corpus" if argv[0] == "index" else "--train"
    assert f"argument {flag}: no such file or folder: missing.abc" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "an ABC source is the empty string; give a file"),
        (" ", "an ABC source is only whitespace (' '); give a file"),
        (" missing.abc", "no such file or folder: ' missing.abc' (nor"),
    ],
)
def test_a_blank_source_name_is_shown_when_the_arguments_are_read(name, said, capsys):
    """``index " "`` said "argument corpus: no such file or folder:   (nor ...)", and ``index
    ""`` "no such file or folder (nor ...)": the blank name, or its spaces, could not be seen."""
    from irish_tune import parse_args

    with pytest.raises(SystemExit) as info:
        parse_args(["index", "--tokenizer", "tok", name])
    assert info.value.code == 2
    assert f"argument corpus: {said}" in capsys.readouterr().err


def test_a_missing_source_names_the_books_in_one_wording_everywhere(capsys):
    """``evaluate-lm missing.abc`` said ``(nor 'music21' or one of ['oneills1850',
    'ryansMammoth'])``, a Python list, where ``train.py`` says ``(nor 'music21', 'oneills1850'
    or 'ryansMammoth')``; the corpus loader and its empty-source error printed the list too."""
    import irish_tune
    from modeling_irish.abc_sources import iter_abc_tunes, music21_collection_files

    books = "'music21', 'oneills1850' or 'ryansMammoth'"
    assert irish_tune.main(["evaluate-lm", "--model", "m", "missing.abc"]) == 2
    assert capsys.readouterr().err == (
        f"irish-tune evaluate-lm: no such file or folder: missing.abc (nor {books})\n"
    )
    with pytest.raises(FileNotFoundError) as missing:
        list(iter_abc_tunes("missing.abc"))
    assert str(missing.value) == f"no such file or folder: missing.abc (nor {books})"
    with pytest.raises(ValueError) as empty:
        list(iter_abc_tunes(""))
    assert str(empty.value).endswith(f"('.' for the current one), {books}")
    with pytest.raises(ValueError) as unknown:
        music21_collection_files("nosuch")
    assert str(unknown.value) == f"'nosuch' is not one of {books}"


def test_identify_from_an_edit_distance_index_does_not_import_datasets(edit_index, tmp_path):
    """``irish-tune identify`` names a tune without `datasets` (a second or more to import on a
    musician's first call): it needs only `title_key` of the corpus loader's module, which
    imported `datasets` at its top. In a fresh interpreter, run from the root (this one has
    `datasets` loaded)."""
    _, index = edit_index
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(TRAIN[1], encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import sys
        import irish_tune
        status = irish_tune.main(["identify", "--index", {str(index)!r}, {str(snippet)!r},
                                  "-k", "1"])
        print(status, "datasets" in sys.modules)
        """
    )
    *answer, last = python_lines(code, timeout=120)
    assert "Reel 2" in answer[0]
    assert last == "0 False"


@pytest.mark.parametrize(
    ("argv", "status", "said"),
    [
        (["transpose", "-", "--key", "D"], 2, "no tune to transpose: stdin (empty input)"),
        (["check", "-"], 1, "FAIL stdin: empty input"),
    ],
)
def test_a_closed_stdin_reads_as_an_empty_input(argv, status, said, monkeypatch, capsys):
    """``irish-tune transpose - <&-`` (Python's sys.stdin is None) ended in an AttributeError
    traceback; it is an empty input, as ``< /dev/null`` is."""
    import sys

    monkeypatch.setattr(sys, "stdin", None)
    assert main(argv) == status
    out = capsys.readouterr()
    assert said in out.out + out.err
