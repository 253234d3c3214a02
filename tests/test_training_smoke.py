"""Smoke tests of `training/train.py` on a tiny model and a synthetic tunebook, plus its helpers."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import (  # noqa: F401
    TINY_MODEL_OVERRIDES,
    TUNE_TITLE_FLAGS,
    one_torch_thread,
    rotated_tunebook,
)
from safetensors.torch import load_file

from training import common, data, hub, run_folder
from training.train import main, parse_args

# Bars of reels and jigs; each synthetic tune is a different rotation of one bar list, so the 12
# bodies, titles and thesession ids are all distinct (the corpus loader dedupes bodies).
_BARS = {
    ("reel", "4/4"): [["DFAd fdAF", "GBdg fdAF", "A2FA DAFA", "EFGA B2A2"],
                      ["d2fd edcB", "A2FA DFAF", "G2BG FGAF", "E2DE F2E2"]],
    ("jig", "6/8"): [["DFA dAF", "GBd gdB", "AFD DFA", "E3 D3"],
                     ["FGA AFD", "GFE EFG", "dcB AFA", "B3 A3"]],
}  # fmt: skip
_KEYS = ("D", "G", "Ador", "Em")


def _tunebook() -> str:
    return rotated_tunebook(
        _BARS,
        3,
        "Synthetic {rhythm} number {x}",
        "https://thesession.org/tunes/1{x:03d}#setting2{x:03d}",
        _KEYS,
    )


@pytest.fixture(scope="module")
def tunebook(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data") / "tunes.abc"
    path.write_text(_tunebook(), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cache"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _argv(tunebook: str, cache_dir: str, output_dir, *extra: str) -> list[str]:
    return [
        "--corpus", tunebook, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", cache_dir, "--output_dir", str(output_dir),
        "--config_overrides", TINY_MODEL_OVERRIDES, "--per_device_train_batch_size", "2",
        "--per_device_eval_batch_size", "4", "--logging_steps", "1", "--eval_steps", "2",
        *extra,
    ]  # fmt: skip


def _train_curve(folder) -> list[tuple[int, float]]:
    lines = (folder / "train_log.jsonl").read_text().splitlines()
    return [(r["step"], r["train_loss"]) for r in map(json.loads, lines) if "train_loss" in r]


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
    assert saved["stopped_by"] == "max_train_steps"
    for key in ("eval_nll", "eval_nll_main", "eval_nll_dur", "eval_perplexity", "train_loss"):
        assert math.isfinite(saved[key]) and saved[key] > 0, key
    assert saved["eval_perplexity"] == pytest.approx(math.exp(saved["eval_nll"]))
    assert saved["corpus_train_tunes"] + saved["corpus_validation_tunes"] <= 12
    card = (out / "README.md").read_text()
    assert "trust_remote_code=True" in card and "Training data" in card
    assert "MeasureNote (small, resized) for" in card  # the tiny --config_overrides: not "small"
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


def test_an_empty_validation_split_is_not_scored(tunebook, cache_dir, tmp_path, caplog):
    """An empty split was validated every --eval_steps: nll 0.0 and perplexity 1.0, logged."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--max_train_steps", "2", "--eval_steps", "1")
    results = main([*argv, "--split_ratios", "1", "0", "0"])
    assert results["corpus_validation_tunes"] == 0
    assert not [key for key in results if key.startswith("eval_")]
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and not [r for r in log if "eval_nll" in r]
    assert caplog.text.count("The validation split is empty") == 1


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
    straight, resumed_results = (
        json.loads((tmp_path / run / "all_results.json").read_text()) for run in ("a", "b")
    )
    for key in ("train_loss", "train_tokens"):  # the whole run's totals, not the last segment's
        assert resumed_results[key] == pytest.approx(straight[key], rel=1e-6), key
    log = (tmp_path / "b" / "train_log.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in log]
    assert steps == sorted(steps)  # one learning curve across the two runs, no step again
    assert (tmp_path / "b" / "step_6").is_dir() and not list((tmp_path / "b").glob(".tmp-*"))
    assert run_folder.read_training_state(str(tmp_path / "b" / "step_6"))["num_processes"] == 1
    # other model or data flags than the checkpoint's: a one-line error before any data is read
    changed = _argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "8", *extra,
                    "--split_seed", "3", "--resume_from_checkpoint")  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        parse_args(changed)
    assert exit_info.value.code == 2


def test_a_run_and_its_resumption_share_one_corpus_cache_entry(tunebook, tmp_path, monkeypatch):
    # the corpus given relative to the working folder; the checkpoint records it absolute, so a
    # resumed run read it under another spelling, missed the cache and parsed it all again
    monkeypatch.chdir(Path(tunebook).parent)
    cache = tmp_path / "cache"
    argv = _argv(Path(tunebook).name, str(cache), tmp_path / "run", "--checkpointing_steps", "1")
    main([*argv, "--max_train_steps", "1"])
    monkeypatch.chdir(tmp_path)
    main(["--output_dir", str(tmp_path / "run"), "--max_train_steps", "2",
          "--resume_from_checkpoint"])  # fmt: skip
    assert json.loads((tmp_path / "run" / "all_results.json").read_text())["train_steps"] == 2
    assert len(list(cache.glob("abc_corpus-*"))) == 1


@pytest.mark.parametrize("task_flags", [(), TUNE_TITLE_FLAGS], ids=["measurenote", "tune_title"])
def test_a_resume_on_a_changed_corpus_is_refused_by_what_changed(
    tunebook, cache_dir, tmp_path, caplog, task_flags
):
    """A tune removed from the corpus gave another split (a training tune moved to validation,
    whose NLL then scored a tune the run trained on) and the run went on from a position that
    counted batches of the old split; tunes added with new values died with a `size mismatch`
    traceback of `load_state`."""
    corpus, tunes = tmp_path / "tunes.abc", Path(tunebook).read_text().strip().split("\n\n")
    corpus.write_text("\n\n".join(tunes) + "\n")
    out = tmp_path / "run"
    steps = ("--max_train_steps", "4", "--checkpointing_steps", "2")
    main(_argv(str(corpus), cache_dir, out, *steps, *task_flags))
    log = (out / "train_log.jsonl").read_text()
    resume = ["--output_dir", str(out), "--resume_from_checkpoint", str(out / "step_2")]
    corpus.write_text("\n\n".join(tunes[:-1]) + "\n")
    with pytest.raises(common.UsageError) as refusal:
        main(resume)
    message = str(refusal.value)
    assert message.startswith(f"--resume_from_checkpoint {out / 'step_2'} trained on other data")
    assert "split had 6 tunes (now 5)" in message and "\n" not in message
    assert f"Restore the corpus (--corpus {corpus})" in message
    assert "drop --resume_from_checkpoint and give --overwrite_output_dir" in message
    assert (out / "train_log.jsonl").read_text() == log  # refused before anything is written
    # tunes with values the checkpoint's vocabulary lacks (a sharp, a triplet, a long note)
    new = [
        t.replace("S: https://thesession.org/tunes/1", "S: https://thesession.org/tunes/9")
        .replace("T:Synthetic", "T:Added")
        .replace("|]", "|(3^g^g^g a8|]")
        for t in tunes[:4]
    ]
    corpus.write_text("\n\n".join(tunes + new) + "\n")
    with pytest.raises(common.UsageError, match="its vocabulary had .* values \\(now "):
        main(resume)
    # a checkpoint saved before checkpoints recorded their data: a warning, and the mismatch of
    # shapes in one line rather than a traceback
    state = run_folder.read_training_state(str(out / "step_2"))
    del state["data"]
    common.write_json(str(out / "step_2" / run_folder.TRAINING_STATE_FILE), state)
    with pytest.raises(common.UsageError, match="does not fit this run's model \\(size mismatch"):
        main(resume)
    assert "records no fingerprint of the data it trained on" in caplog.text
    corpus.write_text("\n\n".join(tunes) + "\n")  # restored: the run goes on
    assert main(resume)["train_steps"] == 4


