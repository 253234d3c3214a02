"""Tests for the corpus loader: tunebook, folder, dump and embedded sources, their columns and ids,
and dedup. Splits are in test_abc_corpus_splits.py, skipped tunes and sources without tunes in
test_abc_corpus_skips.py, the corpus cache in test_abc_corpus_cache.py."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from abc_corpus_helpers import (
    assert_no_leak,
    assert_report_sums,
    body,
    dump_rows,
    leaky_corpus,
    needs_parser,
    rows,
    rows_ids,
    tune,
    write,
)

import modeling_irish
from modeling_irish.abc_corpus import (
    SPLIT_NAMES,
    iter_abc_tunes,
    load_abc_corpus,
    session_tune_text,
    title_key,
)
from tokenization.abc_parser import AbcParseError, parse_abc, parse_tunebook

# ----------------------------------------------------------------------------- pure helpers


def test_the_package_alias_is_the_loader_itself_and_imported_on_first_use():
    code = (
        "import inspect, sys, modeling_irish\n"
        "print('datasets' in sys.modules)\n"
        "print(list(inspect.signature(modeling_irish.load_abc_corpus).parameters)[:3])\n"
        "from modeling_irish.abc_corpus import load_abc_corpus\n"
        "print(modeling_irish.load_abc_corpus is load_abc_corpus)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, encoding="utf-8"
    )
    assert out.stdout.splitlines() == ["False", "['source', 'split_ratios', 'seed']", "True"]
    with pytest.raises(AttributeError, match="no attribute 'load_abc_corpora'"):
        modeling_irish.load_abc_corpora  # noqa: B018


def test_title_key_normalises_articles_case_punctuation_and_untitled():
    assert title_key("Mason's Apron, The") == "the masons apron"
    assert title_key("The Mason's  Apron") == "the masons apron"
    assert title_key("Lark In The Morning, The") == title_key("the lark in the morning")
    assert title_key("Páidín Ó Raifeartaigh") == "paidin o raifeartaigh"
    assert title_key("Rolling-In The Ryegrass!") == "rolling in the ryegrass"
    assert title_key("Humours of Ennistymon, An") == "an humours of ennistymon"
    for untitled in ("x", "X", "Gan Ainm", "gan ainm.", "", "  "):
        assert title_key(untitled) == ""
    # a placeholder numbered or labelled is untitled still; a name numbered is a name
    for untitled in ("x (copy 1)", "Gan Ainm (2)", "Untitled #3", "x 4", "No Name (reel)"):
        assert title_key(untitled) == "", untitled
    assert (title_key("Reel (copy 1)"), title_key("1999")) == ("reel copy 1", "1999")


def test_iter_abc_tunes_splits_a_tunebook_and_ignores_the_file_header(tmp_path):
    book = write(tmp_path / "book.abc", [tune(1, "A"), tune(2, "B")], header="% header\nL:1/8\n\n")
    got = list(iter_abc_tunes(book))
    assert [name for name, _ in got] == [str(book)] * 2
    assert [text.splitlines()[:2] for _, text in got] == [["X: 1", "T: A"], ["X: 2", "T: B"]]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_loader_and_parser_cut_a_tunebook_into_the_same_tunes(tmp_path, newline):
    # blank lines in the header before more fields, and between K: and the music, do not end
    # a tune for the parser; the loader (which stores each tune's text) must cut the same way
    book = (
        "X:1\nT:a\nK:G\n\nGAB|\n\nsome free text\n\n"
        "X:2\nT:b\n\nM:3/4\nK:G\nGAB|\n\n"
        "X:3\nT:c\nK:G\n% a comment\ncde|\n\ndef|\n"
    ).replace("\n", newline)
    path = tmp_path / "book.abc"
    path.write_bytes(book.encode())
    texts = [text for _, text in iter_abc_tunes(path)]
    from_file = [t for t in parse_tunebook(book) if not isinstance(t, AbcParseError)]
    alone = [parse_abc(text) for text in texts]
    assert [t.title for t in alone] == [t.title for t in from_file] == ["a", "b", "c"]
    for one, other in zip(alone, from_file):
        assert [(k.kind, k.pitch) for k in one.tokens] == [(k.kind, k.pitch) for k in other.tokens]
    assert [sum(k.kind == "note" for k in t.tokens) for t in alone] == [3, 3, 3]
    assert "free text" not in texts[0] and "def|" not in texts[2]


def test_loader_reads_a_tunebook_without_x_lines_like_the_parser(tmp_path):
    path = tmp_path / "snippets.abc"
    path.write_text("T:a\nK:C\nCD\n\nnot a tune\n\nK:G\nG\n", encoding="utf-8")
    assert [text for _, text in iter_abc_tunes(path)] == ["T:a\nK:C\nCD\n", "K:G\nG\n"]
    assert len(list(parse_tunebook(path.read_text(encoding="utf-8")))) == 2


def test_session_tune_text_builds_headers_from_dump_fields():
    row = {"tune_id": "27", "setting_id": "12", "name": "Banshee, The", "type": "reel",
           "meter": "4/4", "mode": "Gmajor", "abc": "GAB|\r\ncde|"}  # fmt: skip
    text = session_tune_text(row, 5)
    assert text.splitlines() == [
        "X:5",
        "T:Banshee, The",
        "S:https://thesession.org/tunes/27#setting12",
        "R:reel",
        "M:4/4",
        "L:1/8",
        "K:G major",
        "GAB|",
        "cde|",
    ]
    assert "K:F# dorian" in session_tune_text(dict(row, mode="F#dorian"), 1)
    # a blank line between the parts of the field does not end the tune
    parts = session_tune_text(dict(row, abc="GAB|\r\n\r\n  \ncde|"), 1)
    assert parse_abc(parts).tokens == parse_abc(text).tokens
    # newer dumps have a composer column: a C: field (metadata), left out when empty
    composed = session_tune_text(dict(row, composer=" Jarlath Henderson "), 1).splitlines()
    assert composed[3:5] == ["C:Jarlath Henderson", "R:reel"]
    assert not any(line.startswith("C:") for line in text.splitlines())


# ----------------------------------------------------------------------------- loading


@needs_parser
def test_tunebook_file_columns_ids_and_keys(tmp_path):
    wk = lambda i: body(i, "=")  # noqa: E731 - corpus format: an explicit accidental on each note
    book = write(tmp_path / "book.abc", [
        tune(1, "Devil In The Kitchen, The", sid=(1746, 1746), rhythm="Strathspey",
             key="C Mixolydian", extra="Z: A Mixolydian", notes=wk(1)),
        tune(2, "x", key="C Dorian", notes=wk(2)),
        tune(3, "Kesh, The", sid=(55, 901), rhythm="jig", key="G"),
    ])  # fmt: skip
    report = {}
    data = load_abc_corpus(book, split_ratios=(1, 0, 0), report=report)
    assert [len(data[name]) for name in SPLIT_NAMES] == [3, 0, 0]
    assert data["validation"].column_names == data["train"].column_names
    by_x = {row["x"]: row for row in rows(data)}
    assert by_x[1]["tune_id"] == "1746" and by_x[1]["setting_id"] == "1746"
    assert (by_x[1]["rhythm"], by_x[1]["mode"], by_x[1]["key"]) == (
        "strathspey", "mixolydian", "A mixolydian")  # fmt: skip
    # no S: -> "<file stem>:<X>"; placeholder without Z: -> the white-key mode
    assert (by_x[2]["tune_id"], by_x[2]["setting_id"], by_x[2]["rhythm"]) == ("book:2", "", "")
    assert (by_x[2]["key"], by_x[2]["mode"]) == ("D dorian", "dorian")
    assert (by_x[3]["tune_id"], by_x[3]["setting_id"], by_x[3]["key"]) == ("55", "901", "G major")
    assert by_x[3]["title"] == "Kesh, The" and by_x[3]["meter"] == "4/4"
    assert by_x[3]["abc"].startswith("X: 3\nT: Kesh, The\n") and by_x[3]["source"] == str(book)
    assert by_x[3]["n_notes"] == 12
    assert report == {"read": 3, "parsed": 3, "skipped": 0, "skip_reasons": {},
                      "skipped_at": {}, "duplicates": 0, "voices_dropped": 0,
                      "splits": {"train": 3, "validation": 0, "test": 0}, "short_splits": {},
                      "groups": {"tunes": 3, "count": 3, "largest": 1,
                                 "largest_title": "Devil In The Kitchen, The",
                                 "largest_titled": 1}}  # fmt: skip
    assert data.report is report
    assert json.dumps(report, sort_keys=True) in data["test"].info.description


@needs_parser
def test_a_tune_type_spelled_several_ways_is_one_rhythm_value(tmp_path):
    """O'Neill's writes R:slipjig and R:slip jig: the rhythm column had both, and the tokenizer
    built from the corpus two rhythm values for one tune type."""
    from tokenization.tokenization_abc import AbcTokenizer

    written = ["slipjig", "Slip-Jig", "slip jig", "Three Two", "Double Jig", "Air"]
    book = write(tmp_path / "book.abc", [
        tune(x, f"Tune {x}", sid=(x, x), rhythm=rhythm) for x, rhythm in enumerate(written, 1)
    ])  # fmt: skip
    by_x = {row["x"]: row for row in rows(load_abc_corpus(book, split_ratios=(1, 0, 0)))}
    assert [by_x[x]["rhythm"] for x in range(1, 7)] == [
        "slip jig", "slip jig", "slip jig", "three-two", "double jig", "air"]  # fmt: skip
    assert "R: slipjig\n" in by_x[1]["abc"]  # the tune's text keeps its R: as written
    vocab = AbcTokenizer.train([by_x[x]["abc"] for x in range(1, 7)]).abc_vocab.values["rhythm"]
    assert {row["rhythm"] for row in by_x.values()} <= set(vocab)
    assert "slipjig" not in vocab and "three two" not in vocab


@needs_parser
def test_folder_is_read_recursively_with_path_based_ids(tmp_path):
    folder = tmp_path / "tunes"
    write(folder / "a.abc", [tune(1, "One"), tune(2, "Two")])
    write(folder / "sub" / "b.abc", [tune(1, "Three", notes=body(3))])
    write(folder / "notes.txt", [tune(9, "Ignored")])
    data = load_abc_corpus(folder, split_ratios=(1, 0, 0))
    assert sorted(data["train"]["tune_id"]) == ["tunes/a:1", "tunes/a:2", "tunes/sub/b:1"]
    assert sorted(data["train"]["source"]) == sorted(
        [str(folder / "a.abc")] * 2 + [str(folder / "sub" / "b.abc")]
    )


@needs_parser
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_thesession_dump(tmp_path, fmt):
    path = tmp_path / f"tunes.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(dump_rows(), ensure_ascii=False), encoding="utf-8")
    else:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(dump_rows()[0]))
            writer.writeheader()
            writer.writerows(dump_rows())
    report = {}
    data = load_abc_corpus(path, split_ratios=(1, 0, 0), report=report)
    by_setting = {row["setting_id"]: row for row in rows(data)}
    assert set(by_setting) == {"1", "7", "2", "3"}
    cooley = by_setting["7"]
    assert (cooley["tune_id"], cooley["title"], cooley["rhythm"]) == ("1", "Cooley's", "reel")
    assert (cooley["key"], cooley["mode"], cooley["meter"]) == ("E dorian", "dorian", "4/4")
    assert "K:E dorian\n|:E2 BE dEBE|E2 BE AFDF:|" in cooley["abc"]
    assert "L:1/8" in cooley["abc"] and cooley["source"] == str(path)
    assert (by_setting["2"]["key"], by_setting["2"]["meter"]) == ("G major", "6/8")
    assert by_setting["3"]["title"] == "Sí Bheag, Sí Mhór"
    assert_report_sums(report)


@needs_parser
def test_one_body_under_another_key_signature_or_unit_is_not_a_duplicate(tmp_path):
    same = body(40)
    in_f = tune(2, "In F", key="F", notes=same)  # its Bs are flats: other notes
    sixteenths = tune(3, "Sixteenths", notes=same).replace("L: 1/8", "L: 1/16")  # other lengths
    cut_time = tune(4, "Cut Time", notes=same).replace("M: 4/4", "M: 2/2")  # a label: same notes
    book = write(tmp_path / "book.abc", [tune(1, "In D", notes=same), in_f, sixteenths, cut_time])
    report = {}
    data = load_abc_corpus(book, split_ratios=(0.34, 0.33, 0.33), report=report)
    assert report["duplicates"] == 1
    assert sorted(row["title"] for row in rows(data)) == ["In D", "In F", "Sixteenths"]
    assert "_sound" not in data["train"].column_names
    assert len({name for name in SPLIT_NAMES if data[name].num_rows}) == 1  # linked by the body
    assert_report_sums(report)


@needs_parser
def test_corpus_placeholder_modes_over_one_body_are_duplicates(tmp_path):
    # the shared corpus writes every accidental, so `K: C <mode>` changes no note of the body
    same = body(40, accidentals="=")
    book = write(tmp_path / "c.abc", [tune(1, "A", key="C Major", notes=same),
                                      tune(2, "A", key="C Mixolydian", notes=same)])  # fmt: skip
    report = {}
    load_abc_corpus(book, split_ratios=(1, 0, 0), report=report)
    assert report["duplicates"] == 1


@needs_parser
def test_dedup_keeps_titled_copy_and_counts(tmp_path):
    same = body(40)
    book = write(tmp_path / "dups.abc", [
        tune(1, "x", notes=same),                       # untitled first ...
        tune(2, "Bucks Of Oranmore, The", sid=(9, 9), notes="  " + same.replace(" ", "  ")),
        tune(3, "Another Name", sid=(10, 10), notes=same),  # 3rd copy, titled: dropped
        tune(4, "Other", sid=(11, 11)),
    ])  # fmt: skip
    report = {}
    data = load_abc_corpus(book, split_ratios=(1, 0, 0), report=report)
    kept = rows(data)
    assert report["duplicates"] == 2 and len(kept) == 2
    assert {row["title"] for row in kept} == {"Bucks Of Oranmore, The", "Other"}
    assert_report_sums(report)
    report = {}
    data = load_abc_corpus(book, split_ratios=(0.34, 0.33, 0.33), dedupe=False, report=report)
    assert report["duplicates"] == 0 and report["parsed"] == 4
    # the three copies share a body, so they share a split
    where = {row["x"]: name for name in SPLIT_NAMES for row in data[name]}
    assert where[1] == where[2] == where[3]


@needs_parser
def test_dedupe_parses_each_tune_once(tmp_path, monkeypatch):
    """A tune whose body repeats another's is compared by the notes' digest read where it was
    parsed (a worker's, here this process's with num_proc=1), not parsed again to dedupe."""
    import tokenization.abc_parser as abc_parser

    same = body(40)
    book = write(tmp_path / "dups.abc", [
        tune(1, "In D", notes=same),
        tune(2, "In D Again", notes=same),                   # the same notes: a duplicate
        tune(3, "In F", key="F", notes=same),                # the same text, other notes: kept
        tune(4, "Other"),
    ])  # fmt: skip
    parsed = []
    real = abc_parser.parse_abc
    monkeypatch.setattr(
        abc_parser, "parse_abc", lambda text, **kw: parsed.append(text) or real(text, **kw)
    )
    report = {}
    data = load_abc_corpus(book, split_ratios=(1, 0, 0), num_proc=1, report=report)
    assert len(parsed) == 4 and len(set(parsed)) == 4  # each tune once
    assert report["duplicates"] == 1
    assert sorted(row["title"] for row in rows(data)) == ["In D", "In F", "Other"]


@needs_parser
def test_forked_parsing_gives_the_same_corpus(tmp_path):
    book = leaky_corpus(tmp_path)
    one = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), num_proc=1)
    two = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), num_proc=2)
    for name in SPLIT_NAMES:
        assert one[name].to_list() == two[name].to_list()


def test_unknown_source_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(iter_abc_tunes(tmp_path / "missing.abc"))


def test_embedded_collections_are_found():
    names = {name for name, _ in iter_abc_tunes("music21")}
    assert names == {"oneills1850", "ryansMammoth"}
    assert sum(1 for _ in iter_abc_tunes("ryansMammoth")) > 1000


@needs_parser
def test_embedded_default_loads_without_arguments():  # about 2 s: O'Neill's + Ryan's
    report = {}
    data = load_abc_corpus(report=report)
    assert sum(len(data[name]) for name in SPLIT_NAMES) > 1000
    assert {"oneills1850", "ryansMammoth"} <= set(data["train"]["source"])
    assert "oneills1850:1" in set(rows_ids(data))
    assert_report_sums(report)
    assert_no_leak(data)


@needs_parser
def test_file_header_fields_reach_every_tune(tmp_path):
    plain = [line for line in tune(1, "Polka").splitlines() if not line.startswith(("M:", "L:"))]
    book = write(tmp_path / "polkas.abc", ["\n".join(plain) + "\n"], header="M:2/4\nL:1/16\n\n")
    (row,) = rows(load_abc_corpus(book, split_ratios=(1, 0, 0)))
    assert row["meter"] == "2/4"
    assert row["abc"].splitlines()[:3] == ["X: 1", "M:2/4", "L:1/16"]  # the text reads alone


@needs_parser
def test_repeated_x_numbers_are_different_tunes(tmp_path, caplog):
    book = write(tmp_path / "allx1.abc", [tune(1, f"Tune {n}", notes=body(n)) for n in range(30)])
    with caplog.at_level("WARNING"):
        data = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2))
    ids = {row["tune_id"] for row in rows(data)}
    assert len(ids) == 30 and all(":line" in i for i in ids)
    assert all(len(data[name]) > 0 for name in SPLIT_NAMES)
    assert "30 tunes share their X: number" in caplog.text
    assert_no_leak(data)


@needs_parser
def test_an_x_number_beyond_int64_is_read_as_none_and_named(tmp_path, caplog):
    # pyarrow crashed the whole load on it: "Python int too large to convert to C long"
    huge, edge = 10**20, 2**63 - 1
    tunes = [tune(1, "Good"), tune(huge, "Huge", notes=body(2)), tune(edge, "Edge", notes=body(3))]
    book = write(tmp_path / "bigx.abc", tunes)
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        data = load_abc_corpus(book, split_ratios=(1, 0, 0))
    got = {row["title"]: (row["x"], row["tune_id"]) for row in rows(data)}
    assert got == {
        "Good": (1, "bigx:1"),
        "Huge": (0, f"bigx:{huge}"),  # x 0 as for X:abc; the id keeps the number as written
        "Edge": (edge, f"bigx:{edge}"),  # the largest int64 is still a number
    }
    (warning,) = [r.getMessage() for r in caplog.records if "beyond" in r.getMessage()]
    assert "1 tune with an X: number beyond" in warning and "line 8" in warning


def test_x_numbers_written_apart_are_the_same_number(tmp_path, caplog):
    """``X:1`` and ``X: 1`` name one number (the id reads the parsed value): two unrelated tunes
    so numbered are told apart by line, with the warning, not forced into one split under one
    id. Tunes without an ``X:`` line share no number (they are named by line anyway)."""
    spaced = tune(1, "Beta", notes=body(2)).replace("X: 1", "X:1 % the first again")
    unnumbered = [tune(0, f"Gamma {n}", notes=body(3 + n)).replace("X: 0\n", "") for n in (0, 1)]
    book = write(tmp_path / "xsp2.abc", [tune(1, "Alpha"), spaced, *unnumbered])
    with caplog.at_level("WARNING"):
        data = load_abc_corpus(book, split_ratios=(0.5, 0.5, 0))
    ids = sorted(row["tune_id"] for row in rows(data))
    assert ids == ["xsp2:line1", "xsp2:line15", "xsp2:line21", "xsp2:line8"]
    assert "xsp2.abc: 2 tunes share their X: number" in caplog.text
