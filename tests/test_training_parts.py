"""The parts of `training/` one at a time: the learning-rate schedule, the length-grouped
sampler, the NLL metrics, key augmentation, the progress bar and step budget, the tokenizer
cache, the data fingerprint, gradient accumulation and the validation loss (the Hub upload is
in test_training_hub.py, saving a model and checkpoints in test_training_save.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import one_torch_thread  # noqa: F401

from modeling_irish import lm_evaluation
from training import common, data

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----- schedule, batching, metrics ---------------------------------------------------------------
def test_learning_rate_halves_every_step_size_updates():
    lr = [common.learning_rate_at(s, base_lr=3e-4) for s in (0, 9_999, 10_000, 20_000, 99_999)]
    assert lr == pytest.approx([3e-4, 3e-4, 1.5e-4, 7.5e-5, 3e-4 / 2**9])
    warm = [common.learning_rate_at(s, base_lr=1.0, warmup_steps=4) for s in range(5)]
    assert warm == [0.25, 0.5, 0.75, 1.0, 1.0]
    cos = [common.learning_rate_at(s, base_lr=1.0, scheduler_type="cosine", total_steps=10)
           for s in (0, 5, 10)]  # fmt: skip
    assert cos == pytest.approx([1.0, 0.5, 0.0])


def test_length_grouped_sampler_is_a_seeded_permutation():
    lengths = np.random.default_rng(0).integers(5, 500, size=103)
    sampler = data.LengthGroupedBatchSampler(lengths, 4, seed=3, mega_batch_mult=5)
    epoch0 = list(sampler)
    assert sorted(i for b in epoch0 for i in b) == list(range(103))
    assert [len(b) for b in epoch0] == [4] * 25 + [3] and len(sampler) == 26
    assert list(sampler) == epoch0  # same (seed, epoch), same order
    sampler.set_epoch(1)
    assert list(sampler) != epoch0
    # Inside a batch lengths come from one sorted mega-batch: far less spread than random batches.
    spread = np.mean([np.ptp(lengths[b]) for b in epoch0[:-1]])
    assert spread < 0.5 * np.mean([np.ptp(lengths[i : i + 4]) for i in range(0, 100, 4)])


@pytest.mark.parametrize(("tunes", "processes"), [(103, 2), (130, 2), (101, 3), (9, 2)])
def test_length_grouped_sampler_gives_each_process_whole_rounds_without_repeats(tunes, processes):
    """Sharded as accelerate shards it (batch i to process i % n): every tune once in an
    epoch, and every process as many batches. A short last round used to be filled by
    accelerate with batches from the start of the epoch, trained on twice."""
    from accelerate.data_loader import BatchSamplerShard

    lengths = np.random.default_rng(tunes).integers(5, 500, size=tunes)

    def shards(sampler):
        return [list(BatchSamplerShard(sampler, processes, rank)) for rank in range(processes)]

    sampler = data.LengthGroupedBatchSampler(lengths, 8, seed=1, num_processes=processes)
    per_rank = shards(sampler)
    assert len({len(batches) for batches in per_rank}) == 1
    assert len(per_rank[0]) == len(BatchSamplerShard(sampler, processes, 0))
    assert sorted(i for batches in per_rank for b in batches for i in b) == list(range(tunes))
    plain = shards(data.LengthGroupedBatchSampler(lengths, 8, seed=1))  # what it did before
    seen = sum(len(b) for batches in plain for b in batches)
    assert seen > tunes or -(-tunes // 8) % processes == 0


def test_whole_rounds_length_counts_the_batches_whole_rounds_cuts():
    """`len` of a sampler is `whole_rounds_length`, worked out before any batch is cut: it must
    be what `whole_rounds` gives, for a loss needing two items a batch (min_size=2) too."""
    from modeling_irish.batching import whole_rounds, whole_rounds_length

    for items in range(30):
        for size, processes, min_size in np.ndindex(5, 4, 2):
            size, processes, min_size = size + 1, processes + 1, min_size + 1
            cut = [np.arange(items)[i : i + size] for i in range(0, items, size)]
            rounds = whole_rounds(cut, processes, min_size)
            assert len(rounds) == whole_rounds_length(items, size, processes, min_size)
            assert sorted(np.concatenate(rounds).tolist() if rounds else []) == list(range(items))
            if items >= processes * min_size:
                assert len(rounds) % processes == 0
                assert min(len(b) for b in rounds) >= min(min_size, size)


def test_nll_metrics_of_uniform_scores_are_log_vocab_sizes():
    # 2 tunes, 4 rows: targets are the labels of rows 1..3; dur only where it is not a special.
    labels = torch.tensor([
        [[-100, -100], [7, 5], [8, 0], [2, 0]],  # main: 3 targets; dur: 1 (0 is <pad>)
        [[-100, -100], [9, 6], [-100, -100], [-100, -100]],  # padded after row 1: 1 and 1
    ])  # fmt: skip
    sums = lm_evaluation.per_tune_nll(torch.zeros(2, 4, 10), torch.zeros(2, 4, 8), labels)
    assert sums[:, 1].tolist() == [3, 1] and sums[:, 3].tolist() == [1, 1]
    metrics = lm_evaluation.summarise_nll(sums)
    assert metrics["nll_main"] == pytest.approx(math.log(10))
    assert metrics["nll_dur"] == pytest.approx(math.log(8))
    assert metrics["nll"] == pytest.approx((4 * math.log(10) + 2 * math.log(8)) / 4)
    assert metrics["perplexity"] == pytest.approx(10 * 8**0.5)


# ----- key augmentation --------------------------------------------------------------------------
def test_key_augmentation_moves_notes_and_key_together(tunebook):
    from tokenization.tokenization_abc import AbcTokenizer
    from tokenization.vocabulary import AbcVocab

    text = Path(tunebook).read_text(encoding="utf-8").split("\n\n")[0]  # X:1, K:G
    tokenizer = AbcTokenizer.train([text])
    vocab: AbcVocab = tokenizer.abc_vocab
    ids = tokenizer.encode_tune(text).input_ids
    aug = data.KeyAugmenter(vocab, shifts=(-3, 2, 60))
    up = aug.transpose(ids, 2)
    col = {name: i for i, name in enumerate(vocab.values)}

    def column(a, name):
        return [vocab.token(name, int(i)) for i in a[:, col[name]]]

    notes = [v.startswith("pitch") for v in column(ids, "main")]
    before = [int(v[5:]) for v, n in zip(column(ids, "main"), notes) if n]
    after = [int(v[5:]) for v, n in zip(column(up, "main"), notes) if n]
    assert after == [p + 2 for p in before]
    assert [int(v) for v, n in zip(column(up, "pitch_class"), notes) if n] == [
        p % 12 for p in after
    ]
    assert [int(v) for v, n in zip(column(up, "octave"), notes) if n] == [p // 12 for p in after]
    # The tune is normalised to C major; +2 is D major (2 sharps), -3 is A major (3 sharps).
    assert set(column(up, "key")) == {"D major"} and set(column(up, "root")) == {"D"}
    assert set(column(up, "key_sig")) == {"2"}
    down = aug.transpose(ids, -3)
    assert set(column(down, "key")) == {"A major"} and set(column(down, "key_sig")) == {"3"}
    unchanged = [i for i, name in enumerate(vocab.values) if name not in
                 ("main", "pitch_class", "octave", "key", "root", "key_sig")]  # fmt: skip
    assert np.array_equal(up[:, unchanged], ids[:, unchanged])
    assert aug.transpose(ids, 60) is None  # leaves the pitch vocabulary
    # a tune whose lowest note is a C (octave 5 starts there) can still go down: the octave
    # vocabulary covers the pitches kept for augmentation below the training ones
    low = "X:1\nT:Low\nM:4/4\nL:1/8\nK:C\nCDEF GABc|cBAG FEDC|]\n"
    low_tok = AbcTokenizer.train([low])
    low_ids = low_tok.encode_tune(low).input_ids
    low_aug = data.KeyAugmenter(low_tok.abc_vocab)
    assert all(low_aug.transpose(low_ids, shift) is not None for shift in range(-5, 7))
    only_bad = data.KeyAugmenter(vocab, shifts=(60,))
    assert np.array_equal(only_bad(ids, np.random.default_rng(0)), ids)


def test_progress_bar_shows_the_minutes_left_of_a_time_budget():
    from training.common import TrainingProgress

    timed = TrainingProgress(total=10**9, initial=5, max_minutes=30, enabled=True)
    now = [timed.start + 600.0]  # ten minutes in
    timed._clock = lambda: now[0]
    timed.update(loss=2.5)
    assert timed.bar.n == 6 and "loss=2.500" in timed.bar.postfix
    assert "min_left=20.0" in timed.bar.postfix
    assert timed.bar.total == 8  # 1 update in 10 min, 20 min left: 2 more, not 10**9
    now[0] += 600.0  # ten more minutes, of which six evaluating: they do not count
    timed.update(paused_seconds=360.0)
    assert "min_left=16.0" in timed.bar.postfix and "loss" not in timed.bar.postfix
    assert timed.bar.total == 9  # 7 + 16 min x 2 updates / 14 min
    now[0] += 3600.0
    timed.update()
    assert "min_left=0.0" in timed.bar.postfix and timed.bar.total == timed.bar.n == 8
    timed.close()
    capped = TrainingProgress(total=7, initial=0, max_minutes=30, enabled=True)
    capped._clock = lambda: capped.start + 60.0
    capped.update()
    assert capped.bar.total == 7  # the step cap comes first
    capped.close()
    plain = TrainingProgress(total=10, initial=0, max_minutes=None, enabled=True)
    plain.update()
    assert plain.bar.n == 1 and not plain.bar.postfix and plain.bar.total == 10
    plain.close()


def test_off_a_terminal_progress_is_a_line_every_interval_and_at_the_end(capsys):
    """Off a terminal the bar drew carriage-return redraws into the log: it writes a plain
    line at most every LOG_EVERY_SECONDS, and the last step's at the end."""
    from training.common import LOG_EVERY_SECONDS, TrainingProgress

    progress = TrainingProgress(total=10, initial=0, max_minutes=None, enabled=True)
    now = [progress.start]
    progress._clock = lambda: now[0]
    for _ in range(4):  # 0.4 of the interval apart: a line at update 3, none at 4 until close
        now[0] += 0.4 * LOG_EVERY_SECONDS
        progress.update(loss=2.5)
    progress.close()
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert [line.split(",")[0] for line in lines] == ["step 3/10 (30%)", "step 4/10 (40%)"]
    assert "loss=2.500" in lines[0] and "elapsed" in lines[0] and "ETA" in lines[0]
    quiet = TrainingProgress(total=10, initial=0, max_minutes=None, enabled=False)
    quiet.update()
    quiet.close()
    assert capsys.readouterr().err == ""  # another process's: nothing