def _strict_json(path) -> dict:
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(Path(path).read_text(), parse_constant=refuse)


def test_resuming_a_finished_run_keeps_its_last_loss(tunebook, cache_dir, tmp_path):
    """A resumed run with nothing left to train wrote "train_loss_last": NaN (bare NaN, not
    JSON) and the card said nan: the checkpoint did not keep the last logged losses."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--max_train_steps", "2", "--checkpointing_steps", "2")
    first = main(argv)["train_loss_last"]
    assert math.isfinite(first)
    main([*argv, "--resume_from_checkpoint"])
    assert _strict_json(out / "all_results.json")["train_loss_last"] == pytest.approx(first)
    assert "| train_loss_last | nan |" not in (out / "README.md").read_text()
    common.write_json(str(out / "x.json"), {"loss": math.nan, "runs": [{"lr": math.inf}]})
    assert _strict_json(out / "x.json") == {"loss": None, "runs": [{"lr": None}]}


def test_nothing_left_to_train_names_the_flag_that_ended_the_run(
    tunebook, cache_dir, tmp_path, caplog
):
    """With an inherited --num_train_epochs 1 capping a new --max_train_steps 12, the warning
    said "--max_train_steps is 3: nothing is left to train", naming the wrong flag."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--checkpointing_steps", "epoch")
    assert main([*argv, "--num_train_epochs", "1"])["train_steps"] == 3  # 3 updates an epoch
    caplog.clear()
    main([*argv, "--max_train_steps", "12", "--resume_from_checkpoint"])
    assert "has done 3 updates and --num_train_epochs 1 ends the run there" in caplog.text
    assert "give a larger --num_train_epochs to go on" in caplog.text
    caplog.clear()
    main([*argv, "--max_train_steps", "3", "--num_train_epochs", "5", "--resume_from_checkpoint"])
    assert "has done 3 updates and --max_train_steps is 3" in caplog.text


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
    assert json.loads((out / "all_results.json").read_text())["stopped_by"] == "max_train_minutes"
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
    card = (out / "README.md").read_text()
    assert "trust_remote_code=True" in card and "Tunes are split" in card
    assert "| settings_per_group | 2 |" in card and "MeasureNote + bidirectional GRU" in card
    assert "| config_overrides | " in card  # the backbone's size is not the preset's


def test_the_card_retrieval_figures_are_those_of_evaluate_retrieval_on_the_saved_tunes(
    cache_dir, tmp_path, capsys
):
    import re

    from modeling_irish.cli import main as cli

    # tunes 2k-1 and 2k: two settings of one tune (one thesession id and title), so that the
    # training split has known-tune queries to hold out
    def pair(match: re.Match) -> str:
        return str((int(match.group(1)) + 1) // 2)

    text = re.sub(r"(?<=number )(\d+)", pair, _tunebook())
    text = re.sub(r"(?<=tunes/)1(\d{3})", lambda m: f"9{pair(m)}", text)
    corpus = tmp_path / "pairs.abc"
    corpus.write_text(text, encoding="utf-8")
    out = tmp_path / "tt"
    argv = _argv(str(corpus), cache_dir, out, "--task", "tune_title", "--max_train_steps", "2")
    # whole tunes, in training and in the evaluation: the card's command said neither (it gave
    # 30-note excerpts' figures, and evaluate-retrieval refused --excerpt-notes 0)
    main(argv + ["--title_encoder", "char_gru", "--projection_dim", "16", "--crop_notes", "0",
                 "--eval_excerpt_notes", "0"])  # fmt: skip
    results = json.loads((out / "all_results.json").read_text())
    assert results["known_queries"] >= 1 and results["unseen_queries"] >= 1
    # the learning curve and the final figures are in train_log.jsonl, as for MeasureNote
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [(r["step"], "train_loss" in r) for r in log] == [(1, True), (2, True), (2, False)]
    assert log[-1]["known_mrr_at_20"] == results["known_mrr_at_20"]
    assert log[-1]["unseen_queries"] == results["unseen_queries"]
    card = (out / "README.md").read_text()
    assert "trained on whole tunes" in card and "0-note" not in card
    assert "`known_*` = whole tunes of held-out settings" in card
    command = re.search(r"`(irish-tune evaluate-retrieval [^`]*)`", card).group(1)
    assert "--queries DIR/retrieval_eval/known.abc --protocol known" in command
    for protocol in ("known", "unseen"):
        capsys.readouterr()
        run = command.replace("known", protocol).replace("DIR", str(out))
        assert cli(run.split()[1:]) == 0  # the card's command, as a reader would run it
        metrics = json.loads(capsys.readouterr().out)
        assert metrics["excerpt_notes"] == 0 and metrics["queries"] >= 1
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key != "ms_per_query":
                assert results[f"{protocol}_{key}"] == pytest.approx(value), (protocol, key)


def test_tune_title_resume_ends_with_the_same_weights(tunebook, cache_dir, tmp_path):
    # 3 updates an epoch: resuming at step 2 continues mid-epoch and crosses two epochs; the
    # crops and the batch order depend on the epoch, dropout on the torch RNG. A '.old-step_2'
    # left by a run killed between its renames must not break the next save of that name.
    extra = ("--task", "tune_title", "--title_encoder", "char_gru", "--projection_dim", "16",
             "--crop_notes", "8", "--checkpointing_steps", "2", "--known_queries", "0",
             "--logging_steps", "4")  # fmt: skip
    main(_argv(tunebook, cache_dir, tmp_path / "a", "--max_train_steps", "7", *extra))
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "2", *extra))
    (tmp_path / "b" / ".old-step_4").mkdir()
    (tmp_path / "b" / ".old-step_4" / "stale").write_text("left by a killed run")
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "7", *extra,
               "--resume_from_checkpoint"))  # fmt: skip
    full, resumed = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    for name in full:
        assert torch.equal(full[name], resumed[name]), name
    # resumed from step_6 with a budget of 6: no further update
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "6", *extra,
               "--resume_from_checkpoint"))  # fmt: skip
    assert json.loads((tmp_path / "b" / "all_results.json").read_text())["train_steps"] == 6
    at_six = _weights(tmp_path / "b" / "step_6")
    assert all(torch.equal(w, at_six[n]) for n, w in _weights(tmp_path / "b").items())
    # one update after step_6: train_loss_last still averages the run's last 4 updates
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "7", *extra,
               "--resume_from_checkpoint"))  # fmt: skip
    straight, resumed = (json.loads((tmp_path / r / "all_results.json").read_text()) for r in "ab")
    assert resumed["train_loss_last"] == pytest.approx(straight["train_loss_last"], rel=1e-6)
    # the learning curve of the resumed run is the uninterrupted one's (rows past a checkpoint
    # it resumed from cut away, not repeated)
    curves = [_train_curve(tmp_path / run) for run in "ab"]
    assert [s for s, _ in curves[1]] == [s for s, _ in curves[0]] == [4]
    assert curves[1][0][1] == pytest.approx(curves[0][0][1], rel=1e-6)
    assert straight["num_processes"] == 1 and straight["total_batch_size"] == 2


