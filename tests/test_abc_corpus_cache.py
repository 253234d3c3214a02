"""The corpus loader's cache: written aside, read again when damaged, keyed on the sources'
contents, the reader's code and the decoder, and warning on a hit as the first load did."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from abc_corpus_helpers import body, needs_parser, tune, write

from modeling_irish.abc_corpus import AbcCorpusDict, load_abc_corpus


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
def test_a_renamed_symlink_in_a_cached_folder_is_read_again_under_its_new_name(tmp_path):
    # ids and the source column come from the name as found in the folder, not its target: a
    # key on resolved paths alone hit the cache after the rename, with the old ids
    store = write(tmp_path / "store" / "x.abc", [tune(1, "One")])
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "book.abc").symlink_to(store)
    kwargs = {"split_ratios": (1, 0, 0), "cache_dir": tmp_path / "c"}
    assert load_abc_corpus(folder, **kwargs)["train"]["tune_id"] == ["books/book:1"]
    (folder / "book.abc").rename(folder / "other.abc")
    again = load_abc_corpus(folder, **kwargs)["train"]
    assert again["tune_id"] == ["books/other:1"]
    assert again["source"] == [str(folder / "other.abc")]


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
    book.write_text(
        book.read_text(encoding="utf-8").replace("T: Bbb", "T: Ccc"), encoding="utf-8"
    )  # same size
    os.utime(book, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime (cp -p)
    second = load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    assert sorted(first["train"]["title"]) == ["Aaa", "Bbb"]
    assert sorted(second["train"]["title"]) == ["Aaa", "Ccc"]


def test_the_corpus_cache_key_follows_the_reader_code_by_content(tmp_path, monkeypatch):
    # reader code copied with its old mtime (cp -p, rsync -a) and the same size is new code
    from modeling_irish import abc_corpus, abc_sources

    code = tmp_path / "abc_sources.py"
    code.write_text("x = 'reel'\n", encoding="utf-8")
    monkeypatch.setattr(abc_sources, "__file__", str(code))
    before = abc_corpus.cache_fingerprint([], {})
    stat = code.stat()
    code.write_text("x = 'REEL'\n", encoding="utf-8")
    os.utime(code, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert abc_corpus.cache_fingerprint([], {}) != before


@pytest.mark.parametrize(
    "module",
    [
        # the loader's own code and that of its cache (abc_corpus_cache.py) are new code too
        "modeling_irish.abc_corpus",
        "modeling_irish.abc_corpus_cache",
        # the title and body keys the loader dedupes and links on (moved out of abc_corpus)
        "modeling_irish.corpus_keys",
        # a tune parsed into its row, and the tune as read (moved out of the loader into the
        # reader's package, so that a spawned parsing worker imports no torch)
        "tokenization.corpus_rows",
        "tokenization.raw_tune",
        # the reader is split into topic modules (bar lines and ties, lengths and chords, the
        # tune's types): a change to any of them is new code
        "tokenization.abc_parser",
        "tokenization.abc_parser_state",
        "tokenization.abc_body",
        "tokenization.abc_tune",
        "tokenization.abc_bars",
        "tokenization.abc_notes",
        "tokenization.abc_header",
        "tokenization.abc_header_directives",
        "tokenization.abc_titles",
        "tokenization.abc_tunebook",
        "tokenization.abc_field_lines",
        # a thesession dump's rows and the tune text built from them
        "modeling_irish.session_dump",
        # modules the reader came to import after the key was listed by hand: a Q: field it
        # refuses skips the tune (abc_tempo), the report's voices_dropped (reader_warnings)
        "tokenization.abc_tempo",
        "tokenization.reader_warnings",
    ],
)
def test_the_corpus_cache_key_follows_the_loader_and_reader_code(tmp_path, monkeypatch, module):
    import importlib

    from modeling_irish import abc_corpus

    code = tmp_path / f"{module.rsplit('.', 1)[1]}.py"
    code.write_text("version = 1\n", encoding="utf-8")
    monkeypatch.setattr(importlib.import_module(module), "__file__", str(code))
    before = abc_corpus.cache_fingerprint([], {})
    code.write_text("version = 2\n", encoding="utf-8")
    assert abc_corpus.cache_fingerprint([], {}) != before


def test_the_corpus_cache_key_follows_the_file_decoder(tmp_path, monkeypatch):
    # decode_abc (tokenization/check.py) decides a file's text: a change to it is new code
    import tokenization.check as check
    from modeling_irish import abc_corpus

    code = tmp_path / "check.py"
    code.write_text("encoding = 'latin-1'\n", encoding="utf-8")
    monkeypatch.setattr(check, "__file__", str(code))
    before = abc_corpus.cache_fingerprint([], {})
    code.write_text("encoding = 'utf-8'\n", encoding="utf-8")
    assert abc_corpus.cache_fingerprint([], {}) != before


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


@needs_parser
def test_a_corpus_cache_hit_names_the_sources_as_this_call_shows_them(tmp_path, caplog):
    # the hit gave the warnings and skipped places as the call that filled the cache spelled
    # them, though ``shown`` is not in the key (train.py: the same file typed from two folders)
    book = write(tmp_path / "book.abc", [tune(1, "A"), tune(2, "Bad", key="H"), tune(1, "B")])
    kwargs = {"split_ratios": (1, 0, 0), "cache_dir": tmp_path / "c"}

    def load(typed: str) -> tuple[str, dict, AbcCorpusDict]:
        caplog.clear()
        report: dict = {}
        with caplog.at_level("WARNING", logger="modeling_irish"):
            corpus = load_abc_corpus(str(book), shown={str(book): typed}, report=report, **kwargs)
        return caplog.text, report, corpus

    load("first/book.abc")
    said, report, corpus = load("../second/book.abc")
    assert len(list((tmp_path / "c").iterdir())) == 1  # a hit
    assert "first/" not in said and "../second/book.abc: 2 tunes share their X: number" in said
    (places,) = report["skipped_at"].values()
    assert places[0].startswith("../second/book.abc line ")
    description = json.loads(corpus["train"].info.description.split("report: ", 1)[1])
    assert description == report  # was the first load's, "first/book.abc line ..."


@needs_parser
def test_a_first_load_warns_through_the_last_resort_when_logging_is_not_set_up(tmp_path, capsys):
    """In plain Python (no handler configured) the warnings print through `logging.lastResort`:
    the recorder that keeps them for the cache stopped that on the first load, which printed
    nothing while its cache hits printed them all."""
    import logging

    write(tmp_path / "book" / "book.abc", [tune(1, "A"), tune(2, "Bad", key="Q")])
    write(tmp_path / "book" / "notes.abc", [])
    # as `python -c`: no handler on the warnings' loggers nor above them (pytest's on the root)
    chain = [logging.getLogger(name) for name in ("", "modeling_irish", "modeling_irish.abc_corpus",
                                                  "modeling_irish.abc_sources")]  # fmt: skip
    saved = [one.handlers[:] for one in chain]
    try:
        for one in chain:
            one.handlers.clear()
        said = []
        for _ in range(2):  # the load that fills the cache, then a hit
            load_abc_corpus(tmp_path / "book", split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
            said.append(capsys.readouterr().err)
    finally:
        for one, handlers in zip(chain, saved):
            one.handlers[:] = handlers
    for what in ("no ABC tunes found in", "skipped 1"):  # once each, first load and hit alike
        assert [err.count(what) for err in said] == [1, 1], (what, said)


def test_a_pipe_is_not_cached_under_a_key_blind_to_its_contents(tmp_path, caplog):
    """A pipe (``--corpus <(cat a.abc)``) has no file to fingerprint, so the cache key ignored
    what it gave: a second load from another pipe at the same path hit the first one's cache."""
    import threading

    def piped(text: str):
        pipe = tmp_path / "fifo"
        if pipe.exists():
            pipe.unlink()
        os.mkfifo(pipe)

        def feed() -> None:
            with open(pipe, "w", encoding="utf-8") as handle:
                handle.write(text)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        with caplog.at_level("INFO", logger="modeling_irish.abc_corpus"):
            corpus = load_abc_corpus(str(pipe), cache_dir=tmp_path / "cache", seed=0)
        writer.join(timeout=5)
        return sorted(t for split in corpus.values() for t in split["title"])

    first = [tune(i, f"First {i}", notes=body(i)) for i in range(1, 21)]
    second = [tune(i, f"Second {i}", notes=body(i + 40)) for i in range(1, 21)]
    assert all(t.startswith("First") for t in piped("\n".join(first)))
    assert all(t.startswith("Second") for t in piped("\n".join(second)))
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    assert "not cached" in caplog.text


