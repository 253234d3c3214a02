"""The tokenized `datasets` view: counts unreadable tunes, caches as Arrow, works with num_proc."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import Dataset, DatasetDict

import tokenization.dataset as tokenized_dataset
from tokenization.dataset import column_array, column_values, tokenize_dataset
from tokenization.tokenization_abc import AbcTokenizer
from tokenization.writer_folders import own_writer_name

GOOD = "X:1\nT:A\nM:2/4\nL:1/8\nK:G\n|:GA Bd|ef ge|dB AG|A2 A2:|\n"
OTHER = "X:3\nT:C\nM:6/8\nL:1/8\nK:Em\n|:EFG B2A|GFE E3:|\n"
BAD = "X:2\nT:B\nK:G\nA]B|\n"


def _data() -> Dataset:
    return Dataset.from_dict({"abc": [GOOD, BAD, OTHER, GOOD], "title": ["A", "B", "C", "A"]})


def test_tokenized_rows_equal_the_tokenizer_and_bad_tunes_are_counted():
    tok = AbcTokenizer.train([GOOD, OTHER])
    out = tokenize_dataset(_data(), tok)
    assert out.tokenize_report["data"] == {
        "tunes": 4,
        "unreadable": 1,
        "too_long": 0,
        "dropped_at": {"unreadable": ["index 1: B: line 4, column 2: ']' without a chord"]},
        "unknown": {},
    }
    assert out["title"] == ["A", "C", "A"]
    row = out.with_format("numpy")[1]
    enc = tok.encode_tune(OTHER)
    np.testing.assert_array_equal(row["input_ids"], enc.input_ids)
    np.testing.assert_array_equal(row["measure_numbers"], enc.measure_numbers)
    assert row["length"] == len(enc.input_ids)


def test_the_report_and_the_warning_name_the_first_dropped_tunes(caplog):
    """Only counts were kept: the reader's error of each unreadable tune was computed, then
    thrown away, so nobody could tell which tunes were lost or why."""
    tok = AbcTokenizer.train([GOOD, OTHER])
    bad = [BAD.replace("T:B", f"T:Bad {n}") for n in range(7)]
    ds = Dataset.from_dict({"abc": [GOOD, *bad, OTHER], "title": ["A", *"bcdefgh", "C"]})
    with caplog.at_level("WARNING", logger="tokenization.dataset"):
        report = tokenize_dataset(ds, tok, max_length=15).tokenize_report["data"]
    assert (report["unreadable"], report["too_long"]) == (7, 1)
    unreadable = report["dropped_at"]["unreadable"]
    assert unreadable == [f"index {n + 1}: Bad {n}: line 4, column 2: ']' without a chord"
                          for n in range(5)]  # fmt: skip
    assert report["dropped_at"]["too_long"] == ["index 0: A: 21 rows, over max_length=15"]
    assert unreadable[0] in caplog.text and "over max_length=15" in caplog.text


def test_a_missing_abc_value_is_counted_as_unreadable_not_a_crash():
    """A None in the abc column raised encode_tune's TypeError from inside datasets.map, so one
    empty row lost the whole corpus; it is an unreadable tune, dropped and named by index."""
    tok = AbcTokenizer.train([GOOD, OTHER])
    out = tokenize_dataset(Dataset.from_dict({"abc": [GOOD, None, OTHER]}), tok)
    assert out.tokenize_report["data"] == {
        "tunes": 3,
        "unreadable": 1,
        "too_long": 0,
        "dropped_at": {"unreadable": ["index 1: the 'abc' field holds None, not ABC text"]},
        "unknown": {},
    }
    assert column_values(out, "abc") == [GOOD, OTHER]


# a dotted crotchet and a quaver (D3 E, lengths 3 and 1) where GOOD has only 1 and 2
UNSEEN_LENGTH = "X:4\nT:D\nM:2/4\nL:1/8\nK:G\n|:G3A Bd|ef ge:|\n"


def test_values_the_training_vocabulary_lacks_are_counted_per_split(caplog):
    """The vocabulary is the train split's: a validation tune with a length it lacks was read
    and scored as <unk>, and the validation NLL held <unk> targets without a word. The report
    counts such rows and tunes per feature (kept tunes only), and the split is one warning;
    the ids are the tokenizer's, <unk> and all."""
    tok = AbcTokenizer.train([GOOD])
    long_unseen = UNSEEN_LENGTH.replace("ge:|", "ge|" + "G3A Bd|" * 4 + ":|")
    corpus = DatasetDict(
        train=Dataset.from_dict({"abc": [GOOD]}),
        validation=Dataset.from_dict({"abc": [GOOD, UNSEEN_LENGTH, BAD, long_unseen]}),
    )
    with caplog.at_level("WARNING", logger="tokenization.dataset"):
        out = tokenize_dataset(corpus, tok, max_length=25)
    report = out.tokenize_report
    assert report["train"]["unknown"] == {}
    enc = tok.encode_tune(UNSEEN_LENGTH)
    unk = enc.unknown_values()
    assert report["validation"]["unknown"] == {
        name: {"rows": len(values), "tunes": 1, "first": list(dict.fromkeys(values)), "more": False}
        for name, values in unk.items()
    }  # the too-long tune, dropped, is not counted
    dur = {"rows": 1, "tunes": 1, "first": ["3"], "more": False}
    assert report["validation"]["unknown"]["dur"] == dur  # the 3 of G3A
    np.testing.assert_array_equal(out["validation"].with_format("numpy")[1]["input_ids"],
                                  enc.input_ids)  # fmt: skip
    warned = [r.getMessage() for r in caplog.records if "not in the vocabulary" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith(
        "tokenize validation: values not in the vocabulary of feature 'dur' (first: 3) in 1 row "
        "of 1 tune (read and scored as <unk>)"
    )


def test_a_split_warning_names_the_first_values_as_evaluate_lm_does(caplog):
    # was "values not in the vocabulary of feature 'dur' in 9 rows of 9 tunes": which lengths,
    # the ids no longer said; evaluate-lm's warning names them ("first: 7/2, 1/2")
    tok = AbcTokenizer.train([GOOD])
    lengths = ["3", "5", "6", "7", "9", "3", "10", "11", "12"]  # eighths, none in GOOD
    tunes = [GOOD.replace("A2 A2", f"A{n} A2") for n in lengths]
    with caplog.at_level("WARNING", logger="tokenization.dataset"):
        out = tokenize_dataset(DatasetDict(test=Dataset.from_dict({"abc": tunes})), tok)
    dur = out.tokenize_report["test"]["unknown"]["dur"]
    assert dur == {"rows": 9, "tunes": 9, "first": ["3", "5", "6", "7", "9"], "more": True}
    warned = [r.getMessage() for r in caplog.records if "not in the vocabulary" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith(
        "tokenize test: values not in the vocabulary of feature 'dur' (first: 3, 5, 6, 7, 9, "
        "...) in 9 rows of 9 tunes (read and scored as <unk>), 'm_offset' (first: "
    )  # (the notes after the longer A moved in their bar)
    # more tunes than are read again for their values: the few named may not be all of them
    many = [GOOD.replace("A2 A2", "A3 A2")] * 25
    out = tokenize_dataset(Dataset.from_dict({"abc": many}), tok)
    assert out.tokenize_report["data"]["unknown"]["dur"]["first"] == ["3"]
    assert out.tokenize_report["data"]["unknown"]["dur"]["more"] is True
    # each feature's values are read from its own first tunes, not those of any feature
    meters = [GOOD.replace("M:2/4", "M:3/4")] * 25 + [GOOD.replace("A2 A2", "A5 A2")]
    unknown = tokenize_dataset(Dataset.from_dict({"abc": meters}), tok).tokenize_report
    assert unknown["data"]["unknown"]["meter"]["first"] == ["3/4"]
    assert unknown["data"]["unknown"]["dur"] == {
        "rows": 1, "tunes": 1, "first": ["5"], "more": False
    }  # fmt: skip


def test_a_split_warning_names_five_features_then_counts_the_others():
    from tokenization.dataset import unknown_message

    unknown = {name: {"rows": 2, "tunes": 1} for name in ("a", "b", "c", "d", "e", "f", "g")}
    said = unknown_message("test", unknown)
    assert "'e' in 2 rows of 1 tune (read as <unk>), and 2 more features" in said
    assert "'f'" not in said


def test_inputs_it_cannot_tokenize_are_refused_before_map():
    """max_length=0 kept every tune and -1 dropped them all; a corpus without 'abc' was a bare
    KeyError from inside datasets, and a list an AttributeError ('list' has no 'items')."""
    tok = AbcTokenizer.train([GOOD, OTHER])
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match=rf"max_length must be a positive int .*got {bad}"):
            tokenize_dataset(_data(), tok, max_length=bad)
    no_abc = DatasetDict({"train": _data(), "test": _data().rename_column("abc", "text")})
    with pytest.raises(ValueError, match=r"split 'test' has no 'abc' column .*'text'"):
        tokenize_dataset(no_abc, tok)
    with pytest.raises(ValueError, match=r"the corpus has no 'abc' column"):
        tokenize_dataset(no_abc["test"], tok)
    with pytest.raises(TypeError, match=r"must be a datasets.Dataset or DatasetDict, not list"):
        tokenize_dataset([GOOD, OTHER], tok)
    with pytest.raises(TypeError, match=r"not IterableDataset \(a streamed corpus"):
        tokenize_dataset(_data().to_iterable_dataset(), tok)


def test_an_empty_split_comes_back_empty_with_the_new_columns():
    tok = AbcTokenizer.train([GOOD, OTHER])
    empty = _data().select([])
    out = tokenize_dataset(DatasetDict({"train": _data(), "test": empty}), tok)
    assert len(out["test"]) == 0 and out.tokenize_report["test"]["tunes"] == 0
    assert set(out["test"].column_names) == set(out["train"].column_names)


def test_off_a_terminal_the_datasets_bars_are_not_drawn(tmp_path, capfd):
    """``Tokenizing ABC`` and ``Saving the dataset`` drew carriage-return redraws into a log
    (``2>train.log``): off a terminal they are not drawn, and datasets' switch is restored."""
    import datasets

    from modeling_irish.abc_corpus_cache import AbcCorpusDict

    tokenize_dataset(_data(), AbcTokenizer.train([GOOD, OTHER]))
    AbcCorpusDict({"train": _data()}, {}).save_to_disk(tmp_path / "corpus")
    assert "\r" not in capfd.readouterr().err
    assert datasets.is_progress_bar_enabled()


def test_max_length_drops_and_counts_long_tunes():
    tok = AbcTokenizer.train([GOOD, OTHER])
    out = tokenize_dataset(_data(), tok, max_length=15)
    assert out.tokenize_report["data"]["too_long"] == 2
    assert all(n <= 15 for n in out["length"])


def test_cache_files_are_written_and_reused(tmp_path):
    tok = AbcTokenizer.train([GOOD, OTHER])
    ds = _data()
    first = tokenize_dataset(ds, tok, cache_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.glob("tokenized-*.arrow"))
    assert len(files) == 1
    second = tokenize_dataset(ds, tok, cache_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("tokenized-*.arrow")) == files
    assert second["length"] == first["length"]


def test_without_cache_dir_no_file_is_written_beside_a_corpus_on_disk(tmp_path):
    """A corpus loaded from disk (load_abc_corpus(cache_dir=...) is) got datasets' own cache
    files beside its Arrow files, written again on every call and never read back."""
    from datasets import load_from_disk

    tok = AbcTokenizer.train([GOOD, OTHER])
    DatasetDict({"train": _data()}).save_to_disk(tmp_path / "corpus")
    corpus = load_from_disk(tmp_path / "corpus")
    files = sorted(p.name for p in (tmp_path / "corpus").rglob("*"))
    out = tokenize_dataset(corpus, tok)
    assert sorted(p.name for p in (tmp_path / "corpus").rglob("*")) == files
    assert out["train"]["length"] == tokenize_dataset(_data(), tok)["length"]


def test_two_processes_give_the_same_rows(monkeypatch):
    monkeypatch.setattr(tokenized_dataset, "MIN_TUNES_FOR_WORKERS", 1)  # workers for 12 tunes
    tok = AbcTokenizer.train([GOOD, OTHER])
    ds = Dataset.from_dict({"abc": [GOOD, OTHER] * 6})
    one = tokenize_dataset(ds, tok)
    two = tokenize_dataset(ds, tok, num_proc=2)
    assert one["length"] == two["length"]
    assert one["measure_numbers"] == two["measure_numbers"]


def test_a_damaged_cache_file_is_tokenized_again(tmp_path, caplog):
    tok = AbcTokenizer.train([GOOD, OTHER])
    ds = Dataset.from_dict({"abc": [GOOD, OTHER] * 3})
    want = tokenize_dataset(ds, tok)["measure_numbers"]
    tokenize_dataset(ds, tok, cache_dir=tmp_path / "c")
    (cached,) = (tmp_path / "c").glob("tokenized-*.arrow")
    # a readable file with fewer tunes (a copy cut at a record batch), then a truncated one
    tokenize_dataset(ds.select(range(2)), tok, cache_dir=tmp_path / "short")
    (short,) = (tmp_path / "short").glob("tokenized-*.arrow")
    for damage in (lambda: cached.write_bytes(short.read_bytes()),
                   lambda: cached.write_bytes(cached.read_bytes()[:100])):  # fmt: skip
        damage()
        caplog.clear()
        with caplog.at_level("WARNING", logger="tokenization.dataset"):
            again = tokenize_dataset(ds, tok, cache_dir=tmp_path / "c")
        assert again["measure_numbers"] == want
        assert "tokenizing again" in caplog.text
    assert tokenize_dataset(ds, tok, cache_dir=tmp_path / "c")["measure_numbers"] == want


def test_the_warning_of_a_damaged_cache_names_the_files_of_each_process(
    tmp_path, caplog, monkeypatch
):
    # with num_proc 2 the cache is two files, ..._00000_of_00002.arrow and _00001_of_00002; the
    # warning named tokenized-<split>-<key>.arrow, which does not exist
    monkeypatch.setattr(tokenized_dataset, "MIN_TUNES_FOR_WORKERS", 1)  # workers for 6 tunes
    tok = AbcTokenizer.train([GOOD, OTHER])
    ds = Dataset.from_dict({"abc": [GOOD, OTHER] * 3})
    want = tokenize_dataset(ds, tok)["measure_numbers"]
    tokenize_dataset(ds, tok, num_proc=2, cache_dir=tmp_path)
    shards = sorted(tmp_path.glob("tokenized-*.arrow"))
    assert [p.name[-21:] for p in shards] == ["_00000_of_00002.arrow", "_00001_of_00002.arrow"]
    shards[1].write_bytes(shards[1].read_bytes()[:100])
    caplog.clear()
    with caplog.at_level("WARNING", logger="tokenization.dataset"):
        again = tokenize_dataset(ds, tok, num_proc=2, cache_dir=tmp_path)
    assert again["measure_numbers"] == want
    (warning,) = [m for m in caplog.messages if "tokenizing again" in m]
    assert f"the cached {shards[0]}, {shards[1]} cannot be read" in warning


def test_tokenizing_writes_only_in_its_own_folder_and_clears_those_of_dead_runs(
    tmp_path, monkeypatch
):
    """datasets.map writes each file under a temporary name in the cache folder: a run killed
    while tokenizing left them there for ever (thesession: about 150 MB a killed run)."""
    import os
    import subprocess
    import sys

    import tokenization.dataset as dataset

    tok = AbcTokenizer.train([GOOD, OTHER])
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, encoding="utf-8",
                           check=True)  # fmt: skip
    dead = tmp_path / f"tokenize.tmp-{int(ended.stdout)}"  # a run killed while tokenizing
    dead.mkdir()
    (dead / "tmp5pk_xwd_").write_bytes(b"\0" * 100)
    alive = tmp_path / f"tokenize.tmp-{os.getppid()}"  # one still tokenizing
    alive.mkdir()
    seen: set[str] = set()
    tokenize_batch = dataset.tokenize_batch

    def listing(batch, tokenizer):
        seen.update(os.listdir(tmp_path))  # the cache folder while a file is being written
        return tokenize_batch(batch, tokenizer)

    monkeypatch.setattr(dataset, "tokenize_batch", listing)
    ds = Dataset.from_dict({"abc": [GOOD, OTHER] * 150})  # batches of 256: the 2nd sees the file
    out = tokenize_dataset(ds, tok, cache_dir=tmp_path)
    assert out["length"] == tokenize_dataset(ds, tok)["length"]
    (cached,) = [p.name for p in tmp_path.glob("tokenized-*.arrow")]
    assert not dead.exists() and alive.is_dir()
    assert seen - {alive.name, cached} == {own_writer_name("tokenize.tmp-")}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, cached])


