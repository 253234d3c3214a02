"""Smoke tests of `training/train.py` on a tiny model and a synthetic tunebook: whole runs of
either task, their resumption from a checkpoint, and the model cards they write (the tunebook and
the corpus cache are the session's, `tests/conftest.py`)."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest
import torch
from helpers import (  # noqa: F401
    TUNE_TITLE_FLAGS,
    one_torch_thread,
)
from helpers import training_argv as _argv
from helpers import training_tunebook as _tunebook
from safetensors.torch import load_file

from training import common, run_folder
from training.train import main, parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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
    # the data split it trained on, for a tune-title run on it as a backbone to compare with
    split = saved["data_split"]  # the corpus by file name (uploaded); its paths in run_files.json
    assert split["corpus"] == [os.path.basename(tunebook)] and split["split_seed"] == 0
    local = json.loads((out / "run_files.json").read_text())["data_split"]
    assert local == {**split, "corpus": [os.path.abspath(tunebook)]}
    assert split["split_ratios"] == [0.5, 0.25, 0.25] and split["split_method"] == "shuffle"
    assert split["fingerprint"]["splits"]["train"]["tunes"] == saved["corpus_train_tunes"]
    card = (out / "README.md").read_text()
    assert "trust_remote_code=True" in card and "Training data" in card
    assert "MeasureNote (small, resized) for" in card  # the tiny --config_overrides: not "small"
    # the tokenizer's counts in one line; the located drops stay in the run's report
    assert "Tokenizer drops: {'train': {'tunes':" in card and "dropped_at" not in card
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


def test_the_progress_bar_shows_the_last_logged_train_loss(
    tunebook, cache_dir, tmp_path, monkeypatch
):
    """The MeasureNote bar read `4/10 [00:17<00:27, 4.59s/step]`: without --with_tracking the
    train loss went only to train_log.jsonl."""
    from training import train

    shown = []

    class Recording(common.TrainingProgress):
        def update(self, loss=None, paused_seconds=0.0):
            shown.append(loss)
            super().update(loss, paused_seconds)

    monkeypatch.setattr(train, "TrainingProgress", Recording)
    out = tmp_path / "run"
    main(_argv(tunebook, cache_dir, out, "--max_train_steps", "4", "--logging_steps", "2"))
    logged = dict(_train_curve(out))
    assert sorted(logged) == [2, 4]
    # steps 1..4: none logged yet, then step 2's loss until step 4 logs its own
    assert shown == [None, logged[2], logged[2], logged[4]]


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


@pytest.mark.parametrize("task_flags", [(), TUNE_TITLE_FLAGS], ids=["measurenote", "tune_title"])
def test_a_weight_decay_given_on_resuming_is_applied_from_the_checkpoint_on(
    tunebook, cache_dir, tmp_path, task_flags
):
    """`load_state` gave the optimizer the checkpoint's weight decay: a run resumed with
    --weight_decay 0.5 trained on with the 0.0 it was saved with, while its card said 0.5."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, *task_flags, "--checkpointing_steps", "2")
    main([*argv, "--max_train_steps", "2"])
    main([*argv, "--max_train_steps", "4", "--weight_decay", "0.5", "--resume_from_checkpoint"])
    groups = torch.load(out / "step_4" / "optimizer.bin", weights_only=True)["param_groups"]
    assert [group["weight_decay"] for group in groups] == [0.5, 0.0]  # matrices; the rest