@needs_parser
def test_a_corpus_with_an_empty_split_saves_and_loads_back(tmp_path):
    """datasets 5.2 writes no Arrow file for an empty split (its shard count is capped at the
    row count), and load_from_disk then fails with an IndexError: a one-tune corpus or
    split_ratios=(1, 0, 0) saved with save_to_disk could not be loaded back."""
    from datasets import load_from_disk

    corpus = load_abc_corpus(write(tmp_path / "one.abc", [tune(1, "One")]))
    assert [len(corpus[name]) for name in ("train", "validation", "test")] == [1, 0, 0]
    corpus.save_to_disk(str(tmp_path / "saved"))
    back = load_from_disk(str(tmp_path / "saved"))
    assert {name: back[name].to_list() for name in back} == {
        name: corpus[name].to_list() for name in corpus
    }
    assert back["test"].features == corpus["test"].features
    # a cache hit is the same kind of corpus: it saves its empty splits too
    cached = load_abc_corpus(tmp_path / "one.abc", cache_dir=tmp_path / "c")
    again = load_abc_corpus(tmp_path / "one.abc", cache_dir=tmp_path / "c")
    assert again.report == cached.report == corpus.report
    again.save_to_disk(str(tmp_path / "saved_again"))
    assert len(load_from_disk(str(tmp_path / "saved_again"))["validation"]) == 0


