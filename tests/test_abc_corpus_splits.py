"""The corpus loader's splits: split_groups (ratios, seeds, hashes, large and small groups) and
splits that leak no id, title, body or incipit, are seeded, and keep a tune in place as the
corpus grows."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from abc_corpus_helpers import (
    assert_no_leak,
    assert_report_sums,
    body,
    leaky_corpus,
    needs_parser,
    tune,
    write,
)
from helpers import require_corpus

from modeling_irish.abc_corpus import SPLIT_NAMES, load_abc_corpus, split_groups, title_key
from modeling_irish.corpus_splits import check_ratios, short_splits


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


@pytest.mark.parametrize("method", ["shuffle", "hash"])
@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_split_groups_refuses_a_seed_that_is_no_whole_number_from_0(method, seed):
    # random.Random(-1) is Random(1): --split_seed -1 gave seed 1's split, recorded as -1
    with pytest.raises(ValueError, match="split seed must be a whole number >= 0"):
        split_groups([["a"], ["b"]], seed=seed, method=method)


@pytest.mark.parametrize("method", ["shuffle", "hash"])
def test_split_groups_takes_a_numpy_integer_seed_as_the_int(method):
    # np.int64(7), which datasets' shuffle takes, was refused as "not a whole number"
    keys = [[i] for i in range(40)]
    assert split_groups(keys, seed=np.int64(7), method=method) == split_groups(
        keys, seed=7, method=method
    )
    with pytest.raises(ValueError, match="split seed must be a whole number >= 0"):
        split_groups(keys, seed=np.int64(-1), method=method)


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


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        (0.9, "float 0.9"),  # one number, as train_test_split's test_size
        ({"train": 0.9, "validation": 0.05, "test": 0.05}, "dict {'train'"),
        ("811", "str '811'"),  # was read as (8, 1, 1)
        ("0.9,0.05,0.05", "str '0.9,"),  # was "could not convert string to float: '.'"
        ((0.9, None, 0.1), r"numbers, got \(0.9, None, 0.1\)"),
    ],
)
def test_the_loader_refuses_ratios_that_are_not_three_numbers_saying_what_it_got(
    tmp_path, bad, said
):
    """A dict of splits, one number or a string gave an obscure traceback from float()
    ("could not convert string to float: 'train'", "'float' object is not iterable"), and a
    3-character string was split into its characters."""
    book = write(tmp_path / "book.abc", [tune(1, "One")])
    with pytest.raises(ValueError, match=f"split_ratios must be 3 .*{said}"):
        load_abc_corpus(book, split_ratios=bad)


def test_the_loader_refuses_bool_ratios_as_it_refuses_a_bool_seed(tmp_path):
    """``(True, False, False)`` was read as ``(1, 0, 0)``: everything in train, without a word,
    where ``seed=True`` is refused."""
    book = write(tmp_path / "book.abc", [tune(1, "One")])
    said = r"split_ratios must be 3 numbers, not bools, got \(True, False, False\)"
    with pytest.raises(ValueError, match=said):
        load_abc_corpus(book, split_ratios=(True, False, False))


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ((np.True_, np.False_, np.False_), "not bools"),  # read as (1, 0, 0): all in train
        (("0.9", "0.05", "0.05"), "not strings"),  # read by float() as the numbers
        ((b"8", b"1", b"1"), "not strings"),
    ],
)
def test_ratios_are_real_numbers_not_numpy_bools_or_numeric_strings(bad, said):
    """A numpy bool (no ``bool`` subclass) and a numeric string passed the bool and string
    checks, which looked at the ratios as a whole and at Python's ``bool``, and ``float``
    read them as numbers."""
    with pytest.raises(ValueError, match=f"split_ratios must be 3 numbers, {said}, got "):
        check_ratios(bad)


def test_ratios_may_be_numpy_numbers_fractions_and_decimals():
    ratios = (np.float32(0.5), np.int64(1), Fraction(1, 2))
    assert check_ratios(ratios) == [0.25, 0.5, 0.25]
    assert check_ratios((Decimal("0.8"), 0.1, np.float64(0.1))) == pytest.approx([0.8, 0.1, 0.1])


def test_a_generator_of_bad_ratios_is_shown_by_its_values(tmp_path):
    """A generator's error showed ``<generator object ...>``, spent, not the ratios given."""
    book = write(tmp_path / "book.abc", [tune(1, "One")])
    for bad, said in (((0.5, -0.5, 1.0), r"\(0.5, -0.5, 1.0\)"), ((1.0, 2.0), r"\(1.0, 2.0\)")):
        with pytest.raises(ValueError, match=f"split_ratios must be 3 .*got {said}$"):
            load_abc_corpus(book, split_ratios=(r for r in bad))
    assert split_groups([["a"], ["b"]], (r for r in (1, 0, 0)), seed=0) == [0, 0]