@pytest.mark.parametrize("task_flags", [(), TUNE_TITLE_FLAGS], ids=["measurenote", "tune_title"])
def test_optimisation_flags_changed_on_resuming_are_named_and_recorded(
    tunebook, cache_dir, tmp_path, capsys, task_flags
):
    """A --learning_rate or --max_grad_norm given on resuming was taken without a word, and the
    card and all_results.json gave it as the whole run's."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, *task_flags, "--checkpointing_steps", "2")
    main([*argv, "--max_train_steps", "2"])
    capsys.readouterr()
    changed = ("--learning_rate", "0.01", "--max_grad_norm", "0.5")
    main([*argv, "--max_train_steps", "4", *changed, "--resume_from_checkpoint"])
    named = "--learning_rate 0.0003 -> 0.01 after step 2, --max_grad_norm 1.0 -> 0.5 after step 2"
    assert f"Resuming from checkpoint {out / 'step_2'} with {named}" in capsys.readouterr().out
    expected = [
        {"step": 2, "flag": "learning_rate", "was": 0.0003, "now": 0.01},
        {"step": 2, "flag": "max_grad_norm", "was": 1.0, "now": 0.5},
    ]
    assert json.loads((out / "all_results.json").read_text())["optimisation_changes"] == expected
    card = (out / "README.md").read_text()
    assert f"the values the run ended with; resuming changed {named.replace(', ', '; ')}." in card
    # resumed again with the same flags (taken from step_4): the change is kept, none added
    main([*argv, "--max_train_steps", "6", "--resume_from_checkpoint"])
    assert "->" not in capsys.readouterr().out
    assert json.loads((out / "all_results.json").read_text())["optimisation_changes"] == expected
    # nothing left to train: a new value trains nothing, and the card keeps the one that did
    main([*argv, "--learning_rate", "0.5", "--resume_from_checkpoint"])
    assert json.loads((out / "all_results.json").read_text())["optimisation_changes"] == expected
    assert "| learning_rate | 0.01 |" in (out / "README.md").read_text()


def test_a_cosine_schedule_given_another_length_on_resuming_is_warned_and_recorded(
    tunebook, cache_dir, tmp_path, caplog
):
    """The cosine schedule spans --max_train_steps: resuming a run of 2 updates with 6 restarted
    its decay (the lr rose from 1.5e-4 to 2.25e-4) without a word, and the card gave a cosine
    over 6 updates."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--lr_scheduler_type", "cosine",
                 "--checkpointing_steps", "2")  # fmt: skip
    main([*argv, "--max_train_steps", "2"])
    caplog.clear()
    main([*argv, "--max_train_steps", "6", "--resume_from_checkpoint"])
    assert "--max_train_steps 2 -> 6 under the cosine schedule" in caplog.text
    assert "the lr goes from 0.00015 (step 2) to 0.000225 (step 3)" in caplog.text
    log = map(json.loads, (out / "train_log.jsonl").read_text().splitlines())
    lrs = {record["step"]: record["lr"] for record in log if "lr" in record}
    assert (lrs[2], lrs[3]) == pytest.approx((1.5e-4, 2.25e-4))  # what the warning says
    changes = json.loads((out / "all_results.json").read_text())["optimisation_changes"]
    assert changes == [{"step": 2, "flag": "max_train_steps", "was": 2, "now": 6}]


def test_tensorboard_draws_a_resumed_run_steps_once(tunebook, cache_dir, tmp_path):
    """A run resumed from an earlier checkpoint than its last update logged those updates to
    TensorBoard again (train_loss at steps 1..4, 3, 4): the resumed run now has TensorBoard purge
    what came after its checkpoint, as train_log.jsonl is trimmed."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    extra = ("--checkpointing_steps", "2", "--eval_steps", "0", "--with_tracking",
             "--report_to", "tensorboard")  # fmt: skip
    main(_argv(tunebook, cache_dir, out, "--max_train_steps", "4", *extra))
    shutil.rmtree(out / "step_4")  # killed after logging update 4, before saving step_4
    main(
        _argv(
            tunebook,
            cache_dir,
            out,
            "--max_train_steps",
            "4",
            *extra,
            "--resume_from_checkpoint",
            str(out / "step_2"),
        )
    )
    events = EventAccumulator(str(out / "measurenote")).Reload()
    drawn = [(e.step, e.value) for e in events.Scalars("train_loss")]
    assert [step for step, _ in drawn] == [1, 2, 3, 4]
    assert [loss for _, loss in drawn] == pytest.approx([loss for _, loss in _train_curve(out)])


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
    shutil.rmtree(out / "step_4")  # killed before it: step_2 is the run's newest checkpoint
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


def test_resuming_a_finished_run_logs_its_final_validation_once(tunebook, cache_dir, tmp_path):
    """A resumed run with nothing left to train validated its last update again and logged it
    a second time: the same step-2 eval_nll twice in train_log.jsonl and in TensorBoard."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--max_train_steps", "2", "--checkpointing_steps", "2",
                 "--eval_steps", "0", "--with_tracking", "--report_to", "tensorboard")  # fmt: skip
    first = main(argv)
    again = main([*argv, "--resume_from_checkpoint"])
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "eval_nll" in r] == [2]
    events = EventAccumulator(str(out / "measurenote")).Reload()
    assert [e.step for e in events.Scalars("eval_nll")] == [2]
    evals = {k: v for k, v in first.items() if k.startswith("eval_")}
    assert evals and {k: again[k] for k in evals} == evals  # all_results.json keeps the figures
    assert _strict_json(out / "all_results.json")["eval_nll"] == first["eval_nll"]


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


