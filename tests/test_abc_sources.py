"""Reading thesession.org dumps: invalid JSON named in one line, CSV encodings, odd rows."""

from __future__ import annotations

import json

import pytest
from helpers import warnings_of, write_csv_dump

from modeling_irish.abc_sources import iter_abc_tunes, iter_raw_tunes

ROW = {
    "tune_id": 1, "setting_id": 2, "name": "Kesh, The", "type": "jig", "meter": "6/8",
    "mode": "Gmajor", "abc": "GAG GAB|ABA ABd|GAG GAB|d2e dBA|",
}  # fmt: skip
DUMP = json.dumps([ROW])

BROKEN = {
    "truncated": (DUMP[:-5], "Unterminated string starting at: line 1 column"),
    "empty": ("", "Expecting value: line 1 column 1 (char 0)"),
    "tunebook": ("X:1\nT:Kesh\nK:G\nGAG GAB|\n", "Expecting value: line 1 column 1"),
    "trailing comma": (DUMP[:-1] + ",]", "Expecting value: line 1 column"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_dump_that_is_not_json_is_named_in_one_line(tmp_path, name):
    text, detail = BROKEN[name]
    path = tmp_path / "tunes.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        list(iter_abc_tunes(str(path)))
    message = str(info.value)
    assert message.startswith(f"{path} is not a thesession.org dump (invalid JSON: ")
    assert detail in message and "\n" not in message
    # the JSON decoder's own traceback is not chained onto it
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_the_same_rows_as_valid_json_are_read(tmp_path):
    # the control of the test above: the file name and suffix are not what is refused
    for name, text in (("plain.json", DUMP), ("wrapped.JSON", json.dumps({"tunes": [ROW]}))):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        ((source, abc),) = list(iter_abc_tunes(str(path)))
        assert source == str(path) and abc.startswith("X:1\nT:Kesh, The\n")
        assert "S:https://thesession.org/tunes/1#setting2\n" in abc and "K:G major\n" in abc


def test_an_invalid_dump_among_sources_names_that_file(tmp_path):
    from modeling_irish.abc_corpus import load_abc_corpus

    good = tmp_path / "good.json"
    good.write_text(DUMP, encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(DUMP.replace('"abc":', '"abc"'), encoding="utf-8")  # a missing colon
    with pytest.raises(ValueError, match=r"bad\.json is not a thesession\.org dump \(invalid"):
        load_abc_corpus([str(good), str(bad)], cache_dir=tmp_path / "cache")


def test_the_training_command_line_prints_it_without_a_traceback(tmp_path, capsys):
    from training import train

    dump = tmp_path / "tunes.json"
    dump.write_text(DUMP[:-5], encoding="utf-8")
    argv = ["--corpus", str(dump), "--output_dir", str(tmp_path / "out"),
            "--cache_dir", str(tmp_path / "cache")]  # fmt: skip
    assert train.cli(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(f"train.py: error: --corpus {dump}: not a thesession.org dump (invalid JSON: ")
    )
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_a_dump_row_error_names_the_line_of_the_row_tune_as_check_does(tmp_path, capsys):
    from modeling_irish.abc_sources import iter_raw_tunes
    from modeling_irish.cli import main
    from tokenization.abc_parser import AbcParseError, parse_abc

    good = {"tune_id": 1, "setting_id": 1, "name": "Kesh", "type": "jig", "meter": "6/8",
            "mode": "Gmajor", "abc": "|:GAG GAB|ABA ABd:|"}  # fmt: skip
    bad = {**good, "tune_id": 2, "setting_id": 2, "name": "Broken", "abc": "GAG|\nA]B|"}
    dump = tmp_path / "tunes.json"
    dump.write_text(
        json.dumps([good, good | {"tune_id": 3, "setting_id": 3}, bad]), encoding="utf-8"
    )
    raw = list(iter_raw_tunes(str(dump)))[2]
    with pytest.raises(AbcParseError) as err:
        parse_abc(raw.text)
    assert main(["check", str(dump), "--json"]) == 1
    (failure,) = json.loads(capsys.readouterr().out)["failures"]
    where = failure["error"].removeprefix("parse: ")
    # not shifted by the row number (3), and said to count in the row's tune text, by both
    assert where.startswith("line 9 of its tune text, column 2: ")
    assert raw.locate(err.value).endswith(where)
    assert failure["tune"].endswith("tunes.json row 3: X:3 Broken")


def test_a_dump_row_error_names_the_row_not_a_line_of_the_dump(tmp_path, caplog):
    """A parse error of a row named the dump and "line 8", a line the 3-line dump lacks, and
    not which of its rows (all named alike) failed."""
    from modeling_irish.abc_corpus import load_abc_corpus
    from tokenization.abc_parser import AbcParseError, parse_abc

    dump = tmp_path / "dup.json"
    rows = [ROW, {**ROW, "abc": "GAG GAB|A[BA ABd|"}, ROW]
    dump.write_text("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n", encoding="utf-8")
    raw = list(iter_raw_tunes(str(dump)))[1]
    with pytest.raises(AbcParseError) as err:
        parse_abc(raw.text)
    expected = f"{dump} row 2: X:2 Kesh, The: line 8 of its tune text, column 17: bar line inside"
    assert raw.locate(err.value).startswith(expected)
    report: dict = {}
    load_abc_corpus(str(dump), split_ratios=(1, 0, 0), report=report)  # the loader says the same
    assert [where for (where,) in report["skipped_at"].values()] == [raw.locate(err.value)]


def test_a_csv_dump_saved_with_a_byte_order_mark_keeps_its_tune_ids(tmp_path):
    from modeling_irish.abc_corpus import load_abc_corpus

    # Excel's "CSV UTF-8" starts the file with a BOM: the first column must still be tune_id
    other = {**ROW, "setting_id": 3, "name": "Kesh Jig, The", "abc": "GAB ABA|GAG GAB|dBA d2e|"}
    path = tmp_path / "tunes.csv"
    write_csv_dump(path, [ROW, other], "utf-8-sig")
    texts = [text for _, text in iter_abc_tunes(str(path))]
    assert "S:https://thesession.org/tunes/1#setting2\n" in texts[0]
    corpus = load_abc_corpus(str(path), split_ratios=(1, 1, 1))
    ids = {(row["tune_id"], row["setting_id"], name) for name in corpus for row in corpus[name]}
    assert {(i, s) for i, s, _ in ids} == {("1", "2"), ("1", "3")}
    assert len({name for _, _, name in ids}) == 1  # two settings of one tune: one split


def test_a_csv_dump_row_of_a_long_tune_is_read(tmp_path):
    """A field over the csv module's 128 KiB limit ended in a ``_csv.Error`` traceback: a long
    but real tune is read, and a field past `CSV_FIELD_LIMIT` named by its row's line."""
    import csv

    from modeling_irish import session_dump

    long_body = "GAG GAB|" * 20_000  # 160,000 characters
    path = tmp_path / "tunes.csv"
    write_csv_dump(path, [{**ROW, "abc": long_body}, {**ROW, "setting_id": 3}], "utf-8")
    limit = csv.field_size_limit()
    texts = [text for _, text in iter_abc_tunes(str(path))]
    assert len(texts) == 2 and texts[0].endswith(long_body + "\n")
    assert csv.field_size_limit() == limit  # the module's limit is put back
    # past the raised limit (made small here): not a dump, the row's line named
    session_dump.CSV_FIELD_LIMIT, saved = 2**20, session_dump.CSV_FIELD_LIMIT
    try:
        write_csv_dump(path, [ROW, {**ROW, "abc": "G" * (2**20 + 1)}], "utf-8")
        with pytest.raises(ValueError) as info:
            list(iter_abc_tunes(str(path)))
    finally:
        session_dump.CSV_FIELD_LIMIT = saved
    assert str(info.value) == (
        f"{path} is not a thesession.org dump (the row at line 3 has a field over 1 MiB, far "
        "longer than any tune)"
    )


def test_a_csv_dump_with_a_quote_left_open_is_not_read_as_one_row(tmp_path):
    """A quote left open in row 1 made the rows after it part of its field: one tune read,
    the others gone without a word."""
    path = tmp_path / "tunes.csv"
    row = {**ROW, "name": "Kesh"}  # no comma: no field is quoted
    write_csv_dump(path, [row, {**row, "setting_id": 3}, {**row, "setting_id": 4}], "utf-8")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",GAG", ',"GAG', 1)  # row 2, on line 3
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        list(iter_abc_tunes(str(path)))
    assert str(info.value) == (
        f"{path} is not a thesession.org dump (invalid CSV: a quote opened in the row at line 3 "
        "is never closed, and runs to the end of the file, line 4)"
    )
    # a stray character after a closing quote is named too, where it is
    lines[2] = lines[2].replace(',"GAG', ',"GAG"x', 1)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match="invalid CSV in the row at line 3: ',' expected after"):
        list(iter_abc_tunes(str(path)))


def test_a_json_dump_nested_too_deeply_is_not_a_dump(tmp_path, capsys):
    """100,000 nested ``[`` ended in a RecursionError traceback, in `check` too; it fails that
    file, and the others are checked."""
    from modeling_irish.cli import main

    path = tmp_path / "tunes.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        list(iter_abc_tunes(str(path)))
    assert str(info.value) == (
        f"{path} is not a thesession.org dump (invalid JSON: arrays or objects nested too "
        "deeply to read)"
    )
    assert info.value.__cause__ is None and info.value.__suppress_context__
    book = tmp_path / "book.abc"
    book.write_text("X:1\nT:Kesh\nM:6/8\nL:1/8\nK:G\nGAG GAB|ABA ABd|\n", encoding="utf-8")
    assert main(["check", str(path), str(book)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("tunes: 1  parsed: 1") and f"FAIL {path}: is not a thesession" in out


def test_a_latin1_csv_dump_is_read_like_a_latin1_tunebook(tmp_path):
    path = tmp_path / "tunes.csv"
    write_csv_dump(path, [{**ROW, "name": "Seán Ó Duibhir"}], "latin-1")
    ((_, text),) = list(iter_abc_tunes(str(path)))
    assert "T:Seán Ó Duibhir\n" in text


def test_one_latin1_byte_leaves_the_utf8_titles_of_its_file_alone(tmp_path, caplog):
    from modeling_irish.abc_corpus import load_abc_corpus

    cache, tmp_path = tmp_path / "cache", tmp_path / "books"
    tmp_path.mkdir()
    song = "X:{x}\nT:{title}\nM:4/4\nL:1/8\nK:G\n{notes}\n"
    (tmp_path / "clean.abc").write_text(
        song.format(x=1, title="Seán Ó Duibhir", notes="GABc dedB|GABc d2d2|GABc dedB|A2G2 G4|]"),
        encoding="utf-8",
    )
    mixed = song.format(x=1, title="Seán Ó Duibhir", notes="ABcd efga|gfed cBAG|ABcd efga|cBA2|]")
    mixed += "\n" + song.format(x=2, title="Other", notes="DEFG ABcd|DEFG A4|DEFG ABcd|dcBA D4|]")
    mixed = mixed.replace("T:Other\n", "T:Other\nN:café\n")  # line 10, saved as Latin-1
    (tmp_path / "mixed.abc").write_bytes(mixed.encode().replace("café".encode(), b"caf\xe9"))
    # a folder's files: the warning is the folder read's (capped with its others)
    sources = "modeling_irish.abc_sources"
    with caplog.at_level("WARNING", logger=sources):
        corpus = load_abc_corpus(str(tmp_path), split_ratios=(1, 1, 1), cache_dir=str(cache))
    titles = {name: set(corpus[name]["title"]) for name in corpus}
    assert {t for found in titles.values() for t in found} == {"Seán Ó Duibhir", "Other"}
    assert sum("Seán Ó Duibhir" in found for found in titles.values()) == 1  # one split
    assert "café" in "".join(row["abc"] for name in corpus for row in corpus[name])
    (said,) = [line for line in warnings_of(caplog, sources) if "not UTF-8" in line]
    assert "mixed.abc: 1 line is not UTF-8" in said
    assert said.endswith("(line 10)")
    caplog.clear()  # a cache hit says it again
    with caplog.at_level("WARNING", logger=sources):
        load_abc_corpus(str(tmp_path), split_ratios=(1, 1, 1), cache_dir=str(cache))
    assert [line for line in warnings_of(caplog, sources) if "not UTF-8" in line] == [said]


def test_a_folder_of_mixed_encodings_names_five_files_then_counts_them(tmp_path, caplog):
    """A folder of files that mix UTF-8 and Windows-1252 lines gave one warning a file, past
    the cap its other warnings have: the first five are named, then one line counts twelve."""
    song = "X:1\nT:Seán\nN:café\nK:G\nGABc dedB|\n"
    for n in range(1, 13):
        path = tmp_path / f"book{n:02}.abc"
        path.write_bytes(song.encode().replace("café".encode(), b"caf\xe9"))
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        assert len(list(iter_raw_tunes(str(tmp_path)))) == 12
    assert warnings_of(caplog, "modeling_irish.abc_sources") == [
        f"{tmp_path / f'book{n:02}.abc'}: 1 line is not UTF-8, unlike the rest of the file, "
        "read as Windows-1252 (line 3)"
        for n in range(1, 6)
    ] + [
        "... and 7 more files of mixed encodings (not shown); 12 in all, by reason: "
        "{'lines read as Windows-1252': 12}"
    ]


def test_a_wholly_latin1_tunebook_is_read_without_a_warning(caplog):
    from tokenization.check import decode_abc

    with caplog.at_level("WARNING", logger="tokenization.check"):
        text = decode_abc("X:1\nT:Caf\xe9\nN:S\xe9an\nK:G\n".encode("latin-1"), "old.abc")
    assert text == "X:1\nT:Café\nN:Séan\nK:G\n"
    assert not [r for r in caplog.records if r.name == "tokenization.check"]


GOOD = {**ROW, "abc": "|:GAG GAB|ABA ABd|GAG GAB|d2e dBA:|"}
ODD_ROWS = {
    "number name": ({**GOOD, "setting_id": 3, "name": 1916, "abc": "|:GAB ABA|GAB d2e:|"}, None),
    "number ids": ({**GOOD, "tune_id": 7, "setting_id": 8, "abc": "|:BAG AGE|GEG d2e:|"}, None),
    "null row": (None, "dump row that is not an object (NoneType)"),
    "list row": ([1, 2], "dump row that is not an object (list)"),
    "number abc": ({**GOOD, "abc": 5}, "dump row without ABC text in 'abc'"),
    "null abc": ({**GOOD, "abc": None}, "dump row without ABC text in 'abc'"),
    "number mode": ({**GOOD, "setting_id": 4, "mode": 5, "abc": "|:dBA d2e:|"}, "key"),
}


@pytest.mark.parametrize("name", ODD_ROWS)
def test_an_odd_json_row_is_read_or_skipped_and_counted(tmp_path, name, caplog):
    from modeling_irish.abc_corpus import load_abc_corpus

    odd, reason = ODD_ROWS[name]
    path = tmp_path / "tunes.json"
    path.write_text(json.dumps([GOOD, odd]), encoding="utf-8")
    corpus = load_abc_corpus(str(path), split_ratios=(1, 0, 0))
    report = corpus.report
    assert report["read"] == 2
    if reason is None:  # numbers are written out
        assert report["skipped"] == 0 and len(corpus["train"]) == 2
        row = corpus["train"][1]
        assert f"T:{odd['name']}\n" in row["abc"] and row["setting_id"] == str(odd["setting_id"])
        return
    assert report["skipped"] == 1 and len(corpus["train"]) == 1
    ((why, count),) = report["skip_reasons"].items()
    assert reason in why and count == 1
    if "dump row" in reason:
        assert f"{path}: 1 row gives no tune (row 2: {reason})" in caplog.text
        # the other readers leave it out
        assert [raw.text[:3] for raw in iter_raw_tunes(str(path))] == ["X:1"]


def test_a_dump_row_without_abc_is_skipped_alike_first_or_not(tmp_path):
    from modeling_irish.abc_corpus import load_abc_corpus

    bad = {key: value for key, value in GOOD.items() if key != "abc"}
    good2 = {**GOOD, "setting_id": 3, "abc": "|:BAG AGE|GEG d2e:|"}
    reports = []
    for name, rows in (("firstbad", [bad, GOOD, good2]), ("secondbad", [GOOD, bad, good2])):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(rows), encoding="utf-8")
        corpus = load_abc_corpus(str(path), split_ratios=(1, 0, 0))
        assert sorted(corpus["train"]["setting_id"]) == ["2", "3"]
        reports.append({key: corpus.report[key] for key in ("read", "parsed", "skip_reasons")})
    assert reports[0] == reports[1]
    assert reports[0]["skip_reasons"] == {"dump row without ABC text in 'abc'": 1}
    path = tmp_path / "noabc.json"  # no row has the field: not a dump
    path.write_text(json.dumps([bad, bad]), encoding="utf-8")
    with pytest.raises(ValueError, match="not a thesession.org dump .no row has an 'abc' field"):
        load_abc_corpus(str(path))


def test_whole_float_ids_of_a_pandas_dump_keep_the_setting(tmp_path):
    from modeling_irish.abc_corpus import load_abc_corpus

    path = tmp_path / "tunes.json"
    path.write_text(json.dumps([{**GOOD, "tune_id": 1.0, "setting_id": 2.0}]), encoding="utf-8")
    (row,) = load_abc_corpus(str(path), split_ratios=(1, 0, 0))["train"]
    assert (row["tune_id"], row["setting_id"]) == ("1", "2")


def test_a_dump_row_without_abc_is_not_called_a_tune_without_x(tmp_path, caplog):
    from modeling_irish.abc_corpus import load_abc_corpus

    path = tmp_path / "tunes.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "setting_id": 2, "abc": ""}]), encoding="utf-8")
    with caplog.at_level("WARNING"):
        corpus = load_abc_corpus(str(path), split_ratios=(1, 0, 0))
    assert corpus.report["skipped"] == 1
    assert "1 row gives no tune" in caplog.text
    assert "without an X: line" not in caplog.text


def test_a_line_break_in_a_dump_header_field_becomes_a_space(tmp_path):
    from modeling_irish.abc_corpus import load_abc_corpus

    broken = {**GOOD, "tune_id": 2, "setting_id": 2, "name": "Two\nlines\r\n, The",
              "type": "slip\njig", "meter": "9/8\n", "mode": "E\r\ndorian",
              "abc": "|:GAG GAB ABd|ABA ABd e2d:|"}  # fmt: skip
    path = tmp_path / "tunes.json"
    path.write_text(json.dumps([GOOD, broken]), encoding="utf-8")
    corpus = load_abc_corpus(str(path), split_ratios=(1, 0, 0))
    assert corpus.report["skipped"] == 0
    row = next(row for row in corpus["train"] if row["tune_id"] == "2")
    assert (row["title"], row["rhythm"], row["meter"]) == ("Two lines , The", "slip jig", "9/8")
    assert row["key"] == "E dorian"
    assert row["abc"].splitlines()[1:6] == [
        "T:Two lines , The", "S:https://thesession.org/tunes/2#setting2", "R:slip jig", "M:9/8",
        "L:1/8",
    ]  # fmt: skip


def test_a_dump_row_without_a_meter_takes_its_types_or_none(tmp_path, caplog):
    from modeling_irish.abc_corpus import load_abc_corpus

    jig = {**GOOD, "meter": None}
    march = {**GOOD, "tune_id": 2, "setting_id": 2, "name": "March", "type": "march",
             "meter": "", "abc": "|:d2 dB|A2 AF|D2 FA|d4:|"}  # fmt: skip
    path = tmp_path / "tunes.json"
    path.write_text(json.dumps([jig, march]), encoding="utf-8")
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        corpus = load_abc_corpus(str(path), split_ratios=(1, 0, 0))
    assert corpus.report["skipped"] == 0
    meters = {row["tune_id"]: (row["meter"], row["abc"]) for row in corpus["train"]}
    assert meters["1"][0] == "6/8" and "\nM:6/8\n" in meters["1"][1]  # a jig is in 6/8
    assert meters["2"][0] == "" and "\nM:" not in meters["2"][1]  # a march is not: free meter
    assert "2 rows have no meter" in caplog.text and "{'6/8': 1, 'free': 1}" in caplog.text


def test_an_empty_source_is_an_error_not_the_current_folder(tmp_path, monkeypatch):
    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.abc_sources import source_files

    (tmp_path / "here.abc").write_text("X:1\nT:Here\nK:G\nGABc dedB|GABc d2d2|\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a folder with a tunebook that "" must not read
    for source in ("", ["", "here.abc"]):
        with pytest.raises(ValueError, match="an ABC source is the empty string"):
            load_abc_corpus(source, split_ratios=(1, 0, 0), cache_dir=tmp_path / "cache")
        with pytest.raises(ValueError, match="an ABC source is the empty string"):
            list(iter_abc_tunes(source))
    with pytest.raises(ValueError, match="an ABC source is the empty string"):
        source_files("")
    with pytest.raises(ValueError, match=r"no ABC sources given \(an empty list\)"):
        load_abc_corpus([])


def test_a_whitespace_source_is_said_to_be_only_whitespace(tmp_path) -> None:
    """``load_abc_corpus(" ")`` (an unset shell variable in quotes) said "no such file or
    folder:   (nor ...)", the name invisible; it is refused as the empty string is, named."""
    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.abc_sources import source_files

    for source, shown in ((" ", "' '"), (["\t", "here.abc"], "'\\t'")):
        with pytest.raises(ValueError) as refusal:
            load_abc_corpus(source, split_ratios=(1, 0, 0), cache_dir=tmp_path / "cache")
        assert str(refusal.value).startswith(f"an ABC source is only whitespace ({shown}); give")
    with pytest.raises(ValueError, match=r"an ABC source is only whitespace \(' \\n'\)"):
        source_files(" \n")


def test_a_set_of_sources_is_a_type_error_naming_what_a_source_is() -> None:
    # a set is not a list or tuple of sources: it was kept as one source, a path it is not
    with pytest.raises(TypeError, match="a list or tuple of them; got a set"):
        list(iter_abc_tunes({"a.abc", "b.abc"}))


def _book(path, titles: list[str], notes: list[str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    tunes = [
        f"X:{x}\nT:{t}\nM:4/4\nL:1/8\nK:G\n{n}\n" for x, (t, n) in enumerate(zip(titles, notes), 1)
    ]
    path.write_text("\n".join(tunes), encoding="utf-8")
    return path


def test_files_named_alike_in_different_sources_do_not_share_tune_ids(tmp_path, monkeypatch):
    from modeling_irish.abc_corpus import load_abc_corpus

    monkeypatch.chdir(tmp_path)
    _book(tmp_path / "a" / "book.abc", ["Alpha", "Beta"], ["GABc dedB|GABc d2d2|GABc dedB|"] * 2)
    _book(tmp_path / "b" / "book.abc", ["Gamma", "Delta"], ["ABcd efga|gfed cBAG|ABcd efga|"] * 2)
    # the notes of each book repeat (deduped), so a body links nothing across the books
    a_only = load_abc_corpus("a/book.abc", split_ratios=(1, 0, 0))
    assert a_only["train"]["tune_id"] == ["book:1"]  # one source: ids as before
    both = load_abc_corpus(["a/book.abc", "b/book.abc", "a/book.abc"], split_ratios=(1, 1, 1))
    ids = {row["title"]: (row["tune_id"], name) for name in both for row in both[name]}
    assert {title: i for title, (i, _) in ids.items()} == {"Alpha": "book:1", "Gamma": "b/book:1"}
    assert ids["Alpha"][1] != ids["Gamma"][1]  # unrelated tunes, not forced into one split
    # a thesession .json and .csv of one folder: rows without a tune id stay apart too
    row = {"name": "", "type": "reel", "meter": "4/4", "mode": "Gmajor"}
    (tmp_path / "tunes.json").write_text(
        json.dumps([{**row, "abc": "GABc dedB|GABc d2d2|"}]), encoding="utf-8"
    )
    write_csv_dump(tmp_path / "tunes.csv", [{**row, "abc": "ABcd efga|gfed cBAG|"}], "utf-8")
    raws = list(iter_raw_tunes(["tunes.json", "tunes.csv"]))
    assert [raw.prefix for raw in raws] == ["tunes", f"{tmp_path.name}/tunes"]


def test_a_folder_or_file_gets_the_same_ids_and_hash_split_however_its_path_is_written(
    tmp_path, monkeypatch
):
    from modeling_irish.abc_corpus import load_abc_corpus

    notes = [f"{a}Bcd efga|gfed cBAG|{a}Bcd e2e2|" for a in "CDEFGAB"]
    _book(tmp_path / "on" / "book.abc", [f"Tune {i}" for i in range(7)], notes)
    (tmp_path / "on" / "sub").mkdir()

    def placed(source) -> dict[str, str]:
        data = load_abc_corpus(source, split_ratios=(0.4, 0.3, 0.3), split_method="hash")
        return {tune_id: name for name in data for tune_id in data[name]["tune_id"]}

    monkeypatch.chdir(tmp_path / "on")
    here = placed(".")
    assert sorted(here) == [f"on/book:{x}" for x in range(1, 8)]  # not "/book:1"
    assert len(set(here.values())) > 1  # a split that could differ
    for folder in ("sub/..", str(tmp_path / "on"), "../on"):
        assert placed(folder) == here, folder
    book = placed("book.abc")
    assert sorted(book) == [f"book:{x}" for x in range(1, 8)]
    for file in ("./book.abc", "sub/../book.abc", str(tmp_path / "on" / "book.abc")):
        assert placed(file) == book, file


def test_a_music21_book_error_names_its_file_and_keeps_the_books_ids():
    """An error in one of O'Neill's ~40 files names that file (it named the book alone, with a
    line of some file); ``source`` and the ids stay the book's."""
    from tokenization.abc_parser import AbcParseError, parse_abc

    raws = list(iter_raw_tunes("oneills1850"))
    assert {raw.source for raw in raws} == {"oneills1850"}
    assert raws[0].prefix == "oneills1850" and raws[0].file == "oneills1850/0001-0050.abc"
    assert {raw.file for raw in raws} == {f"oneills1850/{p}" for p in _book_files("oneills1850")}
    galway = next(raw for raw in raws if "T: Galway Tom" in raw.text and "K:Bn" in raw.text)
    with pytest.raises(AbcParseError) as info:
        parse_abc(galway.text)
    located = galway.locate(info.value)
    assert located.startswith(f"{galway.file}: X:745 Galway Tom: line ") and "_" in galway.file
    assert galway.place == f"{galway.file} line {galway.line}"


def _book_files(name: str) -> set[str]:
    from modeling_irish.abc_sources import music21_collection_files

    return {path.name for path in music21_collection_files(name)}


def test_a_pipe_is_read_once_as_a_tunebook(tmp_path):
    """``irish-tune evaluate-lm --model M <(cat a.abc)`` (and index, evaluate-generation
    --train) said the pipe "is neither a file, a folder, ...", where check, identify and
    render read it."""
    import os
    import threading

    from modeling_irish.abc_sources import no_tune_reason, source_files

    pipe = tmp_path / "fifo"
    os.mkfifo(pipe)

    def write(text: str) -> None:
        with open(pipe, "w", encoding="utf-8") as handle:
            handle.write(text)

    writer = threading.Thread(
        target=write, daemon=True, args=("X:1\nT:Piped\nK:G\nGABc|\n\nX:2\nK:D\nDE|\n",)
    )
    writer.start()
    tunes = list(iter_raw_tunes(str(pipe)))
    writer.join(timeout=5)
    assert [raw.text.splitlines()[1] for raw in tunes] == ["T:Piped", "K:D"]
    assert source_files(str(pipe)) == []  # nothing to fingerprint: it is read once
    assert no_tune_reason(str(pipe)) == "nothing it gave holds a tune"


def test_a_tunebook_tune_with_music_after_its_blank_line_is_named(caplog):
    """The loader read part A of a tune cut by a blank line and dropped part B silently."""
    from modeling_irish.abc_sources import text_tunes

    book = "X:1\nT:A\nK:D\nDEFG|\n\ndefg|\n\nX:2\nT:B\nK:D\nDEFG|\n"
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        raws = list(text_tunes(book, "book.abc"))
    assert [raw.text for raw in raws] == ["X:1\nT:A\nK:D\nDEFG|\n", "X:2\nT:B\nK:D\nDEFG|\n"]
    assert [r.getMessage() for r in caplog.records] == [
        "book.abc: X:1 A: 1 line(s) after the blank line 5 not read (a blank line ends a tune), "
        "the first at line 6"
    ]


def test_a_collection_tune_with_music_after_its_blank_line_is_named_by_its_file(caplog):
    """A music21 book's tune cut by a blank line was named by the book (``oneills1850: the tune
    X:1645 ... at line 309``, a line of which file?) where check names its file: now as check."""
    from modeling_irish.abc_sources import text_tunes

    book = "X:1645\nT:Cut\nK:D\nDEFG|\n\ndefg|\n"
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        raws = list(text_tunes(book, "oneills1850", file="oneills1850/1625-1700.abc"))
    assert [raw.file for raw in raws] == ["oneills1850/1625-1700.abc"]
    assert [r.getMessage() for r in caplog.records] == [
        "oneills1850/1625-1700.abc: X:1645 Cut: 1 line(s) after the blank line 5 not read (a "
        "blank line ends a tune), the first at line 6"
    ]


def test_many_cut_tunes_and_shared_numbers_are_named_a_few_then_counted(tmp_path, caplog):
    """A folder of messy tunebooks gave one warning a tune cut by a blank line and one a file
    whose tunes all say ``X:1``: a flood. Of each kind, the first few are named (five; three of
    the cut tunes, named as check names them, `warn_tune`), then one line counts all twelve,
    over all the files at once."""
    cut = "X:{x}\nT:Cut {x}\nK:D\nDEFG|\n\ndefg|\n\n"
    for n in range(1, 7):  # two tunes a file, each cut, both X:1
        (tmp_path / f"book{n:02}.abc").write_text(cut.format(x=1) * 2, encoding="utf-8")
    for n in range(7, 13):  # two tunes numbered X:1, neither cut
        (tmp_path / f"book{n:02}.abc").write_text(
            "X:1\nT:One\nK:D\nDEFG|\n\n" * 2, encoding="utf-8"
        )
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        assert len(list(iter_raw_tunes(str(tmp_path)))) == 24
    said = warnings_of(caplog, "modeling_irish.abc_sources")
    cuts = [line for line in said if ": X:1 Cut 1: " in line]
    assert (
        cuts
        == [
            f"{tmp_path / f'book{n:02}.abc'}: X:1 Cut 1: 1 line(s) after the blank line "
            f"{line + 4} not read (a blank line ends a tune), the first at line {line + 5}"
            for n in (1, 2)
            for line in (1, 8)
        ][:3]
    )
    shared = [line for line in said if "share their X: number" in line]
    assert shared == [
        f"{tmp_path / f'book{n:02}.abc'}: 2 tunes share their X: number with another tune of "
        "the file; their ids come from their line numbers"
        for n in range(1, 6)
    ]
    assert said[-2:] == [
        "... and 9 more tune warnings 'not read (a blank line ends a tune)' (not shown); 12 in all",
        "... and 7 more files whose tunes share X: numbers (not shown); 12 in all, by reason: "
        "{'ids from line numbers': 12}",
    ]
    assert len(said) == 3 + 5 + 2


def test_windows_1252_punctuation_is_read_as_written():
    """A line that is not UTF-8 was read as Latin-1: Windows' ’ and … became the controls
    U+0092 and U+0085 (a line break to str.splitlines)."""
    from tokenization.check import decode_abc

    text = decode_abc(b"X:1\nT:Tommy\x92s Reel\x85\nN:\x81\xe9\nK:D\nDEF|\n")
    assert text == "X:1\nT:Tommy\u2019s Reel\u2026\nN:\x81\u00e9\nK:D\nDEF|\n"


TWO_TUNES = "X:1\nT:A\nK:G\nGABc|\n\nX:2\nT:B\nK:D\ndefg|\n"


@pytest.mark.parametrize(
    "second, how",
    [
        ("book.abc", "the same source"),
        ("./book.abc", "the same resolved path"),
        ("link.abc", "the same resolved path"),
        ("d", "inside a folder also given"),
    ],
)
def test_a_source_given_twice_is_read_once_with_a_warning(
    tmp_path, monkeypatch, caplog, second, how
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "book.abc").write_text(TWO_TUNES, encoding="utf-8")
    (tmp_path / "book.abc").symlink_to("d/book.abc")
    (tmp_path / "link.abc").symlink_to("d/book.abc")
    first = "d/book.abc" if second == "d" else "book.abc"
    tunes = list(iter_raw_tunes([first, second]))
    assert len(tunes) == 2
    said = warnings_of(caplog, "modeling_irish.abc_sources")
    assert len(said) == 1 and f"given twice ({how}" in said[0]


def _twice(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings of sources given twice (not those of the books' tunes)."""
    return [w for w in warnings_of(caplog, "modeling_irish.abc_sources") if "given twice" in w]


@pytest.mark.parametrize(
    "sources, said",
    [
        # music21 reads O'Neill's: read twice, its tunes were all counted as duplicates
        (
            ["music21", "oneills1850"],
            "oneills1850 given twice (inside a collection also given music21)",
        ),
        (
            ["oneills1850", "music21"],
            "oneills1850 given twice (inside a collection also given music21)",
        ),
        ([None, "music21"], "music21 given twice (the same collection as None)"),
        ([None, "ryansMammoth"], "ryansMammoth given twice (inside a collection also given None)"),
    ],
)
def test_a_music21_collection_given_twice_under_its_names_is_read_once(
    tmp_path, monkeypatch, caplog, sources, said
):
    monkeypatch.chdir(tmp_path)  # no file or folder named like a collection
    tunes = [(raw.prefix, raw.line) for raw in iter_raw_tunes(sources)]
    assert sorted(tunes) == sorted((raw.prefix, raw.line) for raw in iter_raw_tunes("music21"))
    assert _twice(caplog) == [f"{said}: read once"]


def test_two_music21_collections_or_a_folder_named_like_one_are_not_repeats(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "oneills1850").mkdir()  # a folder of the user's, read instead of the book
    (tmp_path / "oneills1850" / "book.abc").write_text(TWO_TUNES, encoding="utf-8")
    books = list(iter_raw_tunes(["oneills1850", "ryansMammoth"]))
    assert len([raw for raw in books if raw.prefix.startswith("oneills1850/book")]) == 2
    assert (
        len(list(iter_raw_tunes(["music21", "oneills1850"])))
        == len(list(iter_raw_tunes("music21"))) + 2
    )
    assert _twice(caplog) == []


def test_a_source_given_twice_names_the_other_as_typed(tmp_path, monkeypatch, caplog):
    # read by absolute paths (train.py's), the other was named /tmp/.../d/book.abc
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "book.abc").write_text(TWO_TUNES, encoding="utf-8")
    (tmp_path / "link.abc").symlink_to("d/book.abc")
    typed = ["d/book.abc", "link.abc"]
    read = [str(tmp_path / one) for one in typed]
    assert len(list(iter_raw_tunes(read, shown=dict(zip(read, typed))))) == 2
    said = warnings_of(caplog, "modeling_irish.abc_sources")
    assert said == ["link.abc given twice (the same resolved path as d/book.abc): read once"]


def test_a_tunebook_names_only_its_tunes_with_a_warning(monkeypatch, caplog):
    """Naming each of thesession's 20.7k tunes (`RawTune.name`) took seconds of every read:
    only a tune whose split has something to say (here music after its blank line) is named."""
    from modeling_irish.abc_sources import text_tunes
    from tokenization.raw_tune import RawTune

    named = []
    real = RawTune.name.fget
    monkeypatch.setattr(RawTune, "name", property(lambda raw: named.append(raw) or real(raw)))
    text = "X:1\nT:Plain\nK:G\nGAB|\n\nX:2\nT:Noted\nK:G\nGAB|\n\nABc|\n\nX:3\nT:Also\nK:D\nD|\n"
    with caplog.at_level("WARNING"):
        tunes = list(text_tunes(text, "book.abc"))
    assert len(tunes) == 3
    assert [raw.text.splitlines()[1] for raw in named] == ["T:Noted"]
    assert "book.abc: X:2 Noted" in caplog.text
