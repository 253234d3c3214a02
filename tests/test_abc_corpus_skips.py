"""The tunes the corpus loader skips, counted by reason and located, and sources without tunes,
an error or a warning that says why."""

from __future__ import annotations

import csv
import gzip
import json

import pytest
from abc_corpus_helpers import assert_report_sums, body, dump_rows, needs_parser, rows, tune, write
from helpers import warnings_of

from modeling_irish.abc_corpus import load_abc_corpus


@needs_parser
def test_skipped_tunes_are_counted_with_reasons(tmp_path):
    book = write(tmp_path / "bad.abc", [
        tune(1, "Good"),
        tune(2, "Short", notes="ABc|"),
        tune(3, "Stray commas", notes="ABcd ,,, efga|"),
        tune(4, "Stray brace", notes="ABcd } efga|"),
        tune(5, "Also good"),
    ])  # fmt: skip
    report = {}
    data = load_abc_corpus(book, split_ratios=(1, 0, 0), report=report)
    assert [row["x"] for row in rows(data)] == [1, 5]
    assert (report["read"], report["parsed"], report["skipped"]) == (5, 2, 3)
    # numbers and quoted text are masked, but not the one character a tune trips on (the
    # summary read "unexpected character '…'"); the reasons of one kind stand together, first
    assert list(report["skip_reasons"].items()) == [
        ("AbcParseError: unexpected character ','", 1),
        ("AbcParseError: unexpected character '}'", 1),
        ("fewer than 8 notes", 1),
    ]
    assert list(report["skipped_at"]) == list(report["skip_reasons"])
    assert_report_sums(report)
    report = {}
    load_abc_corpus(book, split_ratios=(1, 0, 0), min_notes=1, report=report)
    assert report["parsed"] == 3 and report["skip_reasons"] == {
        "AbcParseError: unexpected character ','": 1,
        "AbcParseError: unexpected character '}'": 1,
    }


@needs_parser
def test_tunes_without_notes_are_skipped_by_their_reason(tmp_path):
    """A body of chord symbols between bar lines parsed as a tune of no notes and was
    counted "fewer than 8 notes" (with ``min_notes=0`` it was kept): now a parse error, its
    own reason; rests alone parse and are still too few notes."""
    book = write(tmp_path / "empty.abc", [
        tune(1, "Good"),
        tune(2, "Chords only", notes='"G" "D" | "Em" "C" |]'),
        tune(3, "Rests only", notes="z8|z8|]"),
    ])  # fmt: skip
    for min_notes, kept in ((8, [1]), (0, [1, 3])):
        report = {}
        data = load_abc_corpus(book, split_ratios=(1, 0, 0), min_notes=min_notes, report=report)
        assert [row["x"] for row in rows(data)] == kept
        reasons = {"AbcParseError: tune has no notes: bar lines but no note or rest": 1}
        if min_notes:
            reasons["fewer than 8 notes"] = 1
        assert report["skip_reasons"] == reasons
        assert_report_sums(report)


@needs_parser
def test_require_bars_fit_skips_and_counts_tunes_with_a_wrong_bar(tmp_path):
    fit = [body(x).replace(" ABcdefgf", "ABcd|efgfedcB") for x in range(1, 9)]  # 2 bars of 8
    good = [tune(x, f"Tune {x}", notes=fit[x - 1]) for x in range(1, 9)]
    wrong = tune(9, "Long Bar", notes="|:DFAd fdAF|DFAd fdAFG|DFAd fdAF|DEFG A4:|")
    book = write(tmp_path / "book.abc", good + [wrong])
    report = {}
    strict = load_abc_corpus(book, split_ratios=(0.5, 0.25, 0.25), report=report,
                             require_bars_fit=True)  # fmt: skip
    assert_report_sums(report)
    assert report["skipped"] == 1 and report["parsed"] == 8
    (reason,) = report["skip_reasons"]
    assert "does not fit the meter" in reason
    assert "Long Bar" not in {row["title"] for row in rows(strict)}
    plain = load_abc_corpus(book, split_ratios=(0.5, 0.25, 0.25))
    assert "Long Bar" in {row["title"] for row in rows(plain)}
    assert plain.report["skipped"] == 0


