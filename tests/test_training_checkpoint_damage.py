"""Damaged checkpoints beside the one a run resumes: a later one whose files cannot be read does
not block training on from an older one, and a random state that cannot be read is refused by
name, as the weights and optimizer files are. (The checkpoint helpers: test_training_save.)"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch
from helpers import one_torch_thread  # noqa: F401
from test_training_save import (
    _checkpoint,
    _cut_short,
    _parsed_resume,
    _resume_refused,
)

from training import checkpoints, common, run_folder, run_resume

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    """Each test sees the once-only warnings of `training.checkpoints` afresh."""
    monkeypatch.setattr(checkpoints, "_warned", set())


def test_a_later_checkpoint_that_cannot_be_read_does_not_block_resuming_an_older_one(
    tmp_path, capsys
):
    """A cut-short model.safetensors in step_10 counted it as a later checkpoint: resuming the
    whole step_5 by name was refused, naming step_10 as the one to resume, which cannot load."""
    older = _checkpoint(tmp_path / "step_5", 5, (0, 1))
    damaged = _checkpoint(tmp_path / "step_10", 10, (0, 1))
    _cut_short(damaged / "model.safetensors")
    checkpoints.check_newest_checkpoint(str(older), 5, str(tmp_path))
    said = capsys.readouterr().err
    assert f"leaving checkpoint {damaged} as it is: it is later than {older}" in said
    assert "its model.safetensors cannot be read (" in said
    assert (damaged / "model.safetensors").is_file()  # not deleted
    # said once, though the check runs twice (before the corpus is read, then after)
    checkpoints.check_newest_checkpoint(str(older), 5, str(tmp_path))
    assert capsys.readouterr().err == ""
    # a readable later checkpoint still refuses it, and is the one named to resume
    _checkpoint(tmp_path / "step_8", 8, (0, 1))
    with pytest.raises(common.UsageError) as refused:
        checkpoints.check_newest_checkpoint(str(older), 5, str(tmp_path))
    message = str(refused.value)
    assert "later checkpoints of its run (step_8)" in message
    assert f"resume the newest ({tmp_path / 'step_8'}" in message


def _readable_step_5_and_cut_step_10(folder) -> None:
    """Checkpoints of a one-process run: step_5 readable, step_10 with its optimizer.bin cut
    short."""
    _checkpoint(folder / "step_5", 5, (0,))
    _cut_short(_checkpoint(folder / "step_10", 10, (0,)) / "optimizer.bin")
    for name in ("step_5", "step_10"):
        state = folder / name / run_folder.TRAINING_STATE_FILE
        state.write_text(
            state.read_text(encoding="utf-8").replace(": 2}", ": 1}"), encoding="utf-8"
        )


def test_latest_passing_over_a_damaged_checkpoint_trains_on_from_the_older_one(tmp_path, capsys):
    """Resuming "latest" passed over a newest checkpoint whose optimizer.bin was cut short and
    took step_5, which the check for later checkpoints then refused, naming step_10."""
    from training.arguments import parse_args

    _readable_step_5_and_cut_step_10(tmp_path)
    args = parse_args(
        ["--output_dir", str(tmp_path), "--max_train_steps", "20", "--resume_from_checkpoint"]
    )
    run_resume.check_newest_checkpoint_early(args)
    said = capsys.readouterr().err
    assert f"skipping checkpoint {tmp_path / 'step_10'}: its optimizer.bin" in said
    assert "leaving checkpoint" not in said  # the skip said it already


def test_a_checkpoint_whose_random_state_cannot_be_read_is_refused_by_name(tmp_path):
    """accelerate's load_state catches a random_states_<i>.pkl that does not load ("Could not
    load random states", an info line of the main process): the run went on with other random
    generators than the interrupted run, and ended with other weights."""
    _checkpoint(tmp_path / "step_5", 5, (0, 1))
    newest = _checkpoint(tmp_path / "step_10", 10, (0, 1))
    _cut_short(newest / "random_states_1.pkl")
    args = _parsed_resume(newest, tmp_path)
    message = _resume_refused(args)
    assert f"{newest}: random_states_1.pkl cannot be read (" in message and "\n" not in message
    assert f"resume {tmp_path / 'step_5'} instead" in message
    # after a failed load too, and "latest" passes over it
    damage = str(checkpoints.damaged_state_error(str(newest), 2))
    assert f"{newest}: random_states_1.pkl cannot be read (" in damage
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(tmp_path / "step_5")
    # one damaged beside the resumed checkpoint is not proposed instead of it
    _cut_short(tmp_path / "step_5" / "random_states_0.pkl")
    assert re.search("no other checkpoint of .* is whole and readable", _resume_refused(args))


@pytest.mark.parametrize("lost", ["optimizer.bin", "random_states_1.pkl"])
def test_a_later_checkpoint_missing_a_file_is_passed_over_as_a_damaged_one(tmp_path, capsys, lost):
    """A later step_10 without one of its files (lost, not cut short) was "latest", which the
    resume then refused by name, and it refused training on from the whole step_5 as later."""
    older = _checkpoint(tmp_path / "step_5", 5, (0, 1))
    incomplete = _checkpoint(tmp_path / "step_10", 10, (0, 1))
    (incomplete / lost).unlink()
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(older)
    said = capsys.readouterr().err
    assert f"skipping checkpoint {incomplete}: it lacks {lost} (" in said
    checkpoints.check_newest_checkpoint(str(older), 5, str(tmp_path))  # not refused
    said = capsys.readouterr().err
    assert "leaving checkpoint" not in said  # the skip said it already, once
    checkpoints._warned.clear()  # said by the check alone: a resume of step_5 by name
    checkpoints.check_newest_checkpoint(str(older), 5, str(tmp_path))
    said = capsys.readouterr().err
    assert f"leaving checkpoint {incomplete} as it is: it is later than {older}, but it " in said
    assert f"lacks {lost} (" in said
    # none whole: nothing to resume, and the refusal names the missing file
    (older / "model.safetensors").unlink()
    assert checkpoints.latest_checkpoint(str(tmp_path)) is None
    message = checkpoints.no_checkpoint_error(str(tmp_path))
    assert f"(step_5 without model.safetensors, step_10 without {lost})" in message


def test_training_on_past_a_damaged_checkpoint_names_the_finished_run_it_replaces(tmp_path, capsys):
    """A finished run whose last checkpoint (step_10) was damaged: "latest" resumed step_5 and
    trained on, and at its end wrote its model, card and all_results.json over the finished
    run's, whose train_log.jsonl it had cut back to update 5, without a word about them."""
    from training.arguments import parse_args

    _readable_step_5_and_cut_step_10(tmp_path)
    argv = ["--output_dir", str(tmp_path), "--max_train_steps", "10", "--resume_from_checkpoint"]
    args = parse_args(argv)
    capsys.readouterr()
    run_resume.check_newest_checkpoint_early(args)  # a killed run (no results): nothing said
    assert "replaces it" not in capsys.readouterr().err
    (tmp_path / "all_results.json").write_text('{"train_steps": 10}', encoding="utf-8")
    run_resume.check_newest_checkpoint_early(args)
    said = capsys.readouterr().err
    assert f"{tmp_path} holds a run finished at update 10, and training on from " in said
    assert f"{tmp_path / 'step_5'} (5 updates) replaces it: the model, model card and " in said
    assert "train_log.jsonl is cut back to update 5" in said and said.count("\n") == 1
    run_resume.check_not_behind_the_run(args)  # the second check: said once
    assert capsys.readouterr().err == ""