# ----- arguments ---------------------------------------------------------------------------------
def test_parse_args_defaults_and_sanity_checks(tunebook, capsys, monkeypatch, tmp_path):
    args = parse_args([])
    assert (args.task, args.preset, args.learning_rate, args.per_device_train_batch_size) == (
        "measurenote", "small", 3e-4, 32
    )  # fmt: skip
    assert (args.lr_scheduler_type, args.lr_step_size, args.lr_gamma) == ("step", 10_000, 0.5)
    assert parse_args(["--checkpointing_steps", "7"]).checkpointing_steps == 7
    from training.arguments import build_parser  # parse_args: no checkpoint here, refused

    assert build_parser().parse_args(["--resume_from_checkpoint"]).resume_from_checkpoint == (
        "latest"
    )
    assert parse_args(["--corpus", tunebook]).corpus == tunebook
    assert parse_args(["--train_file", tunebook, "oneills1850"]).corpus == [tunebook, "oneills1850"]
    assert parse_args(["--max_train_steps", "0", "--num_train_epochs", "2"]).max_train_steps == 0
    # --num_train_epochs alone is the budget (not silently capped by the default step count)
    assert parse_args(["--num_train_epochs", "2"]).max_train_steps == 0
    assert parse_args([]).max_train_steps == 300
    assert parse_args(["--split_ratios", "8", "1", "1"]).split_ratios == [8, 1, 1]  # normalised
    assert parse_args([]).output_dir == "runs/measurenote-small"
    assert parse_args(["--task", "tune_title"]).output_dir == "runs/tune-title"
    for bad, message in (
        (["--checkpointing_steps", "often"], "--checkpointing_steps must be a positive integer"),
        (["--push_to_hub"], "--push_to_hub needs --hub_model_id"),
        # the Hub client refused the name only at the upload, after the whole run
        (
            ["--push_to_hub", "--hub_model_id", "my model/irish tunes"],
            "--hub_model_id 'my model/irish tunes': Repo id must use alphanumeric chars",
        ),
        (
            ["--hub_model_id", "user/irish/tunes"],
            "--hub_model_id 'user/irish/tunes': Repo id must be in the form 'repo_name' or",
        ),
        (["--max_train_steps", "0"], "trains for --num_train_epochs, which is not set"),
        (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size must be >= 1"),
        (["--with_tracking", "--report_to", "tensorbord"], "unknown tracker tensorbord; known:"),
    ):
        assert message in _refusal(capsys, bad), bad
    # a flag of the other task is ignored, and said to be
    parse_args(["--task", "tune_title", "--key_augmentation", "--eval_steps", "5"])
    said = capsys.readouterr().err
    assert "--key_augmentation is for --task measurenote; the tune-title task ignores it" in said
    assert "--eval_steps is for --task measurenote" in said
    parse_args(["--eval_steps", "5"])
    assert "is for --task" not in capsys.readouterr().err
    # and the other way round, and flags the chosen options make moot (all silent before)
    parse_args(["--loss_type", "hinge", "--crop_notes", "20"])
    assert "--crop_notes is for --task tune_title; --task measurenote ignores it" in (
        capsys.readouterr().err
    )
    moot = ["--hinge_margin", "0.2", "--title_encoder", "char_gru", "--finetune_title_encoder"]
    from helpers import save_tiny_measurenote

    backbone = str(save_tiny_measurenote(tmp_path / "m", ["X:1\nL:1/8\nK:D\nDFA dAF|"]))
    parse_args(["--task", "tune_title", *moot, "--preset", "base", "--measurenote_path", backbone])
    said = capsys.readouterr().err
    for name in ("--hinge_margin", "--finetune_title_encoder", "--preset"):
        assert f"train.py: {name} is ignored here (" in said, name
    parse_args(["--task", "tune_title", "--loss_type", "hinge", "--hinge_margin", "0.2"])
    assert "ignored" not in capsys.readouterr().err
    # every process of a multi-process launch reads the flags: only the first one says so
    monkeypatch.setenv("RANK", "1")
    parse_args(["--task", "tune_title", "--key_augmentation"])
    assert "is for --task" not in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # and an error too: every process exits with 2
        parse_args(["--max_train_steps", "-1"])
    assert refused.value.code == 2 and capsys.readouterr().err == ""
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(SystemExit):
        parse_args(["--max_train_steps", "-1"])
    assert "error: --max_train_steps" in capsys.readouterr().err
    monkeypatch.delenv("RANK")
    # several trackers, comma-separated, as accelerate takes them; one not installed is named
    from accelerate.tracking import get_available_trackers

    from training.arguments import tracker_problem

    assert tracker_problem("tensorboard") is None and tracker_problem("tensorboard, all") is None
    installed = {str(getattr(t, "value", t)) for t in get_available_trackers()}
    absent = next(name for name in ("wandb", "mlflow", "aim", "clearml") if name not in installed)
    refusal = _refusal(capsys, ["--with_tracking", "--report_to", f"tensorboard,{absent}"])
    assert f"{absent} not installed" in refusal


def _refusal(capsys, argv: list[str]) -> str:
    """The last stderr line of a `parse_args` that must exit with argparse's status 2."""
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_parse_args_refuses_a_backbone_folder_that_is_not_a_measurenote(capsys, tmp_path):
    tune_title = tmp_path / "tt"
    tune_title.mkdir()
    (tune_title / "config.json").write_text('{"model_type": "tune_title"}')
    no_tokenizer = tmp_path / "lm"
    no_tokenizer.mkdir()
    (no_tokenizer / "config.json").write_text('{"model_type": "measurenote"}')
    for folder, message in (
        (tmp_path / "missing", "no model folder"),
        (tune_title, "holds a 'tune_title' model; --measurenote_path wants a 'measurenote'"),
        (no_tokenizer, "holds no tokenizer (abc_vocab.json)"),
    ):
        line = _refusal(capsys, ["--task", "tune_title", "--measurenote_path", str(folder)])
        assert "--measurenote_path: " in line and message in line, line


def test_parse_args_refuses_missing_or_tuneless_corpus(capsys, tmp_path, tunebook):
    empty, text, folder = tmp_path / "empty.abc", tmp_path / "notes.txt", tmp_path / "no_abc"
    empty.write_text("")
    text.write_text("Some notes\nabout tunes, not a tune.\n")
    folder.mkdir()
    missing = str(tmp_path / "nope.abc")
    assert f"--corpus {missing}: no such file" in _refusal(capsys, ["--corpus", missing])
    for path in (empty, text):
        assert f"--corpus {path}: no ABC tunes found" in _refusal(capsys, ["--corpus", str(path)])
    assert "no *.abc files" in _refusal(capsys, ["--corpus", str(folder)])
    assert "no ABC tunes found" in _refusal(capsys, ["--corpus", tunebook, str(empty)])
    bom = tmp_path / "bom.abc"
    bom.write_bytes(b"\xef\xbb\xbfX:1\nT:t\nK:D\nDFA|\n")
    assert parse_args(["--corpus", str(bom)]).corpus == str(bom)  # X: after a BOM is a tune


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_parse_args_refuses_bad_config_overrides(capsys, task):
    def refused(text: str) -> str:
        return _refusal(capsys, ["--task", task, "--config_overrides", text])

    assert "'note_hidden_size' is not of the form name=value" in refused("note_hidden_size")
    line = refused("bogus=3")
    assert "--config_overrides 'bogus=3': unknown config key 'bogus'" in line
    assert "note_hidden_size" in line  # the valid keys are listed
    assert "did you mean measure_num_heads" in refused("measure_num_head=4")
    assert "vocab_sizes" in refused("vocab_sizes=3") and "tokenizer" in refused("vocab_sizes=3")
    assert "divisible by measure_num_heads" in refused("note_hidden_size=30")
    # accepted, then a traceback in post_init after the data was read / a string in config.json
    assert "initializer_range must be > 0" in refused("initializer_range=-1")
    assert "initializer_range must be > 0" in refused("initializer_range=0")
    assert "dur_loss_weight=nan: must be a finite number" in refused("dur_loss_weight=nan")
    assert "use_cache='maybe': must be true or false" in refused("use_cache=maybe")
    assert "note_num_layers=2.5: must be an integer" in refused("note_num_layers=2.5")
    assert "note_dropout=inf: must be a finite number" in refused("note_dropout=inf")
    assert "note_dropout=True: must be a finite number" in refused("note_dropout=true")
    # a repeated key was last-wins, silently
    assert "'note_dropout' is given twice" in refused("note_dropout=0.1,note_dropout=0.3")
    assert parse_args(["--config_overrides", "use_cache=false,note_dropout=0"]).config_overrides
    from modeling_irish import MeasureNoteConfig

    with pytest.raises(ValueError, match="dur_loss_weight must be >= 0 and finite"):
        MeasureNoteConfig(dur_loss_weight=math.nan)  # the config's own check, for any caller
    assert parse_args(["--task", task, "--config_overrides", TINY_MODEL_OVERRIDES]).config_overrides


def test_parse_args_refuses_bad_output_cache_and_checkpoint_paths(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    line = _refusal(capsys, ["--output_dir", str(afile)])
    assert f"--output_dir {afile}: it is an existing file" in line
    assert f"{afile} is a file" in _refusal(capsys, ["--output_dir", str(afile / "run")])
    assert "--cache_dir" in _refusal(capsys, ["--cache_dir", str(afile)])
    nockpt = str(tmp_path / "nockpt")
    line = _refusal(capsys, ["--resume_from_checkpoint", nockpt])
    assert f"--resume_from_checkpoint {nockpt}: no such folder" in line
    line = _refusal(capsys, ["--resume_from_checkpoint", str(tmp_path)])
    assert "not a checkpoint (no training_state.json)" in line
    (tmp_path / "step_2").mkdir()
    common.write_json(
        str(tmp_path / "step_2" / run_folder.TRAINING_STATE_FILE), {"completed_steps": 2}
    )
    resumed = parse_args(["--resume_from_checkpoint", str(tmp_path / "step_2")])
    assert resumed.resume_from_checkpoint == str(tmp_path / "step_2")
    # 'latest' with no checkpoint there: nothing to resume is an error, not a fresh start
    line = _refusal(capsys, ["--resume_from_checkpoint", "--output_dir", str(tmp_path / "new")])
    assert f"{tmp_path / 'new'} holds no checkpoint to resume (no such folder)" in line


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--max_train_steps", "-1"], "--max_train_steps must be >= 1 (or 0 with"),
        (["--max_train_steps", "0"], "--num_train_epochs, which is not set"),
        (["--num_train_epochs", "-2"], "--num_train_epochs must be >= 1, got -2"),
        (["--max_train_minutes", "0"], "--max_train_minutes must be > 0, got 0.0"),
        (["--max_train_minutes", "-5"], "--max_train_minutes must be > 0, got -5.0"),
        (["--per_device_eval_batch_size", "0"], "--per_device_eval_batch_size must be >= 1"),
        (["--gradient_accumulation_steps", "0"], "--gradient_accumulation_steps must be >= 1"),
        (["--eval_steps", "-1"], "--eval_steps must be >= 0, got -1"),
        (["--learning_rate", "nan"], "--learning_rate must be > 0, got nan"),
        (["--split_ratios", "0", "0.5", "0.5"], "--split_ratios must be non-negative with a"),
        (["--split_ratios", "0.5", "-0.5", "0.5"], "got 0.5 -0.5 0.5"),
        (["--checkpointing_steps", "0"], "--checkpointing_steps must be a positive integer"),
        (["--task", "tune_title", "--crop_notes", "-1"], "--crop_notes must be >= 0, got -1"),
        (["--task", "tune_title", "--projection_dim", "0"], "--projection_dim must be >= 1"),
        # nan passed `value < low` (NaN weights, exit 0), inf every check
        (["--weight_decay", "nan"], "--weight_decay must be >= 0, got nan"),
        (["--lr_gamma", "inf"], "--lr_gamma must be a finite number, got inf"),
        (["--learning_rate", "inf"], "--learning_rate must be a finite number, got inf"),
        (["--weight_decay", "inf"], "--weight_decay must be a finite number, got inf"),
        (["--hinge_margin", "inf"], "--hinge_margin must be a finite number, got inf"),
        (["--split_ratios", "inf", "1", "1"], "--split_ratios must be finite numbers, got inf"),
        (["--split_ratios", "nan", "1", "1"], "--split_ratios must be finite numbers, got nan"),
        # an empty --output_dir read the corpus, then died in os.makedirs('')
        (["--output_dir", ""], "--output_dir is empty: give a folder"),
        (["--cache_dir", " "], "--cache_dir is empty: give a folder"),
        # numpy refused them with a traceback once the corpus was loaded
        (["--seed", "-1"], "--seed must be from 0 to 2**32 - 1, got -1"),
        (["--seed", str(2**32)], "--seed must be from 0 to 2**32 - 1, got 4294967296"),
    ],
)
def test_parse_args_refuses_out_of_range_numbers(capsys, flags, message):
    assert message in _refusal(capsys, flags)


def test_cli_prints_runtime_input_errors_in_one_line(capsys, tmp_path):
    from training import train

    dump = tmp_path / "tunes.json"
    dump.write_text('[{"name": "not a dump row"}]')  # exists, so only the loader can tell
    argv = ["--corpus", str(dump), "--output_dir", str(tmp_path / "out"),
            "--cache_dir", str(tmp_path / "cache")]  # fmt: skip
    with pytest.raises(train.UsageError, match="not a thesession.org dump"):
        train.main(argv)  # tests and scripts get the exception ...
    capsys.readouterr()
    assert train.cli(argv) == 2  # ... the command line one line and status 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("train.py: error: --corpus: ")
    assert "Traceback" not in err


@pytest.mark.parametrize("rank", ["0", "1"])
def test_an_interrupted_launch_says_so_from_its_first_process_only(capsys, monkeypatch, rank):
    """Ctrl-C reaches every process of a launch: each printed "train.py: interrupted"."""
    from training import train

    def interrupted(argv=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "main", interrupted)
    monkeypatch.setenv("RANK", rank)
    assert train.cli([]) == 130
    assert capsys.readouterr().err == ("train.py: interrupted\n" if rank == "0" else "")


@pytest.fixture
def library_log_levels():
    import logging

    from training.train import LIBRARY_LOGGERS

    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_only_the_main_process_logs_the_corpus_loading(library_log_levels, caplog):
    """Every process loads the corpus: its INFO and WARNING lines came once per process."""
    import logging
    from types import SimpleNamespace

    from training.train import quiet_other_processes

    corpus = logging.getLogger("modeling_irish.abc_corpus")
    tokenize = logging.getLogger("tokenization.dataset")
    with caplog.at_level(logging.INFO):  # sets the root logger's level, as basicConfig does
        quiet_other_processes(SimpleNamespace(is_main_process=True))
        corpus.info("main: loaded")
        quiet_other_processes(SimpleNamespace(is_main_process=False))
        corpus.info("other: loaded")
        tokenize.warning("other: skipped")
        corpus.error("other: broken")
    assert [r.getMessage() for r in caplog.records] == ["main: loaded", "other: broken"]


def test_corpus_whose_tunes_are_all_skipped_is_refused_before_training(tmp_path, cache_dir):
    from training import train

    noteless = tmp_path / "noteless.abc"
    noteless.write_text("X:1\nT:No notes\nK:D\n\nX:2\nT:None here\nK:G\n")
    argv = ["--corpus", str(noteless), "--output_dir", str(tmp_path / "out"),
            "--cache_dir", cache_dir]  # fmt: skip
    with pytest.raises(train.UsageError, match="no readable ABC tunes .*2 skipped"):
        train.main(argv)
    assert not (tmp_path / "out" / "model.safetensors").exists()
    # an earlier run there is kept: the refusal comes before the fresh start deletes it
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.safetensors").write_bytes(b"earlier")
    with pytest.raises(train.UsageError, match="no readable ABC tunes"):
        train.main(argv)
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == b"earlier"


def test_command_line_exits_2_without_traceback(tmp_path):
    import subprocess
    import sys

    script = Path(__file__).parents[1] / "training" / "train.py"
    missing = str(tmp_path / "nope.abc")
    done = subprocess.run([sys.executable, str(script), "--corpus", missing],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"train.py: error: --corpus {missing}: no such file or folder "
        "(nor 'music21', 'oneills1850' or 'ryansMammoth')"
    )


def test_rerun_into_a_trained_output_dir_warns_that_the_model_is_replaced(
    monkeypatch, tmp_path, caplog
):
    from training import train

    # the runners clear once their corpus is accepted (`run_folder.clear_earlier_run`)
    monkeypatch.setattr(
        train, "run_measurenote", lambda a, acc: run_folder.clear_earlier_run(a, acc)
    )
    out = tmp_path / "run"
    out.mkdir()
    train.main(["--output_dir", str(out)])  # no model yet: no warning
    assert "will be replaced" not in caplog.text
    (out / "model.safetensors").write_bytes(b"")
    train.main(["--output_dir", str(out)])
    assert f"--output_dir {out} already holds a trained model" in caplog.text
    assert "will be replaced" in caplog.text
    assert not (out / "model.safetensors").exists()  # deleted up front, with the earlier run
    caplog.clear()
    (out / "model.safetensors").write_bytes(b"")
    with pytest.raises(SystemExit):  # 'latest', none there: refused, the model stays
        train.main(["--output_dir", str(out), "--resume_from_checkpoint"])
    assert (out / "model.safetensors").is_file() and "will be replaced" not in caplog.text
    (out / "step_2").mkdir()
    common.write_json(str(out / "step_2" / run_folder.TRAINING_STATE_FILE), {"completed_steps": 2})
    train.main(["--output_dir", str(out), "--resume_from_checkpoint"])  # continues, no warning
    assert "will be replaced" not in caplog.text


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


def test_push_to_hub_fails_fast_offline(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        hub.push_to_hub(str(tmp_path), "someone/model")


@pytest.fixture
def fake_hub(monkeypatch) -> list[dict]:
    """The Hub replaced by a stand-in that records each `upload_folder` call's arguments."""
    import huggingface_hub

    uploads: list[dict] = []

    class FakeApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, exist_ok=False):
            pass

        def upload_folder(self, **kwargs):
            uploads.append(kwargs)
            return "https://hub/commit"

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    return uploads


def test_push_to_hub_leaves_the_retrieval_evaluation_tunes_out(fake_hub, tmp_path):
    uploads = fake_hub
    assert hub.push_to_hub(str(tmp_path), "someone/model") == "https://hub/commit"
    assert {"retrieval_eval/*", "step_*"} <= set(uploads[0]["ignore_patterns"])


def test_the_hub_token_reaches_no_file_of_the_run_nor_the_upload(
    tunebook, cache_dir, tmp_path, fake_hub
):
    """The trackers were given every scalar flag, the token included (TensorBoard wrote it to
    hparams.yml and its event file), and the upload left their folder in."""
    from huggingface_hub.utils import filter_repo_objects

    out = tmp_path / "run"
    secret = "hf_NotARealSecret123"
    main(_argv(tunebook, cache_dir, out, "--max_train_steps", "1", "--checkpointing_steps", "1",
               "--with_tracking", "--hub_token", secret))  # fmt: skip
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert any("tfevents" in name for name in files)
    assert not [name for name in files if secret.encode() in (out / name).read_bytes()]

    uploads = fake_hub
    hub.push_to_hub(str(out), "someone/model", token=secret)
    sent = list(filter_repo_objects(files, ignore_patterns=uploads[0]["ignore_patterns"]))
    assert "model.safetensors" in sent
    assert not [name for name in sent if name.startswith(("measurenote/", "step_"))], sent


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_a_failed_upload_at_the_end_says_where_the_model_is_in_one_line(
    tunebook, cache_dir, tmp_path, monkeypatch, capsys, task
):
    """An HTTP error of the Hub at the final upload ended the run in the Hub client's traceback."""
    from types import SimpleNamespace

    import huggingface_hub
    from huggingface_hub.errors import HfHubHTTPError

    from training import train

    class RefusingApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, exist_ok=False):
            pass

        def upload_folder(self, **kwargs):
            response = SimpleNamespace(headers={}, request=None, status_code=403)
            raise HfHubHTTPError("403 Forbidden: no write access\nRequest ID: x", response=response)

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)
    monkeypatch.setattr(train, "check_hub_reachable", lambda token: None)
    monkeypatch.setattr(huggingface_hub, "HfApi", RefusingApi)
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--task", task, "--max_train_steps", "1",
                 "--push_to_hub", "--hub_model_id", "someone/model")  # fmt: skip
    if task == "tune_title":
        argv += ["--title_encoder", "char_gru", "--projection_dim", "16", "--crop_notes", "8"]
    capsys.readouterr()
    assert train.cli(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and (out / "model.safetensors").is_file()
    line = next(line for line in err.splitlines() if "upload" in line)
    assert line.startswith("train.py: error: --push_to_hub: the upload to someone/model failed")
    assert "403 Forbidden: no write access)" in line and f"the model is saved in {out}" in line
    assert f"`hf upload someone/model {out} --exclude 'step_*'" in line


def test_a_hub_model_id_refused_at_the_upload_says_so_in_one_line(monkeypatch, tmp_path):
    """A name the Hub client refuses (`HFValidationError`) that reaches `push_run` (`parse_args`
    refuses it up front; a caller may build its arguments without it) ended the run in the
    client's traceback."""
    from types import SimpleNamespace

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)
    args = SimpleNamespace(push_to_hub=True, hub_model_id="my model/irish tunes",
                           hub_token=None, output_dir=str(tmp_path))  # fmt: skip
    accelerator = SimpleNamespace(is_main_process=True)
    with pytest.raises(common.UploadError) as refused:  # create_repo checks the name, offline
        hub.push_run(args, accelerator)
    message = str(refused.value)
    assert "\n" not in message and "HFValidationError: Repo id must use alphanumeric" in message
    assert message.startswith("--push_to_hub: the upload to my model/irish tunes failed")