@pytest.mark.parametrize("seed", [-1, "1", 1.5, True])
def test_the_loader_refuses_a_bad_seed_before_reading_anything(tmp_path, monkeypatch, seed):
    """The seed was checked only by split_groups, after every tune was parsed: a whole
    corpus read (minutes on thesession's) before the one-line error."""
    import modeling_irish.abc_corpus as abc_corpus

    def unread(*args, **kwargs):
        raise AssertionError("the sources were read before the seed was checked")

    monkeypatch.setattr(abc_corpus, "iter_raw_tunes", unread)
    book = write(tmp_path / "book.abc", [tune(1, "One")])
    with pytest.raises(ValueError, match="split seed must be a whole number >= 0"):
        load_abc_corpus(book, seed=seed, cache_dir=tmp_path / "cache")


BAD_COUNTS = [
    ("min_notes", -1, "min_notes must be a whole number >= 0, got -1"),
    ("min_notes", 2.5, "min_notes must be a whole number >= 0, got 2.5"),
    ("num_proc", -1, "num_proc must be None or a whole number >= 0, got -1"),
    ("num_proc", -4, "num_proc must be None or a whole number >= 0, got -4"),
    ("link_incipits", -24, "link_incipits must be a whole number >= 0, got -24"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_COUNTS)
def test_the_loader_refuses_a_negative_count_before_reading_anything(
    tmp_path, monkeypatch, name, value, message
):
    """``min_notes=-1`` kept every tune, ``num_proc=-1`` parsed in this process and
    ``link_incipits=-24`` linked nothing, all silently: a slip went unseen."""
    import modeling_irish.abc_corpus as abc_corpus

    def unread(*args, **kwargs):
        raise AssertionError(f"the sources were read before {name} was checked")

    monkeypatch.setattr(abc_corpus, "iter_raw_tunes", unread)
    book = write(tmp_path / "book.abc", [tune(1, "One")])
    with pytest.raises(ValueError, match=re.escape(message)):
        load_abc_corpus(book, cache_dir=tmp_path / "cache", **{name: value})


@needs_parser
def test_the_loader_parses_in_this_process_with_num_proc_0(tmp_path):
    """0 worker processes, as `datasets`' ``map`` reads ``num_proc=0``: the rows of one."""
    book = leaky_corpus(tmp_path)
    none = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), num_proc=0)
    one = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), num_proc=1)
    assert [none[n]["tune_id"] for n in SPLIT_NAMES] == [one[n]["tune_id"] for n in SPLIT_NAMES]


@needs_parser
def test_the_loader_takes_a_numpy_integer_seed(tmp_path):
    book = leaky_corpus(tmp_path)
    data = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), seed=np.int64(1), cache_dir=tmp_path)
    same = load_abc_corpus(book, split_ratios=(0.6, 0.2, 0.2), seed=1)
    assert [data[n]["tune_id"] for n in SPLIT_NAMES] == [same[n]["tune_id"] for n in SPLIT_NAMES]


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
def test_hash_split_does_not_follow_the_file_name(tmp_path):
    # tunes without S: take their ids from the file's name (book:X); a renamed copy of the
    # book, or the folder that holds it, must split them as the book did
    tunes = [tune(i, "x" if i % 2 else f"Reel {i}") for i in range(1, 61)]
    book = write(tmp_path / "book.abc", tunes)
    renamed = write(tmp_path / "session-2024.abc", tunes)
    folder = write(tmp_path / "folder" / "other.abc", tunes).parent

    def where(source):
        data = load_abc_corpus(source, split_ratios=(0.6, 0.2, 0.2), split_method="hash")
        return {row["x"]: n for n in SPLIT_NAMES for row in data[n]}

    placed = where(book)
    assert len(placed) == 60 and len(set(placed.values())) == 3
    assert where(renamed) == placed
    assert where(folder) == placed


@needs_parser
def test_hash_split_places_a_thesession_tune_by_its_id_whatever_joins_it(tmp_path):
    # a copy of each tune without S: in another file joins its group by title: the group stays
    # where the thesession id alone put it
    named = [tune(i, f"Reel {i}", sid=(500 + i, i)) for i in range(1, 41)]
    book = write(tmp_path / "session.abc", named)
    copies = write(
        tmp_path / "mine.abc", [tune(i, f"Reel {i}", notes=body(i + 40)) for i in range(1, 41)]
    )

    def where(*sources):
        data = load_abc_corpus(list(sources), split_ratios=(0.6, 0.2, 0.2), split_method="hash")
        return {
            row["tune_id"]: n for n in SPLIT_NAMES for row in data[n] if ":" not in row["tune_id"]
        }

    alone = where(book)
    assert len(alone) == 40 and len(set(alone.values())) == 3
    assert where(book, copies) == alone


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