@pytest.mark.parametrize("cached", [False, True])
def test_a_glob_pattern_source_is_refused_saying_how_to_give_its_files(tmp_path, cached):
    # a user of datasets.load_dataset writes "tunes/*.abc"; it is not expanded, and the error
    # says what to give instead (with a cache folder, the key's reading of the sources says it)
    write(tmp_path / "book.abc", [tune(1, "A")])
    cache = {"cache_dir": tmp_path / "cache"} if cached else {}
    with pytest.raises(FileNotFoundError, match="glob pattern is not expanded: give its folder"):
        load_abc_corpus(str(tmp_path / "*.abc"), **cache)
    with pytest.raises(FileNotFoundError) as missing:  # a plain missing path: no glob hint
        load_abc_corpus(str(tmp_path / "nope.abc"), **cache)
    assert "not expanded" not in str(missing.value)


def test_sources_without_tunes_are_an_error_or_a_warning(tmp_path, caplog):
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = write(tmp_path / "notes.abc", ["just words, no X: line"])
    warnings = caplog.at_level("WARNING", logger="modeling_irish.abc_sources")
    with warnings, pytest.raises(ValueError, match="no ABC tunes found"):
        load_abc_corpus(empty)
    assert "no ABC tunes found" not in caplog.text  # said once, by the error
    with pytest.raises(ValueError, match="not a thesession.org dump"):
        load_abc_corpus(write(tmp_path / "x.json", ['{"x": 1}']))
    book = write(tmp_path / "book.abc", [tune(x, f"Tune {x}") for x in range(1, 5)])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        corpus = load_abc_corpus([notes, book])
    assert corpus.report["read"] == 4
    assert f"no ABC tunes found in {notes} (a tune starts with an X: line)" in caplog.text
    # a file of a folder, beside others that hold tunes, is named too, with why
    folder = tmp_path / "folder"
    folder.mkdir()
    write(folder / "book.abc", [tune(x, f"Tune {x}") for x in range(1, 5)])
    (folder / "tune.mid").write_bytes(b"MThd\x00\x00")  # not *.abc: not read, not named
    (folder / "blank.abc").write_text("\n", encoding="utf-8")
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        assert load_abc_corpus(folder).report["read"] == 4
    assert f"no ABC tunes found in {folder / 'blank.abc'} (empty file)" in caplog.text
    assert "tune.mid" not in caplog.text


def _many_without_tunes(folder) -> list:
    """12 files without tunes, in this order: 10 empty, 2 of prose."""
    paths = [write(folder / f"empty{n:02}.abc", []) for n in range(1, 11)]
    return paths + [write(folder / f"words{n}.abc", ["no tune here"]) for n in (11, 12)]


def test_many_files_without_tunes_are_named_five_then_counted(tmp_path, caplog):
    """A folder of many files, many of them empty, gave one warning a file: a flood. The first
    five are named, then one line counts all twelve by reason."""
    folder = tmp_path / "folder"
    write(folder / "book.abc", [tune(x, f"Tune {x}") for x in range(1, 5)])
    empty = _many_without_tunes(folder)
    summary = (
        "... and 7 more files without tunes (not shown); 12 in all, by reason: "
        "{'empty file': 10, 'a tune starts with an X: line': 2}"
    )
    for sources in (folder, [folder / "book.abc", *empty]):  # a folder, or the files listed
        caplog.clear()
        with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
            assert load_abc_corpus(sources).report["read"] == 4
        said = warnings_of(caplog, "modeling_irish.abc_sources")
        assert said == [f"no ABC tunes found in {path} (empty file)" for path in empty[:5]] + [
            summary
        ]


NO_TUNE = {  # a source without tunes -> why the loader's error gives, as irish-tune check does
    "empty.abc": (b"", "empty file"),
    "tune.abc": (b"MThd\x00\x00\x00\x06", "not a text file (NUL bytes)"),
    "words.abc": (b"just words, no X: line\n", "a tune starts with an X: line"),
    "tunes.json": (b"[]", "no dump row gives a tune"),
    "tunes.csv": (b"tune_id,name,type,meter,mode,abc\n", "no dump row gives a tune"),
    "folder": (None, "no *.abc files"),
    # compressed, and JSON lines: read as the dump they hold (they said "not a text file (NUL
    # bytes)" and "empty file")
    "tunes.csv.gz": (gzip.compress(b"tune_id,abc\n"), "no dump row gives a tune"),
    "tunes.jsonl": (b"\n", "no dump row gives a tune"),
}


@pytest.mark.parametrize("name", NO_TUNE)
def test_a_source_without_tunes_is_an_error_that_says_why(tmp_path, name):
    content, why = NO_TUNE[name]
    path = tmp_path / "e" / name
    if content is None:  # a folder with only a .txt file
        write(path / "notes.txt", [tune(1, "Not read")])
    else:
        path.parent.mkdir()
        path.write_bytes(content)
    with pytest.raises(ValueError) as err:
        load_abc_corpus(str(path))
    assert str(err.value) == f"no ABC tunes found in {path} ({why})"