@pytest.mark.parametrize("terminal", [False, True])
def test_the_save_bars_are_off_only_off_a_terminal_and_restored_after(terminal, monkeypatch):
    """transformers' ``Writing model shards`` bar redrew into ``2>train.log``: off a terminal
    it and huggingface_hub's are off while saving; on one they draw; after, both are as before."""
    from huggingface_hub.utils import are_progress_bars_disabled
    from transformers.utils import logging as hf_logging

    monkeypatch.setattr(common, "_stderr_is_terminal", lambda: terminal)
    before = (hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled())
    if before != (True, False):
        pytest.skip("progress bars turned off in the environment (HF_HUB_DISABLE_PROGRESS_BARS)")
    with common.save_bars_on_terminal_only():
        inside = (hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled())
    assert inside == (before if terminal else (False, True))
    assert (hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled()) == before


def test_the_save_bars_leave_huggingface_hubs_bars_off_when_only_they_were_off(monkeypatch):
    """transformers' switch turns huggingface_hub's on with its own: a program that had turned
    only the hub's bars off found them on again after a save off a terminal."""
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )
    from transformers.utils import logging as hf_logging

    monkeypatch.setattr(common, "_stderr_is_terminal", lambda: False)
    if (hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled()) != (True, False):
        pytest.skip("progress bars turned off in the environment (HF_HUB_DISABLE_PROGRESS_BARS)")
    disable_progress_bars()
    try:
        with common.save_bars_on_terminal_only():
            pass
        after = (hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled())
    finally:
        enable_progress_bars()
    assert after == (True, True)