def test_a_corpus_too_small_for_its_splits_says_so(tmp_path, caplog):
    book = write(tmp_path / "three.abc", [tune(x, f"Tune {x}") for x in range(1, 4)])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        corpus = load_abc_corpus(book)
    empty = [name for name in SPLIT_NAMES if len(corpus[name]) == 0]
    assert empty  # 3 tunes cannot fill 90/5/5
    assert "3 tunes are too few for ratios (0.9, 0.05, 0.05)" in caplog.text
    assert f"tunes: {' and '.join(empty)} {'are' if len(empty) > 1 else 'is'} empty" in (
        caplog.text
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


def test_short_splits_names_empty_and_under_half_splits_asked_for():
    assert short_splits([0] * 8 + [2, 2], (0.8, 0.1, 0.1)) == {"validation": 0}
    # 100 records at 80/10/10: 4 in validation is under half of 10, 6 in test is not
    split = [0] * 90 + [1] * 4 + [2] * 6
    assert short_splits(split, (0.8, 0.1, 0.1)) == {"validation": 4}
    assert short_splits([0] * 10, (1.0, 0.0, 0.0)) == {}  # a ratio of 0 asks for nothing


@pytest.mark.parametrize(
    ("titles", "says"),
    [
        (["Reel A"], "only 1 tune group (1 tune): all in train; validation and test are empty"),
        (
            ["Polka"] * 3,
            "only 1 tune group (3 tunes, linked by tune id, title or body): all in train; "
            "validation and test are empty",
        ),
        (
            ["Reel A", "Reel B"],
            "2 tunes are too few for ratios (0.9, 0.05, 0.05), which give validation 0.1 and "
            "test 0.1 tunes: validation and test are empty",
        ),
    ],
)
def test_a_corpus_too_small_to_split_says_so_plainly(tmp_path, caplog, titles, says):
    """A corpus of 1 or 2 tunes was warned of as splits that "came out short, 0 and 0 tunes
    where ratios (0.9, 0.05, 0.05) ask for 0 and 0", in "1 groups": the warning says what
    happened instead."""
    book = write(tmp_path / "book.abc", [tune(x, t) for x, t in enumerate(titles, 1)])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        load_abc_corpus(book, split_ratios=(0.9, 0.05, 0.05))
    assert says in caplog.text
    assert "came out short" not in caplog.text and "ask for 0" not in caplog.text


def test_a_giant_group_that_empties_a_split_is_named_in_a_warning_and_the_report(tmp_path, caplog):
    # 18 tunes under one title (one group) and 2 alone: at 80/10/10 the group takes train and
    # overlaps validation's cut whatever the order, leaving validation empty (and test too when
    # both lone tunes come first)
    book = write(
        tmp_path / "book.abc",
        [tune(x, "Polka") for x in range(1, 19)] + [tune(19, "Reel A"), tune(20, "Reel B")],
    )
    for seed in range(3):
        caplog.clear()
        with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
            corpus = load_abc_corpus(book, split_ratios=(0.8, 0.1, 0.1), seed=seed)
        assert len(corpus["validation"]) == 0
        assert corpus.report["short_splits"]["validation"] == 0
        assert corpus.report["groups"] == {
            "tunes": 20, "count": 3, "largest": 18, "largest_title": "Polka", "largest_titled": 18
        }  # fmt: skip
        assert "the validation" in caplog.text and "came out short, 0 " in caplog.text
        assert "the largest of 18 tunes (18 titled 'Polka')" in caplog.text
        assert "ratios (0.8, 0.1, 0.1) ask for 2" in caplog.text and "in 3 groups" in caplog.text


def test_a_split_short_of_lone_tunes_blames_the_hash_not_a_group_of_1(tmp_path, caplog):
    """20 unlinked tunes placed by hash left test empty, and the warning blamed "the largest
    of 1 tune (1 titled 'Reel 1')", a group too large for the split."""
    book = write(tmp_path / "book.abc", [tune(x, f"Reel {x}") for x in range(1, 21)])
    with caplog.at_level("WARNING", logger="modeling_irish.abc_corpus"):
        corpus = load_abc_corpus(book, split_ratios=(0.8, 0.1, 0.1), seed=6, split_method="hash")
    assert corpus.report["short_splits"] == {"test": 0}
    assert "the test split came out short, 0 tunes where ratios (0.8, 0.1, 0.1) ask for 2: " \
        "20 tunes, none linked to another by tune id, title or body, each placed by a hash " \
        "of its keys (split_method='hash')" in caplog.text  # fmt: skip
    assert "largest of" not in caplog.text


def test_untitled_copies_numbered_in_their_titles_are_not_linked_by_them(tmp_path):
    # the shared corpus written twice over titles "x (copy 1)": the copies' titles joined 3,150
    # unrelated untitled tunes into one group, which emptied the validation split
    originals = [tune(x, "x") for x in range(1, 11)]
    copies = [tune(x, "x (copy 1)", notes=body(x - 10)) for x in range(11, 21)]
    report = {}
    load_abc_corpus(write(tmp_path / "twice.abc", originals + copies), report=report)
    assert report["duplicates"] == 10
    assert report["groups"]["count"] == 10 and report["groups"]["largest"] == 1
