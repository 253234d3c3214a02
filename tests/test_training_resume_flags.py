"""The checks a resumed run makes, as its flags are read, of the flags its checkpoint recorded
(`training.run_folder.RUN_FLAGS`): another model, split, corpus filter, batch shape or number of
processes refused by name; paths given relative to another folder, reordered config overrides
and unset flags taken as the same run, and the resume notice naming only the flags the command
line would set otherwise. The other flags' defaults and refusals: `test_training_arguments.py`;
resuming a run end to end: `test_training_resume.py`."""

from __future__ import annotations

import pytest
from helpers import one_torch_thread, write_checkpoint  # noqa: F401

from training import common, run_folder
from training.train import parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_resume_with_other_model_flags_is_refused_by_name(tmp_path, capsys):
    # what a checkpoint of `--preset base` on thesession records (written by save_checkpoint)
    out = tmp_path / "base"
    (out / "step_2").mkdir(parents=True)
    write_checkpoint(
        out / "step_2",
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
    write_checkpoint(out / "step_15", state)
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
    write_checkpoint(out / "step_2", {"completed_steps": 2, "run": run})
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
    write_checkpoint(
        out / "step_2", {"completed_steps": 2, "run": run_folder.run_flags(parse_args(argv))}
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
    (work / "lm" / "config.json").write_text('{"model_type": "measurenote"}', encoding="utf-8")
    (work / "lm" / "abc_vocab.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "run"
    monkeypatch.chdir(work)
    argv = ["--task", "tune_title", "--title_encoder", "char_gru", "--corpus", "tunes.abc",
            "--measurenote_path", "lm", "--output_dir", str(out)]  # fmt: skip
    args = parse_args(argv)
    (out / "step_2").mkdir(parents=True)
    state = {"completed_steps": 2, "run": run_folder.run_flags(args)}
    state["args"] = run_folder.recorded_flags(args)
    write_checkpoint(out / "step_2", state)

    monkeypatch.chdir(elsewhere)
    resumed = parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])
    assert resumed.corpus == str(work / "tunes.abc")
    assert resumed.measurenote_path == str(work / "lm")
    # the same paths given relative to this folder are the same run
    monkeypatch.chdir(tmp_path)
    assert parse_args(["--output_dir", str(out), "--resume_from_checkpoint",
                       "--corpus", "work/tunes.abc", "--measurenote_path", "work/lm"])  # fmt: skip


def test_the_resume_notice_names_only_flags_this_command_line_would_set_otherwise(
    tmp_path, capsys, monkeypatch
):
    """The original command given again with --resume_from_checkpoint said "Resuming ... with
    its run's --mixed_precision no, --split_ratios [0.9, 0.05, 0.05]": a default tuple
    compared with its recorded list, and the unset precision (None) with the "no" it
    resolved to."""
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    out = tmp_path / "run"
    (out / "step_2").mkdir(parents=True)
    argv = ["--output_dir", str(out), "--checkpointing_steps", "2"]
    args = parse_args([*argv, "--learning_rate", "0.001"])
    state = {"completed_steps": 2, "run": run_folder.run_flags(args)}
    state["args"] = {**run_folder.recorded_flags(args), "mixed_precision": "no"}  # resolved
    write_checkpoint(out / "step_2", state)
    capsys.readouterr()
    parse_args([*argv, "--learning_rate", "0.001", "--resume_from_checkpoint"])
    assert "Resuming" not in capsys.readouterr().err
    # a flag left out whose recorded value differs from what the command line gives is named
    resumed = parse_args([*argv, "--resume_from_checkpoint"])
    assert resumed.learning_rate == 0.001
    said = capsys.readouterr().err
    assert f"Resuming {out / 'step_2'} with its run's --learning_rate 0.001\n" in said
    # and so is the precision, when the launcher would give another one
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    assert parse_args([*argv, "--resume_from_checkpoint"]).mixed_precision == "no"
    assert "--mixed_precision no" in capsys.readouterr().err


def test_resume_takes_the_same_config_overrides_in_another_order(tmp_path, capsys):
    # the raw strings were compared: a reordered, respaced list of the same overrides was
    # refused as "other settings"
    out = tmp_path / "run"
    (out / "step_2").mkdir(parents=True)
    overrides = "note_hidden_size=32,embedding_size=16"
    saved = ["--output_dir", str(out), "--config_overrides", overrides]
    write_checkpoint(
        out / "step_2", {"completed_steps": 2, "run": run_folder.run_flags(parse_args(saved))}
    )
    again = ["--output_dir", str(out), "--resume_from_checkpoint"]
    assert parse_args([*again, "--config_overrides", "embedding_size=16, note_hidden_size=32"])
    with pytest.raises(SystemExit):  # other values are still another run
        parse_args([*again, "--config_overrides", "embedding_size=16,note_hidden_size=64"])
    assert "--config_overrides 'note_hidden_size=32,embedding_size=16'" in capsys.readouterr().err


def test_resume_with_another_hinge_margin_is_refused_unless_the_loss_ignores_it(tmp_path, capsys):
    """``--hinge_margin`` is a value of the model's config, which a resumed run takes from its
    checkpoint: a resume given another margin trained the hinge loss with it, while the config
    said otherwise. Under another loss the margin is moot, and another one changes nothing."""
    out = tmp_path / "run"
    argv = ["--task", "tune_title", "--title_encoder", "char_gru", "--output_dir", str(out)]
    runs = {
        loss: run_folder.run_flags(parse_args([*argv, "--loss_type", loss]))
        for loss in ("hinge", "infonce")
    }
    (out / "step_2").mkdir(parents=True)
    for loss, run in runs.items():
        state = {"completed_steps": 2, "run": run}
        write_checkpoint(out / "step_2", state)
        again = [*argv, "--loss_type", loss, "--resume_from_checkpoint", "--hinge_margin", "0.2"]
        if loss == "infonce":
            assert parse_args(again).hinge_margin == 0.2
            continue
        with pytest.raises(SystemExit):
            parse_args(again)
        assert "--hinge_margin 0.4 (now 0.2)" in capsys.readouterr().err


def test_a_non_finite_flag_is_refused_by_name_not_recorded(tmp_path, capsys):
    """A checkpoint records its run's flags as JSON: a NaN flag (from code that builds the
    flags, past the command line's checks) was copied on as NaN, written as null, and a resume
    compared null or NaN with NaN (NaN != NaN) and said the flag had changed. The copy refuses it
    by name; the command line refuses every float flag's NaN and inf before that."""
    import argparse
    import math

    from training.arguments import build_parser

    nan_margin = argparse.Namespace(task="tune_title", hinge_margin=math.nan)
    with pytest.raises(ValueError, match=r"^--hinge_margin must be a finite number, got nan$"):
        run_folder.run_flags(nan_margin)
    inf_clip = argparse.Namespace(max_grad_norm=math.inf, output_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"^--max_grad_norm must be a finite number, got inf$"):
        run_folder.recorded_flags(inf_clip)
    with pytest.raises(ValueError, match=r"^--split_ratios must be a finite number, got"):
        run_folder.same_recorded_flag("split_ratios", [1, 1, 1], (1.0, math.nan, 1.0))
    floats = [a.dest for a in build_parser()._actions if a.type is float]
    assert {"learning_rate", "max_grad_norm", "split_ratios", "hinge_margin"} <= set(floats)
    for name in floats:
        for bad in ("nan", "inf"):
            values = [bad] * (3 if name == "split_ratios" else 1)
            argv = ["--task", "tune_title", "--output_dir", str(tmp_path), f"--{name}", *values]
            with pytest.raises(SystemExit):
                parse_args(argv)
            assert f"error: --{name} must be" in capsys.readouterr().err


def test_a_non_finite_flag_of_a_hand_edited_checkpoint_is_refused_naming_its_file(tmp_path, capsys):
    """A checkpoint whose recorded flags were edited by hand to hold NaN (JSON's ``NaN``, which
    Python reads) was refused as ``--max_grad_norm must be > 0, got nan``, a flag the command
    line never gave: the error names the file the value came from, and giving the flag resumes."""
    out = tmp_path / "run"
    (out / "step_2").mkdir(parents=True)
    state_file = write_checkpoint(out / "step_2", {}) / run_folder.TRAINING_STATE_FILE
    state_file.write_text(
        '{"completed_steps": 2, "args": {"max_grad_norm": NaN, "seed": 7}}', encoding="utf-8"
    )
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--output_dir", str(out), "--resume_from_checkpoint"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1].split(" error: ", 1)[1]
    assert error == (
        f"--max_grad_norm must be > 0, got nan (the value recorded in "
        f"{state_file}, the checkpoint resumed: give --max_grad_norm to replace it)"
    )
    argv = ["--output_dir", str(out), "--resume_from_checkpoint", "--max_grad_norm", "1.0"]
    args = parse_args(argv)
    assert (args.max_grad_norm, args.seed) == (1.0, 7)
    with pytest.raises(SystemExit):  # a flag given on the command line is its own
        parse_args([*argv[:-1], "-1"])
    assert capsys.readouterr().err.splitlines()[-1].endswith("must be > 0, got -1.0")