def test_progress_bar_shows_a_diverged_loss_as_n_a_not_nan():
    """The bar showed ``loss (mean of 4)=nan`` for a diverged run while its log lines and card
    say n/a with why: it says n/a (why) too, for NaN and infinite means alike."""
    from training.common import DIVERGED, TrainingProgress

    bar = TrainingProgress(total=10, initial=0, max_minutes=None, enabled=True)
    for loss in (float("nan"), float("inf")):
        bar.update(loss=loss, loss_updates=4)
        assert bar.bar.postfix == f"loss (mean of 4)=n/a ({DIVERGED})"
    bar.update(loss=2.5, loss_updates=4)
    assert bar.bar.postfix == "loss (mean of 4)=2.500"
    bar.close()


def test_steps_and_epochs_budget_whichever_comes_first():
    from types import SimpleNamespace

    loader = list(range(10))  # 10 batches an epoch
    for steps, epochs, expected in ((0, 2, (20, 2)), (300, 2, (20, 2)), (15, 5, (15, 2))):
        args = SimpleNamespace(
            max_train_steps=steps, num_train_epochs=epochs, gradient_accumulation_steps=1,
            with_tracking=False,
        )  # fmt: skip
        common.recompute_steps_and_start_tracking(args, None, loader, "x")
        assert (args.max_train_steps, args.num_train_epochs) == expected