def test_changed_tokenization_code_gets_its_own_cache_file(tmp_path, monkeypatch):
    import tokenization.dataset as dataset

    tok = AbcTokenizer.train([GOOD, OTHER])
    tokenize_dataset(_data(), tok, cache_dir=tmp_path)
    monkeypatch.setattr(dataset, "tokenization_code_hash", lambda: "0123456789ab")
    tokenize_dataset(_data(), tok, cache_dir=tmp_path)
    names = sorted(p.name for p in tmp_path.glob("tokenized-*.arrow"))
    assert len(names) == 2 and any(n.endswith("-0123456789ab.arrow") for n in names)


def test_column_reads_follow_the_rows_of_a_selected_shuffled_or_filtered_split():
    """Whole columns are read from the Arrow table (a datasets 5 `Column` formats one row at a
    time): the table of a selected, shuffled or filtered split still holds every row, in the
    old order, so a read that ignored the indices mapping would give other rows."""
    ds = Dataset.from_dict({"abc": list("abcdef"), "length": [5, 0, 3, 9, 1, 7]})
    views = [
        ds.select([4, 0, 2]),
        ds.shuffle(seed=1),
        ds.filter(lambda row: row["length"] > 2),
        ds.select([5, 3, 1]).with_format("numpy"),  # the view's own format does not matter
    ]
    for view in views:
        rows = [view.with_format(None)[i] for i in range(len(view))]
        assert column_values(view, "abc") == [row["abc"] for row in rows]
        assert column_array(view, "length").tolist() == [row["length"] for row in rows]
    assert (
        column_values(ds.select([]), "abc") == []
        and column_array(ds.select([]), "length").size == 0
    )


