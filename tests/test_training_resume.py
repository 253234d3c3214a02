"""Smoke tests of `training/train.py --resume_from_checkpoint` on a tiny model and a synthetic
tunebook: a resumed run ends as the straight one does, flags changed on resuming are applied and
recorded, a changed corpus or an older checkpoint is refused, and a finished or time-spent run is
left as it is (whole runs and model cards: `test_training_smoke.py`)."""

from __future__ import annotations

import argparse
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
from helpers import training_curve as _train_curve
from safetensors.torch import load_file

from training import common, run_folder, train_measurenote, train_tune_title
from training.train import main, parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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
        json.loads((tmp_path / run / "all_results.json").read_text(encoding="utf-8"))
        for run in ("a", "b")
    )
    for key in ("train_loss", "train_tokens"):  # the whole run's totals, not the last segment's
        assert resumed_results[key] == pytest.approx(straight[key], rel=1e-6), key
    log = (tmp_path / "b" / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
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


#: 10 updates logged every 4 (3 updates an epoch), no validation: the learning curve alone
_CURVE_FLAGS = ("--max_train_steps", "10", "--logging_steps", "4", "--eval_steps", "0")


def _curve_and_results(
    folder, keys: tuple[str, ...] = ("train_loss", "train_loss_last")
) -> tuple[list[tuple[int, float]], dict]:
    results = json.loads((folder / "all_results.json").read_text(encoding="utf-8"))
    return _train_curve(folder), {k: results[k] for k in keys}


#: Each task's flags besides `_CURVE_FLAGS` (a tune-title run reports no train_loss)
_CURVE_TASKS = {
    "measurenote": ((), ("train_loss", "train_loss_last")),
    "tune_title": (TUNE_TITLE_FLAGS, ("train_loss_last", "train_loss_last_updates")),
}


@pytest.fixture(scope="module", name="curve_task", params=sorted(_CURVE_TASKS))
def curve_task_fixture(request) -> str:
    return request.param


@pytest.fixture(scope="module", name="unsaved_curve")
def unsaved_curve_fixture(
    tunebook,
    cache_dir,
    tmp_path_factory,
    one_torch_thread,  # noqa: F811
    curve_task,
):
    """The learning curve and train losses of the `_CURVE_FLAGS` run without checkpoints."""
    out = tmp_path_factory.mktemp("unsaved")
    main(_argv(tunebook, cache_dir, out, *_CURVE_FLAGS, *_CURVE_TASKS[curve_task][0]))
    return _curve_and_results(out, _CURVE_TASKS[curve_task][1])


def test_checkpoints_leave_the_learning_curve_as_it_is(tunebook, cache_dir, tmp_path,
                                                       unsaved_curve, curve_task):  # fmt: skip
    """A checkpoint logged the updates since the last log first: with --checkpointing_steps 3
    and --logging_steps 4 the curve had means of 3, 1, 2, 2... updates at steps 3, 4, 6, 8, 9,
    10 instead of 4, 4, 2 at steps 4, 8, 10, and train_loss_last changed with it. Tune-title
    logged no step 10 (its train_loss_last, the mean of updates 7 to 10, was in no row)."""
    flags, keys = _CURVE_TASKS[curve_task]
    main(_argv(tunebook, cache_dir, tmp_path, *_CURVE_FLAGS, *flags, "--checkpointing_steps", "3"))
    curve, results = _curve_and_results(tmp_path, keys)
    assert [step for step, _ in curve] == [4, 8, 10]
    assert (curve, results) == unsaved_curve
    assert results["train_loss_last"] == curve[-1][1]  # the last row: updates 9 and 10


def test_a_run_resumed_from_the_middle_of_a_log_window_logs_the_same_curve(
    tunebook, cache_dir, tmp_path, unsaved_curve, curve_task
):
    """step_6 holds updates 5 and 6, not yet logged (every 4): the resumed run logs them with
    7 and 8 at step 8, as the uninterrupted run does, and counts them in train_loss."""
    flags, keys = _CURVE_TASKS[curve_task]
    argv = _argv(tunebook, cache_dir, tmp_path, *_CURVE_FLAGS, *flags, "--checkpointing_steps", "3")
    main(argv)
    shutil.rmtree(tmp_path / "step_9")  # killed after logging update 8, before saving step_9
    assert len(run_folder.read_training_state(str(tmp_path / "step_6"))["loss_window"]) == 2
    main([*argv, "--resume_from_checkpoint"])
    assert _curve_and_results(tmp_path, keys) == unsaved_curve


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
    assert (
        json.loads((out / "all_results.json").read_text(encoding="utf-8"))["optimisation_changes"]
        == expected
    )
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"the values the run ended with; resuming changed {named.replace(', ', '; ')}." in card
    # resumed again with the same flags (taken from step_4): the change is kept, none added
    main([*argv, "--max_train_steps", "6", "--resume_from_checkpoint"])
    assert "->" not in capsys.readouterr().out
    assert (
        json.loads((out / "all_results.json").read_text(encoding="utf-8"))["optimisation_changes"]
        == expected
    )
    # nothing left to train: a new value trains nothing, and the card keeps the one that did
    main([*argv, "--learning_rate", "0.5", "--resume_from_checkpoint"])
    assert (
        json.loads((out / "all_results.json").read_text(encoding="utf-8"))["optimisation_changes"]
        == expected
    )
    assert "| learning_rate | 0.01 |" in (out / "README.md").read_text(encoding="utf-8")


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
    log = map(json.loads, (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines())
    lrs = {record["step"]: record["lr"] for record in log if "lr" in record}
    assert (lrs[2], lrs[3]) == pytest.approx((1.5e-4, 2.25e-4))  # what the warning says
    changes = json.loads((out / "all_results.json").read_text(encoding="utf-8"))[
        "optimisation_changes"
    ]
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
    assert (
        json.loads((tmp_path / "run" / "all_results.json").read_text(encoding="utf-8"))[
            "train_steps"
        ]
        == 2
    )
    assert len(list(cache.glob("abc_corpus-*"))) == 1


@pytest.mark.parametrize("task_flags", [(), TUNE_TITLE_FLAGS], ids=["measurenote", "tune_title"])
def test_a_resume_on_a_changed_corpus_is_refused_by_what_changed(
    tunebook, cache_dir, tmp_path, caplog, task_flags
):
    """A tune removed from the corpus gave another split (a training tune moved to validation,
    whose NLL then scored a tune the run trained on) and the run went on from a position that
    counted batches of the old split; tunes added with new values died with a `size mismatch`
    traceback of `load_state`."""
    corpus, tunes = (
        tmp_path / "tunes.abc",
        Path(tunebook).read_text(encoding="utf-8").strip().split("\n\n"),
    )
    corpus.write_text("\n\n".join(tunes) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    steps = ("--max_train_steps", "4", "--checkpointing_steps", "2")
    main(_argv(str(corpus), cache_dir, out, *steps, *task_flags))
    shutil.rmtree(out / "step_4")  # killed before it: step_2 is the run's newest checkpoint
    log = (out / "train_log.jsonl").read_text(encoding="utf-8")
    resume = ["--output_dir", str(out), "--resume_from_checkpoint", str(out / "step_2")]
    corpus.write_text("\n\n".join(tunes[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(common.UsageError) as refusal:
        main(resume)
    message = str(refusal.value)
    assert message.startswith(f"--resume_from_checkpoint {out / 'step_2'} trained on other data")
    assert "split had 6 tunes (now 5)" in message and "\n" not in message
    assert f"Restore the corpus (--corpus {corpus})" in message
    assert "drop --resume_from_checkpoint and give --overwrite_output_dir" in message
    assert (out / "train_log.jsonl").read_text(
        encoding="utf-8"
    ) == log  # refused before anything is written
    # tunes with values the checkpoint's vocabulary lacks (a sharp, a triplet, a long note)
    new = [
        t.replace("S: https://thesession.org/tunes/1", "S: https://thesession.org/tunes/9")
        .replace("T:Synthetic", "T:Added")
        .replace("|]", "|(3^g^g^g a8|]")
        for t in tunes[:4]
    ]
    corpus.write_text("\n\n".join(tunes + new) + "\n", encoding="utf-8")
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
    corpus.write_text("\n\n".join(tunes) + "\n", encoding="utf-8")  # restored: the run goes on
    assert main(resume)["train_steps"] == 4


def test_a_checkpoint_of_another_vocabulary_of_the_same_tunes_names_the_version(tmp_path):
    """A checkpoint saved by an earlier version of the package, which read the same corpus into
    another vocabulary, was refused with 'Restore the corpus', which was never changed."""
    from training.run_resume import check_resume_data

    splits = {"train": {"tunes": 6, "sha256": "t"}, "validation": {"tunes": 3, "sha256": "v"}}
    checkpoint = tmp_path / "step_2"
    checkpoint.mkdir()
    saved = {"splits": splits, "vocabulary": {"values": 325, "sha256": "old"}}
    state = {"completed_steps": 2, "data": saved}
    common.write_json(str(checkpoint / run_folder.TRAINING_STATE_FILE), state)
    args = argparse.Namespace(output_dir=str(tmp_path), resume_from_checkpoint=str(checkpoint))
    args.corpus = "tunes.abc"
    now = {"splits": splits, "vocabulary": {"values": 380, "sha256": "new"}}
    with pytest.raises(common.UsageError) as refusal:
        check_resume_data(args, now)
    message = str(refusal.value)
    assert "of the same tunes: its vocabulary had 325 values (now 380)" in message
    assert "with the version that saved it" in message and "Restore the corpus" not in message
    check_resume_data(args, {**now, "vocabulary": saved["vocabulary"]})  # the same: no refusal


def _strict_json(path) -> dict:
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=refuse)


def test_resuming_a_finished_run_keeps_its_last_loss(tunebook, cache_dir, tmp_path):
    """A resumed run with nothing left to train wrote "train_loss_last": NaN (bare NaN, not
    JSON) and the card said nan: the checkpoint did not keep the last logged losses."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--max_train_steps", "2", "--checkpointing_steps", "2")
    first = main(argv)["train_loss_last"]
    assert math.isfinite(first)
    main([*argv, "--resume_from_checkpoint"])
    assert _strict_json(out / "all_results.json")["train_loss_last"] == pytest.approx(first)
    assert "| train_loss_last | nan |" not in (out / "README.md").read_text(encoding="utf-8")
    common.write_json(str(out / "x.json"), {"loss": math.nan, "runs": [{"lr": math.inf}]})
    assert _strict_json(out / "x.json") == {"loss": None, "runs": [{"lr": None}]}


def test_a_diverged_run_resumes(tunebook, cache_dir, tmp_path):
    """A NaN loss sum is saved as null in the checkpoint's JSON state; resuming added the next
    loss to None (TypeError) instead of carrying the NaN on."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--max_train_steps", "4", "--checkpointing_steps", "2")
    main(argv)
    shutil.rmtree(out / "step_4")
    state_file = out / "step_2" / "training_state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["totals"]["loss_sum"] = None  # what write_json makes of a NaN
    state_file.write_text(json.dumps(state), encoding="utf-8")
    results = main([*argv, "--resume_from_checkpoint"])
    assert results["train_steps"] == 4 and math.isnan(results["train_loss"])
    assert math.isfinite(results["train_loss_last"])


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
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["step"] for r in log if "eval_nll" in r] == [2]
    events = EventAccumulator(str(out / "measurenote")).Reload()
    assert [e.step for e in events.Scalars("eval_nll")] == [2]
    evals = {k: v for k, v in first.items() if k.startswith("eval_")}
    assert evals and {k: again[k] for k in evals} == evals  # all_results.json keeps the figures
    assert _strict_json(out / "all_results.json")["eval_nll"] == first["eval_nll"]
    # a logged null (a NaN the log could not hold) is reused as None: n/a and why, not nan
    text = (out / "train_log.jsonl").read_text(encoding="utf-8")
    (out / "train_log.jsonl").write_text(
        text.replace(f'"eval_nll": {first["eval_nll"]}', '"eval_nll": null'), encoding="utf-8"
    )
    assert main([*argv, "--resume_from_checkpoint"])["eval_nll"] is None
    assert _strict_json(out / "all_results.json")["eval_nll"] is None
    assert "| eval_nll | n/a (not a finite number: the run diverged) |" in (
        out / "README.md"
    ).read_text(encoding="utf-8")


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


def test_a_killed_run_resumed_with_a_smaller_budget_keeps_its_log_past_the_checkpoint(
    tunebook, cache_dir, tmp_path, caplog
):
    """A run killed after update 3, past its last checkpoint step_2 (no model, no results),
    resumed with --max_train_steps 2: nothing is left to train, and the log's step 3 is not
    cut (`resume_state` keeps the log whole then): the run is refused before anything is
    written, as one that finished past the checkpoint is, since only the log says how far it
    went. Guards the reason that `trim_log` may keep the whole log when nothing is left."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--checkpointing_steps", "2")
    main([*argv, "--max_train_steps", "3"])
    for name in ("model.safetensors", "all_results.json", "README.md"):  # as a kill leaves it
        (out / name).unlink()
    log = (out / "train_log.jsonl").read_text(encoding="utf-8")
    assert max(json.loads(line)["step"] for line in log.splitlines()) == 3
    caplog.clear()
    assert main([*argv, "--max_train_steps", "2", "--resume_from_checkpoint"]) == {}
    assert f"nothing is left to train, and {out} holds the run up to update 3" in caplog.text
    assert (out / "train_log.jsonl").read_text(encoding="utf-8") == log
    assert not (out / "model.safetensors").exists() and not (out / "all_results.json").exists()


@pytest.mark.parametrize("task_flags", [(), TUNE_TITLE_FLAGS], ids=["measurenote", "tune_title"])
def test_a_checkpoint_whose_time_budget_is_spent_has_nothing_left_to_train(
    tunebook, cache_dir, tmp_path, caplog, task_flags
):
    """The "nothing left" rule covered --max_train_steps only: resuming step_2 of a run that
    went on to step_4 with a --max_train_minutes that step_2 had already spent was refused as
    if it would train on ("training on from it there would replace ..."), and resuming the last
    checkpoint so recorded a --learning_rate change no update used, without a word of why."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, *task_flags, "--checkpointing_steps", "2")
    main([*argv, "--max_train_steps", "4"])
    names = ("train_log.jsonl", "all_results.json", "model.safetensors", "README.md")
    before = {name: (out / name).read_bytes() for name in names}
    spent = ["--max_train_steps", "8", "--max_train_minutes", "1e-6", "--learning_rate", "0.01"]
    caplog.clear()
    kept = main(["--output_dir", str(out), "--resume_from_checkpoint", str(out / "step_2"), *spent])
    assert kept["train_steps"] == 4  # the folder's run, as it stands
    assert {name: (out / name).read_bytes() for name in names} == before
    assert "has done 2 updates and --max_train_minutes 1e-06 is spent (" in caplog.text
    assert f"nothing is left to train, and {out} holds the run up to update 4" in caplog.text
    assert f"resume {out / 'step_4'} to finish that run" in caplog.text
    # the run's last checkpoint: finished again, with no update and no change recorded
    caplog.clear()
    again = main([*argv, "--resume_from_checkpoint", *spent])
    assert again["train_steps"] == 4 and again["stopped_by"] == "max_train_minutes"
    assert "optimisation_changes" not in again
    assert "resuming changed" not in (out / "README.md").read_text(encoding="utf-8")
    assert "has done 4 updates and --max_train_minutes 1e-06 is spent (" in caplog.text
    assert "nothing is left to train (give a larger --max_train_minutes to go on)" in caplog.text


def _refuse_to_load_the_corpus(*args, **kwargs):
    pytest.fail("the corpus was loaded (25+ s on the full corpus) before the resume was refused")


@pytest.mark.parametrize("task_flags", [(), TUNE_TITLE_FLAGS], ids=["measurenote", "tune_title"])
def test_an_older_checkpoint_with_updates_left_is_refused_in_a_folder_that_went_further(
    tunebook, cache_dir, tmp_path, monkeypatch, task_flags
):
    """Resuming step_1 of a run that went on to step_3 wrote a new step_2 over the old one and
    left step_3, which "latest" then resumed (the abandoned run), without a word. The refusal
    came only once the corpus was loaded: it needs the checkpoints, not the corpus."""
    out = tmp_path / "run"
    main(_argv(tunebook, cache_dir, out, *task_flags, "--checkpointing_steps", "1",
               "--max_train_steps", "3"))  # fmt: skip
    names = ("train_log.jsonl", "all_results.json", "model.safetensors", "step_2/optimizer.bin")
    before = {name: (out / name).read_bytes() for name in names}
    older = ["--output_dir", str(out), "--resume_from_checkpoint", str(out / "step_1")]
    with monkeypatch.context() as patched:
        patched.setattr(train_measurenote, "prepare_corpus", _refuse_to_load_the_corpus)
        patched.setattr(train_tune_title, "prepare_corpus", _refuse_to_load_the_corpus)
        # an epoch is at least one update: 2 epochs leave updates after step 1 on any corpus
        budgets = (["--max_train_steps", "2"], ["--max_train_steps", "3"],
                   ["--max_train_steps", "0", "--num_train_epochs", "2"])  # fmt: skip
        refusals = []
        for budget in budgets:
            with pytest.raises(common.UsageError) as refusal:
                main([*older, "--learning_rate", "0.01", *budget])
            refusals.append(refusal)
    for refusal in refusals:
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
          *task_flags, "--max_train_steps", "2"])  # fmt: skip
    assert run_folder.latest_checkpoint(str(branch)) == str(branch / "step_2")
    assert {name: (out / name).read_bytes() for name in names} == before


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
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
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
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["unseen_excerpt_notes"] for r in log if "unseen_mrr_at_20" in r] == [30, 0]