def test_a_resume_with_nothing_left_keeps_its_own_budget_under_the_cosine_schedule():
    """A cosine run killed after step_4 (of 8) and resumed with --max_train_steps 4 to end
    there: with nothing left to train the resume puts back the checkpoint's optimisation
    values, and under the cosine schedule that put back its max_train_steps, 8, too: the budget
    that said nothing was left, so the run went on training past the 4 updates asked for."""
    import argparse

    from training.run_resume import budget_ended, take_optimisation_changes

    args = argparse.Namespace(
        learning_rate=0.01, lr_scheduler_type="cosine", lr_step_size=10, lr_gamma=0.5,
        num_warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0, max_train_steps=4,
        max_train_minutes=None,
    )  # fmt: skip
    state = {"completed_steps": 4, "max_train_steps": 8,
             "args": {"learning_rate": 3e-4, "lr_scheduler_type": "cosine"}}  # fmt: skip
    assert take_optimisation_changes(args, state) == []
    assert args.learning_rate == 3e-4  # no update uses 0.01: the checkpoint's value stands
    assert args.max_train_steps == 4 and budget_ended(args, state) is not None


def test_a_warmup_as_long_as_the_run_is_warned(caplog):
    """--num_warmup_steps 30 in a run of 20 updates was taken without a word: the lr never
    left its warmup, and peaked at two thirds of --learning_rate."""
    from types import SimpleNamespace

    from accelerate import PartialState

    PartialState(cpu=True)  # accelerate's logger needs its state
    for warmup, warned in ((30, True), (20, True), (19, False), (0, False)):
        args = SimpleNamespace(
            max_train_steps=0, num_train_epochs=2, gradient_accumulation_steps=1,
            with_tracking=False, num_warmup_steps=warmup, learning_rate=3e-4,
            lr_scheduler_type="cosine",
        )  # fmt: skip
        caplog.clear()
        common.recompute_steps_and_start_tracking(args, None, list(range(10)), "x")  # 20 updates
        assert ("is not below the run's 20 updates" in caplog.text) is warned, warmup
    caplog.clear()
    args.num_warmup_steps = 30
    common.warn_long_warmup(args)
    assert "--num_warmup_steps 30 is not below the run's 20 updates (--num_train_epochs 2)" in (
        caplog.text
    )
    assert "the lr peaks at 0.0002 (67% of --learning_rate 0.0003) in the last update" in (
        caplog.text
    )


