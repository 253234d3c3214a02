"""The cache of `irish-tune evaluate-generation --train`'s read (`train_tokens_cache`): a later
run takes the tunes from it, with the same figures, the same stderr lines and the same tunes
under ``--max-train-tunes``; a damaged file is read again; ``prune-cache`` removes it."""

from __future__ import annotations

import json
import os

import pytest
from helpers import GENERATION_TRAIN as TRAIN
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

BAD = "".join(f"X:{i}\nT:Bad {i}\nK:G\nA]B|\n\n" for i in (8, 9))


@pytest.fixture
def train(tmp_path):
    """A --train file of two unreadable tunes, then the generation tests' tunes."""
    path = tmp_path / "train.abc"
    path.write_text(BAD + "\n".join(TRAIN), encoding="utf-8")
    return str(path)


def _no_read(*args):
    raise AssertionError("the tunes were read again, not taken from the cache")


def test_a_cached_run_gives_the_same_json_and_stderr_without_reading(
    model_dir, train, tmp_path, capsys, monkeypatch
):
    from modeling_irish.cli import main

    cache = tmp_path / "cache"
    argv = ["evaluate-generation", "--model", model_dir, "--json", "--no-readers", "--seed", "3",
            "--train", train, "--num-tunes", "2", "--num-bars", "4"]  # fmt: skip
    assert main([*argv, "--no-cache"]) == 0
    plain = capsys.readouterr()
    assert main([*argv, "--cache-dir", str(cache)]) == 0  # the first run writes the cache
    assert capsys.readouterr() == plain
    assert [name.startswith("train_tokens-") for name in os.listdir(cache)] == [True]
    monkeypatch.setattr("modeling_irish.generation_cli._read_train_tunes", _no_read)
    assert main([*argv, "--cache-dir", str(cache)]) == 0
    cached = capsys.readouterr()
    assert cached == plain
    assert json.loads(cached.out)["train_skipped"] == 2
    assert "2 unreadable tunes of" in cached.err


@pytest.mark.parametrize("limit", [None, 1, 2, 3])
def test_the_cache_takes_the_tunes_read_without_it(train, tmp_path, capsys, limit):
    from modeling_irish.generation_cli import read_train_corpus

    plain = read_train_corpus(train, limit), capsys.readouterr().err
    cache = tmp_path / "cache"
    first = read_train_corpus(train, limit, cache), capsys.readouterr().err
    again = read_train_corpus(train, limit, cache), capsys.readouterr().err
    assert first == plain and again == plain
    assert len(os.listdir(cache)) == 1


def test_each_limit_is_its_own_entry_and_a_changed_file_a_new_one(train, tmp_path, capsys):
    from modeling_irish.generation_cli import read_train_corpus

    cache = tmp_path / "cache"
    assert len(read_train_corpus(train, 1, cache)[0]) == 1
    assert len(read_train_corpus(train, None, cache)[0]) == len(TRAIN)
    with open(train, "a", encoding="utf-8") as file:
        file.write("\n" + TRAIN[0].replace("X:1", "X:77"))
    assert len(read_train_corpus(train, None, cache)[0]) == len(TRAIN) + 1
    assert len(os.listdir(cache)) == 3


