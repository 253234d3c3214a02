"""What `training/train.py` does to its output folder: a fresh run deletes only what an earlier
run recorded writing there (``run_files.json``) and refuses to write over anything else."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from helpers import (  # noqa: F401
    TINY_MODEL_OVERRIDES,
    TUNE_TITLE_FLAGS,
    one_torch_thread,
    reels_tunebook,
    save_tiny_measurenote,
    write_checkpoint,
)

from training import run_folder
from training.train import main, parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cache"))


def _argv(reels_abc: str, cache_dir: str, output_dir, *extra: str) -> list:
    """A tiny MeasureNote run of one update on 6 training tunes."""
    return [
        "--corpus", reels_abc, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", cache_dir, "--output_dir", str(output_dir),
        "--config_overrides", TINY_MODEL_OVERRIDES, "--per_device_train_batch_size", "2",
        "--logging_steps", "1", "--eval_steps", "0", "--max_train_steps", "1", *extra,
    ]  # fmt: skip


def _user_files(folder, names=("cli.py", "dataset.py", "analysis.py", "notes.txt")) -> dict:
    """Write files of the user's into ``folder``, named like the package's own source files;
    returns their contents by name."""
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(f"the user's {name}", encoding="utf-8")
    return {name: f"the user's {name}" for name in names}


def _error_line(capsys) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_a_fresh_run_into_a_folder_of_user_files_deletes_none_of_them(
    reels_abc, cache_dir, tmp_path, capsys
):
    """A fresh run deleted every file named like one of the package's source files (cli.py,
    dataset.py, analysis.py) and replaced the user's README.md, in a folder no run had used."""
    out = tmp_path / "mine"
    mine = _user_files(out)
    (out / "README.md").write_text("my notes", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        parse_args(_argv(reels_abc, cache_dir, out))
    assert exit_info.value.code == 2
    line = _error_line(capsys)
    assert f"--output_dir {out} holds README.md, which this run would write over" in line
    assert "give another --output_dir" in line and "cli.py" not in line  # it does not write it
    assert (out / "README.md").read_text(encoding="utf-8") == "my notes"

    (out / "README.md").unlink()
    main(_argv(reels_abc, cache_dir, out))
    assert {name: (out / name).read_text(encoding="utf-8") for name in mine} == mine
    recorded = run_folder.read_run_files(str(out))
    # everything the run left is recorded, and nothing of the user's
    assert {p.name for p in out.iterdir()} - set(mine) - {run_folder.RUN_FILES} <= set(recorded)
    assert {"model.safetensors", "modeling_measurenote.py", "README.md"} <= set(recorded)
    assert not set(recorded) & set(mine)


def test_a_rerun_deletes_what_the_earlier_run_recorded_and_nothing_else(
    reels_abc, cache_dir, tmp_path, caplog
):
    out = tmp_path / "run"
    main(_argv(reels_abc, cache_dir, out, "--task", "measurenote"))
    mine = _user_files(out)  # added to the run's folder after it
    (out / "config.json").unlink()  # what the earlier run wrote and the user has deleted since
    main(_argv(reels_abc, cache_dir, out))
    assert {name: (out / name).read_text(encoding="utf-8") for name in mine} == mine
    assert "already holds a trained model" in caplog.text and "will be replaced" in caplog.text
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert not set(run_folder.read_run_files(str(out))) & set(mine)


def test_a_recorded_model_is_replaced_with_a_warning(monkeypatch, tmp_path, caplog):
    """The same command run again replaces its model (the earlier run recorded it), saying so."""
    from training import train

    # the runners clear once their corpus is accepted (`run_folder.clear_earlier_run`)
    monkeypatch.setattr(
        train, "run_measurenote", lambda a, acc: run_folder.clear_earlier_run(a, acc)
    )
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"")
    run_folder.record_run_files(str(out), ["model.safetensors"])
    train.main(["--output_dir", str(out)])
    assert f"--output_dir {out} already holds a trained model" in caplog.text
    assert not (out / "model.safetensors").exists() and run_folder.read_run_files(str(out)) == []
    assert run_folder.removed_run_files(str(out)) == ["model.safetensors"]  # for --push_to_hub