def test_the_tokenizer_cache_says_whether_it_builds_or_reads_the_vocabulary(
    tmp_path, caplog, capsys, monkeypatch
):
    """Building the vocabulary of thesession's 18,000 training tunes took 10-15 s without a
    word: the main process logs which it does and where, with a bar over the tunes built."""
    import logging
    import sys

    from datasets import Dataset

    from training.data import load_or_train_tokenizer

    caplog.set_level(logging.INFO, logger="training.data")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar shows
    tune = "X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"
    split = Dataset.from_dict({"abc": [tune, tune.replace("GA", "AG")]})
    load_or_train_tokenizer(split, str(tmp_path))
    (folder,) = tmp_path.glob("abc-tokenizer-*")
    assert f"building the vocabulary from 2 training tunes (to cache in {folder})" in caplog.text
    assert "Building the vocabulary: 100%" in capsys.readouterr().err
    caplog.clear()
    load_or_train_tokenizer(split, str(tmp_path))
    assert f"reading the vocabulary of 2 training tunes from the cache {folder}" in caplog.text
    assert "building" not in caplog.text and "Building" not in capsys.readouterr().err


def test_a_cached_tokenizer_folder_without_its_vocabulary_is_built_again(tmp_path):
    from datasets import Dataset

    from training.data import load_or_train_tokenizer

    split = Dataset.from_dict({"abc": ["X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"]})
    first = load_or_train_tokenizer(split, str(tmp_path))
    (folder,) = tmp_path.glob("abc-tokenizer-*")
    (folder / "abc_vocab.json").unlink()  # a run killed while writing it
    again = load_or_train_tokenizer(split, str(tmp_path))
    assert again == first and (folder / "abc_vocab.json").is_file()


def test_a_cached_vocabulary_that_cannot_be_read_is_built_again(tmp_path, caplog):
    """A truncated abc_vocab.json ended the run with a traceback ("not a vocabulary JSON
    file"), where the corpus and tokenized caches warn and build theirs again."""
    from accelerate import PartialState
    from datasets import Dataset

    from training.data import load_or_train_tokenizer

    PartialState()  # the warning goes through accelerate's logger
    split = Dataset.from_dict({"abc": ["X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"]})
    first = load_or_train_tokenizer(split, str(tmp_path))
    (folder,) = tmp_path.glob("abc-tokenizer-*")
    vocab = folder / "abc_vocab.json"
    vocab.write_bytes(vocab.read_bytes()[:100])
    caplog.clear()
    again = load_or_train_tokenizer(split, str(tmp_path))
    assert again == first
    assert f"the cached vocabulary {folder} cannot be read" in caplog.text
    assert "not a vocabulary JSON file" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # nothing left aside
    assert load_or_train_tokenizer(split, str(tmp_path)) == first  # the copy rebuilt reads