def test_a_resumed_run_keeps_a_logged_null_figure_none_not_nan(tunebook, cache_dir, tmp_path):
    """train_log.jsonl's null (one query's stderr) was read back as NaN: a resumed finished run
    reusing its logged figures showed `nan` on the card instead of `n/a (a single query)`."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, *TUNE_TITLE_FLAGS, "--retrieval_eval_queries", "1",
                 "--max_train_steps", "1", "--checkpointing_steps", "1")  # fmt: skip
    assert main(argv)["unseen_mrr_at_20_stderr"] is None
    again = main([*argv, "--resume_from_checkpoint"])
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["step"] for r in log if "unseen_queries" in r] == [1]  # reused, not evaluated
    assert again["unseen_queries"] == 1 and again["unseen_mrr_at_20_stderr"] is None
    assert _strict_json(out / "all_results.json")["unseen_mrr_at_20_stderr"] is None
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| unseen_mrr_at_20_stderr | n/a (a single query) |" in card and "| nan |" not in card


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
    (tmp_path / "b" / ".old-step_4" / "stale").write_text("left by a killed run", encoding="utf-8")
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "7", *extra,
               "--resume_from_checkpoint"))  # fmt: skip
    full, resumed = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    for name in full:
        assert torch.equal(full[name], resumed[name]), name
    # resumed from step_6 with a budget of 6: no further update, and the run that went on to
    # step 7 is left as it is (not replaced by step 6's weights and results)
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "6", *extra,
               "--resume_from_checkpoint"))  # fmt: skip
    assert (
        json.loads((tmp_path / "b" / "all_results.json").read_text(encoding="utf-8"))["train_steps"]
        == 7
    )
    assert all(torch.equal(w, full[n]) for n, w in _weights(tmp_path / "b").items())
    # one update after step_6: train_loss_last still averages the run's last 4 updates
    main(_argv(tunebook, cache_dir, tmp_path / "b", "--max_train_steps", "7", *extra,
               "--resume_from_checkpoint"))  # fmt: skip
    straight, resumed = (
        json.loads((tmp_path / r / "all_results.json").read_text(encoding="utf-8")) for r in "ab"
    )
    assert resumed["train_loss_last"] == pytest.approx(straight["train_loss_last"], rel=1e-6)
    # the learning curve of the resumed run is the uninterrupted one's (rows past a checkpoint
    # it resumed from cut away, not repeated) but for step 2, where b's first run ended and
    # logged its 2 updates (as a MeasureNote run does), so that its step 4 averages 3 and 4
    curves = [_train_curve(tmp_path / run) for run in "ab"]
    assert [s for s, _ in curves[0]] == [4, 7] and [s for s, _ in curves[1]] == [2, 4, 7]
    assert curves[1][-1][1] == pytest.approx(curves[0][-1][1], rel=1e-6)  # updates 5 to 7
    assert resumed["train_loss_last"] == curves[1][-1][1]
    assert straight["num_processes"] == 1 and straight["total_batch_size"] == 2


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
    done = json.loads((out / "all_results.json").read_text(encoding="utf-8"))
    assert done["stopped_by"] == "max_train_minutes"
    main(_argv(tunebook, cache_dir, out, *extra, "--resume_from_checkpoint"))
    again = json.loads((out / "all_results.json").read_text(encoding="utf-8"))
    assert again["train_steps"] == done["train_steps"]
    assert max(int(p.name[5:]) for p in out.glob("step_*")) == done["train_steps"]


@pytest.mark.parametrize("curve_task", sorted(_CURVE_TASKS))
def test_resuming_a_run_the_clock_stopped_mid_window_logs_its_last_updates_once(
    tunebook, cache_dir, tmp_path, curve_task
):
    """The clock stops the run between logs: its last updates are logged before the final
    checkpoint, which then keeps none unlogged for a resume with nothing left to log again.
    Tune-title logged none of them (no row at all here), its train_loss_last in no row."""
    extra = ["--max_train_steps", "1000000000", "--max_train_minutes", "0.002",
             "--logging_steps", "1000", "--checkpointing_steps", "1",
             "--eval_steps", "0", *_CURVE_TASKS[curve_task][0]]  # fmt: skip
    out = tmp_path / "run"
    main(_argv(tunebook, cache_dir, out, *extra))
    log = (out / "train_log.jsonl").read_text(encoding="utf-8")
    done = json.loads((out / "all_results.json").read_text(encoding="utf-8"))
    assert [step for step, _ in _train_curve(out)] == [done["train_steps"]]
    main(_argv(tunebook, cache_dir, out, *extra, "--resume_from_checkpoint"))
    assert (out / "train_log.jsonl").read_text(encoding="utf-8") == log
    again = json.loads((out / "all_results.json").read_text(encoding="utf-8"))
    assert done["train_loss_last"] == _train_curve(out)[-1][1]
    assert again["train_loss_last"] == done["train_loss_last"]
    assert (
        again["train_loss_last_updates"] == done["train_loss_last_updates"] == done["train_steps"]
    )
    if curve_task == "measurenote":
        assert again["train_loss"] == done["train_loss"]
