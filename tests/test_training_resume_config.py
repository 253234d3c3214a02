"""A resumed run builds its model from the config its checkpoint's run trained with, whatever
this version's defaults are: checkpoints record the model's config, and a value the flags and
today's defaults would give otherwise (a default changed since) is the run's, named in a
warning. Checkpoints saved before they recorded it keep the values of their time where they
are known (the char GRU's 32-byte title cut). The flags a resume checks:
test_training_resume_flags.py."""

from __future__ import annotations

import json

import pytest
from helpers import TUNE_TITLE_FLAGS, one_torch_thread  # noqa: F401
from helpers import training_argv as _argv

from modeling_irish import tune_title_towers
from training import common, run_folder
from training.train import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _edit_state(checkpoint, edit) -> dict:
    """Apply ``edit`` to the checkpoint's ``training_state.json``; returns the state as saved."""
    path = checkpoint / run_folder.TRAINING_STATE_FILE
    state = json.loads(path.read_text(encoding="utf-8"))
    saved = json.loads(json.dumps(state))
    edit(state)
    common.write_json(str(path), state)
    return saved


def _title_cuts(monkeypatch) -> list[int]:
    """The max_length of every title config the training pairs' groups are made with."""
    cuts: list[int] = []
    real = tune_title_towers.title_inputs

    def spy(config, titles):
        cuts.append(config.max_length)
        return real(config, titles)

    monkeypatch.setattr(tune_title_towers, "title_inputs", spy)
    return cuts


def _saved_config(folder) -> dict:
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "older_checkpoint"])
def test_a_char_gru_run_resumes_with_the_title_cut_it_trained_with(
    tunebook, cache_dir, tmp_path, caplog, monkeypatch, recorded
):
    """A char-GRU run of the days its titles were cut at 32 bytes, resumed, read them at the
    new default of 128 (the GRU's weights fit either way), and nothing said so: the model and
    the title groups of its training pairs both go by the checkpoint's cut."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, *TUNE_TITLE_FLAGS, "--checkpointing_steps", "2")
    main([*argv, "--max_train_steps", "2"])

    def old_cut(state):
        if recorded:
            state["model_config"]["title_config"]["max_length"] = 32  # the default before
        else:  # as checkpoints were saved before they recorded the model's config
            state.pop("model_config", None)

    saved = _edit_state(out / "step_2", old_cut)
    if recorded:
        assert saved["model_config"]["title_config"]["max_length"] == 128  # today's default
    cuts = _title_cuts(monkeypatch)
    caplog.clear()
    main([*argv, "--max_train_steps", "3", "--resume_from_checkpoint"])
    assert cuts == [32]
    assert _saved_config(out)["title_config"]["max_length"] == 32
    assert "title_config.max_length 32 (now 128)" in caplog.text
    assert ("records no model config" in caplog.text) is not recorded
    # the 32 is an assumption: a char-GRU checkpoint of c4041eb..9630eef cut at 128
    assert ("--title_max_length 128" in caplog.text) is not recorded


def test_a_checkpoint_without_its_config_resumes_with_the_title_cut_given(
    tunebook, cache_dir, tmp_path, caplog, monkeypatch
):
    """A checkpoint that records no model config was resumed at the 32-byte title cut whatever
    its run had trained with: one saved between c4041eb and 9630eef (2026-12-06) had cut at
    128, and no flag could say so. --title_max_length sets the cut it resumes with."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, *TUNE_TITLE_FLAGS, "--checkpointing_steps", "2")
    main([*argv, "--max_train_steps", "2"])

    def older(state):  # as saved before checkpoints recorded the config, or the flag existed
        state.pop("model_config", None)
        for flags in (state["run"], state["args"]):
            flags.pop("title_max_length")

    _edit_state(out / "step_2", older)
    cuts = _title_cuts(monkeypatch)
    caplog.clear()
    resumed = [*argv, "--max_train_steps", "3", "--resume_from_checkpoint"]
    main([*resumed[:-1], "--title_max_length", "128", resumed[-1]])
    assert cuts == [128]
    assert _saved_config(out)["title_config"]["max_length"] == 128
    assert "records no model config" in caplog.text and "max_length 32" not in caplog.text


def test_a_measurenote_run_resumes_with_the_config_it_trained_with(
    tunebook, cache_dir, tmp_path, caplog
):
    """A value of the model config the flags do not set (here the duration loss's weight, as
    if its default had changed since the run started) is the checkpoint's after resuming."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--checkpointing_steps", "2", "--eval_steps", "0")
    main([*argv, "--max_train_steps", "2"])
    saved = _edit_state(out / "step_2", lambda s: s["model_config"].update(dur_loss_weight=0.5))
    assert saved["model_config"]["dur_loss_weight"] == 1.0
    caplog.clear()
    main([*argv, "--max_train_steps", "3", "--resume_from_checkpoint"])
    assert _saved_config(out)["dur_loss_weight"] == 0.5
    assert "dur_loss_weight 0.5 (now 1.0)" in caplog.text