def test_push_to_hub_checks_the_token_before_anything_is_trained(monkeypatch, tmp_path):
    # a stand-in Hub on this machine that refuses every token, as the real one refuses a bad one
    import http.server
    import threading

    from huggingface_hub import constants

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server hook)
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "Invalid credentials in Authorization header"}')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(RuntimeError, match="refused the token"):
            hub.check_hub_reachable("hf_not_a_real_token")
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
        monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
        with pytest.raises(RuntimeError, match="no Hub token"):
            hub.check_hub_reachable(None)
    finally:
        server.shutdown()


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_either_task_refuses_to_push_offline_before_training(monkeypatch, tmp_path, task):
    from huggingface_hub import constants

    from training import train

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    read = []
    monkeypatch.setattr(train, "run_measurenote", lambda *a: read.append("trained"))
    monkeypatch.setattr(train, "run_tune_title", lambda *a: read.append("trained"))
    argv = ["--task", task, "--push_to_hub", "--hub_model_id", "someone/model"]
    with pytest.raises(train.UsageError, match="HF_HUB_OFFLINE"):  # one line, exit status 2
        train.main([*argv, "--output_dir", str(tmp_path / "out")])
    assert read == []


def test_a_run_pushed_to_the_hub_resumes_offline_and_pushes_only_when_asked_again(
    monkeypatch, tmp_path, tunebook
):
    """--push_to_hub was recorded in checkpoints and taken on resuming, so a run started with it
    could not be resumed offline ("--push_to_hub: HF_HUB_OFFLINE is set"), nor without
    uploading: the flag could not be turned off."""
    from huggingface_hub import constants

    from training import train

    out = tmp_path / "run"
    args = parse_args(["--corpus", tunebook, "--output_dir", str(out), "--push_to_hub",
                       "--hub_model_id", "someone/model"])  # fmt: skip
    assert "push_to_hub" not in run_folder.recorded_flags(args)
    (out / "step_2").mkdir(parents=True)
    state = {"completed_steps": 2, "run": run_folder.run_flags(args)}
    state["args"] = {**run_folder.recorded_flags(args), "push_to_hub": True}  # as recorded before
    common.write_json(str(out / "step_2" / run_folder.TRAINING_STATE_FILE), state)

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(train, "run_measurenote", lambda args, accelerator: {"pushed": args})
    resume = ["--output_dir", str(out), "--resume_from_checkpoint"]
    resumed = train.main(resume)["pushed"]
    assert not resumed.push_to_hub and resumed.hub_model_id == "someone/model"
    with pytest.raises(train.UsageError, match="HF_HUB_OFFLINE"):  # asked again: still refused
        train.main([*resume, "--push_to_hub"])


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