def test_the_lengths_of_a_split_that_lost_tunes_are_those_of_its_rows():
    """tokenize_dataset keeps a split that lost tunes as a `select` of the tokenized table: the
    training script's length-grouped sampler reads its lengths with `column_array`."""
    tok = AbcTokenizer.train([GOOD, OTHER])
    out = tokenize_dataset(Dataset.from_dict({"abc": [BAD, OTHER, GOOD, BAD, GOOD]}), tok)
    want = [len(tok.encode_tune(text).input_ids) for text in (OTHER, GOOD, GOOD)]
    assert column_array(out, "length").tolist() == want == list(out["length"])
    assert out.tokenize_report["data"]["unreadable"] == 2


def _map_processes(monkeypatch) -> list:
    """The ``num_proc`` of every `Dataset.map` call from now on, in order."""
    seen: list = []
    real_map = Dataset.map

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("num_proc"))
        return real_map(self, *args, **kwargs)

    monkeypatch.setattr(Dataset, "map", spy)
    return seen


def test_a_split_below_the_worker_threshold_is_tokenized_in_this_process(tmp_path, monkeypatch):
    """Starting workers for a few dozen tunes (a validation split) cost more than it saved,
    seconds each where workers are spawned (macOS, Windows): one process, one cache file, which
    a later call with the same ``num_proc`` reads back."""
    tok = AbcTokenizer.train([GOOD, OTHER])
    ds = Dataset.from_dict({"abc": [GOOD, OTHER] * 20})
    seen = _map_processes(monkeypatch)
    first = tokenize_dataset(ds, tok, num_proc=2, cache_dir=tmp_path)
    assert seen and set(seen) == {None}
    (cached,) = tmp_path.glob("tokenized-*.arrow")
    assert "_of_" not in cached.name
    again = tokenize_dataset(ds, tok, num_proc=2, cache_dir=tmp_path)
    assert list(tmp_path.glob("tokenized-*.arrow")) == [cached]
    assert again["measure_numbers"] == first["measure_numbers"]


def test_a_split_at_the_worker_threshold_is_tokenized_by_num_proc_workers(tmp_path, monkeypatch):
    tok = AbcTokenizer.train([GOOD, OTHER])
    monkeypatch.setattr(tokenized_dataset, "MIN_TUNES_FOR_WORKERS", 40)
    small, big = (Dataset.from_dict({"abc": [GOOD, OTHER] * n}) for n in (19, 20))
    seen = _map_processes(monkeypatch)
    tokenize_dataset(small, tok, num_proc=2, cache_dir=tmp_path)
    assert set(seen) == {None}
    seen.clear()
    out = tokenize_dataset(big, tok, num_proc=2, cache_dir=tmp_path)
    assert seen and set(seen) == {2}
    shards = sorted(p.name[-21:] for p in tmp_path.glob("tokenized-*_of_*.arrow"))
    assert shards == ["_00000_of_00002.arrow", "_00001_of_00002.arrow"]
    assert out["length"] == tokenize_dataset(big, tok)["length"]