@needs_parser
def test_prune_removes_only_the_corpus_caches_no_load_used_lately(tmp_path):
    from modeling_irish.abc_corpus import prune_corpus_cache

    book = write(tmp_path / "one.abc", [tune(1, "One"), tune(2, "Two")])
    cache = tmp_path / "c"
    for seed in (0, 1):  # two keys, as two package versions (or options) sharing cache_dir
        load_abc_corpus(book, split_ratios=(1, 0, 0), seed=seed, cache_dir=cache)
    old, used = sorted(cache.iterdir(), key=lambda path: path.stat().st_mtime)
    month_ago = os.path.getmtime(old) - 40 * 86400
    for path in (old, used):
        os.utime(path / "abc_corpus_report.json", (month_ago, month_ago))
    load_abc_corpus(book, split_ratios=(1, 0, 0), seed=1, cache_dir=cache)  # a hit marks it used
    writer = cache / f"{old.name}.tmp-1.2@elsewhere"
    writer.mkdir()
    assert prune_corpus_cache(cache) == [old]
    assert sorted(cache.iterdir()) == sorted([used, writer])
    assert prune_corpus_cache(cache, older_than_days=0) == [used]
    with pytest.raises(ValueError, match="older_than_days"):
        prune_corpus_cache(cache, older_than_days=-1)


def _age(paths, days=40):
    """Set the mtime of ``paths`` ``days`` days back."""
    when = os.path.getmtime(paths[0]) - days * 86400
    for path in paths:
        os.utime(path, (when, when))


def test_prune_caches_removes_vocabularies_and_tokenized_splits_unused_lately(tmp_path):
    """A hit on a vocabulary or a tokenized split records its use, as a corpus hit does; the
    entries no run used for the days given go, writers' folders stay."""
    from datasets import Dataset

    from modeling_irish.abc_corpus import prune_caches
    from tokenization.dataset import tokenize_dataset
    from training.data import load_or_train_tokenizer

    tune_text = "X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"
    splits = [Dataset.from_dict({"abc": [tune_text.replace("GA", x)]}) for x in ("GA", "AG")]
    entries = []  # each split's vocabulary folder and tokenized file: two keys of each
    for split in splits:  # as two package versions sharing the cache would write
        before = set(tmp_path.iterdir())
        tokenize_dataset(split, load_or_train_tokenizer(split, str(tmp_path)), cache_dir=tmp_path)
        entries.append(sorted(set(tmp_path.iterdir()) - before))
    (old_vocab, old_tokenized), (used_vocab, used_tokenized) = entries
    assert old_vocab.name.startswith("abc-tokenizer-") and old_tokenized.suffix == ".arrow"
    _age([old_vocab / "abc_vocab.json", used_vocab / "abc_vocab.json"])
    _age([old_tokenized, used_tokenized])
    tokenizer = load_or_train_tokenizer(splits[1], str(tmp_path))  # hits mark them used
    tokenize_dataset(splits[1], tokenizer, cache_dir=tmp_path)
    writer = tmp_path / f"{old_vocab.name}.tmp-1.2@elsewhere"
    writer.mkdir()
    assert sorted(prune_caches(tmp_path)) == sorted([old_tokenized, old_vocab])
    kept = sorted(tmp_path.iterdir())
    assert kept == sorted([used_tokenized, used_vocab, writer])
    assert prune_caches(tmp_path, older_than_days=0) == sorted(set(kept) - {writer})
    assert sorted(tmp_path.iterdir()) == [writer]