def test_split_rule_names_the_run_ratios():
    from training.model_card import split_rule

    assert "split 90/5/5" in split_rule()
    assert "split 80/10/10" in split_rule((0.8, 0.1, 0.1))
    assert "keeps its split in a larger version" in split_rule(method="hash")
    assert "shuffled" not in split_rule(method="hash")


def test_the_cards_give_the_licence_the_time_budget_and_no_local_backbone_path(tunebook, tmp_path):
    """The cards had no licence in their metadata, showed a time-budget run only as
    "max_train_steps 1000000000", and printed the tune-title run's --measurenote_path whole
    (a path of the trainer's machine, in a public card)."""
    from types import SimpleNamespace

    from training.model_card import write_measurenote_card, write_tune_title_card

    lm = tmp_path / "private" / "measurenote-lm"
    lm.mkdir(parents=True)
    (lm / "config.json").write_text('{"model_type": "measurenote"}')
    (lm / "abc_vocab.json").write_text("{}")
    model = SimpleNamespace(num_parameters=lambda: 1234)
    timed = ["--corpus", tunebook, "--max_train_minutes", "5", "--max_train_steps", "1000000000"]
    results = {"stopped_by": "max_train_minutes", "total_batch_size": 2, "train_steps": 7}
    cards = {}
    for task, extra in (("measurenote", []), ("tune_title", ["--measurenote_path", str(lm)])):
        args = parse_args([*timed, "--task", task, "--output_dir", str(tmp_path / task), *extra])
        os.makedirs(args.output_dir)
        if task == "measurenote":
            write_measurenote_card(args, model, results, {"tokenize": {}})
        else:
            write_tune_title_card(args, model, results)
        cards[task] = (tmp_path / task / "README.md").read_text()
    for task, card in cards.items():
        assert card.startswith("---\nlicense: mit\n"), task
        assert "| max_train_minutes | 5 |" in card and "| stopped_by | max_train_minutes |" in card
    assert "| measurenote_path | measurenote-lm |" in cards["tune_title"]
    assert str(lm) not in cards["tune_title"]