def test_the_warnings_of_the_read_are_said_again(tmp_path, caplog):
    from modeling_irish.generation_cli import read_train_corpus

    path = tmp_path / "dup.abc"
    path.write_text(TRAIN[0] + "\n" + TRAIN[0].replace("T:", "T:Other "), encoding="utf-8")
    cache = tmp_path / "cache"
    read_train_corpus(str(path), None, cache)
    first = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    caplog.clear()
    read_train_corpus(str(path), None, cache)
    assert first and [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == first


def test_the_tunes_read_not_as_written_are_counted_cached_or_not(tmp_path, capsys):
    """Each tune's reader warnings were dropped: a training tune read without its second voice
    or its stray brackets was compared with as read, and nothing said so. One stderr line
    counts them by kind and names the command that shows each, the same from the cache."""
    from modeling_irish.generation_cli import read_train_corpus

    path = tmp_path / "changed.abc"
    voices = TRAIN[1].replace("K:G\n", "K:G\nV:1\n") + "V:2\nG4|]\n"
    chords = TRAIN[2].replace("E2B B2A", "E2B []B2A", 1)
    path.write_text("\n".join([TRAIN[0], voices, chords]), encoding="utf-8")
    plain = read_train_corpus(str(path), None), capsys.readouterr().err
    assert plain[1] == (
        f"irish-tune evaluate-generation: 2 of the 3 training tunes of {path} read not as "
        "written (compared with as read), by kind: {'voices dropped (only the first is read)': "
        f"1, 'stray brackets dropped': 1}}; each is named by: irish-tune check {path}\n"
    )
    cache = tmp_path / "cache"
    first = read_train_corpus(str(path), None, cache), capsys.readouterr().err
    again = read_train_corpus(str(path), None, cache), capsys.readouterr().err
    assert first == plain and again == plain


def test_a_damaged_cache_file_is_said_and_read_again(train, tmp_path, capsys, caplog):
    from modeling_irish.generation_cli import read_train_corpus

    cache = tmp_path / "cache"
    expected = read_train_corpus(train, None, cache)
    (entry,) = cache.iterdir()
    entry.write_text('{"format": 1, "vocab": [', encoding="utf-8")
    assert read_train_corpus(train, None, cache) == expected
    assert f"--train cache {entry} cannot be read" in caplog.text
    assert json.loads(entry.read_text(encoding="utf-8"))["format"] == 2  # written again


def test_stdin_and_music21_books_are_not_cached(tmp_path):
    from modeling_irish.train_tokens_cache import train_cache_key

    assert train_cache_key("-", None) is None
    assert train_cache_key("oneills1850", None) is None


def test_prune_cache_removes_an_unused_train_read(train, tmp_path, capsys):
    from modeling_irish.cache_pruning import prune_caches, stale_caches
    from modeling_irish.generation_cli import read_train_corpus

    cache = tmp_path / "cache"
    read_train_corpus(train, None, cache)
    (entry,) = cache.iterdir()
    assert list(stale_caches(cache, 0)) == [entry]
    assert prune_caches(cache, 0) == [entry] and not entry.exists()


def test_the_read_runs_with_the_garbage_collector_paused_and_restores_it(train, monkeypatch):
    """Each full collection walked every token kept so far (~12 of 49 s on thesession-c)."""
    import gc

    import tokenization.encoded_tune as encoded_tune
    from modeling_irish.generation_cli import read_train_corpus

    enabled, real = [], encoded_tune.read_tune

    def spy(*args, **kwargs):
        enabled.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(encoded_tune, "read_tune", spy)
    assert gc.isenabled()
    tunes, skipped = read_train_corpus(train, None)
    assert enabled and not any(enabled) and len(enabled) == len(tunes) + skipped
    assert gc.isenabled()


def test_the_cache_file_is_written_in_one_piece_as_compact_json(train, tmp_path, monkeypatch):
    """json.dump wrote it chunk by chunk from the encoder in Python (~3x the CPU of one
    json.dumps on thesession-c); the file's text is the compact JSON of the read, as before."""
    import modeling_irish.train_tokens_cache as cache_module
    from modeling_irish.generation_cli import _read_train_tunes

    def chunked(*args, **kwargs):
        raise AssertionError("the cache was written with json.dump, chunk by chunk")

    monkeypatch.setattr(cache_module.json, "dump", chunked)
    read = _read_train_tunes(train, None)
    cache_module.save_train_read(tmp_path, "key", read)
    (entry,) = tmp_path.glob("train_tokens-key.json")
    text = entry.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), separators=(",", ":"))
    assert cache_module.load_train_read(tmp_path, "key") == read