def test_an_older_checkpoint_with_nothing_left_to_train_leaves_the_run_as_it_is(
    tunebook, cache_dir, tmp_path, caplog
):
    """Resuming step_2 of a run that went on to step 4 (its budget, 2, taken from step_2) cut
    train_log.jsonl back to step 2 for good and wrote step 2's model and results over step 4's."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--checkpointing_steps", "2", "--with_tracking")
    main([*argv, "--max_train_steps", "2"])
    main([*argv, "--max_train_steps", "4", "--resume_from_checkpoint"])
    names = ("train_log.jsonl", "all_results.json", "model.safetensors", "README.md")
    before = {name: (out / name).read_bytes() for name in names}
    events = sorted(p.name for p in (out / "measurenote").rglob("*"))
    caplog.clear()
    kept = main(["--output_dir", str(out), "--resume_from_checkpoint", str(out / "step_2")])
    assert kept["train_steps"] == 4  # the folder's run, as it stands
    assert {name: (out / name).read_bytes() for name in names} == before
    assert sorted(p.name for p in (out / "measurenote").rglob("*")) == events  # no purge
    assert "has done 2 updates and --max_train_steps is 2: nothing is left to train" in caplog.text
    assert f"{out} holds the run up to update 4" in caplog.text
    assert f"resume {out / 'step_4'} to finish that run" in caplog.text


def test_an_older_checkpoint_with_updates_left_is_refused_in_a_folder_that_went_further(
    tunebook, cache_dir, tmp_path
):
    """Resuming step_1 of a run that went on to step_3 wrote a new step_2 over the old one and
    left step_3, which "latest" then resumed (the abandoned run), without a word."""
    out = tmp_path / "run"
    main(_argv(tunebook, cache_dir, out, "--checkpointing_steps", "1", "--max_train_steps", "3"))
    names = ("train_log.jsonl", "all_results.json", "model.safetensors", "step_2/optimizer.bin")
    before = {name: (out / name).read_bytes() for name in names}
    older = ["--output_dir", str(out), "--resume_from_checkpoint", str(out / "step_1")]
    for budget in ("2", "3"):
        with pytest.raises(common.UsageError) as refusal:
            main([*older, "--learning_rate", "0.01", "--max_train_steps", budget])
        message = str(refusal.value)
        assert message.startswith(f"--resume_from_checkpoint {out / 'step_1'} has done 1 update")
        assert f"{out} holds later checkpoints of its run (step_2, step_3)" in message
        assert f"resume the newest ({out / 'step_3'}" in message and "\n" not in message
        assert "give another --output_dir (one that holds no run) to branch" in message
        assert {name: (out / name).read_bytes() for name in names} == before  # nothing written
    assert run_folder.latest_checkpoint(str(out)) == str(out / "step_3")
    # the way out it names: branch from step_1 into a folder that holds no run
    branch = tmp_path / "branch"
    main(["--resume_from_checkpoint", str(out / "step_1"), "--output_dir", str(branch),
          "--max_train_steps", "2"])  # fmt: skip
    assert run_folder.latest_checkpoint(str(branch)) == str(branch / "step_2")
    assert {name: (out / name).read_bytes() for name in names} == before


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


def test_train_titles_counts_titles_not_title_groups(cache_dir, tmp_path):
    """all_results.json's train_titles counted the positive groups: two titles filed under one
    thesession tune id (one group) were one "title"."""
    text = _tunebook().replace("tunes/1002#", "tunes/1001#")  # tunes 1 and 2: one tune id
    corpus = tmp_path / "two_names.abc"
    corpus.write_text(text, encoding="utf-8")
    out = tmp_path / "tt"
    argv = _argv(str(corpus), cache_dir, out, *TUNE_TITLE_FLAGS, "--max_train_steps", "1")
    results = main([*argv, "--split_ratios", "1", "0", "0"])
    assert results["train_pairs"] == 12  # every tune, titled, in training
    assert results["train_titles"] == 12 and results["train_title_groups"] == 11
    assert json.loads((out / "all_results.json").read_text())["train_titles"] == 12
    assert "| train_titles | 12 |" in (out / "README.md").read_text()


def test_a_skipped_retrieval_protocol_is_logged_and_left_out_of_the_card(
    tunebook, cache_dir, tmp_path, caplog
):
    """--known_queries 0 finished with no word and a card describing known_* figures it did not
    have; with --split_ratios 1 0 0 both protocols were skipped silently and train_log.jsonl
    got a record of no figures."""
    out = tmp_path / "no_known"
    flags = (*TUNE_TITLE_FLAGS, "--max_train_steps", "1", "--retrieval_eval_queries", "4")
    results = main(_argv(tunebook, cache_dir, out, *flags))  # TUNE_TITLE_FLAGS: --known_queries 0
    assert "unseen_mrr_at_20" in results and not any(k.startswith("known_m") for k in results)
    assert results["retrieval_eval_skipped"] == {
        "known": "--known_queries 0 holds out no setting to query"
    }
    assert "the known-tunes protocol is skipped: --known_queries 0" in caplog.text
    card = (out / "README.md").read_text()
    assert "`known_*`" not in card and "known.abc" not in card
    assert "The known-tunes protocol was not evaluated (--known_queries 0" in card
    assert "`unseen_*` = 30-note excerpts" in card and "--protocol unseen" in card

    caplog.clear()
    out = tmp_path / "no_eval"
    results = main(_argv(tunebook, cache_dir, out, *flags, "--split_ratios", "1", "0", "0"))
    assert not any(k.startswith(("known_m", "unseen_")) for k in results)
    assert "validation split is empty (--split_ratios 1 0 0)" in caplog.text
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert all("train_loss" in record for record in log)  # no record without figures
    card = (out / "README.md").read_text()
    assert "Retrieval metrics" not in card and "evaluate-retrieval" not in card
    assert "The unseen-tunes protocol was not evaluated (the validation split is empty" in card


def test_resuming_a_finished_tune_title_run_logs_its_retrieval_evaluation_once(
    tunebook, cache_dir, tmp_path
):
    """A resumed tune-title run with nothing left to train evaluated retrieval again and logged
    the same step-2 figures a second time, in train_log.jsonl and in TensorBoard."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, *TUNE_TITLE_FLAGS, "--retrieval_eval_queries", "4",
                 "--max_train_steps", "2", "--checkpointing_steps", "2", "--with_tracking",
                 "--report_to", "tensorboard")  # fmt: skip
    first = main(argv)
    again = main([*argv, "--resume_from_checkpoint"])
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "unseen_mrr_at_20" in r] == [2]
    events = EventAccumulator(str(out / "tune_title")).Reload()
    assert [e.step for e in events.Scalars("unseen_mrr_at_20")] == [2]
    figures = {k: v for k, v in first.items() if k.startswith("unseen_")}
    assert figures and {k: again[k] for k in figures} == figures  # all_results.json keeps them
    assert again["retrieval_eval_skipped"] == first["retrieval_eval_skipped"]
    assert again["eval_precision"] == "float32"
    assert _strict_json(out / "all_results.json")["unseen_mrr_at_20"] == first["unseen_mrr_at_20"]
    # another evaluation asked for: whole tunes rather than excerpts, evaluated and logged
    third = main([*argv, "--resume_from_checkpoint", "--eval_excerpt_notes", "0"])
    assert third["unseen_excerpt_notes"] == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["unseen_excerpt_notes"] for r in log if "unseen_mrr_at_20" in r] == [30, 0]


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
    # resumed from step_6 with a budget of 6: no further update, and the run that went on to
    # step 7 is left as it is (not replaced by step 6's weights and results)
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "6", *extra,
               "--resume_from_checkpoint"))  # fmt: skip
    assert json.loads((tmp_path / "b" / "all_results.json").read_text())["train_steps"] == 7
    assert all(torch.equal(w, full[n]) for n, w in _weights(tmp_path / "b").items())
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