def test_the_cards_name_the_settings_that_shaped_the_data_and_the_eval_precision(
    tunebook, cache_dir, tmp_path
):
    """With --require_bars_fit --link_incipits 24 --split_seed 7 the card named none of them
    ("shuffled with a fixed seed") nor the tunes skipped as not fitting the meter, and its
    eval NLL under --mixed_precision bf16 came from a bf16 autocast validation, unsaid."""
    from types import SimpleNamespace

    from training.model_card import write_tune_title_card

    corpus = tmp_path / "tunes.abc"
    bad_bar = "X:99\nT:Short bar\nR:reel\nM:4/4\nL:1/8\nK:D\nDFAd fdAF|GBd fdAF|A2FA DAFA|]\n"
    corpus.write_text(Path(tunebook).read_text() + "\n" + bad_bar)
    shaped = ["--require_bars_fit", "--link_incipits", "24", "--split_seed", "7"]
    out = tmp_path / "lm"
    argv = _argv(str(corpus), cache_dir, out, "--max_train_steps", "1", *shaped)
    results = main([*argv, "--mixed_precision", "bf16"])
    assert results["eval_precision"] == "bf16 autocast"
    card = (out / "README.md").read_text()
    for row in ("split_seed | 7", "split_method | shuffle", "link_incipits | 24",
                "require_bars_fit | True", "eval_precision | bf16 autocast"):  # fmt: skip
        assert f"| {row} |" in card, row
    assert "shuffled with seed 7" in card and "fixed seed" not in card
    assert "or the same first 24 notes (`--link_incipits 24`)" in card
    assert "read 13 tunes and skipped 1 (1 of them with a full bar that does not fit" in card
    assert "validation figures were computed under bf16 autocast" in card
    # without autocast the card says nothing of it (a new accelerate state: see conftest.py)
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    main(_argv(str(corpus), cache_dir, tmp_path / "fp32", "--max_train_steps", "1"))
    card = (tmp_path / "fp32" / "README.md").read_text()
    assert "| eval_precision | float32 |" in card and "computed under" not in card
    assert "| require_bars_fit | False |" in card and "--link_incipits" not in card
    # the tune-title card: the same data settings; its retrieval figures are float32
    args = parse_args([*argv, "--task", "tune_title", "--title_encoder", "char_gru"])
    args.output_dir = str(tmp_path / "tt")
    os.makedirs(args.output_dir)
    report = {"corpus": {"read": 13, "skipped": 1, "duplicates": 0,
                         "skip_reasons": {"a full bar does not fit the meter "
                                          "(irish-tune check --bars)": 1}}}  # fmt: skip
    results = {"total_batch_size": 2, "train_steps": 1, "eval_precision": "float32"}
    write_tune_title_card(args, SimpleNamespace(num_parameters=lambda: 1), results, report)
    card = (tmp_path / "tt" / "README.md").read_text()
    for row in ("split_seed | 7", "link_incipits | 24", "require_bars_fit | True",
                "eval_precision | float32"):  # fmt: skip
        assert f"| {row} |" in card, row
    assert "shuffled with seed 7" in card and "skipped 1 (1 of them with a full bar" in card