def test_a_folder_of_a_run_that_kept_no_record_is_refused_unless_overwritten(
    reels_abc, cache_dir, tmp_path, capsys
):
    """A run saved before runs recorded their files: its files cannot be told from the user's,
    so a fresh run there needs --overwrite_output_dir, which deletes only names a run writes."""
    out = tmp_path / "old"
    mine = _user_files(out)
    for name in ("all_results.json", "train_log.jsonl", "config.json", "model.safetensors"):
        (out / name).write_text("{}", encoding="utf-8")
    (out / "known_queries.abc").write_text(
        "X:1\nT:a\nK:D\nD|\n", encoding="utf-8"
    )  # the other task's
    with pytest.raises(SystemExit):
        parse_args(_argv(reels_abc, cache_dir, out))
    line = _error_line(capsys)
    assert "holds all_results.json, config.json, model.safetensors, train_log.jsonl" in line
    assert "--overwrite_output_dir to replace them" in line

    main(_argv(reels_abc, cache_dir, out, "--overwrite_output_dir"))
    assert {name: (out / name).read_text(encoding="utf-8") for name in mine} == mine
    assert not (out / "known_queries.abc").exists()
    assert json.loads((out / "all_results.json").read_text(encoding="utf-8"))["train_steps"] == 1


def test_a_record_never_names_anything_outside_its_folder(tmp_path):
    (tmp_path / "run").mkdir()
    record = {"files": ["../outside", "a/b", "..", "", 3, "model.safetensors"]}
    (tmp_path / "run" / run_folder.RUN_FILES).write_text(json.dumps(record), encoding="utf-8")
    assert run_folder.read_run_files(str(tmp_path / "run")) == ["model.safetensors"]
    (tmp_path / "run" / run_folder.RUN_FILES).write_text("{not json", encoding="utf-8")
    assert run_folder.read_run_files(str(tmp_path / "run")) is None


def test_the_record_is_written_under_the_writers_own_temporary_name(tmp_path):
    """The record was written through the fixed .tmp-run_files.json: two runs on a folder
    shared by machines wrote one file, and a folder of that name in the way failed the run."""
    held = tmp_path / f".tmp-{run_folder.RUN_FILES}"  # another writer's, under the fixed name
    held.mkdir()
    (held / "part").write_text("theirs", encoding="utf-8")
    run_folder.record_run_files(str(tmp_path), ["model.safetensors"])
    run_folder.record_run_files(str(tmp_path), ["README.md"])
    assert run_folder.read_run_files(str(tmp_path)) == ["README.md", "model.safetensors"]
    assert (held / "part").read_text(encoding="utf-8") == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == [held.name, run_folder.RUN_FILES]


# ----- the tune-title backbone -------------------------------------------------------------------
@pytest.mark.parametrize("where", ["same", "same/.", "inside"])
def test_a_backbone_in_the_output_folder_is_refused_before_it_is_deleted(
    reels_abc, cache_dir, tmp_path, capsys, where
):
    """``--measurenote_path D --output_dir D`` deleted the backbone's config.json and
    model.safetensors as an earlier run's, then failed to load it (OSError)."""
    runs = tmp_path / "runs"
    backbone = save_tiny_measurenote(runs / "mn", reels_tunebook().split("\n\n"))
    run_folder.record_run_files(str(backbone), ["config.json", "model.safetensors"])
    out = {"same": backbone, "same/.": backbone / ".", "inside": runs}[where]
    argv = [*_argv(reels_abc, cache_dir, out), *TUNE_TITLE_FLAGS, "--measurenote_path",
            str(backbone)]  # fmt: skip
    argv.remove("--config_overrides")
    argv.remove(TINY_MODEL_OVERRIDES)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    line = _error_line(capsys)
    assert f"--measurenote_path {backbone} " in line and "give another --output_dir" in line
    assert ("lies inside" if where == "inside" else " is --output_dir") in line
    assert (backbone / "model.safetensors").is_file() and (backbone / "config.json").is_file()


# ----- resuming -------------------------------------------------------------------------------
def _without_output_dir(argv: list) -> list:
    i = argv.index("--output_dir")
    return argv[:i] + argv[i + 2 :]