def test_a_tokenizer_save_that_fails_leaves_no_folder_in_the_cache(tmp_path, monkeypatch):
    """A full disk stopped the save in abc-tokenizer-<digest>.tmp-<pid>, which stayed in the
    cache for ever, beside the copy a later run published."""
    import errno
    import os

    from datasets import Dataset

    from tokenization.tokenization_abc import AbcTokenizer
    from training.data import load_or_train_tokenizer

    def full_disk(self, folder, **kwargs):
        os.makedirs(folder)
        Path(folder, "features.py").write_text("half", encoding="utf-8")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"{folder}/features.py")

    split = Dataset.from_dict({"abc": ["X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"]})
    with monkeypatch.context() as patched:
        patched.setattr(AbcTokenizer, "save_pretrained", full_disk)
        with pytest.raises(OSError, match="No space left on device"):
            load_or_train_tokenizer(split, str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    first = load_or_train_tokenizer(split, str(tmp_path))  # space again: saved and published
    (published,) = tmp_path.iterdir()
    assert ".tmp-" not in published.name and (published / "abc_vocab.json").is_file()
    assert load_or_train_tokenizer(split, str(tmp_path)) == first


def test_the_tokenizer_cache_clears_the_folders_of_writers_that_died(tmp_path):
    import os

    from datasets import Dataset

    from training.data import load_or_train_tokenizer

    dead = [tmp_path / f"abc-tokenizer-{digest}.tmp-999999999" for digest in ("0123", "4567")]
    alive = tmp_path / f"abc-tokenizer-89ab.tmp-{os.getppid()}"  # a run still saving
    published = tmp_path / "abc-tokenizer-1234567890123456"  # a digest of digits only
    for folder in (*dead, alive, published):
        folder.mkdir()
        (folder / "features.py").write_text("", encoding="utf-8")
    split = Dataset.from_dict({"abc": ["X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"]})
    load_or_train_tokenizer(split, str(tmp_path))
    left = {p.name for p in tmp_path.iterdir()}
    assert not left & {p.name for p in dead} and {alive.name, published.name} <= left
    assert len(left) == 3  # and the vocabulary saved now, without its .tmp- folder


def test_a_cache_folder_that_fills_up_is_a_write_error_naming_it(tmp_path, monkeypatch):
    """datasets' writer on a full cache disk raised "ValueError: I/O operation on closed file",
    or an OSError naming no file, as a traceback."""
    import contextlib
    import os
    from argparse import Namespace
    from types import SimpleNamespace

    import modeling_irish.abc_corpus as abc_corpus

    def closed(*args, **kwargs):
        raise ValueError("I/O operation on closed file.")

    monkeypatch.setattr(abc_corpus, "load_abc_corpus", closed)
    monkeypatch.setattr(os, "statvfs", lambda path: SimpleNamespace(f_flag=0, f_bavail=0,
                                                                    f_frsize=4096))  # fmt: skip
    args = Namespace(corpus=None, split_ratios=(8, 1, 1), split_seed=0, cache_dir=str(tmp_path))
    accelerator = SimpleNamespace(main_process_first=contextlib.nullcontext)
    with pytest.raises(common.WriteError) as failed:
        data.prepare_corpus(args, accelerator)
    assert str(failed.value) == f"cannot write {tmp_path}: No space left on device"


def test_the_data_fingerprint_hashes_the_rows_of_a_selected_split_in_their_order():
    """`data_fingerprint` reads whole columns from the Arrow table (for speed): it must hash
    the rows a `select`/`shuffle` keeps, in that order, not those of the table beneath."""
    import hashlib

    from datasets import Dataset

    from tokenization.tokenization_abc import AbcTokenizer

    texts = [f"X:{i}\nT:t{i}\nM:2/4\nL:1/8\nK:G\nGA B{'cd'[i % 2]}|\n" for i in range(4)]
    tunes = Dataset.from_dict({"tune_id": [f"s:{i}" for i in range(4)], "abc": texts})
    tokenizer = AbcTokenizer.train(texts)
    picked = tunes.select([3, 1])
    digest = hashlib.sha256(b"".join(f"s:{i}\x00{texts[i]}\x00".encode() for i in (3, 1)))
    got = data.data_fingerprint({"train": picked, "whole": tunes}, tokenizer)["splits"]
    assert got["train"] == {"tunes": 2, "sha256": digest.hexdigest()[:16]}
    shuffled = data.data_fingerprint({"train": tunes.shuffle(seed=0)}, tokenizer)["splits"]
    assert shuffled["train"]["sha256"] != got["whole"]["sha256"]  # the order is hashed


def test_an_accumulated_update_is_that_of_one_batch_of_all_its_tunes():
    # the gradient of two accumulated batches of two tunes each equals the gradient of one batch
    # of the four, although their lengths differ a lot (each batch's mean would weigh a short
    # tune's targets several times a long one's)
    from accelerate import Accelerator
    from helpers import tiny_measurenote_config

    from modeling_irish import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer
    from training.train_measurenote import _accumulate

    body = "DFAd fdAF|GBdg fdAF|"
    tunes = [f"X:{n}\nT:t{n}\nM:4/4\nL:1/8\nK:D\n{body * reps}]\n" for n, reps in
             enumerate((1, 12, 2, 9))]  # fmt: skip
    tok = AbcTokenizer.train(tunes)
    torch.manual_seed(0)
    model = MeasureNoteForCausalLM(tiny_measurenote_config(vocab_sizes=tok.abc_vocab.sizes))
    model.eval()  # no dropout: the same forward both ways
    rows = [{k: v[0] for k, v in tok(t).items() if k in ("input_ids", "measure_numbers")}
            for t in tunes]  # fmt: skip
    collate = AbcDataCollator()

    def grads():
        out = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        return out

    one = model(**collate(rows))
    one.loss.backward()
    whole = grads()
    accelerator = Accelerator(gradient_accumulation_steps=2, cpu=True)
    parts = list(_accumulate(accelerator, model, [collate(rows[:2]), collate(rows[2:])]))
    for a, b in zip(grads(), whole):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)
    # and the losses it logs are that batch's too (each batch's own mean was logged, averaged)
    logged = sum(part for part, _ in parts).tolist()
    assert logged == pytest.approx([one.loss.item(), one.loss_main.item(), one.loss_dur.item()])
    # a short last group (one batch where two make an update) is that batch's own update
    model(**collate(rows[:2])).loss.backward()
    alone = grads()
    list(_accumulate(accelerator, model, [collate(rows[:2])]))
    for a, b in zip(grads(), alone):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)