def test_the_cards_leave_out_the_flags_the_run_ignored(tunebook, tmp_path):
    """The MeasureNote card of a --lr_scheduler_type constant run listed lr_step_size and
    lr_gamma as if they had been applied; the tune-title card listed --hinge_margin for any
    loss."""
    from types import SimpleNamespace

    from training.model_card import write_measurenote_card, write_tune_title_card

    model = SimpleNamespace(num_parameters=lambda: 1234)
    results = {"total_batch_size": 2, "train_steps": 7}
    cards = {}
    for name, flags in (
        ("constant", ["--lr_scheduler_type", "constant", "--lr_gamma", "0.1"]),
        ("step", ["--lr_gamma", "0.1"]),
        ("infonce", ["--task", "tune_title", "--title_encoder", "char_gru"]),
        ("hinge", ["--task", "tune_title", "--title_encoder", "char_gru", "--loss_type", "hinge"]),
    ):
        args = parse_args(["--corpus", tunebook, "--output_dir", str(tmp_path / name), *flags])
        os.makedirs(args.output_dir)
        if args.task == "measurenote":
            write_measurenote_card(args, model, results, {"tokenize": {}})
        else:
            write_tune_title_card(args, model, results)
        cards[name] = (tmp_path / name / "README.md").read_text()
    assert "| lr_scheduler_type | constant |" in cards["constant"]
    assert "lr_gamma" not in cards["constant"] and "lr_step_size" not in cards["constant"]
    assert "| lr_gamma | 0.1 |" in cards["step"] and "| lr_step_size | 10000 |" in cards["step"]
    assert "hinge_margin" not in cards["infonce"] and "| hinge_margin |" in cards["hinge"]
    assert "finetune_title_encoder" not in cards["hinge"]  # the char_gru tower always trains


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


