"""Smoke tests of `training/train.py` on a tiny model and a synthetic tunebook, plus its helpers."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from training import common
from training.train import main, parse_args

# Bars of reels and jigs; each synthetic tune is a different rotation of one bar list, so the 12
# bodies, titles and thesession ids are all distinct (the corpus loader dedupes bodies).
_BARS = {
    ("reel", "4/4"): [["DFAd fdAF", "GBdg fdAF", "A2FA DAFA", "EFGA B2A2"],
                      ["d2fd edcB", "A2FA DFAF", "G2BG FGAF", "E2DE F2E2"]],
    ("jig", "6/8"): [["DFA dAF", "GBd gdB", "AFD DFA", "E3 D3"],
                     ["FGA AFD", "GFE EFG", "dcB AFA", "B3 A3"]],
}  # fmt: skip
_KEYS = ["D", "G", "Ador", "Em"]
_TINY_MODEL = (
    "embedding_size=16,note_hidden_size=16,measure_hidden_size=16,final_hidden_size=16,"
    "measure_num_heads=2"
)


def _tunebook() -> str:
    tunes = []
    for (rhythm, meter), bar_lists in _BARS.items():
        for bars in bar_lists:
            for turn in range(3):
                x = len(tunes) + 1
                body = "|".join(bars[turn:] + bars[:turn]) + "|]"
                tunes.append(
                    f"X:{x}\nT:Synthetic {rhythm} number {x}\n"
                    f"S: https://thesession.org/tunes/{1000 + x}#setting{2000 + x}\n"
                    f"R:{rhythm}\nM:{meter}\nL:1/8\nK:{_KEYS[x % 4]}\n{body}\n"
                )
    return "\n".join(tunes)


@pytest.fixture(scope="module")
def tunebook(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data") / "tunes.abc"
    path.write_text(_tunebook(), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core CI they lose a lot."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _fresh_accelerate_state():
    """Each `main` call builds its own Accelerator; accelerate keeps singletons between them."""
    from accelerate.state import AcceleratorState, GradientState

    yield
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def _argv(tunebook: str, cache_dir: str, output_dir, *extra: str) -> list[str]:
    return [
        "--corpus", tunebook, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", cache_dir, "--output_dir", str(output_dir),
        "--config_overrides", _TINY_MODEL, "--per_device_train_batch_size", "2",
        "--per_device_eval_batch_size", "4", "--logging_steps", "1", "--eval_steps", "2",
        *extra,
    ]  # fmt: skip


# ----- end-to-end --------------------------------------------------------------------------------
def test_main_writes_a_folder_that_reloads_with_the_same_loss(tunebook, cache_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    import modeling_irish  # noqa: F401  (registers the Auto classes)
    from modeling_irish.abc_corpus import load_abc_corpus
    from tokenization.tokenization_abc import AbcTokenizer

    out = tmp_path / "run"
    results = main(_argv(tunebook, cache_dir, out, "--max_train_steps", "4", "--with_tracking"))

    for name in ("model.safetensors", "config.json", "abc_vocab.json", "tokenizer_config.json",
                 "all_results.json", "README.md"):  # fmt: skip
        assert (out / name).is_file(), name
    saved = json.loads((out / "all_results.json").read_text())
    assert saved["train_steps"] == 4 and saved["num_processes"] == 1
    for key in ("eval_nll", "eval_nll_main", "eval_nll_dur", "eval_perplexity", "train_loss"):
        assert math.isfinite(saved[key]) and saved[key] > 0, key
    assert saved["eval_perplexity"] == pytest.approx(math.exp(saved["eval_nll"]))
    assert saved["corpus_train_tunes"] + saved["corpus_validation_tunes"] <= 12
    card = (out / "README.md").read_text()
    assert "trust_remote_code=True" in card and "Training data" in card
    assert any(name.startswith("events.out.tfevents") for _, _, f in os.walk(out) for name in f)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "eval_nll" in r] == [2, 4]  # --eval_steps 2, no repeat
    assert [r["step"] for r in log if "train_loss" in r] == [1, 2, 3, 4]

    # Reload through the Auto classes and re-score the validation tunes from their ABC text.
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    tokenizer = AbcTokenizer.from_pretrained(out)
    corpus = load_abc_corpus(tunebook, split_ratios=(0.5, 0.25, 0.25))
    batch = tokenizer(corpus["validation"]["abc"])
    with torch.no_grad():
        output = model(**{k: v for k, v in batch.items() if k != "labels"})
    sums = common.per_tune_nll(output.logits, output.dur_logits, batch["labels"])
    again = common.summarise_nll(sums)
    assert again["nll"] == pytest.approx(results["eval_nll"], rel=1e-5)
    assert again["nll_dur"] == pytest.approx(results["eval_nll_dur"], rel=1e-5)


def _weights(folder) -> dict[str, torch.Tensor]:
    return load_file(os.path.join(folder, "model.safetensors"))


def test_resume_from_checkpoint_ends_with_the_same_weights(tunebook, cache_dir, tmp_path):
    # 6 training tunes in batches of 2: 3 updates per epoch, so step 2 is mid-epoch and step 6
    # crosses an epoch boundary. Dropout (2 GRU layers) and key augmentation draw random numbers.
    extra = ("--lr_step_size", "4", "--key_augmentation", "--checkpointing_steps", "2")
    main(_argv(tunebook, cache_dir, tmp_path / "a", "--max_train_steps", "6", *extra))
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "2", *extra))
    assert sorted(p.name for p in (tmp_path / "b").iterdir() if p.name.startswith("step_")) == [
        "step_2"
    ]
    early = _weights(tmp_path / "b")
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "6", *extra,
               "--resume_from_checkpoint"))  # fmt: skip

    full, resumed = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert full.keys() == resumed.keys()
    for name in full:
        assert torch.equal(full[name], resumed[name]), name
    assert any(not torch.equal(early[n], full[n]) for n in full)  # steps 3-6 did change weights
    assert (tmp_path / "b" / "step_6").is_dir() and not list((tmp_path / "b").glob(".tmp-*"))


def test_fixed_budget_benchmark_stops_on_time_and_plots(tunebook, cache_dir, tmp_path):
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "train_fixed_budget.py"
    spec = importlib.util.spec_from_file_location("train_fixed_budget", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "budget"
    argv = _argv(tunebook, cache_dir, out)
    # the tiny-model flags of _argv, without its logging/eval cadence (the last four items)
    summary = bench.main(["--minutes", "0.01", "--output_dir", str(out), "--", *argv[:-4]])
    assert 1 <= summary["train_steps"] < 10**9  # stopped by the clock, not by the step count
    assert (out / "learning_curve.png").stat().st_size > 1000
    assert json.loads((out / "fixed_budget.json").read_text())["budget_minutes"] == 0.01


def test_tune_title_task_trains_and_saves(tunebook, cache_dir, tmp_path):
    from transformers import AutoModel

    import modeling_irish  # noqa: F401  (Auto registrations)

    out = tmp_path / "tt"
    argv = _argv(tunebook, cache_dir, out, "--task", "tune_title", "--max_train_steps", "2")
    main(argv + ["--title_encoder", "char_gru", "--projection_dim", "16", "--crop_notes", "8"])
    assert (out / "model.safetensors").exists() and (out / "all_results.json").exists()
    model = AutoModel.from_pretrained(out)
    assert type(model).__name__ == "TuneTitleModel"


# ----- arguments ---------------------------------------------------------------------------------
def test_parse_args_defaults_and_sanity_checks():
    args = parse_args([])
    assert (args.task, args.preset, args.learning_rate, args.per_device_train_batch_size) == (
        "measurenote", "small", 3e-4, 32
    )  # fmt: skip
    assert (args.lr_scheduler_type, args.lr_step_size, args.lr_gamma) == ("step", 10_000, 0.5)
    assert parse_args(["--checkpointing_steps", "7"]).checkpointing_steps == 7
    assert parse_args(["--resume_from_checkpoint"]).resume_from_checkpoint == "latest"
    assert parse_args(["--corpus", "a.abc"]).corpus == "a.abc"
    assert parse_args(["--train_file", "a.abc", "b"]).corpus == ["a.abc", "b"]
    for bad in (["--checkpointing_steps", "often"], ["--push_to_hub"],
                ["--max_train_steps", "0"], ["--per_device_train_batch_size", "0"]):  # fmt: skip
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_parse_config_overrides_types():
    assert common.parse_config_overrides("a=1, b=0.5,c=True,d=gru") == {
        "a": 1, "b": 0.5, "c": True, "d": "gru"
    }  # fmt: skip
    with pytest.raises(ValueError):
        common.parse_config_overrides("note_hidden_size")


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
    sampler = common.LengthGroupedBatchSampler(lengths, 4, seed=3, mega_batch_mult=5)
    epoch0 = list(sampler)
    assert sorted(i for b in epoch0 for i in b) == list(range(103))
    assert [len(b) for b in epoch0] == [4] * 25 + [3] and len(sampler) == 26
    assert list(sampler) == epoch0  # same (seed, epoch), same order
    sampler.set_epoch(1)
    assert list(sampler) != epoch0
    # Inside a batch lengths come from one sorted mega-batch: far less spread than random batches.
    spread = np.mean([np.ptp(lengths[b]) for b in epoch0[:-1]])
    assert spread < 0.5 * np.mean([np.ptp(lengths[i : i + 4]) for i in range(0, 100, 4)])


def test_nll_metrics_of_uniform_scores_are_log_vocab_sizes():
    # 2 tunes, 4 rows: targets are the labels of rows 1..3; dur only where it is not a special.
    labels = torch.tensor([
        [[-100, -100], [7, 5], [8, 0], [2, 0]],  # main: 3 targets; dur: 1 (0 is <pad>)
        [[-100, -100], [9, 6], [-100, -100], [-100, -100]],  # padded after row 1: 1 and 1
    ])  # fmt: skip
    sums = common.per_tune_nll(torch.zeros(2, 4, 10), torch.zeros(2, 4, 8), labels)
    assert sums[:, 1].tolist() == [3, 1] and sums[:, 3].tolist() == [1, 1]
    metrics = common.summarise_nll(sums)
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
    aug = common.KeyAugmenter(vocab, shifts=(-3, 2, 60))
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
    only_bad = common.KeyAugmenter(vocab, shifts=(60,))
    assert np.array_equal(only_bad(ids, np.random.default_rng(0)), ids)


def test_push_to_hub_fails_fast_offline(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        common.push_to_hub(str(tmp_path), "someone/model")


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_either_task_refuses_to_push_offline_before_training(monkeypatch, tmp_path, task):
    from huggingface_hub import constants

    from training import train

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    read = []
    monkeypatch.setattr(train, "run_measurenote", lambda *a: read.append("trained"))
    monkeypatch.setattr(train, "run_tune_title", lambda *a: read.append("trained"))
    argv = ["--task", task, "--push_to_hub", "--hub_model_id", "someone/model"]
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        train.main([*argv, "--output_dir", str(tmp_path / "out")])
    assert read == []


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