def test_several_sources_without_tunes_are_each_named_with_why(tmp_path):
    empty = write(tmp_path / "empty.abc", [])
    words = write(tmp_path / "words.abc", ["no tune here"])
    with pytest.raises(ValueError) as err:
        load_abc_corpus([empty, words])
    assert str(err.value) == (
        f"no ABC tunes found in {empty} (empty file), {words} (a tune starts with an X: line)"
    )


@needs_parser
def test_dump_rows_with_an_unreadable_mode_are_skipped_and_counted(tmp_path):
    bad = [
        dict(dump_rows()[0], setting_id=90 + n, mode=mode) for n, mode in enumerate(["Hmajor", ""])
    ]
    path = tmp_path / "tunes.json"
    path.write_text(json.dumps(dump_rows() + bad), encoding="utf-8")
    report = {}
    data = load_abc_corpus(path, split_ratios=(1, 0, 0), report=report)
    assert {row["setting_id"] for row in rows(data)} == {"1", "7", "2", "3"}
    assert report["skipped"] == 2
    assert all("key" in reason for reason in report["skip_reasons"]), report["skip_reasons"]


@needs_parser
def test_skipped_tunes_are_located_in_a_debug_line_and_the_report(tmp_path, caplog):
    dump = tmp_path / "nomode.csv"
    with dump.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dump_rows()[0]))
        writer.writeheader()
        writer.writerows([dump_rows()[2], dict(dump_rows()[2], setting_id="9", name="B", mode="")])
    short = [tune(x, f"Short {x}", notes="GA|") for x in range(2, 9)]  # 7 tunes of 2 notes
    book = write(tmp_path / "book.abc", [tune(1, "Bad", key="Gxx"), *short])
    with caplog.at_level("DEBUG", logger="modeling_irish.abc_corpus"):
        corpus = load_abc_corpus([dump, book], split_ratios=(1, 0, 0))
    # named as evaluate-lm names them; a row's line counts in the tune text built from it
    bad_row = f"{dump} row 2: X:2 B: line 7 of its tune text, column 3: cannot read key 'missing'"
    hint = "(ABC keys are A-G with # or b, as Eb or F#)"  # `K:Gxx`: no mode on the tonic
    bad_key = f"{book} line 1: X:1 Bad: line 5, column 4: unknown key 'Gxx' {hint}"
    debug = [r.getMessage() for r in caplog.records if r.levelname == "DEBUG"]
    # the short value read stays in the reason (it read '…', hiding which key)
    assert f"ABC corpus: skipped {bad_row} (AbcParseError: cannot read key 'missing')" in debug
    assert f"ABC corpus: skipped {bad_key} (AbcParseError: unknown key 'Gxx' {hint})" in debug
    assert f"ABC corpus: skipped {book} line 50 (fewer than 8 notes)" in debug  # the 7th
    assert sum("ABC corpus: skipped" in line for line in debug) == 9
    report = corpus.report
    assert_report_sums(report)
    assert report["skipped_at"] == {
        "fewer than 8 notes": [f"{book} line {line}" for line in (8, 15, 22, 29, 36)],  # 5 of 7
        "AbcParseError: cannot read key 'missing'": [bad_row],
        f"AbcParseError: unknown key 'Gxx' {hint}": [bad_key],
    }
    assert list(report["skipped_at"]) == list(report["skip_reasons"])  # the same order


@needs_parser
def test_skipped_tunes_are_a_warning_and_nothing_readable_is_an_error(tmp_path, caplog):
    bad = "X:9\nT:Broken\nM:4/4\nL:1/8\nK:D\n[[DF]A]B c|\n"
    book = write(tmp_path / "one.abc", [tune(1, "One"), bad])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        load_abc_corpus(book, split_ratios=(1, 0, 0))
    assert "skipped 1" in caplog.text
    only_bad = write(tmp_path / "bad.abc", [bad])
    with pytest.raises(ValueError, match=r"no readable ABC tunes .*1 read, 1 skipped"):
        load_abc_corpus(only_bad)


