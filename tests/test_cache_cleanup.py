"""The caches' cleanup of a writer's folder (the tokenized cache's ``tokenize.tmp-<pid>``, the
vocabulary's and the corpus's ``.tmp-<pid>`` folders): one removed at once when its write or its
rename into place fails, and what cannot be removed named in a warning
(`tokenization.file_cleanup.discard_folder`), never passed over in silence nor raised over the
error that failed the write."""

from __future__ import annotations

import errno
import logging
import os

import pytest
from abc_corpus_helpers import needs_parser, tune, write
from datasets import Dataset

import tokenization.dataset as dataset
from tests.helpers import refuse_unlinking
from tokenization import file_cleanup
from tokenization.tokenization_abc import AbcTokenizer
from tokenization.writer_folders import own_writer_name

GOOD = "X:1\nT:A\nM:2/4\nL:1/8\nK:G\n|:GA Bd|ef ge|dB AG|A2 A2:|\n"


def _full_disk(folder: str) -> OSError:
    """The error of a write that filled the disk, with the file ``stuck`` left in ``folder``."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "stuck"), "w", encoding="utf-8") as handle:
        handle.write("half")
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(folder, "stuck"))


def test_a_dead_tokenize_writer_that_will_not_go_is_named(tmp_path, monkeypatch, caplog):
    # the folder of a killed run was passed over without a word when it could not be deleted
    dead = tmp_path / "tokenize.tmp-999999999"
    dead.mkdir()
    for name in ("stuck", "tmp5pk_xwd_"):
        (dead / name).write_text("x", encoding="utf-8")
    refuse_unlinking(monkeypatch, "stuck")
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    dataset.remove_dead_writers(tmp_path, "tokenize.tmp-")
    assert f"cannot remove {dead} (" in caplog.text and "Permission denied" in caplog.text
    assert os.listdir(dead) == ["stuck"]  # the rest went all the same


def test_a_failed_tokenize_names_its_folder_it_cannot_delete_and_raises_its_error(
    tmp_path, monkeypatch, caplog
):
    # the writer's folder that would not go after a full disk was left without a word
    def full_disk(ds, tokenizer, num_proc, cache_file, reuse=True):
        raise _full_disk(os.path.dirname(cache_file))

    monkeypatch.setattr(dataset, "_map_split", full_disk)
    refuse_unlinking(monkeypatch, "stuck")
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    tok = AbcTokenizer.train([GOOD])
    with pytest.raises(OSError) as raised:
        dataset.tokenize_dataset(Dataset.from_dict({"abc": [GOOD]}), tok, cache_dir=tmp_path)
    assert raised.value.errno == errno.ENOSPC  # the write's error, not the cleanup's
    aside = tmp_path / own_writer_name("tokenize.tmp-")
    assert f"cannot remove {aside} (" in caplog.text and "Permission denied" in caplog.text
    assert sorted(os.listdir(tmp_path)) == [aside.name]


def test_a_failed_vocabulary_save_names_its_folder_it_cannot_delete(tmp_path, monkeypatch, caplog):
    # the abc-tokenizer-<digest>.tmp-<pid> folder that would not go was left without a word
    from training.data import load_or_train_tokenizer

    def full_disk(self, folder, **kwargs):
        raise _full_disk(folder)

    monkeypatch.setattr(AbcTokenizer, "save_pretrained", full_disk)
    refuse_unlinking(monkeypatch, "stuck")
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    with pytest.raises(OSError, match="No space left on device"):
        load_or_train_tokenizer(Dataset.from_dict({"abc": [GOOD]}), str(tmp_path))
    (left,) = tmp_path.iterdir()
    assert left.name.endswith(own_writer_name(".tmp-")) and os.listdir(left) == ["stuck"]
    assert f"cannot remove {left} (" in caplog.text and "Permission denied" in caplog.text


@needs_parser
def test_a_corpus_cache_that_cannot_be_published_leaves_no_folder(tmp_path, monkeypatch):
    # the <cache>.tmp-<pid> folder stayed until a later run found its writer dead
    import modeling_irish.abc_corpus as abc_corpus

    def refused(tmp, final, marker):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(final))

    monkeypatch.setattr(abc_corpus, "publish_directory", refused)
    book = write(tmp_path / "one.abc", [tune(1, "One"), tune(2, "Two")])
    with pytest.raises(PermissionError):
        abc_corpus.load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    assert list((tmp_path / "c").iterdir()) == []


@needs_parser
def test_a_corpus_cache_save_that_fails_leaves_no_folder(tmp_path, monkeypatch):
    # a full disk while saving the splits left the half-written <cache>.tmp-<pid> folder
    import modeling_irish.abc_corpus_cache as abc_corpus_cache
    from modeling_irish.abc_corpus import load_abc_corpus

    def full_disk(self, folder, **kwargs):
        raise _full_disk(folder)

    monkeypatch.setattr(abc_corpus_cache.DatasetDict, "save_to_disk", full_disk)
    book = write(tmp_path / "one.abc", [tune(1, "One"), tune(2, "Two")])
    with pytest.raises(OSError, match="No space left on device"):
        load_abc_corpus(book, split_ratios=(1, 0, 0), cache_dir=tmp_path / "c")
    assert list((tmp_path / "c").iterdir()) == []