def _losses(folder) -> list[tuple]:
    """The (step, train_loss) records of a run's train_log.jsonl."""
    records = [
        json.loads(line)
        for line in (folder / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return [(r["step"], r["train_loss"]) for r in records if "train_loss" in r]


def test_a_checkpoint_resumes_into_its_own_folder_not_the_default_one(
    reels_abc, cache_dir, tmp_path, monkeypatch, capsys
):
    """``--resume_from_checkpoint B/step_1`` without --output_dir resumed into the default
    runs/measurenote-small, overwriting the run there (model, checkpoints, log)."""
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "runs" / "measurenote-small"
    flags = ("--checkpointing_steps", "1", "--max_train_steps", "2")
    main(_without_output_dir(_argv(reels_abc, cache_dir, "x", *flags)))  # run A, the default
    before = {p.name: p.read_bytes() for p in default.iterdir() if p.is_file()}
    main(_argv(reels_abc, cache_dir, tmp_path / "b", *flags, "--seed", "7"))  # run B
    b_log = _losses(tmp_path / "b")

    shutil.rmtree(tmp_path / "b" / "step_2")  # as killed before it: an older one is refused
    resume = ["--resume_from_checkpoint", str(tmp_path / "b" / "step_1")]
    assert parse_args(resume).output_dir == str(tmp_path / "b")
    main(resume)  # run B goes on to its update 2 again, in its own folder
    assert {p.name: p.read_bytes() for p in default.iterdir() if p.is_file()} == before
    assert _losses(tmp_path / "b") == b_log  # as uninterrupted
    # another run's folder named as the output: refused, before anything is read or written
    with pytest.raises(SystemExit):
        parse_args([*resume, "--output_dir", str(default)])
    line = _error_line(capsys)
    assert f"--output_dir {default} holds another run's files (" in line
    assert f"leave --output_dir out to go on in {tmp_path / 'b'}" in line
    # a folder that holds no run may take the resumed run
    assert parse_args([*resume, "--output_dir", str(tmp_path / "c")]).seed == 7


# ----- folders that cannot be written ---------------------------------------------------------
def test_a_folder_this_user_may_not_write_is_refused_before_any_data(
    reels_abc, cache_dir, tmp_path, monkeypatch, capsys
):
    """An output or cache folder that could not be made failed with a PermissionError
    traceback, once the corpus had been read."""
    import os

    locked = tmp_path / "locked"
    (locked / "run").mkdir(parents=True)
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: real(path, mode) and path != locked)
    cases = [
        (["--output_dir", str(locked / "new")], f"--output_dir {locked / 'new'}: "),
        (["--output_dir", str(tmp_path / "ok"), "--cache_dir", str(locked / "c")],
         f"--cache_dir {locked / 'c'}: "),
        (["--output_dir", str(locked / "run")], f"--cache_dir (default {locked / '.cache'}): "),
    ]  # fmt: skip
    for argv, start in cases:
        with pytest.raises(SystemExit) as exit_info:
            parse_args(argv)
        assert exit_info.value.code == 2
        assert _error_line(capsys).endswith(f"{start}this user may not make folders in {locked}")
    monkeypatch.setattr(
        os, "access", lambda path, mode: real(path, mode) and path != locked / "run"
    )
    with pytest.raises(SystemExit):
        parse_args(["--output_dir", str(locked / "run")])
    assert _error_line(capsys).endswith(f"{locked / 'run'}: this user may not write into it")


def test_a_folder_that_cannot_be_made_ends_the_run_in_one_line(
    reels_abc, cache_dir, tmp_path, monkeypatch, capsys
):
    """What os.access cannot foresee (root on /sys, a network share): one line, no traceback."""
    import os

    from training.train import cli

    locked = tmp_path / "locked"
    real = os.makedirs

    def makedirs(name, *args, **kwargs):
        if str(name).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", makedirs)
    assert cli(_argv(reels_abc, cache_dir, locked / "run")) == 2
    line = _error_line(capsys)
    assert (
        line == f"train.py: error: --output_dir {locked / 'run'}: cannot make the folder "
        "(Permission denied)"
    )
    argv = [*_argv(reels_abc, cache_dir, tmp_path / "run"), "--cache_dir", str(locked / "c")]
    assert cli(argv) == 2
    assert _error_line(capsys).endswith(f"--cache_dir {locked / 'c'}: cannot make the folder "
                                        "(Permission denied)")  # fmt: skip


def test_a_folder_flag_that_is_a_link_leading_nowhere_is_refused_before_any_data(
    tmp_path, monkeypatch, capsys
):
    """A looping or dangling symbolic link as --output_dir or --cache_dir passed the checks (it
    does not "exist") and failed once the corpus was read, with "cannot make the folder (File
    exists)", which does not say why."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loopA").symlink_to("loopB")
    (tmp_path / "loopB").symlink_to("loopA")
    (tmp_path / "dangling").symlink_to("/no/such/folder")
    cases = [
        (["--output_dir", "loopA"], "--output_dir loopA: it is a symbolic link loop"),
        (["--output_dir", "run", "--cache_dir", "dangling"],
         "--cache_dir dangling: it is a broken symbolic link (to /no/such/folder)"),
        (["--output_dir", "dangling/run"],
         "--output_dir dangling/run: dangling is a broken symbolic link (to /no/such/folder)"),
    ]  # fmt: skip
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            parse_args(argv)
        assert exit_info.value.code == 2
        assert _error_line(capsys).endswith(f": error: {message}")
    # the folders made later (the default cache folder) say it too, not "File exists"
    with pytest.raises(run_folder.UsageError, match=r"^--cache_dir loopA: cannot make the "
                       r"folder: it is a symbolic link loop$"):  # fmt: skip
        run_folder.make_folder("loopA", "--cache_dir")


# ----- flags a resumed or tune-title run checks ---------------------------------------------------
@pytest.mark.parametrize("margin", ["-5", "-0.1", "2.5"])
def test_a_hinge_margin_outside_0_to_2_is_refused(capsys, margin):
    """``--hinge_margin -5`` was accepted, and from -2 down every hinge is 0: nothing trained."""
    from modeling_irish.modeling_tune_title import hinge_loss

    cosine = torch.tensor([[0.9, -1.0], [1.0, -0.9]])  # the worst pairs there can be
    assert hinge_loss(cosine, margin=-2.0).item() == 0.0
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--task", "tune_title", "--loss_type", "hinge", "--hinge_margin", margin])
    assert exit_info.value.code == 2
    assert f"--hinge_margin must be from 0 to 2, got {float(margin):g}" in _error_line(capsys)
    parse_args(["--task", "tune_title", "--title_encoder", "char_gru", "--hinge_margin", "2"])


def test_split_ratios_are_compared_on_resume_as_the_shares_they_make(tmp_path, capsys):
    """A checkpoint of ``0.9 0.05 0.05`` resumed with ``18 1 1`` (the same shares: the ratios
    are divided by their sum) was refused as a run with other settings."""
    out = tmp_path / "run"
    (out / "step_1").mkdir(parents=True)
    args = parse_args(["--output_dir", str(out), "--split_ratios", "0.9", "0.05", "0.05"])
    state = {"completed_steps": 1, "run": run_folder.run_flags(args)}
    write_checkpoint(out / "step_1", state)
    resume = ["--output_dir", str(out), "--resume_from_checkpoint"]
    assert parse_args([*resume, "--split_ratios", "18", "1", "1"]).split_ratios == [18, 1, 1]
    with pytest.raises(SystemExit):
        parse_args([*resume, "--split_ratios", "8", "1", "1"])
    assert "--split_ratios [0.9, 0.05, 0.05] (now [8.0, 1.0, 1.0])" in _error_line(capsys)


# ----- the tune-title run's tune files -----------------------------------------------------------
def test_the_tune_files_a_tune_title_run_writes_number_their_tunes_once(tmp_path, caplog):
    """retrieval_eval/train.abc kept each tune's X: from its source (O'Neill's and Ryan's both
    start at X:1), and `irish-tune evaluate-retrieval` on it warned "1113 tunes share their X:
    number..." about a file the package wrote itself."""
    import logging

    from datasets import Dataset

    from modeling_irish.abc_sources import text_tunes
    from training.tune_title_retrieval import write_queries

    tunes = ["X:1\nT:a\nK:D\nDE|", "X:2\nT:b\nK:D\nFA|", "X:1\nT:c\nK:G\nGA|", "T:d\nK:A\nAB|"]
    path = tmp_path / "train.abc"
    write_queries(str(path), Dataset.from_dict({"abc": tunes}), [0, 2, 3, 1])
    text = path.read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if line.startswith(("X:", "T:"))] == [
        "X:1", "T:a", "X:2", "T:c", "X:3", "T:d", "X:4", "T:b"
    ]  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert len(list(text_tunes(text, str(path)))) == 4
    assert "share their X: number" not in caplog.text


def test_a_folder_root_may_not_make_is_refused_before_any_data(tmp_path, capsys):
    """As root, os.access says yes everywhere: --output_dir /proc/x passed the checks and failed
    only once the corpus had been read and tokenized."""
    import os

    if not os.path.isdir("/proc/self") or os.access("/proc", os.W_OK) is False:
        pytest.skip("needs /proc, where nobody may make a folder, to pass os.access")
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--output_dir", "/proc/x", "--cache_dir", str(tmp_path / "cache")])
    assert exit_info.value.code == 2
    line = _error_line(capsys)
    assert "error: --output_dir /proc/x: cannot make folders in /proc (" in line