def test_config_overrides_and_a_pretrained_backbone_are_refused_together(tmp_path, capsys):
    argv = ["--task", "tune_title", "--measurenote_path", str(tmp_path)]
    refusal = _refusal(capsys, [*argv, "--config_overrides", "note_hidden_size=64"])
    assert "--measurenote_path brings a trained backbone" in refusal


def test_resume_with_other_model_flags_is_refused_by_name(tmp_path, capsys):
    # what a checkpoint of `--preset base` on thesession records (written by save_checkpoint)
    out = tmp_path / "base"
    (out / "step_2").mkdir(parents=True)
    common.write_json(
        str(out / "step_2" / run_folder.TRAINING_STATE_FILE),
        {"completed_steps": 2, "run": {"task": "measurenote", "preset": "base", "corpus": None}},
    )
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])  # preset small
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--preset 'base' (now 'small')" in err and "step_2" in err
    assert parse_args(["--output_dir", str(out), "--preset", "base", "--resume_from_checkpoint"])


def test_resume_with_another_number_of_processes_is_refused(tmp_path, capsys, monkeypatch):
    """A two-process checkpoint resumed by one process went on silently: its update count is in
    rounds of two batches, so the one process trained again on batches already seen (and
    rank 1's random state was ignored)."""
    from accelerate import Accelerator

    out = tmp_path / "run"
    (out / "step_15").mkdir(parents=True)
    state = {"completed_steps": 15, "run": {"task": "measurenote"}, "num_processes": 2}
    common.write_json(str(out / "step_15" / run_folder.TRAINING_STATE_FILE), state)
    # refused as the flags are read, before the corpus is (the launcher's environment says 1)
    with pytest.raises(SystemExit):
        parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])
    assert "saved by a run of 2 process(es), and this run has 1" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "2")  # what accelerate launch --num_processes 2 sets
    args = parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])
    monkeypatch.delenv("WORLD_SIZE")
    # and again once accelerate has started, from its own count
    with pytest.raises(common.UsageError, match="saved by a run of 2 process.*this run has 1"):
        run_folder.resume_state(args, Accelerator(cpu=True))


def test_resume_under_another_split_or_corpus_filter_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    (out / "step_2").mkdir(parents=True)
    run = run_folder.run_flags(parse_args(["--output_dir", str(out)]))
    assert {"split_method", "link_incipits", "require_bars_fit"} <= set(run)
    common.write_json(
        str(out / "step_2" / run_folder.TRAINING_STATE_FILE), {"completed_steps": 2, "run": run}
    )
    for flags, shown in (
        (["--split_method", "hash"], "--split_method 'shuffle' (now 'hash')"),
        (["--link_incipits", "24"], "--link_incipits 0 (now 24)"),
        (["--require_bars_fit"], "--require_bars_fit False (now True)"),
    ):
        with pytest.raises(SystemExit):
            parse_args(["--output_dir", str(out), "--resume_from_checkpoint", *flags])
        assert shown in capsys.readouterr().err
    assert parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_resume_with_another_batch_shape_is_refused_by_name(tmp_path, capsys, task):
    """The resume position, `divmod(completed, steps_per_epoch)`, was computed with the new
    batch shape's steps per epoch: tunes were skipped or trained on twice, silently."""
    out = tmp_path / "run"
    (out / "step_2").mkdir(parents=True)
    argv = ["--task", task, "--title_encoder", "char_gru", "--output_dir", str(out)]
    common.write_json(
        str(out / "step_2" / run_folder.TRAINING_STATE_FILE),
        {"completed_steps": 2, "run": run_folder.run_flags(parse_args(argv))},
    )
    for flags, shown in (
        (["--gradient_accumulation_steps", "2"], "--gradient_accumulation_steps 1 (now 2)"),
        (["--per_device_train_batch_size", "16"], "--per_device_train_batch_size 32 (now 16)"),
        # the batch order the resume position assumes, and the tune-title holdout
        (["--seed", "7"], "--seed 42 (now 7)"),
        (["--known_queries", "20"], "--known_queries 500 (now 20)"),
    ):
        with pytest.raises(SystemExit):
            parse_args([*argv, "--resume_from_checkpoint", *flags])
        assert shown in capsys.readouterr().err
    assert parse_args([*argv, "--resume_from_checkpoint"]).gradient_accumulation_steps == 1