def _damage_inside(file) -> None:
    """Overwrite bytes inside an entry of a zip file (not its directory): it opens, and only
    its CRC tells, which `torch.load` does not check."""
    whole = file.read_bytes()
    assert whole.count(b"state") == 1
    file.write_bytes(whole.replace(b"state", b"stale"))


def test_an_optimizer_file_damaged_inside_is_refused_before_it_loads(tmp_path, monkeypatch):
    """An optimizer.bin whose content was overwritten (its zip directory whole) loaded without
    an error (torch.load checks no CRC), so the run trained on from a damaged optimizer state;
    one over QUICK_CRC_BYTES was even picked by "latest", whose quick check reads no content."""
    older = _checkpoint(tmp_path / "step_5", 5, (0, 1))
    newest = _checkpoint(tmp_path / "step_10", 10, (0, 1))
    _damage_inside(newest / "optimizer.bin")
    loaded = []
    message = _resume_refused(_parsed_resume(newest, tmp_path), load_state=loaded.append)
    assert f"{newest}: optimizer.bin cannot be read (optimizer/data.pkl in it fails its CRC" in (
        message
    )
    assert f"resume {older} instead" in message and loaded == []
    # a large one: "latest" takes it (not read whole), and the resume refuses it so
    monkeypatch.setattr(checkpoints, "QUICK_CRC_BYTES", 10)
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(newest)
    args = _parsed_resume(newest, tmp_path)
    args.resume_from_checkpoint = "latest"
    message = _resume_refused(args, load_state=loaded.append)
    assert f"{newest}: optimizer.bin cannot be read (" in message
    assert f"resume {older} instead" in message and loaded == []


