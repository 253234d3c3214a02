"""What `irish-tune check` reads: latin-1 and UTF-16 files, music21 books, thesession.org dumps,
files without tunes, unreadable files, stdin, and files given after options (of every command)
(counts, JSON shape and failures: `test_check_cli.py`)."""

from __future__ import annotations

import json
import os

import pytest
import test_check_cli
from test_check_cli import GOOD

from modeling_irish.cli import _dump_tunes, main
from tokenization.check import check_files

tunebook = test_check_cli.tunebook  # the fixture of test_check_cli, three tunes of which one fails


def test_check_reads_latin1_files(tmp_path, capsys):
    path = tmp_path / "old.abc"
    path.write_bytes(GOOD.replace("Good One", "Cailín Óg").encode("latin-1"))
    assert main(["check", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["round_trip_ok"] == 1 and data["failures"] == []


def test_check_names_music21_books():
    pytest.importorskip("music21")
    from modeling_irish.cli import _check_paths

    paths, labels = _check_paths(["oneills1850", "ryansMammoth"])
    assert len(paths) > 100 and all(p.endswith(".abc") and os.path.isfile(p) for p in paths)
    assert any("oneills1850" in p for p in paths) and any("ryansMammoth" in p for p in paths)
    assert labels[paths[0]] == "oneills1850/" + os.path.basename(paths[0])
    assert _check_paths(["book.abc"]) == (["book.abc"], {})


def test_check_reads_thesession_dumps_as_the_loader_does(tmp_path, capsys):
    import csv

    path = tmp_path / "tunes.csv"
    fields = [
        "tune_id",
        "setting_id",
        "name",
        "type",
        "meter",
        "mode",
        "abc",
        "date",
        "username",
        "composer",
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        base = {"type": "reel", "meter": "4/4", "date": "2020-01-01", "username": "u"}
        writer.writerow(
            {
                **base,
                "tune_id": 1,
                "setting_id": 1,
                "name": "Sí Bheag",
                "mode": "Dmajor",
                "abc": "|:d2fd edcB|A2FA DFAF:|\r\n",
                "composer": "O'Carolan",
            }
        )
        writer.writerow({**base, "tune_id": 2, "setting_id": 7, "name": "Typo", "mode": "Gmajor",
                         "abc": "GABc ]d|", "composer": ""})  # fmt: skip
    assert main(["check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["tunes"], report["parsed"], report["round_trip_ok"]) == (2, 1, 1)
    (failure,) = report["failures"]
    # a dump's tune is checked alone and named by its row (many rows share a title): its line
    # counts in its ABC (headers from the row's fields), and the error says so
    assert failure["tune"] == f"{path} row 2: X:2 Typo"
    assert "line 8 of its tune text, column 6" in failure["error"]
    path.with_suffix(".json").write_text("[]", encoding="utf-8")
    assert main(["check", str(path.with_suffix(".json")), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failures"][0]["error"] == "no tunes in the file"


def test_check_counts_dump_rows_without_abc_as_failing_tunes(tmp_path, capsys):
    """A row that gives no tune is a tune that fails, named by its row (it used to be left out
    of the counts, with exit status 0, while an empty .abc fails)."""
    rows = [
        {"name": "One", "type": "reel", "meter": "4/4", "mode": "Gmajor", "abc": "GABc dBAG|]"},
        {"name": "Two", "type": "reel", "meter": "4/4", "mode": "Gmajor", "abc": "BABc dBAG|]"},
        {"name": "Lost", "type": "reel", "meter": "4/4", "mode": "Gmajor"},
    ]
    path = tmp_path / "tunes.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    assert main(["check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["tunes"], report["parsed"], report["round_trip_ok"]) == (3, 2, 2)
    assert report["failures"] == [
        {"tune": f"{path} row 3", "error": "dump row without ABC text in 'abc'"}
    ]
    assert main(["check", str(path)]) == 1
    assert f"FAIL {path} row 3: dump row without ABC text" in capsys.readouterr().out


def test_check_reads_compressed_files_and_json_lines_as_the_loader_does(tmp_path, monkeypatch):
    """``tunes.jsonl``, ``tunes.jsonl.gz`` and a folder's ``book.abc.gz`` failed as "not a text
    file" or "no tune found"; a zip archive (stored: its tunes in the clear) was read with its
    binary headers as music, and now says to extract it."""
    import gzip
    import io
    import zipfile

    rows = [
        {"name": f"R{n}", "type": "reel", "mode": "Gmajor", "abc": "GABc dBAG|"} for n in (1, 2)
    ]
    lines = "\n".join(json.dumps(row) for row in rows) + "\n"
    (tmp_path / "tunes.jsonl").write_text(lines, encoding="utf-8")
    (tmp_path / "tunes.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "book.abc.gz").write_bytes(gzip.compress(GOOD.encode()))
    names = [tmp_path / "tunes.jsonl", tmp_path / "tunes.jsonl.gz", tmp_path / "f"]
    report = check_files(names, tunes_of=_dump_tunes)
    assert (report.tunes, report.round_trip_ok, report.failures) == (5, 5, [])
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(GOOD.encode()))))
    assert check_files(["-"]).round_trip_ok == 1
    with zipfile.ZipFile(tmp_path / "tunes.zip", "w") as archive:
        archive.writestr("tunes.abc", GOOD)
    (failure,) = check_files([tmp_path / "tunes.zip"]).failures
    assert failure["error"] == (
        "is a zip archive, not ABC nor a dump: extract it and give its files or folder"
    )


def test_check_reports_a_file_without_tunes(tmp_path, capsys):
    path = tmp_path / "notes.abc"
    path.write_text("just some notes about tunes\n", encoding="utf-8")
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["tunes"] == 0
    why = "no tune found (a tune starts with an X: line, or is a block with a K: line)"
    assert data["failures"] == [{"tune": str(path), "error": why}]


def test_check_counts_files_without_a_tune_apart_from_tunes(tunebook, tmp_path, capsys):
    """An empty, binary or prose file, or a dump without rows, fails as a file, not a tune: the
    summary counts them on their own, so that every failure is a tune that failed or such a
    file (the summary said "tunes: 3" above four failures)."""
    files = {"empty.abc": b"", "bin.abc": b"MThd\x00\x00", "prose.abc": b"Notes.\n"}
    files["rows.json"] = b"[]"
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    argv = ["check", str(tunebook), *(str(tmp_path / name) for name in files)]
    assert main([*argv, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["tunes"], data["round_trip_ok"], data["files_without_tunes"]) == (3, 2, 4)
    assert len(data["failures"]) == data["tunes"] - data["round_trip_ok"] + 4
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "tunes: 3  parsed: 2  round-trip ok: 2  files without a tune: 4\n" in out


def test_check_reads_stdin(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD))
    assert main(["check", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["round_trip_ok"] == 1


def test_utf16_files_empty_stdin_and_binary_files(tmp_path, monkeypatch):
    import io

    from tokenization.check import check_files

    tune = "X:1\nT:Café\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"
    (tmp_path / "u16.abc").write_bytes(tune.encode("utf-16"))  # Windows "Unicode", with a BOM
    report = check_files([tmp_path / "u16.abc"])
    assert report.parsed == 1 and not report.failures
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert check_files(["-"]).failures == [{"tune": "stdin", "error": "empty input"}]
    (tmp_path / "bin.abc").write_bytes(b"\x7fELF\x00\x00\x01X:1\n")
    (failure,) = check_files([tmp_path / "bin.abc"]).failures
    assert "not a text file" in failure["error"]


def test_a_stray_nul_byte_fails_its_tune_only_as_the_loader_reads_it(tmp_path):
    """A NUL inside one tune of a tunebook is that tune's error (line, column); only a file in
    which no tune is found is "not a text file"."""
    from modeling_irish.abc_corpus import load_abc_corpus

    tune = "X:{n}\nT:T{n}\nM:2/4\nL:1/8\nK:G\nGABc|dBG2|GABc|dBG2|\n"
    book = tmp_path / "nul.abc"
    book.write_text("\n".join(tune.format(n=n) for n in (1, 2)) + "\n" + tune.format(n=3)[:-6]
                    + "d\x00BG2|\n", encoding="utf-8")  # fmt: skip
    report = check_files([book])
    assert (report.tunes, report.parsed) == (3, 2)
    (failure,) = report.failures
    assert failure["tune"] == f"{book}: X:3 T3"  # its X: and title, as a parsed tune's
    assert failure["error"] == "parse: line 20, column 17: unexpected character '\\x00'"  # file
    loaded = load_abc_corpus(str(book), split_ratios=(1, 0, 0)).report
    assert (loaded["read"], loaded["parsed"]) == (report.tunes, report.parsed)
    binary = tmp_path / "tune.mid"
    binary.write_bytes(b"MThd\x00\x00\x00\x06")
    # worded as the loader words it (`binary_reason`)
    assert check_files([binary]).failures[0]["error"] == "not a text file (NUL bytes)"


def test_check_fails_an_unreadable_file_and_checks_the_others(
    tunebook, tmp_path, capsys, monkeypatch
):
    """A .json or .csv that is not a dump, or a file that cannot be opened, fails as a file
    and the others are still checked: it ended the run with exit 2 and no report."""
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\x00\x01")
    (tmp_path / "notes.csv").write_text("just,some\nprose,here\n", encoding="utf-8")
    locked = tmp_path / "locked.abc"
    locked.write_text(GOOD, encoding="utf-8")
    real_open = open

    def no_permission(file, *args, **kwargs):  # chmod 000 does not stop root: simulate it
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_permission)
    names = [str(tunebook), *(str(tmp_path / n) for n in ("binary.json", "notes.csv"))]
    assert main(["check", *names, str(locked), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["tunes"], data["round_trip_ok"], data["files_without_tunes"]) == (3, 2, 3)
    errors = {f["tune"]: f["error"] for f in data["failures"]}
    assert errors[str(locked)] == "cannot be read (Permission denied)"
    assert errors[names[1]].startswith("is not a thesession.org dump (invalid JSON")
    assert errors[names[2]].startswith("is not a thesession.org dump")
    assert main(["check", *names, str(locked), "--exit-zero"]) == 0
    assert "files without a tune: 3" in capsys.readouterr().out


def test_files_after_an_option_are_read(tunebook, tmp_path, capsys, monkeypatch):
    """``check one.abc --bars three.abc`` was refused ("unrecognized arguments: three.abc"):
    argparse fills the files from their first run only."""
    monkeypatch.chdir(tmp_path)
    other = tmp_path / "other.abc"
    other.write_text(GOOD, encoding="utf-8")
    (tmp_path / "-dash.abc").write_text(GOOD, encoding="utf-8")  # a file, not a flag, after "--"
    assert main(["check", str(tunebook), "--json", str(other), "--", "-dash.abc"]) == 1
    assert json.loads(capsys.readouterr().out)["tunes"] == 3 + 1 + 1
    with pytest.raises(SystemExit):
        main(["check", str(tunebook), "--jsn", str(other)])
    err = capsys.readouterr().err
    assert "unrecognized arguments: --jsn (did you mean --json?)\n" in err
    with pytest.raises(SystemExit):  # identify reads one file: a second one is still refused
        main(["identify", "one.abc", "--index", str(tmp_path), "two.abc"])
    assert "unrecognized arguments: two.abc\n" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, dest",
    [
        (["render", "one.abc", "--out", "rx", "--formats", "midi", "three.abc"], "files"),
        (["index", "--tokenizer", "mn", "one.abc", "--out", "idy", "three.abc"], "corpus"),
        (["evaluate-lm", "one.abc", "--model", "mn", "--", "three.abc"], "files"),
    ],
)
def test_every_command_takes_files_after_its_options(argv, dest, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # index refuses a source that does not exist when it parses
    for name in ("one.abc", "three.abc"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    seen = []
    monkeypatch.setattr("modeling_irish.cli._resolve", lambda target: seen.append)
    assert main(argv) == 0
    assert getattr(seen[0], dest) == ["one.abc", "three.abc"]


def _mixed_files(folder, count: int) -> list:
    """``count`` files of one tune each, its title UTF-8 and a note line Windows-1252."""
    paths = []
    for n in range(1, count + 1):
        path = folder / f"mixed{n:02}.abc"
        text = GOOD.replace("Good One", "Seán").replace("K:", "N:caf\u00e9\nK:", 1)
        path.write_bytes(text.encode().replace("caf\u00e9".encode(), b"caf\xe9"))
        paths.append(path)
    return paths


def test_check_names_three_files_of_mixed_encodings_then_counts_them(tmp_path, capsys, caplog):
    """A folder of files that mix UTF-8 and Windows-1252 lines gave one warning a file: a
    flood. The first three are named (as of each kind of check's warnings), then one line
    counts all twelve."""
    from helpers import warnings_of

    paths = _mixed_files(tmp_path, 12)
    line = GOOD.replace("K:", "N:\nK:", 1).splitlines().index("N:") + 1
    with caplog.at_level("WARNING", logger="tokenization.check"):
        assert main(["check", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["round_trip_ok"] == 12  # every file still read
    assert warnings_of(caplog, "tokenization.check") == [
        f"{path}: 1 line is not UTF-8, unlike the rest of the file, read as Windows-1252 "
        f"(line {line})"
        for path in paths[:3]
    ] + [
        "... and 9 more files of mixed encodings (not shown); 12 in all, by reason: "
        "{'lines read as Windows-1252': 12}"
    ]


def test_a_tune_is_named_by_its_x_and_title_by_check_and_the_loader_alike(tmp_path, caplog):
    """A tune that failed to parse was named by its title alone (books repeat titles: which
    "Same"?) while its neighbours were "X:1 Same", and the loader's warning of a tune cut by a
    blank line said "the tune at line 15" (then "the tune X:3 Cut at line 15") where check said
    "X:3 Cut"."""
    from helpers import warnings_of

    from modeling_irish.abc_corpus import load_abc_corpus

    book = tmp_path / "b.abc"
    book.write_text(
        "X:1\nT:Same\nM:2/4\nL:1/8\nK:G\nGABc|dBG|GABc|d2B2|\n\n"
        "X:2\nT:Same\nM:2/4\nL:1/8\nK:G\nGA[Bc|d2B2|\n\n"
        "X:3\nT:Cut\nM:2/4\nL:1/8\nK:G\nGABc|d2B2|GABc|d2B2|\n\nd2B2|GABc|\n",
        encoding="utf-8",
    )
    report = check_files([book], bars=True)
    assert report.failures == [
        {"tune": f"{book}: X:2 Same", "error": "parse: line 13, column 6: bar line inside a chord"}
    ]
    assert [p["tune"] for p in report.bars.problems] == [f"{book}: X:1 Same"]
    said = warnings_of(caplog, "tokenization.check")
    assert said == [f"{book}: X:3 Cut: 1 line(s) after the blank line 21 not read (a blank line "
                    "ends a tune), the first at line 22"]  # fmt: skip
    caplog.clear()
    loaded = load_abc_corpus(str(book), split_ratios=(1, 0, 0), min_notes=1).report
    assert loaded["skipped_at"] == {
        "AbcParseError: bar line inside a chord": [
            f"{book} line 8: X:2 Same: line 13, column 6: bar line inside a chord"
        ]
    }
    assert warnings_of(caplog, "modeling_irish.abc_sources") == said  # named alike


def test_check_reads_a_file_given_twice_once_and_says_so(tmp_path, capsys, caplog):
    path = tmp_path / "a.abc"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["check", str(path), os.path.join(tmp_path, ".", "a.abc"), "--json"]) == 0
    once = json.loads(capsys.readouterr().out)["tunes"]
    assert main(["check", str(path), "--json"]) == 0
    assert once == json.loads(capsys.readouterr().out)["tunes"]
    assert any("given twice (the same resolved path" in r.getMessage() for r in caplog.records)


def test_the_commands_tunes_read_a_file_inside_a_folder_also_given_once(tmp_path, caplog):
    from modeling_irish.cli import tune_texts

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.abc").write_text(GOOD, encoding="utf-8")
    folder, file = str(tmp_path / "d"), str(tmp_path / "d" / "a.abc")
    assert len(list(tune_texts([folder, file]))) == len(list(tune_texts([folder])))
    assert any("given twice (inside a folder also given" in r.getMessage() for r in caplog.records)