def _both_cards(tunebook: str, tmp_path: Path, *flags: str) -> dict[str, str]:
    """The MeasureNote and tune-title cards of runs into ``tmp_path/<task>``, without training."""
    from types import SimpleNamespace

    from training.model_card import write_measurenote_card, write_tune_title_card

    model = SimpleNamespace(num_parameters=lambda: 1234)
    results = {"total_batch_size": 2, "train_steps": 7}
    cards = {}
    for task in ("measurenote", "tune_title"):
        out = tmp_path / task
        args = parse_args(["--corpus", tunebook, "--task", task, "--output_dir", str(out), *flags])
        os.makedirs(args.output_dir)
        if task == "measurenote":
            write_measurenote_card(args, model, results, {"tokenize": {}})
        else:
            write_tune_title_card(args, model, results)
        cards[task] = (out / "README.md").read_text()
    return cards


def test_the_cards_usage_says_the_folder_needs_transformers_5(tunebook, tmp_path):
    """On transformers 4 the cards' Usage snippet failed deep in the folder's code
    ("cannot import name 'initialization'"), and nothing in the card said 5 was needed."""
    for task, card in _both_cards(tunebook, tmp_path).items():
        usage = card.split("## Usage", 1)[1]
        assert "needs `transformers>=5,<6`" in usage, task


def test_the_cards_usage_shows_no_local_path_of_the_trainer(tunebook, tmp_path):
    """Without --hub_model_id the Usage snippet printed the trainer's absolute --output_dir
    (`path = "/tmp/.../abs-run"`), a path of their machine in a card meant for others."""
    cards = _both_cards(tunebook, tmp_path)
    for task, card in cards.items():
        assert str(tmp_path) not in card, task
        assert f'path = "{task}"  # the folder you downloaded, or its Hub id' in card, task
        assert "from_pretrained(path, trust_remote_code=True)" in card, task
    hub = tmp_path / "hub"
    hub.mkdir()
    for task, card in _both_cards(tunebook, hub, "--hub_model_id", "user/tunes").items():
        assert 'path = "user/tunes"\n' in card, task


def test_the_measurenote_card_says_generating_needs_the_package(tunebook, tmp_path):
    """The card showed no way to generate; model.generate needs the package, not on PyPI."""
    card = _both_cards(tunebook, tmp_path)["measurenote"]
    assert "# Generating: model.generate(tokenizer, num_tunes=4" in card
    assert "needs the modeling-irish package, which is not on PyPI" in card