def test_a_run_given_relative_paths_resumes_from_another_folder(
    tmp_path, tunebook, capsys, monkeypatch
):
    """The checkpoint recorded `--corpus tunes.abc` as given, so resuming from elsewhere
    failed with "--corpus tunes.abc: no such file or folder" though no --corpus was given."""
    import shutil

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "lm").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(tunebook, work / "tunes.abc")
    (work / "lm" / "config.json").write_text('{"model_type": "measurenote"}')
    (work / "lm" / "abc_vocab.json").write_text("{}")
    out = tmp_path / "run"
    monkeypatch.chdir(work)
    argv = ["--task", "tune_title", "--title_encoder", "char_gru", "--corpus", "tunes.abc",
            "--measurenote_path", "lm", "--output_dir", str(out)]  # fmt: skip
    args = parse_args(argv)
    (out / "step_2").mkdir(parents=True)
    state = {"completed_steps": 2, "run": run_folder.run_flags(args)}
    state["args"] = run_folder.recorded_flags(args)
    common.write_json(str(out / "step_2" / run_folder.TRAINING_STATE_FILE), state)

    monkeypatch.chdir(elsewhere)
    resumed = parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])
    assert resumed.corpus == str(work / "tunes.abc")
    assert resumed.measurenote_path == str(work / "lm")
    # the same paths given relative to this folder are the same run
    monkeypatch.chdir(tmp_path)
    assert parse_args(["--output_dir", str(out), "--resume_from_checkpoint",
                       "--corpus", "work/tunes.abc", "--measurenote_path", "work/lm"])  # fmt: skip


def test_resume_drops_log_records_after_the_checkpoint(tmp_path):
    from training.run_folder import _trim_log

    log = tmp_path / "train_log.jsonl"
    log.write_text("".join(json.dumps({"step": n, "train_loss": 1.0}) + "\n" for n in range(1, 8)))
    _trim_log(str(log), 4)
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4]


def test_save_model_renames_each_file_into_place(tmp_path):
    from types import SimpleNamespace

    from modeling_irish import MeasureNoteConfig, MeasureNoteForCausalLM

    out = tmp_path / "out"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"an older model")
    (out / "step_2").mkdir()  # checkpoints and logs beside the model are left alone
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None,
                                  save=torch.save)  # fmt: skip
    config = MeasureNoteConfig(**common.parse_config_overrides(TINY_MODEL_OVERRIDES))
    model = MeasureNoteForCausalLM(config)
    run_folder.save_model(model, str(out), accelerator)
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "step_2"} <= names and ".tmp-model" not in names
    reloaded = MeasureNoteForCausalLM.from_pretrained(out)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), reloaded.parameters()))


def test_save_model_replaces_a_folder_the_model_saves_again(tmp_path):
    # a tune-title model saves its title tokenizer as a folder: a second save over the first
    # (a run again into its output folder) replaces it, where a rename onto it would fail
    from types import SimpleNamespace

    def save_pretrained(folder, **kwargs):
        os.makedirs(os.path.join(folder, "title_tokenizer"))
        Path(folder, "title_tokenizer", "vocab.txt").write_text(f"save {len(saved)}")
        saved.append(folder)

    saved = []
    model = SimpleNamespace(save_pretrained=save_pretrained)
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None,
                                  save=torch.save)  # fmt: skip
    for _ in range(2):
        run_folder.save_model(model, str(tmp_path), accelerator)
    assert (tmp_path / "title_tokenizer" / "vocab.txt").read_text() == "save 1"


def test_a_cached_tokenizer_folder_without_its_vocabulary_is_built_again(tmp_path):
    from datasets import Dataset

    from training.data import load_or_train_tokenizer

    split = Dataset.from_dict({"abc": ["X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"]})
    first = load_or_train_tokenizer(split, str(tmp_path))
    (folder,) = tmp_path.glob("abc-tokenizer-*")
    (folder / "abc_vocab.json").unlink()  # a run killed while writing it
    again = load_or_train_tokenizer(split, str(tmp_path))
    assert again == first and (folder / "abc_vocab.json").is_file()


def test_an_accumulated_update_is_that_of_one_batch_of_all_its_tunes():
    # the gradient of two accumulated batches of two tunes each equals the gradient of one batch
    # of the four, although their lengths differ a lot (each batch's mean would weigh a short
    # tune's targets several times a long one's)
    from accelerate import Accelerator
    from helpers import tiny_measurenote_config

    from modeling_irish import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer
    from training.train import _accumulate

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
    from training.train import _accumulate

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


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_resuming_a_run_whose_time_budget_is_spent_makes_no_update(
    tunebook, cache_dir, tmp_path, task
):
    # each resume used to make one more update before looking at the clock
    extra = ["--task", task, "--max_train_steps", "1000000000", "--max_train_minutes", "0.002",
             "--checkpointing_steps", "1", "--eval_steps", "0"]  # fmt: skip
    if task == "tune_title":
        extra += ["--title_encoder", "char_gru", "--projection_dim", "16", "--crop_notes", "8",
                  "--known_queries", "0", "--retrieval_eval_queries", "0"]  # fmt: skip
    out = tmp_path / "run"
    main(_argv(tunebook, cache_dir, out, *extra))
    done = json.loads((out / "all_results.json").read_text())
    assert done["stopped_by"] == "max_train_minutes"
    main(_argv(tunebook, cache_dir, out, *extra, "--resume_from_checkpoint"))
    again = json.loads((out / "all_results.json").read_text())
    assert again["train_steps"] == done["train_steps"]
    assert max(int(p.name[5:]) for p in out.glob("step_*")) == done["train_steps"]


def test_resume_takes_the_same_config_overrides_in_another_order(tmp_path, capsys):
    # the raw strings were compared: a reordered, respaced list of the same overrides was
    # refused as "other settings"
    out = tmp_path / "run"
    (out / "step_2").mkdir(parents=True)
    overrides = "note_hidden_size=32,embedding_size=16"
    saved = ["--output_dir", str(out), "--config_overrides", overrides]
    common.write_json(
        str(out / "step_2" / run_folder.TRAINING_STATE_FILE),
        {"completed_steps": 2, "run": run_folder.run_flags(parse_args(saved))},
    )
    again = ["--output_dir", str(out), "--resume_from_checkpoint"]
    assert parse_args([*again, "--config_overrides", "embedding_size=16, note_hidden_size=32"])
    with pytest.raises(SystemExit):  # other values are still another run
        parse_args([*again, "--config_overrides", "embedding_size=16,note_hidden_size=64"])
    assert "--config_overrides 'note_hidden_size=32,embedding_size=16'" in capsys.readouterr().err