def test_the_training_step_and_validation_read_a_model_configured_to_return_tuples(tunebook):
    """A model whose config says `return_dict=False` (as a folder saved that way loads) made the
    validation and the training step read attributes of a tuple."""
    from accelerate import Accelerator
    from helpers import tiny_measurenote_config

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer
    from training.train_measurenote import _accumulate

    texts = Path(tunebook).read_text(encoding="utf-8").split("\n\n")[:4]
    tok = AbcTokenizer.train(texts)
    config = tiny_measurenote_config(vocab_sizes=tok.abc_vocab.sizes, return_dict=False)
    model = MeasureNoteForCausalLM(config)
    batch = AbcDataCollator()([tok(t) for t in texts])
    accelerator = Accelerator(cpu=True)
    metrics = common.evaluate_lm(model, [batch], accelerator, [0, 1, 2])
    assert math.isfinite(metrics["nll"]) and metrics["nll"] > 0
    ((part, _),) = list(_accumulate(accelerator, model, [batch]))
    assert all(math.isfinite(value) for value in part.tolist())
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_the_validation_loss_weighs_durations_as_the_training_loss_does(tunebook):
    # eval_loss was nll_main + nll_dur whatever dur_loss_weight, so with a weight of 0.5 it was
    # on another scale than train_loss
    from accelerate import Accelerator
    from helpers import tiny_measurenote_config

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer

    texts = Path(tunebook).read_text(encoding="utf-8").split("\n\n")[:4]
    tok = AbcTokenizer.train(texts)
    torch.manual_seed(0)
    config = tiny_measurenote_config(vocab_sizes=tok.abc_vocab.sizes, dur_loss_weight=0.5)
    model = MeasureNoteForCausalLM(config).eval()
    batch = AbcDataCollator()([tok(t) for t in texts])
    metrics = common.evaluate_lm(model, [batch], Accelerator(cpu=True), [0, 1, 2])
    with torch.no_grad():
        out = model(**batch)
    assert metrics["loss"] == pytest.approx(out.loss.item(), rel=1e-5)
    assert metrics["loss"] == pytest.approx(metrics["nll_main"] + 0.5 * metrics["nll_dur"])


def test_validation_stopped_midway_gives_the_model_back_in_training_mode():
    """Ctrl-C (or an error) in the validation pass left the model in eval mode, so a run that
    caught it and went on trained without dropout: its mode is restored however the pass ends."""

    class _Interrupted(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.modes: list[bool] = []

        def forward(self, **inputs: torch.Tensor) -> None:
            self.modes.append(self.training)
            raise KeyboardInterrupt

    model = _Interrupted().train()
    batch = {"input_ids": torch.zeros(1, 2, dtype=torch.long), "labels": torch.zeros(1, 2)}
    with pytest.raises(KeyboardInterrupt):
        common.evaluate_lm(model, [batch], None, [0, 1, 2])
    assert model.modes == [False]  # scored in eval mode
    assert model.training


def test_a_changed_default_corpus_is_named_as_the_default_books_not_none():
    """The backbone-split warning and resume refusals show what the user gave: no --corpus is
    the default books, not Python's None."""
    import argparse

    from training.run_folder import run_flag_changes

    now = argparse.Namespace(task="tune_title", corpus=["/data/thesession-c.abc"])
    (change,) = run_flag_changes({"corpus": None}, now)
    assert change == (
        "--corpus the default (music21's oneills1850, ryansMammoth) "
        "(now ['/data/thesession-c.abc'])"
    )