def _flip_weights(file) -> None:
    """Overwrite the last bytes of a safetensors file (its tensor data, the header whole): it
    opens, and only the sha256 recorded at save time tells."""
    whole = file.read_bytes()
    file.write_bytes(whole[:-4] + bytes(b ^ 0xFF for b in whole[-4:]))


def test_weights_damaged_inside_are_refused_by_their_recorded_sha256(tmp_path, monkeypatch):
    """A model.safetensors whose tensor data was overwritten (its header whole) opened without
    an error (safetensors keeps no CRC): the run resumed, and trained on, from garbage."""
    from types import SimpleNamespace

    from safetensors.numpy import save_file

    def save_state(folder):  # accelerate's: weights, optimizer, random state
        os.makedirs(folder)
        save_file({"w": np.ones(8, dtype=np.float32)}, os.path.join(folder, "model.safetensors"))
        for name in ("optimizer.bin", "random_states_0.pkl"):
            torch.save({"state": 1}, os.path.join(folder, name))

    accelerator = SimpleNamespace(is_main_process=True, num_processes=1, save_state=save_state,
                                  wait_for_everyone=lambda: None)  # fmt: skip
    for steps in (5, 10):
        run_folder.save_checkpoint(
            accelerator, str(tmp_path), f"step_{steps}", {"completed_steps": steps}
        )
    older, newest = tmp_path / "step_5", tmp_path / "step_10"
    assert set(json.loads((newest / "weights_sha256.json").read_text(encoding="utf-8"))) == {
        "model.safetensors"
    }
    assert checkpoints.damaged_state_error(str(newest), 1) is None
    _flip_weights(newest / "model.safetensors")
    assert checkpoints.state_file_problem(str(newest / "model.safetensors")) is None  # it opens
    message = str(checkpoints.damaged_state_error(str(newest), 1))
    assert f"{newest}: model.safetensors cannot be read (its sha256 is not the one " in message
    assert f"resume {older} instead" in message and "\n" not in message
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(older)  # passed over
    # a large one: "latest" takes it (not read whole), and the resume refuses it
    monkeypatch.setattr(checkpoints, "QUICK_CRC_BYTES", 10)
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(newest)
    assert "sha256" in str(checkpoints.damaged_state_error(str(newest), 1))


def test_a_checkpoint_without_a_sha256_record_resumes_with_one_warning(tmp_path, capsys):
    """One saved before the weights' sha256 was recorded is no damaged one: it is resumed
    unchecked, said once."""
    older = _checkpoint(tmp_path / "step_5", 5, (0, 1))
    (older / "weights_sha256.json").unlink()
    _flip_weights(older / "model.safetensors")  # cannot be told
    capsys.readouterr()
    for _ in range(2):
        assert checkpoints.damaged_state_error(str(older), 2) is None
    said = capsys.readouterr().err
    assert said.count("\n") == 1
    assert f"checkpoint {older} has no weights_sha256.json (saved by an older version)" in said
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(older)
