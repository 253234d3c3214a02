"""Tests for the corpus loader: sources, columns, dedup, skip counts and leak-free splits."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import require_corpus

from modeling_irish.abc_corpus import (
    SPLIT_NAMES,
    iter_abc_tunes,
    load_abc_corpus,
    session_tune_text,
    split_groups,
    title_key,
)
from tokenization.abc_parser import AbcParseError, parse_abc, parse_tunebook


def _has_parser() -> bool:
    try:
        import tokenization.abc_parser  # noqa: F401
    except ImportError:
        return False
    return True


needs_parser = pytest.mark.skipif(not _has_parser(), reason="tokenization.abc_parser is missing")


# ----------------------------------------------------------------------------- synthetic ABC


def body(i: int, accidentals: str = "") -> str:
    """A 12-note body unique to ``i`` (its base-7 digits spell the first four notes)."""
    digits = [(i // 7**k) % 7 for k in range(4)]
    head = "".join(accidentals + "CDEFGAB"[d] for d in digits)
    tail = "".join(accidentals + n for n in "ABcdefgf")
    return f"|:{head} {tail}:|"


def tune(x: int, title: str, *, sid: tuple[int, int] | None = None, rhythm: str = "reel",
         key: str = "D", notes: str | None = None, extra: str = "") -> str:  # fmt: skip
    lines = [f"X: {x}", f"T: {title}"]
    if sid:
        lines.append(f"S: https://thesession.org/tunes/{sid[0]}#setting{sid[1]}")
        lines.append(f"R: {rhythm}")
    lines += [extra] if extra else []
    lines += ["M: 4/4", "L: 1/8", f"K: {key}", notes if notes is not None else body(x)]
    return "\n".join(lines) + "\n"


def write(path: Path, tunes: list[str], header: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n".join(tunes))
    return path


def rows(dataset) -> list[dict]:
    return [row for name in SPLIT_NAMES for row in dataset[name]]


def split_sets(dataset, column: str, fn=lambda v: v) -> dict[str, set]:
    return {name: {fn(v) for v in dataset[name][column]} - {""} for name in SPLIT_NAMES}


def assert_no_leak(dataset) -> None:
    """No tune id, normalised title or body in two splits."""
    from modeling_irish.abc_corpus import body_key

    for column, fn in (("tune_id", str), ("title", title_key), ("abc", body_key)):
        sets = split_sets(dataset, column, fn)
        for i, a in enumerate(SPLIT_NAMES):
            for b in SPLIT_NAMES[i + 1 :]:
                assert not sets[a] & sets[b], (column, a, b, sorted(sets[a] & sets[b])[:5])


def assert_report_sums(report: dict) -> None:
    assert report["read"] == report["parsed"] + report["skipped"]
    assert report["skipped"] == sum(report["skip_reasons"].values())
    assert report["parsed"] == report["duplicates"] + sum(report["splits"].values())


# ----------------------------------------------------------------------------- pure helpers


def test_title_key_normalises_articles_case_punctuation_and_untitled():
    assert title_key("Mason's Apron, The") == "the masons apron"
    assert title_key("The Mason's  Apron") == "the masons apron"
    assert title_key("Lark In The Morning, The") == title_key("the lark in the morning")
    assert title_key("Páidín Ó Raifeartaigh") == "paidin o raifeartaigh"
    assert title_key("Rolling-In The Ryegrass!") == "rolling in the ryegrass"
    assert title_key("Humours of Ennistymon, An") == "an humours of ennistymon"
    for untitled in ("x", "X", "Gan Ainm", "gan ainm.", "", "  "):
        assert title_key(untitled) == ""


def test_split_groups_keeps_components_whole_and_follows_ratios():
    # 1000 singletons + a 30-record chain linked pairwise (a-b, b-c, ...).
    keys = [[f"s{i}"] for i in range(1000)] + [[f"c{i}", f"c{i + 1}"] for i in range(30)]
    split = split_groups(keys, (0.8, 0.1, 0.1), seed=3)
    assert len({split[i] for i in range(1000, 1030)}) == 1
    counts = [split.count(s) for s in range(3)]
    assert sum(counts) == 1030
    assert abs(counts[1] - 103) <= 15 and abs(counts[2] - 103) <= 15, counts


def test_split_groups_deterministic_and_seeded():
    keys = [[f"k{i}"] for i in range(200)]
    assert split_groups(keys, seed=7) == split_groups(keys, seed=7)
    assert split_groups([iter(k) for k in keys], seed=7) == split_groups(keys, seed=7)
    assert split_groups(keys, seed=7) != split_groups(keys, seed=8)
    # independent of record order: the assignment follows the keys, not the positions
    reordered = split_groups(keys[::-1], seed=7)[::-1]
    assert reordered == split_groups(keys, seed=7)


def test_split_groups_zero_ratio_and_bad_ratios():
    keys = [[i] for i in range(50)]
    assert set(split_groups(keys, (1, 0, 0))) == {0}
    assert split_groups(keys, (2, 1, 1)) == split_groups(keys, (0.5, 0.25, 0.25))
    with pytest.raises(ValueError):
        split_groups(keys, (0.9, 0.1))
    with pytest.raises(ValueError):
        split_groups(keys, (1.0, -0.5, 0.5))
    for bad in ((0.9, float("nan"), 0.05), (float("inf"), 0.05, 0.05), (0, 0, 0)):
        with pytest.raises(ValueError, match=r"split_ratios must be 3 .*, got \("):
            split_groups(keys, bad)


def test_the_loader_refuses_non_finite_ratios_before_reading_anything(tmp_path, monkeypatch):
    import modeling_irish.abc_corpus as abc_corpus

    def unread(*args, **kwargs):
        raise AssertionError("the sources were read before the ratios were checked")

    monkeypatch.setattr(abc_corpus, "iter_raw_tunes", unread)
    book = write(tmp_path / "book.abc", [tune(1, "One")])
    for bad in ((0.9, float("nan"), 0.05), (0.9, 0.05, float("inf"))):
        with pytest.raises(ValueError, match="split_ratios must be 3 finite, non-negative"):
            load_abc_corpus(book, split_ratios=bad, split_method="hash")


def test_split_groups_by_hash_moves_no_group_when_others_come_and_go():
    groups = [[f"s{i}"] for i in range(1500)] + [[f"c{i}", f"c{i + 1}"] for i in range(20)]
    before = split_groups(groups, (0.8, 0.1, 0.1), seed=5, method="hash")
    assert len({before[i] for i in range(1500, 1520)}) == 1  # the chain stays whole
    # 300 groups removed, 400 added (before, between and after the others)
    kept = list(range(300, 1520))
    grown = [[f"new{i}"] for i in range(200)] + [groups[i] for i in kept]
    grown += [[f"new{i}"] for i in range(200, 400)]
    after = split_groups(grown, (0.8, 0.1, 0.1), seed=5, method="hash")
    assert after[200 : 200 + len(kept)] == [before[i] for i in kept]
    # the default method cuts a shuffled order, so the same change moves many groups
    shuffled = split_groups(groups, (0.8, 0.1, 0.1), seed=5)
    moved = split_groups(grown, (0.8, 0.1, 0.1), seed=5)[200 : 200 + len(kept)]
    assert sum(a != shuffled[i] for a, i in zip(moved, kept)) > 100


def test_split_groups_by_hash_anchored_on_ids_ignores_new_members():
    # 400 tunes of two settings each (keys: tune id and body); each gains a third setting
    old = [[f"id{t}", f"body{t}.{s}"] for t in range(400) for s in range(2)]
    new = old + [[f"id{t}", f"body{t}.new"] for t in range(400)]
    ids = [[record[0]] for record in new]
    by_id = split_groups(new, (0.6, 0.2, 0.2), method="hash", anchors=ids)
    assert by_id[:800] == split_groups(old, (0.6, 0.2, 0.2), method="hash", anchors=ids[:800])
    # anchored on every key, about a third of the groups (1 in k + 1) draw a new place
    by_all = split_groups(new, (0.6, 0.2, 0.2), method="hash")[:800]
    assert by_all != split_groups(old, (0.6, 0.2, 0.2), method="hash")
    with pytest.raises(ValueError, match="anchor lists"):
        split_groups(new, method="hash", anchors=ids[:5])


def test_split_groups_by_hash_follows_the_ratios_for_small_and_large_groups():
    for size in (1, 6):  # a placement by the smallest of a group's key hashes would favour train
        groups = [[f"g{i}.{k}" for k in range(size)] for i in range(8000)]
        split = split_groups(groups, (0.9, 0.05, 0.05), seed=0, method="hash")
        shares = [split.count(s) / len(split) for s in range(3)]
        # binomial standard error of a 5% share over 8,000 groups: 0.0024
        assert abs(shares[1] - 0.05) < 0.01 and abs(shares[2] - 0.05) < 0.01, (size, shares)
    keys = [[f"k{i}"] for i in range(300)]
    hashed = split_groups(keys, seed=7, method="hash")
    assert hashed == split_groups(keys[::-1], seed=7, method="hash")[::-1]
    assert hashed != split_groups(keys, seed=8, method="hash")
    assert set(split_groups(keys, (1, 0, 3), method="hash")) == {0, 2}
    with pytest.raises(ValueError, match="split method"):
        split_groups(keys, method="random")


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
    path.write_text("T:a\nK:C\nCD\n\nnot a tune\n\nK:G\nG\n")
    assert [text for _, text in iter_abc_tunes(path)] == ["T:a\nK:C\nCD\n", "K:G\nG\n"]
    assert len(list(parse_tunebook(path.read_text()))) == 2


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
                      "skipped_at": {}, "duplicates": 0,
                      "splits": {"train": 3, "validation": 0, "test": 0}}  # fmt: skip
    assert data.report is report
    assert json.dumps(report, sort_keys=True) in data["test"].info.description


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


def dump_rows() -> list[dict[str, str]]:
    def row(tune_id, setting_id, name, kind, meter, mode, abc):
        return {"tune_id": tune_id, "setting_id": setting_id, "name": name, "type": kind,
                "meter": meter, "mode": mode, "abc": abc, "date": "2020-01-01 10:00:00",
                "username": "someone"}  # fmt: skip

    return [
        row(
            "1", "1", "Cooley's", "reel", "4/4", "Edorian", "|:EBBA B2 EB|B2 AB dBAG:|\r\nFDAD ..."
        ),
        row("1", "7", "Cooley's", "reel", "4/4", "Edorian", "|:E2 BE dEBE|E2 BE AFDF:|"),
        row("2", "2", "Kesh, The", "jig", "6/8", "Gmajor", "|:GAG GAB|ABA ABd:|"),
        row("3", "3", "Sí Bheag, Sí Mhór", "waltz", "3/4", "Dmajor", "de|f2 e2 d2|B4 A2|d2 e2 f2|"),
    ]


@needs_parser
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_thesession_dump(tmp_path, fmt):
    path = tmp_path / f"tunes.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(dump_rows(), ensure_ascii=False))
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
def test_skipped_tunes_are_counted_with_reasons(tmp_path):
    book = write(tmp_path / "bad.abc", [
        tune(1, "Good"),
        tune(2, "Short", notes="ABc|"),
        tune(3, "Stray at signs", notes="ABcd @@@ efga|"),
        tune(4, "Stray brace", notes="ABcd } efga|"),
        tune(5, "Also good"),
    ])  # fmt: skip
    report = {}
    data = load_abc_corpus(book, split_ratios=(1, 0, 0), report=report)
    assert [row["x"] for row in rows(data)] == [1, 5]
    assert (report["read"], report["parsed"], report["skipped"]) == (5, 2, 3)
    # the two bad characters are one reason: quoted text and numbers are masked
    assert report["skip_reasons"] == {
        "AbcParseError: unexpected character '…'": 2,
        "fewer than 8 notes": 1,
    }
    assert_report_sums(report)
    report = {}
    load_abc_corpus(book, split_ratios=(1, 0, 0), min_notes=1, report=report)
    assert report["parsed"] == 3 and report["skip_reasons"] == {
        "AbcParseError: unexpected character '…'": 2
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


def leaky_corpus(tmp_path: Path) -> Path:
    """60 tunes built to leak under a naive split: settings of one id under different titles,
    one title under different ids, a title written two ways, "x" and "Gan Ainm" titles that must
    not link anything."""
    tunes = []

    def add(title, sid=None):
        x = len(tunes) + 1
        tunes.append(tune(x, title, sid=sid and (sid, x)))

    for group in range(6):
        a, b = 100 + 2 * group, 101 + 2 * group
        add(f"Chain {group} One", a)
        add(f"Chain {group} Two", a)  # same id as One, other title
        add(f"Chain {group} Two", b)  # same title as Two, other id
        add(f"Reel Chain {group}, The", b)
        add(f"The Reel Chain {group}")  # no id, linked only by the normalised title
    for n in range(12):
        add("x" if n % 2 else "Gan Ainm")
    for n in range(18):
        add(f"Solo {n}", 500 + n)
    return write(tmp_path / "leaky.abc", tunes)


@needs_parser
def test_splits_do_not_leak_ids_titles_or_bodies(tmp_path):
    book = leaky_corpus(tmp_path)
    report = {}
    data = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), seed=1, report=report)
    assert_no_leak(data)
    assert_report_sums(report)
    assert report["parsed"] == 60 and all(report["splits"].values())
    where = {row["x"]: name for name in SPLIT_NAMES for row in data[name]}
    for group in range(6):  # each 5-tune chain sits in one split
        assert len({where[5 * group + k] for k in range(1, 6)}) == 1
    # untitled tunes link nothing: with 12 of them, they are spread over the splits
    untitled = [name for name in SPLIT_NAMES for row in data[name] if not title_key(row["title"])]
    assert len(untitled) == 12 and len(set(untitled)) > 1


@needs_parser
def test_splits_are_deterministic_from_the_seed(tmp_path):
    book = leaky_corpus(tmp_path)

    def ids(seed):
        data = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), seed=seed)
        return [data[name]["tune_id"] for name in SPLIT_NAMES]

    assert ids(0) == ids(0)
    assert ids(0) != ids(1)


@needs_parser
def test_hash_split_keeps_every_tune_in_its_split_when_the_corpus_grows(tmp_path):
    book = leaky_corpus(tmp_path)

    def where():
        data = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), split_method="hash")
        assert_no_leak(data)
        return {(row["x"], row["title"]): n for n in SPLIT_NAMES for row in data[n]}

    before = where()
    more = [tune(100 + i, f"Added Reel {i}", sid=(900 + i, 100 + i)) for i in range(40)]
    book.write_text(book.read_text(encoding="utf-8") + "\n" + "\n".join(more), encoding="utf-8")
    after = where()
    assert len(after) == len(before) + 40
    assert {tune: after[tune] for tune in before} == before
    assert len(set(before.values())) == 3  # all three splits are used
    with pytest.raises(ValueError, match="split_method"):
        load_abc_corpus(book, split_method="random")


@needs_parser
def test_forked_parsing_gives_the_same_corpus(tmp_path):
    book = leaky_corpus(tmp_path)
    one = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), num_proc=1)
    two = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), num_proc=2)
    for name in SPLIT_NAMES:
        assert one[name].to_list() == two[name].to_list()


@needs_parser
def test_mixed_sources_and_cache(tmp_path):
    book = write(tmp_path / "one.abc", [tune(1, "One"), tune(2, "Two")])
    folder = tmp_path / "more"
    write(folder / "b.abc", [tune(3, "Three")])
    report = {}
    data = load_abc_corpus([book, folder], split_ratios=(1, 0, 0), cache_dir=tmp_path / "c",
                           report=report)  # fmt: skip
    assert sorted(data["train"]["tune_id"]) == ["more/b:3", "one:1", "one:2"]
    cached_report = {}
    again = load_abc_corpus([book, folder], split_ratios=(1, 0, 0), cache_dir=tmp_path / "c",
                            report=cached_report)  # fmt: skip
    assert cached_report == report and again["train"].to_list() == data["train"].to_list()
    assert len(list((tmp_path / "c").iterdir())) == 1
    # the first call returns what later calls load, so caches keyed on the fingerprint hold
    assert again["train"]._fingerprint == data["train"]._fingerprint


@needs_parser
def test_cache_written_aside_survives_a_dead_writer_and_a_concurrent_one(tmp_path):
    book = write(tmp_path / "one.abc", [tune(1, "One"), tune(2, "Two")])
    data = load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    (cached,) = (tmp_path / "c").iterdir()
    # a writer that died before its report: the folder is rebuilt, not trusted nor fatal
    (cached / "abc_corpus_report.json").unlink()
    load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    assert (cached / "abc_corpus_report.json").is_file()
    # another process publishes the same cache while this one builds it: its copy is kept
    import modeling_irish.abc_corpus as abc_corpus

    real_publish = abc_corpus.publish_directory
    published = []

    def race(tmp, final, marker):
        shutil.copytree(tmp, final)  # the other process, complete, a moment sooner
        published.append(real_publish(tmp, final, marker))

    shutil.rmtree(cached)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(abc_corpus, "publish_directory", race)
        raced = load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    assert published == [False]  # this process's copy was dropped, the other's kept
    assert raced["train"].to_list() == data["train"].to_list()
    assert [p.name for p in (tmp_path / "c").iterdir()] == [cached.name]  # no temporary left


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


def rows_ids(data) -> list[str]:
    return [tune_id for name in SPLIT_NAMES for tune_id in data[name]["tune_id"]]


@needs_parser
@pytest.mark.slow
def test_shared_corpus_loads_without_leaks():
    report = {}
    data = load_abc_corpus(require_corpus(), report=report)  # timing: benchmarks, not tests
    assert report["read"] == 20721
    assert_report_sums(report)
    assert_no_leak(data)
    total = sum(report["splits"].values())
    for name, ratio in zip(SPLIT_NAMES, (0.9, 0.05, 0.05)):
        assert abs(report["splits"][name] - ratio * total) < 0.01 * total
    assert set(data["train"]["mode"]) == {"major", "minor", "dorian", "mixolydian"}


@needs_parser
def test_link_incipits_keeps_one_melody_under_two_names_in_one_split(tmp_path):
    from tokenization.abc_parser import parse_abc
    from tokenization.abc_writer import write_abc
    from tokenization.keys import parse_key, transpose_tokens

    tunes = [tune(x, f"Tune {x}", sid=(x, x)) for x in range(1, 31)]
    # tune 5's melody moved from D to G, under another title, tune id and body text
    alias = write_abc(
        transpose_tokens(parse_abc(tunes[4]).tokens, 5),
        key=parse_key("G"),
        meter="4/4",
        x=99,
        title="An Alias",
    ).replace("K:", "S: https://thesession.org/tunes/999#setting999\nK:")
    book = write(tmp_path / "book.abc", tunes + [alias])
    apart = 0
    for seed in range(6):
        report = {}
        linked = load_abc_corpus(
            book, split_ratios=(0.6, 0.2, 0.2), seed=seed, report=report, link_incipits=8
        )
        where = {row["title"]: name for name in SPLIT_NAMES for row in linked[name]}
        assert where["Tune 5"] == where["An Alias"]
        assert report["shared_incipits"] == 2 and report["parsed"] == 31
        plain = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), seed=seed)
        where = {row["title"]: name for name in SPLIT_NAMES for row in plain[name]}
        apart += where["Tune 5"] != where["An Alias"]
        assert "shared_incipits" not in plain.report
    assert apart  # without the option the two tunes are dealt independently


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
    (folder / "blank.abc").write_text("\n")
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        assert load_abc_corpus(folder).report["read"] == 4
    assert f"no ABC tunes found in {folder / 'blank.abc'} (empty file)" in caplog.text
    assert "tune.mid" not in caplog.text


NO_TUNE = {  # a source without tunes -> why the loader's error gives, as irish-tune check does
    "empty.abc": (b"", "empty file"),
    "tune.abc": (b"MThd\x00\x00\x00\x06", "not a text file (NUL bytes)"),
    "words.abc": (b"just words, no X: line\n", "a tune starts with an X: line"),
    "tunes.json": (b"[]", "no dump row gives a tune"),
    "tunes.csv": (b"tune_id,name,type,meter,mode,abc\n", "no dump row gives a tune"),
    "folder": (None, "no *.abc files"),
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


def test_a_corpus_too_small_for_its_splits_says_so(tmp_path, caplog):
    book = write(tmp_path / "three.abc", [tune(x, f"Tune {x}") for x in range(1, 4)])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        corpus = load_abc_corpus(book)
    empty = [name for name in SPLIT_NAMES if len(corpus[name]) == 0]
    assert empty  # 3 tunes cannot fill 90/5/5
    assert (
        f"the {' and '.join(empty)} split" in caplog.text and "3 tunes in 3 groups" in caplog.text
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        load_abc_corpus(book, split_ratios=(1.0, 0.0, 0.0))  # asked for: no warning
    assert "split" not in caplog.text


def test_split_groups_deals_large_and_small_groups_alike():
    # 100 groups of 10 records and 1000 singletons: every split should hold about half of each
    # (choosing a split by group size would fill validation and test with singletons)
    keys = [[f"g{i // 10}"] for i in range(1000)] + [[f"s{i}"] for i in range(1000)]
    for seed in range(3):
        split = np.array(split_groups(keys, (0.8, 0.1, 0.1), seed=seed))
        singleton = np.arange(len(keys)) >= 1000
        for s in range(3):
            share = singleton[split == s].mean()
            assert 0.25 < share < 0.75, (seed, s, share)
        sizes = np.bincount(split, minlength=3)
        assert abs(sizes[1] - 200) <= 5 and abs(sizes[2] - 200) <= 5, sizes


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
def test_dump_rows_with_an_unreadable_mode_are_skipped_and_counted(tmp_path):
    bad = [
        dict(dump_rows()[0], setting_id=90 + n, mode=mode) for n, mode in enumerate(["Hmajor", ""])
    ]
    path = tmp_path / "tunes.json"
    path.write_text(json.dumps(dump_rows() + bad))
    report = {}
    data = load_abc_corpus(path, split_ratios=(1, 0, 0), report=report)
    assert {row["setting_id"] for row in rows(data)} == {"1", "7", "2", "3"}
    assert report["skipped"] == 2
    assert all("key" in reason for reason in report["skip_reasons"]), report["skip_reasons"]


@needs_parser
def test_skipped_tunes_are_located_in_a_debug_line_and_the_report(tmp_path, caplog):
    dump = tmp_path / "nomode.csv"
    with dump.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dump_rows()[0]))
        writer.writeheader()
        writer.writerows([dump_rows()[2], dict(dump_rows()[2], setting_id="9", name="B", mode="")])
    short = [tune(x, f"Short {x}", notes="GA|") for x in range(2, 9)]  # 7 tunes of 2 notes
    book = write(tmp_path / "book.abc", [tune(1, "Bad", key="Gxx"), *short])
    with caplog.at_level("DEBUG", logger="modeling_irish.abc_corpus"):
        corpus = load_abc_corpus([dump, book], split_ratios=(1, 0, 0))
    # named as evaluate-lm names them; a row's line counts in the tune text built from it
    bad_row = f"{dump} row 2: B: line 7 of its tune text, column 3: cannot read key 'missing'"
    bad_key = f"{book} line 1: Bad: line 5, column 4: unknown mode 'xx'"
    debug = [r.getMessage() for r in caplog.records if r.levelname == "DEBUG"]
    assert f"ABC corpus: skipped {bad_row} (AbcParseError: cannot read key '…')" in debug
    assert f"ABC corpus: skipped {bad_key} (AbcParseError: unknown mode '…')" in debug
    assert f"ABC corpus: skipped {book} line 50 (fewer than 8 notes)" in debug  # the 7th
    assert sum("ABC corpus: skipped" in line for line in debug) == 9
    report = corpus.report
    assert_report_sums(report)
    assert report["skipped_at"] == {
        "fewer than 8 notes": [f"{book} line {line}" for line in (8, 15, 22, 29, 36)],  # 5 of 7
        "AbcParseError: cannot read key '…'": [bad_row],
        "AbcParseError: unknown mode '…'": [bad_key],
    }
    assert list(report["skipped_at"]) == list(report["skip_reasons"])  # the same order


@needs_parser
def test_a_damaged_corpus_cache_is_read_again_not_trusted(tmp_path, caplog):
    book = write(tmp_path / "one.abc", [tune(i, f"T{i}") for i in range(1, 9)])
    loaded = load_abc_corpus(book, cache_dir=tmp_path / "c")
    want = {name: loaded[name].to_list() for name in loaded}  # (memory-mapped: read it now)
    (cached,) = (tmp_path / "c").iterdir()
    (arrow,) = (cached / "train").glob("*.arrow")
    good = arrow.read_bytes()
    (cached.parent / f"{cached.name}.tmp-999999999").mkdir()  # a writer that died mid-save
    for damaged in (good[:200], b""):
        arrow.write_bytes(damaged)
        caplog.clear()
        with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
            again = load_abc_corpus(book, cache_dir=tmp_path / "c")
        assert "reading" in caplog.text and "again" in caplog.text
        assert {name: again[name].to_list() for name in again} == want
    assert [p.name for p in (tmp_path / "c").iterdir()] == [cached.name]  # dead writer removed


@needs_parser
def test_the_corpus_cache_key_follows_the_contents_not_the_mtime(tmp_path):
    book = write(tmp_path / "one.abc", [tune(1, "Aaa"), tune(2, "Bbb")])
    first = load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    stat = book.stat()
    book.write_text(book.read_text().replace("T: Bbb", "T: Ccc"))  # same size
    os.utime(book, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime (cp -p)
    second = load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    assert sorted(first["train"]["title"]) == ["Aaa", "Bbb"]
    assert sorted(second["train"]["title"]) == ["Aaa", "Ccc"]


def test_the_corpus_cache_key_follows_the_reader_code_by_content(tmp_path, monkeypatch):
    # reader code copied with its old mtime (cp -p, rsync -a) and the same size is new code
    from modeling_irish import abc_corpus, abc_sources

    code = tmp_path / "abc_sources.py"
    code.write_text("x = 'reel'\n")
    monkeypatch.setattr(abc_sources, "__file__", str(code))
    before = abc_corpus._fingerprint([], {})
    stat = code.stat()
    code.write_text("x = 'REEL'\n")
    os.utime(code, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert abc_corpus._fingerprint([], {}) != before


def test_the_corpus_cache_key_follows_the_file_decoder(tmp_path, monkeypatch):
    # decode_abc (tokenization/check.py) decides a file's text: a change to it is new code
    import tokenization.check as check
    from modeling_irish import abc_corpus

    code = tmp_path / "check.py"
    code.write_text("encoding = 'latin-1'\n")
    monkeypatch.setattr(check, "__file__", str(code))
    before = abc_corpus._fingerprint([], {})
    code.write_text("encoding = 'utf-8'\n")
    assert abc_corpus._fingerprint([], {}) != before


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


@needs_parser
def test_a_corpus_cache_hit_warns_as_the_first_load_did(tmp_path, caplog):
    bad = tune(2, "Bad", key="H")  # skipped: a key that cannot be read
    bare = "T: Bare\nM: 4/4\nL: 1/8\nK: G\n" + body(3) + "\n"  # read, without an X: line
    book = write(tmp_path / "book.abc", [tune(1, "A"), bad, bare, tune(1, "Same X")])

    def warnings() -> list[tuple[str, str]]:
        caplog.clear()
        with caplog.at_level("WARNING", logger="modeling_irish"):
            load_abc_corpus(book, cache_dir=tmp_path / "c")
        return [(r.name, r.getMessage()) for r in caplog.records if r.levelname == "WARNING"]

    first = warnings()
    said = " ".join(message for _, message in first)
    for what in ("skipped 1", "without an X: line", "split", "share their X: number"):
        assert what in said, what
    assert {name for name, _ in first} == {
        "modeling_irish.abc_corpus",
        "modeling_irish.abc_sources",
    }
    assert warnings() == first  # the cache hit, which read nothing, says the same