def test_a_tune_without_x_between_numbered_tunes_is_read_and_named(tmp_path, caplog):
    from tokenization.check import check_text

    bare = "T: Second\nM: 4/4\nL: 1/8\nK: G\n" + body(2) + "\n"  # K: and music, no X:
    prose = "Notes on the tunes\nK: is the key field\n"  # free text: no music after a K: field
    lone_key = "T: Header only\nK: G\n"  # no music: free text (ABC 2.1), not a tune
    text = "\n".join([tune(1, "First"), bare, prose, lone_key, tune(3, "Third")])
    book = write(tmp_path / "mixed.abc", [text])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        corpus = load_abc_corpus(book, split_ratios=(1, 0, 0))
    assert corpus.report["read"] == corpus.report["parsed"] == 3
    assert [row["title"] for row in rows(corpus)] == ["First", "Second", "Third"]
    second = next(row for row in rows(corpus) if row["title"] == "Second")
    assert second["tune_id"] == "mixed:line8" and second["x"] == 0
    assert f"read 1 tune without an X: line (a K: field and music follow): {book} line 8" in (
        caplog.text
    )
    assert check_text(text, "mixed.abc").tunes == 3  # irish-tune check counts it too
    # as in a file without X: lines, where such blocks always were the tunes
    assert check_text("\n".join([bare, prose, lone_key]), "bare.abc").tunes == 1
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        load_abc_corpus(write(tmp_path / "numbered.abc", [tune(1, "A"), tune(2, "B")]))
    assert "without an X: line" not in caplog.text


def test_a_skip_reason_is_not_cut_at_a_line_separator():
    """The reason was the message's first line by `str.splitlines`, which cut at a U+2028 (or
    form feed) inside quoted text: the quote was left open, not masked, and the rest lost."""
    from tokenization.capped_warnings import skip_reason

    reason = skip_reason(ValueError("no such meter 'a\u2028b' at bar 3\nmore"))
    assert reason == "ValueError: no such meter '…' at bar N"


def test_a_skip_reason_keeps_a_short_value_and_groups_by_kind():
    """Only a quoted single character was kept: 'Bb' and 'Hmaj' both read '…', hiding which
    key a tunebook trips on. A short value now stays (reasons apart by value, together by
    kind), and line and column numbers or a long quoted title are still masked."""
    from collections import Counter

    from tokenization.capped_warnings import by_kind, skip_reason

    def reason(message: str) -> str:
        return skip_reason(ValueError(message))

    assert reason("cannot read key 'Bb' at line 3, column 4") == (
        "ValueError: cannot read key 'Bb' at line N, column N"
    )
    assert reason("cannot read key 'Hmaj' at line 30, column 2") == (
        "ValueError: cannot read key 'Hmaj' at line N, column N"
    )
    assert reason("no title 'The Kesh Jig' here") == reason('no title "Tobin\'s Favourite" here')
    assert reason("bad tonic 'Xmixolydian'") == "ValueError: bad tonic '…'"  # 11 characters
    reasons = [
        "meter too short",
        *(reason(f"cannot read key 'Bb' at line {n}, column {n % 7}") for n in range(3)),
        "meter too short",
        reason("unexpected character ',' at line 9"),
        *(reason(f"cannot read key 'Hmaj' at line {n}, column 1") for n in range(2)),
    ]
    assert by_kind(Counter(reasons)) == {
        "ValueError: cannot read key 'Bb' at line N, column N": 3,
        "ValueError: cannot read key 'Hmaj' at line N, column N": 2,
        "meter too short": 2,
        "ValueError: unexpected character ',' at line N": 1,
    }


@needs_parser
def test_the_report_counts_tunes_read_with_their_first_voice_only(tmp_path, caplog):
    """A tune of two voices (or an overlay) kept its first and said so in `tune.warnings`
    only: the loader's report and its logged summary said nothing."""
    two = "X:2\nT:Two\nL:1/8\nK:D\nV:1\nDEFG ABcd|defg abag|\nV:2\nFGAB cdef|\n"
    overlay = "X:3\nT:Laid Over\nL:1/8\nK:D\nDEFG & FGAB|ABcd defg|abag fedc|\n"
    book = tmp_path / "voices.abc"
    book.write_text("\n".join([tune(1, "One"), two, overlay]), encoding="utf-8")
    report = {}
    with caplog.at_level("INFO", logger="modeling_irish.abc_corpus"):
        load_abc_corpus(book, split_ratios=(1, 0, 0), report=report)
    assert (report["parsed"], report["voices_dropped"]) == (3, 2)
    assert "2 read with their first voice only (voices dropped)" in caplog.text


@needs_parser
def test_the_summary_says_where_to_find_the_skipped_tunes(tmp_path, caplog):
    book = write(tmp_path / "bad.abc", [tune(1, "Good"), tune(2, "Short", notes="ABc|")])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        load_abc_corpus(book, split_ratios=(1, 0, 0))
    assert "skipped 1 " in caplog.text
    assert "where each skipped tune is: report['skipped_at'], or irish-tune check" in caplog.text
